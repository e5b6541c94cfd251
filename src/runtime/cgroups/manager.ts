import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { detectLayout, hierarchyKey, isWithin, ownCgroups, v2LayoutAt, type CgroupLayout, type Hierarchy } from './hierarchy.ts';

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

/**
 * The host's cgroup layout, from this mount namespace's mounts.
 *
 * Test knob: HULL_CGROUP_V2_ROOT=<dir> (e.g. /sys/fs/cgroup/unified) makes hull behave as on a
 * pure cgroup2 host whose tree is rooted at dir, ignoring every v1 hierarchy. A hybrid host
 * cannot move its v1 controllers to cgroup2, so this is how the v2 code paths (creating and
 * removing cgroups, cgroup.procs, freeze, kill, the eBPF device filter, and refusing limits
 * for controllers that are absent) run for real here. Not meant for production use.
 */
export function layout(): CgroupLayout {
  if (cachedLayout) return cachedLayout;
  const knob = process.env.HULL_CGROUP_V2_ROOT;
  cachedLayout = knob ? v2LayoutAt(knob) : detectLayout();
  return cachedLayout;
}

/**
 * runc's rule: an absolute cgroupsPath is taken from each hierarchy's root, a relative one
 * from the runtime's own cgroup there on v1, and from the parent of it on v2 (the runtime's
 * own cgroup has processes, so v2's no-internal-processes rule would keep controllers from
 * being delegated below it); with none, the container id is used as a relative path.
 */
export function resolveCgroupDirs(cgroupsPath: string | undefined, id: string, lay = layout()): string[] {
  const path = cgroupsPath && cgroupsPath.length > 0 ? cgroupsPath : id;
  if (path.includes(':')) {
    throw new Error(`cgroupsPath ${JSON.stringify(path)} looks like a systemd slice:scope path; the systemd cgroup driver is not supported`);
  }
  // ".." in a relative path is clamped at its own start, so it cannot climb out of its base
  const clean = posix.normalize(posix.join('/', path));
  if (clean === '/') {
    throw new Error(`cgroupsPath ${JSON.stringify(path)}: names ${posix.isAbsolute(path) ? 'the root cgroup' : "the runtime's own cgroup"}; the container needs a cgroup of its own`);
  }
  const own = ownCgroups();
  const dirs: string[] = [];
  for (const h of usable(lay)) {
    let base = '/';
    if (!posix.isAbsolute(path)) {
      base = own.get(hierarchyKey(h)) ?? '/';
      if (lay.mode === 'v2') base = posix.dirname(base);
    }
    const inner = posix.join(base, clean);
    // The mount may show a subtree (a container's own cgroup ns); strip that prefix.
    const shown = h.mountRoot !== '/' && isWithin(inner, h.mountRoot) ? inner.slice(h.mountRoot.length) || '/' : inner;
    dirs.push(posix.join(h.mountpoint, shown));
  }
  return dirs;
}

/** Each directory of a container with the hierarchy it lies in (the deepest mount that holds it). */
export function placementsOf(dirs: string[], lay = layout()): { dir: string; hierarchy: Hierarchy }[] {
  let host: CgroupLayout | undefined;
  return dirs.map((dir) => {
    // A container made under the HULL_CGROUP_V2_ROOT knob may be updated without it.
    const h = hierarchyOf(dir, lay) ?? hierarchyOf(dir, (host ??= detectLayout()));
    if (!h) throw new Error(`cgroup directory ${dir} is in no mounted cgroup hierarchy`);
    return { dir, hierarchy: h };
  });
}

function hierarchyOf(dir: string, lay: CgroupLayout): Hierarchy | undefined {
  let best: Hierarchy | undefined;
  for (const h of lay.hierarchies) {
    if (isWithin(dir, h.mountpoint) && (!best || h.mountpoint.length > best.mountpoint.length)) best = h;
  }
  return best;
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

/**
 * v2: a controller's files appear in a cgroup only when every ancestor enables it in
 * cgroup.subtree_control. Like runc, enable every controller each level offers, from the top
 * of the tree down to the container's parent: stats and later updates need those the config
 * does not limit now. A level that refuses (processes of its own, a controller in use by
 * threads) is left as it is; a limit that then cannot be applied is reported by name.
 */
export function delegateControllers(dir: string, top: string): void {
  const levels: string[] = [];
  for (let d = posix.dirname(dir); isWithin(d, top); d = posix.dirname(d)) {
    levels.unshift(d);
    if (d === top || d === '/') break;
  }
  for (const level of levels) {
    let offered: string[];
    let enabled: Set<string>;
    try {
      offered = readFileSync(posix.join(level, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
      enabled = new Set(readFileSync(posix.join(level, 'cgroup.subtree_control'), 'utf8').split(/\s+/).filter(Boolean));
    } catch {
      continue;
    }
    const wanted = offered.filter((c) => !enabled.has(c));
    if (wanted.length === 0) continue;
    const file = posix.join(level, 'cgroup.subtree_control');
    try {
      writeFileSync(file, wanted.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of wanted) {
        try {
          writeFileSync(file, `+${c}`);
        } catch {
          // reported when a limit needs it
        }
      }
    }
  }
}

export function createCgroups(dirs: string[], lay = layout()): CgroupPaths {
  const created: string[] = [];
  try {
    for (const dir of dirs) {
      const h = usable(lay).find((x) => dir === x.mountpoint || dir.startsWith(x.mountpoint + '/'));
      const first = created.length;
      mkdirLevels(dir, created);
      // (v2 children inherit an empty cpuset as "the parent's", so only v1 needs filling)
      if (h?.version === 1 && h.controllers.includes('cpuset')) for (const d of created.slice(first)) fillCpuset(d, h.mountpoint);
      if (lay.mode === 'v2' && h?.version === 2) delegateControllers(dir, h.mountpoint);
    }
  } catch (e) {
    removeCgroups(created, dirs);
    throw e;
  }
  return { dirs, created };
}

/**
 * mkdir -p that adds each level it made to made, top first, so that delete removes exactly
 * those. The parent is there nearly always, so the leaf is tried first: one syscall, not three.
 */
function mkdirLevels(dir: string, made: string[]): void {
  try {
    mkdirSync(dir);
    made.push(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw e;
  }
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
    made.push(d);
  }
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
