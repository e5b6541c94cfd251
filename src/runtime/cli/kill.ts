import { kill } from '../container.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

export function verb(ctx: () => Context): Verb {
  return {
    name: 'kill',
    args: '<container-id> [signal]',
    help: 'send a signal (default SIGTERM) to the container',
    flags: [{ name: 'all', short: 'a', kind: 'bool', help: 'send the signal to every process in the container' }],
    min: 1,
    max: 2,
    run: ([id, signal], f) => kill(ctx().store, id!, signal ?? 'SIGTERM', !!f.all),
  };
}
