// Builds tar archives byte by byte, so tests can make both well-formed layers and hostile ones
// (bad checksums, base-256 numbers, huge sizes, truncation) that no ordinary writer would emit.
import { createHash } from 'node:crypto';
import { gzipSync, zstdCompressSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The typeflag character: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, ... */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  data?: Buffer | string;
  /** The size field, when it should differ from data's length (a lie, or a huge claim). */
  size?: number;
  /** 'ustar' (POSIX, the default), 'gnu' ("ustar  \0") or 'v7' (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  /** ustar prefix field (POSIX only). */
  prefix?: string;
  /** Fields to write in GNU base-256 instead of octal. */
  base256?: ('size' | 'uid' | 'gid' | 'mtime')[];
  /** Added to the correct checksum (non-zero makes it wrong). */
  checksumDelta?: number;
}

const BLOCK = 512;

function put(block: Buffer, off: number, len: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > len) throw new Error(`fixture: ${JSON.stringify(text)} does not fit in ${len} bytes`);
  bytes.copy(block, off);
}

function octal(block: Buffer, off: number, len: number, value: number): void {
  const text = value.toString(8).padStart(len - 1, '0');
  if (text.length > len - 1) throw new Error(`fixture: ${value} does not fit in an octal field of ${len}`);
  put(block, off, len, `${text}\0`);
}

function base256(block: Buffer, off: number, len: number, value: number | bigint): void {
  let v = BigInt(value);
  if (v < 0n) v += 1n << BigInt(8 * len);
  for (let i = len - 1; i >= 0; i--) {
    block[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  block[off] = block[off]! | 0x80;
}

/** One 512-byte header block. */
export function header(e: RawEntry): Buffer {
  const b = Buffer.alloc(BLOCK);
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  const size = e.size ?? data.length;
  put(b, 0, 100, e.name);
  const num = (field: 'size' | 'uid' | 'gid' | 'mtime', off: number, len: number, value: number) =>
    e.base256?.includes(field) ? base256(b, off, len, value) : octal(b, off, len, value);
  octal(b, 100, 8, e.mode ?? 0o644);
  num('uid', 108, 8, e.uid ?? 0);
  num('gid', 116, 8, e.gid ?? 0);
  num('size', 124, 12, size);
  num('mtime', 136, 12, e.mtime ?? 1_700_000_000);
  b.write(e.type ?? '0', 156, 'latin1');
  put(b, 157, 100, e.linkname ?? '');
  const format = e.format ?? 'ustar';
  if (format === 'ustar') {
    b.write('ustar\x0000', 257, 'latin1');
  } else if (format === 'gnu') {
    b.write('ustar  \x00', 257, 'latin1');
  }
  if (format !== 'v7') {
    put(b, 265, 32, e.uname ?? '');
    put(b, 297, 32, e.gname ?? '');
    octal(b, 329, 8, e.devmajor ?? 0);
    octal(b, 337, 8, e.devminor ?? 0);
    if (e.prefix) put(b, 345, 155, e.prefix);
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  octal(b, 148, 7, sum + (e.checksumDelta ?? 0));
  b[155] = 0x20;
  return b;
}

const padding = (n: number): Buffer => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** A header, its data, and the data's padding. */
export function entry(e: RawEntry): Buffer {
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  return Buffer.concat([header(e), data, padding(data.length)]);
}

/** PAX records "len key=value\n" with the length computed. */
export function paxData(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len = String(len).length + body.length;
      return Buffer.concat([Buffer.from(String(len)), body]);
    }),
  );
}

/** A PAX extended header ('x', or 'g' for global) followed by nothing: put it before its entry. */
export function pax(records: [string, string | Buffer][], type: 'x' | 'g' = 'x'): Buffer {
  return entry({ name: type === 'x' ? 'PaxHeaders/x' : 'GlobalHead.0', type, data: paxData(records) });
}

/** A GNU long name ('L') or long link ('K') header. */
export function gnuLong(name: string, type: 'L' | 'K' = 'L'): Buffer {
  return entry({ name: '././@LongLink', type, data: Buffer.from(`${name}\0`), format: 'gnu' });
}

export const END = Buffer.alloc(2 * BLOCK);

/** An archive: the parts in order, then the end-of-archive marker unless end is false. */
export function tar(parts: (Buffer | RawEntry)[], opts: { end?: boolean } = {}): Buffer {
  const bufs = parts.map((p) => (Buffer.isBuffer(p) ? p : entry(p)));
  if (opts.end !== false) bufs.push(END);
  return Buffer.concat(bufs);
}

// Shorthands for layer tests.
export const file = (name: string, data: string | Buffer = '', more: Partial<RawEntry> = {}): RawEntry => ({ name, type: '0', data, ...more });
export const dir = (name: string, more: Partial<RawEntry> = {}): RawEntry => ({ name, type: '5', mode: 0o755, ...more });
export const symlink = (name: string, target: string, more: Partial<RawEntry> = {}): RawEntry => ({ name, type: '2', linkname: target, mode: 0o777, ...more });
export const hardlink = (name: string, target: string, more: Partial<RawEntry> = {}): RawEntry => ({ name, type: '1', linkname: target, ...more });

export const gzip = (b: Buffer): Buffer => gzipSync(b);
export const zstd = (b: Buffer): Buffer => zstdCompressSync(b);
export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
