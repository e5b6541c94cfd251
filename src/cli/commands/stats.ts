// `hull stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]`: docker's live table of
// CPU, memory, network, block I/O and pids. Each container is sampled every second; CPU % is the
// container's CPU time over the machine's in that second, so even --no-stream samples twice.
// The live table is redrawn in place (cursor home, each line cleared to its end, the rest of the
// screen cleared) until SIGINT or SIGTERM.
import { reconcile, type ContainerEnv } from '../../engine/containers/lifecycle.ts';
import type { Container } from '../../engine/containers/model.ts';
import { containerStats, statsFigures, type ContainerStats } from '../../engine/containers/stats.ts';
import { NoSuchContainer } from '../../engine/containers/store.ts';
import { renderRows } from '../format/render.ts';
import { CliError } from '../context.ts';
import { humanSize } from '../units.ts';
import type { Verb } from './verb.ts';

const HEADERS = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const INTERVAL_MS = 1000;

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: binary units, four significant digits ("324KiB", "23.54GiB"). */
export function bytesSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < BINARY.length - 1) {
    size /= 1024;
    i++;
  }
  const text = size === 0 ? '0' : size.toPrecision(4);
  return `${text.includes('e') ? text : text.includes('.') ? text.replace(/\.?0+$/, '') : text}${BINARY[i]}`;
}

const percent = (v: number) => `${v.toFixed(2)}%`;

/** One container being watched: what the user called it, and its last sample. */
interface Entry {
  /** As given on the command line, or the short id for listed containers (docker's .Container). */
  container: string;
  id: string;
  name: string;
  last?: ContainerStats;
  /** Gone since it was first found: shown as "--", as docker shows a container it lost. */
  invalid: boolean;
}

function row(e: Entry, trunc: boolean): Record<string, string> {
  const id = trunc ? e.id.slice(0, 12) : e.id;
  if (e.invalid || !e.last) {
    return { BlockIO: '--', CPUPerc: '--', Container: e.container, ID: id, MemPerc: '--', MemUsage: '-- / --', Name: e.name || '--', NetIO: '--', PIDs: '--' };
  }
  const f = statsFigures(e.last);
  return {
    BlockIO: `${humanSize(f.blockRead)} / ${humanSize(f.blockWrite)}`,
    CPUPerc: percent(f.cpuPercent),
    Container: e.container,
    ID: id,
    MemPerc: percent(f.memoryPercent),
    MemUsage: `${bytesSize(f.memory)} / ${bytesSize(f.memoryLimit)}`,
    Name: e.name || '--',
    NetIO: `${humanSize(f.netRx)} / ${humanSize(f.netTx)}`,
    PIDs: String(f.pids),
  };
}

/** Samples every entry once; each sample's precpu is the entry's previous one. */
function sample(env: ContainerEnv, entries: Entry[]): void {
  for (const e of entries) {
    const c = env.containers.get(e.id);
    if (!c) {
      e.invalid = true;
      continue;
    }
    e.name = c.Name;
    try {
      e.last = containerStats(env, c, e.last);
      e.invalid = false;
    } catch {
      e.invalid = true;
    }
  }
}

/** The containers a listing stats watches now: running ones, or every one with -a. */
function listed(env: ContainerEnv, all: boolean): Container[] {
  return env.containers.list().filter((c) => all || c.State.Running);
}

/** Keeps the entries in the order they were found; listed containers come and go, named ones stay. */
function refresh(env: ContainerEnv, entries: Entry[], all: boolean): Entry[] {
  const now = listed(env, all);
  const ids = new Set(now.map((c) => c.Id));
  const kept = entries.filter((e) => ids.has(e.id));
  for (const c of now) {
    if (!kept.some((e) => e.id === c.Id)) kept.push({ container: c.Id.slice(0, 12), id: c.Id, name: c.Name, invalid: false });
  }
  return kept;
}

function render(format: string, entries: Entry[], trunc: boolean): string {
  return renderRows(format, entries.map((e) => row(e, trunc)), { headers: HEADERS, table: TABLE });
}

/** A frame of the live table drawn over the previous one. */
function frame(text: string): string {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
}

export const stats: Verb = {
  names: ['stats', 'container stats'],
  define(cmd) {
    cmd
      .description('Display a live stream of container(s) resource usage statistics')
      .argument('[container...]')
      .option('-a, --all', 'show all containers (default shows just running)')
      .option('--format <format>', 'format output using a custom template')
      .option('--no-stream', 'disable streaming stats and only pull the first result')
      .option('--no-trunc', "don't truncate output");
  },
  async run(ctx, args, opts) {
    const env = ctx.containerEnv();
    await reconcile(env);
    const all = Boolean(opts.all);
    const stream = opts.stream !== false;
    const trunc = opts.trunc !== false;
    const format = (opts.format as string | undefined) ?? TABLE;
    let entries: Entry[];
    if (args.length > 0) {
      const errors: string[] = [];
      entries = [];
      for (const ref of args) {
        try {
          const c = env.containers.find(ref);
          entries.push({ container: ref, id: c.Id, name: c.Name, invalid: false });
        } catch (e) {
          if (!(e instanceof NoSuchContainer) && !/multiple containers/.test((e as Error).message)) throw e;
          errors.push(`Error response from daemon: ${(e as Error).message}`);
        }
      }
      // docker checks every named container before showing any
      if (errors.length) {
        process.stderr.write(`${errors.join('\n')}\n`);
        throw new CliError('', 1);
      }
    } else {
      entries = refresh(env, [], all);
    }

    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      wake?.();
    };
    const sleep = (ms: number) => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    process.once('SIGINT', stop).once('SIGTERM', stop);
    // a reader that went away (`hull stats | head`) ends the stream too
    process.stdout.on('error', stop);
    try {
      // the first sample is only the base that CPU % is measured from
      sample(env, entries);
      await sleep(INTERVAL_MS);
      while (!stopped) {
        if (args.length === 0) entries = refresh(env, entries, all);
        sample(env, entries);
        const text = render(format, entries, trunc);
        if (stopped) break;
        process.stdout.write(stream ? frame(text) : text);
        if (!stream) break;
        await sleep(INTERVAL_MS);
      }
    } finally {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      process.stdout.off('error', stop);
    }
  },
};
