// linux.resources on this host's cgroup v1 hierarchies, for real: each limit lands in its
// file, the kernel enforces the big three (memory, pids, cpu quota), and bad values fail
// clearly at create, leaving nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Resources } from '../../src/runtime/spec/types.ts';
import { assertNoLeaks, bundle, runDetached, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

const V1 = '/sys/fs/cgroup';
const cg = (x: Bundle, controller: string, file: string) => readFileSync(join(V1, controller, 'hull-test', x.id, file), 'utf8').trim();

function withResources(args: string[], resources: Resources): Bundle {
  const x = bundle(args);
  x.spec.linux!.resources = { ...x.spec.linux!.resources, ...resources };
  x.save();
  return x;
}

/** A real block device of this host: "major:minor" from /sys/block. */
function blockDevice(): { major: number; minor: number } {
  for (const name of readdirSync('/sys/block').sort((a, b) => Number(a.startsWith('loop')) - Number(b.startsWith('loop')))) {
    const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
    return { major: major!, minor: minor! };
  }
  throw new Error('no block device on this host');
}

/** create must fail with a message matching what, and leave no cgroup, process or state. */
function createFails(x: Bundle, what: RegExp): string {
  const r = x.rt(['create', x.id]);
  assert.notEqual(r.status, 0, `create should fail (${what})`);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace instead of a message');
  assertNoLeaks(x);
  return r.stderr;
}

test('every v1 limit this kernel has lands in its file', () => {
  const dev = blockDevice();
  b = withResources(['sleep', '100'], {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true, useHierarchy: true, kernelTCP: 1 << 20 },
    cpu: { shares: 512, quota: 30000, period: 100000, burst: 10000, idle: 0, cpus: '1', mems: '0' },
    pids: { limit: 64 },
    blockIO: {
      weight: 500,
      throttleReadBpsDevice: [{ major: dev.major, minor: dev.minor, rate: 1 << 20 }],
      throttleWriteBpsDevice: [{ major: dev.major, minor: dev.minor, rate: 2 << 20 }],
      throttleReadIOPSDevice: [{ major: dev.major, minor: dev.minor, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: dev.major, minor: dev.minor, rate: 200 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }],
  });
  const r = b.rt(['create', b.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /kernelTCP/, 'the v1 TCP buffer limit still works, and is set as crun sets it');
  assert.equal(cg(b, 'memory', 'memory.kmem.tcp.limit_in_bytes'), String(1 << 20));
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(64 << 20));
  assert.equal(cg(b, 'memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
  assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), String(128 << 20));
  assert.equal(cg(b, 'memory', 'memory.swappiness'), '10');
  assert.match(cg(b, 'memory', 'memory.oom_control'), /^oom_kill_disable 1$/m);
  assert.equal(cg(b, 'memory', 'memory.use_hierarchy'), '1');
  assert.equal(cg(b, 'cpu', 'cpu.shares'), '512');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '30000');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_period_us'), '100000');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_burst_us'), '10000');
  assert.equal(cg(b, 'cpu', 'cpu.idle'), '0');
  assert.equal(cg(b, 'cpuset', 'cpuset.cpus'), '1');
  assert.equal(cg(b, 'cpuset', 'cpuset.mems'), '0');
  assert.equal(cg(b, 'pids', 'pids.max'), '64');
  const d = `${dev.major}:${dev.minor}`;
  assert.equal(cg(b, 'blkio', 'blkio.throttle.read_bps_device'), `${d} ${1 << 20}`);
  assert.equal(cg(b, 'blkio', 'blkio.throttle.write_bps_device'), `${d} ${2 << 20}`);
  assert.equal(cg(b, 'blkio', 'blkio.throttle.read_iops_device'), `${d} 100`);
  assert.equal(cg(b, 'blkio', 'blkio.throttle.write_iops_device'), `${d} 200`);
  // without CFQ (gone since 5.0) the weight is BFQ's, as runc finds it
  const bfq = !existsSync(join(V1, 'blkio', 'hull-test', b.id, 'blkio.weight'));
  assert.equal(cg(b, 'blkio', bfq ? 'blkio.bfq.weight' : 'blkio.weight'), '500');
  assert.equal(cg(b, 'hugetlb', 'hugetlb.2MB.limit_in_bytes'), String(4 << 20));
  if (existsSync(join(V1, 'hugetlb', 'hull-test', b.id, 'hugetlb.2MB.rsvd.limit_in_bytes'))) {
    assert.equal(cg(b, 'hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes'), String(4 << 20), 'the reservation limit too, as runc');
  }
  // the container's init is already in every one of them
  const pid = stateOf(b).pid;
  for (const c of ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'hugetlb']) {
    assert.ok(cg(b, c, 'cgroup.procs').split('\n').includes(String(pid)), `init in ${c}`);
  }
});

test('-1 means no limit, and an idle cgroup gets no shares', () => {
  b = withResources(['true'], { memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1, shares: 512, idle: 1 } });
  b.ok(['create', b.id]);
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), '9223372036854771712');
  assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712');
  assert.equal(cg(b, 'pids', 'pids.max'), 'max');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '-1');
  assert.equal(cg(b, 'cpu', 'cpu.idle'), '1');
});

test('realtime runtime and period, in a cgroup whose parent has realtime time to give', () => {
  // /hull-test/ has no realtime budget of its own, so this container hangs off the root
  b = bundle(['true'], (s) => {
    s.linux!.cgroupsPath = `/hull-rt-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    s.linux!.resources = { ...s.linux!.resources, cpu: { realtimePeriod: 500000, realtimeRuntime: 10000 } };
  });
  const dir = join(V1, 'cpu', b.spec.linux!.cgroupsPath!);
  if (!existsSync(join(V1, 'cpu', 'cpu.rt_runtime_us'))) {
    // a kernel without CONFIG_RT_GROUP_SCHED: the limit asked for must fail clearly instead
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /linux\.resources\.cpu\.realtimePeriod: .*CONFIG_RT_GROUP_SCHED/);
    assert.ok(!existsSync(dir), 'no cgroup left by the failed create');
    return;
  }
  try {
    b.ok(['create', b.id]);
    assert.equal(readFileSync(join(dir, 'cpu.rt_period_us'), 'utf8').trim(), '500000');
    assert.equal(readFileSync(join(dir, 'cpu.rt_runtime_us'), 'utf8').trim(), '10000');
    b.ok(['delete', '--force', b.id]);
    assert.ok(!existsSync(dir), 'removed with the container');
  } finally {
    if (existsSync(dir)) b.rt(['delete', '--force', b.id]);
  }
});

test('acceptance: a process allocating past the memory limit is OOM-killed', async () => {
  // awk doubles a string until the kernel stops it
  b = withResources(['awk', 'BEGIN { s = "0123456789abcdef"; while (1) s = s s }'], { memory: { limit: 32 << 20, swap: 32 << 20 } });
  runDetached(b);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the allocating process to die');
  assert.match(cg(b, 'memory', 'memory.oom_control'), /^oom_kill [1-9]\d*$/m, 'killed by the OOM killer');
  assert.ok(Number(cg(b, 'memory', 'memory.max_usage_in_bytes')) <= 32 << 20, 'never above the limit');
  // and a foreground run reports the SIGKILL as 128 + 9
  b.ok(['delete', b.id]);
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 137, r.stderr);
});

test('acceptance: a pids limit stops a fork bomb', async () => {
  // each shell forks two more and lingers; without the limit this grows without end
  b = withResources(['sh', '-c', 'bomb() { bomb & bomb & sleep 5; }; bomb 2>/dev/null'], { pids: { limit: 24 } });
  runDetached(b);
  await waitFor(() => /^max [1-9]/m.test(cg(b!, 'pids', 'pids.events')), 'forks to hit the limit');
  assert.ok(Number(cg(b, 'pids', 'pids.current')) <= 24, `pids.current ${cg(b, 'pids', 'pids.current')}`);
  assert.equal(stateOf(b).status, 'running', 'the container itself lives on');
  b.ok(['delete', '--force', b.id]);
});

test('acceptance: a cpu quota holds a busy loop near its share', async () => {
  b = withResources(['sh', '-c', 'while :; do :; done'], { cpu: { quota: 20000, period: 100000 } });
  runDetached(b);
  const usage = () => BigInt(cg(b!, 'cpuacct', 'cpuacct.usage'));
  await new Promise((r) => setTimeout(r, 200)); // past the start-up
  const u0 = usage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, 1000));
  const share = Number(usage() - u0) / Number(process.hrtime.bigint() - t0);
  assert.ok(share > 0.05 && share < 0.4, `used ${(share * 100).toFixed(1)}% of a CPU with a 20% quota`);
  b.ok(['delete', '--force', b.id]);
});

test('bad values fail clearly at create and leave nothing behind', () => {
  const dev = blockDevice();
  let missing = dev.minor + 200;
  while (existsSync(`/sys/dev/block/${dev.major}:${missing}`)) missing++;
  const cases: [Resources, RegExp][] = [
    [{ memory: { limit: -5 } }, /linux\.resources\.memory\.limit: -5 is not allowed/],
    [{ memory: { limit: 64 << 20, swap: 32 << 20 } }, /linux\.resources\.memory\.swap: 33554432 is below memory\.limit 67108864/],
    [{ memory: { swappiness: 200 } }, /linux\.resources\.memory\.swappiness: 200 is out of range \(0 to 100\)/],
    [{ memory: { useHierarchy: false } }, /linux\.resources\.memory\.useHierarchy: cannot write 0 to \/sys\/fs\/cgroup\/memory\/hull-test\/.*\/memory\.use_hierarchy: Invalid argument \(kernels since 5\.16 always account hierarchically/],
    [{ cpu: { shares: 1 } }, /linux\.resources\.cpu\.shares: cannot write 1 to \/sys\/fs\/cgroup\/cpu\/hull-test\/.*\/cpu\.shares: the kernel took 2 instead \(out of its range\) \(the kernel allows 2 to 262144\)/],
    [{ cpu: { quota: 100 } }, /linux\.resources\.cpu\.quota: 100 µs is below the kernel's minimum of 1000 µs/],
    [{ cpu: { cpus: '7' } }, /linux\.resources\.cpu\.cpus: cannot write 7 to \/sys\/fs\/cgroup\/cpuset\/hull-test\/.*\/cpuset\.cpus: Numerical result out of range \(this cgroup may use cpus 0-1\)/],
    [{ cpu: { mems: '5' } }, /linux\.resources\.cpu\.mems: cannot write 5 to .*cpuset\.mems: Invalid argument \(this cgroup may use memory nodes 0\)/],
    [{ pids: { limit: -2 } }, /linux\.resources\.pids\.limit: -2 is not allowed/],
    [{ hugepageLimits: [{ pageSize: '3MB', limit: 0 }] }, /linux\.resources\.hugepageLimits\[0\]: cannot write 0 to .*hugetlb\.3MB\.limit_in_bytes: no such interface file \(3MB is not a huge page size of this host \(it has [0-9A-Z, ]*2MB/],
    [
      { blockIO: { throttleReadBpsDevice: [{ major: dev.major, minor: missing, rate: 1024 }] } },
      new RegExp(`linux\\.resources\\.blockIO\\.throttleReadBpsDevice\\[0\\]: cannot write "${dev.major}:${missing} 1024" to .*blkio\\.throttle\\.read_bps_device: No such device \\(no block device ${dev.major}:${missing} on this host\\)`),
    ],
    [{ blockIO: { leafWeight: 500 } }, /linux\.resources\.blockIO\.leafWeight: cannot write 500 to .*blkio\.leaf_weight: no such interface file \(leaf weights went with the CFQ scheduler/],
    [{ network: { classID: 0x100001 } }, /linux\.resources\.network\.classID: needs the net_cls cgroup controller, which is not mounted on this host/],
    [{ rdma: { mlx4_0: { hcaHandles: 1 } } }, /linux\.resources\.rdma\.mlx4_0: needs the rdma cgroup controller, which is not mounted/],
    [{ unified: { 'memory.high': '1' } }, /linux\.resources\.unified: needs cgroup v2, and this container's limits are on cgroup v1/],
  ];
  // a per-device weight needs BFQ on that device
  const scheduler = readFileSync(`/sys/dev/block/${dev.major}:${dev.minor}/queue/scheduler`, 'utf8');
  if (!scheduler.includes('[bfq]')) {
    cases.push([
      { blockIO: { weightDevice: [{ major: dev.major, minor: dev.minor, weight: 300 }] } },
      new RegExp(`linux\\.resources\\.blockIO\\.weightDevice\\[0\\]\\.weight: cannot write "${dev.major}:${dev.minor} 300" to .*weight_device: Operation not supported \\(block device ${dev.major}:${dev.minor} does not use the BFQ I/O scheduler`),
    ]);
  }
  for (const [resources, what] of cases) {
    const x = withResources(['true'], resources);
    try {
      createFails(x, what);
    } finally {
      x.cleanup();
    }
  }
});
