// linux.intelRdt: cache and memory-bandwidth allocation through the resctrl filesystem (Intel
// RDT, AMD PQoS). A container gets a CLOS group, a directory under the resctrl mount with a
// schemata file; hull-init joins it by writing its own pid ("0") to the group's tasks file
// before it clones the container, so every process of the container starts inside it.
//
// runc's rules, which hull keeps:
// - the group is named by closID, or else after the container id;
// - a closID with no schemata names a group the admin made beforehand: it must exist;
// - delete removes the group only when it is named after the container and create made it;
//   a closID group may be shared with other containers, so it stays;
// - enableMonitoring adds a monitoring group, mon_groups/<id>, inside the CLOS group.
//
// hull does not mount resctrl itself: where the kernel has it but nothing mounted it, create
// fails and says how to mount it, as with the other host facilities hull uses.
//
// What create made is recorded in the container's state directory (intel-rdt.json), which
// also keeps native/front.c's delete from finishing on its own: its final rmdir of the state
// directory fails on the extra file, so it hands over, and the TypeScript delete removes the
// group. (Only the group's existence is recorded; nothing here needs the Saved format.)
import { existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from './spec/types.ts';
import { SpecError } from './spec/validate.ts';

const DEFAULT_MOUNT = '/sys/fs/resctrl';
/** RDTGROUP_SUPER_MAGIC, linux/magic.h. */
const RESCTRL_MAGIC = 0x7655821;
const RECORD = 'intel-rdt.json';

export interface IntelRdt {
  closID?: string;
  schemata?: string[];
  l3CacheSchema?: string;
  memBwSchema?: string;
  enableMonitoring?: boolean;
}

/** What create made, so that delete (or a failed create) removes exactly that. */
export interface RdtGroup {
  /** The CLOS group directory. */
  dir: string;
  created: boolean;
  /** Removed with the container: named after it, and made by create. */
  owned: boolean;
  /** The monitoring group, with enableMonitoring. */
  monDir?: string;
  monCreated?: boolean;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where resctrl is mounted (runc's search: the usual place first, then mountinfo), if it is. */
export function resctrlMount(mountinfo?: string): string | undefined {
  try {
    if (statfsSync(DEFAULT_MOUNT).type === RESCTRL_MAGIC) return DEFAULT_MOUNT;
  } catch {
    // not there: look through the mounts
  }
  for (const line of (mountinfo ?? readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || line.slice(sep + 3).split(' ')[0] !== 'resctrl') continue;
    const mp = line.slice(0, sep).split(' ')[4];
    if (mp) return mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

/** Why there is no resctrl to use: the kernel lacks it, or it is just not mounted. */
function whyNoResctrl(): string {
  const filesystems = readText('/proc/filesystems') ?? '';
  if (/\tresctrl$/m.test(filesystems)) {
    return `the kernel supports resctrl but it is not mounted; mount it first: mount -t resctrl resctrl ${DEFAULT_MOUNT}`;
  }
  return 'this host has no resctrl filesystem (the kernel lists no "resctrl" in /proc/filesystems: no Intel RDT or AMD PQoS support)';
}

/** The schemata lines the group gets, in runc's order. */
export function schemataLines(rdt: IntelRdt): string[] {
  return [rdt.l3CacheSchema ?? '', rdt.memBwSchema ?? '', ...(rdt.schemata ?? [])].filter((s) => s !== '');
}

/**
 * Before anything is created: can this host give the container what linux.intelRdt asks?
 * Returns the resctrl mount point, or undefined when the config has no intelRdt.
 * `root` is for tests: a resctrl tree to check against instead of the host's.
 */
export function checkIntelRdt(spec: Spec, root: string | undefined = undefined): string | undefined {
  const rdt = spec.linux?.intelRdt as IntelRdt | undefined;
  if (!rdt) return undefined;
  const mount = root ?? resctrlMount();
  if (!mount) throw new SpecError('config.json', 'linux.intelRdt', `cannot be applied: ${whyNoResctrl()}`, 'semantic');
  const need = (field: string, resource: string, feature: string) => {
    if (!existsSync(join(mount, 'info', resource))) {
      throw new SpecError('config.json', `linux.intelRdt.${field}`, `needs ${feature}, which this host's resctrl does not offer (no ${join(mount, 'info', resource)})`, 'semantic');
    }
  };
  if (rdt.l3CacheSchema) need('l3CacheSchema', 'L3', 'Intel RDT/CAT (L3 cache allocation)');
  if (rdt.memBwSchema) need('memBwSchema', 'MB', 'Intel RDT/MBA (memory bandwidth allocation)');
  (rdt.schemata ?? []).forEach((line, i) => {
    const resource = line.slice(0, line.indexOf(':')).trim();
    need(`schemata[${i}]`, resource, `the ${resource} resource`);
  });
  if (rdt.enableMonitoring) need('enableMonitoring', 'L3_MON', 'resctrl monitoring');
  if (rdt.closID && schemataLines(rdt).length === 0 && !existsSync(join(mount, rdt.closID))) {
    throw new SpecError(
      'config.json', 'linux.intelRdt.closID',
      `group ${JSON.stringify(rdt.closID)} does not exist under ${mount}; without schemata it must be made beforehand`, 'semantic',
    );
  }
  return mount;
}

/** The kernel's own account of the last resctrl failure, which errno alone does not give. */
function lastCmdStatus(mount: string): string {
  const s = readText(join(mount, 'info', 'last_cmd_status'))?.trim();
  return s && s !== 'ok' ? ` (resctrl says: ${s})` : '';
}

/**
 * Makes (or reuses) the container's CLOS group, writes its schemata and records it in the
 * state directory. On failure, removes what it made and throws.
 */
export function setupIntelRdt(spec: Spec, id: string, mount: string, stateDir: string): RdtGroup {
  const rdt = spec.linux!.intelRdt as IntelRdt;
  const dir = join(mount, rdt.closID || id);
  const group: RdtGroup = { dir, created: false, owned: false };
  try {
    try {
      mkdirSync(dir, { mode: 0o755 });
      group.created = true;
      group.owned = !rdt.closID;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Recorded at once, so that a failure from here on still finds the group to remove.
    writeFileSync(join(stateDir, RECORD), JSON.stringify(group));
    const lines = schemataLines(rdt);
    if (lines.length > 0) {
      try {
        writeFileSync(join(dir, 'schemata'), lines.join('\n') + '\n');
      } catch (e) {
        throw new Error(`linux.intelRdt: cannot write schemata ${JSON.stringify(lines.join('; '))} to ${dir}: ${(e as Error).message}${lastCmdStatus(mount)}`);
      }
    }
    if (rdt.enableMonitoring) {
      group.monDir = join(dir, 'mon_groups', id);
      // mon_groups is the kernel's, in every group; mkdir tells whether it made the leaf
      group.monCreated = mkdirSync(group.monDir, { recursive: true, mode: 0o755 }) !== undefined;
      writeFileSync(join(stateDir, RECORD), JSON.stringify(group));
    }
    return group;
  } catch (e) {
    removeGroup(group, true);
    if (e instanceof Error && e.message.startsWith('linux.intelRdt')) throw e;
    throw new Error(`linux.intelRdt: cannot make resctrl group ${dir}: ${(e as Error).message}${lastCmdStatus(mount)}`);
  }
}

/** The tasks files hull-init writes "0" to, CLOS group first: a monitoring group lies within it. */
export function rdtTasksFiles(group: RdtGroup | undefined): string[] {
  if (!group) return [];
  return group.monDir ? [join(group.dir, 'tasks'), join(group.monDir, 'tasks')] : [join(group.dir, 'tasks')];
}

/** The group a container's create recorded, if any. */
export function loadRdtGroup(stateDir: string): RdtGroup | undefined {
  const text = readText(join(stateDir, RECORD));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as RdtGroup;
  } catch {
    return undefined;
  }
}

/**
 * Removes what create made. `failedCreate`: a create that failed removes a closID group it
 * made too, since no other container can have joined it yet. rmdir of a resctrl group moves
 * any task still in it back to the default group, so this never waits for processes.
 */
function removeGroup(group: RdtGroup, failedCreate: boolean): void {
  const rm = (d: string) => {
    try {
      rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  };
  if (group.monDir && group.monCreated) rm(group.monDir);
  if (group.created && (group.owned || failedCreate)) rm(group.dir);
}

/** Delete, or a create that failed after setupIntelRdt: removes the recorded group. */
export function teardownIntelRdt(stateDir: string, failedCreate = false): void {
  const group = loadRdtGroup(stateDir);
  if (group) removeGroup(group, failedCreate);
}
