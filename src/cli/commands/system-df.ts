// `hull system df [-v] [--format]`: disk usage by kind, as docker prints it.
import { shortId } from '../../image/digest.ts';
import { familiarName, normalize } from '../../image/reference.ts';
import { familiar, imageDiskUsage } from '../../engine/images.ts';
import { reconcile } from '../../engine/containers/lifecycle.ts';
import { containerUsage, volumeUsage, type UsageSummary } from '../../engine/system/df.ts';
import { encodeJson } from '../format/json.ts';
import { renderRows } from '../format/render.ts';
import { humanSize, since } from '../units.ts';
import { type Context, write } from '../context.ts';
import { statusText } from './ps.ts';
import type { Verb } from './verb.ts';

const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const IMAGE_HEADERS = {
  Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS',
};
const CONTAINER_HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED',
  Status: 'STATUS', Names: 'NAMES',
};
const VOLUME_HEADERS = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_HEADER = 'CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED';

/** docker's summary cells: sizes to four digits, the reclaimable share as a whole percentage (rounded down). */
function summaryRow(type: string, s: UsageSummary): Record<string, string> {
  return {
    Type: type,
    TotalCount: String(s.total),
    Active: String(s.active),
    Size: humanSize(s.size, 4),
    Reclaimable: s.size > 0 ? `${humanSize(s.reclaimable, 4)} (${Math.floor((s.reclaimable * 100) / s.size)}%)` : humanSize(s.reclaimable, 4),
  };
}

function imageName(ctx: Context, image: string, typed: string): string {
  const img = ctx.store().get(image);
  if (img && typed && (img.tags.some((t) => familiar(t) === familiar(typed)) || image.endsWith(typed))) return typed;
  if (img?.tags[0]) return familiar(img.tags[0]);
  return shortId(image);
}

export const systemDf: Verb = {
  names: ['system df'],
  define(cmd) {
    cmd.description('Show hull disk usage').option('--format <format>', 'format output using a custom template').option('-v, --verbose', 'show detailed information on space usage');
  },
  async run(ctx, _args, opts) {
    const env = ctx.containerEnv();
    await reconcile(env);
    const du = imageDiskUsage(ctx.store());
    const cu = containerUsage(env);
    const vu = volumeUsage(env);
    const imageSummary: UsageSummary = { total: du.total, active: du.active, size: du.size, reclaimable: du.reclaimable };
    const format = opts.format as string | undefined;
    if (!opts.verbose) {
      const rows = [
        summaryRow('Images', imageSummary),
        summaryRow('Containers', cu.summary),
        summaryRow('Local Volumes', vu.summary),
        summaryRow('Build Cache', { total: 0, active: 0, size: 0, reclaimable: 0 }),
      ];
      write(renderRows(format ?? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', rows, { headers: HEADERS }));
      return;
    }
    const json = format === 'json' || format === '{{json .}}';
    const trunc = !json;
    const imageRows = du.images.flatMap((i) => {
      const names = i.record.tags.length ? i.record.tags.map((t) => normalize(t)) : [undefined];
      return names.map((ref) => ({
        Containers: String(i.containers),
        CreatedAt: i.record.created ? new Date(i.record.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC') : '',
        CreatedSince: since(i.record.created),
        Digest: '',
        ID: trunc ? shortId(i.record.id) : i.record.id,
        Repository: ref ? familiarName(ref) : '<none>',
        SharedSize: humanSize(i.shared, 4),
        Size: humanSize(i.shared + i.unique),
        Tag: ref?.tag ?? '<none>',
        UniqueSize: humanSize(i.unique, 4),
        VirtualSize: humanSize(i.shared + i.unique, 4),
      }));
    });
    const now = Date.now();
    const containerRows = cu.containers.map(({ container: c, size }) => {
      const command = [c.Path, ...c.Args].join(' ');
      return {
        Command: trunc && command.length > 20 ? `"${command.slice(0, 19)}…"` : `"${command}"`,
        CreatedAt: new Date(c.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
        ID: trunc ? c.Id.slice(0, 12) : c.Id,
        Image: imageName(ctx, c.Image, c.Config.Image),
        Labels: Object.entries(c.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
        LocalVolumes: String(c.Mounts.filter((m) => m.Type === 'volume').length),
        Mounts: c.Mounts.map((m) => (m.Type === 'volume' ? m.Name : m.Source)).join(','),
        Names: c.Name,
        Networks: c.HostConfig.NetworkMode === 'host' ? 'host' : c.HostConfig.NetworkMode.startsWith('container:') ? 'none' : c.HostConfig.NetworkMode,
        Ports: '',
        RunningFor: since(c.Created, now),
        Size: humanSize(size),
        State: c.State.Paused ? 'paused' : c.State.Status,
        Status: statusText(c, now),
      };
    });
    const volumeRows = vu.volumes.map((v) => ({
      Availability: 'N/A',
      Driver: v.volume.Driver,
      Group: 'N/A',
      Labels: Object.entries(v.volume.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
      Links: String(v.links),
      Mountpoint: v.volume.Mountpoint,
      Name: v.volume.Name,
      Scope: v.volume.Scope,
      Size: humanSize(v.size),
      Status: 'N/A',
    }));
    if (json) {
      // docker's verbose JSON is one object holding every section
      write(encodeJson({ Images: imageRows, Containers: containerRows, Volumes: volumeRows, BuildCache: [] }, { escapeHTML: true }));
      return;
    }
    let out = 'Images space usage:\n\n';
    out += renderRows(IMAGE_TABLE, imageRows, { headers: IMAGE_HEADERS });
    out += '\nContainers space usage:\n\n';
    out += renderRows(CONTAINER_TABLE, containerRows, { headers: CONTAINER_HEADERS });
    out += '\nLocal Volumes space usage:\n\n';
    out += renderRows(VOLUME_TABLE, volumeRows, { headers: VOLUME_HEADERS });
    out += `\nBuild cache usage: 0B\n\n${BUILD_CACHE_HEADER}\n`;
    process.stdout.write(out);
  },
};
