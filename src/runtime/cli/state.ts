import type { Command } from 'commander';
import { ociState } from '../state.ts';
import type { Context } from './context.ts';

export function register(program: Command, ctx: () => Context): void {
  program
    .command('state')
    .argument('<container-id>')
    .description("print the container's state as the OCI runtime spec defines it")
    .action((id: string) => {
      const { store } = ctx();
      const saved = store.load(id);
      const st = ociState(store, saved);
      // runc adds rootfs, created and owner to the spec's fields; tools read them.
      const out = { ...st, pid: st.pid ?? 0, rootfs: saved.rootfs, created: saved.created, owner: saved.owner };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
