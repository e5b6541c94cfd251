// Runs a launch plan through hull-init and follows its sync messages.
import { childProcess } from '../child-process.ts';
import type { StdioOptions } from 'node:child_process';
import { closeSync, existsSync, readSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { pipe, socketpair, spawnDetached } from '../sys/index.ts';
import { describeErrno } from './errno.ts';
import { encodePlan } from './plan/encode.ts';
import { Msg, type PlanOp } from './plan/ops.ts';

/** dist/hull-init beside the bundle, or the repo's dist/ when running from source. */
export function initBinary(): string {
  if (process.env.HULL_INIT) return process.env.HULL_INIT;
  const here = dirname(new URL(import.meta.url).pathname);
  for (const candidate of [join(here, 'hull-init'), join(here, '../../dist/hull-init')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`hull-init not found next to ${here}: run "make -C native"`);
}

export class LaunchError extends Error {
  readonly errno: number;
  readonly step: string;
  constructor(step: string, errno: number, detail: string) {
    super(errno ? `${step}: ${detail}: ${describeErrno(errno)}` : `${step}: ${detail}`);
    this.errno = errno;
    this.step = step;
  }
}

export interface LaunchOptions {
  plan: PlanOp[];
  /** The process's fds 0, 1, 2 and the extra fds from 3 up, as child_process takes them. */
  stdio: StdioOptions & unknown[];
  /**
   * Called at OP_SYNC points; the plan continues when it resolves, and aborts if it throws.
   * Bytes it resolves to go to hull-init with the CONTINUE (the seccomp listener's state).
   */
  onSync?: (tag: number, pid: number) => Promise<void | Uint8Array>;
  /** Told the pid as soon as the process exists, so a failure can clean it up. */
  onPid?: (pid: number) => void;
  /**
   * Runs hull-init under a monitor (the engine's hull-shim) instead of as our child: the
   * monitor is started in a session of its own, not as our child (it outlives us), with stdio,
   * and given `--init <hull-init> --sync-fd <n>` before args; it execs hull-init with the sync
   * socket at fd n. A "pipe" at fd 0 is its control pipe (Launched.control); one at fd 1 or 2
   * carries what it says before the container is ready, which a failed launch reports.
   */
  wrap?: { command: string; args: string[] };
}

export interface Launched {
  /** The process the plan cloned (the container's init, or the exec'd process). */
  pid: number;
  /** In wait mode, the process's exit status (128+n for signal n). */
  exited: Promise<number>;
  /** Signals hull-init, which in wait mode passes the signal on. */
  kill(signal: NodeJS.Signals): void;
  /** Lets the runtime exit without waiting for hull-init. */
  unref(): void;
  /** hull-init's stdin and stderr, when the launch asked for pipes (hooks); not under a wrap. */
  stdin?: NodeJS.WritableStream;
  stderr?: NodeJS.ReadableStream;
  /** The process launch spawned: hull-init, or the wrap monitor. */
  childPid: number;
  /** Under a wrap with a "pipe" at fd 0: our end of the monitor's control pipe, still open. */
  control?: number;
}

/** The wrap monitor as spawnDetached started it, with our ends of its pipes. */
interface Monitor {
  pid: number;
  sync: Socket;
  control?: number;
  /** Read end of the pipe at its fd 1 or 2, non-blocking. */
  said?: number;
}

/** A plan this size fits a fresh socket's buffer (~200 kB), so writing it never waits for the reader. */
const PLAN_WRITTEN_AT_ONCE = 64 << 10;

/**
 * Starts the monitor with stdio as child_process would take it, and the sync socket at fd
 * stdio.length, and sends it the plan.
 */
function spawnMonitor(command: string, args: string[], stdio: LaunchOptions['stdio'], plan: Buffer): Monitor {
  const mine: number[] = [];
  const theirs: number[] = [];
  let control: number | undefined;
  // fds 1 and 2 as "pipe" share one pipe: what it says is read only once it has failed, and
  // must never keep us waiting, so our end does not block
  let said: [number, number] | undefined;
  const made = (pair: [number, number], ours: 0 | 1) => {
    mine.push(pair[ours]);
    theirs.push(pair[1 - ours]!);
    return pair;
  };
  try {
    const fds = stdio.map((how, fd) => {
      if (typeof how === 'number') return how;
      if (how === 'inherit') return fd;
      if (how !== 'pipe') return -1;
      if (fd === 0) {
        const [r, w] = made(pipe(), 1);
        control = w;
        return r;
      }
      said ??= made(pipe(true), 0);
      return said[1];
    });
    const [ours, sync] = made(socketpair(), 0);
    const pid = spawnDetached(command, [command, ...args], [...fds, sync]);
    // at once, so that hull-init works through it while we make the socket below (~1 ms)
    let sent = false;
    if (plan.length <= PLAN_WRITTEN_AT_ONCE) {
      try {
        for (let off = 0; off < plan.length; ) off += writeSync(ours, plan, off);
        sent = true;
      } catch {
        // EPIPE: the monitor is gone already, which the socket's close reports
      }
    }
    // a unix socket fd becomes a net.Socket (libuv's pipe handle) that reads and writes without blocking
    const socket = new Socket({ fd: ours, readable: true, writable: true });
    if (!sent) socket.write(plan);
    return {
      pid,
      sync: socket,
      ...(control !== undefined ? { control } : {}),
      ...(said ? { said: said[0] } : {}),
    };
  } catch (e) {
    for (const fd of mine) closeSync(fd);
    throw e;
  } finally {
    for (const fd of theirs) closeSync(fd);
  }
}

/** What the monitor wrote to its stdout or stderr pipe so far (it is not waited for). */
function monitorSaid(fd: number | undefined): string {
  if (fd === undefined) return '';
  const buf = Buffer.alloc(4096);
  let n = 0;
  try {
    // hull-init is gone (the sync socket closed); the monitor may not be yet, so this never waits
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += got;
  } catch {
    // EAGAIN: what came is all there is
  }
  return buf.subarray(0, n).toString('utf8').trim();
}

const HEADER = 16;

export async function launch(o: LaunchOptions): Promise<Launched> {
  const syncIndex = o.stdio.length;
  let initPid: number;
  let sock: Socket;
  let childExit: Promise<number>;
  let monitor: Monitor | undefined;
  let init: import('node:child_process').ChildProcess | undefined;
  const plan = encodePlan(o.plan);
  if (o.wrap) {
    try {
      monitor = spawnMonitor(o.wrap.command, ['--init', initBinary(), '--sync-fd', String(syncIndex), ...o.wrap.args], o.stdio, plan);
    } catch (e) {
      throw new Error(`cannot run ${o.wrap.command}: ${(e as Error).message}`);
    }
    initPid = monitor.pid;
    sock = monitor.sync;
    // not our child: its end shows as the sync socket closing
    childExit = new Promise<number>(() => {});
  } else {
    const stdio = [...o.stdio, 'pipe'] as StdioOptions;
    const child = (init = childProcess().spawn(initBinary(), ['init', String(syncIndex)], { stdio }));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`cannot run ${initBinary()}: ${e.message}`)));
    });
    initPid = child.pid!;
    sock = child.stdio[syncIndex] as Socket;
    childExit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 255))));
  }
  sock.on('error', () => {});
  if (!monitor) sock.write(plan);

  let reportExit: (code: number) => void = () => {};
  const reported = new Promise<number>((resolve) => (reportExit = resolve));
  const exited = Promise.race([reported, childExit]);

  return new Promise<Launched>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let pid = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) {
        sock.destroy();
        if (monitor) {
          // the monitor reads EOF on its control pipe, stops what it started and runs its exit command
          if (monitor.control !== undefined) closeSync(monitor.control);
          if (monitor.said !== undefined) closeSync(monitor.said);
        }
        reject(err);
        return;
      }
      // what a monitor says once the container is ready goes elsewhere (hull-shim: /dev/null)
      if (monitor?.said !== undefined) closeSync(monitor.said);
      resolve({
        pid,
        exited,
        kill(signal) {
          try {
            process.kill(initPid, signal);
          } catch {
            // hull-init is gone already
          }
        },
        unref() {
          sock.unref();
          init?.unref();
        },
        ...(init?.stdin ? { stdin: init.stdin } : {}),
        ...(init?.stderr ? { stderr: init.stderr } : {}),
        childPid: initPid,
        ...(monitor?.control !== undefined ? { control: monitor.control } : {}),
      });
    };
    const reply = (t: number, payload?: Uint8Array) => {
      const m = Buffer.alloc(HEADER + (payload?.length ?? 0));
      m.writeUInt32LE(t, 0);
      if (payload) {
        m.writeUInt32LE(payload.length, 12);
        m.set(payload, HEADER);
      }
      if (!sock.destroyed) sock.write(m);
    };
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= HEADER) {
        const type = buf.readUInt32LE(0);
        const a = buf.readInt32LE(4);
        const b = buf.readInt32LE(8);
        const len = buf.readUInt32LE(12);
        if (buf.length < HEADER + len) return;
        const payload = buf.subarray(HEADER, HEADER + len).toString('utf8');
        buf = buf.subarray(HEADER + len);
        if (type === Msg.PID) {
          pid = a;
          o.onPid?.(pid);
        } else if (type === Msg.READY) {
          finish();
        } else if (type === Msg.EXIT) {
          reportExit(a);
          finish(new Error(`the container process exited with status ${a} before it was ready`));
        } else if (type === Msg.ERROR) {
          const step = o.plan[a]?.what ?? (a < 0 ? 'hull-init' : `plan step ${a}`);
          finish(new LaunchError(step, b, payload));
        } else if (type === Msg.SYNC) {
          (o.onSync ? o.onSync(a, pid) : Promise.resolve()).then(
            (payload) => reply(Msg.CONTINUE, payload || undefined),
            (e: Error) => {
              reply(Msg.ABORT);
              finish(e);
            },
          );
        }
      }
    });
    sock.on('close', () => {
      reportExit(255);
      const said = monitor ? monitorSaid(monitor.said) : '';
      finish(new Error(`the container process exited before it was ready${said ? `: ${said}` : ''}`));
    });
  });
}
