// `system prune`: stopped containers, then (with volumes) the anonymous volumes no container
// uses, then dangling images (or, with all, every image no container uses), in docker's order,
// so that what a pruned container held is free for the later steps. Filters are checked for
// every step before anything is removed.
import { parsePruneFilters, pruneImages, type PruneFilters, type PruneResult } from '../images.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import { pruneNetworks } from '../networks/manage.ts';
import { parseContainerPruneFilters, pruneContainers, type ContainerPruneFilters, type ContainerPruneResult } from '../containers/prune.ts';

export interface SystemPruneOptions {
  /** Every unused image, not only dangling ones. */
  all: boolean;
  /** Also prune anonymous volumes no container uses. */
  volumes: boolean;
  /** docker's --filter values by name (until, label, label!). */
  filters: Map<string, string[]>;
}

export interface SystemPruneResult {
  containers: ContainerPruneResult;
  /** Names of the custom networks removed. */
  networks: string[];
  volumes?: { removed: string[]; spaceReclaimed: number };
  images: PruneResult;
  reclaimed: number;
}

const ACCEPTED = new Set(['until', 'label', 'label!']);

export interface SystemPrunePlan {
  containers: ContainerPruneFilters;
  images: PruneFilters;
  networks: Record<string, string[]>;
  volumes?: Record<string, string[]>;
}

/** The filters of each step, checked up front: a bad filter removes nothing. */
export function planSystemPrune(o: SystemPruneOptions, now = Date.now()): SystemPrunePlan {
  for (const key of o.filters.keys()) if (!ACCEPTED.has(key)) throw new Error(`invalid filter '${key}'`);
  if (o.volumes && o.filters.has('until')) throw new Error('The "until" filter is not supported with "--volumes"');
  const containers = parseContainerPruneFilters(o.filters, now);
  const images = parsePruneFilters(new Map([...o.filters, ['dangling', [String(!o.all)]]]), now);
  const networks = Object.fromEntries([...o.filters].filter(([k]) => ACCEPTED.has(k)));
  if (!o.volumes) return { containers, images, networks };
  const volumes: Record<string, string[]> = {};
  for (const key of ['label', 'label!']) if (o.filters.has(key)) volumes[key] = o.filters.get(key)!;
  return { containers, images, networks, volumes };
}

export async function systemPrune(env: ContainerEnv, plan: SystemPrunePlan): Promise<SystemPruneResult> {
  const containers = await pruneContainers(env, plan.containers);
  // networks come free as the containers go; nothing else depends on them
  const networks = pruneNetworks(env, plan.networks);
  // anonymous volumes only, as docker 23 and later: named ones are the user's data
  const volumes = plan.volumes ? env.volumes.prune({ all: false, filters: plan.volumes }) : undefined;
  const images = pruneImages(env.images, plan.images);
  return { containers, networks, ...(volumes ? { volumes } : {}), images, reclaimed: containers.reclaimed + (volumes?.spaceReclaimed ?? 0) + images.reclaimed };
}
