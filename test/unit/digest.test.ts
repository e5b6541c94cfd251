import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  DigestError,
  DigestHasher,
  digestAlgorithm,
  digestHex,
  digestOf,
  isDigest,
  parseDigest,
  shortId,
} from '../../src/image/digest.ts';

const SHA256_EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512_EMPTY =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

test('valid sha256 and sha512 digests parse to themselves', () => {
  assert.equal(parseDigest(SHA256_EMPTY), SHA256_EMPTY);
  assert.equal(parseDigest(SHA512_EMPTY), SHA512_EMPTY);
  assert.equal(digestAlgorithm(parseDigest(SHA512_EMPTY)), 'sha512');
  assert.equal(digestHex(parseDigest(SHA256_EMPTY)), SHA256_EMPTY.slice(7));
});

test('parseDigest refuses malformed digests and says why', () => {
  const hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const cases: Array<[unknown, RegExp]> = [
    ['', /expected <algorithm>:<hex>/],
    [hex, /expected <algorithm>:<hex>/],
    [`:${hex}`, /missing algorithm/],
    [`sha256:${hex.toUpperCase()}`, /must be lowercase/],
    [`sha256:${hex.slice(0, 63)}`, /sha256 needs 64 hex characters, got 63/],
    [`sha256:${hex}0`, /sha256 needs 64 hex characters, got 65/],
    ['sha256:', /got 0/],
    [`sha512:${hex}`, /sha512 needs 128 hex characters, got 64/],
    [`sha384:${hex}`, /unsupported digest algorithm "sha384"/],
    [`md5:${hex}`, /unsupported digest algorithm "md5"/],
    [`blake3:${hex}`, /unsupported digest algorithm "blake3"/],
    [`SHA256:${hex}`, /malformed algorithm name/],
    [`sha256:${hex.slice(0, 60)}zzzz`, /must be hexadecimal/],
    [`sha256:${hex.slice(0, 63)}/`, /must be hexadecimal/],
    [`sha256 :${hex}`, /malformed algorithm name/],
    [`sha256:${hex}\n`, /must be hexadecimal/],
    [42, /expected a string, got number/],
    [null, /expected a string, got null/],
  ];
  for (const [input, why] of cases) {
    assert.throws(
      () => parseDigest(input),
      (e: unknown) => e instanceof DigestError && why.test(e.message) && e.message.startsWith('invalid digest'),
      `parseDigest(${JSON.stringify(input)})`,
    );
    assert.equal(isDigest(input), false);
  }
  assert.equal(isDigest(SHA256_EMPTY), true);
});

test('error messages show hostile input bounded and escaped', () => {
  const huge = `sha256:${'a'.repeat(100_000)}\u0000`;
  assert.throws(
    () => parseDigest(huge),
    (e: unknown) => e instanceof DigestError && e.message.length < 400 && !e.message.includes('\u0000'),
  );
});

test('digestOf hashes bytes and strings with the requested algorithm', () => {
  assert.equal(digestOf(new Uint8Array()), SHA256_EMPTY);
  assert.equal(digestOf(''), SHA256_EMPTY);
  assert.equal(digestOf(new Uint8Array(), 'sha512'), SHA512_EMPTY);
  const data = Buffer.from('hello, hull\n');
  assert.equal(digestOf(data), `sha256:${createHash('sha256').update(data).digest('hex')}`);
  // The result always passes the strict parser.
  assert.equal(parseDigest(digestOf(data, 'sha512')), digestOf(data, 'sha512'));
});

test('DigestHasher hashes a stream of chunks to the same digest as one buffer', () => {
  const parts = ['abc', new Uint8Array([0, 1, 2, 255]), 'ünïcödé', new Uint8Array(70_000).fill(7)];
  const whole = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const h = new DigestHasher();
  for (const p of parts) h.update(p);
  assert.equal(h.size, whole.byteLength);
  assert.equal(h.digest(), digestOf(whole));
  assert.equal(h.digest(), digestOf(whole), 'digest() is stable');
  assert.throws(() => h.update('more'), /after digest/);

  const h512 = new DigestHasher('sha512');
  assert.equal(h512.update(whole).digest(), digestOf(whole, 'sha512'));
  assert.throws(() => new DigestHasher('md5' as never), (e: unknown) => e instanceof DigestError && /unsupported/.test(e.message));
});

test('shortId is the first 12 hex characters, with or without the algorithm', () => {
  assert.equal(shortId(SHA256_EMPTY), 'e3b0c44298fc');
  assert.equal(shortId(SHA256_EMPTY.slice(7)), 'e3b0c44298fc');
  assert.equal(shortId(SHA512_EMPTY), 'cf83e1357eef');
  assert.equal(shortId('abc'), 'abc');
});
