import type { Command } from 'commander';
import { create } from '../container.ts';
import type { Context } from './context.ts';
import { uint } from './parse.ts';

export function addCreateOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <path>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'unix socket that receives the pty master of a terminal container')
    .option('--pid-file <path>', 'file to write the container process id to')
    .option('--no-pivot', 'do not use pivot_root (for a rootfs on a ramdisk)')
    .option('--no-new-keyring', 'do not create a new session keyring')
    .option('--preserve-fds <n>', 'pass this many extra fds (from 3 up) to the container', uint, 0);
}

export interface CreateFlags {
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  pivot: boolean;
  preserveFds: number;
}

export function register(program: Command, ctx: () => Context): void {
  addCreateOptions(program.command('create').argument('<container-id>').description('create a container'))
    .action(async (id: string, f: CreateFlags) => {
      const { launched } = await create(ctx().store, {
        id,
        bundle: f.bundle,
        ...(f.pidFile ? { pidFile: f.pidFile } : {}),
        ...(f.consoleSocket ? { consoleSocket: f.consoleSocket } : {}),
        noPivot: !f.pivot,
        preserveFds: f.preserveFds,
      });
      launched.init.unref();
    });
}
