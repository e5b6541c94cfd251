// `hull system prune [-a] [-f] [--volumes] [--filter ...]`: stopped containers, custom networks
// no container uses, unused anonymous volumes (--volumes) and dangling images (-a: every unused
// image), after docker's prompt, with docker's report of each step and the total.
import { filterArgs } from '../../engine/images.ts';
import { planSystemPrune, systemPrune } from '../../engine/system/prune.ts';
import { humanSize } from '../units.ts';
import { write } from '../context.ts';
import { clientError, daemonError } from './daemon-error.ts';
import { networkEnv } from './network-common.ts';
import { deletedNetworks } from './network-prune.ts';
import { confirm } from './prompt.ts';
import type { Verb } from './verb.ts';
import { filterFlag } from './volume-common.ts';

/** docker's warning, naming what hull will remove (hull has no build cache to prune yet). */
function warning(all: boolean, volumes: boolean, filters: Map<string, string[]>): string {
  const items = [
    'all stopped containers',
    'all networks not used by at least one container',
    ...(volumes ? ['all anonymous volumes not used by at least one container'] : []),
    all ? 'all images without at least one container associated to them' : 'all dangling images',
  ];
  let text = `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}`;
  const shown = ['label', 'label!', 'until'].flatMap((k) => (filters.get(k) ?? []).map((v) => `${k}=${v}`)).sort();
  if (shown.length) text += `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}\n`).join('')}`;
  return text;
}

export const systemPruneVerb: Verb = {
  names: ['system prune'],
  define(cmd) {
    cmd
      .description('Remove unused data')
      .option('-a, --all', 'remove all unused images not just dangling ones')
      .option('--filter <filter>', 'provide filter values (e.g. "label=<key>=<value>")', filterFlag, [])
      .option('-f, --force', 'do not prompt for confirmation')
      .option('--volumes', 'prune anonymous volumes');
  },
  async run(ctx, _args, opts) {
    const all = Boolean(opts.all);
    const volumes = Boolean(opts.volumes);
    const filters = filterArgs(opts.filter as string[]);
    if (volumes && filters.has('until')) throw clientError('ERROR: The "until" filter is not supported with "--volumes"');
    let plan;
    try {
      // every step's filters are checked before the question: a bad one removes nothing
      plan = planSystemPrune({ all, volumes, filters });
    } catch (e) {
      throw daemonError(e);
    }
    if (!opts.force && !(await confirm(warning(all, volumes, filters)))) return;
    let result;
    try {
      result = await systemPrune(await networkEnv(ctx), plan);
    } catch (e) {
      throw daemonError(e);
    }
    const section = (title: string, lines: string[]) => {
      if (lines.length) write(`${title}:\n${lines.join('\n')}\n\n`);
    };
    section('Deleted Containers', result.containers.deleted);
    write(deletedNetworks(result.networks));
    section('Deleted Volumes', result.volumes?.removed ?? []);
    section('Deleted Images', result.images.items.map((i) => ('untagged' in i ? `untagged: ${i.untagged}` : `deleted: ${i.deleted}`)));
    write(`Total reclaimed space: ${humanSize(result.reclaimed, 4)}`);
  },
};
