// The engine's side of hull-shim (native/shim.c), the per-container monitor: how to start it
// through the runtime, how to tell it the container's pid, what it leaves behind (the exit
// record), and the attach protocol on its attach.sock.
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';

function distBinary(name: string, envVar: string): string {
  const override = process.env[envVar];
  if (override) return override;
  const here = dirname(new URL(import.meta.url).pathname);
  // beside the bundle (dist/hull), or the repo's dist/ when running from source
  for (const candidate of [join(here, name), join(here, '../../../dist', name)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found next to ${here}: run "make -C native"`);
}

/** dist/hull-shim beside the bundle or in the repo's dist/; HULL_SHIM overrides. */
export function shimBinary(): string {
  return distBinary('hull-shim', 'HULL_SHIM');
}

/** dist/hull-tini (bind-mounted at /sbin/docker-init for `run --init`); HULL_TINI overrides. */
export function tiniBinary(): string {
  return distBinary('hull-tini', 'HULL_TINI');
}

export interface ShimOptions {
  id: string;
  /** The run dir (--dir): it exists, mode 0700; the shim makes its sockets and files in it. */
  dir: string;
  terminal: boolean;
  /** --stdin: the container's stdin is a pipe fed by attach clients (else /dev/null). */
  openStdin: boolean;
  stdinOnce: boolean;
  /** The json-file log; maxSize 0 never rotates; maxFiles counts the live file. */
  log?: { path: string; maxSize: number; maxFiles: number };
  /** Run once when the container has exited (unless an attach client claimed the cleanup). */
  exitCommand: string[];
  /**
   * A command the shim runs on a timer while the container runs (health checks), never two at
   * once: firstMs after the shim learns the pid, then everyMs after each run ends, unless the
   * run prints another delay (a number of ms) on its stdout. The container's exit kills a run
   * under way, with its process group. Its stderr is kept in <dir>/timer.log (the last run's).
   */
  timer?: { firstMs: number; everyMs: number; command: string[] };
}

function checkCount(what: string, n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`shim: ${what}: ${n} is not an integer >= ${min}`);
}

/** native/shim.c's TIMER_MAX_ARGS and TIMER_MAX_MS (a hundred years). */
const MAX_TIMER_ARGS = 64;
export const MAX_TIMER_MS = 100 * 365 * 24 * 3600 * 1000;

/** The runtime's CreateOptions.wrap for this shim. */
export function shimWrap(o: ShimOptions): { command: string; args: string[]; stdio: ('pipe' | 'ignore')[] } {
  const args = ['--id', o.id, '--dir', resolve(o.dir)];
  if (o.terminal) args.push('--terminal');
  if (o.openStdin) args.push('--stdin');
  if (o.stdinOnce) args.push('--stdin-once');
  if (o.log) {
    checkCount('log max size', o.log.maxSize, 0);
    checkCount('log max files', o.log.maxFiles, 1);
    args.push('--log', resolve(o.log.path), '--log-max-size', String(o.log.maxSize), '--log-max-file', String(o.log.maxFiles));
  }
  if (o.timer) {
    for (const [what, ms] of [['timer first delay', o.timer.firstMs], ['timer interval', o.timer.everyMs]] as const) {
      checkCount(what, ms, 1);
      if (ms > MAX_TIMER_MS) throw new Error(`shim: ${what}: ${ms} ms is more than a hundred years`);
    }
    if (o.timer.command.length === 0) throw new Error('shim: timer: a command is required');
    if (o.timer.command.length > MAX_TIMER_ARGS) throw new Error(`shim: timer: more than ${MAX_TIMER_ARGS} arguments`);
    args.push('--every', String(o.timer.everyMs), '--every-first', String(o.timer.firstMs));
    for (const a of o.timer.command) args.push('--every-arg', a);
  }
  args.push('--', ...o.exitCommand);
  // fd 0: the control pipe ("pid N"); fd 2: the shim's own errors until it has the pid
  return { command: shimBinary(), args, stdio: ['pipe', 'ignore', 'pipe'] };
}

/** The longest path a unix socket address holds (sun_path, less its NUL). */
const SUN_PATH_MAX = 107;

/**
 * Where the shim listens for the pty master of a terminal container (the runtime's consoleSocket).
 * A path too long for a socket address is reached through hull-init's cwd, which the shim makes
 * the run dir; hull-init connects to it first thing, before it changes namespace or directory.
 */
export function consoleSocketPath(dir: string): string {
  const path = join(resolve(dir), 'console.sock');
  return Buffer.byteLength(path) <= SUN_PATH_MAX ? path : '/proc/self/cwd/console.sock';
}

/** Tells the shim the container's pid: writes "pid N\n" to its control pipe (launch's Launched.control) and closes it. */
export function shimStarted(launched: { control?: number }, containerPid: number): void {
  if (!Number.isSafeInteger(containerPid) || containerPid <= 0) throw new Error(`shim: bad container pid ${containerPid}`);
  if (launched.control === undefined) throw new Error('shim: spawned without a control pipe (stdio[0] must be "pipe")');
  try {
    writeSync(launched.control, `pid ${containerPid}\n`);
  } catch {
    // a shim that died already is found out by its exit record
  } finally {
    closeSync(launched.control);
  }
}

export interface ExitRecord {
  exitCode: number;
  /** RFC 3339 with nanoseconds, UTC. */
  exitedAt: string;
}

/** The shim's record of how the container init ended, or undefined if it has not (yet). */
export function readExit(dir: string): ExitRecord | undefined {
  const path = join(dir, 'exit');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON: ${(e as Error).message}`);
  }
  const r = v as Partial<ExitRecord> | null;
  if (!r || typeof r !== 'object' || !Number.isInteger(r.exitCode) || typeof r.exitedAt !== 'string') {
    throw new Error(`${path}: expected {"exitCode": <integer>, "exitedAt": <string>}`);
  }
  return { exitCode: r.exitCode!, exitedAt: r.exitedAt };
}

// Frames, both ways: [type u8, 0, 0, 0, size u32 big-endian] then the payload (docker's stdcopy).
const HEADER = 8;
const Out = { STDOUT: 1, STDERR: 2, EXIT: 3 } as const;
const In = { STDIN: 0, CLOSE_STDIN: 1, RESIZE: 2, CLAIM_CLEANUP: 4, CLEANUP_DONE: 5 } as const;
/** A client that never listens to output (one that only waits for the exit) keeps this much of it. */
const EARLY_MAX = 1 << 20;
/** Stdin goes out in frames of at most this much, so that one write never holds a huge buffer twice. */
const MAX_STDIN_FRAME = 64 * 1024;

function frame(type: number, payload?: Buffer): Buffer {
  const b = Buffer.alloc(HEADER + (payload?.length ?? 0));
  b[0] = type;
  b.writeUInt32BE(payload?.length ?? 0, 4);
  if (payload) payload.copy(b, HEADER);
  return b;
}

export interface AttachOptions {
  /** This client gives the container its stdin (with --stdin-once, its end closes stdin). */
  stdin?: boolean;
  /** This client cleans up after the exit itself: the shim waits for cleanupDone() or for it to go. */
  claimCleanup?: boolean;
}

/** Connects to a unix socket even when its path is longer than sun_path allows. */
async function connectUnix(path: string): Promise<Socket> {
  let dirFd: number | undefined;
  let target = path;
  if (Buffer.byteLength(path) > SUN_PATH_MAX) {
    dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
    target = `/proc/self/fd/${dirFd}/${basename(path)}`;
  }
  try {
    return await new Promise<Socket>((resolveSock, reject) => {
      const s = createConnection(target);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolveSock(s);
      });
      s.once('error', reject);
    });
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

export class AttachClient {
  /** Resolves with the exit code when the exit frame arrives; rejects if the shim goes away without one. */
  readonly exited: Promise<number>;
  private readonly sock: Socket;
  private readonly id: string;
  private listeners: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  /** Output that came before anyone listened (at most EARLY_MAX bytes of it). */
  private early: [1 | 2, Buffer][] = [];
  private earlyBytes = 0;
  private buf: Buffer = Buffer.alloc(0);
  private exitCode: number | undefined;
  private settle!: { resolve: (code: number) => void; reject: (e: Error) => void };

  private constructor(sock: Socket, id: string) {
    this.sock = sock;
    this.id = id;
    this.exited = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));
    this.exited.catch(() => {}); // a caller that never waits on it must not crash the process
    sock.on('data', (chunk: Buffer) => this.receive(chunk));
    sock.on('error', () => {}); // reported as 'close'
    sock.on('close', () => {
      if (this.exitCode === undefined) {
        this.settle.reject(new Error(`container ${this.id}: its shim went away without reporting an exit`));
      }
    });
  }

  /** Connects to <dir>/attach.sock; fails with "container <id> is not running" if nobody listens. */
  static async connect(dir: string, o: AttachOptions = {}): Promise<AttachClient> {
    const id = basename(resolve(dir));
    let sock: Socket;
    try {
      sock = await connectUnix(join(resolve(dir), 'attach.sock'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new Error(`container ${id} is not running`);
      throw new Error(`container ${id}: cannot attach: ${(e as Error).message}`);
    }
    const c = new AttachClient(sock, id);
    if (o.claimCleanup) sock.write(frame(In.CLAIM_CLEANUP));
    // an empty stdin frame makes this the client whose end closes stdin (--stdin-once), even if it sends nothing
    if (o.stdin) sock.write(frame(In.STDIN));
    return c;
  }

  onOutput(fn: (stream: 1 | 2, data: Buffer) => void): void {
    this.listeners.push(fn);
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const [stream, data] of early) fn(stream, data);
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER + len) return;
      const type = this.buf[0];
      const payload = this.buf.subarray(HEADER, HEADER + len);
      this.buf = this.buf.subarray(HEADER + len);
      if (type === Out.STDOUT || type === Out.STDERR) {
        if (this.listeners.length === 0 && this.earlyBytes + payload.length <= EARLY_MAX) {
          this.early.push([type, Buffer.from(payload)]);
          this.earlyBytes += payload.length;
        }
        for (const fn of this.listeners) fn(type, payload);
      } else if (type === Out.EXIT) {
        const code = Number(payload.toString('ascii'));
        if (this.exitCode === undefined && Number.isInteger(code)) {
          this.exitCode = code;
          this.settle.resolve(code);
        }
      }
    }
  }

  private send(b: Buffer): boolean {
    if (this.sock.destroyed || this.sock.writableEnded) return true;
    return this.sock.write(b);
  }

  writeStdin(data: Buffer): void {
    for (let off = 0; off < data.length; off += MAX_STDIN_FRAME) {
      this.send(frame(In.STDIN, data.subarray(off, off + MAX_STDIN_FRAME)));
    }
  }

  closeStdin(): void {
    this.send(frame(In.CLOSE_STDIN));
  }

  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.trunc(rows))), 0);
    p.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.trunc(cols))), 2);
    this.send(frame(In.RESIZE, p));
  }

  /** Pipes a readable (process.stdin) into the container's stdin, closing stdin at its end. */
  pipeStdin(input: NodeJS.ReadableStream): void {
    input.on('data', (d: Buffer | string) => {
      const data = typeof d === 'string' ? Buffer.from(d) : d;
      let ok = true;
      for (let off = 0; off < data.length; off += MAX_STDIN_FRAME) {
        ok = this.send(frame(In.STDIN, data.subarray(off, off + MAX_STDIN_FRAME))) && ok;
      }
      // the shim reads no faster than the container takes its stdin: so do we
      if (!ok) {
        input.pause();
        this.sock.once('drain', () => input.resume());
      }
    });
    input.on('end', () => this.closeStdin());
    this.sock.once('close', () => input.pause());
  }

  /** Tells the shim this client has cleaned up after the exit (so it runs no exit command), and leaves. */
  cleanupDone(): void {
    this.send(frame(In.CLEANUP_DONE));
    this.sock.end();
  }

  close(): void {
    this.sock.end();
    // a shim that does not take the rest within a moment is stuck or gone
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }
}
