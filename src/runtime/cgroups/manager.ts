import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { detectLayout, hierarchyKey, ownCgroups, type CgroupLayout, type Hierarchy } from './hierarchy.ts';

/**
 * The container's cgroup: one directory per mounted hierarchy (v1) or one in the v2 tree.
 * Limits are applied by the resources code; this part places processes and tears down.
 */
export interface CgroupPaths {
  /** Absolute directories, one per hierarchy, in the order created. */
  dirs: string[];
  /** Those that did not exist before: what delete removes. */
  created: string[];
}

let cachedLayout: CgroupLayout | undefined;
export function layout(): CgroupLayout {
  cachedLayout ??= detectLayout();
  return cachedLayout;
}

/**
 * runc's rule: an absolute cgroupsPath is taken from each hierarchy's root, a relative one
 * from the runtime's own cgroup there; with none, the container id is used as a relative path.
 */
export function resolveCgroupDirs(cgroupsPath: string | undefined, id: string, lay = layout()): string[] {
  const rel = cgroupsPath && cgroupsPath.length > 0 ? cgroupsPath : id;
  if (rel.includes(':')) {
    throw new Error(`cgroupsPath ${JSON.stringify(rel)} looks like a systemd slice:scope path; the systemd cgroup driver is not supported`);
  }
  const own = ownCgroups();
  const dirs: string[] = [];
  for (const h of usable(lay)) {
    const base = posix.isAbsolute(rel) ? '/' : own.get(hierarchyKey(h)) ?? '/';
    // normalizing an absolute join clamps ".." at the hierarchy's root
    const inner = posix.normalize(posix.join('/', base, rel));
    // The mount may show a subtree (a container's own cgroup ns); strip that prefix.
    const shown = h.mountRoot !== '/' && inner.startsWith(h.mountRoot) ? inner.slice(h.mountRoot.length) : inner;
    dirs.push(posix.join(h.mountpoint, shown));
  }
  return dirs;
}

/** Hierarchies a container joins: on v1 every mounted one (named ones too), on v2 the tree. */
function usable(lay: CgroupLayout): Hierarchy[] {
  if (lay.mode === 'v2') return lay.hierarchies.filter((h) => h.version === 2);
  return lay.hierarchies;
}

/** v1 cpuset children start empty, and a process cannot join an empty cpuset. */
function fillCpuset(dir: string, mountpoint: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const path = posix.join(dir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8').trim() !== '') continue;
    let parent = posix.dirname(dir);
    let value = '';
    while (parent.startsWith(mountpoint)) {
      value = readFileSync(posix.join(parent, file), 'utf8').trim();
      if (value) break;
      parent = posix.dirname(parent);
    }
    writeFileSync(path, value);
  }
}

export function createCgroups(dirs: string[], lay = layout()): CgroupPaths {
  const created: string[] = [];
  try {
    for (const dir of dirs) {
      const h = usable(lay).find((x) => dir === x.mountpoint || dir.startsWith(x.mountpoint + '/'));
      // mkdir -p, remembering each level we made so that delete removes exactly those
      const missing: string[] = [];
      for (let d = dir; !existsSync(d); d = posix.dirname(d)) missing.unshift(d);
      for (const d of missing) {
        try {
          mkdirSync(d);
        } catch (e) {
          // another container made the same parent a moment ago: it is theirs to remove
          if ((e as NodeJS.ErrnoException).code === 'EEXIST' && d !== dir) continue;
          throw e;
        }
        created.push(d);
        if (h?.controllers.includes('cpuset')) fillCpuset(d, h.mountpoint);
      }
    }
  } catch (e) {
    removeCgroups(created, dirs);
    throw e;
  }
  return { dirs, created };
}

/**
 * Removes what create made, deepest first. The container's own directories must go; a parent
 * we made is left in place while another container still uses it.
 * Returns the container directories that could not be removed (processes still inside).
 */
export function removeCgroups(created: string[], leaves: string[]): string[] {
  const left: string[] = [];
  for (const d of [...created].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && leaves.includes(d)) left.push(d);
    }
  }
  return left;
}

/** Every pid in the container's cgroup (read from the first hierarchy that has it). */
export function cgroupPids(dirs: string[]): number[] {
  for (const dir of preferForProcs(dirs)) {
    try {
      return readFileSync(posix.join(dir, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      continue;
    }
  }
  return [];
}

/** The pids or freezer hierarchy holds exactly the container's processes; named ones may not exist. */
function preferForProcs(dirs: string[]): string[] {
  const rank = (d: string) => (/\/(pids|freezer|unified)\//.test(d + '/') ? 0 : 1);
  return [...dirs].sort((a, b) => rank(a) - rank(b));
}

export function procsFiles(dirs: string[]): string[] {
  return dirs.map((d) => posix.join(d, 'cgroup.procs'));
}
