// `hull image prune`: dangling images, or with -a every image no container uses.
import { parseImageFilters, pruneImages } from '../../engine/images.ts';
import { humanSize } from '../units.ts';
import { CliError, write } from '../context.ts';
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
    if (!opts.force && process.stdin.isTTY) {
      const what = opts.all ? 'all images without at least one container associated to them' : 'all dangling images';
      process.stdout.write(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `);
      const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d))));
      process.stdin.pause();
      if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('', 1);
    }
    const store = ctx.store();
    const { removed, gc } = pruneImages(store, { all: Boolean(opts.all), filters: parseImageFilters(store, opts.filter as string[]) });
    const lines = [...removed.untagged.map((u) => `untagged: ${u}`), ...removed.deleted.map((d) => `deleted: ${d}`)];
    if (lines.length) write(`Deleted Images:\n${lines.join('\n')}\n`);
    write(`Total reclaimed space: ${humanSize(gc.bytes)}`);
  },
};
