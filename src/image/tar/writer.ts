// A streaming tar writer: ustar headers, with a PAX extended header whenever a field does not fit
// (long names, large sizes or ids, xattrs, sub-second times).
import type { Readable } from 'node:stream';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch. */
  mtime: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer>;
  /** File content: bytes, or a stream of exactly `size` bytes. */
  data?: Buffer | Readable;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const BLOCK = 512;
const ZERO = Buffer.alloc(BLOCK * 2);

/** Yields the bytes of a tar archive holding entries, ending with the two zero blocks. */
export async function* tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const size = e.type === 'file' ? (e.size ?? (Buffer.isBuffer(e.data) ? e.data.length : 0)) : 0;
    const pax = paxRecords(e, size);
    if (pax.length > 0) {
      const body = Buffer.concat(pax);
      yield header({ name: paxName(e.name), typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: Math.floor(e.mtime) });
      yield body;
      yield padding(body.length);
    }
    const [prefix, name] = splitName(e.type === 'dir' && !e.name.endsWith('/') ? e.name + '/' : e.name);
    yield header({
      name,
      prefix,
      typeflag: TYPEFLAG[e.type],
      mode: e.mode & 0o7777,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      mtime: Math.floor(e.mtime),
      linkname: e.linkname ?? '',
      uname: e.uname ?? '',
      gname: e.gname ?? '',
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
    });
    if (size > 0) {
      let written = 0;
      if (Buffer.isBuffer(e.data)) {
        written = e.data.length;
        yield e.data;
      } else if (e.data) {
        for await (const chunk of e.data) {
          written += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
      if (written !== size) throw new Error(`tar: ${e.name}: got ${written} bytes of content where ${size} were declared`);
      yield padding(size);
    }
  }
  yield ZERO;
}

interface Header {
  name: string;
  prefix?: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write(h.uname ?? '', 265, 32, 'utf8');
  b.write(h.gname ?? '', 297, 32, 'utf8');
  octal(b, 329, 8, h.devmajor ?? 0);
  octal(b, 337, 8, h.devminor ?? 0);
  b.write(h.prefix ?? '', 345, 155, 'utf8');
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Numbers too large for the octal field go in PAX records instead; the field then holds 0. */
function octal(b: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  b.write(digits.length < width ? digits.padStart(width - 1, '0') : '0'.repeat(width - 1), offset, width - 1, 'latin1');
}

function fits(value: number, width: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value.toString(8).length < width;
}

function paxRecords(e: TarEntry, size: number): Buffer[] {
  const out: Buffer[] = [];
  const add = (key: string, value: string | Buffer) => out.push(paxRecord(key, value));
  const name = e.type === 'dir' && !e.name.endsWith('/') ? e.name + '/' : e.name;
  if (!splitName(name)[1] || Buffer.byteLength(name) !== name.length) add('path', name);
  if (e.linkname && (Buffer.byteLength(e.linkname) > 100 || Buffer.byteLength(e.linkname) !== e.linkname.length)) add('linkpath', e.linkname);
  if (!fits(size, 12)) add('size', String(size));
  if (!fits(e.uid ?? 0, 8)) add('uid', String(e.uid));
  if (!fits(e.gid ?? 0, 8)) add('gid', String(e.gid));
  if (!Number.isInteger(e.mtime) || !fits(e.mtime, 12)) add('mtime', e.mtime.toFixed(9).replace(/\.?0+$/, ''));
  for (const [k, v] of Object.entries(e.xattrs ?? {})) add('SCHILY.xattr.' + k, v);
  return out;
}

/** "<length> <key>=<value>\n", where length counts itself. */
function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** ustar's name/prefix split; ['', ''] when the name cannot be split (it then goes in a PAX path record). */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return [prefix, rest];
  }
  return ['', ''];
}

function paxName(name: string): string {
  const base = name.replace(/\/+$/, '').split('/').pop() ?? 'entry';
  return ('PaxHeaders.0/' + base).slice(0, 99);
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}
