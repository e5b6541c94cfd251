import { create, forwardSignals, remove, start } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';
import { CREATE_FLAGS, createOptions } from './create.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'run',
    args: '<container-id>',
    help: 'create and start a container',
    flags: [
      ...CREATE_FLAGS,
      { name: 'detach', short: 'd', kind: 'bool', help: 'detach from the container process' },
      { name: 'keep', kind: 'bool', help: 'keep the container after it exits' },
    ],
    min: 1,
    max: 1,
    async run([id], f) {
      const { store } = ctx();
      const { launched } = await create(store, createOptions(id!, f, !f.detach));
      if (!f.detach) forwardSignals(launched);
      try {
        await start(store, id!);
      } catch (e) {
        await remove(store, id!, true).catch(() => {});
        throw e;
      }
      if (f.detach) {
        launched.unref();
        return;
      }
      const code = await launched.exited;
      if (!f.keep) await remove(store, id!, true);
      process.exitCode = code;
    },
  };
}
