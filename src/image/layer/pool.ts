// Unpacks layers on worker threads, so that independent layers are unpacked on all cores at
// once: file creation costs system time per file (MACHINE.md), and one thread per layer keeps
// both cores busy. Workers are kept between calls (unref'd while idle) since starting one costs
// tens of milliseconds.
import { existsSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TarError, TarFormatError, TarLimitError, TarTruncatedError, TarUnsupportedError } from '../tar/reader.ts';
import { LayerFormatError, LayerLimitError } from './decompress.ts';
import { BlobAbandoned } from './growing.ts';
import { LayerUnpackError, type UnpackOptions, type UnpackResult } from './unpack.ts';

/** A blob still downloading: the fd of its partial file and the GrowingBlob's shared cells. */
export interface FollowedBlob {
  fd: number;
  shared: SharedArrayBuffer;
}

export interface UnpackJob {
  source: string | FollowedBlob;
  dir: string;
  opts?: UnpackOptions;
}

export type JobMessage =
  | { type: 'job'; id: number; source: string | FollowedBlob; dir: string; opts: Omit<UnpackOptions, 'signal'> }
  | { type: 'abort'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  stack: string;
  code: string | undefined;
  entry: string | undefined;
  offset: number | undefined;
}

export type ReplyMessage = { type: 'done'; id: number; result: UnpackResult } | { type: 'error'; id: number; error: SerializedError };

export interface PoolOptions {
  /** Layers unpacked at once; the default is the number of CPUs. */
  concurrency?: number;
  /** Aborts every job of this call. */
  signal?: AbortSignal;
}

const ERRORS: Record<string, new (...args: never[]) => Error> = {
  TarError, TarFormatError, TarTruncatedError, TarLimitError, TarUnsupportedError,
  LayerLimitError, LayerFormatError, LayerUnpackError, BlobAbandoned,
};

/** The worker's error as an instance of the same class, so callers can tell the kinds apart. */
function revive(e: SerializedError): Error {
  const cls = ERRORS[e.name] ?? Error;
  const err = Reflect.construct(Error, [e.message], cls) as Error & Record<string, unknown>;
  Object.defineProperty(err, 'name', { value: e.name, configurable: true, writable: true });
  err.stack = e.stack;
  if (e.code !== undefined) err.code = e.code;
  if (e.entry !== undefined || cls === LayerUnpackError) Object.defineProperty(err, 'entry', { value: e.entry });
  if (e.offset !== undefined) Object.defineProperty(err, 'offset', { value: e.offset });
  return err;
}

function workerURL(): URL {
  // From source this module is pool.ts; in an esbuild bundle in dist/ (hull, hull-runtime.cjs),
  // import.meta.url is the bundle's, and the worker is its own bundle next to it.
  return import.meta.url.endsWith('.ts') ? new URL('./worker.ts', import.meta.url) : new URL('./hull-unpack-worker.cjs', import.meta.url);
}

interface Pending {
  resolve(r: UnpackResult): void;
  reject(e: Error): void;
  dir: string;
}

class PooledWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  dead = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor() {
    // The CLI's Node runs with an 8 MB young generation (scripts/bundle.ts), which workers would
    // inherit; an unpacker's garbage is short-lived buffers, and 3 MB keeps ~40 MB off a pull.
    this.worker = new Worker(workerURL(), { resourceLimits: { maxYoungGenerationSizeMb: 3 } });
    this.worker.on('message', (msg: ReplyMessage) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'done') p.resolve(msg.result);
      else p.reject(revive(msg.error));
    });
    const died = (why: string): void => {
      this.dead = true;
      idle.delete(this);
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        // The worker could not clean up after itself.
        rmSync(p.dir, { recursive: true, force: true });
        p.reject(new Error(`unpack worker died while unpacking into ${p.dir}: ${why}`));
      }
    };
    this.worker.on('error', (e) => died(e.message));
    this.worker.on('exit', (code) => died(`exit code ${code}`));
  }

  run(id: number, job: UnpackJob): Promise<UnpackResult> {
    const { signal, ...opts } = job.opts ?? {};
    return new Promise<UnpackResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, dir: job.dir });
      this.worker.postMessage({ type: 'job', id, source: job.source, dir: job.dir, opts } satisfies JobMessage);
    });
  }

  abort(id: number): void {
    if (this.pending.has(id)) this.worker.postMessage({ type: 'abort', id } satisfies JobMessage);
  }
}

function blobSize(path: string | FollowedBlob): number {
  if (typeof path !== 'string') return 0;
  try {
    return statSync(path).size;
  } catch {
    return 0; // the worker reports the missing file
  }
}

const idle = new Set<PooledWorker>();
const IDLE_MS = 30_000;
let nextId = 0;

function acquire(): PooledWorker {
  for (const w of idle) {
    idle.delete(w);
    if (w.dead) continue;
    clearTimeout(w.idleTimer);
    w.worker.ref();
    return w;
  }
  return new PooledWorker();
}

function release(w: PooledWorker): void {
  if (w.dead) return;
  // Idle workers must not keep the process alive, nor hold their memory in a long-lived one.
  w.worker.unref();
  idle.add(w);
  w.idleTimer = setTimeout(() => {
    idle.delete(w);
    w.dead = true;
    void w.worker.terminate();
  }, IDLE_MS).unref();
}

/**
 * Starts up to `count` idle workers now, so that the tens of milliseconds each takes to start
 * overlap with whatever the caller does before its first unpack (a pull's manifest requests).
 */
export function warmUnpackers(count = availableParallelism()): void {
  for (let n = idle.size; n < count; n++) release(new PooledWorker());
}

/**
 * Unpacks each job's layer into its dir (see unpackLayer), up to `concurrency` at once. If one
 * fails, the others are aborted; every job that did not finish has its dir removed, and the
 * first failure is thrown once all jobs have settled. Dirs of jobs that finished are kept.
 */
export async function unpackLayers(jobs: UnpackJob[], options: PoolOptions = {}): Promise<UnpackResult[]> {
  const concurrency = Math.max(1, Math.min(options.concurrency ?? availableParallelism(), jobs.length));
  const results: UnpackResult[] = new Array(jobs.length);
  const inflight = new Map<number, { worker: PooledWorker; id: number }>();
  let failure: unknown;
  let next = 0;

  const abortAll = (reason: unknown): void => {
    failure ??= reason;
    for (const { worker, id } of inflight.values()) worker.abort(id);
  };
  const onAbort = (): void => abortAll(options.signal!.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const jobAborts: (() => void)[] = [];

  // Largest blobs first, so that one big layer started last does not finish alone on one core.
  const order = jobs.map((job, i) => ({ i, size: blobSize(job.source) })).sort((a, b) => b.size - a.size).map((j) => j.i);

  const lane = async (): Promise<void> => {
    while (next < jobs.length && failure === undefined) {
      const i = order[next++]!;
      const job = jobs[i]!;
      if (existsSync(job.dir)) {
        failure ??= new LayerUnpackError(`layer ${job.opts?.name ?? (typeof job.source === 'string' ? job.source : 'stream')}: the snapshot directory ${job.dir} already exists`);
        abortAll(failure);
        break;
      }
      const worker = acquire();
      const id = ++nextId;
      inflight.set(i, { worker, id });
      const jobSignal = job.opts?.signal;
      const onJobAbort = (): void => worker.abort(id);
      if (jobSignal) {
        jobSignal.addEventListener('abort', onJobAbort, { once: true });
        jobAborts.push(() => jobSignal.removeEventListener('abort', onJobAbort));
        if (jobSignal.aborted) onJobAbort();
      }
      try {
        results[i] = await worker.run(id, job);
      } catch (e) {
        // An abort asked for by a signal surfaces as the signal's own reason.
        const reason = e instanceof Error && e.name === 'AbortError' ? (jobSignal?.aborted ? jobSignal.reason : options.signal?.aborted ? options.signal.reason : e) : e;
        abortAll(reason);
      } finally {
        inflight.delete(i);
        release(worker);
      }
    }
  };

  try {
    if (options.signal?.aborted) throw options.signal.reason;
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const off of jobAborts) off();
  }
  if (failure !== undefined) throw failure;
  return results;
}
