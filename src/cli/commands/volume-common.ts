// What the `hull volume` verbs share: the store, docker's --filter and --label flag values, and
// how an engine error is shown (as docker shows the daemon's: "Error response from daemon: ...").
import { InvalidArgumentError } from 'commander';
import { VolumeStore } from '../../engine/volumes.ts';
import type { Context } from '../context.ts';

export function volumeStore(ctx: Context): VolumeStore {
  return new VolumeStore(ctx.store().db, ctx.options.root);
}

/** Collects `--filter key=value` values, refusing a value without "=" as docker's flag does. */
export function filterFlag(value: string, previous: string[] = []): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError('bad format of filter (expected name=value)');
  return [...previous, value];
}

/** Filter flags as the engine takes them; keys are trimmed and lower-cased, values trimmed (docker's FilterOpt). */
export function filtersOf(raw: readonly string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    const values = Object.hasOwn(filters, key) ? filters[key]! : (filters[key] = []);
    if (!values.includes(value)) values.push(value);
  }
  return filters;
}

/** Collects `--label key[=value]`, checked as docker's ValidateLabel does. */
export function labelFlag(value: string, previous: string[] = []): string[] {
  const eq = value.indexOf('=');
  const key = (eq < 0 ? value : value.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new InvalidArgumentError(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new InvalidArgumentError(`label '${key}' contains whitespaces`);
  return [...previous, value];
}

/** ["k=v", "k2"] as a map: {k: "v", k2: ""} (a later key wins). */
export function keyValues(items: readonly string[]): Record<string, string> {
  const entries = items.map((item): [string, string] => {
    const eq = item.indexOf('=');
    return eq < 0 ? [item, ''] : [item.slice(0, eq), item.slice(eq + 1)];
  });
  return Object.fromEntries(entries);
}

/** An engine error as docker's CLI prints the daemon's. */
export function daemonError(err: unknown): string {
  return `Error response from daemon: ${(err as Error).message ?? String(err)}`;
}
