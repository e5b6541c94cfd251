// The OCI config.json of an engine container: what dockerd would write for the same `docker run`
// (moby's daemon/oci_linux.go and the functions it calls), built from the container's model.
//
// The engine gives the resolved pieces (rootfs, mounts, namespace paths of other containers);
// this module decides everything else from the Docker API fields, and checks the user's input
// on the way with docker's messages. The result always passes hull's config.json validator.
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { posix } from 'node:path';
import { getSystemErrorMessage } from 'node:util';
import { CAPABILITIES } from '../../runtime/capabilities.ts';
import { layout } from '../../runtime/cgroups/manager.ts';
import { mobyToOci, type MobyProfile } from '../../runtime/seccomp/moby-profile.ts';
import { apparmorEnabled } from '../../runtime/security/lsm.ts';
import { OCI_VERSION } from '../../runtime/spec/default.ts';
import type { Device, DeviceRule, Linux, Mount, Namespace, Process, Rlimit, Seccomp, Spec } from '../../runtime/spec/types.ts';
import { RLIMITS, SpecError, sysctlNamespace, validateSpec } from '../../runtime/spec/validate.ts';
import {
  DEFAULT_CAPABILITIES, DEFAULT_PATH, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE, INIT_PATH, WRITABLE_WITH_READONLY_ROOTFS,
  defaultDeviceRules, defaultMaskedPaths, defaultMounts, defaultNetworkSysctls, mknodRules,
} from './defaults.ts';
import type { ContainerConfig, DeviceMapping, HostConfig } from './model.ts';
import { defaultSeccomp, hostGoArch } from './seccomp-default.ts';
import { resolveUser } from './user.ts';

export interface ResolvedMount {
  destination: string;
  type: 'bind' | 'tmpfs' | 'volume';
  source: string;
  /**
   * bind/volume: "rbind" (default) or "bind", "ro"/"rw", one propagation mode; "z", "Z" (no
   * SELinux here) and "nocopy" (the engine's copy-up) are accepted and dropped.
   * tmpfs: mount flags and tmpfs data ("size=64m", "mode=1777", "exec"...), merged over docker's
   * defaults (noexec, nosuid, nodev), the later option winning.
   */
  options: string[];
}

/** What the spec depends on in the host, found once; tests replace parts of it. */
export interface SpecHost {
  /** AppArmor enforces profiles here: docker then confines containers with docker-default. */
  apparmor: boolean;
  /** A pure cgroup v2 host: docker gives each container its own cgroup namespace there, none on v1. */
  cgroupV2: boolean;
  /** The kernel can make time namespaces (5.6+): current docker gives each container one. */
  timeNamespace: boolean;
  /** The running kernel's release: the seccomp profile and "rro" depend on it. */
  kernel: string;
  /** Go's name of the architecture, for the seccomp profile. */
  arch: string;
  /** What --privileged and --cap-add ALL mean: the capabilities this process holds (effective set). */
  capabilities: string[];
  /** CPUs this process may run on, for docker's --cpus range check. */
  cpuCount: number;
  /** CPUs that exist and are online, for --cpuset-cpus. */
  onlineCpus: string;
  /** Whether a host path exists (sysctls, the thermal entries to mask). */
  exists(path: string): boolean;
  /** The host's /proc/self/mountinfo, for the propagation of shared and slave binds. */
  mountinfo(): string;
}

export interface SpecInput {
  id: string;
  /** Already merged with the image config. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Absolute path of the mounted overlay. */
  rootfs: string;
  /** -v/--mount/--tmpfs, resolved by the engine (a volume's source is its host directory). */
  mounts: ResolvedMount[];
  /** Host files bound onto /etc/hosts, /etc/hostname and /etc/resolv.conf. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** For container:<id> modes: /proc/<pid>/ns/<x> of the other container. */
  namespacePaths: Partial<Record<'network' | 'ipc' | 'pid' | 'uts', string>>;
  /** Host path of hull-tini, for --init: bound read-only at /sbin/docker-init. */
  tiniPath?: string;
  /** e.g. "/hull/<id>". */
  cgroupsPath: string;
  /** Go's name of the architecture ("amd64", "arm64"); the host's by default. */
  arch?: string;
  /** Facts about the host, for tests; detected by default. */
  host?: Partial<SpecHost>;
}

/** The user's configuration cannot run: docker's InvalidParameter (API status 400, CLI exit 125). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------
// The host.

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The capability names set in a /proc/<pid>/status mask ("000001ffffffffff"). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim() || '0'}`);
  return CAPABILITIES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
}

let detected: SpecHost | undefined;

export function detectSpecHost(): SpecHost {
  if (detected) return detected;
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status'))?.[1];
  detected = {
    apparmor: apparmorEnabled(),
    // the runtime's own view, parsed once a process: create reads it again for its cgroups
    cgroupV2: layout().mode === 'v2',
    timeNamespace: existsSync('/proc/self/ns/time'),
    kernel: release(),
    arch: hostGoArch(),
    // If the mask cannot be read, every known capability, as docker assumes then.
    capabilities: capEff ? capabilitiesFromMask(capEff) : [...CAPABILITIES],
    cpuCount: availableParallelism(),
    onlineCpus: readText('/sys/devices/system/cpu/online').trim(),
    exists: existsSync,
    mountinfo: () => readText('/proc/self/mountinfo'),
  };
  return detected;
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

// ---------------------------------------------------------------------------------------------
// --security-opt

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "apparmor=<profile>". */
  apparmor?: string;
  /** "seccomp=unconfined|builtin|<profile JSON or file>". */
  seccomp?: string;
  /** "writable-cgroups[=bool]". */
  writableCgroups?: boolean;
  /** "systempaths=unconfined": no masked or read-only /proc and /sys paths. */
  unconfinedPaths: boolean;
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Docker's parsing of --security-opt, with its messages. */
export function parseSecurityOpts(opts: readonly string[] | null): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, unconfinedPaths: false };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'writable-cgroups') {
      out.writableCgroups = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable in its short form: SELinux is not used here
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw new ConfigError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
        break; // SELinux labels: hull runs without SELinux, as docker does when it is disabled
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'seccomp':
        out.seccomp = value;
        break;
      case 'no-new-privileges':
      case 'writable-cgroups': {
        const b = parseBool(value);
        if (b === undefined) throw new ConfigError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        if (key === 'no-new-privileges') out.noNewPrivileges = b;
        else out.writableCgroups = b;
        break;
      }
      case 'systempaths':
        if (value !== 'unconfined') throw new ConfigError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.unconfinedPaths = true;
        break;
      default:
        throw new ConfigError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/** --cap-add/--cap-drop names: any case, with or without CAP_, or ALL. */
export function normalizeCapabilities(names: readonly string[] | null, available: readonly string[]): string[] {
  const known = new Set<string>(CAPABILITIES);
  const here = new Set(available);
  const out: string[] = [];
  for (const raw of names ?? []) {
    let c = raw.toUpperCase();
    if (c === 'ALL') {
      out.push(c);
      continue;
    }
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!known.has(c)) throw new ConfigError(`unknown capability: ${JSON.stringify(c)}`);
    if (!here.has(c)) throw new ConfigError(`capability not supported by your kernel or not available in the current environment: ${JSON.stringify(c)}`);
    out.push(c);
  }
  return out;
}

/** The container's capabilities: docker's defaults, then --cap-drop, then --cap-add; all of them when privileged. */
export function containerCapabilities(hc: Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged'>, available: readonly string[]): string[] {
  if (hc.Privileged) return [...available];
  if (!hc.CapAdd?.length && !hc.CapDrop?.length) return [...DEFAULT_CAPABILITIES];
  const drop = normalizeCapabilities(hc.CapDrop, available);
  const add = normalizeCapabilities(hc.CapAdd, available);
  let caps: string[];
  if (add.includes('ALL')) caps = available.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

// ---------------------------------------------------------------------------------------------
// Resources

function parseCpuSet(list: string): Set<number> | undefined {
  const out = new Set<number>();
  if (list.trim() === '') return out;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1 << 16) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * docker's checks of the resource and process fields (verifyPlatformContainerSettings), with its
 * messages. The engine runs them at create, so that a bad value leaves nothing behind; buildSpec
 * runs them again for a container made some other way.
 */
export function checkHostConfig(hc: HostConfig, host: Pick<SpecHost, 'cpuCount' | 'onlineCpus'> = detectSpecHost()): void {
  if (hc.Memory < 0) throw new ConfigError(`invalid memory limit: ${hc.Memory}`);
  if (hc.Memory > 0 && hc.Memory < MIN_MEMORY) throw new ConfigError('Minimum memory limit allowed is 6MB');
  if (hc.MemorySwap > 0 && hc.Memory === 0) throw new ConfigError('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) throw new ConfigError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (hc.MemoryReservation > 0 && hc.MemoryReservation < MIN_MEMORY) throw new ConfigError('Minimum memory reservation allowed is 6MB');
  if (hc.Memory > 0 && hc.MemoryReservation > 0 && hc.Memory < hc.MemoryReservation) {
    throw new ConfigError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (hc.NanoCpus > 0 && (hc.CpuPeriod ?? 0) > 0) throw new ConfigError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (hc.NanoCpus > 0 && (hc.CpuQuota ?? 0) > 0) throw new ConfigError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (hc.NanoCpus < 0 || hc.NanoCpus > host.cpuCount * 1e9) {
    throw new ConfigError(`Range of CPUs is from 0.01 to ${host.cpuCount}.00, as there are only ${host.cpuCount} CPUs available`);
  }
  if (hc.CpuShares < 0) throw new ConfigError(`invalid CPU shares (${hc.CpuShares}): value must be a positive integer`);
  if (hc.CpusetCpus) {
    const want = parseCpuSet(hc.CpusetCpus);
    if (!want) throw new ConfigError(`Invalid value ${hc.CpusetCpus} for cpuset cpus`);
    const have = parseCpuSet(host.onlineCpus);
    if (have && have.size > 0 && [...want].some((c) => !have.has(c))) {
      throw new ConfigError(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: ${host.onlineCpus}`);
    }
  }
  if (hc.CpusetMems && !parseCpuSet(hc.CpusetMems)) throw new ConfigError(`Invalid value ${hc.CpusetMems} for cpuset mems`);
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) {
    throw new ConfigError(`Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  if (hc.ShmSize < 0) throw new ConfigError('SHM size can not be less than 0');
}

function resources(hc: HostConfig): Linux['resources'] {
  const r: NonNullable<Linux['resources']> = {};
  const memory: Record<string, number | boolean> = {};
  if (hc.Memory > 0) memory.limit = hc.Memory;
  if (hc.MemoryReservation > 0) memory.reservation = hc.MemoryReservation;
  // -1 is "unlimited swap": nothing to write. Unset with a limit: docker's twice the limit.
  const swap = hc.MemorySwap === 0 && hc.Memory > 0 ? hc.Memory * 2 : hc.MemorySwap;
  if (swap > 0) memory.swap = swap;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) r.memory = memory;

  const cpu: Record<string, number | string> = {};
  if (hc.CpuShares > 0) cpu.shares = hc.CpuShares;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (hc.NanoCpus > 0) {
    // CFS bandwidth over 100 ms periods, as docker computes it (integer nanoseconds).
    const period = 100_000;
    cpu.period = period;
    cpu.quota = Number((BigInt(hc.NanoCpus) * BigInt(period)) / 1_000_000_000n);
  }
  if ((hc.CpuPeriod ?? 0) > 0) cpu.period = hc.CpuPeriod!;
  if ((hc.CpuQuota ?? 0) !== 0) cpu.quota = hc.CpuQuota!;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  // 0 and negative mean "no limit", which runc spells -1.
  if (hc.PidsLimit !== null && hc.PidsLimit !== undefined) r.pids = { limit: hc.PidsLimit > 0 ? hc.PidsLimit : -1 };
  return r;
}

/** RLIM_INFINITY as JSON carries it (2^64 - 1 rounds to 2^64; the runtime reads both as infinity). */
const RLIM_INFINITY = 2 ** 64 - 1;

function rlimits(hc: HostConfig): Rlimit[] {
  const out: Rlimit[] = [];
  for (const u of hc.Ulimits ?? []) {
    const type = `RLIMIT_${u.Name.toUpperCase()}`;
    if (!(RLIMITS as readonly string[]).includes(type)) throw new ConfigError(`invalid ulimit type: ${u.Name}`);
    const value = (n: number) => (n < 0 ? RLIM_INFINITY : n);
    if (!Number.isInteger(u.Soft) || !Number.isInteger(u.Hard)) throw new ConfigError(`invalid ulimit argument: ${u.Name}=${u.Soft}:${u.Hard}`);
    if (u.Soft >= 0 && u.Hard >= 0 && u.Soft > u.Hard) {
      throw new ConfigError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    }
    out.push({ type, soft: value(u.Soft), hard: value(u.Hard) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Devices

const DEVICE_DIRS_SKIPPED = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

class NotADevice extends Error {}

/** A device node's description, as docker reads it (lstat: a link is not a device). */
function deviceFromPath(path: string): Device {
  const st = lstatSync(path);
  let type: Device['type'];
  if (st.isBlockDevice()) type = 'b';
  else if (st.isCharacterDevice()) type = 'c';
  else if (st.isFIFO()) type = 'p';
  else throw new NotADevice(`${path} is not a device node`);
  const rdev = BigInt(st.rdev);
  // The kernel's encoding of dev_t (new_decode_dev, 64-bit).
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { type, path, major, minor, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

function errnoText(e: unknown): string {
  const errno = (e as NodeJS.ErrnoException).errno;
  if (typeof errno === 'number') {
    try {
      return getSystemErrorMessage(errno);
    } catch {
      // fall through
    }
  }
  return (e as Error).message;
}

function deviceRule(d: Device, access: string): DeviceRule {
  return { allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major!, minor: d.minor!, access };
}

/** One --device: a node, or a directory of nodes; with docker's error for anything else. */
export function devicesFromPath(onHost: string, inContainer: string, permissions: string): { devices: Device[]; rules: DeviceRule[] } {
  let resolved = onHost;
  try {
    if (lstatSync(onHost).isSymbolicLink()) resolved = realpathSync(onHost);
  } catch {
    // reported below, by the lstat of the device itself
  }
  const devices: Device[] = [];
  const rules: DeviceRule[] = [];
  let failure: unknown;
  try {
    const d = deviceFromPath(resolved);
    devices.push({ ...d, path: inContainer });
  } catch (e) {
    failure = e;
    if (e instanceof NotADevice) {
      let isDir = false;
      try {
        isDir = lstatSync(resolved).isDirectory();
      } catch {
        isDir = false;
      }
      if (isDir) {
        for (const d of walkDevices(resolved, false)) devices.push({ ...d, path: posix.join(inContainer, posix.relative(resolved, d.path)) });
      }
    }
  }
  if (devices.length === 0) {
    const why = failure instanceof NotADevice ? 'not a device node' : errnoText(failure);
    throw new ConfigError(`error gathering device information while adding custom device ${JSON.stringify(onHost)}: ${why}`);
  }
  // The devices cgroup knows block and character devices only; a FIFO needs no rule.
  for (const d of devices) if (d.type !== 'p') rules.push(deviceRule(d, permissions));
  return { devices, rules };
}

/** Every device node under dir, as docker lists /dev for --privileged. */
function walkDevices(dir: string, privileged: boolean): Device[] {
  const out: Device[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = posix.join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (privileged && DEVICE_DIRS_SKIPPED.has(name)) continue;
      out.push(...walkDevices(path, privileged));
      continue;
    }
    // The console is the container's own terminal; /dev/ptmx becomes a link to the container's
    // devpts (runc replaces the node with it), so the host's ptmx node is not copied either.
    if (privileged && (name === 'console' || path === '/dev/ptmx')) continue;
    try {
      const d = deviceFromPath(path);
      if (privileged && d.type === 'p') continue;
      out.push(d);
    } catch {
      // not a device, or gone: skipped
    }
  }
  return out;
}

function devicesAndRules(hc: HostConfig): { devices: Device[]; rules: DeviceRule[] } {
  if (hc.Privileged) {
    const devices = walkDevices('/dev', true);
    for (const m of hc.Devices ?? []) {
      // Already there under its own name; only a renamed one needs adding.
      const inContainer = m.PathInContainer || m.PathOnHost;
      if (inContainer === m.PathOnHost) continue;
      devices.push(...devicesFromPath(m.PathOnHost, inContainer, 'rwm').devices);
    }
    return { devices, rules: [{ allow: true, access: 'rwm' }] };
  }
  const devices: Device[] = [];
  const rules = defaultDeviceRules();
  for (const m of hc.Devices ?? []) {
    const perms = checkPermissions(m);
    const got = devicesFromPath(m.PathOnHost, m.PathInContainer || m.PathOnHost, perms);
    devices.push(...got.devices);
    rules.push(...got.rules);
  }
  rules.push(...mknodRules());
  return { devices, rules };
}

function checkPermissions(m: DeviceMapping): string {
  const perms = m.CgroupPermissions || 'rwm';
  if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) {
    throw new ConfigError(`invalid device mode: ${perms}`);
  }
  return perms;
}

// ---------------------------------------------------------------------------------------------
// Mounts

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const BIND_OPTIONS_DROPPED = new Set(['z', 'Z', 'nocopy', 'consistent', 'cached', 'delegated']);

const TMPFS_FLAG_GROUPS: Readonly<Record<string, string>> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'nosuid', nosuid: 'nosuid', dev: 'nodev', nodev: 'nodev', exec: 'noexec', noexec: 'noexec',
  sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount', mand: 'mand', nomand: 'mand',
  atime: 'noatime', noatime: 'noatime', diratime: 'nodiratime', nodiratime: 'nodiratime',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  // Only one propagation (or bind) mode is kept.
  bind: 'propagation', rbind: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * Docker's merge of tmpfs options: for each flag (ro/rw, exec/noexec...) and each data key
 * (size=...), the last one given wins; order is otherwise kept.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const flags = new Set<string>();
  const data = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === 'defaults' || o === '') continue;
    const group = Object.hasOwn(TMPFS_FLAG_GROUPS, o) ? TMPFS_FLAG_GROUPS[o] : undefined;
    if (group) {
      if (!flags.has(group)) {
        flags.add(group);
        out.unshift(o);
      }
      continue;
    }
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(key)) throw new ConfigError(`invalid tmpfs option ${JSON.stringify(key)}`);
    if (!data.has(key)) {
      data.add(key);
      out.unshift(o);
    }
  }
  return out;
}

/** The mount a path lives on, and its optional fields ("shared:1 master:2"), from mountinfo. */
function sourceMount(path: string, mountinfo: string): { mountpoint: string; optional: string } | undefined {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // a missing source fails at mount time with its own message
  }
  let best: { mountpoint: string; optional: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const mountpoint = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const within = mountpoint === '/' || real === mountpoint || real.startsWith(`${mountpoint}/`);
    if (!within) continue;
    // The longest wins; of equal ones, the later (mounted on top).
    if (!best || mountpoint.length >= best.mountpoint.length) best = { mountpoint, optional: fields.slice(6).join(' ') };
  }
  return best;
}

function bindMount(m: ResolvedMount, host: SpecHost, linux: Linux): Mount {
  let recursive = true;
  let readonly = false;
  // A bind's default is rprivate; a volume has none (its own mount keeps the host's), as in docker.
  let propagation = m.type === 'bind' ? 'rprivate' : '';
  for (const o of m.options) {
    if (o === 'rbind') recursive = true;
    else if (o === 'bind') recursive = false;
    else if (o === 'ro' || o === 'rro') readonly = true;
    else if (o === 'rw') readonly = false;
    else if (PROPAGATIONS.has(o)) propagation = o;
    else if (!BIND_OPTIONS_DROPPED.has(o)) throw new ConfigError(`invalid mount option ${JSON.stringify(o)} for ${m.destination}`);
  }
  if (propagation === 'shared' || propagation === 'rshared') {
    const src = sourceMount(m.source, host.mountinfo());
    if (src && !/(^| )shared:/.test(src.optional)) {
      throw new ConfigError(`path ${m.source} is mounted on ${src.mountpoint} but it is not a shared mount`);
    }
    if (linux.rootfsPropagation !== 'shared' && linux.rootfsPropagation !== 'rshared') linux.rootfsPropagation = 'shared';
  } else if (propagation === 'slave' || propagation === 'rslave') {
    const src = sourceMount(m.source, host.mountinfo());
    if (src && !/(^| )(shared|master):/.test(src.optional)) {
      throw new ConfigError(`path ${m.source} is mounted on ${src.mountpoint} but it is not a shared or slave mount`);
    }
    // docker writes "rslave", which the runtime-spec schema does not list; "slave" means the same
    // here, as the runtime makes the whole tree a slave before pivot_root.
    if (!['shared', 'rshared', 'slave', 'rslave'].includes(linux.rootfsPropagation ?? '')) linux.rootfsPropagation = 'slave';
  }
  const options = [recursive ? 'rbind' : 'bind'];
  // Read-only all the way down (mount_setattr, 5.12+), as docker does where it can: a plain
  // "ro" would leave the submounts of a recursive bind writable.
  if (readonly) options.push(kernelAtLeast(host.kernel, 5, 12) ? 'rro' : 'ro');
  if (propagation) options.push(propagation);
  return { destination: m.destination, type: 'bind', source: m.source, options };
}

function tmpfsMount(m: ResolvedMount): Mount {
  return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...m.options]) };
}

const depth = (dest: string): number => (posix.normalize(dest).match(/\//g) ?? []).length;

/** /proc/<pid>/ns/ipc -> /proc/<pid>/root/dev/shm: the other container's /dev/shm, through the kernel's own link. */
function shmOf(ipcNsPath: string | undefined): string | undefined {
  const m = /^\/proc\/(\d+)\/ns\/ipc$/.exec(ipcNsPath ?? '');
  return m ? `/proc/${m[1]}/root/dev/shm` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Namespaces

function containerRef(mode: string): string | undefined {
  return mode.startsWith('container:') && mode.length > 'container:'.length ? mode.slice('container:'.length) : undefined;
}

function joinPath(input: SpecInput, kind: 'network' | 'ipc' | 'pid' | 'uts', mode: string): string {
  const path = input.namespacePaths[kind];
  if (!path) throw new Error(`cannot join the ${kind} namespace of container ${containerRef(mode)}: the engine gave no namespace path`);
  return path;
}

function namespaces(input: SpecInput, host: SpecHost): Namespace[] {
  const hc = input.hostConfig;
  if (hc.UsernsMode !== '' && hc.UsernsMode !== 'host') {
    throw new ConfigError(`invalid --userns mode ${JSON.stringify(hc.UsernsMode)}: hull supports only "host" (user namespace remapping is not available)`);
  }
  const ipc = hc.IpcMode ?? '';
  if (!['', 'host', 'private', 'shareable', 'none'].includes(ipc) && !containerRef(ipc)) throw new ConfigError(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !containerRef(pid)) throw new ConfigError(`invalid PID mode: ${pid}`);
  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw new ConfigError(`invalid UTS mode: ${uts}`);
  const net = hc.NetworkMode ?? '';
  if (net.startsWith('container:') && !containerRef(net)) throw new ConfigError(`invalid network mode: ${net}`);

  const out: Namespace[] = [{ type: 'mount' }];
  if (containerRef(net)) out.push({ type: 'network', path: joinPath(input, 'network', net) });
  // a bridge network's container joins the namespace the engine made and wired beforehand
  else if (input.namespacePaths.network) out.push({ type: 'network', path: input.namespacePaths.network });
  else if (net !== 'host') out.push({ type: 'network' });
  if (host.timeNamespace) out.push({ type: 'time' });
  if (uts !== 'host') out.push({ type: 'uts' });
  if (containerRef(pid)) out.push({ type: 'pid', path: joinPath(input, 'pid', pid) });
  else if (pid !== 'host') out.push({ type: 'pid' });
  if (containerRef(ipc)) out.push({ type: 'ipc', path: joinPath(input, 'ipc', ipc) });
  else if (ipc !== 'host') out.push({ type: 'ipc' });
  // docker's default cgroupns mode: private on a cgroup v2 host, the host's on v1.
  if (host.cgroupV2) out.push({ type: 'cgroup' });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sysctls

function sysctls(hc: HostConfig, host: SpecHost): Record<string, string> {
  const net = hc.NetworkMode ?? '';
  const privateNet = net !== 'host' && !containerRef(net);
  const out: Record<string, string> = privateNet ? defaultNetworkSysctls(host.exists) : {};
  for (const [key, value] of Object.entries(hc.Sysctls ?? {})) {
    // runc's rules, checked here so that the message comes before anything is made.
    switch (sysctlNamespace(key)) {
      case 'ipc':
        if ((hc.IpcMode ?? '') === 'host') throw new ConfigError(`sysctl ${JSON.stringify(key)} is not allowed in the hosts ipc namespace`);
        break;
      case 'network':
        if (net === 'host') throw new ConfigError(`sysctl ${JSON.stringify(key)} not allowed in host network namespace`);
        break;
      case 'uts':
        if ((hc.UTSMode ?? '') === 'host') throw new ConfigError(`sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
        if (key.replace(/\//g, '.') === 'kernel.hostname') {
          throw new ConfigError(`sysctl ${JSON.stringify(key)} is not allowed as it conflicts with the OCI "hostname" field`);
        }
        break;
      default:
        // user.* needs a user namespace, which docker containers do not get.
        throw new ConfigError(`sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
    }
    out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seccomp

/**
 * A profile given with --security-opt seccomp=: its JSON text (what the docker CLI sends to the
 * daemon) or a file (what the user types; the docker CLI reads it, with these messages).
 */
export function loadSeccompProfile(value: string, ctx: { capabilities: string[]; arch: string; kernel: string }): Seccomp | undefined {
  const inline = value.trimStart().startsWith('{');
  let text = value;
  if (!inline) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (e) {
      throw new ConfigError(`opening seccomp profile (${value}) failed: open ${value}: ${errnoText(e)}`);
    }
  }
  const where = inline ? 'seccomp profile' : `seccomp profile ${value}`;
  let profile: unknown;
  try {
    profile = JSON.parse(text);
  } catch (e) {
    const why = (e as Error).message;
    throw new ConfigError(inline ? `Decoding seccomp profile failed: ${why}` : `compacting json for seccomp profile (${value}) failed: ${why}`);
  }
  const p = checkMobyProfile(profile, where);
  // No default action and no rules: docker runs the container without a filter.
  if (!p.defaultAction && !(p.syscalls?.length)) return undefined;
  try {
    return mobyToOci(p, { capabilities: ctx.capabilities, goArch: ctx.arch, kernel: ctx.kernel });
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message.replace(/^seccomp profile: /, '')}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** The shape the converter relies on; the values are judged by the spec validator afterwards. */
function checkMobyProfile(v: unknown, where: string): MobyProfile {
  const bad = (field: string, problem: string): never => {
    throw new ConfigError(`${where}: ${field}: ${problem}`);
  };
  if (!isObject(v)) bad('(document)', 'must be a JSON object');
  const p = v as Record<string, unknown>;
  if (p.defaultAction !== undefined && typeof p.defaultAction !== 'string') bad('defaultAction', 'must be a string');
  for (const key of ['architectures', 'flags'] as const) {
    if (p[key] !== undefined && p[key] !== null && !stringArray(p[key])) bad(key, 'must be an array of strings');
  }
  if (p.archMap !== undefined && p.archMap !== null) {
    if (!Array.isArray(p.archMap)) bad('archMap', 'must be an array');
    (p.archMap as unknown[]).forEach((m, i) => {
      if (!isObject(m) || typeof m.architecture !== 'string') bad(`archMap[${i}]`, 'must be an object with an "architecture" string');
      const subs = (m as Record<string, unknown>).subArchitectures;
      if (subs !== undefined && subs !== null && !stringArray(subs)) bad(`archMap[${i}].subArchitectures`, 'must be an array of strings');
    });
  }
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) bad('syscalls', 'must be an array');
    (p.syscalls as unknown[]).forEach((s, i) => {
      const at = `syscalls[${i}]`;
      if (!isObject(s)) bad(at, 'must be an object');
      const r = s as Record<string, unknown>;
      if (r.name !== undefined && typeof r.name !== 'string') bad(`${at}.name`, 'must be a string');
      if (r.names !== undefined && r.names !== null && !stringArray(r.names)) bad(`${at}.names`, 'must be an array of strings');
      if (r.name && Array.isArray(r.names) && r.names.length > 0) {
        throw new ConfigError("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
      }
      if (typeof r.action !== 'string') bad(`${at}.action`, 'must be a string');
      if (r.args !== undefined && r.args !== null && (!Array.isArray(r.args) || !r.args.every(isObject))) bad(`${at}.args`, 'must be an array of objects');
      for (const key of ['includes', 'excludes'] as const) {
        const f = r[key];
        if (f === undefined || f === null) continue;
        if (!isObject(f)) bad(`${at}.${key}`, 'must be an object');
        const filter = f as Record<string, unknown>;
        for (const list of ['caps', 'arches'] as const) {
          if (filter[list] !== undefined && filter[list] !== null && !stringArray(filter[list])) bad(`${at}.${key}.${list}`, 'must be an array of strings');
        }
        if (filter.minKernel !== undefined && filter.minKernel !== null && (typeof filter.minKernel !== 'string' || !/^\d+\.\d+/.test(filter.minKernel))) {
          bad(`${at}.${key}.minKernel`, 'must be a kernel version such as "4.8"');
        }
      }
    });
  }
  return v as MobyProfile;
}

// ---------------------------------------------------------------------------------------------
// The environment

/** docker's ReplaceOrAppendEnvValues: overrides replace by name or append; "NAME" alone unsets. */
function replaceOrAppend(defaults: string[], overrides: readonly string[]): string[] {
  const out = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e.split('=', 1)[0]!, i));
  const removed = new Set<number>();
  for (const value of overrides) {
    const eq = value.indexOf('=');
    if (eq < 0) {
      const i = index.get(value);
      if (i !== undefined) removed.add(i);
      continue;
    }
    const i = index.get(value.slice(0, eq));
    if (i !== undefined) {
      out[i] = value;
      removed.delete(i);
    } else {
      out.push(value);
    }
  }
  return out.filter((_, i) => !removed.has(i));
}

function environment(config: ContainerConfig, home: string): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${config.Hostname}`];
  if (config.Tty) base.push('TERM=xterm');
  const env = replaceOrAppend(base, config.Env ?? []);
  // runc sets HOME from the container's passwd when the environment has none (or an empty one).
  const at = env.findIndex((e) => e.startsWith('HOME='));
  if (at < 0) env.push(`HOME=${home}`);
  else if (env[at] === 'HOME=') env[at] = `HOME=${home}`;
  return env;
}

// ---------------------------------------------------------------------------------------------
// The spec

export function buildSpec(input: SpecInput): Spec {
  const host: SpecHost = { ...detectSpecHost(), ...input.host };
  const arch = input.arch ?? host.arch;
  const { config, hostConfig: hc } = input;
  checkHostConfig(hc, host);
  const security = parseSecurityOpts(hc.SecurityOpt);

  // --- the process
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (command.length === 0) throw new ConfigError('no command specified');
  const cwd = config.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new ConfigError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  const pidMode = hc.PidMode ?? '';
  const withInit = !!hc.Init && pidMode !== 'host' && !containerRef(pidMode);
  if (withInit && !input.tiniPath) throw new Error("--init: hull's init binary (hull-tini) was not found");

  const user = resolveUser(input.rootfs, config.User ?? '', hc.GroupAdd);
  const caps = containerCapabilities(hc, host.capabilities);
  const proc: Process = {
    terminal: !!config.Tty,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args: withInit ? [INIT_PATH, '--', ...command] : command,
    env: environment(config, user.home),
    cwd,
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
    oomScoreAdj: hc.OomScoreAdj ?? 0,
  };
  const limits = rlimits(hc);
  if (limits.length) proc.rlimits = limits;
  if (security.noNewPrivileges) proc.noNewPrivileges = true;
  if (host.apparmor) {
    proc.apparmorProfile = security.apparmor || (hc.Privileged ? 'unconfined' : 'docker-default');
  }

  // --- linux
  const linux: Linux = { namespaces: namespaces(input, host) };
  const { devices, rules } = devicesAndRules(hc);
  linux.devices = devices;
  linux.resources = { ...resources(hc), devices: rules };
  linux.cgroupsPath = input.cgroupsPath;
  const ctls = sysctls(hc, host);
  if (Object.keys(ctls).length) linux.sysctl = ctls;
  if (!hc.Privileged && !security.unconfinedPaths) {
    linux.maskedPaths = defaultMaskedPaths(host.exists);
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  const seccompCtx = { capabilities: caps, arch, kernel: host.kernel };
  const seccomp = security.seccomp ?? '';
  if (seccomp === 'unconfined') {
    // no filter
  } else if (seccomp !== '' && seccomp !== 'builtin') {
    const s = loadSeccompProfile(seccomp, seccompCtx);
    if (s) linux.seccomp = s;
  } else if (!hc.Privileged) {
    linux.seccomp = defaultSeccomp(seccompCtx);
  }

  // --- mounts
  const userMounts: Mount[] = [];
  for (const m of input.mounts) {
    if (!m.destination.startsWith('/')) throw new ConfigError(`invalid mount path: '${m.destination}' mount path must be absolute`);
    userMounts.push(m.type === 'tmpfs' ? tmpfsMount(m) : bindMount(m, host, linux));
  }
  const taken = new Set(userMounts.map((m) => posix.normalize(m.destination)));
  const ipc = hc.IpcMode ?? '';
  if (!taken.has('/dev/shm')) {
    // Sharing an IPC namespace shares /dev/shm too (POSIX shared memory lives there).
    const shm = ipc === 'host' ? '/dev/shm' : containerRef(ipc) ? shmOf(input.namespacePaths.ipc) : undefined;
    if (shm) {
      userMounts.push({ destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'rprivate'] });
      taken.add('/dev/shm');
    }
  }
  const etc: [string, string][] = [
    ['/etc/resolv.conf', input.etcFiles.resolvConf],
    ['/etc/hostname', input.etcFiles.hostname],
    ['/etc/hosts', input.etcFiles.hosts],
  ];
  for (const [destination, source] of etc) {
    if (taken.has(destination)) continue; // the user's own file wins
    const options = ['rbind'];
    if (hc.ReadonlyRootfs) options.push(kernelAtLeast(host.kernel, 5, 12) ? 'rro' : 'ro');
    options.push('rprivate');
    userMounts.push({ destination, type: 'bind', source, options });
    taken.add(destination);
  }
  // Parents before children, so that no mount hides another; otherwise in the order given.
  const sorted = userMounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);

  const devMounted = taken.has('/dev');
  const base: Mount[] = [];
  for (const m of defaultMounts()) {
    if (taken.has(m.destination)) continue;
    if (devMounted && m.destination.startsWith('/dev/')) continue;
    if (m.destination === '/dev/shm') {
      if (ipc === 'none') continue;
      m.options = [...(m.options ?? []), `size=${hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE}`];
    }
    base.push(m);
  }
  if (withInit && !taken.has(INIT_PATH)) {
    base.push({ destination: INIT_PATH, type: 'bind', source: input.tiniPath!, options: ['bind', 'ro'] });
  }
  if (hc.ReadonlyRootfs) {
    for (const m of base) {
      if (!WRITABLE_WITH_READONLY_ROOTFS.has(m.destination) && !(m.options ?? []).includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  const writableCgroups = security.writableCgroups ?? hc.Privileged;
  for (const m of base) {
    if ((hc.Privileged && m.destination === '/sys') || (writableCgroups && m.type === 'cgroup')) {
      m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
  }

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    mounts: [...base, ...sorted],
    linux,
  };
  if ((hc.UTSMode ?? '') !== 'host') {
    if (config.Hostname) spec.hostname = config.Hostname;
    if (config.Domainname) spec.domainname = config.Domainname;
  }
  return checked(spec);
}

/** Every spec leaves here valid; a failure names the field, and the profile for seccomp's. */
function checked(spec: Spec): Spec {
  try {
    return validateSpec(spec);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const problem = e.message.slice(`${e.file}: ${e.field ? `${e.field}: ` : ''}`.length);
    if (e.field.startsWith('linux.seccomp')) {
      throw new ConfigError(`invalid seccomp profile: ${e.field.replace(/^linux\.seccomp\.?/, '') || '(document)'}: ${problem}`);
    }
    throw new ConfigError(`invalid container configuration: ${e.field || '(document)'}: ${problem}`);
  }
}
