import { watchOom, oomCounter } from '../cgroups/oom.ts';
import { readStats } from '../cgroups/stats.ts';
import { encodeEvent } from '../cgroups/stats-json.ts';
import { status, type StateStore } from '../state.ts';
import type { Verb } from './args.ts';
import type { Context } from './context.ts';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "1m30s", "250ms", "1.5h"), which is what runc's --interval takes; in ms. */
export function parseDuration(text: string): number {
  const bad = () => new Error(`--interval: invalid duration ${JSON.stringify(text)} (for example 5s, 500ms or 1m30s)`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let ms = 0;
  while (rest !== '') {
    const m = /^(\d*(?:\.\d*)?)([a-z\u00b5\u03bc]+)/.exec(rest);
    if (!m || m[1] === '' || m[1] === '.' || UNIT_MS[m[2]!] === undefined) throw bad();
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * ms;
}

/** Whether the container is gone or stopped (deleted meanwhile counts as stopped). */
function stopped(store: StateStore, id: string): boolean {
  try {
    return status(store, store.load(id)) === 'stopped';
  } catch {
    return true;
  }
}

/**
 * Stats every interval and an event for each OOM kill, until the container stops; a last
 * look at the OOM counter then catches a kill that stopped it.
 */
function stream(c: Context, id: string, dirs: string[], intervalMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    let oom: ReturnType<typeof watchOom> | undefined;
    const finish = () => {
      for (const t of timers) clearInterval(t);
      oom?.close();
      resolve();
    };
    // a reader that went away ends the stream, as it would end runc's
    process.stdout.on('error', finish);
    const write = (line: string) => process.stdout.write(line);
    const counter = oomCounter(dirs);
    if (counter) oom = watchOom(counter, () => write(encodeEvent('oom', id)));
    timers.push(
      setInterval(() => {
        try {
          write(encodeEvent('stats', id, readStats(dirs)));
        } catch (e) {
          c.log('error', (e as Error).message);
        }
      }, Math.max(1, intervalMs)),
      setInterval(() => {
        if (!stopped(c.store, id)) return;
        oom?.check();
        finish();
      }, 100),
    );
  });
}

export function verb(ctx: () => Context): Verb {
  return {
    name: 'events',
    args: '<container-id>',
    help: 'print OOM notifications and resource statistics as JSON lines, until the container stops',
    flags: [
      { name: 'interval', kind: 'string', value: '<duration>', default: '5s', help: 'how often to print statistics' },
      { name: 'stats', kind: 'bool', help: 'print the statistics once and exit' },
    ],
    min: 1,
    max: 1,
    async run([id], f) {
      const intervalMs = parseDuration(String(f.interval));
      if (!(intervalMs > 0)) throw new Error('duration interval must be greater than 0');
      const c = ctx();
      const saved = c.store.load(id!);
      if (status(c.store, saved) === 'stopped') throw new Error(`container with id ${id} is not running`);
      if (f.stats) {
        process.stdout.write(encodeEvent('stats', id!, readStats(saved.cgroupDirs)));
        return;
      }
      await stream(c, id!, saved.cgroupDirs, intervalMs);
    },
  };
}
