// `push`: the stored blobs go up as they are (compressed as pulled or made, so nothing is
// recompressed), skipping those the registry has and mounting those another repository on the
// same registry has; then the manifest, byte for byte, so its digest does not change.
import { fullString, normalize, repository, type Reference } from '../image/reference.ts';
import { parseManifestDocument, type ImageManifest } from '../image/manifest.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { ImageRecord, ImageStore } from '../image/store/image-store.ts';
import { findImage } from './images.ts';
import { registryClient } from './pull.ts';
import { shortId } from '../image/digest.ts';
import { Semaphore } from '../image/install.ts';
import type { EngineConfig } from './config.ts';
import type { ProgressSink } from './progress.ts';

export interface PushOptions {
  config: EngineConfig;
  dockerConfigDir?: string;
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  chunkSize?: number;
  onProgress?: ProgressSink;
}

export interface PushResult {
  ref: Reference;
  digest: string;
  size: number;
}

export async function pushImage(store: ImageStore, name: string, opts: PushOptions): Promise<PushResult> {
  const ref = normalize(name);
  if (ref.digest) throw new Error(`cannot push a digest reference: ${name}`);
  const emit = opts.onProgress ?? (() => {});
  const img = findImage(store, fullString(ref));
  emit({ status: `The push refers to repository [${repository(ref)}]` });
  const manifestBytes = store.content.read(img.manifest);
  const doc = parseManifestDocument(manifestBytes, img.manifestType);
  if (doc.kind !== 'manifest') throw new Error(`image ${img.id}: its stored manifest is an index`);
  const client = registryClient(ref.domain, opts);
  try {
    return await pushWith(client, store, img, ref, manifestBytes, doc.manifest, opts);
  } finally {
    await client.close();
  }
}

async function pushWith(client: RegistryClient, store: ImageStore, img: ImageRecord, ref: Reference, manifestBytes: Buffer, manifest: ImageManifest, opts: PushOptions): Promise<PushResult> {
  const emit = opts.onProgress ?? (() => {});
  const blobs = [...manifest.layers, manifest.config];
  const slots = new Semaphore(opts.config.maxConcurrentUploads);
  for (const l of manifest.layers.toReversed()) emit({ id: shortId(l.digest), status: 'Preparing' });
  await Promise.all(
    blobs.map((desc) =>
      slots.run(async () => {
        const id = shortId(desc.digest);
        const isLayer = desc !== manifest.config;
        if (!store.content.has(desc.digest)) throw new Error(`blob ${desc.digest} of ${img.id} is not in the image store; pull or build the image again`);
        if (await client.blobExists(ref.path, desc.digest)) {
          if (isLayer) emit({ id, status: 'Layer already exists' });
          return;
        }
        for (const from of mountSources(store, ref, desc.digest)) {
          if (await client.mountBlob(ref.path, desc.digest, from)) {
            if (isLayer) emit({ id, status: `Mounted from ${from}` });
            return;
          }
        }
        await client.pushBlob(ref.path, desc.digest, desc.size, (offset) => store.content.open(desc.digest, offset), {
          ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
          onProgress: (current: number) => {
            if (isLayer) emit({ id, status: 'Pushing', progressDetail: { current, total: desc.size } });
          },
        });
        if (isLayer) emit({ id, status: 'Pushed' });
      }),
    ),
  );
  const digest = await client.putManifest(ref.path, ref.tag!, img.manifestType, manifestBytes);
  store.addRepoDigest(`${repository(ref)}@${digest}`, img.id);
  emit({ status: `${ref.tag}: digest: ${digest} size: ${manifestBytes.length}` });
  return { ref, digest, size: manifestBytes.length };
}

/** Other repositories on the same registry that an image with this blob was pulled from or pushed to. */
function mountSources(store: ImageStore, ref: Reference, digest: string): string[] {
  const out = new Set<string>();
  for (const name of store.repoDigestsWithBlob(digest)) {
    const other = normalize(name);
    if (other.domain === ref.domain && other.path !== ref.path) out.add(other.path);
  }
  return [...out];
}
