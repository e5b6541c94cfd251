// `hull volume rm`: prints each volume it removed; the errors come after, and exit 1. -f makes a
// missing volume no error, but never removes one a container uses (docker's rule).
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';
import { daemonError, volumeStore } from './volume-common.ts';

export const volumeRm: Verb = {
  names: ['volume rm', 'volume remove'],
  define(cmd) {
    cmd.description('Remove one or more volumes').argument('<volume...>').option('-f, --force', 'force the removal of one or more volumes');
  },
  async run(ctx, args, opts) {
    const store = volumeStore(ctx);
    const errors: string[] = [];
    for (const name of args) {
      try {
        store.remove(name, Boolean(opts.force));
        write(name);
      } catch (err) {
        errors.push(daemonError(err));
      }
    }
    if (errors.length) {
      process.stderr.write(`${errors.join('\n')}\n`);
      throw new CliError('', 1);
    }
  },
};
