// `hull system df`: disk usage by kind, as docker prints it.
import { shortId } from '../../image/digest.ts';
import { familiarName, normalize } from '../../image/reference.ts';
import { imageDiskUsage } from '../../engine/images.ts';
import { renderRows } from '../format/render.ts';
import { humanSize, since } from '../units.ts';
import { write } from '../context.ts';
import type { Verb } from './verb.ts';

const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

export const systemDf: Verb = {
  names: ['system df'],
  define(cmd) {
    cmd.description('Show hull disk usage').option('--format <format>', 'format output using a custom template').option('-v, --verbose', 'show detailed information on space usage');
  },
  async run(ctx, _args, opts) {
    const du = imageDiskUsage(ctx.store());
    const pct = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : '');
    const rows = [
      { Type: 'Images', TotalCount: String(du.total), Active: String(du.active), Size: humanSize(du.size), Reclaimable: `${humanSize(du.reclaimable)}${pct(du.reclaimable, du.size)}` },
      { Type: 'Containers', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
      { Type: 'Local Volumes', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
      { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    ];
    if (!opts.verbose) {
      const format = (opts.format as string | undefined) ?? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
      write(renderRows(format, rows, { headers: HEADERS }));
      return;
    }
    const imageRows = du.images.flatMap((i) => {
      const names = i.record.tags.length ? i.record.tags.map((t) => normalize(t)) : [undefined];
      return names.map((ref) => ({
        Repository: ref ? familiarName(ref) : '<none>',
        Tag: ref?.tag ?? '<none>',
        ID: shortId(i.record.id),
        CreatedSince: since(i.record.created),
        Size: humanSize(i.shared + i.unique),
        SharedSize: humanSize(i.shared),
        UniqueSize: humanSize(i.unique),
        Containers: String(i.containers),
      }));
    });
    write('Images space usage:\n');
    write(
      renderRows('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', imageRows, {
        headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
      }) + '\n',
    );
    write('Containers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n\nBuild cache usage: 0B');
  },
};
