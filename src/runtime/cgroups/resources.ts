// Applies linux.resources to a container's cgroup: checks, then the writes v1.ts or v2.ts
// list, in order, each failure named by the config field and the file it could not write.
// Nothing is rolled back: a failed create removes the whole cgroup, and a failed update
// reports how far it got, as runc does.
import { closeSync, constants, existsSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { describeErrno } from '../errno.ts';
import type { Spec } from '../spec/types.ts';
import { applyDevices, effectiveDeviceRules } from './devices.ts';
import type { CgroupLayout, Hierarchy } from './hierarchy.ts';
import { checkLimits, limitsOf, num, type CgroupWrite, type Limits, type Probe } from './limits.ts';
import { placementsOf } from './manager.ts';
import { v1Writes } from './v1.ts';
import { v2Writes } from './v2.ts';

export interface ApplyOptions {
  /** The container's cgroup directories, as created and saved. */
  dirs: string[];
  layout: CgroupLayout;
  warn(msg: string): void;
  /** An update of a live container: v2 then honours memory.checkBeforeUpdate. */
  update?: boolean;
  /** Leave device rules alone (runc's SkipDevices): for trees with no devices controller or eBPF. */
  skipDevices?: boolean;
}

interface Target {
  dir: string;
  hierarchy: Hierarchy;
}

/** Which cgroup version the container's directories are on: v2 only if every one is. */
function versionOf(targets: Target[]): 1 | 2 {
  return targets.length > 0 && targets.every((t) => t.hierarchy.version === 2) ? 2 : 1;
}

export async function applyResources(spec: Spec, o: ApplyOptions): Promise<void> {
  const targets = placementsOf(o.dirs, o.layout);
  const version = versionOf(targets);
  const limits = limitsOf(spec.linux?.resources);
  for (const w of checkLimits(limits, version)) o.warn(w);
  const deviceRules = o.skipDevices ? [] : effectiveDeviceRules(spec); // checks the rules before anything is written
  const v2 = version === 2 ? targets[0]! : undefined;
  const v2Controllers = v2 ? new Set(readWords(posix.join(v2.dir, 'cgroup.controllers'))) : new Set<string>();

  const dirOf = (controller: string): string | undefined => {
    if (v2) return controller === 'cgroup' || v2Controllers.has(controller) ? v2.dir : undefined;
    return targets.find((t) => t.hierarchy.version === 1 && t.hierarchy.controllers.includes(controller))?.dir;
  };
  const probe: Probe = {
    has: (c, file) => present(dirOf(c), file),
    files: (c) => {
      const dir = dirOf(c);
      try {
        return dir ? readdirSync(dir) : [];
      } catch {
        return [];
      }
    },
  };
  const writes = version === 1 ? v1Writes(limits, probe) : v2Writes(limits, probe);

  // Every controller a limit needs must be there before anything is written.
  for (const w of writes) {
    if (dirOf(w.controller) !== undefined) continue;
    if (v2) {
      const have = [...v2Controllers].join(' ') || 'none';
      throw new Error(
        `${w.field}: needs the ${w.controller} controller, which is not enabled for ${v2.dir} ` +
          `(its cgroup.controllers lists ${have}; the parent cgroup must delegate it in cgroup.subtree_control)`,
      );
    }
    throw new Error(`${w.field}: needs the ${w.controller} cgroup controller, which is not mounted on this host`);
  }
  if (v2 && o.update) checkBeforeUpdate(limits, v2.dir);

  const groups = new Map<string, CgroupWrite[]>();
  for (const w of writes) {
    const g = groups.get(w.controller);
    if (g) g.push(w);
    else groups.set(w.controller, [w]);
  }
  for (const [controller, group] of groups) {
    const dir = dirOf(controller)!;
    const again: CgroupWrite[] = [];
    for (const w of group) {
      const err = writeOne(dir, w);
      if (err === undefined) continue;
      if (w.retry && err.code === 'EINVAL') again.push(w);
      else throw failure(dir, w, err);
    }
    for (const w of again) {
      const err = writeOne(dir, w);
      if (err !== undefined) throw failure(dir, w, err);
    }
  }

  // The layout the directories really are on: a container made under HULL_CGROUP_V2_ROOT
  // stays a v2 one when it is updated without it.
  const lay: CgroupLayout = v2 ? { mode: 'v2', hierarchies: [v2.hierarchy] } : o.layout;
  if (!o.skipDevices) await applyDevices(o.dirs, deviceRules, lay);
}

/** v2 lowers memory.max below the usage by OOM-killing; checkBeforeUpdate asks to refuse that. */
function checkBeforeUpdate(l: Limits, dir: string): void {
  const m = l.memory;
  if (!m?.checkBeforeUpdate) return;
  const text = readOr(dir, 'memory.current');
  if (text === undefined) return; // best effort, as in runc
  const usage = Number(text.trim());
  // An update carries every saved limit; one it does not change is not checked again (a
  // container right at its limit must still take, say, a new cpu quota).
  const max = readOr(dir, 'memory.max')?.trim();
  const swapMax = readOr(dir, 'memory.swap.max')?.trim();
  const now = {
    limit: max,
    swap: max && swapMax && max !== 'max' && swapMax !== 'max' ? (BigInt(max) + BigInt(swapMax)).toString() : undefined,
  };
  for (const [field, v] of [['swap', m.swap], ['limit', m.limit]] as const) {
    if (v !== undefined && v > 0 && v <= usage && num(v) !== now[field]) {
      throw new Error(`linux.resources.memory.${field}: ${num(v)} is not above the container's current memory usage of ${usage} bytes (memory.checkBeforeUpdate is set)`);
    }
  }
}

function writeOne(dir: string, w: CgroupWrite): NodeJS.ErrnoException | undefined {
  const path = posix.join(dir, w.file);
  let fd: number;
  try {
    // no O_CREAT: a missing interface file is an answer, not something to make
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && w.ifExists) return undefined;
    return err;
  }
  try {
    writeSync(fd, w.value);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  } finally {
    closeSync(fd);
  }
  if (w.verify) {
    const back = readOr(dir, w.file)?.trim();
    if (back !== undefined && back !== w.value) {
      const e: NodeJS.ErrnoException = new Error(`the kernel took ${back} instead (out of its range)`);
      e.code = 'CLAMPED';
      return e;
    }
  }
  return undefined;
}

// The C library's wording, which is what people search for (libuv's differs: "resource busy or locked").
const STRERROR: Record<string, string> = {
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ERANGE: 'Numerical result out of range',
  ENODEV: 'No such device',
  ENOENT: 'No such file or directory',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
  ENOSPC: 'No space left on device',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
  EAGAIN: 'Resource temporarily unavailable',
};

function failure(dir: string, w: CgroupWrite, e: NodeJS.ErrnoException): Error {
  const path = posix.join(dir, w.file);
  const value = /\s/.test(w.value) ? JSON.stringify(w.value) : w.value;
  let why: string;
  if (e.code === 'CLAMPED') why = e.message;
  else if (e.code === 'ENOENT') why = 'no such interface file';
  else why = STRERROR[e.code ?? ''] ?? (typeof e.errno === 'number' ? describeErrno(-e.errno) : e.message);
  let hint = w.hint;
  if (e.code === 'EBUSY' && w.file === 'memory.limit_in_bytes') {
    const usage = readOr(dir, 'memory.usage_in_bytes')?.trim();
    const peak = readOr(dir, 'memory.max_usage_in_bytes')?.trim();
    hint = `the cgroup uses ${usage ?? '?'} bytes now (${peak ?? '?'} at peak) and the kernel could not reclaim enough to go below ${value}`;
  } else if (e.code !== 'ENOENT' && e.code !== 'CLAMPED' && w.file === 'cpuset.cpus') {
    hint = `this cgroup may use cpus ${parentValue(dir, 'cpuset.cpus') ?? '?'}`;
  } else if (e.code !== 'ENOENT' && e.code !== 'CLAMPED' && w.file === 'cpuset.mems') {
    hint = `this cgroup may use memory nodes ${parentValue(dir, 'cpuset.mems') ?? '?'}`;
  } else if (e.code === 'ENODEV' && /(throttle|weight_device|^io\.)/.test(w.file)) {
    hint = `no block device ${w.value.split(' ')[0]} on this host`;
  } else if ((e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP') && /weight_device|bfq\.weight/.test(w.file)) {
    const dev = w.value.split(' ')[0];
    hint = `block device ${dev} does not use the BFQ I/O scheduler (see /sys/dev/block/${dev}/queue/scheduler)`;
  } else if (e.code !== 'ENOENT' && w.ifExists) {
    hint = undefined;
  }
  return new Error(`${w.field}: cannot write ${value} to ${path}: ${why}${hint ? ` (${hint})` : ''}`);
}

/** What the parent offers (v1 cpuset files; v2 has cpuset.*.effective). */
function parentValue(dir: string, file: string): string | undefined {
  const parent = posix.dirname(dir);
  return (readOr(parent, file.replace(/^cpuset\.(cpus|mems)$/, 'cpuset.$1.effective')) ?? readOr(parent, file))?.trim() || undefined;
}

function present(dir: string | undefined, file: string): boolean {
  return dir !== undefined && existsSync(posix.join(dir, file));
}

function readOr(dir: string | undefined, file: string): string | undefined {
  if (dir === undefined) return undefined;
  try {
    return readFileSync(posix.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function readWords(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
