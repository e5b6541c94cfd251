// What linux.resources writes on cgroup v1: one list of interface-file writes, tagged with
// the controller (and so the hierarchy) each belongs to, in the order runc applies them.
import { FIELD, THROTTLES, num, type CgroupWrite, type Limits, type Probe } from './limits.ts';

const NO_WEIGHT = 'this cgroup has no proportional-weight I/O scheduler (the kernel offers blkio weights only with BFQ or CFQ on the device)';

export function v1Writes(l: Limits, probe: Probe): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const add = (field: string, controller: string, file: string, value: string | number, more: Partial<CgroupWrite> = {}) => {
    out.push({ field: `${FIELD}.${field}`, controller, file, value: typeof value === 'number' ? num(value) : value, ...more });
  };

  const c = l.cpu ?? {};
  if (c.cpus) add('cpu.cpus', 'cpuset', 'cpuset.cpus', c.cpus);
  if (c.mems) add('cpu.mems', 'cpuset', 'cpuset.mems', c.mems);

  const m = l.memory ?? {};
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // "no memory limit" with swap left unset means no swap limit either, as in runc
  if (limit === -1 && swap === 0 && probe.has('memory', 'memory.memsw.limit_in_bytes')) swap = -1;
  if (limit !== 0) add('memory.limit', 'memory', 'memory.limit_in_bytes', limit, { retry: true });
  if (swap !== 0) {
    add('memory.swap', 'memory', 'memory.memsw.limit_in_bytes', swap, {
      retry: true,
      hint: 'this kernel does not account swap per cgroup (boot it with swapaccount=1)',
    });
  }
  if (m.reservation) add('memory.reservation', 'memory', 'memory.soft_limit_in_bytes', m.reservation);
  if (m.kernelTCP) add('memory.kernelTCP', 'memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, { ifExists: true });
  if (m.disableOOMKiller !== undefined) add('memory.disableOOMKiller', 'memory', 'memory.oom_control', m.disableOOMKiller ? 1 : 0);
  if (m.swappiness !== undefined) add('memory.swappiness', 'memory', 'memory.swappiness', m.swappiness);
  if (m.useHierarchy !== undefined) {
    add('memory.useHierarchy', 'memory', 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, {
      ifExists: m.useHierarchy,
      hint: 'kernels since 5.16 always account hierarchically and refuse 0',
    });
  }

  // The kernel refuses shares for an idle cgroup (its weight is the lowest by definition), so
  // idle goes first: an update that turns it off can then set shares again.
  if (c.idle !== undefined) add('cpu.idle', 'cpu', 'cpu.idle', c.idle);
  if (c.shares && c.idle !== 1) add('cpu.shares', 'cpu', 'cpu.shares', c.shares, { verify: true, hint: 'the kernel allows 2 to 262144' });
  if (c.period) add('cpu.period', 'cpu', 'cpu.cfs_period_us', c.period, { retry: true });
  if (c.burst !== undefined) add('cpu.burst', 'cpu', 'cpu.cfs_burst_us', c.burst, { retry: true });
  if (c.quota) add('cpu.quota', 'cpu', 'cpu.cfs_quota_us', c.quota);
  const rtHint = 'realtime time for a cgroup must fit in its parent\'s (cpu.rt_runtime_us of each ancestor) and needs CONFIG_RT_GROUP_SCHED';
  if (c.realtimePeriod) add('cpu.realtimePeriod', 'cpu', 'cpu.rt_period_us', c.realtimePeriod, { retry: true, hint: rtHint });
  if (c.realtimeRuntime) add('cpu.realtimeRuntime', 'cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, { hint: rtHint });

  if (l.pids) add('pids.limit', 'pids', 'pids.max', l.pids.limit > 0 ? num(l.pids.limit) : 'max');

  const b = l.blockIO ?? {};
  // Without CFQ (gone since 5.0) the weights live in BFQ's files, as runc finds them.
  const bfq = !probe.has('blkio', 'blkio.weight') && probe.has('blkio', 'blkio.bfq.weight');
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  if (b.weight) add('blockIO.weight', 'blkio', weightFile, b.weight, { hint: NO_WEIGHT });
  if (b.leafWeight) add('blockIO.leafWeight', 'blkio', 'blkio.leaf_weight', b.leafWeight, { hint: 'leaf weights went with the CFQ scheduler (kernel 5.0)' });
  b.weightDevice?.forEach((d, i) => {
    const dev = `${d.major}:${d.minor}`;
    if (d.weight) add(`blockIO.weightDevice[${i}].weight`, 'blkio', `${weightFile}_device`, `${dev} ${d.weight}`, { hint: NO_WEIGHT });
    if (d.leafWeight) {
      add(`blockIO.weightDevice[${i}].leafWeight`, 'blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, {
        hint: 'leaf weights went with the CFQ scheduler (kernel 5.0)',
      });
    }
  });
  for (const [name, file] of THROTTLES) {
    // a rate of 0 removes the device's limit
    b[name]?.forEach((d, i) => add(`blockIO.${name}[${i}]`, 'blkio', file, `${d.major}:${d.minor} ${num(d.rate)}`));
  }

  const sizes = () => probe.files('hugetlb').flatMap((f) => /^hugetlb\.([^.]+)\.limit_in_bytes$/.exec(f)?.[1] ?? []);
  l.hugepageLimits?.forEach((h, i) => {
    const field = `hugepageLimits[${i}]`;
    add(field, 'hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit, {
      hint: `${h.pageSize} is not a huge page size of this host (it has ${sizes().join(', ') || 'none'})`,
    });
    add(field, 'hugetlb', `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, h.limit, { ifExists: true });
  });

  const n = l.network;
  if (n?.classID !== undefined) add('network.classID', 'net_cls', 'net_cls.classid', n.classID);
  n?.priorities?.forEach((p, i) => add(`network.priorities[${i}]`, 'net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`));
  for (const [dev, r] of Object.entries(l.rdma ?? {})) add(`rdma.${dev}`, 'rdma', 'rdma.max', rdmaLine(dev, r));
  return out;
}

export function rdmaLine(dev: string, r: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts = [dev];
  if (r.hcaHandles !== undefined) parts.push(`hca_handle=${r.hcaHandles}`);
  if (r.hcaObjects !== undefined) parts.push(`hca_object=${r.hcaObjects}`);
  return parts.join(' ');
}
