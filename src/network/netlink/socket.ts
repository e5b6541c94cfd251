// A synchronous netlink socket: one request at a time, matched to its answers by sequence
// number. Requests always ask for an ack, so every request ends with either NLMSG_ERROR
// (errno 0 for success) or, for a dump, NLMSG_DONE; the blocking receive never waits for an
// answer that will not come.
import { closeSync } from 'node:fs';
import { netlinkOpen, netlinkRecv, netlinkSend } from '../../sys/index.ts';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.ts';
import { NetlinkError, encodeMessage, isDone, isError, parseAck, parseDone, parseMessages, type NetlinkMessage } from './message.ts';

/** How often a dump that the kernel marks inconsistent (NLM_F_DUMP_INTR) is tried again. */
const DUMP_ATTEMPTS = 5;

export class NetlinkSocket {
  readonly fd: number;
  /** The namespace file the socket was made in, or null for the caller's own; for messages. */
  readonly netnsPath: string | null;
  private seq: number;
  private closed = false;

  /** Opens the socket; see openProtocol. */
  protected constructor(protocol: number, netnsPath: string | null) {
    this.fd = openIn(protocol, netnsPath);
    this.netnsPath = netnsPath;
    // Start somewhere unpredictable; it only needs to differ between requests of this socket.
    this.seq = (Math.random() * 0x7fffffff) >>> 0;
  }

  /**
   * Opens a netlink socket of the given protocol inside the network namespace pinned at
   * netnsPath (the caller's own when absent). Throws a clear error when the path is missing
   * or is not a network namespace.
   */
  static openProtocol(protocol: number, netnsPath?: string | null): NetlinkSocket {
    return new NetlinkSocket(protocol, netnsPath ?? null);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Sends one request with NLM_F_ACK and returns the messages answered before the ack (a GET
   * returns its object; a NEW or DEL usually none). A kernel error becomes a NetlinkError
   * named after operation.
   */
  request(type: number, flags: number, body: Uint8Array, operation: string): NetlinkMessage[] {
    const seq = this.send(type, flags | NLM_F_REQUEST | NLM_F_ACK, body);
    const replies: NetlinkMessage[] = [];
    for (;;) {
      for (const msg of this.receive()) {
        if (msg.seq !== seq || msg.type === NLMSG_NOOP) continue; // a late answer to an abandoned request
        if (isError(msg)) {
          const ack = parseAck(msg);
          if (ack.errno !== 0) throw new NetlinkError(operation, ack.errno, ack.message);
          return replies;
        }
        if (isDone(msg)) {
          const errno = parseDone(msg);
          if (errno !== 0) throw new NetlinkError(operation, errno);
          return replies;
        }
        replies.push(msg);
      }
    }
  }

  /**
   * Sends a dump request and returns every object message of it. An interrupted dump (the
   * table changed while it was being read) is read again from the start, a few times.
   */
  dump(type: number, body: Uint8Array, operation: string): NetlinkMessage[] {
    for (let attempt = 1; ; attempt++) {
      const { messages, interrupted } = this.dumpOnce(type, body, operation);
      if (!interrupted || attempt >= DUMP_ATTEMPTS) return messages;
    }
  }

  private dumpOnce(type: number, body: Uint8Array, operation: string): { messages: NetlinkMessage[]; interrupted: boolean } {
    const seq = this.send(type, NLM_F_REQUEST | NLM_F_DUMP, body);
    const messages: NetlinkMessage[] = [];
    let interrupted = false;
    // Read to the end even after an error, so the socket holds nothing of this dump after.
    let failure: NetlinkError | undefined;
    for (;;) {
      for (const msg of this.receive()) {
        if (msg.seq !== seq || msg.type === NLMSG_NOOP) continue;
        if (msg.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (isDone(msg)) {
          const errno = parseDone(msg);
          if (failure) throw failure;
          if (errno !== 0) throw new NetlinkError(operation, errno);
          return { messages, interrupted };
        }
        if (isError(msg)) {
          const ack = parseAck(msg);
          if (ack.errno === 0) return { messages, interrupted };
          // an error answers the request itself: no NLMSG_DONE follows
          throw new NetlinkError(operation, ack.errno, ack.message);
        }
        if (msg.type === NLMSG_OVERRUN) failure ??= new NetlinkError(operation, 105 /* ENOBUFS */);
        else messages.push(msg);
      }
    }
  }

  private send(type: number, flags: number, body: Uint8Array): number {
    if (this.closed) throw new Error('netlink socket is closed');
    this.seq = (this.seq + 1) >>> 0;
    netlinkSend(this.fd, encodeMessage(type, flags, this.seq, body));
    return this.seq;
  }

  private receive(): NetlinkMessage[] {
    return parseMessages(netlinkRecv(this.fd));
  }
}

function openIn(protocol: number, netnsPath: string | null): number {
  try {
    return netlinkOpen(protocol, netnsPath);
  } catch (err) {
    throw describeOpenError(err, netnsPath);
  }
}

/** Turns the raw syscall error of entering a namespace into what went wrong, for the user. */
function describeOpenError(err: unknown, netnsPath: string | null): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!netnsPath || typeof e?.code !== 'string') return err;
  let why: string | undefined;
  if (e.syscall === 'open' && e.code === 'ENOENT') why = 'no such file';
  else if (e.syscall === 'setns' && e.code === 'EINVAL') why = 'not a network namespace';
  if (!why) return err;
  const out = new Error(`network namespace ${netnsPath}: ${why}`) as NodeJS.ErrnoException;
  out.code = e.code;
  out.errno = e.errno;
  out.syscall = e.syscall;
  out.path = netnsPath;
  return out;
}
