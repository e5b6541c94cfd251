// `pull`: registry → content store → snapshots → image, composed here because the registry
// client knows no store and the store knows no registry. Blobs download in parallel, the
// largest first, and each layer unpacks into its own snapshot while its blob downloads; a
// snapshot is kept only once its blob has matched its digest.
import { RegistryClient } from '../registry/client.ts';
import { credentialSource } from '../registry/credentials.ts';
import { shortId } from '../image/digest.ts';
import { fullString, normalize, repository, familiarString, type Reference } from '../image/reference.ts';
import { hostPlatform, formatPlatform, selectManifest, type Platform } from '../image/platform.ts';
import { MANIFEST_ACCEPT, isForeignLayer, parseImageConfig, parseManifestDocument, DEFAULT_CONFIG_MAX_BYTES, type Descriptor, type ImageManifest } from '../image/manifest.ts';
import { installImage, Semaphore } from '../image/install.ts';
import { GrowingBlob } from '../image/layer/growing.ts';
import { warmUnpackers } from '../image/layer/pool.ts';
import { availableParallelism } from 'node:os';
import type { ImageRecord, ImageStore } from '../image/store/image-store.ts';
import type { Lease } from '../image/store/leases.ts';
import type { EngineConfig } from './config.ts';
import type { ProgressSink } from './progress.ts';

export interface PullOptions {
  config: EngineConfig;
  dockerConfigDir?: string;
  platform?: Platform;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

export interface PullResult {
  image: ImageRecord;
  ref: Reference;
  /** What the reference points at in the registry: the index or the manifest digest. */
  digest: string;
  upToDate: boolean;
}

const RETRIES = 3;

export function registryClient(domain: string, opts: { config: EngineConfig; dockerConfigDir?: string | undefined }): RegistryClient {
  return new RegistryClient(domain, {
    insecureRegistries: opts.config.insecureRegistries,
    mirrors: opts.config.registryMirrors,
    credentials: credentialSource(opts.dockerConfigDir ? { configDir: opts.dockerConfigDir } : {}),
  });
}

export async function pullImage(store: ImageStore, name: string, opts: PullOptions): Promise<PullResult> {
  const ref = normalize(name);
  const emit = opts.onProgress ?? (() => {});
  const wanted = opts.platform ?? hostPlatform();
  const client = registryClient(ref.domain, opts);
  const repo = ref.path;
  // docker names the repository by its path on the registry: "library/busybox", "test/app"
  emit({ status: `${ref.digest ?? ref.tag}: Pulling from ${ref.path}` });
  const lease = store.lease();
  // a failure stops every transfer before the lease ends, so nothing writes into a reclaimed store
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  opts = { ...opts, signal };
  const downloads: Promise<void>[] = [];
  // Unpack workers take tens of milliseconds to start. A name the store lacks is all but surely
  // a cold pull, so they start now, beside the manifest requests; a name the store has is most
  // often an up-to-date check, which workers would only slow (~25 ms to start and stop them).
  const likelyCold = store.byName(fullString(ref)) === undefined;
  if (likelyCold) warmUnpackers(availableParallelism());
  try {
    const top = await client.getManifest(repo, ref.digest ?? ref.tag!, { accept: [...MANIFEST_ACCEPT] });
    let doc = parseManifestDocument(top.bytes, top.mediaType);
    const extraBlobs: string[] = [];
    let manifestDesc = { digest: top.digest, mediaType: doc.mediaType as string, bytes: top.bytes };
    if (doc.kind === 'index') {
      store.content.put(lease, top.bytes, { digest: top.digest });
      extraBlobs.push(top.digest);
      const chosen = selectManifest(doc.index, wanted);
      if (!chosen) throw new Error(`no matching manifest for ${formatPlatform(wanted)} in the manifest list entries`);
      const child = await client.getManifest(repo, chosen.digest, { accept: [...MANIFEST_ACCEPT] });
      doc = parseManifestDocument(child.bytes, child.mediaType);
      if (doc.kind !== 'manifest') throw new Error(`manifest ${chosen.digest}: an index inside an index is not an image`);
      manifestDesc = { digest: child.digest, mediaType: doc.mediaType, bytes: child.bytes };
    }
    const manifest: ImageManifest = doc.manifest;
    store.content.put(lease, manifestDesc.bytes, { digest: manifestDesc.digest });
    const existing = store.get(manifest.config.digest);
    const present = existing && store.layers(existing.id).every((l) => store.snapshots.get(l.chainId));
    if (!present && !likelyCold) warmUnpackers(Math.min(manifest.layers.length, availableParallelism()));
    const configBytes = await fetchSmallBlob(client, repo, manifest.config, DEFAULT_CONFIG_MAX_BYTES);
    store.content.put(lease, configBytes, { digest: manifest.config.digest, size: manifest.config.size });
    const config = parseImageConfig(configBytes);
    const tags = ref.tag ? [fullString(ref)] : [];
    const repoDigests = [`${repository(ref)}@${top.digest}`];
    const layers = manifest.layers;
    // a layer downloads only once its snapshot is known to be missing; at most N at once
    const slots = new Semaphore(opts.config.maxConcurrentDownloads);
    // resolves as soon as the layer's first bytes are in its partial file, so that it unpacks while it downloads
    const download = (i: number): Promise<GrowingBlob | undefined> => {
      const layer = layers[i]!;
      const id = shortId(layer.digest);
      emit({ id, status: 'Pulling fs layer' });
      let growing: GrowingBlob | undefined;
      const started = Promise.withResolvers<GrowingBlob | undefined>();
      const onWritten = (bytes: number) => {
        if (!growing) started.resolve((growing = new GrowingBlob(store.content.partialPath(layer.digest))));
        growing.written(bytes);
      };
      const p = slots.run(() => downloadLayer(store, lease, client, repo, layer, { ...opts, onWritten }, id));
      p.then(
        () => {
          growing?.finish();
          started.resolve(undefined);
        },
        (err: unknown) => {
          growing?.fail(err);
          started.reject(err);
        },
      );
      downloads.push(p);
      return started.promise;
    };
    const image = await installImage(store, lease, {
      manifest: { digest: manifestDesc.digest, mediaType: manifestDesc.mediaType },
      config: { digest: manifest.config.digest, parsed: config },
      layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
      layerReady: download,
      limits: { maxUncompressedBytes: opts.config.layerMaxBytes, maxEntries: opts.config.layerMaxEntries },
      extraBlobs,
      tags,
      repoDigests,
      onLayer: (i, state) => {
        const id = shortId(layers[i]!.digest);
        // as docker's, an image that is already whole gets no line per layer
        if (state === 'exists') {
          if (!present) emit({ id, status: 'Already exists' });
        }
        else if (state === 'extracting') emit({ id, status: 'Extracting', progressDetail: { current: 0, total: layers[i]!.size } });
        else emit({ id, status: 'Pull complete' });
      },
      signal,
    });
    emit({ status: `Digest: ${top.digest}` });
    const shown = familiarString(ref);
    emit({ status: present ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
    return { image, ref, digest: top.digest, upToDate: Boolean(present) };
  } catch (err) {
    stop.abort();
    await Promise.allSettled(downloads);
    throw err;
  } finally {
    await client.close();
    store.endLease(lease);
  }
}

async function downloadLayer(
  store: ImageStore, lease: Lease, client: RegistryClient, repo: string, layer: Descriptor, opts: PullOptions & { onWritten: (bytes: number) => void }, id: string,
): Promise<void> {
  const emit = opts.onProgress ?? (() => {});
  if (store.content.has(layer.digest)) {
    emit({ id, status: 'Download complete' });
    return;
  }
  const urls = isForeignLayer(layer.mediaType) ? (layer.urls ?? []) : [];
  for (let attempt = 1; ; attempt++) {
    try {
      await store.content.ingest(
        lease,
        { digest: layer.digest, size: layer.size },
        {
          open: async (offset) => {
            const r = await client.fetchBlob(repo, layer.digest, { offset, ...(urls.length ? { urls } : {}) });
            return { stream: r.stream, offset: r.offset };
          },
        },
        {
          onProgress: (current) => emit({ id, status: 'Downloading', progressDetail: { current, total: layer.size } }),
          onWritten: opts.onWritten,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
      emit({ id, status: 'Verifying Checksum' });
      emit({ id, status: 'Download complete' });
      return;
    } catch (err) {
      // a broken transfer resumes from what was written; wrong bytes are never retried
      if (attempt >= RETRIES || (err as Error).name === 'DigestMismatch' || err instanceof TypeError || opts.signal?.aborted) throw err;
      emit({ id, status: `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}` });
      await new Promise((r) => setTimeout(r, attempt * 1000));
    }
  }
}

async function fetchSmallBlob(client: RegistryClient, repo: string, desc: Descriptor, max: number): Promise<Buffer> {
  if (desc.size > max) throw new Error(`blob ${desc.digest}: ${desc.size} bytes is more than the ${max} allowed for a config`);
  const { stream } = await client.fetchBlob(repo, desc.digest, { offset: 0 });
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > desc.size) {
      stream.destroy();
      throw new Error(`blob ${desc.digest}: more bytes than the ${desc.size} its descriptor gives`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
