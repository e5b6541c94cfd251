// `import`: a root filesystem tarball (plain, gzip or zstd; a file, a URL or stdin) becomes a
// one-layer image, as docker import makes it. The layer is stored gzip-compressed, compressed
// while it streams in; its diffID is the digest of the plain tar. The config carries the
// `--change` instructions, and a history entry whose comment is the message (docker's
// "Imported from <source>" when none is given).
import { createReadStream, openSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGzip } from 'node:zlib';
import type { Digest } from '../../image/digest.ts';
import { installImage } from '../../image/install.ts';
import { LayerFormatError, LayerLimitError, openLayer } from '../../image/layer/decompress.ts';
import { MediaType, parseImageConfig, serializeConfig, serializeManifest, type ContainerConfig, type ImageConfig } from '../../image/manifest.ts';
import { hostPlatform, parsePlatform, PlatformError, type Platform } from '../../image/platform.ts';
import { fullString, normalize, ReferenceError } from '../../image/reference.ts';
import type { ImageRecord, ImageStore } from '../../image/store/image-store.ts';
import type { Lease } from '../../image/store/leases.ts';
import { applyChanges, ChangeError } from './changes.ts';

export class ImportError extends Error {
  override name = 'ImportError';
}

export interface ImportOptions {
  /** Dockerfile instructions applied to the config (docker's --change). */
  changes?: string[];
  /** The history comment; docker's "Imported from <source>" when empty. */
  message?: string;
  /** os[/arch[/variant]] the image says it is for; the host's by default. */
  platform?: string;
  /** REPOSITORY[:TAG] to tag the image with. */
  tag?: string;
  /** What source "-" reads; process.stdin by default. */
  stdin?: Readable;
  /** Refuse a tarball that expands beyond this many bytes. */
  maxBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_BYTES = 64 * 2 ** 30;

/** Imports `source` ("-" for stdin, an http(s) URL, or a file path) as a new image. */
export async function importImage(store: ImageStore, source: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  // everything the caller gave is checked before any byte is read
  const tag = opts.tag ? tagName(opts.tag) : undefined;
  const platform = importPlatform(opts.platform);
  let config: ContainerConfig;
  try {
    config = applyChanges({}, opts.changes ?? []);
  } catch (err) {
    if (err instanceof ChangeError) throw new ImportError(err.message, { cause: err });
    throw err;
  }
  const { stream, label, src } = await openSource(source, opts);
  const comment = opts.message || `Imported from ${src}`;

  const lease = store.lease();
  try {
    const layer = await compressLayer(store, lease, stream, label, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    const created = new Date().toISOString();
    const imageConfig: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, comment }],
    };
    const configBytes = serializeConfig(imageConfig);
    const configDigest = store.content.put(lease, configBytes) as Digest;
    const manifest = serializeManifest({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }],
    });
    const manifestDigest = store.content.put(lease, manifest);
    try {
      return await installImage(store, lease, {
        manifest: { digest: manifestDigest, mediaType: MediaType.OciManifest },
        config: { digest: configDigest, parsed: parseImageConfig(configBytes) },
        layers: [{ digest: layer.digest, mediaType: MediaType.OciLayerGzip, size: layer.size }],
        tags: tag ? [tag] : [],
        repoDigests: [],
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      throw new ImportError(`${label}: not a usable root filesystem tarball: ${(err as Error).message}`, { cause: err });
    }
  } finally {
    store.endLease(lease);
  }
}

function tagName(input: string): string {
  let ref;
  try {
    ref = normalize(input);
  } catch (err) {
    if (err instanceof ReferenceError) throw new ImportError(`invalid reference ${JSON.stringify(input)}: ${err.message}`, { cause: err });
    throw err;
  }
  if (ref.digest !== undefined) throw new ImportError(`cannot import to a digest reference (${input}); give REPOSITORY[:TAG]`);
  return fullString(ref);
}

function importPlatform(spec: string | undefined): Platform {
  let p: Platform;
  try {
    p = spec ? parsePlatform(spec) : hostPlatform();
  } catch (err) {
    if (err instanceof PlatformError) throw new ImportError(err.message, { cause: err });
    throw err;
  }
  if (p.os !== 'linux') throw new ImportError(`operating system ${JSON.stringify(p.os)} is not supported: hull imports linux images`);
  return p;
}

/** The source's bytes, what messages call it, and what docker's default comment calls it. */
async function openSource(source: string, opts: ImportOptions): Promise<{ stream: Readable; label: string; src: string }> {
  if (source === '-') return { stream: opts.stdin ?? process.stdin, label: 'stdin', src: '-' };
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, opts.signal ? { signal: opts.signal } : {});
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause;
      throw new ImportError(`cannot download ${source}: ${cause?.message ?? (err as Error).message}`, { cause: err });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ImportError(`cannot download ${source}: the server answered ${res.status} ${res.statusText}`.trimEnd());
    }
    return { stream: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), label: source, src: source };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source)) throw new ImportError(`${source}: unsupported URL scheme; hull imports from http(s) URLs, files and stdin`);
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (err) {
    throw new ImportError(`cannot open ${source}: ${(err as Error).message}`, { cause: err });
  }
  // docker's CLI sends a file's content as the request body, so its comment names "-" too
  return { stream: createReadStream('', { fd, highWaterMark: 256 * 1024 }), label: source, src: '-' };
}

interface CompressedLayer {
  digest: Digest;
  size: number;
  diffId: Digest;
}

/** Decompresses the source (whatever it was) and stores it gzipped, in one pass. */
async function compressLayer(store: ImageStore, lease: Lease, stream: Readable, label: string, maxBytes: number): Promise<CompressedLayer> {
  let layer;
  try {
    layer = await openLayer(stream, { maxUncompressedBytes: maxBytes, name: label });
  } catch (err) {
    if (err instanceof LayerFormatError) throw new ImportError(`${label}: unsupported compression: ${err.message}`, { cause: err });
    throw err;
  }
  let blob;
  try {
    blob = await store.content.write(lease, layer.data, createGzip());
  } catch (err) {
    if (err instanceof LayerFormatError || err instanceof LayerLimitError) throw new ImportError(err.message, { cause: err });
    throw err;
  }
  if (layer.size() === 0) throw new ImportError(`${label} is empty: there is no tarball to import`);
  return { ...blob, diffId: layer.diffID() as Digest };
}
