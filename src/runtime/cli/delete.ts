import { remove } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'delete',
    args: '<container-id>',
    help: 'delete a container and everything it holds',
    flags: [{ name: 'force', short: 'f', kind: 'bool', help: 'kill the container first if it is still running' }],
    min: 1,
    max: 1,
    run: async ([id], f) => {
      await remove(ctx().store, id!, !!f.force);
    },
  };
}
