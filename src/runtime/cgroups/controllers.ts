// Which of a container's cgroup directories serves which controller. Worked out from this
// mount namespace's cgroup mounts rather than from the layout create chose, so that a later
// command (pause, events, delete) handles the container right whatever layout it runs under.
import { posix } from 'node:path';
import { detectLayout, type Hierarchy } from './hierarchy.ts';

export interface ContainerCgroup {
  /** v1 controller name → the container's directory in that controller's hierarchy. */
  v1: Map<string, string>;
  /** The container's directory in the cgroup2 tree: the whole cgroup on v2, a companion on a hybrid host. */
  unified?: string;
  /** 2 when no v1 controller holds the container: everything is read from the cgroup2 tree. */
  version: 1 | 2;
}

let cached: Hierarchy[] | undefined;
function mounted(): Hierarchy[] {
  cached ??= detectLayout().hierarchies;
  return cached;
}

/** The hierarchy whose mount holds dir (the deepest mountpoint above it). */
function owner(dir: string, hs: Hierarchy[]): Hierarchy | undefined {
  let best: Hierarchy | undefined;
  for (const h of hs) {
    const inside = dir === h.mountpoint || dir.startsWith(h.mountpoint === '/' ? '/' : h.mountpoint + '/');
    if (inside && (!best || h.mountpoint.length > best.mountpoint.length)) best = h;
  }
  return best;
}

export function containerCgroup(dirs: string[], hs: Hierarchy[] = mounted()): ContainerCgroup {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const raw of dirs) {
    const dir = posix.normalize(raw);
    const h = owner(dir, hs);
    if (!h) continue;
    if (h.version === 2) unified ??= dir;
    else for (const c of h.controllers) if (!v1.has(c)) v1.set(c, dir);
  }
  return { v1, ...(unified !== undefined ? { unified } : {}), version: v1.size > 0 ? 1 : 2 };
}
