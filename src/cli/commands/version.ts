// `hull version [--format]`: docker's Client and Server sections. hull is one build for both, so
// the two report the same version; the Node.js that runs hull is shown where docker shows Go.
import { HULL_VERSION } from '../../runtime/features.ts';
import { API_VERSION, buildTime, goArch, systemVersion, type SystemVersion } from '../../engine/system/version.ts';
import { FormatError, renderOne } from '../format/render.ts';
import { tabwrite } from '../format/tabwriter.ts';
import { CliError } from '../context.ts';
import type { Verb } from './verb.ts';

// docker's version table: tabwriter.NewWriter(out, 20, 1, 1, ' ', 0)
const VERSION_TABLE = { minWidth: 20, tabWidth: 1, padding: 1, padChar: ' ' };

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.ANSIC in UTC ("Thu May  7 21:09:36 2026"), as docker shows build times; '' stays ''. */
export function ansic(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export interface VersionInfo {
  Client: {
    Platform: { Name: string };
    Version: string;
    ApiVersion: string;
    DefaultAPIVersion: string;
    GitCommit: string;
    GoVersion: string;
    Os: string;
    Arch: string;
    BuildTime: string;
    Context: string;
  };
  Server: SystemVersion;
}

export function versionInfo(): VersionInfo {
  return {
    Client: {
      Platform: { Name: '' },
      Version: HULL_VERSION,
      ApiVersion: API_VERSION,
      DefaultAPIVersion: API_VERSION,
      GitCommit: '',
      GoVersion: process.version,
      Os: 'linux',
      Arch: goArch(),
      BuildTime: ansic(buildTime()),
      Context: 'default',
    },
    Server: systemVersion(),
  };
}

function text(v: VersionInfo): string {
  const c = v.Client;
  const lines = [
    'Client:',
    ` Version:\t${c.Version}`,
    ` API version:\t${c.ApiVersion}`,
    ` Node version:\t${c.GoVersion}`,
    ...(c.BuildTime ? [` Built:\t${c.BuildTime}`] : []),
    ` OS/Arch:\t${c.Os}/${c.Arch}`,
    ` Context:\t${c.Context}`,
    '',
    'Server:',
  ];
  for (const comp of v.Server.Components) {
    lines.push(` ${comp.Name}:`, `  Version:\t${comp.Version}`);
    const d = comp.Details ?? {};
    if (comp.Name === 'Engine') {
      lines.push(`  API version:\t${d.ApiVersion} (minimum version ${d.MinAPIVersion})`, `  Node version:\t${d.GoVersion}`);
      if (d.BuildTime) lines.push(`  Built:\t${ansic(d.BuildTime)}`);
      lines.push(`  OS/Arch:\t${d.Os}/${d.Arch}`, `  Experimental:\t${d.Experimental}`);
    } else {
      for (const [k, val] of Object.entries(d)) if (val) lines.push(`  ${k}:\t${val}`);
    }
  }
  return tabwrite(lines.join('\n') + '\n', VERSION_TABLE);
}

export const version: Verb = {
  names: ['version'],
  define(cmd) {
    cmd.description('Show the hull version information').option('-f, --format <format>', 'format output using a custom template');
  },
  async run(_ctx, _args, opts) {
    const v = versionInfo();
    const format = opts.format as string | undefined;
    if (format === undefined || format === '') {
      process.stdout.write(text(v));
      return;
    }
    try {
      process.stdout.write(`${renderOne(format === 'json' ? '{{json .}}' : format, v)}\n`);
    } catch (e) {
      if (e instanceof FormatError) throw new CliError(e.message, 1);
      throw e;
    }
  },
};
