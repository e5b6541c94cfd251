// A blob read while it is written: the reader (followBlob) gets every byte in order, waits while
// the writer is behind, and stops when the writer fails, starts over or the read is aborted.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, it, type TestContext } from 'node:test';
import { BlobAbandoned, GrowingBlob, followBlob } from '../../src/image/layer/growing.ts';

function partial(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'hull-growing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'partial');
  writeFileSync(file, '');
  return file;
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a growing blob', () => {
  it('gives the reader every byte in order, waiting while the writer is behind', async (t) => {
    const file = partial(t);
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    const reading = collect(followBlob(blob.fd, blob.shared));
    const want: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      // a chunk larger than one read, so a read stops at what was published
      const chunk = Buffer.alloc(i === 7 ? (1 << 20) + 5 : 1000 + i, i);
      appendFileSync(file, chunk);
      want.push(chunk);
      blob.written(want.reduce((n, c) => n + c.length, 0));
      if (i % 5 === 0) await tick(5);
    }
    blob.finish();
    assert.deepEqual(await reading, Buffer.concat(want));
    await blob.done;
  });

  it('never reads past what was published, even when the file holds more', async (t) => {
    const file = partial(t);
    writeFileSync(file, Buffer.alloc(4096, 1));
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    blob.written(100);
    const reading = collect(followBlob(blob.fd, blob.shared));
    await tick(20);
    blob.written(200);
    blob.finish();
    assert.equal((await reading).length, 200);
  });

  it('stops the reader with BlobAbandoned when the download fails; done rejects with its error', async (t) => {
    const file = partial(t);
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    appendFileSync(file, 'abc');
    blob.written(3);
    const reading = collect(followBlob(blob.fd, blob.shared));
    await tick(10);
    const cause = new Error('connection reset');
    blob.fail(cause);
    await assert.rejects(reading, BlobAbandoned);
    await assert.rejects(blob.done, (e) => e === cause);
  });

  it('stops the reader when the download starts over from fewer bytes', async (t) => {
    const file = partial(t);
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    appendFileSync(file, Buffer.alloc(5000, 2));
    blob.written(5000);
    const reading = collect(followBlob(blob.fd, blob.shared));
    await tick(10);
    truncateSync(file, 0);
    blob.written(0);
    await assert.rejects(reading, BlobAbandoned);
    // what follows a restart changes nothing: the reader is gone, and finish() settles done
    blob.written(10);
    blob.finish();
    await blob.done;
  });

  it('stops the reader when its signal aborts, even while it waits for bytes', async (t) => {
    const file = partial(t);
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    const controller = new AbortController();
    const reading = collect(followBlob(blob.fd, blob.shared, controller.signal));
    await tick(10);
    controller.abort(new Error('pull cancelled'));
    await assert.rejects(reading, /pull cancelled/);
  });

  it('is followed from a worker thread, which wakes as bytes are published', async (t) => {
    const file = partial(t);
    const blob = new GrowingBlob(file);
    t.after(() => blob.close());
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const { createHash } = require('node:crypto');
       (async () => {
         const { followBlob } = await import(workerData.module);
         const hash = createHash('sha256');
         let n = 0;
         for await (const part of followBlob(workerData.fd, workerData.shared)) { hash.update(part); n += part.length; }
         parentPort.postMessage({ n, digest: hash.digest('hex') });
       })().catch((e) => parentPort.postMessage({ error: e.name }));`,
      { eval: true, workerData: { fd: blob.fd, shared: blob.shared, module: new URL('../../src/image/layer/growing.ts', import.meta.url).href } },
    );
    t.after(() => worker.terminate());
    const reply = new Promise<{ n: number; digest: string }>((resolve) => worker.once('message', resolve));
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256');
    let total = 0;
    for (let i = 0; i < 50; i++) {
      const chunk = Buffer.alloc(10_000 + i, i);
      appendFileSync(file, chunk);
      hash.update(chunk);
      blob.written((total += chunk.length));
      await tick(1);
    }
    blob.finish();
    assert.deepEqual(await reply, { n: total, digest: hash.digest('hex') });
  });
});
