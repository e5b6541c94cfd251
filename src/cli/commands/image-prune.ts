// `hull image prune`: dangling images, or with -a every image no container uses, narrowed by
// docker's prune filters (until=, label=, label!=); and partial downloads no pull is resuming.
import { filterArgs, parsePruneFilters, pruneImages } from '../../engine/images.ts';
import { humanSize } from '../units.ts';
import { CliError, write } from '../context.ts';
import { confirm } from './prompt.ts';
import { collect, type Verb } from './verb.ts';

export const imagePrune: Verb = {
  names: ['image prune'],
  define(cmd) {
    cmd
      .description('Remove unused images')
      .option('-a, --all', 'remove all unused images, not just dangling ones')
      .option('--filter <filter>', 'provide filter values (e.g. "until=<timestamp>")', collect, [])
      .option('-f, --force', 'do not prompt for confirmation');
  },
  async run(ctx, _args, opts) {
    const args = filterArgs(opts.filter as string[]);
    // as docker's CLI: -a is dangling=false, its absence dangling=true; a filter that disagrees conflicts
    const dangling = args.get('dangling') ?? [];
    const implied = String(!opts.all);
    if (!dangling.includes(implied)) args.set('dangling', [...dangling, implied]);
    // filters are checked before the question is asked
    const filters = parsePruneFilters(args);
    if (!opts.force) {
      const what = opts.all ? 'all images without at least one container associated to them' : 'all dangling images';
      if (!(await confirm(`WARNING! This will remove ${what}.`))) throw new CliError('', 1);
    }
    const { items, reclaimed } = pruneImages(ctx.store(), filters);
    const lines = items.map((i) => ('untagged' in i ? `untagged: ${i.untagged}` : `deleted: ${i.deleted}`));
    // docker prints the list, a blank line, then the total
    if (lines.length) write(`Deleted Images:\n${lines.join('\n')}\n\n`);
    write(`Total reclaimed space: ${humanSize(reclaimed)}`);
  },
};
