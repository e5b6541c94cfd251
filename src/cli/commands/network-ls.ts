// `hull network ls`: docker's table ("NETWORK ID   NAME   DRIVER   SCOPE", ids cut to 12), -q,
// --no-trunc, --filter and --format, with the networks in docker's natural order of names.
import { listNetworks } from '../../engine/networks/manage.ts';
import type { Network } from '../../engine/networks/model.ts';
import { renderRows } from '../format/render.ts';
import { write } from '../context.ts';
import { daemonError } from './daemon-error.ts';
import { networkEnv } from './network-common.ts';
import type { Verb } from './verb.ts';
import { filterFlag, filtersOf } from './volume-common.ts';
import { naturalLess } from './volume-ls.ts';

const HEADERS = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

export const networkLs: Verb = {
  names: ['network ls', 'network list'],
  define(cmd) {
    cmd
      .description('List networks')
      .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', filterFlag)
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-trunc', 'Do not truncate the output')
      .option('-q, --quiet', 'Only display network IDs');
  },
  async run(ctx, _args, opts) {
    const env = await networkEnv(ctx);
    let networks: Network[];
    try {
      networks = listNetworks(env, ctx.engineSettings(), filtersOf((opts.filter as string[] | undefined) ?? []));
    } catch (err) {
      throw daemonError(err);
    }
    networks.sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const quiet = Boolean(opts.quiet);
    // commander's --no-trunc sets trunc to false
    const trunc = opts.trunc !== false;
    let format = (opts.format as string | undefined) ?? '';
    // docker's network NewFormat: -q changes only the "table" and "raw" formats
    if (format === '' || format === 'table') format = quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
    else if (format === 'raw') format = quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
    write(renderRows(format, networks.map((n) => row(n, trunc)), { headers: HEADERS }));
  },
};

/** The fields docker's network formatter offers. */
function row(n: Network, trunc: boolean) {
  return {
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: String(n.EnableIPv4),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    Label: (name: string) => n.Labels[name] ?? '',
    CreatedAt: goTimeString(n.Created),
  };
}

/** time.Time's String, as docker's CreatedAt column prints it. */
function goTimeString(iso: string): string {
  const d = new Date(iso);
  const frac = /\.(\d+)Z$/.exec(iso)?.[1]?.replace(/0+$/, '');
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}${frac ? `.${frac}` : ''} +0000 UTC`;
}
