// `hull volume prune`: anonymous volumes no container uses, or with -a all of them; asks first
// unless -f, as docker does (only "y" or "Y" goes on; anything else ends quietly with status 0).
import { humanSize } from '../units.ts';
import { CliError, write } from '../context.ts';
import { confirm } from './prompt.ts';
import type { Verb } from './verb.ts';
import { daemonError, filterFlag, filtersOf, volumeStore } from './volume-common.ts';

const ANONYMOUS_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.';

export const volumePrune: Verb = {
  names: ['volume prune'],
  define(cmd) {
    cmd
      .description('Remove unused local volumes')
      .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
      .option('--filter <filter>', 'provide filter values (e.g. "label=<label>")', filterFlag, [])
      .option('-f, --force', 'do not prompt for confirmation');
  },
  async run(ctx, _args, opts) {
    const filters = filtersOf(opts.filter as string[]);
    const all = Boolean(opts.all);
    if (all && Object.hasOwn(filters, 'all')) throw new CliError('conflicting options: cannot specify both --all and --filter all=1');
    if (!opts.force) {
      if (!(await confirm(all ? ALL_WARNING : ANONYMOUS_WARNING))) return;
    }
    let result;
    try {
      result = volumeStore(ctx).prune({ all, filters });
    } catch (err) {
      process.stderr.write(`${daemonError(err)}\n`);
      throw new CliError('', 1);
    }
    if (result.removed.length > 0) write(`Deleted Volumes:\n${result.removed.join('\n')}\n\n`);
    write(`Total reclaimed space: ${humanSize(result.spaceReclaimed, 4)}`);
  },
};
