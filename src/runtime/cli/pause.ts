import { pause } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'pause',
    args: '<container-id>',
    help: 'suspend every process in the container (cgroup freezer)',
    flags: [],
    min: 1,
    max: 1,
    run: ([id]) => pause(ctx().store, id!),
  };
}
