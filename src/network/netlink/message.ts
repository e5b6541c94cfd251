// Netlink messages: the 16-byte nlmsghdr around a payload, splitting a datagram into messages,
// and reading the kernel's answer to a request (NLMSG_ERROR, with its extended ack).
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';
import { AttributeSet, NetlinkDecodeError, align4, readS32, readU16, readU32 } from './attributes.ts';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
} from './constants.ts';
import { endianness } from 'node:os';

const littleEndian = endianness() === 'LE';

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** What follows the header, up to nlmsg_len (without trailing padding). */
  payload: Buffer;
}

/** One message: header (length, type, flags, seq, port id 0 = to the kernel) then body. */
export function encodeMessage(type: number, flags: number, seq: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(NLMSG_HDRLEN + align4(body.length));
  const length = NLMSG_HDRLEN + body.length;
  if (littleEndian) {
    out.writeUInt32LE(length, 0);
    out.writeUInt16LE(type, 4);
    out.writeUInt16LE(flags, 6);
    out.writeUInt32LE(seq >>> 0, 8);
  } else {
    out.writeUInt32BE(length, 0);
    out.writeUInt16BE(type, 4);
    out.writeUInt16BE(flags, 6);
    out.writeUInt32BE(seq >>> 0, 8);
  }
  out.set(body, NLMSG_HDRLEN);
  return out;
}

/** Splits one received datagram into its messages; throws NetlinkDecodeError if malformed. */
export function parseMessages(datagram: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= datagram.length) {
    const length = readU32(datagram, at);
    if (length < NLMSG_HDRLEN || at + length > datagram.length) {
      throw new NetlinkDecodeError(`malformed netlink message at byte ${at}: length ${length}, datagram ${datagram.length} bytes`);
    }
    out.push({
      type: readU16(datagram, at + 4),
      flags: readU16(datagram, at + 6),
      seq: readU32(datagram, at + 8),
      pid: readU32(datagram, at + 12),
      payload: datagram.subarray(at + NLMSG_HDRLEN, at + length),
    });
    at += align4(length);
  }
  if (at < datagram.length) throw new NetlinkDecodeError(`${datagram.length - at} stray bytes after the last netlink message`);
  return out;
}

export interface NetlinkAck {
  /** 0 for a plain ack, else the positive errno of the failure. */
  errno: number;
  /** The kernel's extended ack text (NLMSGERR_ATTR_MSG), when it gave one. */
  message?: string;
  /** Byte offset, in the request, of the attribute the kernel blamed (NLMSGERR_ATTR_OFFS). */
  offset?: number;
}

/** Reads an NLMSG_ERROR payload: the error, the echoed request header, extended ack TLVs. */
export function parseAck(msg: NetlinkMessage): NetlinkAck {
  const p = msg.payload;
  if (p.length < 4) throw new NetlinkDecodeError(`netlink error message of ${p.length} bytes, too short`);
  const ack: NetlinkAck = { errno: 0 - readS32(p, 0) };
  if (!(msg.flags & NLM_F_ACK_TLVS)) return ack;
  // The echoed request is its header alone when capped, else the whole original message.
  let tlvStart = 4 + NLMSG_HDRLEN;
  if (!(msg.flags & NLM_F_CAPPED) && p.length >= 4 + NLMSG_HDRLEN) tlvStart = 4 + align4(readU32(p, 4));
  if (tlvStart > p.length) return ack;
  const tlvs = AttributeSet.parse(p, tlvStart);
  const text = tlvs.string(NLMSGERR_ATTR_MSG);
  if (text) ack.message = text;
  const offset = tlvs.u32(NLMSGERR_ATTR_OFFS);
  if (offset !== undefined) ack.offset = offset;
  return ack;
}

/** The errno (positive, 0 for success) that ends a dump: NLMSG_DONE carries an int. */
export function parseDone(msg: NetlinkMessage): number {
  return msg.payload.length >= 4 ? 0 - readS32(msg.payload, 0) : 0;
}

export function isError(msg: NetlinkMessage): boolean {
  return msg.type === NLMSG_ERROR;
}

export function isDone(msg: NetlinkMessage): boolean {
  return msg.type === NLMSG_DONE;
}

/**
 * A request the kernel refused. The message names the operation and its object, then the
 * errno as Node's fs errors do, then the kernel's own explanation when it gave one:
 * `add address 10.0.0.2/24 on eth0: EEXIST: file already exists`.
 */
export class NetlinkError extends Error {
  override name = 'NetlinkError';
  /** 'EEXIST', 'ENODEV', ... */
  readonly code: string;
  /** Negative, as in Node's errors. */
  readonly errno: number;
  readonly operation: string;
  readonly kernelMessage: string | undefined;

  constructor(operation: string, errno: number, kernelMessage?: string) {
    const code = errnoName(errno);
    super(`${operation}: ${code}: ${errnoText(errno)}${kernelMessage ? ` (${kernelMessage})` : ''}`);
    this.code = code;
    this.errno = -errno;
    this.operation = operation;
    this.kernelMessage = kernelMessage;
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function errnoText(errno: number): string {
  try {
    return getSystemErrorMessage(-errno);
  } catch {
    return 'unknown error';
  }
}
