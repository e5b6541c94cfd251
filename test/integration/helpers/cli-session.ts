// Running the hull CLI as a user would: in the background with its output gathered (logs -f,
// attach), or with a terminal of its own whose keystrokes a script types (pty-session.py).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HULL, type Engine } from './engine.ts';

const SESSION = fileURLToPath(new URL('./pty-session.py', import.meta.url));

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI run in the background: what it has printed so far, and its end. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Finished>;
}

export function background(e: Engine, args: string[]): Running {
  const child = e.spawn(args);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (status, signal) => resolve({ status, signal, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

export type PtyStep = { expect: string } | { send: string } | { resize: [number, number] };

export interface PtyResult {
  output: string;
  status: number;
  timedOut: boolean;
}

/** Runs `hull ARGS` on a terminal of its own, typing as the steps say; resolves when it exits. */
export function ptySession(e: Engine, args: string[], steps: PtyStep[], o: { rows?: number; cols?: number; timeout?: number } = {}): Promise<PtyResult> {
  const script = {
    argv: [HULL, '--root', e.root, '--runroot', e.runroot, ...args],
    steps,
    rows: o.rows ?? 24,
    cols: o.cols ?? 80,
    timeout: o.timeout ?? 20,
  };
  const child = spawn('/usr/bin/python3', [SESSION, JSON.stringify(script)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pty-session.py exited ${code}: ${err}`));
      const r = JSON.parse(out) as PtyResult;
      assert.equal(r.timedOut, false, `the terminal session timed out; it printed: ${JSON.stringify(r.output)}`);
      resolve(r);
    });
  });
}
