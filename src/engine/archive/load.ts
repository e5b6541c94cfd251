// `load`: images into the store from a docker-archive (manifest.json), an OCI image layout
// (index.json), or one tar that is both (docker 25+). The input is a tar (plain, gzip or zstd),
// read once from start to end, or a directory holding a layout.
//
// An archive is hostile input. Every path it names is checked to stay inside it, every blob is
// hashed and checked against the digest that names it, every JSON document is size-bounded and
// parsed strictly, and every layer is checked against its config's diff_ids. Everything is made
// under a lease, so a failure leaves nothing behind; images committed before a later one fails
// are removed again, and tags they moved are put back.
import { createHash } from '../../crypto.ts';
import { closeSync, createReadStream, openSync, readSync, realpathSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { isDigest, type Digest } from '../../image/digest.ts';
import { installImage, type LayerBlob } from '../../image/install.ts';
import { detectCompression, openLayer, peek, refusedFormat } from '../../image/layer/decompress.ts';
import type { LayerLimits } from '../../image/layer/unpack.ts';
import {
  DEFAULT_CONFIG_MAX_BYTES,
  DEFAULT_MANIFEST_MAX_BYTES,
  isImageConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  ManifestError,
  MediaType,
  parseImageConfig,
  parseManifestDocument,
  serializeManifest,
  type Descriptor,
  type ImageConfig,
} from '../../image/manifest.ts';
import { formatPlatform, hostPlatform, manifestCandidates, matchPlatform, type Platform } from '../../image/platform.ts';
import { familiarString, fullString, parseReference, ReferenceError } from '../../image/reference.ts';
import { DigestMismatch, type BlobSource } from '../../image/store/content.ts';
import type { ImageStore } from '../../image/store/image-store.ts';
import type { Lease } from '../../image/store/leases.ts';
import { chainIds } from '../../image/store/snapshots.ts';
import { readTar, TarError } from '../../image/tar/reader.ts';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from './save.ts';

/** The archive is malformed or hostile; nothing of it was kept. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

/** The input held no bytes at all. */
export class EmptyArchiveError extends ArchiveError {
  override name = 'EmptyArchiveError';
}

export interface LoadOptions {
  /**
   * `load --platform`: load only images of this platform. Indexes give their entry for it,
   * images of other platforms are skipped, and it is an error when none is left or when an index
   * lists the platform but the archive lacks its content. Without it, an index gives the host's
   * entry and a single-platform image loads whatever its platform.
   */
  platform?: Platform;
  signal?: AbortSignal;
  /** Largest manifest.json, index.json, repositories or image config accepted. */
  maxDocumentBytes?: number;
  /** Names the input in messages: a file name, "stdin". */
  label?: string;
  /** Limits for each layer (the engine's layer-max-bytes and layer-max-entries). */
  layerLimits?: Partial<LayerLimits>;
}

export interface LoadedImage {
  id: string;
  /** Full names, "docker.io/library/busybox:latest". */
  tags: string[];
  /** Tags that pointed at another image before, with that image's ID. */
  moved: { tag: string; from: string }[];
}

const TOP_DOCUMENTS = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const MAX_LINK_HOPS = 16;
const MAX_INDEX_DEPTH = 8;

/** Loads every image in `input` (a tar stream, or a path to a tar file or a layout directory). */
export async function loadImages(store: ImageStore, input: Readable | string, opts: LoadOptions = {}): Promise<LoadedImage[]> {
  const label = opts.label ?? (typeof input === 'string' ? input : 'the archive');
  const lease = store.lease();
  try {
    let archive: Archive;
    if (typeof input === 'string' && isDirectory(input)) archive = new DirectoryArchive(store, lease, input, label, opts);
    else {
      const stream = typeof input === 'string' ? openFile(input) : input;
      archive = await spoolTar(store, lease, stream, label, opts);
    }
    const images = await planImages(store, lease, archive, opts);
    return await installAll(store, images, opts.layerLimits);
  } finally {
    store.endLease(lease);
  }
}

/** docker's lines for what was loaded: one per tag, or the ID of an untagged image. */
export function loadMessages(images: LoadedImage[]): string[] {
  const out: string[] = [];
  for (const img of images) {
    for (const m of img.moved) out.push(`The image ${familiarString(parseReference(m.tag))} already exists, renaming the old one with ID ${m.from} to empty string`);
    if (img.tags.length === 0) out.push(`Loaded image ID: ${img.id}`);
    for (const t of img.tags) out.push(`Loaded image: ${familiarString(parseReference(t))}`);
  }
  return out;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function openFile(path: string): Readable {
  try {
    // opened synchronously so that a missing file fails here, with its own message
    const fd = openSync(path, 'r');
    return createReadStream('', { fd, highWaterMark: 256 * 1024 });
  } catch (err) {
    throw new ArchiveError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// What planning needs from an archive, whether it was a tar streamed once or a directory.

interface Archive {
  readonly label: string;
  /** A top-level document (manifest.json, index.json, ...), or undefined when there is none. */
  document(name: string): Promise<Buffer | undefined>;
  /** Puts the file at `path` (as manifest.json names it) into the store; its digest and size. */
  file(path: string, where: string): Promise<{ digest: Digest; size: number }>;
  /** Puts the blob a descriptor names (blobs/<alg>/<hex>) into the store, checked against it. */
  blob(desc: Descriptor, where: string): Promise<void>;
  hasBlob(digest: string): boolean;
}

/** A path inside the archive, normalized; absolute paths and ".." are refused. */
function archivePath(raw: string, where: string): string {
  if (raw.startsWith('/')) throw new ArchiveError(`${where}: ${JSON.stringify(raw)} is an absolute path; an archive may only name paths inside itself`);
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new ArchiveError(`${where}: ${JSON.stringify(raw)} contains "..", which could lead outside the archive`);
    parts.push(p);
  }
  return parts.join('/');
}

/** A link target resolved against the directory of the link; refused when it leaves the archive. */
function linkTarget(path: string, target: string, where: string): string {
  if (target.startsWith('/')) throw new ArchiveError(`${where}: link ${JSON.stringify(path)} points to the absolute path ${JSON.stringify(target)}, outside the archive`);
  const parts = path.split('/').slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw new ArchiveError(`${where}: link ${JSON.stringify(path)} -> ${JSON.stringify(target)} points outside the archive`);
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

/** The digest a blobs/<alg>/<hex> path names, if it is one. */
function digestOfPath(path: string): Digest | undefined {
  const m = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(path);
  if (!m) return undefined;
  const d = `${m[1]}:${m[2]}`;
  return isDigest(d) ? (d as Digest) : undefined;
}

function fileSource(path: string): BlobSource {
  return { open: async (offset) => ({ stream: createReadStream(path, { start: offset, highWaterMark: 256 * 1024 }), offset }) };
}

function checkDescriptor(store: ImageStore, desc: Descriptor, where: string): void {
  const size = store.content.size(desc.digest);
  if (size !== desc.size) throw new ArchiveError(`${where}: blob ${desc.digest} is ${size} bytes, but its descriptor says ${desc.size}`);
}

// ---------------------------------------------------------------------------------------------
// A tar read once: blobs under blobs/<alg>/<hex> go straight into the store (their path names
// their digest); other files are hashed into the store as they stream, kept only if
// manifest.json names them (the lease's GC takes the rest); the top-level documents are kept in memory.

type Node =
  | { kind: 'dir' }
  | { kind: 'doc'; bytes: Buffer }
  | { kind: 'stored'; digest: Digest; size: number }
  | { kind: 'link'; target: string };

async function spoolTar(store: ImageStore, lease: Lease, input: Readable, label: string, opts: LoadOptions): Promise<Archive> {
  const maxDoc = opts.maxDocumentBytes ?? DEFAULT_CONFIG_MAX_BYTES;
  const nodes = new Map<string, Node>();
  const source = await decompressed(input, label);
  let count = 0;
  try {
    for await (const entry of readTar(source.data)) {
      const h = entry.header;
      const where = `${label}: entry ${JSON.stringify(h.path)}`;
      const path = archivePath(h.path, where);
      if (path === '') {
        if (h.type === 'directory') continue;
        throw new ArchiveError(`${where}: an entry with an empty name`);
      }
      count++;
      switch (h.type) {
        case 'directory':
          nodes.set(path, { kind: 'dir' });
          break;
        case 'symlink':
          nodes.set(path, { kind: 'link', target: linkTarget(path, h.linkpath, where) });
          break;
        case 'hardlink':
          // a tar hard link names an earlier entry by its path from the archive's root
          nodes.set(path, { kind: 'link', target: archivePath(h.linkpath, where) });
          break;
        case 'file': {
          if (TOP_DOCUMENTS.has(path)) {
            if (h.size > maxDoc) throw new ArchiveError(`${where}: ${h.size} bytes is over the limit of ${maxDoc} bytes for a JSON document`);
            nodes.set(path, { kind: 'doc', bytes: await entry.read() });
            break;
          }
          const digest = digestOfPath(path);
          if (digest) {
            await ingestEntry(store, lease, digest, h.size, entry.body(), where, opts.signal);
            nodes.set(path, { kind: 'stored', digest, size: h.size });
          } else {
            nodes.set(path, { kind: 'stored', ...(await store.content.write(lease, entry.body())) });
          }
          break;
        }
        default:
          throw new ArchiveError(`${where}: a ${h.type} entry (type ${JSON.stringify(h.typeflag)}); an image archive holds only files, directories and links`);
      }
    }
  } catch (err) {
    if (err instanceof TarError) throw new ArchiveError(`${label}: ${err.message}`, { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^(Z_|ZSTD_|ERR_ZLIB)/.test(code)) throw new ArchiveError(`${label}: the compressed data is corrupt: ${(err as Error).message}`, { cause: err });
    throw err;
  } finally {
    source.close();
  }
  if (count === 0) throw new ArchiveError(`${label}: the archive has no entries`);
  return new SpooledArchive(store, lease, nodes, label);
}

interface Input {
  data: AsyncIterable<Buffer>;
  /** Stops reading: releases the decompressor and the input when the reader stopped early. */
  close(): void;
}

/** The input's bytes, decompressed when it is gzip or zstd (as docker load accepts). */
async function decompressed(input: Readable, label: string): Promise<Input> {
  const { head, all } = await peek(input, 6);
  if (head.length === 0) {
    all.destroy();
    throw new EmptyArchiveError(`${label} is empty`);
  }
  const refused = refusedFormat(head);
  if (refused) {
    all.destroy();
    throw new ArchiveError(`${label} is ${refused}-compressed; hull loads plain, gzip- and zstd-compressed archives`);
  }
  const format = detectCompression(head);
  if (format === 'none') return { data: all, close: () => all.destroy() };
  const inflate = format === 'gzip' ? createGunzip() : createZstdDecompress();
  pipeline(all, inflate).catch(() => {
    // the error reaches the reader through the inflater, which pipeline destroys with it
  });
  return {
    data: inflate,
    close: () => {
      inflate.destroy();
      all.destroy();
    },
  };
}

/**
 * Streams a tar entry into the store as the blob `digest`. When the archive fails part way the
 * stream is ended short, so the store discards what it got (it keeps a partial download only
 * for a source it can resume), and the archive's own error is the one reported.
 */
async function ingestEntry(store: ImageStore, lease: Lease, digest: Digest, size: number, body: AsyncGenerator<Buffer>, where: string, signal?: AbortSignal): Promise<void> {
  let upstream: unknown;
  const source: BlobSource = {
    async open() {
      async function* guarded(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of body) yield chunk;
        } catch (err) {
          upstream = err;
        }
      }
      return { stream: Readable.from(guarded(), { objectMode: false }), offset: 0 };
    },
  };
  try {
    await store.content.ingest(lease, { digest, size }, source, signal ? { signal } : {});
  } catch (err) {
    if (upstream !== undefined) throw upstream;
    if (err instanceof DigestMismatch) throw new ArchiveError(`${where}: its content is not the blob its name says: ${err.message}`, { cause: err });
    throw err;
  }
  if (upstream !== undefined) throw upstream;
}

class SpooledArchive implements Archive {
  readonly label: string;
  private readonly store: ImageStore;
  private readonly lease: Lease;
  private readonly nodes: Map<string, Node>;

  constructor(store: ImageStore, lease: Lease, nodes: Map<string, Node>, label: string) {
    this.store = store;
    this.lease = lease;
    this.nodes = nodes;
    this.label = label;
  }

  async document(name: string): Promise<Buffer | undefined> {
    const node = this.nodes.get(name);
    if (node === undefined) return undefined;
    if (node.kind !== 'doc') throw new ArchiveError(`${this.label}: ${name} is a ${node.kind === 'link' ? 'link' : 'directory'}, not a file`);
    return node.bytes;
  }

  /** The file a path leads to, following links inside the archive. */
  private resolve(path: string, where: string): Exclude<Node, { kind: 'link' }> & { path: string } {
    let p = path;
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const node = this.nodes.get(p);
      if (node === undefined) throw new ArchiveError(`${where}: ${JSON.stringify(path)} is not in the archive`);
      if (node.kind !== 'link') return { ...node, path: p };
      p = node.target;
    }
    throw new ArchiveError(`${where}: ${JSON.stringify(path)}: more than ${MAX_LINK_HOPS} links in a row`);
  }

  async file(raw: string, where: string): Promise<{ digest: Digest; size: number }> {
    const node = this.resolve(archivePath(raw, where), where);
    switch (node.kind) {
      case 'stored':
        return { digest: node.digest, size: node.size };
      case 'doc':
        return this.storeBytes(node.path, node.bytes);
      default:
        throw new ArchiveError(`${where}: ${JSON.stringify(raw)} is a directory, not a file`);
    }
  }

  private storeBytes(path: string, bytes: Buffer): { digest: Digest; size: number } {
    const digest = this.store.content.put(this.lease, bytes) as Digest;
    this.nodes.set(path, { kind: 'stored', digest, size: bytes.length });
    return { digest, size: bytes.length };
  }

  async blob(desc: Descriptor, where: string): Promise<void> {
    const got = await this.file(blobPath(desc.digest), `${where} (${desc.digest})`);
    if (got.digest !== desc.digest) throw new ArchiveError(`${where}: ${blobPath(desc.digest)} holds ${got.digest}, not ${desc.digest}`);
    checkDescriptor(this.store, desc, where);
  }

  hasBlob(digest: string): boolean {
    let p = blobPath(digest);
    for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
      const node = this.nodes.get(p);
      if (node === undefined || node.kind === 'dir') return false;
      if (node.kind !== 'link') return true;
      p = node.target;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// A directory: an OCI layout written by `save --format oci-dir`, skopeo or umoci, or an
// unpacked docker-archive. Files are read only when something names them.

class DirectoryArchive implements Archive {
  readonly label: string;
  private readonly store: ImageStore;
  private readonly lease: Lease;
  private readonly root: string;
  private readonly opts: LoadOptions;

  constructor(store: ImageStore, lease: Lease, root: string, label: string, opts: LoadOptions) {
    this.store = store;
    this.lease = lease;
    this.root = realpathSync(root);
    this.label = label;
    this.opts = opts;
  }

  /** The real path of a regular file inside the directory, or undefined when there is none. */
  private locate(path: string, where: string): string | undefined {
    let real: string;
    try {
      real = realpathSync(join(this.root, path));
    } catch {
      return undefined;
    }
    if (!real.startsWith(this.root + '/')) throw new ArchiveError(`${where}: ${JSON.stringify(path)} leads outside ${this.label} (through a symlink)`);
    if (!statSync(real).isFile()) throw new ArchiveError(`${where}: ${JSON.stringify(path)} is not a regular file`);
    return real;
  }

  async document(name: string): Promise<Buffer | undefined> {
    const file = this.locate(name, this.label);
    if (file === undefined) return undefined;
    const max = this.opts.maxDocumentBytes ?? DEFAULT_CONFIG_MAX_BYTES;
    const size = statSync(file).size;
    if (size > max) throw new ArchiveError(`${this.label}: ${name}: ${size} bytes is over the limit of ${max} bytes for a JSON document`);
    return readFileSync(file);
  }

  async file(raw: string, where: string): Promise<{ digest: Digest; size: number }> {
    const path = archivePath(raw, where);
    const file = this.locate(path, where);
    if (file === undefined) throw new ArchiveError(`${where}: ${JSON.stringify(raw)} is not in ${this.label}`);
    const named = digestOfPath(path);
    const digest = named ?? (await hashFile(file));
    const size = statSync(file).size;
    await ingestChecked(this.store, this.lease, { digest, size }, fileSource(file), `${where}: ${JSON.stringify(raw)}`, this.opts.signal);
    return { digest, size };
  }

  async blob(desc: Descriptor, where: string): Promise<void> {
    const path = blobPath(desc.digest);
    const file = this.locate(path, where);
    if (file === undefined) throw new ArchiveError(`${where}: blob ${desc.digest} is not in ${this.label}`);
    await ingestChecked(this.store, this.lease, { digest: desc.digest, size: desc.size }, fileSource(file), `${where}: ${path}`, this.opts.signal);
  }

  hasBlob(digest: string): boolean {
    try {
      return this.locate(blobPath(digest), this.label) !== undefined;
    } catch {
      return false;
    }
  }
}

async function hashFile(file: string): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}` as Digest;
}

async function ingestChecked(store: ImageStore, lease: Lease, expected: { digest: Digest; size: number }, source: BlobSource, where: string, signal?: AbortSignal): Promise<void> {
  try {
    await store.content.ingest(lease, expected, source, signal ? { signal } : {});
  } catch (err) {
    if (err instanceof DigestMismatch) throw new ArchiveError(`${where}: the file is not the blob its descriptor names: ${err.message}`, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Planning: which images the archive holds, with every blob in the store and every document
// parsed, before anything is unpacked or committed.

interface PlannedImage {
  manifest: { digest: string; mediaType: string };
  config: { digest: string; parsed: ImageConfig };
  layers: LayerBlob[];
  extraBlobs: string[];
  tags: string[];
  where: string;
}

function parseJson(bytes: Buffer, where: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ArchiveError(`${where}: not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ArchiveError(`${where}: malformed JSON: ${(err as Error).message}`);
  }
}

/** A document read from the store, wrapping the parsers' errors with where it came from. */
function readDocument<T>(store: ImageStore, digest: string, max: number, where: string, parse: (bytes: Buffer) => T): T {
  const size = store.content.size(digest);
  if (size > max) throw new ArchiveError(`${where}: ${digest} is ${size} bytes, over the limit of ${max} bytes for a JSON document`);
  try {
    return parse(store.content.read(digest, max));
  } catch (err) {
    if (err instanceof ManifestError) throw new ArchiveError(`${where}: ${err.message}`, { cause: err });
    throw err;
  }
}

function repoTag(raw: unknown, where: string): string {
  if (typeof raw !== 'string') throw new ArchiveError(`${where}: expected a string`);
  let ref;
  try {
    ref = parseReference(raw);
  } catch (err) {
    if (err instanceof ReferenceError) throw new ArchiveError(`${where}: ${JSON.stringify(raw)}: ${err.message}`, { cause: err });
    throw err;
  }
  if (ref.digest !== undefined || ref.tag === undefined) throw new ArchiveError(`${where}: invalid tag ${JSON.stringify(raw)}: a name:tag is needed`);
  return fullString(ref);
}

/** The names an index.json entry gives its image, as docker and containerd write them. */
function ociNames(desc: Descriptor, where: string): string[] {
  const a = desc.annotations ?? {};
  const image = a[ANNOTATION_IMAGE_NAME];
  if (image !== undefined) {
    let ref;
    try {
      ref = parseReference(image);
    } catch (err) {
      if (err instanceof ReferenceError) throw new ArchiveError(`${where}: annotation ${ANNOTATION_IMAGE_NAME}: ${err.message}`, { cause: err });
      throw err;
    }
    // a name@digest records where the image came from, not a tag to set
    return ref.tag !== undefined && ref.digest === undefined ? [fullString(ref)] : [];
  }
  // ref.name is free-form: a full reference (skopeo writes "name:tag") or a bare tag, which names no repository
  const refName = a[ANNOTATION_REF_NAME];
  if (refName !== undefined && /[:/]/.test(refName)) {
    try {
      const ref = parseReference(refName);
      if (ref.tag !== undefined && ref.digest === undefined) return [fullString(ref)];
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
    }
  }
  return [];
}

/** What the platform a user asked for (--platform) decides, and what it skipped, for the error when nothing is left. */
interface PlatformChoice {
  wanted: Platform;
  only: boolean;
  skipped: Set<string>;
}

function configPlatform(p: ImageConfig): Platform {
  return { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) };
}

/** True when the image is one `load --platform` leaves out (and notes its platform). */
function leftOut(choice: PlatformChoice, config: ImageConfig): boolean {
  if (!choice.only || matchPlatform(configPlatform(config), choice.wanted)) return false;
  choice.skipped.add(formatPlatform(configPlatform(config)));
  return true;
}

async function planImages(store: ImageStore, lease: Lease, archive: Archive, opts: LoadOptions): Promise<PlannedImage[]> {
  const label = archive.label;
  const choice: PlatformChoice = { wanted: opts.platform ?? hostPlatform(), only: opts.platform !== undefined, skipped: new Set() };
  const indexBytes = await archive.document('index.json');
  const manifestBytes = await archive.document('manifest.json');
  const layoutBytes = await archive.document('oci-layout');
  if (layoutBytes !== undefined) {
    const layout = parseJson(layoutBytes, `${label}: oci-layout`);
    const version = typeof layout === 'object' && layout !== null ? (layout as Record<string, unknown>)['imageLayoutVersion'] : undefined;
    if (typeof version !== 'string') throw new ArchiveError(`${label}: oci-layout: no imageLayoutVersion`);
    if (version !== '1.0.0') throw new ArchiveError(`${label}: oci-layout: unsupported layout version ${JSON.stringify(version)} (hull reads 1.0.0)`);
  }
  if (indexBytes === undefined && manifestBytes === undefined) {
    if ((await archive.document('repositories')) !== undefined) {
      throw new ArchiveError(`${label}: a docker save archive from before docker 1.10 (a repositories file, no manifest.json) is not supported`);
    }
    throw new ArchiveError(`${label}: not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)`);
  }
  const byConfig = new Map<string, PlannedImage>();
  const order: PlannedImage[] = [];
  const add = (img: PlannedImage, tags: string[]) => {
    const known = byConfig.get(img.config.digest);
    const target = known ?? img;
    if (!known) {
      byConfig.set(img.config.digest, img);
      order.push(img);
    }
    for (const t of tags) if (!target.tags.includes(t)) target.tags.push(t);
  };

  if (indexBytes !== undefined) {
    const where = `${label}: index.json`;
    let doc;
    try {
      doc = parseManifestDocument(indexBytes, undefined, { maxBytes: opts.maxDocumentBytes ?? DEFAULT_MANIFEST_MAX_BYTES });
    } catch (err) {
      if (err instanceof ManifestError) throw new ArchiveError(`${where}: ${err.message}`, { cause: err });
      throw err;
    }
    if (doc.kind !== 'index') throw new ArchiveError(`${where}: an OCI layout's index.json must be an image index, not a manifest`);
    for (const [i, d] of doc.index.manifests.entries()) {
      const at = `${where}: manifests[${i}]`;
      const names = ociNames(d, at);
      const img = await resolveDescriptor(store, archive, d, choice, at, 0, manifestBytes !== undefined);
      if (img) add(img, names);
    }
  }

  if (manifestBytes !== undefined) {
    const where = `${label}: manifest.json`;
    const items = parseJson(manifestBytes, where);
    if (!Array.isArray(items)) throw new ArchiveError(`${where}: expected an array of images`);
    for (const [i, raw] of items.entries()) {
      const at = `${where}: [${i}]`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArchiveError(`${at}: expected an object`);
      const item = raw as Record<string, unknown>;
      if (typeof item['Config'] !== 'string') throw new ArchiveError(`${at}.Config: expected a path`);
      if (!Array.isArray(item['Layers']) || item['Layers'].some((l) => typeof l !== 'string')) throw new ArchiveError(`${at}.Layers: expected a list of paths`);
      const repoTags = item['RepoTags'] ?? [];
      if (!Array.isArray(repoTags)) throw new ArchiveError(`${at}.RepoTags: expected a list`);
      const tags = repoTags.map((t, j) => repoTag(t, `${at}.RepoTags[${j}]`));
      const layerPaths = item['Layers'] as string[];
      // every path is checked before any content is stored
      archivePath(item['Config'], `${at}.Config`);
      layerPaths.forEach((p, j) => archivePath(p, `${at}.Layers[${j}]`));
      const config = await archive.file(item['Config'], `${at}.Config`);
      const known = byConfig.get(config.digest);
      if (known) {
        add(known, tags);
        continue;
      }
      const parsed = readDocument(store, config.digest, opts.maxDocumentBytes ?? DEFAULT_CONFIG_MAX_BYTES, `${at}.Config (${item['Config']})`, (b) => parseImageConfig(b));
      if (leftOut(choice, parsed)) continue;
      if (parsed.rootfs.diff_ids.length !== layerPaths.length) {
        throw new ArchiveError(`${at}: the image config lists ${parsed.rootfs.diff_ids.length} layers (diff_ids) but Layers has ${layerPaths.length}`);
      }
      const layers: LayerBlob[] = [];
      for (const [j, p] of layerPaths.entries()) {
        const blob = await archive.file(p, `${at}.Layers[${j}]`);
        layers.push({ digest: blob.digest, size: blob.size, mediaType: layerMediaType(store, blob.digest, `${at}.Layers[${j}] (${p})`) });
      }
      const manifest = serializeManifest({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.size },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest as Digest, size: l.size })),
      });
      const manifestDigest = store.content.put(lease, manifest);
      add({ manifest: { digest: manifestDigest, mediaType: MediaType.OciManifest }, config: { digest: config.digest, parsed }, layers, extraBlobs: [], tags: [], where: at }, tags);
    }
  }
  if (order.length === 0 && choice.only) {
    const held = choice.skipped.size ? `; it holds ${[...choice.skipped].sort().join(', ')}` : '';
    throw new ArchiveError(`requested platform (${formatPlatform(choice.wanted)}) not found: ${label} holds no image for it${held}`);
  }
  if (order.length === 0) throw new ArchiveError(`${label}: the archive holds no images`);
  // within one archive, as in docker, a tag named twice ends on the image named last
  const owner = new Map<string, PlannedImage>();
  for (const img of order) for (const t of img.tags) owner.set(t, img);
  for (const img of order) img.tags = img.tags.filter((t) => owner.get(t) === img);
  return order;
}

/** A docker-archive layer's media type, from its first bytes. */
function layerMediaType(store: ImageStore, digest: string, where: string): string {
  const head = Buffer.alloc(6);
  const fd = openSync(store.content.path(digest), 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const refused = refusedFormat(head.subarray(0, n));
  if (refused) throw new ArchiveError(`${where}: the layer is ${refused}-compressed; hull reads plain, gzip and zstd layers`);
  const format = detectCompression(head.subarray(0, n));
  return format === 'gzip' ? MediaType.OciLayerGzip : format === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

/**
 * The image an index.json entry stands for: a manifest, or the wanted platform's chosen from a
 * (nested) index. Undefined when the entry is one docker's manifest.json describes better, or
 * one `load --platform` leaves out.
 */
async function resolveDescriptor(
  store: ImageStore,
  archive: Archive,
  d: Descriptor,
  choice: PlatformChoice,
  where: string,
  depth: number,
  haveDockerManifest: boolean,
): Promise<PlannedImage | undefined> {
  if (depth > MAX_INDEX_DEPTH) throw new ArchiveError(`${where}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
  const wanted = choice.wanted;
  if (isIndexMediaType(d.mediaType)) {
    await archive.blob(d, where);
    const doc = readDocument(store, d.digest, DEFAULT_MANIFEST_MAX_BYTES, `${where} (${d.digest})`, (b) => parseManifestDocument(b));
    if (doc.kind !== 'index') throw new ArchiveError(`${where}: the descriptor says ${d.mediaType}, but ${d.digest} is an image manifest`);
    const available: string[] = [];
    let absent: string | undefined;
    // entries below are judged by the platform their index gives, or their config's: never skipped for it
    const inner: PlatformChoice = { ...choice, only: false };
    for (const c of manifestCandidates(doc.index, wanted)) {
      // a layout may hold some platforms of an index only (docker saves the host's)
      if (!archive.hasBlob(c.digest)) {
        if (c.platform !== undefined) absent ??= c.digest;
        continue;
      }
      const img = await resolveDescriptor(store, archive, c, inner, `${where} > ${c.digest}`, depth + 1, false);
      if (!img) continue;
      const p = img.config.parsed;
      if (c.platform === undefined && !matchPlatform(configPlatform(p), wanted)) {
        available.push(formatPlatform(p));
        continue;
      }
      img.extraBlobs.push(d.digest);
      return img;
    }
    const listed = [...new Set(doc.index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])).concat(available))];
    if (choice.only && absent !== undefined) {
      throw new ArchiveError(`requested platform (${formatPlatform(wanted)}) found, but some content is missing: ${where}: the index ${d.digest} lists ${absent} for it, which is not in ${archive.label}`);
    }
    if (choice.only) {
      for (const p of listed) choice.skipped.add(p);
      return undefined;
    }
    throw new ArchiveError(`${where}: the index ${d.digest} holds no image for ${formatPlatform(wanted)} in this archive${listed.length ? ` (it lists ${listed.join(', ')})` : ''}`);
  }
  if (!isManifestMediaType(d.mediaType)) throw new ArchiveError(`${where}: unsupported media type ${JSON.stringify(d.mediaType)}: not an image manifest or index`);
  await archive.blob(d, where);
  const doc = readDocument(store, d.digest, DEFAULT_MANIFEST_MAX_BYTES, `${where} (${d.digest})`, (b) => parseManifestDocument(b));
  if (doc.kind !== 'manifest') throw new ArchiveError(`${where}: the descriptor says ${d.mediaType}, but ${d.digest} is an index`);
  if (doc.mediaType !== d.mediaType) throw new ArchiveError(`${where}: the descriptor says ${d.mediaType}, but the manifest says ${doc.mediaType}`);
  const m = doc.manifest;
  if (!isImageConfigMediaType(m.config.mediaType)) {
    throw new ArchiveError(`${where}: ${d.digest} is not a container image (its config is ${JSON.stringify(m.config.mediaType)})`);
  }
  await archive.blob(m.config, `${where}: config`);
  const parsed = readDocument(store, m.config.digest, DEFAULT_CONFIG_MAX_BYTES, `${where}: config ${m.config.digest}`, (b) => parseImageConfig(b));
  if (leftOut(choice, parsed)) return undefined;
  if (parsed.rootfs.diff_ids.length !== m.layers.length) {
    // docker 25.0's first index.json listed only foreign layers; its manifest.json is right
    if (haveDockerManifest) return undefined;
    throw new ArchiveError(`${where}: the manifest has ${m.layers.length} layers but its config lists ${parsed.rootfs.diff_ids.length} diff_ids`);
  }
  const layers: LayerBlob[] = [];
  for (const [i, l] of m.layers.entries()) {
    if (!isLayerMediaType(l.mediaType)) throw new ArchiveError(`${where}: layers[${i}]: ${JSON.stringify(l.mediaType)} is not a layer media type`);
    await archive.blob(l, `${where}: layers[${i}]`);
    layers.push({ digest: l.digest, mediaType: l.mediaType, size: l.size });
  }
  return { manifest: { digest: d.digest, mediaType: doc.mediaType }, config: { digest: m.config.digest, parsed }, layers, extraBlobs: [], tags: [], where };
}

// ---------------------------------------------------------------------------------------------
// Installing: unpack and commit each image; on failure, undo the ones already committed.

async function installAll(store: ImageStore, images: PlannedImage[], limits?: Partial<LayerLimits>): Promise<LoadedImage[]> {
  const allTags = images.flatMap((i) => i.tags);
  const before = new Map(allTags.map((t) => [t, store.byName(t)]));
  const existed = new Set(images.filter((i) => store.get(i.config.digest)).map((i) => i.config.digest));
  const done: LoadedImage[] = [];
  try {
    for (const img of images) {
      await verifyPresentLayers(store, img);
      const lease = store.lease();
      try {
        await installImage(store, lease, {
          manifest: img.manifest,
          config: img.config,
          layers: img.layers,
          extraBlobs: img.extraBlobs,
          tags: img.tags,
          repoDigests: [],
          ...(limits ? { limits } : {}),
        });
      } catch (err) {
        throw new ArchiveError(`${img.where}: ${(err as Error).message}`, { cause: err });
      } finally {
        store.endLease(lease);
      }
      const moved = img.tags.flatMap((t) => {
        const from = before.get(t);
        return from !== undefined && from !== img.config.digest ? [{ tag: t, from }] : [];
      });
      done.push({ id: img.config.digest, tags: img.tags, moved });
    }
  } catch (err) {
    for (const img of done) {
      for (const t of img.tags) {
        const prev = before.get(t);
        if (prev !== undefined && store.get(prev)) store.tag(prev, t);
        else store.untag(t);
      }
      if (!existed.has(img.id)) store.deleteImage(img.id);
    }
    throw err;
  }
  return done;
}

/**
 * installImage checks a layer against its diff_id when it unpacks it. A layer whose snapshot
 * the store already has is not unpacked again, so its blob is checked here, unless an image in
 * the store already pairs that blob with that snapshot.
 */
async function verifyPresentLayers(store: ImageStore, img: PlannedImage): Promise<void> {
  const diffIds = img.config.parsed.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  let trusted: Set<string> | undefined;
  for (const [i, l] of img.layers.entries()) {
    if (!store.snapshots.get(chains[i]!)) continue;
    trusted ??= new Set(store.list().flatMap((r) => store.layers(r.id).map((x) => `${x.chainId} ${x.blob}`)));
    if (trusted.has(`${chains[i]} ${l.digest}`)) continue;
    const stream = await openLayer(store.content.path(l.digest), { maxUncompressedBytes: Number.MAX_SAFE_INTEGER, name: l.digest });
    for await (const chunk of stream.data) void chunk;
    if (stream.diffID() !== diffIds[i]) {
      throw new ArchiveError(`${img.where}: layer ${i} (${l.digest}): its content hashes to ${stream.diffID()}, but the image config says ${diffIds[i]}`);
    }
  }
}
