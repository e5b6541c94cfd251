// Statistics parsers and runc's `events` JSON, on fixture text written from the kernel's
// documented formats (the v2 controller files do not exist on this host's cgroup2 tree).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerCgroup } from '../../src/runtime/cgroups/controllers.ts';
import type { Hierarchy } from '../../src/runtime/cgroups/hierarchy.ts';
import { watchOom } from '../../src/runtime/cgroups/oom.ts';
import { encodeEvent, encodeStats } from '../../src/runtime/cgroups/stats-json.ts';
import {
  U64_MAX, hugePageSizes, parseBlkio, parseCpuList, parseIoStat, parseKeyValues, parseU64, parseUsageAll,
} from '../../src/runtime/cgroups/stats-parse.ts';
import { emptyStats, statsV1, statsV2, type Reader } from '../../src/runtime/cgroups/stats.ts';
import { parseDuration } from '../../src/runtime/cli/events.ts';

/** A Reader over fixture files: path → text; anything else is missing. */
function fixture(files: Record<string, string>): Reader {
  return (dir, file) => files[join(dir, file)];
}

const V2 = '/cg/c1';
const v2Files: Record<string, string> = {
  [`${V2}/cpu.stat`]: [
    'usage_usec 2500123', 'user_usec 1500000', 'system_usec 1000123', 'nice_usec 0', 'core_sched.force_idle_usec 0',
    'nr_periods 40', 'nr_throttled 3', 'throttled_usec 120000', 'nr_bursts 0', 'burst_usec 0', '',
  ].join('\n'),
  [`${V2}/memory.stat`]: 'anon 1048576\nfile 2097152\nkernel 65536\nsock 0\nshmem 0\npgfault 812\n',
  [`${V2}/memory.current`]: '3211264\n',
  [`${V2}/memory.max`]: '104857600\n',
  [`${V2}/memory.peak`]: '4194304\n',
  [`${V2}/memory.swap.current`]: '4096\n',
  [`${V2}/memory.swap.max`]: 'max\n',
  [`${V2}/pids.current`]: '3\n',
  [`${V2}/pids.max`]: '100\n',
  [`${V2}/io.stat`]: '254:0 rbytes=1990656 wbytes=5242880 rios=6 wios=2 dbytes=0 dios=0\n8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  [`${V2}/hugetlb.2MB.current`]: '4194304\n',
  [`${V2}/hugetlb.2MB.events`]: 'max 1\n',
  [`${V2}/hugetlb.1GB.current`]: '0\n',
  [`${V2}/hugetlb.1GB.events`]: 'max 0\n',
};

test('v2: cpu.stat, memory.*, pids.*, io.stat and hugetlb.* in runc\'s events shape', () => {
  const s = statsV2(V2, fixture(v2Files), ['1GB', '2MB']);
  assert.equal(
    encodeStats(s),
    '{"cpu":{"usage":{"total":2500123000,"kernel":1000123000,"user":1500000000},' +
      '"throttling":{"periods":40,"throttledPeriods":3,"throttledTime":120000000}},' +
      '"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,' +
      '"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"cache":2097152,"usage":{"limit":104857600,"usage":3211264,"max":4194304,"failcnt":0},' +
      // v1 reports memory+swap as swap, so runc adds them up on v2; "max" (no limit) stays 2^64-1
      '"swap":{"limit":18446744073709551615,"usage":3215360,"failcnt":0},' +
      '"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},' +
      '"raw":{"anon":1048576,"file":2097152,"kernel":65536,"pgfault":812,"shmem":0,"sock":0}},' +
      '"pids":{"current":3,"limit":100},' +
      '"blkio":{"ioServiceBytesRecursive":[{"major":254,"op":"Read","value":1990656},{"major":254,"op":"Write","value":5242880},' +
      '{"major":8,"minor":16,"op":"Read","value":4096},{"major":8,"minor":16,"op":"Write"}],' +
      '"ioServicedRecursive":[{"major":254,"op":"Read","value":6},{"major":254,"op":"Write","value":2},' +
      '{"major":8,"minor":16,"op":"Read","value":1},{"major":8,"minor":16,"op":"Write"}]},' +
      '"hugetlb":{"1GB":{"failcnt":0},"2MB":{"usage":4194304,"failcnt":1}},"intel_rdt":{},"network_interfaces":null}',
  );
});

test('v2 without controllers: cpu.stat still counts, processes are counted from cgroup.procs', () => {
  const s = statsV2(V2, fixture({ [`${V2}/cpu.stat`]: 'usage_usec 10\nuser_usec 4\nsystem_usec 6\n', [`${V2}/cgroup.procs`]: '12\n13\n' }), ['2MB']);
  assert.equal(s.pids.current, 2n);
  assert.equal(s.pids.limit, 0n);
  assert.equal(s.cpu.usage.total, 10_000n);
  assert.equal(s.memory.raw.size, 0);
  assert.equal(s.hugetlb.size, 0);
  assert.match(encodeStats(s), /"memory":\{"usage":\{"limit":0,"failcnt":0\},"swap":\{"limit":0,"failcnt":0\},/);
});

test('v2: a limited swap adds the memory limit; pids.max "max" reads as no limit (0)', () => {
  const s = statsV2(V2, fixture({ ...v2Files, [`${V2}/memory.swap.max`]: '1048576\n', [`${V2}/pids.max`]: 'max\n' }), []);
  assert.equal(s.memory.swap.limit, 104857600n + 1048576n);
  assert.equal(s.pids.limit, 0n);
});

test('v2: hugetlb prefers the reservation counter when the kernel has it', () => {
  const s = statsV2(V2, fixture({ [`${V2}/hugetlb.2MB.rsvd.current`]: '8388608\n', [`${V2}/hugetlb.2MB.current`]: '1\n', [`${V2}/hugetlb.2MB.events`]: 'max 0\n' }), ['2MB']);
  assert.deepEqual(s.hugetlb.get('2MB'), { usage: 8388608n, max: 0n, failcnt: 0n });
});

test('v2: a malformed file is an error naming it', () => {
  assert.throws(() => statsV2(V2, fixture({ [`${V2}/cpu.stat`]: 'usage_usec ten\n' }), []), /\/cg\/c1\/cpu\.stat: "ten" is not an unsigned integer/);
  assert.throws(() => statsV2(V2, fixture({ [`${V2}/memory.stat`]: 'anon\n' }), []), /memory\.stat: line "anon" is not "key value"/);
  assert.throws(() => statsV2(V2, fixture({ [`${V2}/memory.stat`]: 'anon 1\n' }), []), /memory\.current is missing/);
});

const v1Hierarchies: Hierarchy[] = [
  { version: 1, controllers: ['cpu', 'cpuacct'], mountpoint: '/cg/cpu,cpuacct', mountRoot: '/' },
  { version: 1, controllers: ['cpuset'], mountpoint: '/cg/cpuset', mountRoot: '/' },
  { version: 1, controllers: ['memory'], mountpoint: '/cg/memory', mountRoot: '/' },
  { version: 1, controllers: ['pids'], mountpoint: '/cg/pids', mountRoot: '/' },
  { version: 1, controllers: ['blkio'], mountpoint: '/cg/blkio', mountRoot: '/' },
  { version: 1, controllers: ['hugetlb'], mountpoint: '/cg/hugetlb', mountRoot: '/' },
  { version: 1, controllers: ['freezer'], mountpoint: '/cg/freezer', mountRoot: '/' },
  { version: 2, controllers: [], mountpoint: '/cg/unified', mountRoot: '/' },
];
const v1Dirs = v1Hierarchies.map((h) => `${h.mountpoint}/hull-test/c1`);
const v1Files: Record<string, string> = {
  '/cg/cpu,cpuacct/hull-test/c1/cpu.stat': 'nr_periods 5\nnr_throttled 1\nthrottled_time 2000\nnr_bursts 0\nburst_time 0\n',
  '/cg/cpu,cpuacct/hull-test/c1/cpuacct.stat': 'user 3\nsystem 7\n',
  '/cg/cpu,cpuacct/hull-test/c1/cpuacct.usage': '123456789\n',
  '/cg/cpu,cpuacct/hull-test/c1/cpuacct.usage_percpu': '100 200 \n',
  '/cg/cpu,cpuacct/hull-test/c1/cpuacct.usage_all': 'cpu user system\n0 60 40\n1 150 50\n',
  '/cg/cpuset/hull-test/c1/cpuset.cpus': '0-1,3\n',
  '/cg/cpuset/hull-test/c1/cpuset.mems': '0\n',
  '/cg/cpuset/hull-test/c1/cpuset.sched_load_balance': '1\n',
  '/cg/cpuset/hull-test/c1/cpuset.sched_relax_domain_level': '-1\n',
  '/cg/memory/hull-test/c1/memory.stat': 'cache 8192\nrss 4096\ntotal_cache 8192\n',
  '/cg/memory/hull-test/c1/memory.usage_in_bytes': '12288\n',
  '/cg/memory/hull-test/c1/memory.max_usage_in_bytes': '16384\n',
  '/cg/memory/hull-test/c1/memory.failcnt': '0\n',
  '/cg/memory/hull-test/c1/memory.limit_in_bytes': '9223372036854771712\n',
  // no memsw (swap accounting off); kmem without its limit file (Linux 6.x dropped it)
  '/cg/memory/hull-test/c1/memory.kmem.usage_in_bytes': '4096\n',
  '/cg/memory/hull-test/c1/memory.kmem.max_usage_in_bytes': '8192\n',
  '/cg/memory/hull-test/c1/memory.kmem.failcnt': '0\n',
  '/cg/pids/hull-test/c1/pids.current': '2\n',
  '/cg/pids/hull-test/c1/pids.max': 'max\n',
  // BFQ present but idle ("Total 0" only): the throttle policy's recursive files are used
  '/cg/blkio/hull-test/c1/blkio.bfq.io_serviced_recursive': 'Total 0\n',
  '/cg/blkio/hull-test/c1/blkio.bfq.io_service_bytes_recursive': 'Total 0\n',
  '/cg/blkio/hull-test/c1/blkio.throttle.io_serviced_recursive': '8:0 Read 3\n8:0 Write 0\n8:0 Total 3\nTotal 3\n',
  '/cg/blkio/hull-test/c1/blkio.throttle.io_service_bytes_recursive': '8:0 Read 12288\n8:0 Write 0\n8:0 Total 12288\nTotal 12288\n',
  '/cg/hugetlb/hull-test/c1/hugetlb.2MB.usage_in_bytes': '0\n',
  '/cg/hugetlb/hull-test/c1/hugetlb.2MB.max_usage_in_bytes': '2097152\n',
  '/cg/hugetlb/hull-test/c1/hugetlb.2MB.failcnt': '4\n',
};

test('v1: each controller from its own hierarchy, in runc\'s events shape', () => {
  const cg = containerCgroup(v1Dirs, v1Hierarchies);
  assert.equal(cg.version, 1);
  assert.equal(cg.unified, '/cg/unified/hull-test/c1');
  const s = statsV1(cg, fixture(v1Files), ['2MB']);
  assert.equal(
    encodeStats(s),
    '{"cpu":{"usage":{"total":123456789,"percpu":[100,200],"percpu_kernel":[40,50],"percpu_user":[60,150],' +
      '"kernel":70000000,"user":30000000},"throttling":{"periods":5,"throttledPeriods":1,"throttledTime":2000}},' +
      '"cpuset":{"cpus":[0,1,3],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,' +
      '"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1},' +
      '"memory":{"cache":8192,"usage":{"limit":9223372036854771712,"usage":12288,"max":16384,"failcnt":0},' +
      '"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"usage":4096,"max":8192,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},' +
      '"raw":{"cache":8192,"rss":4096,"total_cache":8192}},"pids":{"current":2},' +
      '"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":12288},{"major":8,"op":"Write"},{"major":8,"op":"Total","value":12288}],' +
      '"ioServicedRecursive":[{"major":8,"op":"Read","value":3},{"major":8,"op":"Write"},{"major":8,"op":"Total","value":3}]},' +
      '"hugetlb":{"2MB":{"max":2097152,"failcnt":4}},"intel_rdt":{},"network_interfaces":null}',
  );
});

test('v1: a cgroup2 tree beside v1 controllers is the companion, not the source', () => {
  const cg = containerCgroup(['/cg/unified/hull-test/c1'], v1Hierarchies);
  assert.equal(cg.version, 2);
  assert.equal(cg.v1.size, 0);
  // a path that merely shares a prefix with a mountpoint is not inside it
  assert.equal(containerCgroup(['/cg/unifiedx/c1'], v1Hierarchies).unified, undefined);
});

test('parsers: numbers, lists, key-value files, blkio and io.stat rows', () => {
  assert.equal(parseU64('max\n', 'f'), U64_MAX);
  assert.equal(parseU64('-1', 'f'), 0n);
  assert.throws(() => parseU64('18446744073709551616', 'f'), /does not fit in 64 bits/);
  assert.throws(() => parseU64('', 'f'), /is not an unsigned integer/);
  assert.deepEqual(parseCpuList('0-2,5,7-8\n', 'f'), [0, 1, 2, 5, 7, 8]);
  assert.throws(() => parseCpuList('3-1', 'cpuset.cpus'), /cpuset\.cpus: bad range "3-1"/);
  assert.throws(() => parseCpuList('', 'cpuset.cpus'), /cpuset\.cpus: empty/);
  assert.deepEqual([...parseKeyValues('a 1\nb 2\n', 'f')], [['a', 1n], ['b', 2n]]);
  assert.deepEqual(parseUsageAll('cpu user system\n0 1 2\n', 'f'), { user: [1n], kernel: [2n] });
  assert.throws(() => parseUsageAll('nonsense\n', 'cpuacct.usage_all'), /cpuacct\.usage_all: unexpected header/);
  assert.equal(parseBlkio('Total 0\n', 'f'), undefined);
  assert.deepEqual(parseBlkio('8:0 6792\n', 'f'), [{ major: 8n, minor: 0n, op: '', value: 6792n }]);
  assert.throws(() => parseBlkio('8:0\n', 'blkio.x'), /blkio\.x: malformed line "8:0"/);
  const io = parseIoStat('259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.usage=7\nbogus\n', 'f');
  assert.deepEqual(io.bytes.map((e) => [e.op, e.value]), [['Read', 1n], ['Write', 2n]]);
  assert.deepEqual(io.ios.map((e) => [e.op, e.value]), [['Read', 3n], ['Write', 4n]]);
  assert.deepEqual(hugePageSizes(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'other']), ['2MB', '1GB', '64KB']);
});

test('events lines: stats carry data, oom does not', () => {
  assert.equal(encodeEvent('oom', 'c1'), '{"type":"oom","id":"c1"}\n');
  const line = encodeEvent('stats', 'c1', emptyStats());
  assert.ok(line.startsWith('{"type":"stats","id":"c1","data":{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},'));
  assert.ok(line.endsWith('"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}}\n'));
  JSON.parse(line);
});

test('--interval takes Go durations', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('300us'), 0.3);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-1s'), -1000);
  for (const bad of ['', '5', 's', 'abc', '1x', '1s2', '.s']) assert.throws(() => parseDuration(bad), /--interval: invalid duration/, bad);
});

test('OOM watch: one event per rise of oom_kill, none for kills before it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hull-oom-'));
  try {
    const file = join(dir, 'memory.events');
    const write = (kills: number, max: number) => writeFileSync(file, `low 0\nhigh 0\nmax ${max}\noom 1\noom_kill ${kills}\n`);
    write(2, 0);
    const counter = {
      file, watchable: true,
      read: () => parseKeyValues(readText(file), file).get('oom_kill'),
    };
    let seen = 0;
    const w = watchOom(counter, () => seen++, 20);
    try {
      write(2, 5); // other counters move: no event
      await waitUntil(() => false, 100);
      assert.equal(seen, 0);
      write(3, 5);
      await waitUntil(() => seen === 1, 2000);
      write(3, 6);
      await waitUntil(() => false, 100);
      assert.equal(seen, 1);
    } finally {
      w.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const readText = (p: string) => readFileSync(p, 'utf8');

async function waitUntil(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !check()) await new Promise((r) => setTimeout(r, 10));
}
