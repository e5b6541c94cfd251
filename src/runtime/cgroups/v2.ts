// What linux.resources writes on cgroup v2, and the conversions from the v1-shaped fields of
// the runtime spec to v2's interface files (the same ones runc and crun use).
import { FIELD, THROTTLES, num, type CgroupWrite, type Limits, type Probe } from './limits.ts';
import { rdmaLine } from './v1.ts';

/**
 * cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100): the quadratic
 * fit on a log scale from crun, also used by runc 1.3 and later, which maps the minimum,
 * the default and the maximum onto each other (the old linear formula mapped 1024 to 39).
 */
export function cpuWeightFromShares(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(10 ** exponent);
}

/** blkio.weight (10..1000) to io.weight (1..10000), linearly, as runc does. */
export function ioWeightFromBlkio(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The spec's swap is memory+swap (v1's memsw); v2's memory.swap.max is swap alone. Returns
 * what to write, or undefined to leave it alone. The checks that can fail are in checkLimits.
 */
export function swapMax(swap: number | undefined, limit: number | undefined): string | undefined {
  const s = swap ?? 0;
  const m = limit ?? 0;
  // "no memory limit" with swap left unset: no swap limit either, as on v1
  if (m === -1 && s === 0) return 'max';
  if (s === -1) return 'max';
  if (s === 0) return undefined;
  if (m === -1) return num(s);
  return num(s - m);
}

const max = (n: number) => (n === -1 ? 'max' : num(n));

export function v2Writes(l: Limits, probe: Probe): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const add = (field: string, controller: string, file: string, value: string | number, more: Partial<CgroupWrite> = {}) => {
    out.push({ field: `${FIELD}.${field}`, controller, file, value: typeof value === 'number' ? num(value) : value, ...more });
  };

  if (l.pids) add('pids.limit', 'pids', 'pids.max', l.pids.limit > 0 ? num(l.pids.limit) : 'max');

  const m = l.memory ?? {};
  const swap = swapMax(m.swap, m.limit);
  if (swap !== undefined) {
    add('memory.swap', 'memory', 'memory.swap.max', swap, {
      // without swap accounting there is nothing to lift or to turn off
      ifExists: swap === 'max' || swap === '0',
      hint: 'this kernel does not account swap per cgroup (CONFIG_MEMCG_SWAP)',
    });
  }
  if (m.limit) add('memory.limit', 'memory', 'memory.max', max(m.limit));
  if (m.reservation) add('memory.reservation', 'memory', 'memory.low', max(m.reservation));

  const b = l.blockIO ?? {};
  const bfq = probe.has('io', 'io.bfq.weight');
  if (b.weight) {
    if (bfq) add('blockIO.weight', 'io', 'io.bfq.weight', b.weight);
    else add('blockIO.weight', 'io', 'io.weight', ioWeightFromBlkio(b.weight), { hint: 'weights need the BFQ scheduler or io.cost on the device' });
  }
  b.weightDevice?.forEach((d, i) => {
    if (!d.weight) return;
    add(`blockIO.weightDevice[${i}].weight`, 'io', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, {
      hint: 'per-device weights need the BFQ scheduler on the device (kernel 5.4 or later)',
    });
  });
  for (const [name, , key] of THROTTLES) {
    // 0 removes the limit, as it does on v1
    b[name]?.forEach((d, i) => add(`blockIO.${name}[${i}]`, 'io', 'io.max', `${d.major}:${d.minor} ${key}=${d.rate === 0 ? 'max' : num(d.rate)}`));
  }

  const c = l.cpu ?? {};
  if (c.idle !== undefined) add('cpu.idle', 'cpu', 'cpu.idle', c.idle);
  if (c.shares && c.idle !== 1) add('cpu.shares', 'cpu', 'cpu.weight', cpuWeightFromShares(c.shares));
  if (c.burst !== undefined) add('cpu.burst', 'cpu', 'cpu.max.burst', c.burst, { retry: true });
  if (c.quota || c.period) {
    const quota = c.quota && c.quota > 0 ? num(c.quota) : 'max';
    add(c.quota ? 'cpu.quota' : 'cpu.period', 'cpu', 'cpu.max', `${quota} ${num(c.period || 100000)}`);
  }

  if (c.cpus) add('cpu.cpus', 'cpuset', 'cpuset.cpus', c.cpus);
  if (c.mems) add('cpu.mems', 'cpuset', 'cpuset.mems', c.mems);

  const sizes = () => probe.files('hugetlb').flatMap((f) => /^hugetlb\.([^.]+)\.max$/.exec(f)?.[1] ?? []);
  l.hugepageLimits?.forEach((h, i) => {
    const field = `hugepageLimits[${i}]`;
    add(field, 'hugetlb', `hugetlb.${h.pageSize}.max`, h.limit, {
      hint: `${h.pageSize} is not a huge page size of this host (it has ${sizes().join(', ') || 'none'})`,
    });
    add(field, 'hugetlb', `hugetlb.${h.pageSize}.rsvd.max`, h.limit, { ifExists: true });
  });

  for (const [dev, r] of Object.entries(l.rdma ?? {})) add(`rdma.${dev}`, 'rdma', 'rdma.max', rdmaLine(dev, r));

  // Last, so that a key here wins over the typed field it overlaps (runc's order too).
  for (const [k, v] of Object.entries(l.unified ?? {})) {
    const controller = k.slice(0, k.indexOf('.'));
    const lines = v.split('\n').filter((x, i, all) => x !== '' || all.length === 1);
    for (const line of lines) add(`unified[${JSON.stringify(k)}]`, controller, k, line);
  }
  return out;
}
