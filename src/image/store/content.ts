// The content store: blobs/<algorithm>/<hex>, written to ingest/ first, checked against their
// digest and size while they stream, and renamed into place only when both match.
import { createHash } from '../../crypto.ts';
import type { Hash } from 'node:crypto';
import { close, createReadStream, createWriteStream, existsSync, mkdirSync, open, openSync, closeSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writev, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDigest, type Digest } from '../digest.ts';
import { claim, release, type Lease } from './leases.ts';
import type { Db } from './metadata.ts';

export class DigestMismatch extends Error {
  override name = 'DigestMismatch';
}

/** What a caller knows about a blob before it has it: never trusted until the bytes agree. */
export interface Expected {
  digest: string;
  size?: number;
}

export interface BlobSource {
  /** Opens the blob at `offset`; returns the stream and the offset the source honoured (0 when it ignored the range). */
  open(offset: number): Promise<{ stream: Readable; offset: number }>;
}

export interface IngestOptions {
  onProgress?: (done: number) => void;
  /** Refuse a blob larger than this when the descriptor gives no size. */
  maxSize?: number;
  signal?: AbortSignal;
  /**
   * How many bytes the partial file holds: first once it is open for this transfer, then after
   * each write, so that a reader can follow it. Fewer than the last time means it started over.
   */
  onWritten?: (bytes: number) => void;
}

function split(digest: string): [string, string] {
  parseDigest(digest);
  const i = digest.indexOf(':');
  return [digest.slice(0, i), digest.slice(i + 1)];
}

export class ContentStore {
  readonly root: string;
  private readonly db: Db;

  constructor(root: string, db: Db) {
    this.root = root;
    this.db = db;
  }

  path(digest: string): string {
    const [algorithm, hex] = split(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  /** Reads a small blob (a manifest or config), refusing one above max bytes. */
  read(digest: string, max = 4 << 20): Buffer {
    const size = this.size(digest);
    if (size > max) throw new Error(`blob ${digest} is ${size} bytes, more than the ${max} allowed for a document`);
    return readFileSync(this.path(digest));
  }

  open(digest: string, offset = 0): Readable {
    return createReadStream(this.path(digest), { start: offset });
  }

  /** Stores bytes made or checked in memory; returns their digest. The lease keeps the blob until the caller commits. */
  put(lease: Lease, bytes: Uint8Array, expected?: Expected): Digest {
    const algorithm = expected ? split(expected.digest)[0] : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
    if (expected && expected.digest !== digest) throw new DigestMismatch(`content ${expected.digest}: the bytes hash to ${digest}`);
    if (expected?.size !== undefined && expected.size !== bytes.length) {
      throw new DigestMismatch(`content ${expected.digest}: ${bytes.length} bytes where the descriptor says ${expected.size}`);
    }
    claim(this.db, lease, 'blob', digest);
    if (!this.has(digest)) {
      const tmp = this.tempFile(lease, digest);
      writeFileSync(tmp, bytes);
      this.place(tmp, digest);
    }
    return digest;
  }

  /**
   * Stores bytes that hull itself produces or reads from a local archive, hashing them as they are
   * written once into a scratch file that is then renamed into place; returns their digest.
   */
  async write(lease: Lease, source: AsyncIterable<Uint8Array> | Readable, ...transforms: NodeJS.ReadWriteStream[]): Promise<{ digest: Digest; size: number }> {
    const tmp = this.tempFile(lease, 'write');
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
    await pipeline([input, ...transforms, meter, createWriteStream(tmp, { mode: 0o600 })]);
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    claim(this.db, lease, 'blob', digest);
    if (this.has(digest)) unlinkSync(tmp);
    else this.place(tmp, digest);
    return { digest, size };
  }

  /**
   * Streams a blob in from `source`. A partial download left by an earlier, interrupted run is
   * resumed from where it stopped. A digest or size mismatch deletes what was written.
   */
  async ingest(lease: Lease, expected: Expected, source: BlobSource, opts: IngestOptions = {}): Promise<void> {
    const [algorithm] = split(expected.digest);
    // one writer per blob across processes; the others wait and then find it in place
    while (!claim(this.db, lease, 'ingest', expected.digest)) {
      if (this.has(expected.digest)) break;
      await sleep(50, undefined, { signal: opts.signal });
    }
    try {
      claim(this.db, lease, 'blob', expected.digest);
      if (this.has(expected.digest)) {
        opts.onProgress?.(expected.size ?? this.size(expected.digest));
        return;
      }
      const partial = this.partialPath(expected.digest);
      mkdirSync(join(this.root, 'ingest'), { recursive: true });
      let have = existsSync(partial) ? statSync(partial).size : 0;
      if (expected.size !== undefined && have > expected.size) have = 0;
      let hash = createHash(algorithm);
      if (have > 0) await hashFile(partial, have, hash);
      // a partial holding every byte (a run killed before its rename) needs only its digest
      // checked: asking for the bytes after its end gets a 416
      if (have > 0 && have === expected.size) {
        if (`${algorithm}:${hash.copy().digest('hex')}` === expected.digest) {
          this.place(partial, expected.digest);
          opts.onProgress?.(have);
          return;
        }
        have = 0;
        hash = createHash(algorithm);
      }
      const { stream, offset } = await source.open(have);
      if (offset !== have) {
        // the source could not resume: start over
        if (offset !== 0) throw new Error(`blob ${expected.digest}: the source resumed at byte ${offset}, not ${have}`);
        have = 0;
        hash = createHash(algorithm);
      }
      if (existsSync(partial)) truncateSync(partial, have);
      else closeSync(openSync(partial, 'w', 0o600));
      opts.onWritten?.(have);
      const limit = expected.size ?? opts.maxSize ?? Number.MAX_SAFE_INTEGER;
      let total = have;
      opts.onProgress?.(total);
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          total += chunk.length;
          if (total > limit) {
            done(new DigestMismatch(`blob ${expected.digest}: more than the ${limit} bytes ${expected.size !== undefined ? 'its descriptor gives' : 'allowed'}`));
            return;
          }
          hash.update(chunk);
          opts.onProgress?.(total);
          done(null, chunk);
        },
      });
      // A broken transfer ends the pipeline as if the blob ended, so that every byte received
      // reaches the partial file (rather than dying in a write buffer) before the error is thrown.
      let broken: unknown;
      async function* received(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of stream) yield chunk as Buffer;
        } catch (err) {
          broken = err;
        }
      }
      try {
        await pipeline(received, meter, appender(partial, have, opts.onWritten), { signal: opts.signal });
      } catch (err) {
        // a transfer that failed may resume next time; bytes that cannot be right never do
        if (err instanceof DigestMismatch) unlinkSync(partial);
        throw err;
      }
      if (broken !== undefined) throw broken;
      if (expected.size !== undefined && total !== expected.size) {
        unlinkSync(partial);
        throw new DigestMismatch(`blob ${expected.digest}: got ${total} bytes where its descriptor gives ${expected.size}`);
      }
      const got = `${algorithm}:${hash.digest('hex')}`;
      if (got !== expected.digest) {
        unlinkSync(partial);
        throw new DigestMismatch(`blob ${expected.digest}: the downloaded bytes hash to ${got}; nothing was kept`);
      }
      this.place(partial, expected.digest);
    } finally {
      release(this.db, lease, 'ingest', expected.digest);
    }
  }

  /**
   * Where a download of the blob collects until it is checked: it outlives a killed process so
   * that the next one resumes it, and ImageStore.collectPartials removes it once abandoned.
   */
  partialPath(digest: string): string {
    const [algorithm, hex] = split(digest);
    return join(this.root, 'ingest', `${algorithm}-${hex}`);
  }

  /** Renames a checked file into the store under its digest. */
  private place(file: string, digest: string): void {
    const target = this.path(digest);
    mkdirSync(join(target, '..'), { recursive: true });
    renameSync(file, target);
  }

  /** A scratch file that belongs to the lease and goes when the lease does. */
  tempFile(lease: Lease, name: string): string {
    const dir = join(this.root, 'tmp', lease.id);
    mkdirSync(dir, { recursive: true });
    return join(dir, name.replace(/[^a-z0-9]/g, '-') + '-' + process.hrtime.bigint().toString(36));
  }
}

/** The digest a partial download under ingest/ is for (its name is <algorithm>-<hex>). */
export function digestOfPartial(name: string): string {
  return name.replace('-', ':');
}

// Network reads are ~64 KiB, and each write on libuv's pool wakes a thread: the wake-ups cost
// more than the copying does. So what arrives in one turn of the event loop, up to a MiB, is
// written at once.
const APPEND_BATCH = 1 << 20;

/** Appends to file, telling onWritten the file's size after each write has landed. */
function appender(file: string, size: number, onWritten: ((bytes: number) => void) | undefined): Writable {
  let fd = -1;
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The writes, one after another; a failure fails every later one. */
  let writes: Promise<void> = Promise.resolve();
  let flushQueued = false;

  const put = (chunks: Buffer[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const want = chunks.reduce((n, c) => n + c.length, 0);
      writev(fd, chunks, (err, n) => {
        if (err) return reject(err);
        size += n;
        onWritten?.(size);
        // a short write is rare on a regular file, but possible: the rest goes again
        if (n < want) return put(rest(chunks, n)).then(resolve, reject);
        resolve();
      });
    });
  /** Queues what is held behind the writes before it. */
  const flush = (): Promise<void> => {
    if (heldBytes > 0) {
      const batch = held;
      held = [];
      heldBytes = 0;
      writes = writes.then(() => put(batch));
    }
    return writes;
  };
  const add = (chunks: Buffer[], done: (err?: Error | null) => void): void => {
    for (const c of chunks) {
      held.push(c);
      heldBytes += c.length;
    }
    // a full batch holds the stream back until it is written
    if (heldBytes >= APPEND_BATCH) return void flush().then(() => done(), done);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        flush().catch(() => {}); // the next write or the end reports it
      });
    }
    writes.then(() => done(), done);
  };
  return new Writable({
    construct(done) {
      open(file, 'a', (err, opened) => {
        fd = opened;
        done(err);
      });
    },
    write(chunk: Buffer, _enc, done) {
      add([chunk], done);
    },
    writev(chunks, done) {
      add(chunks.map((c) => c.chunk as Buffer), done);
    },
    final(done) {
      flush().then(() => done(), done);
    },
    destroy(err, done) {
      // the fd is closed only once no write is using it, or its number could be another file's
      const closeFd = (): void => (fd < 0 ? done(err) : close(fd, () => done(err)));
      writes.then(closeFd, closeFd);
    },
  });
}

function rest(chunks: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    if (skip >= c.length) skip -= c.length;
    else {
      out.push(skip ? c.subarray(skip) : c);
      skip = 0;
    }
  }
  return out;
}

async function hashFile(file: string, bytes: number, hash: Hash): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(file, { end: bytes - 1 })) hash.update(chunk as Buffer);
}
