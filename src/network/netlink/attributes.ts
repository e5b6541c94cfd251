// Netlink's type-length-value attributes: a writer that lays out fixed headers and attributes
// (nested ones too) at 4-byte alignment, and a reader that splits a buffer back into them.
// Netlink integers are in host byte order, except where an attribute says otherwise.
import { endianness } from 'node:os';
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants.ts';

const littleEndian = endianness() === 'LE';

/** Rounds up to netlink's 4-byte alignment. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

export class NetlinkDecodeError extends Error {
  override name = 'NetlinkDecodeError';
}

export function readU16(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset);
}

export function readU32(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
}

export function readS32(buf: Buffer, offset: number): number {
  return littleEndian ? buf.readInt32LE(offset) : buf.readInt32BE(offset);
}

/** Builds a netlink payload: fixed structs written field by field, then attributes. */
export class AttributeWriter {
  private buf: Buffer;
  private end = 0;

  constructor(capacity = 256) {
    this.buf = Buffer.alloc(capacity);
  }

  get length(): number {
    return this.end;
  }

  private reserve(n: number): number {
    const at = this.end;
    if (at + n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, at + n));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    this.end += n;
    return at;
  }

  // ---- raw fields, for the fixed struct at the head of a message ----

  u8(value: number): this {
    this.buf.writeUInt8(value, this.reserve(1));
    return this;
  }

  u16(value: number): this {
    const at = this.reserve(2);
    if (littleEndian) this.buf.writeUInt16LE(value, at);
    else this.buf.writeUInt16BE(value, at);
    return this;
  }

  u32(value: number): this {
    const at = this.reserve(4);
    if (littleEndian) this.buf.writeUInt32LE(value >>> 0, at);
    else this.buf.writeUInt32BE(value >>> 0, at);
    return this;
  }

  s32(value: number): this {
    const at = this.reserve(4);
    if (littleEndian) this.buf.writeInt32LE(value, at);
    else this.buf.writeInt32BE(value, at);
    return this;
  }

  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buf.set(data, at);
    return this;
  }

  /** Zero bytes up to the next 4-byte boundary (the buffer starts zeroed and is never reused). */
  pad(): this {
    this.reserve(align4(this.end) - this.end);
    return this;
  }

  // ---- attributes ----

  private header(type: number, payloadLength: number): void {
    this.pad();
    this.u16(NLA_HDRLEN + payloadLength).u16(type);
  }

  attrBytes(type: number, data: Uint8Array): this {
    this.header(type, data.length);
    return this.bytes(data).pad();
  }

  attrFlag(type: number): this {
    this.header(type, 0);
    return this;
  }

  attrU8(type: number, value: number): this {
    this.header(type, 1);
    return this.u8(value).pad();
  }

  attrU16(type: number, value: number): this {
    this.header(type, 2);
    return this.u16(value).pad();
  }

  attrU32(type: number, value: number): this {
    this.header(type, 4);
    return this.u32(value);
  }

  attrS32(type: number, value: number): this {
    this.header(type, 4);
    return this.s32(value);
  }

  /** A NUL-terminated string, as the kernel's NLA_STRING and NLA_NUL_STRING both accept. */
  attrString(type: number, value: string): this {
    const text = Buffer.from(value, 'utf8');
    this.header(type, text.length + 1);
    return this.bytes(text).u8(0).pad();
  }

  /**
   * An attribute holding whatever fill writes (attributes, or a struct then attributes). The
   * NLA_F_NESTED bit is off by default, as iproute2 sends it: older attributes such as
   * IFLA_LINKINFO are parsed without it, and some, like VETH_INFO_PEER, are not plain nests.
   */
  nested(type: number, fill: (w: this) => void, opts: { flag?: boolean } = {}): this {
    this.pad();
    const start = this.end;
    this.u16(0).u16(type | (opts.flag ? NLA_F_NESTED : 0));
    fill(this);
    const length = this.end - start;
    if (length > 0xffff) throw new RangeError(`netlink attribute ${type} is ${length} bytes, over 65535`);
    if (littleEndian) this.buf.writeUInt16LE(length, start);
    else this.buf.writeUInt16BE(length, start);
    return this.pad();
  }

  /** The bytes written so far (a copy). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.end));
  }
}

export interface Attribute {
  /** The type with the NESTED and NET_BYTEORDER bits cleared. */
  type: number;
  nested: boolean;
  data: Buffer;
}

/**
 * Splits buf[start, end) into attributes; throws NetlinkDecodeError on a malformed one. Fewer
 * than 4 bytes left over at the end are ignored, as the kernel ignores them.
 */
export function parseAttributes(buf: Buffer, start = 0, end = buf.length): Attribute[] {
  const out: Attribute[] = [];
  let at = start;
  while (at + NLA_HDRLEN <= end) {
    const length = readU16(buf, at);
    const rawType = readU16(buf, at + 2);
    if (length < NLA_HDRLEN || at + length > end) {
      throw new NetlinkDecodeError(
        `malformed netlink attribute at byte ${at}: length ${length} ${length < NLA_HDRLEN ? 'is shorter than its header' : `runs past the end (${end})`}`,
      );
    }
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, data: buf.subarray(at + NLA_HDRLEN, at + length) });
    at += align4(length);
  }
  return out;
}

/** Attributes by type, with typed getters; when a type repeats, the last one wins. */
export class AttributeSet {
  readonly list: Attribute[];
  private readonly byType = new Map<number, Buffer>();

  constructor(list: Attribute[]) {
    this.list = list;
    for (const a of list) this.byType.set(a.type, a.data);
  }

  static parse(buf: Buffer, start = 0, end = buf.length): AttributeSet {
    return new AttributeSet(parseAttributes(buf, start, end));
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  bytes(type: number): Buffer | undefined {
    return this.byType.get(type);
  }

  u8(type: number): number | undefined {
    return this.sized(type, 1)?.readUInt8(0);
  }

  u16(type: number): number | undefined {
    const b = this.sized(type, 2);
    return b && readU16(b, 0);
  }

  u32(type: number): number | undefined {
    const b = this.sized(type, 4);
    return b && readU32(b, 0);
  }

  s32(type: number): number | undefined {
    const b = this.sized(type, 4);
    return b && readS32(b, 0);
  }

  /** A string attribute, without its terminating NUL (if any). */
  string(type: number): string | undefined {
    const b = this.byType.get(type);
    if (!b) return undefined;
    const nul = b.indexOf(0);
    return b.toString('utf8', 0, nul < 0 ? b.length : nul);
  }

  nested(type: number): AttributeSet | undefined {
    const b = this.byType.get(type);
    return b && AttributeSet.parse(b);
  }

  private sized(type: number, size: number): Buffer | undefined {
    const b = this.byType.get(type);
    if (!b) return undefined;
    if (b.length < size) throw new NetlinkDecodeError(`netlink attribute ${type} has ${b.length} bytes, expected ${size}`);
    return b;
  }
}
