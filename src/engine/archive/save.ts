// `save`: images out of the store as one tar that is both a docker-archive (manifest.json,
// repositories) and an OCI image layout (oci-layout, index.json, blobs/), as docker 25+ writes
// it; or as an OCI layout alone, in a tar or a directory. Blobs go out exactly as the store
// holds them (compressed layers are not recompressed), so the manifests and the image IDs a
// later load finds are the ones saved.
import { randomBytes } from '../../crypto.ts';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync, constants as fsConstants } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../image/digest.ts';
import { digestOf } from '../../image/digest.ts';
import {
  isLayerMediaType,
  isManifestMediaType,
  layerCompression,
  MediaType,
  parseManifestDocument,
  serializeIndex,
  serializeManifest,
  type Descriptor,
  type ImageManifest,
} from '../../image/manifest.ts';
import { familiarName, familiarString, fullString, parseAnyReference, parseReference, repository, ReferenceError } from '../../image/reference.ts';
import type { ImageRecord, ImageStore } from '../../image/store/image-store.ts';
import { claim } from '../../image/store/leases.ts';
import { tarStream, type TarEntry } from '../../image/tar/writer.ts';
import { findImage, NotFoundError } from '../images.ts';

export type SaveFormat = 'docker' | 'oci-archive' | 'oci-dir';

export const SAVE_FORMATS: readonly SaveFormat[] = ['docker', 'oci-archive', 'oci-dir'];

export class SaveError extends Error {
  override name = 'SaveError';
}

export interface SavedImage {
  id: string;
  /** Full names ("docker.io/library/busybox:latest") saved with the image. */
  tags: string[];
}

/** Annotation keys docker and containerd write in index.json to name an image. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

const OCI_LAYOUT = '{"imageLayoutVersion": "1.0.0"}';

interface Blob {
  digest: Digest;
  size: number;
  /** In-memory content (a manifest hull wrote); otherwise the store's file. */
  bytes?: Uint8Array;
}

interface ImagePlan {
  record: ImageRecord;
  tags: string[];
  manifest: Descriptor;
  layers: Descriptor[];
}

/**
 * Writes `names` (names, name:tag, IDs) to `out`: a writable stream (left open: the caller
 * ends it) or a path — a file for the tar formats (written beside it, then renamed into place),
 * a directory for oci-dir (which must not exist or be empty).
 */
export async function saveImages(store: ImageStore, names: string[], out: Writable | string, format: SaveFormat = 'docker'): Promise<SavedImage[]> {
  if (!SAVE_FORMATS.includes(format)) throw new SaveError(`unknown save format ${JSON.stringify(format)}: use ${SAVE_FORMATS.join(', ')}`);
  if (names.length === 0) throw new SaveError('save needs at least one image name');
  if (format === 'oci-dir' && typeof out !== 'string') throw new SaveError('the oci-dir format writes a directory: give its path');
  const lease = store.lease();
  try {
    const images = resolveNames(store, names);
    const blobs = new Map<Digest, Blob>();
    const plans = images.map(({ record, tags }) => planImage(store, record, tags, blobs));
    // a concurrent rmi must not reclaim what is being written
    for (const d of blobs.keys()) claim(store.db, lease, 'blob', d);
    for (const b of blobs.values()) {
      if (b.bytes) continue;
      const size = storedSize(store, b.digest);
      if (size !== b.size) throw new SaveError(`blob ${b.digest} in the store is ${size} bytes, but the image's manifest says ${b.size}; the store is damaged`);
    }
    const docs = documents(plans, format);
    if (format === 'oci-dir') await writeDirectory(store, out as string, blobs, docs);
    else if (typeof out === 'string') await writeFileAtomically(out, tarEntries(store, blobs, docs));
    else await pipeline(Readable.from(tarStream(tarEntries(store, blobs, docs))), out, { end: false });
    return plans.map((p) => ({ id: p.record.id, tags: p.tags }));
  } finally {
    store.endLease(lease);
  }
}

/** The images to save and the tags each goes with, as docker's save decides them. */
function resolveNames(store: ImageStore, names: string[]): { record: ImageRecord; tags: string[] }[] {
  const out = new Map<string, { record: ImageRecord; tags: string[] }>();
  const add = (record: ImageRecord, tag?: string) => {
    const entry = out.get(record.id) ?? { record, tags: [] };
    out.set(record.id, entry);
    if (tag !== undefined && !entry.tags.includes(tag)) entry.tags.push(tag);
  };
  for (const name of names) {
    let any;
    try {
      any = parseAnyReference(name);
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
    }
    if (any?.kind === 'name' && any.ref.tag === undefined && any.ref.digest === undefined) {
      // a bare repository name saves every tag in it
      const repo = repository(any.ref);
      let found = false;
      for (const record of store.list()) {
        for (const t of record.tags) {
          if (repository(parseReference(t)) === repo) {
            add(record, t);
            found = true;
          }
        }
      }
      if (found) continue;
    }
    let record: ImageRecord;
    try {
      record = findImage(store, name);
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ReferenceError) throw new SaveError(`No such image: ${name}`, { cause: err });
      throw err;
    }
    if (any?.kind === 'name' && any.ref.tag !== undefined && any.ref.digest === undefined) add(record, fullString(any.ref));
    else add(record);
  }
  return [...out.values()];
}

function storedSize(store: ImageStore, digest: string): number {
  try {
    return statSync(store.content.path(digest)).size;
  } catch {
    throw new SaveError(`blob ${digest} is missing from the image store`);
  }
}

/** The image's manifest as stored when it still describes the image, otherwise one written now. */
function planImage(store: ImageStore, record: ImageRecord, tags: string[], blobs: Map<Digest, Blob>): ImagePlan {
  const label = tags[0] ? familiarString(parseReference(tags[0])) : record.id;
  if (!store.content.has(record.id)) throw new SaveError(`cannot save ${label}: its config ${record.id} is missing from the image store`);
  const configSize = store.content.size(record.id);
  const stored = store.layers(record.id);
  const layers: Descriptor[] = stored.map((l, i) => {
    if (!l.blob || !store.content.has(l.blob)) {
      throw new SaveError(`cannot save ${label}: layer ${i} (${l.diffId}) has no compressed blob in the image store (only its unpacked snapshot), so it cannot be written to an archive`);
    }
    const size = l.blobSize ?? store.content.size(l.blob);
    return { mediaType: l.blobType ?? MediaType.OciLayerGzip, digest: l.blob as Digest, size };
  });
  let manifest: Descriptor | undefined;
  if (store.content.has(record.manifest)) {
    const bytes = store.content.read(record.manifest);
    const doc = safeParse(bytes);
    if (
      doc?.kind === 'manifest' &&
      doc.manifest.config.digest === record.id &&
      doc.manifest.layers.length === layers.length &&
      doc.manifest.layers.every((l, i) => l.digest === layers[i]!.digest)
    ) {
      manifest = { mediaType: doc.mediaType, digest: record.manifest as Digest, size: bytes.length };
      layers.splice(0, layers.length, ...doc.manifest.layers);
    }
  }
  if (!manifest) {
    const m: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: record.id as Digest, size: configSize },
      layers: layers.map((l) => ({ ...l, mediaType: ociLayerType(l.mediaType) })),
    };
    const bytes = serializeManifest(m);
    const digest = digestOf(bytes);
    manifest = { mediaType: MediaType.OciManifest, digest, size: bytes.length };
    blobs.set(digest, { digest, size: bytes.length, bytes });
  } else {
    blobs.set(manifest.digest, { digest: manifest.digest, size: manifest.size });
  }
  blobs.set(record.id as Digest, { digest: record.id as Digest, size: configSize });
  for (const l of layers) blobs.set(l.digest, { digest: l.digest, size: l.size });
  manifest.platform = { architecture: record.architecture, os: record.os, ...(record.variant ? { variant: record.variant } : {}) };
  return { record, tags, manifest, layers };
}

function safeParse(bytes: Uint8Array) {
  try {
    return parseManifestDocument(bytes);
  } catch {
    return undefined;
  }
}

function ociLayerType(mediaType: string): string {
  if (!isLayerMediaType(mediaType)) return MediaType.OciLayerGzip;
  if (mediaType.startsWith('application/vnd.oci.')) return mediaType;
  switch (layerCompression(mediaType)) {
    case 'gzip':
      return MediaType.OciLayerGzip;
    case 'zstd':
      return MediaType.OciLayerZstd;
    default:
      return MediaType.OciLayer;
  }
}

interface Documents {
  /** Top-level files, in the order they are written. */
  files: [string, Uint8Array][];
}

function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

function documents(plans: ImagePlan[], format: SaveFormat): Documents {
  const descriptors: Descriptor[] = [];
  for (const p of plans) {
    if (!isManifestMediaType(p.manifest.mediaType)) throw new SaveError(`image ${p.record.id}: unexpected manifest type ${p.manifest.mediaType}`);
    if (p.tags.length === 0) {
      // docker leaves untagged images out of index.json; an OCI layout would then lose them
      descriptors.push({ ...p.manifest });
      continue;
    }
    for (const t of p.tags) {
      const ref = parseReference(t);
      descriptors.push({ ...p.manifest, annotations: { [ANNOTATION_IMAGE_NAME]: t, [ANNOTATION_REF_NAME]: ref.tag ?? 'latest' } });
    }
  }
  const index = serializeIndex({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: descriptors });
  const files: [string, Uint8Array][] = [['index.json', index]];
  if (format === 'docker') {
    const manifest = plans.map((p) => ({
      Config: blobPath(p.record.id),
      RepoTags: p.tags.length ? p.tags.map((t) => familiarString(parseReference(t))) : null,
      Layers: p.layers.map((l) => blobPath(l.digest)),
    }));
    files.push(['manifest.json', Buffer.from(JSON.stringify(manifest) + '\n')]);
  }
  files.push(['oci-layout', Buffer.from(OCI_LAYOUT)]);
  if (format === 'docker') {
    const repos = new Map<string, Map<string, string>>();
    for (const p of plans) {
      const top = p.layers.at(-1);
      if (!top) continue;
      for (const t of p.tags) {
        const ref = parseReference(t);
        const name = familiarName(ref);
        if (!repos.has(name)) repos.set(name, new Map());
        repos.get(name)!.set(ref.tag ?? 'latest', top.digest.slice(top.digest.indexOf(':') + 1));
      }
    }
    if (repos.size > 0) {
      const sorted = Object.fromEntries([...repos.keys()].sort().map((k) => [k, Object.fromEntries([...repos.get(k)!].sort(([a], [b]) => (a < b ? -1 : 1)))]));
      files.push(['repositories', Buffer.from(JSON.stringify(sorted) + '\n')]);
    }
  }
  return { files };
}

/** The archive's entries in docker's order (a sorted walk): blobs first, then the documents. */
async function* tarEntries(store: ImageStore, blobs: Map<Digest, Blob>, docs: Documents): AsyncGenerator<TarEntry> {
  const dir = (name: string): TarEntry => ({ name, type: 'dir', mode: 0o755, mtime: 0 });
  yield dir('blobs');
  const sorted = [...blobs.values()].sort((a, b) => (blobPath(a.digest) < blobPath(b.digest) ? -1 : 1));
  let algorithm = '';
  for (const b of sorted) {
    const alg = b.digest.slice(0, b.digest.indexOf(':'));
    if (alg !== algorithm) {
      algorithm = alg;
      yield dir(`blobs/${alg}`);
    }
    // opened only when the writer reaches it, so one descriptor is open at a time
    yield { name: blobPath(b.digest), type: 'file', mode: 0o644, mtime: 0, size: b.size, data: b.bytes ? Buffer.from(b.bytes) : store.content.open(b.digest) };
  }
  for (const [name, bytes] of docs.files) yield { name, type: 'file', mode: 0o644, mtime: 0, data: Buffer.from(bytes) };
}

function scratchName(target: string): string {
  return join(dirname(target), `.${basename(target)}.hull-${randomBytes(4).toString('hex')}`);
}

async function writeFileAtomically(file: string, entries: AsyncIterable<TarEntry>): Promise<void> {
  const tmp = scratchName(file);
  try {
    await pipeline(Readable.from(tarStream(entries)), createWriteStream(tmp, { mode: 0o600 }));
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function writeDirectory(store: ImageStore, dir: string, blobs: Map<Digest, Blob>, docs: Documents): Promise<void> {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new SaveError(`${dir} exists and is not a directory`);
    if (readdirSync(dir).length > 0) throw new SaveError(`${dir} is not empty; the oci-dir format writes a new layout`);
  }
  const tmp = scratchName(dir);
  try {
    for (const b of blobs.values()) {
      const path = join(tmp, blobPath(b.digest));
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      if (b.bytes) writeFileSync(path, b.bytes, { mode: 0o644 });
      else await copyFile(store.content.path(b.digest), path, fsConstants.COPYFILE_FICLONE);
    }
    for (const [name, bytes] of docs.files) writeFileSync(join(tmp, name), bytes, { mode: 0o644 });
    if (existsSync(dir)) rmdirSync(dir);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
