// `container prune`: every container that is not running (created, exited, dead), narrowed by
// docker's prune filters (until, label, label!), each removed as `rm` would, with the space its
// read-write layer took.
import { existsSync, lstatSync } from 'node:fs';
import { diskUsage } from '../../image/store/disk-usage.ts';
import { parseFilterTime, rfc3339Nanos } from '../filter-time.ts';
import { reconcile, removeContainer, type ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';

export interface ContainerPruneFilters {
  /** Keep containers created after this instant (ns since the epoch). */
  until?: bigint;
  labels: string[];
  notLabels: string[];
}

const ACCEPTED = new Set(['until', 'label', 'label!']);

/** docker's filters for container prune, checked as its daemon checks them. `now` (ms) anchors durations. */
export function parseContainerPruneFilters(args: Map<string, string[]>, now = Date.now()): ContainerPruneFilters {
  for (const key of args.keys()) if (!ACCEPTED.has(key)) throw new Error(`invalid filter '${key}'`);
  const out: ContainerPruneFilters = { labels: args.get('label') ?? [], notLabels: args.get('label!') ?? [] };
  const until = args.get('until');
  if (until && until.length > 1) throw new Error('more than one until filter specified');
  if (until) out.until = parseFilterTime(until[0]!, now);
  return out;
}

/** Every "key" present and every "key=value" equal (docker's MatchKVList). */
function hasLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const [k, v] = eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    return Object.hasOwn(labels, k) && (v === undefined || labels[k] === v);
  });
}

function prunable(c: Container, f: ContainerPruneFilters): boolean {
  // running, paused, restarting, or being started by someone right now
  if (c.State.Running || c.State.Restarting || c.ShimPid !== 0) return false;
  if (f.until !== undefined) {
    const created = rfc3339Nanos(c.Created) ?? BigInt(Date.parse(c.Created)) * 1_000_000n;
    if (created > f.until) return false;
  }
  const labels = c.Config.Labels ?? {};
  if (!hasLabels(labels, f.labels)) return false;
  if (f.notLabels.length && hasLabels(labels, f.notLabels)) return false;
  return true;
}

/** The bytes the container's read-write layer holds on disk: what removing it frees. */
export function containerLayerSize(env: ContainerEnv, id: string): number {
  const upper = new ContainerPaths(env.roots, id).upper;
  try {
    if (!existsSync(upper)) return 0;
    // what the container wrote: the layer's own directory is there from create, written or not
    return diskUsage(upper) - lstatSync(upper).blocks * 512;
  } catch {
    // removed while being measured
    return 0;
  }
}

export interface ContainerPruneResult {
  deleted: string[];
  reclaimed: number;
}

export async function pruneContainers(env: ContainerEnv, filters: ContainerPruneFilters = { labels: [], notLabels: [] }): Promise<ContainerPruneResult> {
  await reconcile(env);
  const out: ContainerPruneResult = { deleted: [], reclaimed: 0 };
  for (const c of env.containers.list()) {
    if (!prunable(c, filters)) continue;
    const size = containerLayerSize(env, c.Id);
    try {
      await removeContainer(env, c.Id);
    } catch {
      // started meanwhile, or removed by someone else: docker skips it too
      continue;
    }
    if (env.containers.get(c.Id)) continue;
    out.deleted.push(c.Id);
    out.reclaimed += size;
  }
  return out;
}
