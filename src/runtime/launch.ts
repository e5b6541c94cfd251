// Runs a launch plan through hull-init and follows its sync messages.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
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
   * monitor is spawned detached with stdio, and given `--init <hull-init> --sync-fd <n>`
   * before args; it execs hull-init with the sync socket at fd n.
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
  /** hull-init's stdin and stderr, when the launch asked for pipes (hooks). */
  stdin?: NodeJS.WritableStream;
  stderr?: NodeJS.ReadableStream;
  /** The process launch spawned: hull-init, or the wrap monitor. */
  child: ChildProcess;
}

const HEADER = 16;

export async function launch(o: LaunchOptions): Promise<Launched> {
  const syncIndex = o.stdio.length;
  const stdio = [...o.stdio, 'pipe'] as StdioOptions;
  const init = o.wrap
    ? spawn(o.wrap.command, ['--init', initBinary(), '--sync-fd', String(syncIndex), ...o.wrap.args], { stdio, detached: true })
    : spawn(initBinary(), ['init', String(syncIndex)], { stdio });
  const binary = o.wrap?.command ?? initBinary();
  await new Promise<void>((resolve, reject) => {
    init.once('spawn', resolve);
    init.once('error', (e) => reject(new Error(`cannot run ${binary}: ${e.message}`)));
  });
  const initPid = init.pid!;
  const sock = init.stdio[syncIndex] as Socket;
  const childExit = new Promise<number>((resolve) => init.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 255))));
  sock.on('error', () => {});
  sock.write(encodePlan(o.plan));

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
        if (o.wrap) {
          // the monitor reads EOF on its control pipe, stops what it started and runs its exit command
          init.stdin?.end();
          init.stderr?.destroy();
          init.unref();
        }
        reject(err);
        return;
      }
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
          init.unref();
        },
        ...(init.stdin ? { stdin: init.stdin } : {}),
        ...(init.stderr ? { stderr: init.stderr } : {}),
        child: init,
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
      finish(new Error('the container process exited before it was ready'));
    });
  });
}
