import type { Command } from 'commander';
import { ociState, renderState } from '../state.ts';
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
      process.stdout.write(renderState(saved, st.status, String(st.pid ?? 0)));
    });
}
