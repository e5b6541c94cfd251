// A container's resource statistics, read from its cgroup: the numbers `events` reports.
// What is read from where follows runc, so that tools parsing `runc events` read ours too.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup, type ContainerCgroup } from './controllers.ts';
import {
  U64_MAX, hugePageSizes, parseBlkio, parseCpuList, parseI64, parseIoStat, parseKeyValues, parseU64, parseU64List,
  parseUsageAll, valueOf, type BlkioEntry,
} from './stats-parse.ts';

export type { BlkioEntry } from './stats-parse.ts';

export interface MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface Stats {
  cpu: {
    /** All in ns. */
    usage: { total: bigint; percpu: bigint[]; percpuKernel: bigint[]; percpuUser: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
  };
  cpuset: {
    cpus: number[];
    cpuExclusive: bigint;
    mems: number[];
    memHardwall: bigint;
    memExclusive: bigint;
    memoryMigrate: bigint;
    memorySpreadPage: bigint;
    memorySpreadSlab: bigint;
    memoryPressure: bigint;
    schedLoadBalance: bigint;
    schedRelaxDomainLevel: bigint;
  };
  memory: { cache: bigint; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw: Map<string, bigint> };
  pids: { current: bigint; limit: bigint };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueueRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
  };
  /** Page size ("2MB") → usage; max is the peak, which v2 does not keep. */
  hugetlb: Map<string, { usage: bigint; max: bigint; failcnt: bigint }>;
}

const memoryEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): Stats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [], cpuExclusive: 0n, mems: [], memHardwall: 0n, memExclusive: 0n, memoryMigrate: 0n, memorySpreadPage: 0n,
      memorySpreadSlab: 0n, memoryPressure: 0n, schedLoadBalance: 0n, schedRelaxDomainLevel: 0n,
    },
    memory: { cache: 0n, usage: memoryEntry(), swap: memoryEntry(), kernel: memoryEntry(), kernelTCP: memoryEntry(), raw: new Map() },
    pids: { current: 0n, limit: 0n },
    blkio: {
      ioServiceBytesRecursive: [], ioServicedRecursive: [], ioQueueRecursive: [], ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [], ioMergedRecursive: [], ioTimeRecursive: [], sectorsRecursive: [],
    },
    hugetlb: new Map(),
  };
}

/**
 * A statistics file's text, or undefined when the file is not there (its controller is not
 * mounted or not enabled, or the kernel predates it). Any other failure is an error.
 */
export type Reader = (dir: string, file: string) => string | undefined;

export const readCgroupFile: Reader = (dir, file) => {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTDIR') return undefined;
    throw new Error(`cannot read ${join(dir, file)}: ${(e as Error).message}`);
  }
};

let pageSizes: string[] | undefined;
function hostPageSizes(): string[] {
  if (!pageSizes) {
    try {
      pageSizes = hugePageSizes(readdirSync('/sys/kernel/mm/hugepages'));
    } catch {
      pageSizes = [];
    }
  }
  return pageSizes;
}

/** The container's statistics from whichever cgroup version holds its controllers. */
export function readStats(dirs: string[], read: Reader = readCgroupFile, sizes = hostPageSizes()): Stats {
  const cg = containerCgroup(dirs);
  return cg.version === 2 ? (cg.unified !== undefined ? statsV2(cg.unified, read, sizes) : emptyStats()) : statsV1(cg, read, sizes);
}

const CLOCK_TICKS = 100n; // USER_HZ, the unit of cpuacct.stat; fixed at 100 on Linux
const NS_PER_S = 1_000_000_000n;

export function statsV1(cg: ContainerCgroup, read: Reader, sizes: string[]): Stats {
  const s = emptyStats();
  const at = (controller: string, file: string): { text: string | undefined; name: string } => {
    const dir = cg.v1.get(controller);
    return dir === undefined ? { text: undefined, name: file } : { text: read(dir, file), name: join(dir, file) };
  };

  const cpuStat = at('cpu', 'cpu.stat');
  if (cpuStat.text !== undefined) {
    const kv = parseKeyValues(cpuStat.text, cpuStat.name);
    s.cpu.throttling = {
      periods: kv.get('nr_periods') ?? 0n,
      throttledPeriods: kv.get('nr_throttled') ?? 0n,
      throttledTime: kv.get('throttled_time') ?? 0n,
    };
  }

  const acctStat = at('cpuacct', 'cpuacct.stat');
  if (acctStat.text !== undefined) {
    const kv = parseKeyValues(acctStat.text, acctStat.name);
    const u = s.cpu.usage;
    u.user = ((kv.get('user') ?? 0n) * NS_PER_S) / CLOCK_TICKS;
    u.kernel = ((kv.get('system') ?? 0n) * NS_PER_S) / CLOCK_TICKS;
    const total = at('cpuacct', 'cpuacct.usage');
    if (total.text !== undefined) u.total = parseU64(total.text, total.name);
    const percpu = at('cpuacct', 'cpuacct.usage_percpu');
    if (percpu.text !== undefined) u.percpu = parseU64List(percpu.text, percpu.name);
    const all = at('cpuacct', 'cpuacct.usage_all');
    if (all.text !== undefined) {
      const modes = parseUsageAll(all.text, all.name);
      u.percpuKernel = modes.kernel;
      u.percpuUser = modes.user;
    }
  }

  if (cg.v1.has('cpuset')) {
    const c = s.cpuset;
    const list = (file: string): number[] => {
      const r = at('cpuset', file);
      return r.text === undefined ? [] : parseCpuList(r.text, r.name);
    };
    const u64 = (file: string): bigint => {
      const r = at('cpuset', file);
      return r.text === undefined ? 0n : parseU64(r.text, r.name);
    };
    c.cpus = list('cpuset.cpus');
    c.cpuExclusive = u64('cpuset.cpu_exclusive');
    c.mems = list('cpuset.mems');
    c.memHardwall = u64('cpuset.mem_hardwall');
    c.memExclusive = u64('cpuset.mem_exclusive');
    c.memoryMigrate = u64('cpuset.memory_migrate');
    c.memorySpreadPage = u64('cpuset.memory_spread_page');
    c.memorySpreadSlab = u64('cpuset.memory_spread_slab');
    c.memoryPressure = u64('cpuset.memory_pressure');
    c.schedLoadBalance = u64('cpuset.sched_load_balance');
    const relax = at('cpuset', 'cpuset.sched_relax_domain_level');
    c.schedRelaxDomainLevel = relax.text === undefined ? 0n : parseI64(relax.text, relax.name);
  }

  const memStat = at('memory', 'memory.stat');
  if (memStat.text !== undefined) {
    const m = s.memory;
    m.raw = parseKeyValues(memStat.text, memStat.name);
    m.cache = m.raw.get('cache') ?? 0n;
    // memory.* must be there; memsw (swap accounting), kmem and kmem.tcp depend on the kernel
    m.usage = memoryV1(at, 'memory', true);
    m.swap = memoryV1(at, 'memory.memsw', false);
    m.kernel = memoryV1(at, 'memory.kmem', false);
    m.kernelTCP = memoryV1(at, 'memory.kmem.tcp', false);
  }

  const current = at('pids', 'pids.current');
  if (current.text !== undefined) {
    s.pids.current = parseU64(current.text, current.name);
    const max = at('pids', 'pids.max');
    const limit = max.text === undefined ? 0n : parseU64(max.text, max.name);
    s.pids.limit = limit === U64_MAX ? 0n : limit;
  }

  const blkioDir = cg.v1.get('blkio');
  if (blkioDir !== undefined) blkioV1(blkioDir, read, s.blkio);

  const hugetlbDir = cg.v1.get('hugetlb');
  if (hugetlbDir !== undefined) {
    let rsvd = '.rsvd';
    for (const size of sizes) {
      let usage = read(hugetlbDir, `hugetlb.${size}${rsvd}.usage_in_bytes`);
      if (usage === undefined && rsvd) {
        // kernels before 5.7 have no reservation accounting
        rsvd = '';
        usage = read(hugetlbDir, `hugetlb.${size}.usage_in_bytes`);
      }
      if (usage === undefined) break;
      const file = (suffix: string) => join(hugetlbDir, `hugetlb.${size}${rsvd}.${suffix}`);
      const need = (suffix: string) => {
        const t = read(hugetlbDir, `hugetlb.${size}${rsvd}.${suffix}`);
        if (t === undefined) throw new Error(`${file(suffix)} is missing`);
        return parseU64(t, file(suffix));
      };
      s.hugetlb.set(size, { usage: parseU64(usage, file('usage_in_bytes')), max: need('max_usage_in_bytes'), failcnt: need('failcnt') });
    }
  }
  return s;
}

type At = (controller: string, file: string) => { text: string | undefined; name: string };

/** One group of v1 memory counters: prefix.usage_in_bytes, .max_usage_in_bytes, .failcnt, .limit_in_bytes. */
function memoryV1(at: At, prefix: string, required: boolean): MemoryEntry {
  const usage = at('memory', `${prefix}.usage_in_bytes`);
  if (usage.text === undefined) {
    if (required) throw new Error(`${usage.name} is missing`);
    return memoryEntry();
  }
  const need = (suffix: string): bigint => {
    const r = at('memory', `${prefix}.${suffix}`);
    if (r.text === undefined) throw new Error(`${r.name} is missing`);
    return parseU64(r.text, r.name);
  };
  const e: MemoryEntry = { usage: parseU64(usage.text, usage.name), max: need('max_usage_in_bytes'), failcnt: need('failcnt'), limit: 0n };
  const limit = at('memory', `${prefix}.limit_in_bytes`);
  // newer kernels dropped memory.kmem.limit_in_bytes but kept its counters
  if (limit.text !== undefined) e.limit = parseU64(limit.text, limit.name);
  else if (prefix !== 'memory.kmem') throw new Error(`${limit.name} is missing`);
  return e;
}

type BlkioKey = keyof Stats['blkio'];

/**
 * The blkio controller reports through whichever I/O scheduler and policy the kernel has:
 * BFQ's debug files, BFQ, CFQ, then the throttle policy (recursive, then not). The first
 * source whose first file has device rows wins; runc reads them in this order.
 */
const BLKIO_SOURCES: [file: string, key: BlkioKey][][] = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

function blkioV1(dir: string, read: Reader, out: Stats['blkio']): void {
  for (const source of BLKIO_SOURCES) {
    for (const [i, [file, key]] of source.entries()) {
      const text = read(dir, file);
      const rows = text === undefined ? undefined : parseBlkio(text, join(dir, file));
      // the first file decides whether this source is in use; a later one without rows ends it
      if (rows === undefined) {
        if (i === 0) break;
        return;
      }
      out[key] = rows;
      if (i === source.length - 1) return;
    }
  }
}

export function statsV2(dir: string, read: Reader, sizes: string[]): Stats {
  const s = emptyStats();
  const name = (file: string) => join(dir, file);

  const current = read(dir, 'pids.current');
  if (current !== undefined) {
    s.pids.current = parseU64(current, name('pids.current'));
    const max = read(dir, 'pids.max');
    const limit = max === undefined ? 0n : parseU64(max, name('pids.max'));
    s.pids.limit = limit === U64_MAX ? 0n : limit;
  } else {
    // without the pids controller, count the processes
    const procs = read(dir, 'cgroup.procs') ?? '';
    s.pids.current = BigInt(procs.split('\n').filter(Boolean).length);
  }

  const memStat = read(dir, 'memory.stat');
  if (memStat !== undefined) {
    const m = s.memory;
    m.raw = parseKeyValues(memStat, name('memory.stat'));
    m.cache = m.raw.get('file') ?? 0n;
    m.usage = memoryV2(dir, read, 'memory', true);
    const swapOnly = memoryV2(dir, read, 'memory.swap', false);
    // v1 reports memory+swap as "swap"; v2 counts swap alone, so add them up as runc does
    m.swap = {
      usage: (swapOnly.usage + m.usage.usage) & U64_MAX,
      limit: swapOnly.limit === U64_MAX ? U64_MAX : (swapOnly.limit + m.usage.limit) & U64_MAX,
      max: 0n,
      failcnt: swapOnly.failcnt,
    };
  }

  const io = read(dir, 'io.stat');
  if (io !== undefined) {
    const { bytes, ios } = parseIoStat(io, name('io.stat'));
    s.blkio.ioServiceBytesRecursive = bytes;
    s.blkio.ioServicedRecursive = ios;
  }

  // cpu.stat is there even when the cpu controller is not enabled
  const cpu = read(dir, 'cpu.stat');
  if (cpu !== undefined) {
    const kv = parseKeyValues(cpu, name('cpu.stat'));
    const us = (k: string) => (kv.get(k) ?? 0n) * 1000n;
    s.cpu.usage.total = us('usage_usec');
    s.cpu.usage.user = us('user_usec');
    s.cpu.usage.kernel = us('system_usec');
    s.cpu.throttling = { periods: kv.get('nr_periods') ?? 0n, throttledPeriods: kv.get('nr_throttled') ?? 0n, throttledTime: us('throttled_usec') };
  }

  let rsvd = '.rsvd';
  for (const size of sizes) {
    let usage = read(dir, `hugetlb.${size}${rsvd}.current`);
    if (usage === undefined && rsvd) {
      rsvd = '';
      usage = read(dir, `hugetlb.${size}.current`);
    }
    const events = read(dir, `hugetlb.${size}.events`);
    if (usage === undefined || events === undefined) break;
    s.hugetlb.set(size, {
      usage: parseU64(usage, name(`hugetlb.${size}${rsvd}.current`)),
      max: 0n,
      failcnt: valueOf(events, 'max', name(`hugetlb.${size}.events`)),
    });
  }
  return s;
}

/** prefix.current, prefix.max and prefix.peak (Linux 5.19+) of the v2 memory controller. */
function memoryV2(dir: string, read: Reader, prefix: string, required: boolean): MemoryEntry {
  const usage = read(dir, `${prefix}.current`);
  if (usage === undefined) {
    if (required) throw new Error(`${join(dir, prefix + '.current')} is missing`);
    return memoryEntry();
  }
  const limit = read(dir, `${prefix}.max`);
  if (limit === undefined) throw new Error(`${join(dir, prefix + '.max')} is missing`);
  const peak = read(dir, `${prefix}.peak`);
  return {
    usage: parseU64(usage, join(dir, `${prefix}.current`)),
    limit: parseU64(limit, join(dir, `${prefix}.max`)),
    max: peak === undefined ? 0n : parseU64(peak, join(dir, `${prefix}.peak`)),
    failcnt: 0n,
  };
}
