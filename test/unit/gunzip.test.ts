// ISA-L's gunzip (native/inflate.c through src/image/layer/gunzip.ts) against node:zlib: the
// same bytes for every way of cutting the input and output, and a clear error for each way a
// gzip stream can be broken.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, gzipSync } from 'node:zlib';
import { GunzipError, gunzip, type GunzipOptions } from '../../src/image/layer/gunzip.ts';

/** A reproducible generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Text-like bytes that compress well, with runs of random ones that do not. */
function sample(size: number, rnd: () => number): Buffer {
  const out = Buffer.alloc(size);
  const words = ['usr/', 'lib/', 'share/', 'doc/', 'x86_64-linux-gnu/', '.so.6', '\0\0\0\0', 'ustar  '];
  for (let i = 0; i < size; ) {
    if (rnd() < 0.2) {
      const n = Math.min(size - i, 1 + Math.floor(rnd() * 2000));
      for (let j = 0; j < n; j++) out[i + j] = Math.floor(rnd() * 256);
      i += n;
    } else {
      i += out.write(words[Math.floor(rnd() * words.length)]!, i, 'latin1');
    }
  }
  return out;
}

async function* cut(buf: Buffer, sizes: () => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, sizes());
    yield buf.subarray(i, i + n);
    i += n;
  }
}

/** Reads it all, copying each chunk at once, as a consumer of reused buffers must. */
async function collect(source: AsyncIterable<Uint8Array>, opts?: GunzipOptions): Promise<{ data: Buffer; chunks: Buffer[] }> {
  const copies: Buffer[] = [];
  const chunks: Buffer[] = [];
  for await (const chunk of gunzip(source, opts)) {
    chunks.push(chunk);
    copies.push(Buffer.from(chunk));
  }
  return { data: Buffer.concat(copies), chunks };
}

const failsWith = async (source: Buffer, code: string): Promise<void> => {
  await assert.rejects(collect(cut(source, () => 4096)), (e: unknown) => {
    assert.ok(e instanceof GunzipError, `expected a GunzipError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
};

describe('gunzip (ISA-L)', () => {
  it('gives node:zlib\'s bytes however the input and output are cut', async () => {
    const rnd = random(7);
    for (const size of [0, 1, 511, 4096, 100_000, 3_000_000]) {
      const plain = sample(size, rnd);
      for (const level of [0, 1, 6, 9]) {
        const z = gzipSync(plain, { level });
        const inputs: [string, () => number][] = [
          ['whole', () => z.length],
          ['bytes', () => 1 + Math.floor(rnd() * 7)],
          ['random', () => 1 + Math.floor(rnd() * 70_000)],
        ];
        for (const [how, sizes] of inputs) {
          if (how === 'bytes' && size > 100_000) continue;
          for (const opts of [{}, { chunkSize: 1000 }, { chunkSize: 65536, reuseOutput: true }]) {
            const { data } = await collect(cut(z, sizes), opts);
            assert.ok(data.equals(plain), `size ${size} level ${level} input ${how} ${JSON.stringify(opts)}`);
          }
        }
      }
    }
  });

  it('yields full chunks, and with reuseOutput only views of a few buffers', async () => {
    const plain = Buffer.alloc(5_000_000, 'a');
    const z = gzipSync(plain);
    const fresh = await collect(cut(z, () => 100_000), { chunkSize: 300_000 });
    assert.ok(fresh.data.equals(plain));
    assert.ok(fresh.chunks.slice(0, -1).every((c) => c.length === 300_000));
    assert.equal(new Set(fresh.chunks.map((c) => c.buffer)).size, fresh.chunks.length);
    const reused = await collect(cut(z, () => 100_000), { chunkSize: 300_000, reuseOutput: true });
    assert.ok(reused.data.equals(plain));
    assert.equal(new Set(reused.chunks.map((c) => c.buffer)).size, 2);
  });

  it('reads concatenated members, and zero bytes after the last one, as zlib does', async () => {
    const a = Buffer.from('first member\n');
    const b = sample(200_000, random(3));
    const both = Buffer.concat([gzipSync(a), gzipSync(b), gzipSync(Buffer.alloc(0))]);
    for (const size of [1, 13, 4096, both.length]) {
      assert.ok((await collect(cut(both, () => size))).data.equals(Buffer.concat([a, b])), `cut ${size}`);
    }
    // many tiny members still give whole chunks, so a reader of reused buffers sees no tiny ones
    const tiny = Array.from({ length: 5000 }, (_, i) => Buffer.from(`m${i};`));
    const many = await collect(cut(Buffer.concat(tiny.map((t) => gzipSync(t))), () => 1000), { chunkSize: 4096 });
    assert.ok(many.data.equals(Buffer.concat(tiny)));
    assert.ok(many.chunks.slice(0, -1).every((c) => c.length === 4096));
    const padded = Buffer.concat([gzipSync(b), Buffer.alloc(10_000)]);
    assert.ok((await collect(cut(padded, () => 3000))).data.equals(b));
  });

  it('refuses anything else after a member', async () => {
    const z = gzipSync(Buffer.from('data'));
    await failsWith(Buffer.concat([z, Buffer.from('not a gzip header at all')]), 'ISAL_INVALID_WRAPPER');
    // too short to be judged as a header: it is a member cut short
    await failsWith(Buffer.concat([z, Buffer.from('junk')]), 'ISAL_TRUNCATED');
    await failsWith(Buffer.concat([z, Buffer.alloc(100), Buffer.from([1])]), 'ISAL_TRAILING_DATA');
    await failsWith(Buffer.concat([z, Buffer.alloc(5), z]), 'ISAL_TRAILING_DATA');
  });

  it('refuses a stream that ends early, wherever it is cut', async () => {
    const z = gzipSync(sample(50_000, random(11)));
    for (let end = 1; end < z.length; end += Math.max(1, Math.floor(z.length / 97))) {
      await assert.rejects(collect(cut(z.subarray(0, end), () => 777)), (e: unknown) => e instanceof GunzipError, `cut at ${end}`);
    }
    await failsWith(z.subarray(0, z.length - 1), 'ISAL_TRUNCATED');
  });

  it('checks the trailer\'s CRC-32 and size', async () => {
    const z = gzipSync(sample(10_000, random(5)));
    const badCrc = Buffer.from(z);
    badCrc[badCrc.length - 8]! ^= 1;
    await failsWith(badCrc, 'ISAL_INCORRECT_CHECKSUM');
    const badSize = Buffer.from(z);
    badSize[badSize.length - 1]! ^= 1;
    await failsWith(badSize, 'ISAL_INCORRECT_CHECKSUM');
  });

  it('refuses a broken header or body', async () => {
    const z = gzipSync(sample(10_000, random(9)));
    const method = Buffer.from(z);
    method[2] = 7;
    await failsWith(method, 'ISAL_UNSUPPORTED_METHOD');
    const rnd = random(13);
    for (let i = 0; i < 200; i++) {
      const flipped = Buffer.from(z);
      const at = 10 + Math.floor(rnd() * (z.length - 18));
      flipped[at]! ^= 1 << Math.floor(rnd() * 8);
      // a flip in the deflate data breaks a block or, failing that, the checksum
      await assert.rejects(collect(cut(flipped, () => 1024)), GunzipError, `flip at ${at}`);
    }
  });

  it('stops where the consumer stops, however much a small input would expand', async () => {
    const bomb = gzipSync(Buffer.alloc(200_000_000), { level: constants.Z_BEST_COMPRESSION });
    let seen = 0;
    for await (const chunk of gunzip(cut(bomb, () => bomb.length), { reuseOutput: true })) {
      seen += chunk.length;
      if (seen >= 10 << 20) break;
    }
    assert.equal(seen, 10 << 20);
  });
});
