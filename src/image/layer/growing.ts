// A layer blob that an unpacker reads while it is still downloading, so that unpacking does not
// wait for the last byte. The download publishes how many bytes its file holds through shared
// memory; the reader, on an unpack worker thread, reads up to there and waits for more.
//
// The bytes are unverified until the download has checked the digest: whatever is unpacked from
// them stays in a scratch directory until then (see installImage).
import { closeSync, openSync, readSync } from 'node:fs';

const BYTES = 0;
const STATE = 1;
/** Bumped after every change, so that a reader waiting on it never misses one. */
const SEQ = 2;

const GROWING = 0n;
const COMPLETE = 1n;
const ABANDONED = 2n;

const READ_SIZE = 1 << 20;

/** The download stopped, or started over, so the bytes read so far cannot be trusted to continue. */
export class BlobAbandoned extends Error {
  override name = 'BlobAbandoned';
}

/** The download's side: one per layer that is being downloaded. */
export class GrowingBlob {
  /** The partial file, opened for reading; shared by the worker threads of this process. */
  readonly fd: number;
  readonly shared = new SharedArrayBuffer(3 * 8);
  /** Settles when the download has placed the verified blob, or failed. */
  readonly done: Promise<void>;
  private readonly cells = new BigInt64Array(this.shared);
  private settle!: { resolve(): void; reject(e: unknown): void };
  private closed = false;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // awaited only by whoever unpacks; a failed download is reported by the pull itself
    this.done.catch(() => {});
  }

  /** The file now holds `total` bytes. Fewer than before means it started over. */
  written(total: number): void {
    if (Atomics.load(this.cells, STATE) !== GROWING) return;
    if (BigInt(total) < Atomics.load(this.cells, BYTES)) return this.publish(ABANDONED);
    Atomics.store(this.cells, BYTES, BigInt(total));
    this.bump();
  }

  /** Every byte is in the file and matched the digest. */
  finish(): void {
    this.publish(COMPLETE);
    this.settle.resolve();
  }

  fail(err: unknown): void {
    this.publish(ABANDONED);
    this.settle.reject(err);
  }

  /** Once the unpack that read it is over. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private publish(state: bigint): void {
    if (Atomics.load(this.cells, STATE) !== GROWING) return;
    Atomics.store(this.cells, STATE, state);
    this.bump();
  }

  private bump(): void {
    Atomics.add(this.cells, SEQ, 1n);
    Atomics.notify(this.cells, SEQ);
  }
}

/** The reader's side: the blob's bytes in order, waiting while the download is behind. */
export async function* followBlob(fd: number, shared: SharedArrayBuffer, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const cells = new BigInt64Array(shared);
  let pos = 0;
  for (;;) {
    // seq before state before bytes: bytes are published before the state that ends them
    const seq = Atomics.load(cells, SEQ);
    const state = Atomics.load(cells, STATE);
    const end = Number(Atomics.load(cells, BYTES));
    if (state === ABANDONED) throw new BlobAbandoned('the download of this layer stopped or started over');
    while (pos < end) {
      const buf = Buffer.allocUnsafe(Math.min(READ_SIZE, end - pos));
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) throw new BlobAbandoned(`the partial download shrank below byte ${pos}`);
      pos += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
    if (state === COMPLETE) return;
    signal?.throwIfAborted();
    const wait = Atomics.waitAsync(cells, SEQ, seq);
    if (!wait.async) continue;
    // a pending waitAsync does not keep a thread's event loop alive; a timer does
    const alive = setInterval(() => {}, 1 << 30);
    try {
      await (signal ? untilAborted(wait.value, signal) : wait.value);
    } finally {
      clearInterval(alive);
    }
  }
}

/** Waits for `p`, or for the signal, whichever comes first; an abort throws its reason. */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  let off = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    off = () => signal.removeEventListener('abort', onAbort);
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    off();
  }
}
