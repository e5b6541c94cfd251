// `hull container prune [-f] [--filter until=...|label=...|label!=...]`: removes the stopped
// containers after docker's prompt, and lists them with the space their layers took.
import { filterArgs } from '../../engine/images.ts';
import { parseContainerPruneFilters, pruneContainers } from '../../engine/containers/prune.ts';
import { humanSize } from '../units.ts';
import { write } from '../context.ts';
import { daemonError } from './daemon-error.ts';
import { confirm } from './prompt.ts';
import type { Verb } from './verb.ts';
import { filterFlag } from './volume-common.ts';

export const containerPrune: Verb = {
  names: ['container prune'],
  define(cmd) {
    cmd
      .description('Remove all stopped containers')
      .option('--filter <filter>', 'provide filter values (e.g. "until=<timestamp>")', filterFlag, [])
      .option('-f, --force', 'do not prompt for confirmation');
  },
  async run(ctx, _args, opts) {
    let filters;
    try {
      // checked before the question, so that a bad filter neither asks nor removes anything
      filters = parseContainerPruneFilters(filterArgs(opts.filter as string[]));
    } catch (e) {
      throw daemonError(e);
    }
    if (!opts.force && !(await confirm('WARNING! This will remove all stopped containers.'))) return;
    let result;
    try {
      result = await pruneContainers(ctx.containerEnv(), filters);
    } catch (e) {
      throw daemonError(e);
    }
    if (result.deleted.length) write(`Deleted Containers:\n${result.deleted.join('\n')}\n\n`);
    write(`Total reclaimed space: ${humanSize(result.reclaimed, 4)}`);
  },
};
