// Opens a layer blob as a stream of uncompressed tar bytes: detects the compression by its
// magic bytes, decompresses (gzip with ISA-L, see gunzip.ts; zstd with node:zlib), bounds the
// uncompressed size (a small blob may expand without limit), and computes the diffID (sha256 of
// the uncompressed stream) on the way.
import { createHash } from '../../crypto.ts';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createZstdDecompress, type ZstdDecompress } from 'node:zlib';
import { gunzip } from './gunzip.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

/** The layer would expand beyond the allowed number of bytes. */
export class LayerLimitError extends Error {
  override name = 'LayerLimitError';
}
/** The layer's compressed data is corrupt or in a format hull does not read. */
export class LayerFormatError extends Error {
  override name = 'LayerFormatError';
}

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Formats docker once accepted that OCI layers do not use; named so the refusal is clear. */
export function refusedFormat(head: Uint8Array): string | undefined {
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  return undefined;
}

export interface LayerStream {
  compression: Compression;
  /** The uncompressed tar bytes; read it once, to the end, before asking for the digest. */
  data: AsyncIterable<Buffer>;
  /** "sha256:<hex>" of everything data yielded; only valid once data has ended. */
  diffID(): string;
  /** Uncompressed bytes yielded so far. */
  size(): number;
}

export interface OpenLayerOptions {
  maxUncompressedBytes: number;
  /** Names the layer in messages (a blob path or digest). */
  name?: string;
  /**
   * The consumer is done with each chunk of data before it asks for the chunk after next, so
   * gzip output may go to reused buffers (see GunzipOptions.reuseOutput).
   */
  reuseOutput?: boolean;
}

// Larger than zlib's 16 KiB default: fewer, bigger chunks cost the tar reader less per byte.
const CHUNK = 256 * 1024;
// zstd runs on libuv's threadpool. With room for several chunks ahead it keeps working while
// the tar reader creates files; with one chunk of room the two mostly take turns (measured on
// gzip, when it ran there too: 5-10% of a 210 MB layer's unpack time).
const inflateOptions = { chunkSize: CHUNK, highWaterMark: 16 * CHUNK };

/** Reads the first bytes of a stream (enough to tell the format) and gives back a stream of all of it. */
export async function peek(source: Readable, want: number): Promise<{ head: Buffer; all: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let got = 0;
  let ended = false;
  while (got < want) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    parts.push(b);
    got += b.length;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  const all = Readable.from(rest(), { objectMode: false, highWaterMark: CHUNK });
  // Destroying the combined stream must also release the file descriptor under it.
  all.once('close', () => source.destroy());
  return { head, all };
}

export async function openLayer(source: string | NodeJS.ReadableStream, opts: OpenLayerOptions): Promise<LayerStream> {
  const name = opts.name ?? (typeof source === 'string' ? source : 'stream');
  const input: Readable =
    typeof source === 'string'
      ? createReadStream(source, { highWaterMark: 4 * CHUNK })
      : source instanceof Readable
        ? source
        : Readable.from(source as AsyncIterable<Buffer>, { objectMode: false });
  const { head, all } = await peek(input, 6);
  const refused = refusedFormat(head);
  if (refused) {
    all.destroy();
    throw new LayerFormatError(`layer ${name} is ${refused}-compressed; only gzip, zstd and uncompressed tar layers are supported`);
  }
  const compression = detectCompression(head);
  let decoded: AsyncIterable<Buffer> = all;
  let inflate: ZstdDecompress | undefined;
  if (compression === 'gzip') decoded = gunzip(all, { reuseOutput: opts.reuseOutput });
  else if (compression === 'zstd') {
    const zstd = (inflate = createZstdDecompress(inflateOptions));
    all.on('error', (e) => zstd.destroy(e));
    zstd.once('close', () => all.destroy());
    all.pipe(zstd);
    decoded = zstd;
  }

  const hash = createHash('sha256');
  let total = 0;
  let digest: string | undefined;
  const limit = opts.maxUncompressedBytes;
  async function* data(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of decoded) {
        total += chunk.length;
        if (total > limit) throw new LayerLimitError(`layer ${name} exceeds the limit of ${limit} bytes uncompressed`);
        hash.update(chunk);
        yield chunk;
      }
    } catch (e) {
      if (e instanceof LayerLimitError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (compression !== 'none' && typeof err.code === 'string' && /^(Z_|ZSTD_|ERR_ZLIB|ISAL_)/.test(err.code)) {
        throw new LayerFormatError(`layer ${name}: ${compression} data is corrupt: ${err.message}`, { cause: e });
      }
      throw e;
    } finally {
      inflate?.destroy();
      all.destroy();
    }
    digest = `sha256:${hash.digest('hex')}`;
  }
  return {
    compression,
    data: data(),
    diffID() {
      if (!digest) throw new Error(`layer ${name}: the diffID is known only after the whole stream has been read`);
      return digest;
    },
    size: () => total,
  };
}
