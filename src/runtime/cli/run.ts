import type { Command } from 'commander';
import { create, forwardSignals, remove, start } from '../container.ts';
import type { Context } from './context.ts';
import { addCreateOptions, type CreateFlags } from './create.ts';

export function register(program: Command, ctx: () => Context): void {
  addCreateOptions(program.command('run').argument('<container-id>').description('create and start a container'))
    .option('-d, --detach', 'detach from the container process')
    .option('--keep', 'keep the container after it exits')
    .action(async (id: string, f: CreateFlags & { detach?: boolean; keep?: boolean }) => {
      const { store } = ctx();
      const { launched } = await create(store, {
        id,
        bundle: f.bundle,
        ...(f.pidFile ? { pidFile: f.pidFile } : {}),
        ...(f.consoleSocket ? { consoleSocket: f.consoleSocket } : {}),
        noPivot: !f.pivot,
        preserveFds: f.preserveFds,
        wait: !f.detach,
      });
      if (!f.detach) forwardSignals(launched);
      try {
        await start(store, id);
      } catch (e) {
        await remove(store, id, true).catch(() => {});
        throw e;
      }
      if (f.detach) {
        launched.init.unref();
        return;
      }
      const code = await launched.exited;
      if (!f.keep) await remove(store, id, true);
      process.exitCode = code;
    });
}
