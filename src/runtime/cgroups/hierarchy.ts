import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

/** One mounted cgroup hierarchy: v1 (one or more controllers, or a name=) or the v2 tree. */
export interface Hierarchy {
  version: 1 | 2;
  /** Controllers on it (v1: from the mount options; v2: cgroup.controllers at the root). */
  controllers: string[];
  /** A v1 named hierarchy such as name=systemd. */
  name?: string;
  mountpoint: string;
  /** The path inside the hierarchy that the mount's root shows (usually "/"). */
  mountRoot: string;
}

export interface CgroupLayout {
  /** "v2": a pure cgroup2 host. "v1": v1 hierarchies, maybe beside a cgroup2 mount (hybrid). */
  mode: 'v1' | 'v2';
  hierarchies: Hierarchy[];
}

const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb',
  'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc',
]);

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Reads the cgroup mounts of this mount namespace; never assumes /sys/fs/cgroup. */
export function detectLayout(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupLayout {
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountRoot = unescapeMountinfo(left[3] ?? '/');
    const mountpoint = unescapeMountinfo(left[4] ?? '');
    if (fstype === 'cgroup2') {
      if (seen.has('cgroup2')) continue;
      seen.add('cgroup2');
      let controllers: string[] = [];
      try {
        controllers = readFileSync(`${mountpoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        // an unreadable root still counts as a hierarchy with no controllers
      }
      hierarchies.push({ version: 2, controllers, mountpoint, mountRoot });
      continue;
    }
    const opts = (right[2] ?? '').split(',');
    const controllers = opts.filter((o) => V1_CONTROLLERS.has(o));
    const name = opts.find((o) => o.startsWith('name='))?.slice(5);
    const key = name ? `name=${name}` : controllers.join(',');
    if (!key || seen.has(key)) continue;
    seen.add(key);
    hierarchies.push({ version: 1, controllers, ...(name ? { name } : {}), mountpoint, mountRoot });
  }
  const v1 = hierarchies.some((h) => h.version === 1 && h.controllers.length > 0);
  return { mode: v1 ? 'v1' : 'v2', hierarchies };
}

/**
 * A pure-v2 layout whose tree is rooted at root (the HULL_CGROUP_V2_ROOT test knob). root may
 * be a cgroup2 mount, a directory inside one, or any directory laid out like one (unit tests);
 * mountRoot says which cgroup root is, so that relative cgroupsPaths still resolve from the
 * runtime's own cgroup when it lies below root.
 */
export function v2LayoutAt(root: string, mountinfo?: string): CgroupLayout {
  const top = posix.normalize(posix.resolve(root)).replace(/(.)\/$/, '$1');
  let mountRoot = '/';
  let best = '';
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      text = '';
    }
  }
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || line.slice(sep + 3).split(' ')[0] !== 'cgroup2') continue;
    const left = line.slice(0, sep).split(' ');
    const mp = unescapeMountinfo(left[4] ?? '');
    if (!isWithin(top, mp) || mp.length <= best.length) continue;
    best = mp;
    mountRoot = posix.join(unescapeMountinfo(left[3] ?? '/'), top.slice(mp.length) || '/');
  }
  let controllers: string[] = [];
  try {
    controllers = readFileSync(posix.join(top, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no controllers: every limit asked for will be refused by name
  }
  return { mode: 'v2', hierarchies: [{ version: 2, controllers, mountpoint: top, mountRoot }] };
}

/** Whether path is dir or lies below it (not merely sharing a prefix). */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(dir + '/');
}

/** The process's own cgroup in each hierarchy, keyed as /proc/<pid>/cgroup names them. */
export function ownCgroups(text = readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const key = m[2] === '' ? 'cgroup2' : m[2]!;
    out.set(key, m[3]!);
    for (const c of key.split(',')) out.set(c, m[3]!);
  }
  return out;
}

export function hierarchyKey(h: Hierarchy): string {
  if (h.version === 2) return 'cgroup2';
  return h.name ? `name=${h.name}` : h.controllers.join(',');
}
