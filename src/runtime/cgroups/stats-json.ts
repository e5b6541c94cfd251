// `events` output, byte for byte as runc's Go encoder writes it: compact, fields in runc's
// struct order, zero values left out where runc's types say omitempty (and kept elsewhere),
// map keys sorted, numbers as exact 64-bit integers.
import type { BlkioEntry, MemoryEntry, Stats } from './stats.ts';

/** [name, JSON text]; undefined text leaves the field out. */
type Field = [string, string | undefined];

function object(fields: Field[]): string {
  const parts = fields.filter((f): f is [string, string] => f[1] !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

const num = (n: bigint | number): string => n.toString();
/** omitempty: a zero number is left out */
const opt = (n: bigint): string | undefined => (n === 0n ? undefined : n.toString());
/** omitempty: an empty list is left out */
const list = <T>(xs: T[], f: (x: T) => string): string | undefined => (xs.length === 0 ? undefined : `[${xs.map(f).join(',')}]`);

function memoryEntry(e: MemoryEntry): string {
  return object([['limit', num(e.limit)], ['usage', opt(e.usage)], ['max', opt(e.max)], ['failcnt', num(e.failcnt)]]);
}

function blkioEntry(e: BlkioEntry): string {
  return object([['major', opt(e.major)], ['minor', opt(e.minor)], ['op', e.op === '' ? undefined : JSON.stringify(e.op)], ['value', opt(e.value)]]);
}

function sortedMap<V>(m: Map<string, V>, f: (v: V) => string): string {
  const keys = [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${f(m.get(k)!)}`).join(',')}}`;
}

export function encodeStats(s: Stats): string {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const cpu = object([
    ['usage', object([
      ['total', opt(u.total)],
      ['percpu', list(u.percpu, num)],
      ['percpu_kernel', list(u.percpuKernel, num)],
      ['percpu_user', list(u.percpuUser, num)],
      ['kernel', num(u.kernel)],
      ['user', num(u.user)],
    ])],
    ['throttling', object([['periods', opt(t.periods)], ['throttledPeriods', opt(t.throttledPeriods)], ['throttledTime', opt(t.throttledTime)]])],
  ]);
  const c = s.cpuset;
  const cpuset = object([
    ['cpus', list(c.cpus, num)],
    ['cpu_exclusive', num(c.cpuExclusive)],
    ['mems', list(c.mems, num)],
    ['mem_hardwall', num(c.memHardwall)],
    ['mem_exclusive', num(c.memExclusive)],
    ['memory_migrate', num(c.memoryMigrate)],
    ['memory_spread_page', num(c.memorySpreadPage)],
    ['memory_spread_slab', num(c.memorySpreadSlab)],
    ['memory_pressure', num(c.memoryPressure)],
    ['sched_load_balance', num(c.schedLoadBalance)],
    ['sched_relax_domain_level', num(c.schedRelaxDomainLevel)],
  ]);
  const m = s.memory;
  const memory = object([
    ['cache', opt(m.cache)],
    ['usage', memoryEntry(m.usage)],
    ['swap', memoryEntry(m.swap)],
    ['kernel', memoryEntry(m.kernel)],
    ['kernelTCP', memoryEntry(m.kernelTCP)],
    ['raw', m.raw.size === 0 ? undefined : sortedMap(m.raw, num)],
  ]);
  const pids = object([['current', opt(s.pids.current)], ['limit', opt(s.pids.limit)]]);
  const b = s.blkio;
  const blkio = object([
    ['ioServiceBytesRecursive', list(b.ioServiceBytesRecursive, blkioEntry)],
    ['ioServicedRecursive', list(b.ioServicedRecursive, blkioEntry)],
    ['ioQueueRecursive', list(b.ioQueueRecursive, blkioEntry)],
    ['ioServiceTimeRecursive', list(b.ioServiceTimeRecursive, blkioEntry)],
    ['ioWaitTimeRecursive', list(b.ioWaitTimeRecursive, blkioEntry)],
    ['ioMergedRecursive', list(b.ioMergedRecursive, blkioEntry)],
    ['ioTimeRecursive', list(b.ioTimeRecursive, blkioEntry)],
    ['sectorsRecursive', list(b.sectorsRecursive, blkioEntry)],
  ]);
  const hugetlb = sortedMap(s.hugetlb, (h) => object([['usage', opt(h.usage)], ['max', opt(h.max)], ['failcnt', num(h.failcnt)]]));
  // hull has no Intel RDT and reports no network interfaces, which runc writes as {} and null
  return object([
    ['cpu', cpu], ['cpuset', cpuset], ['memory', memory], ['pids', pids], ['blkio', blkio], ['hugetlb', hugetlb],
    ['intel_rdt', '{}'], ['network_interfaces', 'null'],
  ]);
}

/** One line of `events` output. */
export function encodeEvent(type: 'stats' | 'oom', id: string, stats?: Stats): string {
  return object([['type', JSON.stringify(type)], ['id', JSON.stringify(id)], ['data', stats ? encodeStats(stats) : undefined]]) + '\n';
}
