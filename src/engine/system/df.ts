// `system df` for containers and volumes: what each takes on disk and what removing the unused
// ones would free, counted as docker's df counts them (containers by their read-write layer,
// active when running, paused or restarting; volumes active when a container references them).
import type { Container } from '../containers/model.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';
import { containerLayerSize } from '../containers/prune.ts';
import type { Volume } from '../volumes.ts';

export interface UsageSummary {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

export interface ContainerUsage {
  container: Container;
  size: number;
  active: boolean;
}

export function containerUsage(env: ContainerEnv): { containers: ContainerUsage[]; summary: UsageSummary } {
  const containers = env.containers.list().map((container) => ({
    container,
    size: containerLayerSize(env, container.Id),
    active: container.State.Running || container.State.Restarting,
  }));
  return { containers, summary: summarize(containers) };
}

export interface VolumeUsage {
  volume: Volume;
  size: number;
  links: number;
  active: boolean;
}

export function volumeUsage(env: ContainerEnv): { volumes: VolumeUsage[]; summary: UsageSummary } {
  const volumes = env.volumes.usage().map((v) => ({ ...v, active: v.links > 0 }));
  return { volumes, summary: summarize(volumes) };
}

function summarize(items: { size: number; active: boolean }[]): UsageSummary {
  return {
    total: items.length,
    active: items.filter((i) => i.active).length,
    size: items.reduce((n, i) => n + i.size, 0),
    reclaimable: items.filter((i) => !i.active).reduce((n, i) => n + i.size, 0),
  };
}
