// Compiles a validated config.json into the launch plan that hull-init executes.
// Every decision lives here; native/hull-init.c only performs the operations in order.
import { posix } from 'node:path';
import { capabilityMask } from '../capabilities.ts';
import { MS, parseMountOptions } from '../spec/mount-options.ts';
import { RLIMITS } from '../spec/validate.ts';
import type { Device, Mount, Namespace, NamespaceType, Process, Spec } from '../spec/types.ts';
import { labelMountData, type AttrWrite } from '../security/lsm.ts';
import type { SeccompFilter } from '../seccomp/cache.ts';
import { nulJoin } from './encode.ts';
import { CLONE, Op, SyncTag, type Arg, type OpCode, type PlanOp } from './ops.ts';
import { ioprioArgs, schedArgs, schedWhat, type Scheduler } from './process-attrs.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const NS_FLAG: Record<NamespaceType, number> = {
  user: CLONE.NEWUSER,
  mount: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** The names /proc/<pid>/ns/ uses. */
export const NS_PROC_NAME: Record<NamespaceType, string> = {
  user: 'user',
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

/** Join order: the user namespace first, so that we hold capabilities over the others. */
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

const PERSONALITY: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** Devices every container gets (runtime-spec "Default Devices"). */
export const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

export interface HostFacts {
  /** Whether a path exists on the host, and if so whether it is a directory. */
  stat(path: string): 'dir' | 'file' | undefined;
  /** cgroup directories of this container, host paths, one per hierarchy (for cgroup mounts). */
  cgroupDirs: string[];
  /** cgroup mount points on the host, matched with cgroupDirs ("/sys/fs/cgroup/memory", ...). */
  cgroupMounts: { mountpoint: string; version: 1 | 2 }[];
}

export interface CreatePlanOptions {
  spec: Spec;
  /** Absolute path of the rootfs on the host. */
  rootfs: string;
  /** The exec fifo that start writes to. */
  fifo: string;
  /** cgroup.procs files to join before any namespace is made. */
  cgroupProcs: string[];
  consoleSocket?: string;
  noPivot?: boolean;
  /** Fds from 3 up that the container keeps: LISTEN_FDS plus --preserve-fds. */
  extraFds: number;
  listenFds: number;
  /** hull-init stays as the container's parent and exits with its status (foreground run). */
  wait: boolean;
  host: HostFacts;
  /** /proc attribute writes that confine the process at exec (AppArmor, SELinux): made first, from the host's /proc. */
  lsmAttrs?: AttrWrite[];
  /** resctrl tasks files to join (linux.intelRdt), after the cgroups. */
  rdtTasks?: string[];
  /** linux.seccomp, compiled. */
  seccomp?: SeccompFilter;
}

class Plan {
  ops: PlanOp[] = [];
  add(op: OpCode, what: string, ...args: Arg[]): void {
    this.ops.push({ op, args, what });
  }
}

function clean(p: string): string {
  return posix.normalize(posix.join('/', p));
}

function hasNs(spec: Spec, type: NamespaceType): Namespace | undefined {
  return spec.linux?.namespaces?.find((n) => n.type === type);
}

function idMap(maps: { containerID: number; hostID: number; size: number }[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** Maps a container uid to the host uid, for files the runtime creates (devices, mounts). */
function hostId(maps: { containerID: number; hostID: number; size: number }[] | undefined, id: number): number {
  if (!maps || maps.length === 0) return id;
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return id;
}

export function compileCreatePlan(o: CreatePlanOptions): PlanOp[] {
  const { spec } = o;
  const process = spec.process;
  if (!process) throw new Error('config.json: process: required to create a container');
  const p = new Plan();
  const userNs = hasNs(spec, 'user');
  const mountNs = hasNs(spec, 'mount');

  // --- in the runtime's namespaces, before the container process exists ---
  writeAttrs(p, o.lsmAttrs);
  if (o.consoleSocket) p.add(Op.CONSOLE_CONNECT, `connect to console socket ${o.consoleSocket}`, o.consoleSocket);
  connectSeccompListener(p, o.seccomp);
  p.add(Op.OPEN_FIFO, 'open the exec fifo', o.fifo);
  for (const f of o.cgroupProcs) p.add(Op.WRITE_FILE, `join cgroup ${posix.dirname(f)}`, f, '0', 0);
  for (const f of o.rdtTasks ?? []) p.add(Op.WRITE_FILE, `join resctrl group ${posix.dirname(f)}`, f, '0', 0);
  if (process.oomScoreAdj !== undefined) {
    p.add(Op.WRITE_FILE, `set oom_score_adj to ${process.oomScoreAdj}`, '/proc/self/oom_score_adj', String(process.oomScoreAdj), 0);
  }
  joinNamespacePaths(p, spec);

  let flags = 0;
  for (const ns of spec.linux?.namespaces ?? []) {
    if (ns.path || ns.type === 'time' || ns.type === 'cgroup') continue;
    flags |= NS_FLAG[ns.type];
  }
  const timeNs = hasNs(spec, 'time');
  if (timeNs && !timeNs.path) {
    // CLONE_NEWTIME does not fit clone()'s flags; unshare makes it apply to our next child.
    p.add(Op.UNSHARE, 'create the time namespace', CLONE.NEWTIME);
    const offsets = spec.linux?.timeOffsets ?? {};
    const lines = Object.entries(offsets)
      .map(([clock, v]) => `${clock} ${v.secs ?? 0} ${v.nanosecs ?? 0}\n`)
      .join('');
    if (lines) p.add(Op.WRITE_FILE, 'write time namespace offsets', '/proc/self/timens_offsets', lines, 0);
  }
  const newUser = userNs && !userNs.path;
  p.add(
    Op.CLONE,
    'create the container process',
    flags,
    o.wait ? 1 : 0,
    newUser ? idMap(spec.linux?.uidMappings) : '',
    newUser ? idMap(spec.linux?.gidMappings) : '',
    '',
  );

  // --- in the container process ---
  if (userNs) p.add(Op.SETID, 'become root in the user namespace', 0, 0);
  const cgroupNs = hasNs(spec, 'cgroup');
  if (cgroupNs && !cgroupNs.path) p.add(Op.UNSHARE, 'create the cgroup namespace', CLONE.NEWCGROUP);

  if (mountNs && !mountNs.path) {
    compileRootfs(p, o, !!userNs);
  } else {
    // No mount namespace of our own: runc's behaviour is a bare chroot, touching no mounts.
    if (!mountNs && (spec.mounts?.length ?? 0) > 0) {
      throw new Error('config.json: mounts: a container without a mount namespace cannot have mounts');
    }
    writeSysctls(p, spec);
    if (hasCreateHooks(spec)) p.add(Op.SYNC, 'run create hooks', SyncTag.CREATE_HOOKS);
    p.add(Op.PIVOT_ROOT, 'chroot into the rootfs', o.rootfs, 2);
  }

  if (spec.hostname !== undefined && spec.hostname !== '') {
    requireOwnNs(spec, 'uts', 'hostname');
    p.add(Op.SETHOSTNAME, 'set the hostname', spec.hostname);
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    requireOwnNs(spec, 'uts', 'domainname');
    p.add(Op.SETDOMAINNAME, 'set the domain name', spec.domainname);
  }
  if (process.terminal) {
    if (!o.consoleSocket) throw new Error('process.terminal is true but no --console-socket was given');
    p.add(Op.CONSOLE_SETUP, 'set up the console', process.consoleSize?.height ?? 0, process.consoleSize?.width ?? 0, mountNs ? 1 : 0);
  } else {
    // the console setup starts the session itself; without one the init still leads its own (runc does)
    p.add(Op.SETSID, 'start a session');
  }
  const pers = spec.linux?.personality;
  if (pers) {
    const domain = PERSONALITY[pers.domain];
    if (domain === undefined) throw new Error(`config.json: linux.personality.domain: unknown ${pers.domain}`);
    p.add(Op.PERSONALITY, `set personality ${pers.domain}`, domain);
  }
  compileProcess(p, process, o.extraFds, o.listenFds, true, o.seccomp);
  return p.ops;
}

export interface ExecPlanOptions {
  process: Process;
  /** pid of the container's init, whose namespaces the process joins. */
  pid: number;
  namespaces: NamespaceType[];
  cgroupProcs: string[];
  consoleSocket?: string;
  extraFds: number;
  listenFds: number;
  wait: boolean;
  lsmAttrs?: AttrWrite[];
  rdtTasks?: string[];
  /** The container's seccomp filter, which exec'd processes get too (as runc does). */
  seccomp?: SeccompFilter;
}

/** exec: join the running container (cgroup, then namespaces), fork into its pid namespace, exec. */
export function compileExecPlan(o: ExecPlanOptions): PlanOp[] {
  const p = new Plan();
  writeAttrs(p, o.lsmAttrs);
  if (o.consoleSocket) p.add(Op.CONSOLE_CONNECT, `connect to console socket ${o.consoleSocket}`, o.consoleSocket);
  connectSeccompListener(p, o.seccomp);
  for (const f of o.cgroupProcs) p.add(Op.WRITE_FILE, `join cgroup ${posix.dirname(f)}`, f, '0', 1);
  for (const f of o.rdtTasks ?? []) p.add(Op.WRITE_FILE, `join resctrl group ${posix.dirname(f)}`, f, '0', 0);
  if (o.process.oomScoreAdj !== undefined) {
    p.add(Op.WRITE_FILE, 'set oom_score_adj', '/proc/self/oom_score_adj', String(o.process.oomScoreAdj), 0);
  }
  joinContainerNamespaces(p, o.pid, o.namespaces);
  p.add(Op.CLONE, 'fork into the container', 0, o.wait ? 1 : 0, '', '', '');
  if (o.process.terminal) {
    if (!o.consoleSocket) throw new Error('process.terminal is true but no --console-socket was given');
    p.add(Op.CONSOLE_SETUP, 'set up the console', o.process.consoleSize?.height ?? 0, o.process.consoleSize?.width ?? 0, 0);
  }
  compileProcess(p, o.process, o.extraFds, o.listenFds, false, o.seccomp);
  return p.ops;
}

/** The listener socket is the host's: connect before any namespace or pivot_root hides it. */
function connectSeccompListener(p: Plan, s: SeccompFilter | undefined): void {
  if (!s || !(s.flags & SECCOMP_NEW_LISTENER)) return;
  if (!s.listenerPath) throw new Error('config.json: linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY');
  p.add(Op.SECCOMP_CONNECT, `connect to seccomp listener ${s.listenerPath}`, s.listenerPath);
}

const SECCOMP_NEW_LISTENER = 8;

/**
 * The exec attributes are inherited by the process hull-init clones and consumed by its
 * execve; written before any namespace is joined, they go through the host's own /proc.
 */
function writeAttrs(p: Plan, attrs: AttrWrite[] | undefined): void {
  for (const a of attrs ?? []) p.add(Op.WRITE_FILE, a.what, a.path, a.data, 0);
}

/** Open every namespace first: after joining the mount namespace, /proc/<pid> may not resolve. */
function joinContainerNamespaces(p: Plan, pid: number, types: NamespaceType[]): void {
  for (const type of JOIN_ORDER) {
    if (!types.includes(type)) continue;
    p.add(Op.NSOPEN, `open the container's ${type} namespace`, `/proc/${pid}/ns/${NS_PROC_NAME[type]}`, NS_FLAG[type]);
  }
  p.add(Op.NSJOIN, "join the container's namespaces");
}

export interface HookPlanOptions {
  pid: number;
  namespaces: NamespaceType[];
  path: string;
  args: string[];
  env: string[];
}

/** A createContainer or startContainer hook: run inside the container's namespaces. */
export function compileHookPlan(o: HookPlanOptions): PlanOp[] {
  const p = new Plan();
  joinContainerNamespaces(p, o.pid, o.namespaces);
  p.add(Op.CLONE, 'fork into the container', 0, 1, '', '', '');
  p.add(Op.CLOSE_FDS, 'close fds not meant for the hook', 3);
  const args = o.args.length > 0 ? o.args : [o.path];
  // hooks name their program exactly: no PATH search
  p.add(Op.EXEC_RESOLVE, `find hook ${o.path}`, o.path, '');
  p.add(Op.READY, 'report ready');
  p.add(Op.EXEC, `run hook ${o.path}`, nulJoin(args), nulJoin(o.env), 0);
  return p.ops;
}

function requireOwnNs(spec: Spec, type: NamespaceType, field: string): void {
  const ns = hasNs(spec, type);
  if (!ns) throw new Error(`config.json: ${field}: cannot be set without a private ${type} namespace`);
}

/** Hooks that run at the create sync point, before pivot_root. */
function hasCreateHooks(spec: Spec): boolean {
  const h = spec.hooks;
  return !!(h?.prestart?.length || h?.createRuntime?.length || h?.createContainer?.length);
}

function joinNamespacePaths(p: Plan, spec: Spec): void {
  const joined = (spec.linux?.namespaces ?? []).filter((n) => n.path);
  if (joined.length === 0) return;
  for (const type of JOIN_ORDER) {
    const ns = joined.find((n) => n.type === type);
    if (ns) p.add(Op.NSOPEN, `open ${type} namespace ${ns.path}`, ns.path!, NS_FLAG[type]);
  }
  p.add(Op.NSJOIN, 'join the configured namespaces');
}

function compileRootfs(p: Plan, o: CreatePlanOptions, inUserNs: boolean): void {
  const { spec } = o;
  const prop = spec.linux?.rootfsPropagation;
  // Keep the host's mounts from seeing ours (and ours from seeing the host's changes) unless
  // the config asks for less isolation; shared is applied after pivot_root, as runc does.
  const pre = prop === 'private' || prop === 'rprivate' ? MS.PRIVATE | MS.REC : MS.SLAVE | MS.REC;
  p.add(Op.MOUNT_PROP, 'make / a slave of the host', '/', 0, pre);
  p.add(Op.MOUNT, 'bind the rootfs onto itself', o.rootfs, o.rootfs, '', MS.BIND | MS.REC, '', 0, 0);
  p.add(Op.ROOTFS, 'open the rootfs', o.rootfs);

  const mounts = spec.mounts ?? [];
  let devBound = false;
  let devpts = false;
  for (const m of mounts) {
    const dest = clean(m.destination);
    if (dest === '/dev' && isBind(m)) devBound = true;
    if (dest === '/dev/pts' && m.type === 'devpts') devpts = true;
    compileMount(p, m, o);
  }

  if (!devBound) {
    const devices = new Map<string, Device>();
    for (const d of DEFAULT_DEVICES) devices.set(d.path, d);
    for (const d of spec.linux?.devices ?? []) devices.set(clean(d.path), d);
    for (const d of devices.values()) compileDevice(p, d, inUserNs, spec);
    p.add(Op.SYMLINK, 'link /dev/fd', '/proc/self/fd', '/dev/fd');
    p.add(Op.SYMLINK, 'link /dev/stdin', '/proc/self/fd/0', '/dev/stdin');
    p.add(Op.SYMLINK, 'link /dev/stdout', '/proc/self/fd/1', '/dev/stdout');
    p.add(Op.SYMLINK, 'link /dev/stderr', '/proc/self/fd/2', '/dev/stderr');
    if (o.host.stat('/proc/kcore')) p.add(Op.SYMLINK, 'link /dev/core', '/proc/kcore', '/dev/core');
    if (devpts) p.add(Op.SYMLINK, 'link /dev/ptmx', 'pts/ptmx', '/dev/ptmx');
  }

  // runc creates a missing cwd (after the mounts, so it lands in them; before a read-only remount).
  const cwd = spec.process?.cwd;
  if (cwd && clean(cwd) !== '/') p.add(Op.MKDIR, `create the cwd ${cwd}`, clean(cwd), 0o755);

  writeSysctls(p, spec);
  const maskData = labelMountData('size=0k,nr_inodes=1', 'tmpfs', spec.linux?.mountLabel);
  for (const path of spec.linux?.maskedPaths ?? []) {
    if (spec.linux?.mountLabel) p.add(Op.MASK, `mask ${path}`, clean(path), maskData);
    else p.add(Op.MASK, `mask ${path}`, clean(path));
  }
  for (const path of spec.linux?.readonlyPaths ?? []) p.add(Op.READONLY, `make ${path} read-only`, clean(path));
  if (hasCreateHooks(spec)) p.add(Op.SYNC, 'run create hooks', SyncTag.CREATE_HOOKS);

  p.add(Op.PIVOT_ROOT, o.noPivot ? 'move the rootfs to / (no pivot)' : 'pivot_root into the rootfs', o.rootfs, o.noPivot ? 1 : 0);
  if (prop) {
    const flags = parseMountOptions([prop]).propagation;
    for (const f of flags) p.add(Op.MOUNT_PROP, `set rootfs propagation ${prop}`, '/', 0, f);
  }
  if (spec.root?.readonly) p.add(Op.REMOUNT, 'make the rootfs read-only', '/', 0, MS.BIND | MS.RDONLY, '');
}

function writeSysctls(p: Plan, spec: Spec): void {
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    // Both spellings are valid: net.ipv4.ip_forward and net/ipv4/ip_forward.
    const parts = key.includes('/') ? key.split('/') : key.split('.');
    if (parts.some((x) => x === '' || x === '.' || x === '..')) throw new Error(`config.json: linux.sysctl: bad key ${key}`);
    const path = '/proc/sys/' + parts.join('/');
    p.add(Op.WRITE_FILE, `set sysctl ${key}`, path, value, 0);
  }
}

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((x) => x === 'bind' || x === 'rbind');
}

function compileMount(p: Plan, m: Mount, o: CreatePlanOptions): void {
  const dest = clean(m.destination);
  const opts = parseMountOptions(m.options ?? []);
  if (opts.tmpcopyup || opts.idmap || m.uidMappings?.length || m.gidMappings?.length) {
    const what = opts.tmpcopyup ? 'the tmpcopyup option is' : 'id-mapped mounts are';
    throw new Error(`config.json: mounts: ${dest}: ${what} not supported by hull-runtime yet`);
  }
  const data = opts.data.join(',');
  if (m.type === 'cgroup') {
    compileCgroupMount(p, dest, opts.flags, o);
    return;
  }
  if (isBind(m)) {
    const source = m.source ?? '';
    if (!source) throw new Error(`config.json: mounts: ${dest}: a bind mount needs a source`);
    const kind = o.host.stat(source);
    if (!kind) throw new Error(`config.json: mounts: ${dest}: bind source ${source} does not exist`);
    const rec = opts.recursive || m.options?.includes('rbind') ? MS.REC : 0;
    p.add(Op.MOUNT, `bind ${source} to ${dest}`, source, dest, '', MS.BIND | rec, '', 1, kind === 'dir' ? 1 : 2);
    // A bind ignores every flag but MS_REC: the rest needs a remount of the new mount.
    const extra = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (extra) p.add(Op.REMOUNT, `apply options to ${dest}`, dest, 1, MS.BIND | extra, '');
  } else {
    const flags = opts.flags & ~MS.REMOUNT;
    const type = m.type ?? '';
    const labelled = labelMountData(data, type, o.spec.linux?.mountLabel);
    p.add(Op.MOUNT, `mount ${type || 'filesystem'} on ${dest}`, m.source ?? type, dest, type, flags, labelled, 1, 1);
  }
  // rro, rnosuid, ...: mount(2) flags reach one mount only; these reach every submount too.
  if (opts.attrSet || opts.attrClear) {
    p.add(Op.MOUNT_SETATTR, `apply recursive options to ${dest}`, dest, 1, opts.attrSet, opts.attrClear);
  }
  for (const f of opts.propagation) p.add(Op.MOUNT_PROP, `set propagation of ${dest}`, dest, 1, f);
}

/**
 * cgroup mounts: cgroup2 is mounted as it is; on a v1 host the container sees a tmpfs with a
 * bind of its own cgroup directory for each hierarchy, as runc lays it out.
 */
function compileCgroupMount(p: Plan, dest: string, flags: number, o: CreatePlanOptions): void {
  const ro = flags & MS.RDONLY;
  const base = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  const v2 = o.host.cgroupMounts.length > 0 && o.host.cgroupMounts.every((m) => m.version === 2);
  const cgroupNs = hasNs(o.spec, 'cgroup');
  if (v2) {
    if (cgroupNs) {
      p.add(Op.MOUNT, `mount cgroup2 on ${dest}`, 'cgroup2', dest, 'cgroup2', base | ro, '', 1, 1);
    } else {
      p.add(Op.MOUNT, `bind the container cgroup on ${dest}`, o.host.cgroupDirs[0] ?? '/sys/fs/cgroup', dest, '', MS.BIND | MS.REC, '', 1, 1);
      if (ro) p.add(Op.REMOUNT, `make ${dest} read-only`, dest, 1, MS.BIND | base | ro, '');
    }
    return;
  }
  const tmpfsData = labelMountData('mode=755', 'tmpfs', o.spec.linux?.mountLabel);
  p.add(Op.MOUNT, `mount tmpfs for cgroups on ${dest}`, 'tmpfs', dest, 'tmpfs', base, tmpfsData, 1, 1);
  o.host.cgroupMounts.forEach((m, i) => {
    const dir = o.host.cgroupDirs[i];
    if (!dir) return;
    const sub = posix.join(dest, posix.basename(m.mountpoint));
    p.add(Op.MOUNT, `bind cgroup ${dir} to ${sub}`, dir, sub, '', MS.BIND | MS.REC, '', 1, 1);
    p.add(Op.REMOUNT, `apply options to ${sub}`, sub, 1, MS.BIND | base | ro, '');
  });
  // Comounted controllers are reached through the names users expect (cpu,cpuacct).
  if (ro) p.add(Op.REMOUNT, `make ${dest} read-only`, dest, 1, base | ro, 'mode=755');
}

function compileDevice(p: Plan, d: Device, inUserNs: boolean, spec: Spec): void {
  const path = clean(d.path);
  if (inUserNs) {
    // mknod is not allowed in a user namespace: bind the host's node instead.
    p.add(Op.MOUNT, `bind device ${path}`, path, path, '', MS.BIND, '', 1, 2);
    return;
  }
  const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
  const mode = kind | ((d.fileMode ?? 0o666) & 0o7777);
  const uid = hostId(spec.linux?.uidMappings, d.uid ?? 0);
  const gid = hostId(spec.linux?.gidMappings, d.gid ?? 0);
  p.add(Op.MKNOD, `create device ${path}`, path, mode, d.major ?? 0, d.minor ?? 0, uid, gid);
}

const RLIM_INFINITY = (1n << 64n) - 1n;

/** JSON numbers past 2^53 arrive rounded; anything at or past 2^64 - 1 means unlimited. */
function rlimitValue(n: number): bigint {
  return n >= 2 ** 64 - 1 ? RLIM_INFINITY : BigInt(Math.trunc(n));
}

/** What every container process does last: limits, identity, capabilities, fds, exec. */
/**
 * Loads the filter, after handing the runtime a sync point at which it answers with the
 * listener's state JSON (it knows the pid, hull-init sends the fd).
 */
function loadSeccomp(p: Plan, s: SeccompFilter): void {
  if (s.flags & SECCOMP_NEW_LISTENER) p.add(Op.SYNC, 'get the seccomp listener state', SyncTag.SECCOMP_LISTENER);
  p.add(Op.SECCOMP, 'load the seccomp filter', s.program, s.flags);
}

function compileProcess(p: Plan, process: Process, extraFds: number, listenFds: number, waitStart: boolean, seccomp?: SeccompFilter): void {
  // runc's placement: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it comes
  // before the identity and capabilities change; with it, as late as possible, so that the
  // profile sees few of the runtime's own syscalls. A listener must be handed over while
  // the runtime still listens, before READY.
  const nnp = !!process.noNewPrivileges;
  const listener = !!seccomp && (seccomp.flags & SECCOMP_NEW_LISTENER) !== 0;
  for (const r of process.rlimits ?? []) {
    const res = RLIMITS.indexOf(r.type as (typeof RLIMITS)[number]);
    if (res < 0) throw new Error(`config.json: process.rlimits: unknown type ${r.type}`);
    p.add(Op.RLIMIT, `set ${r.type}`, res, rlimitValue(r.soft), rlimitValue(r.hard));
  }
  // While the process still has every capability: a realtime policy, a lower nice and the
  // realtime I/O class need CAP_SYS_NICE or CAP_SYS_ADMIN. (runc's order: scheduler, then I/O.)
  const sched = process.scheduler as Scheduler | undefined;
  if (sched) p.add(Op.SCHED, schedWhat(sched), ...schedArgs(sched));
  if (process.ioPriority) {
    const [cls, level] = ioprioArgs(process.ioPriority);
    p.add(Op.IOPRIO, `set I/O priority ${process.ioPriority.class} level ${level}`, cls, level);
  }
  p.add(Op.CHDIR, `change to cwd ${process.cwd}`, process.cwd);
  const env = [...(process.env ?? [])];
  const pathVar = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  const args = process.args ?? [];
  if (args.length === 0 || !args[0]) throw new Error('config.json: process.args: must name a program');
  const caps = process.capabilities ?? {};
  p.add(Op.CAPS_BOUNDING, 'drop bounding capabilities', capabilityMask(caps.bounding));
  if (seccomp && !nnp) loadSeccomp(p, seccomp);
  const user = process.user;
  if (user.uid !== 0) p.add(Op.KEEPCAPS, 'keep capabilities across setuid', 1);
  const groups = Buffer.alloc(4 * (user.additionalGids?.length ?? 0));
  (user.additionalGids ?? []).forEach((g, i) => groups.writeUInt32LE(g, i * 4));
  p.add(Op.USER, `become uid ${user.uid} gid ${user.gid}`, user.uid, user.gid, groups, 1);
  if (user.uid !== 0) p.add(Op.KEEPCAPS, 'stop keeping capabilities', 0);
  p.add(Op.CAPS_SET, 'set capabilities', capabilityMask(caps.effective), capabilityMask(caps.permitted), capabilityMask(caps.inheritable));
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc
  // skips the others rather than failing, and so do we.
  const ambient = capabilityMask(caps.ambient) & capabilityMask(caps.permitted) & capabilityMask(caps.inheritable);
  p.add(Op.CAPS_AMBIENT, 'set ambient capabilities', ambient);
  // Found as the user the program will run as, as runc does, so that a program this user may
  // not execute fails create rather than dying silently at start.
  p.add(Op.EXEC_RESOLVE, `find ${args[0]}`, args[0]!, pathVar);
  if (process.noNewPrivileges) p.add(Op.NO_NEW_PRIVS, 'set no_new_privs');
  p.add(Op.UMASK, 'set umask', user.umask ?? 0o022);
  p.add(Op.CLOSE_FDS, 'close fds not meant for the container', 3 + extraFds);
  if (seccomp && nnp && listener) loadSeccomp(p, seccomp);
  // Everything that can fail has been done: the runtime may report success now.
  p.add(Op.READY, 'report ready');
  if (waitStart) p.add(Op.WAIT_START, 'wait for start');
  if (listenFds > 0) env.push(`LISTEN_FDS=${listenFds}`);
  if (seccomp && nnp && !listener) loadSeccomp(p, seccomp);
  p.add(Op.EXEC, `exec ${args[0]}`, nulJoin(args), nulJoin(env), listenFds > 0 ? 1 : 0);
}
