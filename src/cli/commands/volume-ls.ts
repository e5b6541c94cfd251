// `hull volume ls`: docker's table ("DRIVER    VOLUME NAME"), -q, --filter and --format, with the
// volumes in docker's natural order (vol2 before vol10).
import type { Volume } from '../../engine/volumes.ts';
import { renderRows } from '../format/render.ts';
import { CliError, write } from '../context.ts';
import type { Verb } from './verb.ts';
import { daemonError, filterFlag, filtersOf, volumeStore } from './volume-common.ts';

const HEADERS = {
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

export const volumeLs: Verb = {
  names: ['volume ls', 'volume list'],
  define(cmd) {
    cmd
      .description('List volumes')
      .option('-f, --filter <filter>', 'provide filter values (e.g. "dangling=true")', filterFlag, [])
      .option('--format <format>', 'format output using a custom template')
      .option('-q, --quiet', 'only display volume names');
  },
  async run(ctx, _args, opts) {
    let volumes: Volume[];
    try {
      volumes = volumeStore(ctx).list(filtersOf(opts.filter as string[]));
    } catch (err) {
      process.stderr.write(`${daemonError(err)}\n`);
      throw new CliError('', 1);
    }
    volumes.sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const quiet = Boolean(opts.quiet);
    let format = (opts.format as string | undefined) ?? '';
    // docker's NewVolumeFormat: -q changes only the "table" and "raw" formats
    if (format === '' || format === 'table') format = quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
    else if (format === 'raw') format = quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\\ndriver: {{.Driver}}\\n';
    write(renderRows(format, volumes.map(row), { headers: HEADERS }));
  },
};

/** The fields docker's volume formatter offers; usage and cluster fields are N/A for `ls`. */
function row(v: Volume) {
  return {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels).map(([k, val]) => `${k}=${val}`).sort().join(','),
    Label: (name: string) => (Object.hasOwn(v.Labels, name) ? v.Labels[name]! : ''),
    Links: 'N/A',
    Size: 'N/A',
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Natural order (the sortorder package docker's CLI uses): runs of digits compare as numbers,
 * digits sort before other characters, and of two equal numbers the one with fewer leading zeros
 * comes first.
 */
export function naturalLess(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da !== db) return da;
    if (!da) {
      if (ca !== cb) return ca < cb;
      i++;
      j++;
      continue;
    }
    while (i < a.length && a[i] === '0') i++;
    while (j < b.length && b[j] === '0') j++;
    const startA = i;
    const startB = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    if (i - startA !== j - startB) return i - startA < j - startB;
    const na = a.slice(startA, i);
    const nb = b.slice(startB, j);
    if (na !== nb) return na < nb;
    if (startA !== startB) return startA < startB;
  }
  return a.length < b.length;
}
