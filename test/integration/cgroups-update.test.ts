// `hull-runtime update` on live containers: on this host's v1 hierarchies for real, and on
// the cgroup2 tree through HULL_CGROUP_V2_ROOT, where a limit without its controller fails.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Resources } from '../../src/runtime/spec/types.ts';
import { bundle, runDetached, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

const cg = (x: Bundle, controller: string, file: string) => readFileSync(join('/sys/fs/cgroup', controller, 'hull-test', x.id, file), 'utf8').trim();
const saved = (x: Bundle) => (JSON.parse(readFileSync(join(x.root, x.id, 'state.json'), 'utf8')) as { config: { linux: { resources: Resources } } }).config.linux.resources;

function running(resources: Resources, args = ['sleep', '100']): Bundle {
  const x = bundle(args, (s) => {
    s.linux!.resources = { ...s.linux!.resources, ...resources };
  });
  runDetached(x);
  return x;
}

test('update: runc\'s flags change the live limits, and a second update builds on the first', () => {
  b = running({ memory: { limit: 64 << 20, swap: 64 << 20 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 50 } });
  // raising memory above the old memory+swap limit needs memsw first; lowering needs it last
  b.ok(['update', '--memory', '256m', '--memory-swap', '512m', '--cpu-quota', '50000', '--pids-limit', '100', '--cpuset-cpus', '0', '--cpu-share', '256', b.id]);
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(256 << 20));
  assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), String(512 << 20));
  assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '50000');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_period_us'), '100000', 'the period given at create stays');
  assert.equal(cg(b, 'cpu', 'cpu.shares'), '256');
  assert.equal(cg(b, 'pids', 'pids.max'), '100');
  assert.equal(cg(b, 'cpuset', 'cpuset.cpus'), '0');
  b.ok(['update', '--memory', '32m', '--memory-swap', '48m', '--cpu-period', '50000', '--memory-reservation', '16m', b.id]);
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(32 << 20));
  assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), String(48 << 20));
  assert.equal(cg(b, 'memory', 'memory.soft_limit_in_bytes'), String(16 << 20));
  assert.equal(cg(b, 'cpu', 'cpu.cfs_period_us'), '50000');
  assert.equal(cg(b, 'cpu', 'cpu.cfs_quota_us'), '50000', 'the quota of the first update stays');
  const r = saved(b);
  assert.deepEqual(r.memory, { limit: 32 << 20, swap: 48 << 20, reservation: 16 << 20 });
  assert.deepEqual(r.cpu, { quota: 50000, period: 50000, cpus: '0', shares: 256 });
  assert.deepEqual(r.pids, { limit: 100 });
  assert.ok(Array.isArray(r.devices), 'the device rules are kept');
  // -1 lifts the memory limit and, with no swap given, the swap limit
  b.ok(['update', '--memory', '-1', '--pids-limit', '-1', b.id]);
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), '9223372036854771712');
  assert.equal(cg(b, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712');
  assert.equal(cg(b, 'pids', 'pids.max'), 'max');
  assert.equal(stateOf(b).status, 'running');
});

test('update -r: a resources document from a file or stdin', () => {
  b = running({});
  const file = join(b.dir, 'r.json');
  writeFileSync(file, JSON.stringify({ cpu: { shares: 700, cpus: '1' }, hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] }));
  b.ok(['update', '-r', file, '--cpu-share', '5', b.id]);
  assert.equal(cg(b, 'cpu', 'cpu.shares'), '700', 'the other flags are ignored');
  assert.equal(cg(b, 'cpuset', 'cpuset.cpus'), '1');
  assert.equal(cg(b, 'hugetlb', 'hugetlb.2MB.limit_in_bytes'), String(2 << 20));
  b.ok(['update', '--resources', '-', b.id], { input: JSON.stringify({ memory: { limit: 100 << 20 } }) });
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(100 << 20));
  const bad = b.rt(['update', '-r', '-', b.id], { input: '{"pids": {"limit": "ten"}}' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--resources -: linux\.resources\.pids\.limit: must be an integer/);
});

test('update: bad values fail clearly and change nothing that was saved', () => {
  b = running({ memory: { limit: 64 << 20 }, cpu: { shares: 512 } });
  const cases: [string[], RegExp][] = [
    [['--memory', '128m', '--memory-swap', '64m'], /linux\.resources\.memory\.swap: 67108864 is below memory\.limit 134217728/],
    [['--memory', 'lots'], /invalid value for memory: invalid size "lots"/],
    [['--cpu-share', '1'], /linux\.resources\.cpu\.shares: cannot write 1 to .*cpu\.shares: the kernel took 2 instead/],
    [['--cpuset-cpus', '9'], /linux\.resources\.cpu\.cpus: cannot write 9 to .*cpuset\.cpus: Numerical result out of range \(this cgroup may use cpus 0-1\)/],
    [['--cpu-quota', '10'], /linux\.resources\.cpu\.quota: 10 µs is below the kernel's minimum/],
    [['--pids-limit', '-7'], /linux\.resources\.pids\.limit: -7 is not allowed/],
    [['--blkio-weight', '5000'], /linux\.resources\.blockIO\.weight: 5000 is out of range \(10 to 1000/],
    [['--l3-cache-schema', 'L3:0=f'], /cannot update Intel RDT: this host has no resctrl filesystem mounted/],
    [['--cpu-period', 'x'], /invalid value for cpu-period: "x" is not an integer/],
  ];
  const before = saved(b);
  for (const [flags, what] of cases) {
    const r = b.rt(['update', ...flags, b.id]);
    assert.notEqual(r.status, 0, flags.join(' '));
    assert.match(r.stderr, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.deepEqual(saved(b), before);
  const warned = b.rt(['update', '--kernel-memory', '10m', b.id]);
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, /warning: linux\.resources\.memory\.kernel: kernel memory limits are deprecated and ignored/);
});

test('update: a limit below the memory in use fails with the usage, and the old limit stays', async () => {
  // tmpfs pages cannot be reclaimed without swap, so 24 MiB in /dev/shm stays charged
  b = running({ memory: { limit: 64 << 20, swap: 64 << 20 } }, ['sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; touch /dev/shm/done; sleep 100']);
  await waitFor(() => Number(cg(b!, 'memory', 'memory.usage_in_bytes')) > 24 << 20, 'the container to fill /dev/shm');
  const r = b.rt(['update', '--memory', '8m', '--memory-swap', '8m', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.resources\.memory\.limit: cannot write 8388608 to \/sys\/fs\/cgroup\/memory\/hull-test\/\S+\/memory\.limit_in_bytes: Device or resource busy \(the cgroup uses \d+ bytes now \(\d+ at peak\) and the kernel could not reclaim enough to go below 8388608\)/);
  assert.equal(cg(b, 'memory', 'memory.limit_in_bytes'), String(64 << 20));
  assert.equal(saved(b).memory?.limit, 64 << 20);
  assert.equal(stateOf(b).status, 'running', 'nothing was killed');
});

test('update: a created or paused container can be updated, a stopped one cannot', () => {
  b = bundle(['true']);
  b.ok(['create', b.id]);
  b.ok(['update', '--pids-limit', '20', b.id]);
  assert.equal(cg(b, 'pids', 'pids.max'), '20');
  b.ok(['pause', b.id]);
  assert.equal(stateOf(b).status, 'paused');
  b.ok(['update', '--pids-limit', '30', b.id]);
  assert.equal(cg(b, 'pids', 'pids.max'), '30');
  assert.equal(stateOf(b).status, 'paused', 'still paused');
  b.ok(['resume', b.id]);
  b.ok(['start', b.id]);
  return waitFor(() => stateOf(b!).status === 'stopped', 'the container to exit').then(() => {
    const r = b!.rt(['update', '--pids-limit', '40', b!.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`cannot update container ${b!.id}: it is stopped`));
    const none = b!.rt(['update', '--pids-limit', '40', 'nonesuch']);
    assert.match(none.stderr, /container nonesuch does not exist/);
  });
});

test('update on the v2 knob tree: core files apply, a limit without its controller fails', () => {
  const env = { ...process.env, HULL_CGROUP_V2_ROOT: '/sys/fs/cgroup/unified' };
  b = bundle(['sleep', '100']);
  b.ok(['run', '--detach', b.id], { env });
  const dir = join('/sys/fs/cgroup/unified/hull-test', b.id);
  b.ok(['update', '-r', '-', b.id], { env, input: JSON.stringify({ unified: { 'cgroup.max.descendants': '3' } }) });
  assert.equal(readFileSync(join(dir, 'cgroup.max.descendants'), 'utf8').trim(), '3');
  for (const [flags, what] of [
    [['--memory', '64m'], /linux\.resources\.memory\.limit: needs the memory controller, which is not enabled for \/sys\/fs\/cgroup\/unified\/hull-test\/\S+ \(its cgroup\.controllers lists none/],
    [['--pids-limit', '10'], /linux\.resources\.pids\.limit: needs the pids controller/],
    [['--cpu-quota', '20000'], /linux\.resources\.cpu\.quota: needs the cpu controller/],
    [['--cpuset-cpus', '0'], /linux\.resources\.cpu\.cpus: needs the cpuset controller/],
    [['--cpu-rt-runtime', '1000'], /linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime CPU controls/],
  ] as const) {
    const r = b.rt(['update', ...flags, b.id], { env });
    assert.notEqual(r.status, 0, flags.join(' '));
    assert.match(r.stderr, what);
  }
  // made under the knob, updated without it: the saved directory still says v2
  const r = b.rt(['update', '--memory', '64m', b.id]);
  assert.match(r.stderr, /linux\.resources\.memory\.limit: needs the memory controller, which is not enabled/);
  assert.deepEqual(saved(b).unified, { 'cgroup.max.descendants': '3' });
  b.ok(['delete', '--force', b.id], { env });
});
