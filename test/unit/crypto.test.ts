import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as builtin from 'node:crypto';
import { test } from 'node:test';
import { checksum64, createHash, nodeCrypto, randomBytes, randomInt } from '../../src/crypto.ts';

test('randomBytes gives n bytes, fresh at every call', () => {
  assert.equal(randomBytes(0).length, 0);
  assert.equal(randomBytes(1).length, 1);
  const a = randomBytes(32);
  const b = randomBytes(32);
  assert.equal(a.length, 32);
  // a zeroed buffer left unfilled, or one read repeated, has odds of 2^-256 by chance
  assert.ok(a.some((x) => x !== 0));
  assert.notDeepEqual(a, b);
  const big = randomBytes(1 << 20);
  assert.equal(big.length, 1 << 20);
  assert.ok(big.subarray(big.length - 32).some((x) => x !== 0), 'the tail was filled too');
});

test('randomInt stays in [0, max) and reaches every value', () => {
  for (let i = 0; i < 50; i++) assert.equal(randomInt(1), 0);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const v = randomInt(5);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 5, `${v}`);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  for (let i = 0; i < 100; i++) {
    const v = randomInt(2 ** 32);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  }
});

test('randomInt is uniform where a plain modulo would not be', () => {
  // 2^32 % (3 * 2^30) folds [3 * 2^30, 2^32) onto [0, 2^30): without rejection, values below
  // 2^30 would come half the time instead of a third
  const max = 3 * 2 ** 30;
  const n = 3000;
  let low = 0;
  for (let i = 0; i < n; i++) if (randomInt(max) < 2 ** 30) low++;
  // a third is 1000; the standard deviation is ~26, the biased mean 1500
  assert.ok(low > 850 && low < 1150, `${low} of ${n} below 2^30`);
});

test('randomInt rejects bounds that are not an integer in [1, 2^32]', () => {
  for (const bad of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => randomInt(bad), RangeError, `${bad}`);
  }
});

test('createHash is node:crypto\'s: sha256 of "abc"', () => {
  assert.equal(createHash('sha256').update('abc').digest('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('nodeCrypto() is node:crypto itself, loaded once', () => {
  assert.equal(nodeCrypto(), nodeCrypto());
  assert.equal(nodeCrypto(), process.getBuiltinModule('node:crypto'));
  assert.equal(nodeCrypto().createHash, builtin.createHash);
});

test('random ids load no part of node:crypto; the first hash does', () => {
  // this process has node:crypto already (imported above), so a fresh Node looks for us
  const script = `
    const m = await import(${JSON.stringify(new URL('../../src/crypto.ts', import.meta.url).href)});
    m.randomBytes(8); m.randomInt(10);
    const before = process.moduleLoadList.filter((x) => x.includes('crypto')).length;
    m.createHash('sha256');
    console.log(before, process.moduleLoadList.filter((x) => x.includes('crypto')).length);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [before, afterHash] = r.stdout.trim().split(' ').map(Number);
  assert.equal(before, 0);
  assert.ok(afterHash! > 0);
});

test('checksum64: 16 hex digits, the same for the same bytes, apart for others (length included)', () => {
  const inputs = ['', 'a', 'a\0', 'ab', 'abcd', 'abcde', 'x'.repeat(1000), 'x'.repeat(1001)];
  const sums = inputs.map((i) => checksum64(i));
  for (const s of sums) assert.match(s, /^[0-9a-f]{16}$/);
  assert.equal(new Set(sums).size, inputs.length);
  assert.equal(checksum64('abcde'), checksum64(Buffer.from('abcde')));
  // a Buffer off a 4-byte boundary reads the same bytes
  assert.equal(checksum64(Buffer.from('zabcde').subarray(1)), checksum64('abcde'));
});
