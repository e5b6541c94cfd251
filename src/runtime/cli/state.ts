import { ociState, renderState } from '../state.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'state',
    args: '<container-id>',
    help: "print the container's state as the OCI runtime spec defines it",
    flags: [],
    min: 1,
    max: 1,
    run([id]) {
      const { store } = ctx();
      const saved = store.load(id!);
      const st = ociState(store, saved);
      process.stdout.write(renderState(saved, st.status, String(st.pid ?? 0)));
    },
  };
}
