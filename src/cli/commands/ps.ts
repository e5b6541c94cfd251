// `hull ps`: docker's container table, -a, -q, -n, -l, -s, --filter, --format and --no-trunc.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import type { Container } from '../../engine/containers/model.ts';
import { ContainerPaths } from '../../engine/containers/paths.ts';
import { diskUsage } from '../../image/store/disk-usage.ts';
import { shortId } from '../../image/digest.ts';
import { familiar } from '../../engine/images.ts';
import { renderRows } from '../format/render.ts';
import { displayPorts } from '../format/ports.ts';
import { CliError, type Context, write } from '../context.ts';
import { humanDuration, humanSize, since } from '../units.ts';
import { collect, type Verb } from './verb.ts';

const HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

/** Docker's STATUS column: "Up 3 minutes (healthy)", "Exited (1) 2 seconds ago", "Created". */
export function statusText(c: Container, now = Date.now()): string {
  const s = c.State;
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const health = s.Health && s.Health.Status !== 'none' ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : '';
    return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : health}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.Status === 'created') return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

function imageName(ctx: Context, c: Container): string {
  // docker shows what the user typed, unless that name now means another image
  const img = ctx.store().get(c.Image);
  const typed = c.Config.Image;
  if (img && typed && (img.tags.some((t) => familiar(t) === familiar(typed)) || c.Image.endsWith(typed) || c.Image === typed)) return typed;
  if (img && img.tags[0]) return familiar(img.tags[0]);
  return shortId(c.Image);
}

function parseFilters(raw: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of raw) {
    const at = f.indexOf('=');
    if (at <= 0) throw new CliError(`invalid filter '${f}'`, 125);
    const key = f.slice(0, at).toLowerCase();
    const known = ['id', 'name', 'label', 'exited', 'status', 'ancestor', 'before', 'since', 'volume', 'health', 'network', 'publish', 'expose', 'is-task', 'isolation'];
    if (!known.includes(key)) throw new CliError(`invalid filter '${key}'`, 125);
    out.set(key, [...(out.get(key) ?? []), f.slice(at + 1)]);
  }
  return out;
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function statusOf(c: Container): string {
  return c.State.Paused ? 'paused' : c.State.Status;
}

function matches(ctx: Context, c: Container, all: Container[], filters: Map<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !filters.has(key) || filters.get(key)!.some(test);
  const every = (key: string, test: (v: string) => boolean) => !filters.has(key) || filters.get(key)!.every(test);
  const byRef = (ref: string) => all.find((x) => x.Id === ref || x.Name === ref.replace(/^\//, '') || x.Id.startsWith(ref));
  for (const s of filters.get('status') ?? []) if (!STATUSES.includes(s)) throw new CliError(`invalid filter 'status=${s}'`, 125);
  return (
    any('id', (v) => c.Id.startsWith(v)) &&
    any('name', (v) => new RegExp(v).test(c.Name)) &&
    every('label', (v) => {
      const at = v.indexOf('=');
      return at < 0 ? v in c.Config.Labels : c.Config.Labels[v.slice(0, at)] === v.slice(at + 1);
    }) &&
    any('exited', (v) => c.State.Status === 'exited' && c.State.ExitCode === Number(v)) &&
    any('status', (v) => statusOf(c) === v) &&
    any('health', (v) => (c.State.Health?.Status ?? 'none') === v) &&
    any('ancestor', (v) => {
      const img = ctx.store().get(c.Image);
      return c.Config.Image === v || c.Image.replace('sha256:', '').startsWith(v.replace('sha256:', '')) || !!img?.tags.some((t) => familiar(t) === familiar(v) || t === v);
    }) &&
    any('before', (v) => {
      const ref = byRef(v);
      if (!ref) throw new CliError(`No such container: ${v}`, 1);
      return c.Created < ref.Created;
    }) &&
    any('since', (v) => {
      const ref = byRef(v);
      if (!ref) throw new CliError(`No such container: ${v}`, 1);
      return c.Created > ref.Created;
    }) &&
    any('volume', (v) => c.Mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v)) &&
    any('network', (v) => c.HostConfig.NetworkMode === v) &&
    // no container publishes or exposes ports before networking exists
    !filters.has('publish') &&
    !filters.has('expose')
  );
}

export const ps: Verb = {
  names: ['ps', 'container ls', 'container list'],
  define(cmd) {
    cmd
      .description('List containers')
      .option('-a, --all', 'show all containers (default shows just running)')
      .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
      .option('--format <format>', 'format output using a custom template')
      .option('-n, --last <n>', 'show n last created containers (includes all states)')
      .option('-l, --latest', 'show the latest created container (includes all states)')
      .option('--no-trunc', "don't truncate output")
      .option('-q, --quiet', 'only display container IDs')
      .option('-s, --size', 'display total file sizes');
  },
  async run(ctx, _args, opts) {
    const env = ctx.containerEnv();
    await reconcile(env);
    const filters = parseFilters(opts.filter as string[]);
    let last = opts.last !== undefined ? Number(opts.last) : opts.latest ? 1 : -1;
    if (!Number.isInteger(last)) throw new CliError(`invalid argument "${opts.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${opts.last}": invalid syntax`, 125);
    const everything = env.containers.list();
    const showAll = Boolean(opts.all) || last > 0 || filters.has('status') || filters.has('exited');
    let list = everything.filter((c) => (showAll || c.State.Running || c.State.Restarting) && matches(ctx, c, everything, filters));
    if (last > 0) list = list.slice(0, last);
    const trunc = opts.trunc !== false;
    if (opts.quiet) {
      write(list.map((c) => (trunc ? c.Id.slice(0, 12) : c.Id)).join('\n'));
      return;
    }
    const now = Date.now();
    const rows = list.map((c) => {
      const command = [c.Path, ...c.Args].join(' ');
      const quoted = trunc && command.length > 20 ? `"${command.slice(0, 19)}…"` : `"${command}"`;
      const size = () => {
        const rw = diskUsage(new ContainerPaths(env.roots, c.Id).upper);
        const img = ctx.store().get(c.Image)?.size ?? 0;
        return `${humanSize(rw)} (virtual ${humanSize(rw + img)})`;
      };
      const labels = Object.entries(c.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      return {
        ID: trunc ? c.Id.slice(0, 12) : c.Id,
        Image: imageName(ctx, c),
        Command: quoted,
        CreatedAt: new Date(c.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
        RunningFor: since(c.Created, now),
        Ports: displayPorts(c.State.Running ? c.Ports : null, c.Config.ExposedPorts ?? {}),
        State: statusOf(c),
        Status: statusText(c, now),
        get Size() {
          return size();
        },
        Names: c.Name,
        Labels: labels,
        Label: (name: string) => c.Config.Labels?.[name] ?? '',
        Mounts: c.Mounts.map((m) => (m.Type === 'volume' ? m.Name : m.Source)).join(','),
        Networks: ['none', 'host'].includes(c.HostConfig.NetworkMode) || c.HostConfig.NetworkMode.startsWith('container:') ? c.HostConfig.NetworkMode === 'host' ? 'host' : 'none' : c.HostConfig.NetworkMode,
        LocalVolumes: String(c.Mounts.filter((m) => m.Type === 'volume').length),
      };
    });
    const sizeColumn = opts.size ? '\t{{.Size}}' : '';
    const table = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${sizeColumn}`;
    write(renderRows((opts.format as string | undefined) ?? table, rows, { headers: HEADERS, table }));
  },
};
