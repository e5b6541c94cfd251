// `update`: runc's flags and sizes, and how an update merges into the saved limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Limits } from '../../src/runtime/cgroups/limits.ts';
import { ramInBytes, requestFromFlags } from '../../src/runtime/cli/update.ts';
import { mergeLimits } from '../../src/runtime/update.ts';

test('sizes as runc reads them (go-units RAMInBytes: powers of 1024)', () => {
  const cases: [string, number][] = [
    ['100', 100], ['100b', 100], ['1k', 1024], ['1K', 1024], ['512m', 512 * 2 ** 20], ['512M', 512 * 2 ** 20],
    ['2g', 2 * 2 ** 30], ['1.5g', 1.5 * 2 ** 30], ['1gb', 2 ** 30], ['1GiB', 2 ** 30], ['64 MiB', 64 * 2 ** 20],
    ['1t', 2 ** 40], ['1p', 2 ** 50],
  ];
  for (const [text, n] of cases) assert.equal(ramInBytes(text), n, text);
  for (const text of ['', 'm', '-5', '12q', '1mm', '1mib2', '0x10', '1e6']) {
    assert.throws(() => ramInBytes(text), /invalid size/, text);
  }
});

test('flags: each one given sets its field, sizes and -1 understood, bad numbers named', () => {
  const r = requestFromFlags({
    memory: '512m', memorySwap: '-1', memoryReservation: '256m', cpuQuota: '-1', cpuPeriod: '100000', cpuShare: '512',
    cpuBurst: '0', cpuRtPeriod: '1000000', cpuRtRuntime: '-1', cpusetCpus: '0', cpusetMems: '0', cpuIdle: '1',
    pidsLimit: '-1', blkioWeight: '300',
  });
  assert.deepEqual(r.resources, {
    memory: { limit: 512 * 2 ** 20, swap: -1, reservation: 256 * 2 ** 20 },
    cpu: { cpus: '0', mems: '0', idle: 1, burst: 0, period: 100000, realtimePeriod: 1000000, shares: 512, quota: -1, realtimeRuntime: -1 },
    pids: { limit: -1 },
    blockIO: { weight: 300 },
  });
  assert.deepEqual(requestFromFlags({}).resources, { memory: {}, cpu: {} });
  assert.deepEqual(requestFromFlags({ blkioWeight: '0' }).resources.blockIO, undefined, '0 leaves the weight as it was');
  assert.deepEqual(requestFromFlags({ l3CacheSchema: 'L3:0=f' }).l3CacheSchema, 'L3:0=f');
  assert.throws(() => requestFromFlags({ memory: 'lots' }), /^Error: invalid value for memory: invalid size "lots"/);
  assert.throws(() => requestFromFlags({ cpuPeriod: '-5' }), /^Error: invalid value for cpu-period: -5 is below 0$/);
  assert.throws(() => requestFromFlags({ cpuShare: '1.5' }), /^Error: invalid value for cpu-share: "1\.5" is not an integer$/);
  assert.throws(() => requestFromFlags({ pidsLimit: 'x' }), /invalid value for pids-limit/);
});

test('-r: a resources document is checked like linux.resources, and the other flags are ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hull-upd-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ memory: { limit: 1048576 }, unified: { 'memory.high': '1' } }));
    assert.deepEqual(requestFromFlags({ resources: good, memory: '5m' }).resources, { memory: { limit: 1048576 }, unified: { 'memory.high': '1' } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ cpu: { shares: -1 } }));
    assert.throws(() => requestFromFlags({ resources: bad }), new RegExp(`^Error: --resources ${bad}: linux\\.resources\\.cpu\\.shares: `));
    writeFileSync(bad, '{');
    assert.throws(() => requestFromFlags({ resources: bad }), /invalid JSON/);
    assert.throws(() => requestFromFlags({ resources: join(dir, 'none.json') }), /--resources .*none\.json: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('merge: given fields replace, the rest stay; devices by major:minor, huge pages by size', () => {
  const base: Limits = {
    memory: { limit: 100, swap: 200, swappiness: 10 },
    cpu: { quota: 20000, period: 100000, cpus: '0-1' },
    pids: { limit: 10 },
    blockIO: {
      weight: 100,
      weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    unified: { 'memory.high': '1' },
  };
  (base as { devices?: unknown }).devices = [{ allow: false, access: 'rwm' }];
  const merged = mergeLimits(base, {
    memory: { limit: 150 },
    cpu: { quota: 50000, cpus: '' },
    blockIO: {
      weightDevice: [{ major: 8, minor: 0, weight: 250 }, { major: 8, minor: 16, weight: 10 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 5 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 }, { pageSize: '1GB', limit: 0 }],
    unified: { 'memory.max': '2' },
  });
  assert.deepEqual(merged, {
    memory: { limit: 150, swap: 200, swappiness: 10 },
    cpu: { quota: 50000, period: 100000, cpus: '0-1' },
    pids: { limit: 10 },
    blockIO: {
      weight: 100,
      weightDevice: [{ major: 8, minor: 0, weight: 250, leafWeight: 300 }, { major: 8, minor: 16, weight: 10 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 5 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 }, { pageSize: '1GB', limit: 0 }],
    unified: { 'memory.high': '1', 'memory.max': '2' },
    devices: [{ allow: false, access: 'rwm' }],
  });
  assert.deepEqual(base.memory, { limit: 100, swap: 200, swappiness: 10 }, 'the base is not changed');
  // device rules cannot be changed by update
  const d = mergeLimits(base, { devices: [] } as Limits);
  assert.deepEqual((d as { devices?: unknown }).devices, [{ allow: false, access: 'rwm' }]);
  // "no memory limit" without a swap value lifts the swap limit as well
  assert.deepEqual(mergeLimits(base, { memory: { limit: -1 } }).memory, { limit: -1, swap: 0, swappiness: 10 });
  assert.deepEqual(mergeLimits(base, { pids: { limit: -1 } }).pids, { limit: -1 });
  // a second update builds on the first
  const twice = mergeLimits(mergeLimits({}, { memory: { limit: 1 } }), { cpu: { shares: 2 } });
  assert.deepEqual(twice, { memory: { limit: 1 }, cpu: { shares: 2 } });
});
