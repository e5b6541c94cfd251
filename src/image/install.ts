// Turns blobs in the content store into an image: each layer unpacked into its own snapshot
// directory (all layers at once, on worker threads), checked against the config's diff IDs,
// then one syncfs and one metadata transaction.
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { syncfs } from '../sys/index.ts';
import { unpackLayers } from './layer/pool.ts';
import { resolveLowerLinks, type LayerLimits, type UnpackOptions } from './layer/unpack.ts';
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
  /** Resolves when layer i's blob is in the content store; a pull streams blobs in meanwhile. */
  layerReady?: (i: number) => Promise<void>;
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
  const links: { path: string; target: string }[][] = [];
  const sizes: number[] = [];
  try {
    const cpus = new Semaphore(availableParallelism());
    await forEachLimited(req.layers.length, req.layers.length, async (i) => {
      const chain = chains[i]!;
      const existing = await store.snapshots.acquire(lease, chain, req.signal);
      if (existing) {
        // the image keeps this layer's blob too: hold it against a concurrent rmi's GC, and fetch it if it is gone
        claim(store.db, lease, 'blob', req.layers[i]!.digest);
        if (!store.content.has(req.layers[i]!.digest)) await req.layerReady?.(i);
        req.onLayer?.(i, 'exists');
        return;
      }
      await req.layerReady?.(i);
      req.onLayer?.(i, 'extracting');
      const scratch = store.snapshots.scratch(lease, chain);
      scratches[i] = scratch;
      // one syncfs below covers every layer and blob, so the layers skip their own
      const opts: UnpackOptions = { sync: false, ...(req.limits ? { limits: req.limits } : {}), ...(req.allowDevices === undefined ? {} : { allowDevices: req.allowDevices }), ...(req.signal ? { signal: req.signal } : {}) };
      const [result] = await cpus.run(() => unpackLayers([{ source: store.content.path(req.layers[i]!.digest), dir: scratch, opts }], { concurrency: 1 }));
      if (result!.diffID !== diffIds[i]) {
        rmSync(scratch, { recursive: true, force: true });
        throw new Error(`layer ${i} (${req.layers[i]!.digest}): its content hashes to ${result!.diffID}, but the image config says ${diffIds[i]}`);
      }
      links[i] = result!.lowerLinks;
      sizes[i] = result!.size;
      req.onLayer?.(i, 'done');
    });
    // bottom up, so that a hard link into a lower layer finds that layer in place
    for (let i = 0; i < chains.length; i++) {
      const scratch = scratches[i];
      if (!scratch) continue;
      if (links[i]!.length > 0) {
        const lowers = chains.slice(0, i).reverse().map((c, j) => scratches[i - 1 - j] ?? store.snapshots.dir(c));
        resolveLowerLinks(scratch, lowers, links[i]!);
      }
    }
    syncfs(store.root);
    for (let i = 0; i < chains.length; i++) {
      const scratch = scratches[i];
      if (scratch) store.snapshots.commit(chains[i]!, i === 0 ? null : chains[i - 1]!, diffIds[i]!, sizes[i]!, scratch);
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
