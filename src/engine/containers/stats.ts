// `stats`: one sample of a container's resource use, in the Engine API's stats shape (cpu_stats,
// memory_stats, blkio_stats, pids_stats, networks), read from its cgroups with the runtime's
// reader, plus the figures docker's CLI derives from two samples (CPU %, memory without the
// inactive file cache, block and network totals).
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { readStats, type Stats } from '../../runtime/cgroups/stats.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { runtimeState } from './runtime-state.ts';

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  /** ns of all CPUs' time since boot, as /proc/stat counts it. */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioStat {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** The Engine API's container stats (GET /containers/{id}/stats), field names as docker's. */
export interface ContainerStats {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioStat[] | null;
    io_serviced_recursive: BlkioStat[] | null;
    io_queue_recursive: BlkioStat[] | null;
    io_service_time_recursive: BlkioStat[] | null;
    io_wait_time_recursive: BlkioStat[] | null;
    io_merged_recursive: BlkioStat[] | null;
    io_time_recursive: BlkioStat[] | null;
    sectors_recursive: BlkioStat[] | null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  networks?: Record<string, NetworkStats>;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function emptyCpu(): CpuStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

function emptyBlkio(): ContainerStats['blkio_stats'] {
  return {
    io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
    io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  };
}

/** What docker reports for a container that is not running: its name and id, every figure zero. */
export function emptyStats(c: Container): ContainerStats {
  return {
    name: `/${c.Name}`, id: c.Id, read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: emptyBlkio(), num_procs: 0,
    storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: emptyCpu(), memory_stats: {},
  };
}

const CLOCK_TICKS = 100; // USER_HZ: /proc/stat counts in hundredths of a second on Linux

/** The machine's CPU time since boot in ns: user nice system idle iowait irq softirq, as docker sums them. */
export function systemCpuUsage(text = readFileSync('/proc/stat', 'utf8')): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat: no "cpu" line');
  const f = line.split(/\s+/).slice(1, 8);
  if (f.length < 7) throw new Error('/proc/stat: invalid number of cpu fields');
  const ticks = f.reduce((n, v) => n + BigInt(v), 0n);
  return Number((ticks * 1_000_000_000n) / BigInt(CLOCK_TICKS));
}

function onlineCpus(): number {
  try {
    let n = 0;
    for (const part of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
      const [lo, hi] = part.split('-').map(Number);
      n += hi === undefined ? 1 : hi - lo! + 1;
    }
    return n;
  } catch {
    return 0;
  }
}

/** MemTotal of /proc/meminfo: docker's limit for a container without one. */
function machineMemory(): number {
  return totalmem();
}

/** /proc/<pid>/net/dev of the container's namespace: every interface but loopback, as docker's endpoints. */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    out[name] = { rx_bytes: v[0]!, rx_packets: v[1]!, rx_errors: v[2]!, rx_dropped: v[3]!, tx_bytes: v[8]!, tx_packets: v[9]!, tx_errors: v[10]!, tx_dropped: v[11]! };
  }
  return out;
}

function networks(c: Container, pid: number): Record<string, NetworkStats> | undefined {
  // the host's interfaces are not the container's: docker reports none for --network host
  if (c.HostConfig.NetworkMode === 'host') return undefined;
  try {
    const found = parseNetDev(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
    return Object.keys(found).length ? found : undefined;
  } catch {
    return undefined;
  }
}

const n = (b: bigint): number => Number(b);
const blkio = (rows: Stats['blkio']['ioServiceBytesRecursive']): BlkioStat[] | null =>
  rows.length ? rows.map((r) => ({ major: n(r.major), minor: n(r.minor), op: r.op, value: n(r.value) })) : null;

function fromCgroups(s: Stats, systemUsage: number, cpus: number): Pick<ContainerStats, 'cpu_stats' | 'memory_stats' | 'pids_stats' | 'blkio_stats'> {
  const u = s.cpu.usage;
  const cpu: CpuStats = {
    cpu_usage: { total_usage: n(u.total), usage_in_kernelmode: n(u.kernel), usage_in_usermode: n(u.user), ...(u.percpu.length ? { percpu_usage: u.percpu.map(n) } : {}) },
    system_cpu_usage: systemUsage,
    online_cpus: cpus,
    throttling_data: { periods: n(s.cpu.throttling.periods), throttled_periods: n(s.cpu.throttling.throttledPeriods), throttled_time: n(s.cpu.throttling.throttledTime) },
  };
  const limit = s.memory.usage.limit;
  const machine = machineMemory();
  const memory: ContainerStats['memory_stats'] = {
    usage: n(s.memory.usage.usage),
    stats: Object.fromEntries([...s.memory.raw].map(([k, v]) => [k, n(v)])),
    // no limit, or one above the machine's memory: the machine's, as docker shows it
    limit: limit === 0n || limit > BigInt(machine) ? machine : n(limit),
  };
  if (s.memory.usage.max) memory.max_usage = n(s.memory.usage.max);
  if (s.memory.usage.failcnt) memory.failcnt = n(s.memory.usage.failcnt);
  const b = s.blkio;
  return {
    cpu_stats: cpu,
    memory_stats: memory,
    pids_stats: { current: n(s.pids.current), ...(s.pids.limit ? { limit: n(s.pids.limit) } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: blkio(b.ioServiceBytesRecursive), io_serviced_recursive: blkio(b.ioServicedRecursive),
      io_queue_recursive: blkio(b.ioQueueRecursive), io_service_time_recursive: blkio(b.ioServiceTimeRecursive),
      io_wait_time_recursive: blkio(b.ioWaitTimeRecursive), io_merged_recursive: blkio(b.ioMergedRecursive),
      io_time_recursive: blkio(b.ioTimeRecursive), sectors_recursive: blkio(b.sectorsRecursive),
    },
  };
}

/**
 * One sample of the container's figures; `previous` (the last sample of the same container)
 * becomes precpu_stats, from which CPU % is computed. A container that is not running, or that
 * stops while being read, gives docker's zero sample.
 */
export function containerStats(env: ContainerEnv, c: Container, previous?: ContainerStats): ContainerStats {
  const empty = emptyStats(c);
  if (!c.State.Running) return empty;
  const saved = runtimeState(env, c.Id);
  if (!saved) return empty;
  let s: Stats;
  try {
    s = readStats(saved.cgroupDirs);
  } catch (e) {
    // the cgroup went away with the container between the check and the read
    if (!runtimeState(env, c.Id)) return empty;
    throw e;
  }
  const net = networks(c, saved.pid);
  return {
    ...empty,
    read: new Date().toISOString(),
    preread: previous?.read ?? ZERO_TIME,
    ...fromCgroups(s, systemCpuUsage(), onlineCpus()),
    precpu_stats: previous?.cpu_stats ?? emptyCpu(),
    ...(net ? { networks: net } : {}),
  };
}

/** The figures docker's CLI shows, computed from a sample as its stats command does. */
export interface StatsFigures {
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

export function statsFigures(s: ContainerStats): StatsFigures {
  const cpu = s.cpu_stats;
  const pre = s.precpu_stats;
  const cpuDelta = cpu.cpu_usage.total_usage - pre.cpu_usage.total_usage;
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus || cpu.cpu_usage.percpu_usage?.length || 0;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  const m = s.memory_stats;
  const usage = m.usage ?? 0;
  // the inactive file cache can be reclaimed at once: docker 20+ leaves it out (v1 total_, v2 plain)
  const inactiveV1 = m.stats?.total_inactive_file;
  const inactiveV2 = m.stats?.inactive_file ?? 0;
  const memory = inactiveV1 !== undefined && inactiveV1 < usage ? usage - inactiveV1 : inactiveV2 < usage ? usage - inactiveV2 : usage;
  const limit = m.limit ?? 0;
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = e.op[0];
    if (op === 'r' || op === 'R') blockRead += e.value;
    else if (op === 'w' || op === 'W') blockWrite += e.value;
  }
  let netRx = 0;
  let netTx = 0;
  for (const v of Object.values(s.networks ?? {})) {
    netRx += v.rx_bytes;
    netTx += v.tx_bytes;
  }
  return {
    cpuPercent, memory, memoryLimit: limit, memoryPercent: limit ? (memory / limit) * 100 : 0,
    netRx, netTx, blockRead, blockWrite, pids: s.pids_stats.current ?? 0,
  };
}
