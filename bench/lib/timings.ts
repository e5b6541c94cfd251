// Wall times of a scenario's subjects by name, leaving out the warm-up rounds, for the ratios
// and differences a scenario's notes quote (run.ts keeps its own copy for the tables).
import { msSince } from './measure.ts';

export class Timings {
  private readonly byName = new Map<string, number[]>();
  private readonly warmup: number;

  constructor(warmup: number) {
    this.warmup = warmup;
  }

  /** Runs fn and returns its time in ms; rounds before the warm-up count are not kept. */
  time(name: string, iteration: number, fn: () => void): number {
    const start = process.hrtime.bigint();
    fn();
    const ms = msSince(start);
    this.record(name, iteration, ms);
    return ms;
  }

  record(name: string, iteration: number, ms: number): void {
    let list = this.byName.get(name);
    if (!list) this.byName.set(name, (list = []));
    if (iteration >= this.warmup) list.push(ms);
  }

  get(name: string): number[] | undefined {
    return this.byName.get(name);
  }

  entries(): [string, number[]][] {
    return [...this.byName];
  }

  clear(): void {
    this.byName.clear();
  }
}
