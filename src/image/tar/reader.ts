// A streaming tar reader: ustar, GNU (long names 'L'/'K', base-256 numbers) and PAX ('x' and
// global 'g' headers, xattrs), as image layers use them. Every archive is hostile input: each
// header's checksum is verified, names, PAX headers and sizes are bounded before anything is
// read, and a truncated archive is an error rather than a short read.
//
// The reader pulls from its source only as fast as its consumer reads, so backpressure reaches
// the decompressor and the file below it.

const BLOCK = 512;

export interface TarReaderLimits {
  /** Largest PAX ('x', 'g') or GNU long-name ('L', 'K') header data, in bytes. */
  maxPaxHeaderBytes: number;
  /** Longest path or link target, in bytes. */
  maxNameLength: number;
  /** Bytes the whole archive may take; an entry that would not fit is refused before it is read. */
  maxArchiveBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarReaderLimits = {
  maxPaxHeaderBytes: 1 << 20,
  maxNameLength: 4096,
  maxArchiveBytes: Number.MAX_SAFE_INTEGER,
};

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'unsupported';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', ...), for messages about unsupported types. */
  typeflag: string;
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Bytes of data that follow the header (0 for types that carry none). */
  size: number;
  /** Seconds since the epoch; mtimeNsec holds the PAX fraction. */
  mtime: number;
  mtimeNsec: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** From PAX SCHILY.xattr.* and LIBARCHIVE.xattr.* records. */
  xattrs: Map<string, Buffer>;
  /** Offset of this entry's header block in the archive, for messages. */
  offset: number;
}

export interface TarEntry {
  header: TarHeader;
  /**
   * The entry's data as chunks, readable once. Data left unread when the next entry is asked
   * for is skipped.
   */
  body(): AsyncGenerator<Buffer>;
  /** The whole of the entry's data in one buffer (for small files). */
  read(): Promise<Buffer>;
}

export class TarError extends Error {
  override name = 'TarError';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`tar: ${message} (at byte ${offset})`);
    this.offset = offset;
  }
}
/** The archive is not a valid tar: a bad checksum, number or record. */
export class TarFormatError extends TarError {
  override name = 'TarFormatError';
}
/** The archive ended in the middle of an entry or before its end-of-archive marker. */
export class TarTruncatedError extends TarError {
  override name = 'TarTruncatedError';
}
/** A header asks for more than the limits allow. */
export class TarLimitError extends TarError {
  override name = 'TarLimitError';
  /** Which limit: the whole archive's size, a PAX or long-name header's size, or a name's length. */
  readonly limit: 'archive' | 'header' | 'name';
  constructor(message: string, offset: number, limit: 'archive' | 'header' | 'name') {
    super(message, offset);
    this.limit = limit;
  }
}
/** A valid archive feature that this reader refuses (GNU sparse files, multi-volume archives). */
export class TarUnsupportedError extends TarError {
  override name = 'TarUnsupportedError';
}

/** Reads exact byte counts from an async iterable of chunks, without copying whole chunks. */
class ByteSource {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;
  /** Bytes handed out so far: the offset of the next byte. */
  offset = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** False at the end of the source. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v = r.value;
      this.chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.pos = 0;
    }
    return true;
  }

  /** Up to max bytes (at least 1), or null at the end. The buffer may share memory with the source's chunk. */
  async some(max: number): Promise<Buffer | null> {
    if (!(await this.fill())) return null;
    const n = Math.min(max, this.chunk.length - this.pos);
    const out = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Exactly n bytes, or fewer only if the source ends first. */
  async exact(n: number): Promise<Buffer> {
    const first = await this.some(n);
    if (!first) return Buffer.alloc(0);
    if (first.length === n) return first;
    // copied before the next chunk is asked for, since a source may reuse its chunks' memory (see readTar)
    const whole = Buffer.allocUnsafe(n);
    first.copy(whole);
    let got = first.length;
    while (got < n) {
      const more = await this.some(n - got);
      if (!more) break;
      more.copy(whole, got);
      got += more.length;
    }
    return got === n ? whole : whole.subarray(0, got);
  }

  /** Skips n bytes; returns how many were skipped (fewer only at the end). */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const part = await this.some(left);
      if (!part) break;
      left -= part.length;
    }
    return n - left;
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }
}

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A NUL-terminated field as text. */
function cstring(block: Buffer, start: number, len: number, what: string, offset: number): string {
  const field = block.subarray(start, start + len);
  const nul = field.indexOf(0);
  return decodeName(nul < 0 ? field : field.subarray(0, nul), what, offset);
}

function decodeName(bytes: Buffer, what: string, offset: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TarFormatError(`${what} is not valid UTF-8: ${JSON.stringify(bytes.toString('latin1'))}`, offset);
  }
}

/** An octal or GNU base-256 number field. */
function numeric(block: Buffer, start: number, len: number, what: string, offset: number): number {
  const field = block.subarray(start, start + len);
  const first = field[0]!;
  if (first & 0x80) {
    // Base-256, big-endian two's complement; the marker bit is not part of the value.
    let v = BigInt(first & 0x7f);
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i]!);
    if (first & 0x40) v -= 1n << BigInt(8 * len - 1);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new TarFormatError(`${what} ${v} is out of range`, offset);
    }
    return Number(v);
  }
  let i = 0;
  let end = field.length;
  while (i < end && (field[i] === 0x20 || field[i] === 0)) i++;
  // Historic writers end fields with NUL, space, or both.
  const stop = field.indexOf(0, i);
  if (stop >= 0) end = stop;
  while (end > i && field[end - 1] === 0x20) end--;
  let v = 0;
  for (let j = i; j < end; j++) {
    const c = field[j]!;
    if (c < 0x30 || c > 0x37) {
      throw new TarFormatError(`${what} field is not an octal number: ${JSON.stringify(field.toString('latin1'))}`, offset);
    }
    v = v * 8 + (c - 0x30);
  }
  if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} is out of range`, offset);
  return v;
}

function verifyChecksum(block: Buffer, offset: number): void {
  let stored: number;
  try {
    stored = numeric(block, 148, 8, 'checksum', offset);
  } catch {
    throw new TarFormatError(`header checksum field is not a number; not a tar archive or corrupt`, offset);
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  // Some old writers summed signed chars; accept either, as GNU tar does.
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`header checksum mismatch (stored ${stored}, computed ${unsigned}); not a tar archive or corrupt`, offset);
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

interface Pax {
  /** Text records (path, linkpath, size, ...). */
  fields: Map<string, string>;
  xattrs: Map<string, Buffer>;
}

/** Parses "<len> <key>=<value>\n" records; a record with an empty value deletes the key. */
function parsePax(data: Buffer, offset: number, into: Pax): void {
  let pos = 0;
  while (pos < data.length) {
    // GNU tar pads some PAX headers with NULs.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw new TarFormatError('malformed PAX record: no length', offset);
    const lenText = data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw new TarFormatError(`malformed PAX record length ${JSON.stringify(lenText)}`, offset);
    const len = Number(lenText);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a) throw new TarFormatError('malformed PAX record: bad length or missing newline', offset);
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw new TarFormatError('malformed PAX record: no "="', offset);
    const key = decodeName(data.subarray(space + 1, eq), 'PAX key', offset);
    const raw = data.subarray(eq + 1, end - 1);
    pos = end;
    if (key.startsWith('GNU.sparse.')) {
      throw new TarUnsupportedError(`GNU sparse files are not supported (PAX record ${key})`, offset);
    }
    if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length);
      if (!name) throw new TarFormatError('PAX xattr record without a name', offset);
      into.xattrs.set(name, Buffer.from(raw));
      continue;
    }
    if (key.startsWith('LIBARCHIVE.xattr.')) {
      // libarchive URL-encodes the name and base64-encodes the value.
      let name: string;
      try {
        name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      } catch {
        throw new TarFormatError(`malformed PAX xattr name ${JSON.stringify(key)}`, offset);
      }
      const text = raw.toString('latin1');
      if (!name || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TarFormatError(`malformed PAX record ${key}`, offset);
      into.xattrs.set(name, Buffer.from(text, 'base64'));
      continue;
    }
    into.fields.set(key, decodeName(raw, `PAX ${key}`, offset));
  }
}

function paxInteger(value: string, key: string, offset: number): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new TarFormatError(`PAX ${key} is not a valid number: ${JSON.stringify(value)}`, offset);
  }
  return Number(value);
}

function paxTime(value: string, offset: number): { sec: number; nsec: number } {
  const m = /^(-?)([0-9]+)(?:\.([0-9]*))?$/.exec(value);
  if (!m || !Number.isSafeInteger(Number(m[2]))) throw new TarFormatError(`PAX mtime is not a valid time: ${JSON.stringify(value)}`, offset);
  let sec = Number(m[2]);
  let nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (m[1]) {
    sec = -sec;
    if (nsec) {
      sec -= 1;
      nsec = 1e9 - nsec;
    }
  }
  return { sec, nsec };
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/** Types whose size field describes no data in the archive (as Go's archive/tar reads them). */
const HEADER_ONLY = new Set<TarEntryType>(['hardlink', 'symlink', 'char', 'block', 'directory', 'fifo']);

/**
 * The entries of a tar archive, in order. After the end-of-archive marker the rest of the source
 * is read and discarded, so that a digest computed on the source covers the whole stream.
 *
 * The reader is done with a chunk of the source by the time it asks for the next one, so a
 * source may write its chunks into reused memory, as long as the consumer is also done with
 * each part of an entry's body before it asks for the next (read() gives views of the chunks).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>, limits: Partial<TarReaderLimits> = {}): AsyncGenerator<TarEntry> {
  const lim = { ...DEFAULT_TAR_LIMITS, ...limits };
  const src = new ByteSource(source);
  const global: Pax = { fields: new Map(), xattrs: new Map() };
  let local: Pax | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  /** Data bytes (plus padding) of the current entry not yet read by its consumer. */
  let unread = 0;
  let generation = 0;
  let done = false;

  const checkFits = (offset: number, size: number, what: string): void => {
    const need = offset + BLOCK + size + pad(size);
    if (need > lim.maxArchiveBytes) {
      throw new TarLimitError(`${what} of ${size} bytes exceeds the archive limit of ${lim.maxArchiveBytes} bytes`, offset, 'archive');
    }
  };

  const readMeta = async (offset: number, size: number, kind: string): Promise<Buffer> => {
    if (size > lim.maxPaxHeaderBytes) {
      throw new TarLimitError(`${kind} header of ${size} bytes exceeds the limit of ${lim.maxPaxHeaderBytes} bytes`, offset, 'header');
    }
    checkFits(offset, size, `${kind} header`);
    // a copy: skipping the padding may move on past the source chunk it is in
    const data = Buffer.from(await src.exact(size));
    if (data.length < size || (await src.skip(pad(size))) < pad(size)) {
      throw new TarTruncatedError(`archive ends inside a ${kind} header`, offset);
    }
    return data;
  };

  const checkName = (name: string, what: string, offset: number): string => {
    if (Buffer.byteLength(name) > lim.maxNameLength) {
      throw new TarLimitError(`${what} of ${Buffer.byteLength(name)} bytes exceeds the limit of ${lim.maxNameLength} bytes`, offset, 'name');
    }
    if (name.includes('\0')) throw new TarFormatError(`${what} contains a NUL byte`, offset);
    return name;
  };

  try {
    for (;;) {
      if (unread > 0) {
        const skipped = await src.skip(unread);
        if (skipped < unread) throw new TarTruncatedError('archive ends inside an entry\'s data', src.offset);
        unread = 0;
      }
      generation++;
      const offset = src.offset;
      const block = await src.exact(BLOCK);
      if (block.length === 0) {
        if (offset === 0) return; // an empty stream is an empty archive
        throw new TarTruncatedError('archive ends without its end-of-archive marker (two zero blocks)', offset);
      }
      if (block.length < BLOCK) throw new TarTruncatedError('archive ends inside a header block', offset);
      if (isZero(block)) {
        const next = await src.exact(BLOCK);
        // A lone zero block at the very end is accepted, as GNU tar and Go do.
        if (next.length !== 0 && next.length < BLOCK) throw new TarTruncatedError('archive ends inside its end-of-archive marker', offset + BLOCK);
        if (next.length === BLOCK && !isZero(next)) throw new TarFormatError('a zero block is followed by a header', offset);
        if (local || longName !== undefined || longLink !== undefined) {
          throw new TarFormatError('archive ends after an extended header with no entry for it', offset);
        }
        break;
      }
      verifyChecksum(block, offset);
      const flag = String.fromCharCode(block[156]!);
      const magic = block.toString('latin1', 257, 263);
      const ustar = magic === 'ustar\0';
      const gnu = magic === 'ustar ';
      let size = numeric(block, 124, 12, 'size', offset);

      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        const kind = flag === 'x' || flag === 'g' ? `PAX '${flag}'` : `GNU long ${flag === 'L' ? 'name' : 'link'} '${flag}'`;
        const data = await readMeta(offset, size, kind);
        if (flag === 'x') parsePax(data, offset, (local ??= { fields: new Map(), xattrs: new Map() }));
        else if (flag === 'g') parsePax(data, offset, global);
        else {
          const nul = data.indexOf(0);
          const text = checkName(decodeName(nul < 0 ? data : data.subarray(0, nul), kind, offset), kind, offset);
          if (flag === 'L') longName = text;
          else longLink = text;
        }
        continue;
      }
      if (flag === 'S') throw new TarUnsupportedError('GNU sparse files are not supported', offset);
      if (flag === 'M' || flag === 'V') throw new TarUnsupportedError(`GNU multi-volume archives are not supported (type '${flag}')`, offset);

      let path = cstring(block, 0, 100, 'name', offset);
      if (ustar) {
        const prefix = cstring(block, 345, 155, 'name prefix', offset);
        if (prefix) path = `${prefix}/${path}`;
      }
      let linkpath = cstring(block, 157, 100, 'link name', offset);
      let type: TarEntryType = TYPES[flag] ?? (flag === 'D' ? 'directory' : 'unsupported');
      const modern = ustar || gnu;
      let uname = modern ? cstring(block, 265, 32, 'user name', offset) : '';
      let gname = modern ? cstring(block, 297, 32, 'group name', offset) : '';
      const devmajor = modern && (type === 'char' || type === 'block') ? numeric(block, 329, 8, 'devmajor', offset) : 0;
      const devminor = modern && (type === 'char' || type === 'block') ? numeric(block, 337, 8, 'devminor', offset) : 0;
      let uid = numeric(block, 108, 8, 'uid', offset);
      let gid = numeric(block, 116, 8, 'gid', offset);
      let mtime = numeric(block, 136, 12, 'mtime', offset);
      let mtimeNsec = 0;
      const mode = numeric(block, 100, 8, 'mode', offset) & 0o7777;

      if (longName !== undefined) path = longName;
      if (longLink !== undefined) linkpath = longLink;
      const fields = new Map([...global.fields, ...(local?.fields ?? [])]);
      const xattrs = new Map([...global.xattrs, ...(local?.xattrs ?? [])]);
      for (const [key, value] of fields) {
        if (value === '') continue; // an empty record restores the header's own field
        switch (key) {
          case 'path': path = value; break;
          case 'linkpath': linkpath = value; break;
          case 'size': size = paxInteger(value, key, offset); break;
          case 'uid': uid = paxInteger(value, key, offset); break;
          case 'gid': gid = paxInteger(value, key, offset); break;
          case 'uname': uname = value; break;
          case 'gname': gname = value; break;
          case 'mtime': ({ sec: mtime, nsec: mtimeNsec } = paxTime(value, offset)); break;
        }
      }
      local = undefined;
      longName = longLink = undefined;

      // Old (pre-POSIX) archives mark directories only by a trailing slash.
      if (flag === '\0' && path.endsWith('/')) type = 'directory';
      checkName(path, 'path', offset);
      checkName(linkpath, 'link target', offset);
      if (!path) throw new TarFormatError('entry has an empty name', offset);
      if (size < 0) throw new TarFormatError(`negative size ${size}`, offset);

      // GNU dumpdir ('D') carries a listing of the directory as data; it is skipped.
      const dataBytes = HEADER_ONLY.has(type) && flag !== 'D' ? 0 : size;
      checkFits(offset, dataBytes, `entry ${JSON.stringify(path)}`);
      unread = dataBytes + pad(dataBytes);
      let remaining = dataBytes;
      const mine = generation;
      let taken = false;

      const header: TarHeader = {
        path, type, typeflag: flag, mode, uid, gid, uname, gname,
        size: type === 'file' ? size : dataBytes,
        mtime, mtimeNsec, linkpath, devmajor, devminor, xattrs, offset,
      };
      const body = async function* (): AsyncGenerator<Buffer> {
        if (taken || mine !== generation) throw new Error(`tar: the data of ${JSON.stringify(path)} was already read or skipped`);
        taken = true;
        while (remaining > 0) {
          const part = await src.some(remaining);
          if (!part) throw new TarTruncatedError(`archive ends inside the data of ${JSON.stringify(path)}`, src.offset);
          remaining -= part.length;
          unread -= part.length;
          yield part;
        }
      };
      const read = async (): Promise<Buffer> => {
        const parts: Buffer[] = [];
        for await (const part of body()) parts.push(part);
        return parts.length === 1 ? parts[0]! : Buffer.concat(parts, dataBytes);
      };
      yield { header, body, read };
    }
    // Whatever follows the end-of-archive marker (padding to a record, or anything else) is
    // read so the source's digest covers it, but ignored.
    while (await src.some(1 << 20)) {
      if (src.offset > lim.maxArchiveBytes) throw new TarLimitError(`archive exceeds the limit of ${lim.maxArchiveBytes} bytes`, src.offset, 'archive');
    }
    done = true;
  } finally {
    if (!done) await src.close();
  }
}
