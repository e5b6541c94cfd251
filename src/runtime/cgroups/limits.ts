// linux.resources as typed limits, the checks that need no host, and the write list that
// v1.ts and v2.ts produce from them.
import type { Resources } from '../spec/types.ts';

export interface MemoryLimits {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuLimits {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface BlockIOLimits {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export const THROTTLES = [
  // [field, v1 file, v2 io.max key]
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
] as const;

export interface Limits {
  memory?: MemoryLimits;
  cpu?: CpuLimits;
  pids?: { limit: number };
  blockIO?: BlockIOLimits;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
}

/** The validator has checked the JSON types; this only gives them names. */
export function limitsOf(r: Resources | undefined): Limits {
  return (r ?? {}) as Limits;
}

/** One value for one interface file of the container's cgroup. */
export interface CgroupWrite {
  /** The config field it comes from, as error messages name it ("linux.resources.memory.limit"). */
  field: string;
  /** The controller the file belongs to ("cgroup" for the core files of v2). */
  controller: string;
  file: string;
  value: string;
  /**
   * The kernel checks some pairs of files against each other (limit and memsw, quota and
   * period, burst and quota), so the right order depends on the old values. On EINVAL this
   * write is tried again after the rest of its controller's writes.
   */
  retry?: boolean;
  /** An optional kernel feature (hugetlb's rsvd files): skipped when the file is absent. */
  ifExists?: boolean;
  /** The kernel clamps instead of failing (v1 cpu.shares): read back and compare. */
  verify?: boolean;
  /** Said after the error when the file is missing or the kernel refuses the value. */
  hint?: string;
}

/** What the pure write builders may ask about the container's cgroup. */
export interface Probe {
  has(controller: string, file: string): boolean;
  /** The interface files of the controller's directory, for error hints. */
  files(controller: string): string[];
}

export const FIELD = 'linux.resources';

/** A decimal string for an integer that JSON may have given beyond 2^53. */
export function num(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

function bad(field: string, why: string): never {
  throw new Error(`${FIELD}.${field}: ${why}`);
}

function atLeastMinusOne(field: string, v: number | undefined, meaning: string): void {
  if (v !== undefined && v < -1) bad(field, `${num(v)} is not allowed: use a positive value, -1 for ${meaning}, or 0 to leave it unset`);
}

function inRange(field: string, v: number | undefined, lo: number, hi: number, zeroUnsets = true): void {
  if (v === undefined || (zeroUnsets && v === 0)) return;
  if (v < lo || v > hi) bad(field, `${num(v)} is out of range (${lo} to ${hi}${zeroUnsets ? ', or 0 to leave it unset' : ''})`);
}

// cpuset lists: "0-3,7", as the kernel's cpulist_parse reads them
const CPU_LIST = /^\s*(\d+(-\d+(:\d+\/\d+)?)?)(,\d+(-\d+(:\d+\/\d+)?)?)*\s*$/;

function checkList(field: string, v: string | undefined): void {
  if (v === undefined || v === '') return;
  if (!CPU_LIST.test(v)) bad(field, `${JSON.stringify(v)} is not a list like "0-3,6"`);
  for (const m of v.matchAll(/(\d+)-(\d+)/g)) {
    if (Number(m[1]) > Number(m[2])) bad(field, `${JSON.stringify(v)}: the range ${m[0]} runs backwards`);
  }
}

function checkDevice(field: string, d: { major: number; minor: number }): void {
  if (d.major < 0 || d.minor < 0) bad(field, `device ${d.major}:${d.minor}: major and minor must not be negative`);
}

/** Interface files of v2's core that a config may set through unified. */
const UNIFIED_CORE = new Set(['cgroup.max.depth', 'cgroup.max.descendants', 'cgroup.pressure']);

/**
 * The checks that need no host: ranges, pairs that contradict each other, and what one cgroup
 * version cannot express. Returns warnings for fields that are accepted but ignored.
 */
export function checkLimits(l: Limits, version: 1 | 2): string[] {
  const warnings: string[] = [];
  const m = l.memory ?? {};
  atLeastMinusOne('memory.limit', m.limit, 'no limit');
  atLeastMinusOne('memory.reservation', m.reservation, 'no reservation');
  atLeastMinusOne('memory.swap', m.swap, 'unlimited swap');
  if (m.swap !== undefined && m.swap > 0) {
    const limit = m.limit ?? 0;
    if (limit === 0) bad('memory.swap', `${num(m.swap)} needs memory.limit too: swap is the limit on memory plus swap`);
    if (limit === -1 && version === 1) {
      bad('memory.swap', `${num(m.swap)} cannot go with memory.limit -1: on cgroup v1 swap is the limit on memory plus swap, which cannot be below an unlimited memory limit (use -1 for both)`);
    }
    if (limit > 0 && m.swap < limit) {
      bad('memory.swap', `${num(m.swap)} is below memory.limit ${num(limit)}: swap is the limit on memory plus swap, so it must be at least the memory limit (or -1)`);
    }
  }
  // runc 1.2 and later do the same: the kernel dropped kmem limits in 5.4 (v1) and v2 never had
  // them. The v1 TCP buffer limit still works, and crun still sets it: so does v1Writes.
  if (m.kernel !== undefined) warnings.push(`${FIELD}.memory.kernel: kernel memory limits are deprecated and ignored`);
  if (m.kernelTCP !== undefined && version === 2) warnings.push(`${FIELD}.memory.kernelTCP: cgroup v2 has no TCP buffer limit; ignored`);
  inRange('memory.swappiness', m.swappiness, 0, 100, false);
  if (version === 2) {
    if (m.swappiness !== undefined) bad('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness; remove it');
    if (m.disableOOMKiller) bad('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer for a cgroup; remove it or set it to false');
    if (m.useHierarchy === false) bad('memory.useHierarchy', 'cgroup v2 accounting is always hierarchical; remove it or set it to true');
  }

  const c = l.cpu ?? {};
  if (c.quota !== undefined && c.quota !== 0 && c.quota !== -1) {
    if (c.quota < 0) bad('cpu.quota', `${num(c.quota)} is not allowed: use a number of microseconds, -1 for no limit, or 0 to leave it unset`);
    if (c.quota < 1000) bad('cpu.quota', `${num(c.quota)} µs is below the kernel's minimum of 1000 µs`);
  }
  inRange('cpu.period', c.period, 1000, 1_000_000);
  atLeastMinusOne('cpu.realtimeRuntime', c.realtimeRuntime, 'no realtime limit');
  if (c.idle !== undefined && c.idle !== 0 && c.idle !== 1) bad('cpu.idle', `${num(c.idle)} is not allowed: 1 makes the cgroup SCHED_IDLE, 0 does not`);
  checkList('cpu.cpus', c.cpus);
  checkList('cpu.mems', c.mems);
  if (version === 2) {
    if (c.realtimeRuntime || c.realtimePeriod) {
      bad(c.realtimeRuntime ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod', 'cgroup v2 has no realtime CPU controls; remove it');
    }
  }

  if (l.pids && l.pids.limit < -1) bad('pids.limit', `${num(l.pids.limit)} is not allowed: use a positive limit, or 0 or -1 for no limit`);

  const b = l.blockIO ?? {};
  inRange('blockIO.weight', b.weight, 10, 1000);
  inRange('blockIO.leafWeight', b.leafWeight, 10, 1000);
  b.weightDevice?.forEach((d, i) => {
    checkDevice(`blockIO.weightDevice[${i}]`, d);
    inRange(`blockIO.weightDevice[${i}].weight`, d.weight, 10, 1000);
    inRange(`blockIO.weightDevice[${i}].leafWeight`, d.leafWeight, 10, 1000);
    if (version === 2 && d.leafWeight) bad(`blockIO.weightDevice[${i}].leafWeight`, 'cgroup v2 has no leaf weights; remove it');
  });
  if (version === 2 && b.leafWeight) bad('blockIO.leafWeight', 'cgroup v2 has no leaf weights; remove it');
  for (const [name] of THROTTLES) b[name]?.forEach((d, i) => checkDevice(`blockIO.${name}[${i}]`, d));

  if (l.network && (l.network.classID !== undefined || l.network.priorities?.length)) {
    if (version === 2) bad('network', 'cgroup v2 has no net_cls or net_prio controller; match the cgroup in an eBPF or nftables rule instead');
  }
  l.network?.priorities?.forEach((p, i) => {
    // one "name priority" line per write: a name must not carry a second line or field
    if (!/^[^\s/:]{1,15}$/.test(p.name)) bad(`network.priorities[${i}].name`, `${JSON.stringify(p.name)} is not a network interface name`);
  });
  for (const [dev, r] of Object.entries(l.rdma ?? {})) {
    if (!/^[\w.:-]+$/.test(dev)) bad(`rdma.${dev}`, 'not a device name');
    if (r.hcaHandles === undefined && r.hcaObjects === undefined) bad(`rdma.${dev}`, 'needs hcaHandles or hcaObjects');
  }

  const unified = Object.entries(l.unified ?? {});
  if (unified.length > 0 && version === 1) {
    bad('unified', 'needs cgroup v2, and this container\'s limits are on cgroup v1 (a hybrid host\'s cgroup2 tree holds no limits); use the typed fields instead');
  }
  for (const [k, v] of unified) {
    const at = `unified[${JSON.stringify(k)}]`;
    if (k.includes('/') || k === '.' || k === '..') bad(at, 'must name an interface file of the container\'s cgroup, without "/"');
    const dot = k.indexOf('.');
    if (dot <= 0 || dot === k.length - 1) bad(at, 'must be CONTROLLER.PARAMETER, such as memory.high');
    if (k.startsWith('cgroup.') && !UNIFIED_CORE.has(k)) {
      bad(at, `${k} is managed by the runtime; unified may set only ${[...UNIFIED_CORE].join(', ')} of the core files`);
    }
    if (v.includes('\0')) bad(at, 'the value contains a NUL byte');
  }
  return warnings;
}
