// Turns blobs in the content store into an image: each layer unpacked into its own snapshot
// directory (as many at once as there are CPUs, on worker threads, and each synced as it
// finishes), checked against the config's diff IDs, then one metadata transaction.
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { syncfs, syncfsAsync } from '../sys/index.ts';
import { BlobAbandoned, type GrowingBlob } from './layer/growing.ts';
import { unpackLayers, type UnpackJob } from './layer/pool.ts';
import { resolveLowerLinks, type LayerLimits, type UnpackOptions, type UnpackResult } from './layer/unpack.ts';
import { diskUsage } from './store/disk-usage.ts';
import type { ImageConfig } from './manifest.ts';
import { chainIds } from './store/snapshots.ts';
import type { ImageLayer, ImageRecord, ImageStore } from './store/image-store.ts';
import { claim, type Lease } from './store/leases.ts';

export interface LayerBlob {
  digest: string;
  mediaType: string;
  size: number;
}

export interface InstallRequest {
  manifest: { digest: string; mediaType: string };
  config: { digest: string; parsed: ImageConfig };
  layers: LayerBlob[];
  /**
   * Resolves once layer i's blob can be read: undefined when it is in the content store, or a
   * GrowingBlob while a pull is still downloading it (its bytes are unpacked as they arrive).
   */
  layerReady?: (i: number) => Promise<GrowingBlob | undefined>;
  /** Other blobs the image keeps, such as the index it was chosen from. */
  extraBlobs?: string[];
  tags: string[];
  repoDigests: string[];
  onLayer?: (i: number, state: 'exists' | 'extracting' | 'done') => void;
  allowDevices?: boolean;
  limits?: Partial<LayerLimits>;
  signal?: AbortSignal;
}

export async function installImage(store: ImageStore, lease: Lease, req: InstallRequest): Promise<ImageRecord> {
  const diffIds = req.config.parsed.rootfs.diff_ids;
  if (diffIds.length !== req.layers.length) {
    throw new Error(`image ${req.manifest.digest}: the manifest has ${req.layers.length} layers but its config lists ${diffIds.length} diff_ids`);
  }
  const chains = chainIds(diffIds);
  const scratches: (string | undefined)[] = [];
  const results: UnpackResult[] = [];
  // the largest layers first: each is unpacked by one thread, so the largest bounds the whole
  const order = req.layers.map((l, i) => ({ i, size: l.size })).sort((a, b) => b.size - a.size).map((l) => l.i);
  // Each unpacked layer starts a syncfs on libuv's pool and its thread goes on to the next, so
  // the disk is written while the rest unpack and the last sync has little left to do. (A sync
  // on the unpacking thread left both cores idle while the first one waited for the disk.)
  const syncs: Promise<void>[] = [];
  try {
    const cpus = new Semaphore(availableParallelism());
    const toMake = await store.snapshots.acquireAll(lease, chains, req.signal);
    await forEachLimited(order.length, order.length, async (k) => {
      const i = order[k]!;
      const chain = chains[i]!;
      const blob = req.layers[i]!.digest;
      const existing = toMake.has(chain) ? undefined : store.snapshots.get(chain);
      if (!existing && !toMake.has(chain)) throw new Error(`layer ${i} (${blob}): its snapshot ${chain} was removed while this pull was using it`);
      if (existing) {
        // the image keeps this layer's blob too: hold it against a concurrent rmi's GC, and fetch it if it is gone
        claim(store.db, lease, 'blob', blob);
        if (!store.content.has(blob)) {
          const growing = await req.layerReady?.(i);
          growing?.close();
          await growing?.done;
        }
        req.onLayer?.(i, 'exists');
        return;
      }
      const growing = await req.layerReady?.(i);
      let result: UnpackResult;
      try {
        req.onLayer?.(i, 'extracting');
        const scratch = store.snapshots.scratch(lease, chain);
        scratches[i] = scratch;
        const opts: UnpackOptions = {
          name: store.content.path(blob),
          ...(req.limits ? { limits: req.limits } : {}),
          ...(req.allowDevices === undefined ? {} : { allowDevices: req.allowDevices }),
          ...(req.signal ? { signal: req.signal } : {}),
        };
        const unpack = (source: UnpackJob['source']) => cpus.run(async () => (await unpackLayers([{ source, dir: scratch, opts }], { concurrency: 1 }))[0]!);
        try {
          result = await unpack(growing ? { fd: growing.fd, shared: growing.shared } : store.content.path(blob));
        } catch (e) {
          if (!growing) throw e;
          // bytes that fail to unpack may be bytes that fail their digest: that is the error to tell
          await growing.done;
          if (!(e instanceof BlobAbandoned)) throw e;
          result = await unpack(store.content.path(blob));
        }
        const synced = syncfsAsync(scratch);
        // awaited below unless another layer fails first; then it must not surface as unhandled
        synced.catch(() => {});
        syncs.push(synced);
      } finally {
        growing?.close();
      }
      await growing?.done;
      if (result.diffID !== diffIds[i]) {
        throw new Error(`layer ${i} (${blob}): its content hashes to ${result.diffID}, but the image config says ${diffIds[i]}`);
      }
      results[i] = result;
      req.onLayer?.(i, 'done');
    });
    // bottom up, so that a hard link into a lower layer finds that layer in place
    for (let i = 0; i < chains.length; i++) {
      const scratch = scratches[i];
      if (!scratch || results[i]!.lowerLinks.length === 0) continue;
      const lowers = chains.slice(0, i).reverse().map((c, j) => scratches[i - 1 - j] ?? store.snapshots.dir(c));
      resolveLowerLinks(scratch, lowers, results[i]!.lowerLinks);
      results[i]!.disk = diskUsage(scratch);
    }
    // the layers' own syncs started as each finished; this one covers the blobs and the links above
    await Promise.all(syncs);
    syncfs(store.root);
    for (let i = 0; i < chains.length; i++) {
      const scratch = scratches[i];
      if (scratch) store.snapshots.commit(chains[i]!, i === 0 ? null : chains[i - 1]!, diffIds[i]!, results[i]!.size, results[i]!.disk, scratch);
    }
  } finally {
    for (const s of scratches) if (s) rmSync(s, { recursive: true, force: true });
  }
  const layers: ImageLayer[] = req.layers.map((l, i) => ({ chainId: chains[i]!, diffId: diffIds[i]!, blob: l.digest, blobType: l.mediaType, blobSize: l.size }));
  const cfg = req.config.parsed;
  store.commitImage(lease, {
    id: req.config.digest,
    manifest: req.manifest.digest,
    manifestType: req.manifest.mediaType,
    os: cfg.os,
    architecture: cfg.architecture,
    variant: cfg.variant,
    created: cfg.created,
    layers,
    blobs: [req.config.digest, req.manifest.digest, ...req.layers.map((l) => l.digest), ...(req.extraBlobs ?? [])],
    tags: req.tags,
    repoDigests: req.repoDigests,
  });
  return store.get(req.config.digest)!;
}

/** Runs fn(0..n-1) with at most `limit` at once; the first failure is thrown after all have settled. */
export async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try {
        if (failure === undefined) await fn(i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  if (failure !== undefined) throw failure;
}

/** At most `limit` tasks at once, first come first served. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.free = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
