// `hull network prune`: every custom network no container uses, after docker's question unless
// -f (only "y" or "Y" goes on; anything else ends quietly with status 0); docker's report of
// what went.
import { pruneNetworks } from '../../engine/networks/manage.ts';
import { write } from '../context.ts';
import { daemonError } from './daemon-error.ts';
import { networkEnv } from './network-common.ts';
import { confirm } from './prompt.ts';
import type { Verb } from './verb.ts';
import { filterFlag, filtersOf } from './volume-common.ts';

export const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.';

/** docker's report of pruned networks: the section, or nothing when none went. */
export function deletedNetworks(names: string[]): string {
  return names.length ? `Deleted Networks:\n${names.join('\n')}\n\n` : '';
}

export const networkPrune: Verb = {
  names: ['network prune'],
  define(cmd) {
    cmd
      .description('Remove all unused networks')
      .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', filterFlag)
      .option('-f, --force', 'Do not prompt for confirmation');
  },
  async run(ctx, _args, opts) {
    if (!opts.force && !(await confirm(PRUNE_WARNING))) return;
    const env = await networkEnv(ctx);
    let removed: string[];
    try {
      removed = pruneNetworks(env, filtersOf((opts.filter as string[] | undefined) ?? []));
    } catch (err) {
      throw daemonError(err);
    }
    write(deletedNetworks(removed));
  },
};
