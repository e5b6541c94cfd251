import { create } from '../container.ts';
import type { Flag, Values, Verb } from './args.ts';
import type { Context } from './context.ts';

export const CREATE_FLAGS: Flag[] = [
  { name: 'bundle', short: 'b', kind: 'string', value: '<path>', default: '.', help: 'path to the root of the bundle directory' },
  { name: 'console-socket', kind: 'string', value: '<path>', help: 'unix socket that receives the pty master of a terminal container' },
  { name: 'pid-file', kind: 'string', value: '<path>', help: 'file to write the container process id to' },
  { name: 'no-pivot', kind: 'bool', help: 'do not use pivot_root (for a rootfs on a ramdisk)' },
  { name: 'no-new-keyring', kind: 'bool', help: 'do not create a new session keyring' },
  { name: 'preserve-fds', kind: 'uint', value: '<n>', default: 0, help: 'pass this many extra fds (from 3 up) to the container' },
];

export function createOptions(id: string, f: Values, wait: boolean) {
  return {
    id,
    bundle: f.bundle as string,
    ...(f.pidFile ? { pidFile: f.pidFile as string } : {}),
    ...(f.consoleSocket ? { consoleSocket: f.consoleSocket as string } : {}),
    noPivot: !!f.noPivot,
    preserveFds: f.preserveFds as number,
    wait,
  };
}

export function verb(ctx: () => Context): Verb {
  return {
    name: 'create',
    args: '<container-id>',
    help: 'create a container',
    flags: CREATE_FLAGS,
    min: 1,
    max: 1,
    async run([id], f) {
      const { launched } = await create(ctx().store, createOptions(id!, f, false));
      launched.unref();
    },
  };
}
