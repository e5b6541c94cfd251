// Manifests, indexes and image configs: the JSON documents that describe an image, in
// both the OCI and the Docker v2 schema 2 dialects. Everything here parses bytes that
// came from a registry, an archive or a layout, so every field is checked and every error
// says where (`manifest: layers[2].digest: ...`). The serializers write hull's own images
// with a fixed key order, and check what they write with the same parsers.

import { DigestError, digestAlgorithm, digestOf, parseDigest } from './digest.ts';
import type { Digest } from './digest.ts';
import type { Platform } from './platform.ts';

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  // Not in docker's spec, but containerd and BuildKit write it for zstd layers in docker
  // manifests.
  DockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type ManifestMediaType = typeof MediaType.OciManifest | typeof MediaType.DockerManifest;
export type IndexMediaType = typeof MediaType.OciIndex | typeof MediaType.DockerManifestList;

/** What a registry client should send as Accept for manifests, best first. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/** distribution's limit on a manifest's size, which registries enforce on push. */
export const DEFAULT_MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Image configs carry the whole history, so they get more room than manifests. */
export const DEFAULT_CONFIG_MAX_BYTES = 8 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  /** Base64 of the content itself; checked against digest and size when parsed. */
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type ManifestDocument =
  | { kind: 'manifest'; mediaType: ManifestMediaType; manifest: ImageManifest }
  | { kind: 'index'; mediaType: IndexMediaType; index: ImageIndex };

export interface HealthConfig {
  Test?: string[];
  /** Durations are integer nanoseconds, as docker writes them. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` of an image: the defaults a container starts with. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig;
  OnBuild?: string[];
  Shell?: string[];
  StopTimeout?: number;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
  /** Which document: `manifest`, `index` or `image config`. */
  readonly document: string;
  /** The field path, e.g. `layers[2].digest`; '' for the document as a whole. */
  readonly field: string;
  constructor(document: string, field: string, reason: string) {
    super(field === '' ? `${document}: ${reason}` : `${document}: ${field}: ${reason}`);
    this.document = document;
    this.field = field;
  }
}

/** Raised for schema 1 manifests, which hull refuses to pull. */
export class Schema1Error extends ManifestError {
  override name = 'Schema1Error';
  constructor() {
    super('manifest', '', 'schema 1 manifests are not supported; push the image with a newer client');
  }
}

// RFC 6838 media type names, as the OCI descriptor schema writes them.
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RFC3339_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))$/;
// docker's port spec: number or range, optionally with a protocol.
const PORT_RE = /^[0-9]{1,5}(?:-[0-9]{1,5})?(?:\/(?:tcp|udp|sctp))?$/;

export function isValidMediaType(s: string): boolean {
  return MEDIA_TYPE_RE.test(s);
}

export function isManifestMediaType(s: string): s is ManifestMediaType {
  return s === MediaType.OciManifest || s === MediaType.DockerManifest;
}

export function isIndexMediaType(s: string): s is IndexMediaType {
  return s === MediaType.OciIndex || s === MediaType.DockerManifestList;
}

export function isImageConfigMediaType(s: string): boolean {
  return s === MediaType.OciConfig || s === MediaType.DockerConfig;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

const LAYER_COMPRESSION: Record<string, LayerCompression> = {
  [MediaType.OciLayer]: 'none',
  [MediaType.OciLayerGzip]: 'gzip',
  [MediaType.OciLayerZstd]: 'zstd',
  [MediaType.OciLayerNondistributable]: 'none',
  [MediaType.OciLayerNondistributableGzip]: 'gzip',
  [MediaType.OciLayerNondistributableZstd]: 'zstd',
  [MediaType.DockerLayer]: 'none',
  [MediaType.DockerLayerGzip]: 'gzip',
  [MediaType.DockerLayerZstd]: 'zstd',
  [MediaType.DockerForeignLayer]: 'gzip',
};

export function isLayerMediaType(mediaType: string): boolean {
  return Object.hasOwn(LAYER_COMPRESSION, mediaType);
}

/** How a layer blob of this media type is compressed; throws for a type that is no layer. */
export function layerCompression(mediaType: string): LayerCompression {
  const c = Object.hasOwn(LAYER_COMPRESSION, mediaType) ? LAYER_COMPRESSION[mediaType] : undefined;
  if (c === undefined) {
    throw new ManifestError('manifest', '', `unsupported layer media type ${JSON.stringify(clip(mediaType))}`);
  }
  return c;
}

/**
 * Whether a layer is foreign (docker) or non-distributable (OCI): its blob is not pushed
 * to registries but fetched from its descriptor's `urls`, and push skips it.
 */
export function isForeignLayer(mediaType: string): boolean {
  return (
    mediaType === MediaType.DockerForeignLayer ||
    mediaType === MediaType.OciLayerNondistributable ||
    mediaType === MediaType.OciLayerNondistributableGzip ||
    mediaType === MediaType.OciLayerNondistributableZstd
  );
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(clip(v))}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(at: string, key: string | number): string {
  if (typeof key === 'number') return `${at}[${key}]`;
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  if (at === '') return name;
  return /^[A-Za-z_]/.test(name) ? `${at}.${name}` : `${at}[${name}]`;
}

// Field readers for one document. JSON null counts as absent, as Go's decoder (which
// wrote most of these documents) leaves a null field at its zero value.
class Fields {
  readonly doc: string;
  constructor(doc: string) {
    this.doc = doc;
  }

  fail(at: string, why: string): never {
    throw new ManifestError(this.doc, at, why);
  }

  object(v: unknown, at: string): JsonObject {
    if (!isObject(v)) this.fail(at, `expected an object, got ${describe(v)}`);
    return v;
  }

  required(o: JsonObject, key: string, at: string): unknown {
    const v = Object.hasOwn(o, key) ? o[key] : undefined;
    if (v === undefined || v === null) this.fail(join(at, key), 'missing');
    return v;
  }

  optional(o: JsonObject, key: string): unknown {
    const v = Object.hasOwn(o, key) ? o[key] : undefined;
    return v === null ? undefined : v;
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, `expected a string, got ${describe(v)}`);
    return v;
  }

  /** A string that ends up in an execve argument or path, where NUL would truncate it. */
  execString(v: unknown, at: string): string {
    const s = this.string(v, at);
    if (s.includes('\0')) this.fail(at, 'contains a NUL byte');
    return s;
  }

  boolean(v: unknown, at: string): boolean {
    if (typeof v !== 'boolean') this.fail(at, `expected true or false, got ${describe(v)}`);
    return v;
  }

  integer(v: unknown, at: string, min: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(at, `expected an integer, got ${describe(v)}`);
    if (!Number.isSafeInteger(v)) this.fail(at, `${v} is too large to represent exactly`);
    if (v < min) this.fail(at, `must be at least ${min}, got ${v}`);
    return v;
  }

  mediaType(v: unknown, at: string): string {
    const s = this.string(v, at);
    if (!MEDIA_TYPE_RE.test(s)) this.fail(at, `invalid media type ${JSON.stringify(clip(s))}`);
    return s;
  }

  digest(v: unknown, at: string): Digest {
    try {
      return parseDigest(v);
    } catch (e) {
      if (e instanceof DigestError) this.fail(at, e.message);
      throw e;
    }
  }

  array(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, `expected an array, got ${describe(v)}`);
    return v;
  }

  strings(v: unknown, at: string, exec = false): string[] {
    return this.array(v, at).map((item, i) => (exec ? this.execString(item, join(at, i)) : this.string(item, join(at, i))));
  }

  stringMap(v: unknown, at: string): Record<string, string> {
    const o = this.object(v, at);
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return Object.fromEntries(Object.entries(o).map(([k, val]) => [k, this.string(val, join(at, k))]));
  }

  /** docker's set-of-keys encoding: `{"80/tcp": {}}`. */
  keySet(v: unknown, at: string, check?: (key: string) => string | undefined): Record<string, Record<string, never>> {
    const o = this.object(v, at);
    return Object.fromEntries(
      Object.entries(o).map(([k, val]) => {
        this.object(val, join(at, k));
        const problem = check?.(k);
        if (problem) this.fail(join(at, k), problem);
        return [k, {} as Record<string, never>];
      }),
    );
  }

  timestamp(v: unknown, at: string): string {
    const s = this.string(v, at);
    if (!isRfc3339(s)) this.fail(at, `${JSON.stringify(clip(s))} is not an RFC 3339 date-time`);
    return s;
  }
}

function isRfc3339(s: string): boolean {
  const m = RFC3339_RE.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offH = m[7] === undefined ? 0 : Number(m[7]);
  const offM = m[8] === undefined ? 0 : Number(m[8]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth;
}

function decodeJson(bytes: Uint8Array | string, f: Fields, maxBytes: number): JsonObject {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > maxBytes) f.fail('', `${size} bytes is over the limit of ${maxBytes} bytes`);
  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      f.fail('', 'not valid UTF-8');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    f.fail('', `malformed JSON: ${(e as Error).message}`);
  }
  return f.object(value, '');
}

function parsePlatformObject(f: Fields, v: unknown, at: string): Platform {
  const o = f.object(v, at);
  const p: Platform = {
    architecture: f.string(f.required(o, 'architecture', at), join(at, 'architecture')),
    os: f.string(f.required(o, 'os', at), join(at, 'os')),
  };
  const osVersion = f.optional(o, 'os.version');
  if (osVersion !== undefined) p['os.version'] = f.string(osVersion, join(at, 'os.version'));
  const features = f.optional(o, 'os.features');
  if (features !== undefined) p['os.features'] = f.strings(features, join(at, 'os.features'));
  const variant = f.optional(o, 'variant');
  if (variant !== undefined) p.variant = f.string(variant, join(at, 'variant'));
  return p;
}

function parseDescriptor(f: Fields, v: unknown, at: string): Descriptor {
  const o = f.object(v, at);
  const d: Descriptor = {
    mediaType: f.mediaType(f.required(o, 'mediaType', at), join(at, 'mediaType')),
    digest: f.digest(f.required(o, 'digest', at), join(at, 'digest')),
    size: f.integer(f.required(o, 'size', at), join(at, 'size'), 0),
  };
  const urls = f.optional(o, 'urls');
  if (urls !== undefined) {
    d.urls = f.strings(urls, join(at, 'urls'));
    d.urls.forEach((u, i) => {
      let url: URL | undefined;
      try {
        url = new URL(u);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        f.fail(join(join(at, 'urls'), i), `${JSON.stringify(clip(u))} is not an http or https URL`);
      }
    });
  }
  const annotations = f.optional(o, 'annotations');
  if (annotations !== undefined) d.annotations = f.stringMap(annotations, join(at, 'annotations'));
  const data = f.optional(o, 'data');
  if (data !== undefined) {
    const s = f.string(data, join(at, 'data'));
    if (!BASE64_RE.test(s)) f.fail(join(at, 'data'), 'not valid base64');
    const content = Buffer.from(s, 'base64');
    if (content.byteLength !== d.size) {
      f.fail(join(at, 'data'), `holds ${content.byteLength} bytes but size says ${d.size}`);
    }
    const actual = digestOf(content, digestAlgorithm(d.digest));
    if (actual !== d.digest) f.fail(join(at, 'data'), `content has digest ${actual}, not ${d.digest}`);
    d.data = s;
  }
  const platform = f.optional(o, 'platform');
  if (platform !== undefined) d.platform = parsePlatformObject(f, platform, join(at, 'platform'));
  const artifactType = f.optional(o, 'artifactType');
  if (artifactType !== undefined) d.artifactType = f.mediaType(artifactType, join(at, 'artifactType'));
  return d;
}

function parseDescriptors(f: Fields, v: unknown, at: string): Descriptor[] {
  return f.array(v, at).map((item, i) => parseDescriptor(f, item, join(at, i)));
}

// Content-Type values that say nothing about which document this is.
const GENERIC_CONTENT_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream']);

function contentTypeOf(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase();
}

function isSchema1(mediaType: string): boolean {
  return mediaType === MediaType.DockerSchema1Manifest || mediaType === MediaType.DockerSchema1SignedManifest;
}

export interface ParseLimits {
  /** Refuse documents larger than this many bytes. */
  maxBytes?: number;
}

/**
 * Parses a manifest or an index, as served by a registry (with its Content-Type) or read
 * from a store or layout (without). The media type comes from the body's `mediaType`,
 * else the header, else the shape of the document; body and header must agree.
 */
export function parseManifestDocument(
  bytes: Uint8Array | string,
  contentType?: string,
  limits: ParseLimits = {},
): ManifestDocument {
  const f = new Fields('manifest');
  const header = contentTypeOf(contentType);
  if (isSchema1(header)) throw new Schema1Error();
  const o = decodeJson(bytes, f, limits.maxBytes ?? DEFAULT_MANIFEST_MAX_BYTES);

  const bodyType = f.optional(o, 'mediaType');
  const body = bodyType === undefined ? undefined : f.mediaType(bodyType, 'mediaType');
  const version = f.optional(o, 'schemaVersion');
  if (version === 1 || (body !== undefined && isSchema1(body))) throw new Schema1Error();
  if (version === undefined) f.fail('schemaVersion', 'missing');
  if (version !== 2) f.fail('schemaVersion', `expected 2, got ${describe(version)}`);

  const specificHeader = GENERIC_CONTENT_TYPES.has(header) ? undefined : header;
  if (body !== undefined && specificHeader !== undefined && body !== specificHeader) {
    f.fail('mediaType', `the document says ${JSON.stringify(body)} but the Content-Type header says ${JSON.stringify(clip(specificHeader))}`);
  }
  const hasManifests = Object.hasOwn(o, 'manifests');
  const hasConfig = Object.hasOwn(o, 'config') || Object.hasOwn(o, 'layers');
  let mediaType = body ?? specificHeader;
  if (mediaType === undefined) {
    if (hasManifests === hasConfig) {
      f.fail('mediaType', 'missing, and the document has neither only "manifests" (an index) nor only "config" and "layers" (a manifest)');
    }
    mediaType = hasManifests ? MediaType.OciIndex : MediaType.OciManifest;
  }

  if (isManifestMediaType(mediaType)) {
    if (mediaType === MediaType.DockerManifest && body === undefined) {
      f.fail('mediaType', `missing; a Docker v2 manifest must state "${MediaType.DockerManifest}"`);
    }
    // A document that parses as both kinds could be shown as one and run as the other.
    if (hasManifests) f.fail('manifests', 'not allowed in an image manifest');
    const manifest: ImageManifest = {
      schemaVersion: 2,
      config: parseDescriptor(f, f.required(o, 'config', ''), 'config'),
      layers: parseDescriptors(f, f.required(o, 'layers', ''), 'layers'),
    };
    if (body !== undefined) manifest.mediaType = body;
    readCommon(f, o, manifest);
    return { kind: 'manifest', mediaType, manifest: ordered(manifest, MANIFEST_KEYS) };
  }
  if (isIndexMediaType(mediaType)) {
    const fi = new Fields('index');
    if (mediaType === MediaType.DockerManifestList && body === undefined) {
      fi.fail('mediaType', `missing; a Docker manifest list must state "${MediaType.DockerManifestList}"`);
    }
    if (Object.hasOwn(o, 'config')) fi.fail('config', 'not allowed in an image index');
    if (Object.hasOwn(o, 'layers')) fi.fail('layers', 'not allowed in an image index');
    const index: ImageIndex = {
      schemaVersion: 2,
      manifests: parseDescriptors(fi, fi.required(o, 'manifests', ''), 'manifests'),
    };
    if (body !== undefined) index.mediaType = body;
    readCommon(fi, o, index);
    return { kind: 'index', mediaType, index: ordered(index, INDEX_KEYS) };
  }
  return f.fail('mediaType', `unsupported manifest media type ${JSON.stringify(clip(mediaType))}`);
}

function readCommon(f: Fields, o: JsonObject, into: ImageManifest | ImageIndex): void {
  const artifactType = f.optional(o, 'artifactType');
  if (artifactType !== undefined) into.artifactType = f.mediaType(artifactType, 'artifactType');
  const subject = f.optional(o, 'subject');
  if (subject !== undefined) into.subject = parseDescriptor(f, subject, 'subject');
  const annotations = f.optional(o, 'annotations');
  if (annotations !== undefined) into.annotations = f.stringMap(annotations, 'annotations');
}

/** Parses an image config blob (OCI or Docker; they share one format). */
export function parseImageConfig(bytes: Uint8Array | string, limits: ParseLimits = {}): ImageConfig {
  const f = new Fields('image config');
  const o = decodeJson(bytes, f, limits.maxBytes ?? DEFAULT_CONFIG_MAX_BYTES);
  const nonEmpty = (key: string) => {
    const s = f.string(f.required(o, key, ''), key);
    if (s === '') f.fail(key, 'must not be empty');
    return s;
  };
  const architecture = nonEmpty('architecture');
  const os = nonEmpty('os');

  const rootfsObj = f.object(f.required(o, 'rootfs', ''), 'rootfs');
  const type = f.string(f.required(rootfsObj, 'type', 'rootfs'), 'rootfs.type');
  if (type !== 'layers') f.fail('rootfs.type', `must be "layers", got ${JSON.stringify(clip(type))}`);
  const diffIds = f.array(f.required(rootfsObj, 'diff_ids', 'rootfs'), 'rootfs.diff_ids');
  const rootfs = { type: 'layers' as const, diff_ids: diffIds.map((d, i) => f.digest(d, `rootfs.diff_ids[${i}]`)) };

  const config: ImageConfig = { architecture, os, rootfs };
  const created = f.optional(o, 'created');
  if (created !== undefined) config.created = f.timestamp(created, 'created');
  const author = f.optional(o, 'author');
  if (author !== undefined) config.author = f.string(author, 'author');
  const osVersion = f.optional(o, 'os.version');
  if (osVersion !== undefined) config['os.version'] = f.string(osVersion, 'os.version');
  const osFeatures = f.optional(o, 'os.features');
  if (osFeatures !== undefined) config['os.features'] = f.strings(osFeatures, 'os.features');
  const variant = f.optional(o, 'variant');
  if (variant !== undefined) config.variant = f.string(variant, 'variant');
  const containerConfig = f.optional(o, 'config');
  if (containerConfig !== undefined) config.config = parseContainerConfig(f, containerConfig);
  const history = f.optional(o, 'history');
  if (history !== undefined) {
    config.history = f.array(history, 'history').map((h, i) => parseHistory(f, h, `history[${i}]`));
  }
  return ordered(config, CONFIG_KEYS);
}

function parseContainerConfig(f: Fields, v: unknown): ContainerConfig {
  const o = f.object(v, 'config');
  const c: ContainerConfig = {};
  const at = (k: string) => `config.${k}`;
  const get = (k: string) => f.optional(o, k);
  let x: unknown;
  if ((x = get('User')) !== undefined) c.User = f.execString(x, at('User'));
  if ((x = get('ExposedPorts')) !== undefined) {
    c.ExposedPorts = f.keySet(x, at('ExposedPorts'), (k) =>
      PORT_RE.test(k) ? undefined : 'not a port: expected <port>[-<port>][/tcp|/udp|/sctp]',
    );
  }
  if ((x = get('Env')) !== undefined) c.Env = f.strings(x, at('Env'), true);
  if ((x = get('Entrypoint')) !== undefined) c.Entrypoint = f.strings(x, at('Entrypoint'), true);
  if ((x = get('Cmd')) !== undefined) c.Cmd = f.strings(x, at('Cmd'), true);
  if ((x = get('Volumes')) !== undefined) {
    c.Volumes = f.keySet(x, at('Volumes'), (k) => (k === '' ? 'empty volume path' : k.includes('\0') ? 'contains a NUL byte' : undefined));
  }
  if ((x = get('WorkingDir')) !== undefined) c.WorkingDir = f.execString(x, at('WorkingDir'));
  if ((x = get('Labels')) !== undefined) c.Labels = f.stringMap(x, at('Labels'));
  if ((x = get('StopSignal')) !== undefined) c.StopSignal = f.string(x, at('StopSignal'));
  if ((x = get('ArgsEscaped')) !== undefined) c.ArgsEscaped = f.boolean(x, at('ArgsEscaped'));
  if ((x = get('Healthcheck')) !== undefined) c.Healthcheck = parseHealthcheck(f, x, at('Healthcheck'));
  if ((x = get('OnBuild')) !== undefined) c.OnBuild = f.strings(x, at('OnBuild'));
  if ((x = get('Shell')) !== undefined) c.Shell = f.strings(x, at('Shell'), true);
  if ((x = get('StopTimeout')) !== undefined) c.StopTimeout = f.integer(x, at('StopTimeout'), -1);
  return c;
}

function parseHealthcheck(f: Fields, v: unknown, at: string): HealthConfig {
  const o = f.object(v, at);
  const h: HealthConfig = {};
  const test = f.optional(o, 'Test');
  if (test !== undefined) h.Test = f.strings(test, join(at, 'Test'), true);
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const val = f.optional(o, key);
    if (val !== undefined) h[key] = f.integer(val, join(at, key), 0);
  }
  return h;
}

function parseHistory(f: Fields, v: unknown, at: string): HistoryEntry {
  const o = f.object(v, at);
  const h: HistoryEntry = {};
  const created = f.optional(o, 'created');
  if (created !== undefined) h.created = f.timestamp(created, join(at, 'created'));
  for (const key of ['created_by', 'author', 'comment'] as const) {
    const val = f.optional(o, key);
    if (val !== undefined) h[key] = f.string(val, join(at, key));
  }
  const empty = f.optional(o, 'empty_layer');
  if (empty !== undefined) h.empty_layer = f.boolean(empty, join(at, 'empty_layer'));
  return h;
}

// Key orders of the Go structs docker, containerd and BuildKit marshal (ocispec and
// docker's OCI image extensions), so hull's documents read like theirs.
const MANIFEST_KEYS = ['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'subject', 'annotations'];
const INDEX_KEYS = ['schemaVersion', 'mediaType', 'artifactType', 'manifests', 'subject', 'annotations'];
const DESCRIPTOR_KEYS = ['mediaType', 'digest', 'size', 'urls', 'annotations', 'data', 'platform', 'artifactType'];
const PLATFORM_KEYS = ['architecture', 'os', 'os.version', 'os.features', 'variant'];
const CONFIG_KEYS = ['created', 'author', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'config', 'rootfs', 'history'];
const CONTAINER_CONFIG_KEYS = [
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal',
  'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell', 'StopTimeout',
];
const HEALTH_KEYS = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'];
const ROOTFS_KEYS = ['type', 'diff_ids'];
const HISTORY_KEYS = ['created', 'created_by', 'author', 'comment', 'empty_layer'];

// A copy of `value` holding only `keys`, in that order, without undefined entries.
function ordered<T extends object>(value: T, keys: readonly string[]): T {
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out as T;
}

// Serialization builds Maps so that key order is exactly what is written: a plain object
// would put integer-like keys ("80", "8080") first, whatever order they were added in.
type JsonTree = string | number | boolean | JsonTree[] | Map<string, JsonTree> | { [k: string]: never };

function struct(value: object, keys: readonly string[], convert: Record<string, (v: never) => JsonTree> = {}): Map<string, JsonTree> {
  const src = value as Record<string, unknown>;
  const out = new Map<string, JsonTree>();
  for (const k of keys) {
    const v = src[k];
    if (v === undefined) continue;
    const c = convert[k];
    out.set(k, c ? c(v as never) : (v as JsonTree));
  }
  return out;
}

// Go marshals map keys sorted by their UTF-8 bytes.
function sortedMap(m: Record<string, JsonTree>): Map<string, JsonTree> {
  const keys = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return new Map(keys.map((k) => [k, m[k] as JsonTree]));
}

function platformTree(p: Platform): Map<string, JsonTree> {
  return struct(p, PLATFORM_KEYS);
}

function descriptorTree(d: Descriptor): Map<string, JsonTree> {
  return struct(d, DESCRIPTOR_KEYS, { annotations: sortedMap, platform: platformTree });
}

// Go's encoder also escapes <, > and & (for embedding in HTML) and U+2028/U+2029; doing
// the same keeps hull's bytes identical to docker's for the same document.
function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function encodeJson(v: JsonTree, indent: string, level: number): string {
  const open = (l: number) => (indent === '' ? '' : `\n${indent.repeat(l)}`);
  const wrap = (start: string, end: string, items: string[]) =>
    items.length === 0 ? start + end : `${start}${open(level + 1)}${items.join(`,${open(level + 1)}`)}${open(level)}${end}`;
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return wrap('[', ']', v.map((x) => encodeJson(x, indent, level + 1)));
  const entries: Array<[string, JsonTree]> = v instanceof Map ? [...v] : Object.entries(v);
  const colon = indent === '' ? ':' : ': ';
  return wrap('{', '}', entries.map(([k, x]) => `${jsonString(k)}${colon}${encodeJson(x, indent, level + 1)}`));
}

function toBytes(tree: JsonTree, indent = ''): Uint8Array {
  return new TextEncoder().encode(encodeJson(tree, indent, 0));
}

/**
 * Canonical bytes of a manifest (indented like BuildKit's). The result is parsed back
 * before it is returned, so hull never writes a manifest it would refuse to read.
 */
export function serializeManifest(m: ImageManifest): Uint8Array {
  if (m.mediaType === undefined || !isManifestMediaType(m.mediaType)) {
    throw new ManifestError('manifest', 'mediaType', `hull writes manifests with mediaType ${MediaType.OciManifest} or ${MediaType.DockerManifest}`);
  }
  const tree = struct(m, MANIFEST_KEYS, {
    config: descriptorTree,
    layers: (l: Descriptor[]) => l.map(descriptorTree),
    subject: descriptorTree,
    annotations: sortedMap,
  });
  const bytes = toBytes(tree, '  ');
  parseManifestDocument(bytes);
  return bytes;
}

/** Canonical bytes of an index (indented like BuildKit's), checked like serializeManifest's. */
export function serializeIndex(index: ImageIndex): Uint8Array {
  if (index.mediaType === undefined || !isIndexMediaType(index.mediaType)) {
    throw new ManifestError('index', 'mediaType', `hull writes indexes with mediaType ${MediaType.OciIndex} or ${MediaType.DockerManifestList}`);
  }
  const tree = struct(index, INDEX_KEYS, {
    manifests: (l: Descriptor[]) => l.map(descriptorTree),
    subject: descriptorTree,
    annotations: sortedMap,
  });
  const bytes = toBytes(tree, '  ');
  parseManifestDocument(bytes);
  return bytes;
}

/** Canonical bytes of an image config (compact, as docker writes configs), checked on the way out. */
export function serializeConfig(config: ImageConfig): Uint8Array {
  const tree = struct(config, CONFIG_KEYS, {
    rootfs: (r: ImageConfig['rootfs']) => struct(r, ROOTFS_KEYS),
    config: (c: ContainerConfig) =>
      struct(c, CONTAINER_CONFIG_KEYS, {
        ExposedPorts: sortedMap,
        Volumes: sortedMap,
        Labels: sortedMap,
        Healthcheck: (h: HealthConfig) => struct(h, HEALTH_KEYS),
      }),
    history: (h: HistoryEntry[]) => h.map((e) => struct(e, HISTORY_KEYS)),
  });
  const bytes = toBytes(tree);
  parseImageConfig(bytes);
  return bytes;
}
