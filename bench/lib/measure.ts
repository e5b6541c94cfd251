// Timing, warm-up, round-robin interleaving, medians and percentiles.
import type { Sample, Subject } from './scenario.ts';

/** Raw samples of one subject, as stored in bench/results/<scenario>.json. */
export interface SubjectSamples {
  name: string;
  version?: string;
  /** Wall time of each measured iteration, ms. */
  total: number[];
  /** Per-step times of each measured iteration, ms (same order as `total`). */
  steps?: Record<string, number[]>;
}

/** Milliseconds elapsed since `start` (a process.hrtime.bigint() value). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Times a synchronous or asynchronous function, in ms. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return msSince(start);
}

/** Percentile by linear interpolation between closest ranks; p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Summary {
  runs: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    runs: values.length,
    median: median(values),
    p10: percentile(values, 10),
    p90: percentile(values, 90),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** With few runs p10/p90 say little, so the spread shown is min/max instead. */
export function spreadOf(s: Summary): { label: string; lo: number; hi: number } {
  return s.runs >= 10 ? { label: 'p10/p90', lo: s.p10, hi: s.p90 } : { label: 'min/max', lo: s.min, hi: s.max };
}

function normalize(result: number | Sample, subject: string): { total: number; steps?: Record<string, number> } {
  if (typeof result === 'number') return { total: result };
  const steps = result.steps;
  const total = result.total ?? (steps ? Object.values(steps).reduce((a, b) => a + b, 0) : Number.NaN);
  if (!Number.isFinite(total)) throw new Error(`${subject}: run() returned no total and no steps`);
  return steps ? { total, steps } : { total };
}

export interface RoundsOptions {
  warmup: number;
  runs: number;
  /** Checked between iterations; when it returns a string, measuring stops with that error. */
  interrupted?: () => string | undefined;
  onRound?: (round: number, total: number) => void;
}

/**
 * Runs `warmup` then `runs` rounds. Each round runs every subject once, starting with a
 * different subject each round, so drift and ordering effects fall on all subjects equally.
 * A throw from any run aborts (the caller reports it).
 */
export async function measureRounds(subjects: readonly Subject[], options: RoundsOptions): Promise<SubjectSamples[]> {
  const out = subjects.map((s): SubjectSamples => ({ name: s.name, ...(s.version ? { version: s.version } : {}), total: [] }));
  const rounds = options.warmup + options.runs;
  for (let round = 0; round < rounds; round++) {
    options.onRound?.(round, rounds);
    for (let k = 0; k < subjects.length; k++) {
      // Let the event loop turn (outside the timed region): spawnSync-based runs never yield,
      // and signal handlers only run when it does.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const why = options.interrupted?.();
      if (why) throw new Error(why);
      const index = (round + k) % subjects.length;
      const subject = subjects[index]!;
      const sample = normalize(await subject.run(round), subject.name);
      if (round < options.warmup) continue;
      const rec = out[index]!;
      rec.total.push(sample.total);
      if (sample.steps) {
        rec.steps ??= {};
        for (const [step, ms] of Object.entries(sample.steps)) (rec.steps[step] ??= []).push(ms);
      }
    }
  }
  return out;
}
