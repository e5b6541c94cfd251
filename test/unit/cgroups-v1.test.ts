// cgroup v1 limits: the host-free checks, what v1Writes lists, and where apply writes it
// (a tree of per-controller hierarchies made here). The kernel's own answers (EBUSY, EINVAL,
// ERANGE, clamping) are tested for real in test/integration/cgroups-resources.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CgroupLayout } from '../../src/runtime/cgroups/hierarchy.ts';
import { checkLimits, type Limits, type Probe } from '../../src/runtime/cgroups/limits.ts';
import { ownCgroups } from '../../src/runtime/cgroups/hierarchy.ts';
import { resolveCgroupDirs } from '../../src/runtime/cgroups/manager.ts';
import { applyResources } from '../../src/runtime/cgroups/resources.ts';
import { v1Writes } from '../../src/runtime/cgroups/v1.ts';
import type { Resources, Spec } from '../../src/runtime/spec/types.ts';

const probe = (files: string[] = []): Probe => ({
  has: (_c, f) => files.includes(f),
  files: () => files,
});

const plain = (l: Limits, files?: string[]) => v1Writes(l, probe(files)).map((w) => `${w.controller} ${w.file}=${w.value}`);

test('checkLimits: each class of bad value is refused with the field named', () => {
  const cases: [Limits, RegExp][] = [
    [{ memory: { limit: -2 } }, /^Error: linux\.resources\.memory\.limit: -2 is not allowed: use a positive value, -1 for no limit, or 0 to leave it unset$/],
    [{ memory: { reservation: -5 } }, /^Error: linux\.resources\.memory\.reservation: -5 is not allowed/],
    [{ memory: { limit: 1 << 20, swap: 1 << 19 } }, /^Error: linux\.resources\.memory\.swap: 524288 is below memory\.limit 1048576: swap is the limit on memory plus swap/],
    [{ memory: { swap: 1 << 20 } }, /^Error: linux\.resources\.memory\.swap: 1048576 needs memory\.limit too/],
    [{ memory: { swap: -3 } }, /memory\.swap: -3 is not allowed/],
    [{ memory: { limit: -1, swap: 1 << 20 } }, /^Error: linux\.resources\.memory\.swap: 1048576 cannot go with memory\.limit -1/],
    [{ memory: { swappiness: 101 } }, /^Error: linux\.resources\.memory\.swappiness: 101 is out of range \(0 to 100\)$/],
    [{ cpu: { quota: -5 } }, /^Error: linux\.resources\.cpu\.quota: -5 is not allowed/],
    [{ cpu: { quota: 500 } }, /^Error: linux\.resources\.cpu\.quota: 500 µs is below the kernel's minimum of 1000 µs$/],
    [{ cpu: { period: 999 } }, /^Error: linux\.resources\.cpu\.period: 999 is out of range \(1000 to 1000000, or 0 to leave it unset\)$/],
    [{ cpu: { period: 2_000_000 } }, /cpu\.period: 2000000 is out of range/],
    [{ cpu: { idle: 2 } }, /^Error: linux\.resources\.cpu\.idle: 2 is not allowed/],
    [{ cpu: { cpus: 'zero' } }, /^Error: linux\.resources\.cpu\.cpus: "zero" is not a list like "0-3,6"$/],
    [{ cpu: { mems: '3-1' } }, /^Error: linux\.resources\.cpu\.mems: "3-1": the range 3-1 runs backwards$/],
    [{ cpu: { realtimeRuntime: -2 } }, /cpu\.realtimeRuntime: -2 is not allowed/],
    [{ pids: { limit: -2 } }, /^Error: linux\.resources\.pids\.limit: -2 is not allowed: use a positive limit, or 0 or -1 for no limit$/],
    [{ blockIO: { weight: 5 } }, /^Error: linux\.resources\.blockIO\.weight: 5 is out of range \(10 to 1000, or 0 to leave it unset\)$/],
    [{ blockIO: { leafWeight: 1001 } }, /blockIO\.leafWeight: 1001 is out of range/],
    [{ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } }, /blockIO\.weightDevice\[0\]\.weight: 2000 is out of range/],
    [{ blockIO: { throttleReadBpsDevice: [{ major: -1, minor: 0, rate: 1 }] } }, /^Error: linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]: device -1:0: major and minor must not be negative$/],
    [{ network: { priorities: [{ name: 'eth0 5\nlo', priority: 1 }] } }, /^Error: linux\.resources\.network\.priorities\[0\]\.name: "eth0 5\\nlo" is not a network interface name$/],
    [{ rdma: { 'mlx 1': { hcaHandles: 1 } } }, /^Error: linux\.resources\.rdma\.mlx 1: not a device name$/],
    [{ rdma: { mlx: {} } }, /^Error: linux\.resources\.rdma\.mlx: needs hcaHandles or hcaObjects$/],
    [{ unified: { 'memory.high': '1' } }, /^Error: linux\.resources\.unified: needs cgroup v2, and this container's limits are on cgroup v1/],
  ];
  for (const [l, re] of cases) assert.throws(() => checkLimits(l, 1), re, JSON.stringify(l));
  // zero leaves a field unset, as in runc
  assert.deepEqual(checkLimits({ memory: { limit: 0, swap: 0 }, cpu: { quota: 0, period: 0, shares: 0 }, blockIO: { weight: 0 } }, 1), []);
  assert.deepEqual(checkLimits({ memory: { limit: -1, swap: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } }, 1), []);
  assert.deepEqual(checkLimits({ memory: { kernel: 1 } }, 1), ['linux.resources.memory.kernel: kernel memory limits are deprecated and ignored']);
  assert.deepEqual(checkLimits({ memory: { kernelTCP: 1 } }, 1), []);
  assert.deepEqual(checkLimits({ memory: { kernelTCP: 1 } }, 2), ['linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit; ignored']);
});

test('v1Writes: memory and swap are paired, -1 lifts both, and the order tolerates old values', () => {
  const memsw = ['memory.memsw.limit_in_bytes'];
  assert.deepEqual(plain({ memory: { limit: 1000, swap: 2000, reservation: 500, swappiness: 0, disableOOMKiller: true } }, memsw), [
    'memory memory.limit_in_bytes=1000',
    'memory memory.memsw.limit_in_bytes=2000',
    'memory memory.soft_limit_in_bytes=500',
    'memory memory.oom_control=1',
    'memory memory.swappiness=0',
  ]);
  assert.deepEqual(plain({ memory: { limit: -1 } }, memsw), ['memory memory.limit_in_bytes=-1', 'memory memory.memsw.limit_in_bytes=-1']);
  assert.deepEqual(plain({ memory: { limit: -1 } }), ['memory memory.limit_in_bytes=-1'], 'without swap accounting there is no memsw to lift');
  const [limit, swap] = v1Writes({ memory: { limit: 1000, swap: 2000 } }, probe(memsw));
  assert.ok(limit!.retry && swap!.retry, 'either may have to wait for the other');
  assert.deepEqual(plain({ memory: { kernel: 1, kernelTCP: 1 } }), ['memory memory.kmem.tcp.limit_in_bytes=1'], 'kernel memory is ignored; the TCP buffer limit is not');
});

test('v1Writes: cpu in runc\'s order, idle before shares, and shares skipped for an idle cgroup', () => {
  assert.deepEqual(plain({ cpu: { shares: 512, period: 100000, quota: 20000, burst: 0, idle: 0, realtimePeriod: 1000000, realtimeRuntime: 10000, cpus: '1', mems: '0' } }), [
    'cpuset cpuset.cpus=1',
    'cpuset cpuset.mems=0',
    'cpu cpu.idle=0',
    'cpu cpu.shares=512',
    'cpu cpu.cfs_period_us=100000',
    'cpu cpu.cfs_burst_us=0',
    'cpu cpu.cfs_quota_us=20000',
    'cpu cpu.rt_period_us=1000000',
    'cpu cpu.rt_runtime_us=10000',
  ]);
  assert.deepEqual(plain({ cpu: { shares: 512, idle: 1 } }), ['cpu cpu.idle=1']);
  const [shares] = v1Writes({ cpu: { shares: 1 } }, probe());
  assert.ok(shares!.verify, 'the kernel clamps shares, so they are read back');
});

test('v1Writes: pids, block I/O files by scheduler, huge pages with rsvd, network, rdma', () => {
  assert.deepEqual(plain({ pids: { limit: 0 } }), ['pids pids.max=max']);
  assert.deepEqual(plain({ pids: { limit: 64 } }), ['pids pids.max=64']);
  const io: Limits = {
    blockIO: {
      weight: 300,
      weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 200 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 300 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
    },
  };
  assert.deepEqual(plain(io, ['blkio.weight']), [
    'blkio blkio.weight=300',
    'blkio blkio.weight_device=8:0 200',
    'blkio blkio.leaf_weight_device=8:0 100',
    'blkio blkio.throttle.read_bps_device=8:0 100',
    'blkio blkio.throttle.write_bps_device=8:0 200',
    'blkio blkio.throttle.read_iops_device=8:0 300',
    'blkio blkio.throttle.write_iops_device=8:0 0',
  ]);
  assert.deepEqual(plain({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } }, ['blkio.bfq.weight']), [
    'blkio blkio.bfq.weight=300',
    'blkio blkio.bfq.weight_device=8:0 200',
  ]);
  const huge = v1Writes({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, probe());
  assert.deepEqual(huge.map((w) => [w.file, w.value, !!w.ifExists]), [
    ['hugetlb.2MB.limit_in_bytes', '4194304', false],
    ['hugetlb.2MB.rsvd.limit_in_bytes', '4194304', true],
  ]);
  assert.deepEqual(plain({ network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] }, rdma: { mlx4_0: { hcaHandles: 2 } } }), [
    'net_cls net_cls.classid=1048577',
    'net_prio net_prio.ifpriomap=eth0 5',
    'rdma rdma.max=mlx4_0 hca_handle=2',
  ]);
  assert.equal(plain({ memory: { limit: 9223372036854775807 } })[0], 'memory memory.limit_in_bytes=9223372036854775808', 'beyond 2^53: written exactly as the double holds it');
});

/** A v1 host in a directory: one hierarchy per controller, the container's dir in each. */
function host(controllers: string[]) {
  const base = mkdtempSync(join(tmpdir(), 'hull-cg1-'));
  const lay: CgroupLayout = { mode: 'v1', hierarchies: controllers.map((c) => ({ version: 1, controllers: [c], mountpoint: join(base, c), mountRoot: '/' })) };
  const dirs = controllers.map((c) => join(base, c, 'hull-test', 'c1'));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const files: Record<string, string[]> = {
    memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness', 'memory.oom_control'],
    cpu: ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us'],
    pids: ['pids.max'],
    hugetlb: ['hugetlb.2MB.limit_in_bytes'],
  };
  for (const c of controllers) for (const f of files[c] ?? []) writeFileSync(join(base, c, 'hull-test', 'c1', f), '');
  return {
    lay,
    dirs,
    read: (c: string, f: string) => readFileSync(join(base, c, 'hull-test', 'c1', f), 'utf8'),
    apply: (l: Limits) => applyResources({ ociVersion: '1.3.0', linux: { resources: l as Resources } } as Spec, { dirs, layout: lay, warn: () => {}, skipDevices: true }),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

test('v1 apply: each write goes to its controller\'s hierarchy; an unmounted one fails by name first', async () => {
  const h = host(['memory', 'cpu', 'pids', 'hugetlb']);
  try {
    await h.apply({ memory: { limit: 1 << 20, swap: 2 << 20 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 7 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
    assert.equal(h.read('memory', 'memory.limit_in_bytes'), String(1 << 20));
    assert.equal(h.read('memory', 'memory.memsw.limit_in_bytes'), String(2 << 20));
    assert.equal(h.read('cpu', 'cpu.cfs_quota_us'), '20000');
    assert.equal(h.read('pids', 'pids.max'), '7');
    assert.equal(h.read('hugetlb', 'hugetlb.2MB.limit_in_bytes'), '0');
    await assert.rejects(h.apply({ pids: { limit: 9 }, network: { classID: 1 } }), (e: Error) => {
      assert.equal(e.message, 'linux.resources.network.classID: needs the net_cls cgroup controller, which is not mounted on this host');
      return true;
    });
    assert.equal(h.read('pids', 'pids.max'), '7', 'nothing written before the refusal');
    await assert.rejects(h.apply({ network: { priorities: [{ name: 'lo', priority: 1 }] } }), /network\.priorities\[0\]: needs the net_prio cgroup controller/);
    await assert.rejects(h.apply({ rdma: { mlx: { hcaObjects: 1 } } }), /rdma\.mlx: needs the rdma cgroup controller/);
    await assert.rejects(h.apply({ blockIO: { weight: 100 } }), /blockIO\.weight: needs the blkio cgroup controller/);
    await assert.rejects(h.apply({ cpu: { cpus: '0' } }), /cpu\.cpus: needs the cpuset cgroup controller/);
    await assert.rejects(h.apply({ hugepageLimits: [{ pageSize: '64KB', limit: 0 }] }), (e: Error) => {
      assert.match(e.message, /^linux\.resources\.hugepageLimits\[0\]: cannot write 0 to .*hugetlb\.64KB\.limit_in_bytes: no such interface file \(64KB is not a huge page size of this host \(it has 2MB\)\)$/);
      return true;
    });
  } finally {
    h.cleanup();
  }
});

test('cgroupsPath: relative paths hang below the runtime\'s own cgroup and cannot climb out of it', () => {
  const base = mkdtempSync(join(tmpdir(), 'hull-cgp-'));
  try {
    const v1: CgroupLayout = { mode: 'v1', hierarchies: [{ version: 1, controllers: ['memory'], mountpoint: join(base, 'memory'), mountRoot: '/' }] };
    const v2: CgroupLayout = { mode: 'v2', hierarchies: [{ version: 2, controllers: [], mountpoint: join(base, 'unified'), mountRoot: '/' }] };
    const ownMem = ownCgroups().get('memory') ?? '/';
    const own2 = ownCgroups().get('cgroup2') ?? '/';
    assert.deepEqual(resolveCgroupDirs('/a/b', 'id', v1), [join(base, 'memory', 'a/b')]);
    assert.deepEqual(resolveCgroupDirs('/a/../../b', 'id', v1), [join(base, 'memory', 'b')], '.. stops at the root');
    assert.deepEqual(resolveCgroupDirs('a/b', 'id', v1), [join(base, 'memory', ownMem, 'a/b')]);
    assert.deepEqual(resolveCgroupDirs('../../../x', 'id', v1), [join(base, 'memory', ownMem, 'x')], '.. stops at the own cgroup');
    assert.deepEqual(resolveCgroupDirs(undefined, 'ctr', v1), [join(base, 'memory', ownMem, 'ctr')], 'the id when no path is given');
    // v2: from the parent of the runtime's own cgroup, which has processes and so cannot delegate
    assert.deepEqual(resolveCgroupDirs('a/b', 'id', v2), [join(base, 'unified', join(own2, '..'), 'a/b')]);
    assert.throws(() => resolveCgroupDirs('/', 'id', v1), /^Error: cgroupsPath "\/": names the root cgroup; the container needs a cgroup of its own$/);
    assert.throws(() => resolveCgroupDirs('a/..', 'id', v1), /cgroupsPath "a\/\.\.": names the runtime's own cgroup/);
    assert.throws(() => resolveCgroupDirs('system.slice:hull:x', 'id', v1), /systemd cgroup driver is not supported/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
