// Gzip decompression of layer blobs through ISA-L (native/inflate.c), on the calling thread.
// node:zlib's inflate was the largest CPU cost of a pull, and runs on libuv's pool, so every
// chunk also crossed threads twice; ISA-L inflates the same data about three times faster.
import { loadAddon } from '../../sys/index.ts';

interface InflateAddon {
  create(): object;
  /** Fills result with [bytes consumed, bytes produced, 1 if the gzip member ended, ISA-L's return value]. */
  run(handle: object, input: Uint8Array, inStart: number, output: Uint8Array, outStart: number, result: Int32Array): void;
  reset(handle: object): void;
}

let addon: InflateAddon | undefined;

/** ISA-L's failures (igzip_lib.h), by the negative value isal_inflate returns. */
const FAILURES: Record<number, [code: string, text: string]> = {
  [-1]: ['ISAL_INVALID_BLOCK', 'invalid deflate block'],
  [-2]: ['ISAL_INVALID_SYMBOL', 'invalid deflate symbol'],
  [-3]: ['ISAL_INVALID_LOOKBACK', 'invalid back-reference distance'],
  [-4]: ['ISAL_INVALID_WRAPPER', 'invalid gzip header'],
  [-5]: ['ISAL_UNSUPPORTED_METHOD', 'unsupported compression method'],
  [-6]: ['ISAL_INCORRECT_CHECKSUM', 'incorrect checksum'],
};

/** Corrupt or truncated gzip data; `code` is ISA-L's name for the failure. */
export class GunzipError extends Error {
  override name = 'GunzipError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface GunzipOptions {
  /** Bytes per output chunk; every chunk but the last is this size. */
  chunkSize?: number;
  /**
   * Yield views of two buffers written in turn, instead of a new buffer per chunk: a chunk then
   * stays intact only until the consumer asks for the chunk after next. For consumers that are
   * done with a chunk by then, as the tar reader and unpack are.
   */
  reuseOutput?: boolean;
}

const RING = 2;

/**
 * The decompressed bytes of a gzip stream (one or more members, then optionally zero bytes of
 * padding, which Node's zlib also accepts). Anything else after a member is an error, as is a
 * stream that ends inside one.
 */
export async function* gunzip(source: AsyncIterable<Uint8Array>, opts: GunzipOptions = {}): AsyncGenerator<Buffer> {
  const native = (addon ??= loadAddon<InflateAddon>('hull-inflate.node'));
  const size = opts.chunkSize ?? 1 << 20;
  const handle = native.create();
  const result = new Int32Array(4);
  const ring = opts.reuseOutput ? Array.from({ length: RING }, () => Buffer.allocUnsafe(size)) : undefined;
  let turn = 0;
  let out = ring ? ring[0]! : Buffer.allocUnsafe(size);
  let used = 0;
  /** A member has ended: the next non-zero byte must start another one. */
  let between = false;
  /** Zero bytes followed the last member: nothing else may. */
  let padding = false;

  const next = (): Buffer => {
    const full = used === out.length ? out : out.subarray(0, used);
    out = ring ? ring[(turn = (turn + 1) % RING)]! : Buffer.allocUnsafe(size);
    used = 0;
    return full;
  };

  /** Inflates one input chunk; `last` (with an empty chunk) flushes what ISA-L still holds. */
  function* feed(chunk: Uint8Array, last: boolean): Generator<Buffer> {
    let at = 0;
    let filled = false;
    for (;;) {
      if (between) {
        if (at < chunk.length && chunk[at] === 0) {
          padding = true;
          while (at < chunk.length && chunk[at] === 0) at++;
        }
        if (at === chunk.length) return;
        if (padding) throw new GunzipError('ISAL_TRAILING_DATA', 'unexpected data after the zero bytes that follow the last gzip member');
        native.reset(handle);
        between = false;
      }
      // a full output may have left decoded bytes inside ISA-L, so it is asked again even without input
      if (at === chunk.length && !filled && !last) return;
      native.run(handle, chunk, at, out, used, result);
      if (result[3]! < 0) {
        const [code, text] = FAILURES[result[3]!] ?? [`ISAL_ERROR_${-result[3]!}`, `decompression failed (ISA-L error ${result[3]})`];
        throw new GunzipError(code, text);
      }
      const consumed = result[0]!;
      const produced = result[1]!;
      at += consumed;
      used += produced;
      filled = used === out.length;
      // members run on in the same chunk: a stream of many tiny members yields no tiny chunks
      if (result[2] === 1) {
        between = true;
        if (filled) yield next();
        continue;
      }
      if (filled) {
        yield next();
        continue;
      }
      if (consumed === 0 && produced === 0) {
        if (at === chunk.length && !last) return;
        throw last ? new GunzipError('ISAL_TRUNCATED', 'unexpected end of file') : new GunzipError('ISAL_STALLED', 'the decompressor made no progress');
      }
    }
  }

  for await (const chunk of source) yield* feed(chunk, false);
  yield* feed(new Uint8Array(0), true);
  if (used > 0) yield next();
}
