// Pull and push progress on the terminal: a bar per layer and one for the total (what docker
// users ask for in moby#4022); plain status lines when stdout is not a terminal; nothing with -q.
import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressSink } from '../engine/progress.ts';
import { humanSize } from './units.ts';

export interface ProgressRenderer {
  sink: ProgressSink;
  done(): void;
}

/** out: where progress goes; `run` and `create` pull to stderr, as docker's do. */
export function progressRenderer(opts: { quiet?: boolean; tty?: boolean; out?: NodeJS.WriteStream } = {}): ProgressRenderer {
  const out = opts.out ?? process.stdout;
  if (opts.quiet) return { sink: () => {}, done: () => {} };
  if (!(opts.tty ?? out.isTTY)) return plainRenderer(out);
  return barRenderer(out);
}

const CHATTY = new Set(['Downloading', 'Pushing', 'Extracting']);

function plainRenderer(out: NodeJS.WriteStream): ProgressRenderer {
  const last = new Map<string, string>();
  return {
    sink(e: ProgressEvent) {
      if (!e.id) {
        out.write(`${e.status}\n`);
        return;
      }
      if (last.get(e.id) === e.status && CHATTY.has(e.status)) return;
      last.set(e.id, e.status);
      out.write(`${e.id}: ${e.status}\n`);
    },
    done() {},
  };
}

function barRenderer(out: NodeJS.WriteStream): ProgressRenderer {
  const multi = new cliProgress.MultiBar(
    {
      format: (options, params, payload: { id: string; status: string }) => {
        const width = options.barsize ?? 30;
        const filled = params.total > 0 ? Math.round((params.value / params.total) * width) : 0;
        const bar = params.total > 0 && CHATTY.has(payload.status) ? ` [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${humanSize(params.value)}/${humanSize(params.total)}` : '';
        return `${payload.id}: ${payload.status}${bar}`;
      },
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 40,
      autopadding: true,
      stream: out,
    },
    cliProgress.Presets.legacy,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; current: number; total: number }>();
  const total = multi.create(1, 0, { id: 'Total', status: '' });
  const refreshTotal = () => {
    let cur = 0;
    let tot = 0;
    for (const b of bars.values()) {
      cur += b.current;
      tot += b.total;
    }
    total.setTotal(Math.max(tot, 1));
    total.update(cur, { id: 'Total', status: tot > 0 ? 'Downloading' : '' });
  };
  return {
    sink(e: ProgressEvent) {
      if (!e.id) {
        multi.log(`${e.status}\n`);
        return;
      }
      let b = bars.get(e.id);
      if (!b) {
        b = { bar: multi.create(1, 0, { id: e.id, status: e.status }), current: 0, total: 0 };
        bars.set(e.id, b);
      }
      if (e.progressDetail?.total) b.total = e.progressDetail.total;
      if (e.status === 'Downloading' || e.status === 'Pushing') b.current = e.progressDetail?.current ?? b.current;
      if (['Download complete', 'Pull complete', 'Already exists', 'Pushed', 'Layer already exists'].includes(e.status) || e.status.startsWith('Mounted')) b.current = b.total;
      b.bar.setTotal(Math.max(b.total, 1));
      b.bar.update(b.current, { id: e.id, status: e.status });
      refreshTotal();
    },
    done() {
      multi.stop();
    },
  };
}
