import { resume } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'resume',
    args: '<container-id>',
    help: 'resume every process of a paused container',
    flags: [],
    min: 1,
    max: 1,
    run: ([id]) => resume(ctx().store, id!),
  };
}
