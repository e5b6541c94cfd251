// cgroup v2 limits: the conversions, and what hull writes into a v2 tree. This host's cgroup2
// mount has no controllers, so the controller files are checked in a tree made here: the
// files exist empty, cgroup.controllers lists what is "enabled", and the test reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v2LayoutAt } from '../../src/runtime/cgroups/hierarchy.ts';
import { checkLimits, type Limits } from '../../src/runtime/cgroups/limits.ts';
import { createCgroups, removeCgroups, resolveCgroupDirs } from '../../src/runtime/cgroups/manager.ts';
import { applyResources } from '../../src/runtime/cgroups/resources.ts';
import { cpuWeightFromShares, ioWeightFromBlkio, swapMax } from '../../src/runtime/cgroups/v2.ts';
import type { Resources, Spec } from '../../src/runtime/spec/types.ts';

test('cpu.shares to cpu.weight: the ends and the defaults meet, and the mapping only rises', () => {
  assert.equal(cpuWeightFromShares(0), 0);
  assert.equal(cpuWeightFromShares(1), 1);
  assert.equal(cpuWeightFromShares(2), 1);
  assert.equal(cpuWeightFromShares(1024), 100);
  assert.equal(cpuWeightFromShares(262144), 10000);
  assert.equal(cpuWeightFromShares(1 << 20), 10000);
  // values from the formula by hand: 10^((l²+125l)/612 − 7/34), rounded up
  assert.equal(cpuWeightFromShares(512), 59);
  assert.equal(cpuWeightFromShares(2048), 174);
  let last = 0;
  for (let s = 2; s <= 262144; s += 97) {
    const w = cpuWeightFromShares(s);
    assert.ok(w >= last && w >= 1 && w <= 10000, `weight ${w} for shares ${s}`);
    last = w;
  }
});

test('blkio weight to io.weight and swap to memory.swap.max', () => {
  assert.equal(ioWeightFromBlkio(0), 0);
  assert.equal(ioWeightFromBlkio(10), 1);
  assert.equal(ioWeightFromBlkio(500), 4950);
  assert.equal(ioWeightFromBlkio(1000), 10000);
  assert.equal(swapMax(undefined, undefined), undefined);
  assert.equal(swapMax(0, 1000), undefined);
  assert.equal(swapMax(-1, 1000), 'max');
  assert.equal(swapMax(undefined, -1), 'max');
  assert.equal(swapMax(3000, 1000), '2000');
  assert.equal(swapMax(1000, 1000), '0');
  assert.equal(swapMax(3000, -1), '3000');
});

interface Tree {
  root: string;
  leaf: string;
  read(file: string): string;
  cleanup(): void;
}

const ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma'];
const FILES = [
  'memory.max', 'memory.swap.max', 'memory.low', 'memory.high', 'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle',
  'pids.max', 'io.max', 'io.weight', 'cpuset.cpus', 'cpuset.mems', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max',
  'hugetlb.1GB.max', 'rdma.max', 'cgroup.max.depth', 'cgroup.procs',
];

/** A v2 tree: root (all controllers), root/hull-test, and the container's leaf with its files. */
function tree(enabled = ALL, extra: Record<string, string> = {}): Tree {
  const root = mkdtempSync(join(tmpdir(), 'hull-cg2-'));
  const mid = join(root, 'hull-test');
  const leaf = join(mid, 'c1');
  mkdirSync(leaf, { recursive: true });
  for (const d of [root, mid]) {
    writeFileSync(join(d, 'cgroup.controllers'), ALL.join(' ') + '\n');
    writeFileSync(join(d, 'cgroup.subtree_control'), '');
  }
  writeFileSync(join(leaf, 'cgroup.controllers'), enabled.join(' ') + '\n');
  for (const f of FILES) writeFileSync(join(leaf, f), '');
  for (const [f, v] of Object.entries(extra)) writeFileSync(join(leaf, f), v);
  return {
    root,
    leaf,
    read: (f) => readFileSync(join(leaf, f), 'utf8'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

async function apply(t: Tree, resources: Limits, update = false): Promise<string[]> {
  const warnings: string[] = [];
  const spec = { ociVersion: '1.3.0', linux: { resources: resources as Resources } } as Spec;
  await applyResources(spec, { dirs: [t.leaf], layout: v2LayoutAt(t.root, ''), warn: (m) => warnings.push(m), update, skipDevices: true });
  return warnings;
}

test('v2: memory, cpu, pids, cpuset and hugetlb land in their files', async () => {
  const t = tree();
  try {
    await apply(t, {
      memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 },
      cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 0, cpus: '0-1', mems: '0' },
      pids: { limit: 100 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }, { pageSize: '1GB', limit: 0 }],
    });
    assert.equal(t.read('memory.max'), String(64 << 20));
    assert.equal(t.read('memory.swap.max'), String(64 << 20), 'swap.max is swap alone: (memory+swap) − memory');
    assert.equal(t.read('memory.low'), String(32 << 20));
    assert.equal(t.read('cpu.weight'), '100');
    assert.equal(t.read('cpu.max'), '50000 100000');
    assert.equal(t.read('cpu.max.burst'), '1000');
    assert.equal(t.read('cpu.idle'), '0');
    assert.equal(t.read('pids.max'), '100');
    assert.equal(t.read('cpuset.cpus'), '0-1');
    assert.equal(t.read('cpuset.mems'), '0');
    assert.equal(t.read('hugetlb.2MB.max'), String(4 << 20));
    assert.equal(t.read('hugetlb.2MB.rsvd.max'), String(4 << 20));
    assert.equal(t.read('hugetlb.1GB.max'), '0', 'no rsvd file for 1GB here: skipped, not an error');
    assert.ok(!existsSync(join(t.leaf, 'hugetlb.1GB.rsvd.max')), 'nothing created');
  } finally {
    t.cleanup();
  }
});

test('v2: "no limit" values become max, and a period alone keeps the quota unlimited', async () => {
  const t = tree();
  try {
    await apply(t, { memory: { limit: -1 }, pids: { limit: -1 }, cpu: { period: 50000 } });
    assert.equal(t.read('memory.max'), 'max');
    assert.equal(t.read('memory.swap.max'), 'max', 'no memory limit and no swap given: swap unlimited too');
    assert.equal(t.read('pids.max'), 'max');
    assert.equal(t.read('cpu.max'), 'max 50000');
    await apply(t, { pids: { limit: 0 }, cpu: { quota: 20000 } });
    assert.equal(t.read('pids.max'), 'max', '0 means no limit, as -1');
    assert.equal(t.read('cpu.max'), '20000 100000', 'the default period');
  } finally {
    t.cleanup();
  }
});

test('v2: block I/O goes to io.max and io.weight, or to io.bfq.weight when BFQ is there', async () => {
  const t = tree();
  try {
    await apply(t, { blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] } });
    assert.equal(t.read('io.weight'), '4950');
    assert.equal(t.read('io.max'), '8:0 rbps=1048576');
    await apply(t, { blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }] } });
    assert.equal(t.read('io.max'), '8:16 wiops=max', 'a rate of 0 lifts the limit');
    await assert.rejects(apply(t, { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }] } }), (e: Error) => {
      assert.match(e.message, /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: cannot write "8:0 300" to .*io\.bfq\.weight: no such interface file \(per-device weights need the BFQ/);
      return true;
    });
  } finally {
    t.cleanup();
  }
  const b = tree(ALL, { 'io.bfq.weight': 'default 100\n' });
  try {
    await apply(b, { blockIO: { weight: 300 } });
    assert.equal(b.read('io.bfq.weight'), '300', 'BFQ takes the blkio range as it is');
    assert.equal(b.read('io.weight'), '', 'and io.weight is left alone');
  } finally {
    b.cleanup();
  }
});

test('v2: a limit whose controller is not enabled fails by name, before anything is written', async () => {
  const t = tree(['cpu', 'pids']);
  try {
    await assert.rejects(apply(t, { pids: { limit: 10 }, memory: { limit: 1 << 20 } }), (e: Error) => {
      assert.equal(
        e.message,
        `linux.resources.memory.limit: needs the memory controller, which is not enabled for ${t.leaf} ` +
          '(its cgroup.controllers lists cpu pids; the parent cgroup must delegate it in cgroup.subtree_control)',
      );
      return true;
    });
    assert.equal(t.read('pids.max'), '', 'pids was not written either');
    await assert.rejects(apply(t, { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }), /hugepageLimits\[0\]: needs the hugetlb controller/);
    await assert.rejects(apply(t, { blockIO: { weight: 100 } }), /blockIO\.weight: needs the io controller/);
    await assert.rejects(apply(t, { cpu: { cpus: '0' } }), /cpu\.cpus: needs the cpuset controller/);
  } finally {
    t.cleanup();
  }
});

test('v2: an unknown huge page size names the sizes the host has', async () => {
  const t = tree();
  try {
    await assert.rejects(apply(t, { hugepageLimits: [{ pageSize: '3MB', limit: 0 }] }), (e: Error) => {
      assert.match(e.message, /^linux\.resources\.hugepageLimits\[0\]: cannot write 0 to .*hugetlb\.3MB\.max: no such interface file \(3MB is not a huge page size of this host \(it has (1GB, 2MB|2MB, 1GB)\)\)$/);
      return true;
    });
  } finally {
    t.cleanup();
  }
});

test('v2: unified keys are written last and checked for form and controller', async () => {
  const t = tree(['memory']);
  try {
    await apply(t, { memory: { limit: 1000 }, unified: { 'memory.max': '2000', 'memory.high': '1500', 'cgroup.max.depth': '3' } });
    assert.equal(t.read('memory.max'), '2000', 'unified wins over the typed field');
    assert.equal(t.read('memory.high'), '1500');
    assert.equal(t.read('cgroup.max.depth'), '3');
    const refused: [Record<string, string>, RegExp][] = [
      [{ '../memory.max': '1' }, /unified\["\.\.\/memory\.max"\]: must name an interface file .* without "\/"/],
      [{ 'memory': '1' }, /unified\["memory"\]: must be CONTROLLER\.PARAMETER/],
      [{ 'cgroup.procs': '1' }, /unified\["cgroup\.procs"\]: cgroup\.procs is managed by the runtime/],
      [{ 'cgroup.subtree_control': '+memory' }, /managed by the runtime/],
      [{ 'pids.max': '10' }, /unified\["pids\.max"\]: needs the pids controller, which is not enabled/],
      [{ 'memory.nonesuch': '1' }, /unified\["memory\.nonesuch"\]: cannot write 1 to .*memory\.nonesuch: no such interface file/],
    ];
    for (const [unified, re] of refused) await assert.rejects(apply(t, { unified }), re);
  } finally {
    t.cleanup();
  }
});

test('v2: what only v1 can express is refused, not dropped', () => {
  const cases: [Limits, RegExp][] = [
    [{ memory: { swappiness: 10 } }, /memory\.swappiness: cgroup v2 has no per-cgroup swappiness/],
    [{ memory: { disableOOMKiller: true } }, /memory\.disableOOMKiller: cgroup v2 cannot disable the OOM killer/],
    [{ cpu: { realtimeRuntime: 1000 } }, /cpu\.realtimeRuntime: cgroup v2 has no realtime CPU controls/],
    [{ cpu: { realtimePeriod: 1000 } }, /cpu\.realtimePeriod: cgroup v2 has no realtime/],
    [{ blockIO: { leafWeight: 100 } }, /blockIO\.leafWeight: cgroup v2 has no leaf weights/],
    [{ network: { classID: 1 } }, /network: cgroup v2 has no net_cls or net_prio/],
  ];
  for (const [l, re] of cases) {
    assert.throws(() => checkLimits(l, 2), re);
    assert.doesNotThrow(() => checkLimits(l, 1), 'v1 takes it');
  }
  assert.doesNotThrow(() => checkLimits({ memory: { disableOOMKiller: false, useHierarchy: true } }, 2));
  assert.deepEqual(checkLimits({ memory: { kernel: 1 << 20 } }, 2), ['linux.resources.memory.kernel: kernel memory limits are deprecated and ignored']);
});

test('v2 update: checkBeforeUpdate refuses a limit at or below the usage', async () => {
  const t = tree(ALL, { 'memory.current': '1000000\n' });
  try {
    await assert.rejects(apply(t, { memory: { limit: 500000, checkBeforeUpdate: true } }, true), (e: Error) => {
      assert.equal(e.message, 'linux.resources.memory.limit: 500000 is not above the container\'s current memory usage of 1000000 bytes (memory.checkBeforeUpdate is set)');
      return true;
    });
    assert.equal(t.read('memory.max'), '');
    await apply(t, { memory: { limit: 2000000, checkBeforeUpdate: true } }, true);
    assert.equal(t.read('memory.max'), '2000000');
    // at its limit: an update that leaves the limit as it is still goes through
    writeFileSync(join(t.leaf, 'memory.current'), '2000000\n');
    await apply(t, { memory: { limit: 2000000, checkBeforeUpdate: true }, pids: { limit: 5 } }, true);
    assert.equal(t.read('pids.max'), '5');
    await apply(t, { memory: { limit: 500000 } }, true);
    assert.equal(t.read('memory.max'), '500000', 'without the flag the kernel decides (it reclaims or OOM-kills)');
  } finally {
    t.cleanup();
  }
});

test('v2 create: controllers are delegated down the tree, the cgroup removed again', () => {
  const t = tree();
  try {
    const lay = v2LayoutAt(t.root, '');
    const [dir] = resolveCgroupDirs('/hull-test/a/b', 'id', lay);
    assert.equal(dir, join(t.root, 'hull-test/a/b'));
    const made = createCgroups([dir!], lay);
    assert.deepEqual(made.created, [join(t.root, 'hull-test/a'), join(t.root, 'hull-test/a/b')]);
    // root and hull-test offer every controller; "a" is a plain directory here, so offers none
    assert.equal(readFileSync(join(t.root, 'cgroup.subtree_control'), 'utf8'), ALL.map((c) => `+${c}`).join(' '));
    assert.equal(readFileSync(join(t.root, 'hull-test/cgroup.subtree_control'), 'utf8'), ALL.map((c) => `+${c}`).join(' '));
    assert.ok(!existsSync(join(t.root, 'hull-test/a/b/cgroup.subtree_control')), 'the leaf itself delegates nothing');
    assert.deepEqual(removeCgroups(made.created, [dir!]), []);
    assert.ok(!existsSync(join(t.root, 'hull-test/a')));
  } finally {
    t.cleanup();
  }
});

test('v2 layout under the test knob: a root inside a cgroup2 mount keeps its place in the tree', () => {
  const mountinfo = [
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  ].join('\n');
  const at = v2LayoutAt('/sys/fs/cgroup/unified/', mountinfo);
  assert.equal(at.mode, 'v2');
  assert.equal(at.hierarchies.length, 1);
  assert.deepEqual({ ...at.hierarchies[0], controllers: [] }, { version: 2, controllers: [], mountpoint: '/sys/fs/cgroup/unified', mountRoot: '/' });
  const sub = v2LayoutAt('/sys/fs/cgroup/unified/hull-sub', mountinfo);
  assert.equal(sub.hierarchies[0]!.mountRoot, '/hull-sub');
  assert.equal(sub.hierarchies[0]!.mountpoint, '/sys/fs/cgroup/unified/hull-sub');
  assert.equal(resolveCgroupDirs('/x/y', 'id', sub)[0], '/sys/fs/cgroup/unified/hull-sub/x/y', 'absolute: from the knob root');
});
