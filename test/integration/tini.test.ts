// hull-tini, the init of `run --init`, as the engine uses it: bind-mounted read-only at
// /sbin/docker-init in a real container and put in front of the process's args.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import { tiniBinary } from '../../src/engine/containers/shim.ts';
import { RUNTIME, bundle, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

const LIMIT = { timeout: 60_000 };

/** A bundle whose process is `/sbin/docker-init -- args...`. */
function withInit(args: string[]): Bundle {
  return bundle(['/sbin/docker-init', '--', ...args], (s) => {
    s.mounts!.push({ destination: '/sbin/docker-init', type: 'bind', source: tiniBinary(), options: ['bind', 'ro'] });
  });
}

/** Runs the container in the foreground in the background; resolves with its exit status. */
function runInBackground(x: Bundle): { out: () => string; err: () => string; status: Promise<number | null> } {
  const child = spawn(RUNTIME, ['--root', x.root, 'run', x.id], { cwd: x.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { out: () => out, err: () => err, status };
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => {
      try {
        return parentOf(p) === pid;
      } catch {
        return false;
      }
    });
}

test('the exit code of the command is the container\'s', LIMIT, () => {
  b = withInit(['sh', '-c', 'echo through-init; exit 5']);
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 5, r.stderr);
  assert.equal(r.stdout, 'through-init\n');
});

test('a command killed by a signal: 128 + the signal', LIMIT, () => {
  b = withInit(['sh', '-c', 'kill -9 $$']);
  assert.equal(b.rt(['run', b.id]).status, 137);
});

test('a command that is not there: 127, and says so', LIMIT, () => {
  b = withInit(['/no/such/program', 'arg']);
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 127);
  assert.match(r.stderr, /hull-tini: exec \/no\/such\/program failed: No such file or directory/);
});

test('a command that cannot be run: 126, and says why', LIMIT, () => {
  b = withInit(['/etc/passwd']);
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 126);
  assert.match(r.stderr, /hull-tini: exec \/etc\/passwd failed: Permission denied/);
});

test('signals sent to the init reach the command', LIMIT, async () => {
  b = withInit([
    'sh',
    '-c',
    'trap "echo got-USR1" USR1; trap "echo got-HUP" HUP; trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 1000 & wait $!; done',
  ]);
  const run = runInBackground(b);
  await waitFor(() => run.out().includes('ready\n'), 'the command to start');
  const init = stateOf(b).pid;
  assert.equal(cmdline(init), b.spec.process!.args!.join(' '));
  process.kill(init, 'SIGUSR1');
  await waitFor(() => run.out().includes('got-USR1\n'), 'SIGUSR1 to be passed on');
  process.kill(init, 'SIGHUP');
  await waitFor(() => run.out().includes('got-HUP\n'), 'SIGHUP to be passed on');
  process.kill(init, 'SIGTERM');
  assert.equal(await run.status, 7, run.err());
  assert.equal(run.out(), 'ready\ngot-USR1\ngot-HUP\ngot-TERM\n');
});

test('orphans re-parented to the init are reaped; SIGTERM then ends the command (143)', LIMIT, async () => {
  b = withInit(['sh', '-c', '(sleep 1001 &); echo ready; exec sleep 1000']);
  const run = runInBackground(b);
  await waitFor(() => run.out().includes('ready\n'), 'the command to start');
  const init = stateOf(b).pid;
  let orphan = 0;
  await waitFor(() => {
    orphan = childrenOf(init).find((p) => cmdline(p) === 'sleep 1001') ?? 0;
    return orphan > 0;
  }, 'the orphan to be re-parented to the init');
  process.kill(orphan, 'SIGKILL');
  await waitFor(() => !existsSync(`/proc/${orphan}`), 'the init to reap the orphan');
  process.kill(init, 'SIGTERM');
  assert.equal(await run.status, 143, run.err());
});
