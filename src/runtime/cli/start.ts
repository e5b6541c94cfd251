import { start } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'start',
    args: '<container-id>',
    help: 'start the user process of a created container',
    flags: [],
    min: 1,
    max: 1,
    run: ([id]) => start(ctx().store, id!),
  };
}
