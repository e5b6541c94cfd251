// The addon's process plumbing: spawnDetached (a double fork made of two vfork-style clones),
// pipe() and socketpair(). What the runtime relies on when it starts the wrap monitor: the
// program gets exactly the fds it was given, a clean signal state and a session of its own, and
// it is never our child nor leaves a zombie with us.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { pipe, socketpair, spawnDetached } from '../../src/sys/index.ts';

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

// Node's main thread runs with no signal blocked; spawnDetached blocks all for a moment
const initialMask = status('self').SigBlk;

const tmp = mkdtempSync(join(tmpdir(), 'hull-spawn-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const opened: number[] = [];
const sleepers: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
  for (const pid of sleepers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  assert.deepEqual(children(), [], 'a process of ours (child or zombie) was left behind');
});

function track<T extends number[]>(fds: T): T {
  opened.push(...fds);
  return fds;
}

/** Closes a tracked fd now (so that a reader sees EOF), and not again after the test. */
function close(fd: number): void {
  opened.splice(opened.indexOf(fd), 1);
  closeSync(fd);
}

/** A `sleep` started detached, killed after the test; it stays put while we look at it. */
function sleeper(fds: number[], argv0 = 'sleep'): number {
  const pid = spawnDetached('/bin/sleep', [argv0, '30'], fds);
  sleepers.push(pid);
  return pid;
}

/** /proc/<pid>/stat from field 3 on: [state, ppid, pgrp, session, ...]; comm may hold spaces. */
function stat(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

function status(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

/** Every process whose parent is us, zombies included, as "pid state". */
function children(): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const [state, ppid] = stat(Number(name));
      if (Number(ppid) === process.pid) found.push(`${name} ${state}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function ancestors(): number[] {
  const out: number[] = [];
  for (let pid = process.pid; pid > 1; ) {
    pid = Number(stat(pid)[1]);
    out.push(pid);
  }
  return out;
}

/**
 * Reads a pipe(true) read end to EOF, which comes once every copy of the write end is closed,
 * ours included; a copy leaked into a child would make it wait for good, so it gives up.
 */
function readAll(fd: number, ms = 10_000): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (const end = Date.now() + ms; ; ) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      if (Date.now() > end) assert.fail(`no EOF after ${ms} ms; read so far: ${JSON.stringify(Buffer.concat(chunks).toString())}`);
      sleepMs(5);
      continue;
    }
    if (n === 0) return Buffer.concat(chunks).toString('utf8');
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

function flags(fd: number): number {
  const line = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').find((l) => l.startsWith('flags:'));
  return parseInt(line!.split(/\s+/)[1]!, 8);
}

function fdsOf(pid: number | 'self'): string[] {
  return readdirSync(`/proc/${pid}/fd`).sort((a, b) => Number(a) - Number(b));
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('runs the program with its own argv[0], in a session of its own, handed to init or a subreaper', () => {
  const pid = sleeper([-1, -1, -1], 'not-sleep');
  // the vfork-style clone resumes once execve has replaced the memory, before the kernel has
  // laid out the new argv: cmdline reads empty for that moment
  for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/cmdline`, 'utf8') === ''; i++) sleepMs(5);
  assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'not-sleep\x0030\x00');
  const [, ppid, pgrp, sid] = stat(pid);
  assert.equal(Number(sid), pid, 'setsid: its session is its own');
  assert.equal(Number(pgrp), pid);
  assert.notEqual(Number(ppid), process.pid);
  assert.ok(Number(ppid) === 1 || ancestors().includes(Number(ppid)), `parent ${ppid} is neither init nor one of our ancestors`);
  // the intermediate clone has been reaped, and the program is not ours
  assert.deepEqual(children(), []);
});

test('child fd i is fds[i]: stdin, stdout, stderr and fd 3 each reach their own pipe', () => {
  const [inR, inW] = track(pipe());
  const [outR, outW] = track(pipe(true));
  const [errR, errW] = track(pipe(true));
  const [x3R, x3W] = track(pipe(true));
  spawnDetached('/bin/sh', ['sh', '-c', 'echo out; echo err >&2; cat >&3'], [inR, outW, errW, x3W]);
  for (const fd of [inR, outW, errW, x3W]) close(fd);
  writeSync(inW, 'input\n');
  close(inW);
  assert.equal(readAll(outR), 'out\n');
  assert.equal(readAll(errR), 'err\n');
  assert.equal(readAll(x3R), 'input\n');
});

test('-1 gives /dev/null: reads see EOF at once, writes vanish', () => {
  const [errR, errW] = track(pipe(true));
  spawnDetached('/bin/sh', ['sh', '-c', 'cat; echo "cat:$?" >&2; echo lost'], [-1, -1, errW]);
  close(errW);
  assert.equal(readAll(errR), 'cat:0\n');

  const pid = sleeper([-1, -1, -1]);
  for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${pid}/fd/${fd}`), '/dev/null');
});

test('sources that are also targets are not clobbered: two fds swapped reach the right pipes', () => {
  const [r1, w1] = track(pipe(true));
  const [r2, w2] = track(pipe(true));
  // placed one by one with plain dup2, slot w1 would overwrite the source of slot w2
  const fds = new Array<number>(Math.max(w1, w2) + 1).fill(-1);
  fds[w1] = w2;
  fds[w2] = w1;
  spawnDetached('/bin/bash', ['bash', '-c', 'echo "to $1" >&$1; echo "to $2" >&$2', 'bash', String(w1), String(w2)], fds);
  close(w1);
  close(w2);
  assert.equal(readAll(r1), `to ${w2}\n`);
  assert.equal(readAll(r2), `to ${w1}\n`);
});

test('the program has only the fds it was given: none of ours, with or without close-on-exec', () => {
  const [, w] = track(pipe());
  const [a, b] = track(socketpair());
  // the runner may have passed fds without close-on-exec down to us: they must not pass on
  const pid = sleeper([-1, w, -1, a]);
  const want = ['0', '1', '2', '3'];
  // the dynamic loader holds a library open for a moment after exec
  for (let i = 0; i < 200 && fdsOf(pid).join() !== want.join(); i++) sleepMs(10);
  assert.deepEqual(fdsOf(pid), want);
  assert.equal(readlinkSync(`/proc/${pid}/fd/1`), readlinkSync(`/proc/self/fd/${w}`));
  assert.equal(readlinkSync(`/proc/${pid}/fd/3`), readlinkSync(`/proc/self/fd/${a}`));
  assert.notEqual(readlinkSync(`/proc/self/fd/${a}`), readlinkSync(`/proc/self/fd/${b}`));
  assert.ok(!want.some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === readlinkSync(`/proc/self/fd/${b}`)));
});

test('an fd we hold without close-on-exec does not pass on either', () => {
  // Node opens none such, so a shell makes fd 7 so and execs into a Node that spawns
  const script = [
    `import { existsSync } from 'node:fs';`,
    `import { spawnDetached } from ${JSON.stringify(new URL('../../src/sys/index.ts', import.meta.url).href)};`,
    `const pid = spawnDetached('/bin/sleep', ['sleep', '30'], [-1, -1, -1]);`,
    `console.log(existsSync('/proc/self/fd/7'), pid);`,
  ].join('\n');
  const r = spawnSync('/bin/sh', ['-c', 'exec 7</dev/null; exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [held, pidText] = r.stdout.trim().split(' ');
  const pid = Number(pidText);
  sleepers.push(pid);
  assert.equal(held, 'true', 'precondition: the spawning Node held fd 7');
  for (let i = 0; i < 200 && fdsOf(pid).join() !== '0,1,2'; i++) sleepMs(10);
  assert.deepEqual(fdsOf(pid), ['0', '1', '2']);
});

test('signals start at their default and unblocked, though Node ignores SIGPIPE', () => {
  const ours = status('self');
  assert.notEqual(BigInt(`0x${ours.SigIgn}`), 0n, 'precondition: this process ignores some signal');
  const pid = sleeper([-1, -1, -1]);
  const theirs = status(pid);
  assert.equal(theirs.SigIgn, '0000000000000000');
  assert.equal(theirs.SigBlk, '0000000000000000');
  // the clones ran with every signal blocked in our thread; the mask must be back as it was
  assert.equal(status('self').SigBlk, initialMask);
});

test('the program gets our environment as it is now', () => {
  const value = `x-${process.pid}-${Date.now()}`;
  process.env.HULL_TEST_X = value;
  try {
    const [r, w] = track(pipe(true));
    spawnDetached('/bin/sh', ['sh', '-c', 'printf %s "$HULL_TEST_X"'], [-1, w, -1]);
    close(w);
    assert.equal(readAll(r), value);
  } finally {
    delete process.env.HULL_TEST_X;
  }
});

test('at most 64 fds: all 64 are placed', () => {
  const pid = sleeper(new Array<number>(64).fill(-1));
  const fds = fdsOf(pid).map(Number);
  for (let fd = 0; fd < 64; fd++) assert.ok(fds.includes(fd), `fd ${fd} missing`);
});

test('a program that cannot be run throws as node:fs does, and leaves nothing behind', () => {
  const before = fdsOf('self');
  const missing = join(tmp, 'no-such-program');
  assert.throws(() => spawnDetached(missing, ['x'], [-1, -1, -1]), (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.errno, -2);
    assert.equal(e.syscall, 'execve');
    assert.equal(e.path, missing);
    assert.match(e.message, new RegExp(`^ENOENT: .*'${missing}'`));
    return true;
  });

  const notExecutable = join(tmp, 'script');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
  chmodSync(notExecutable, 0o644);
  assert.throws(() => spawnDetached(notExecutable, ['script'], []), { code: 'EACCES', path: notExecutable });
  assert.throws(() => spawnDetached(tmp, ['dir'], []), { code: 'EACCES' });

  // a source fd that is not open fails before exec
  const closed = openSync('/dev/null', 'r');
  closeSync(closed);
  assert.throws(() => spawnDetached('/bin/true', ['true'], [closed]), { code: 'EBADF', syscall: 'fcntl' });

  assert.throws(() => spawnDetached('/bin/true', [], []), RangeError);
  assert.throws(() => spawnDetached('/bin/true', ['true'], new Array<number>(65).fill(-1)), RangeError);

  assert.deepEqual(children(), []);
  assert.deepEqual(fdsOf('self'), before, 'an fd of ours leaked');
});

test('pipe(true): the read end alone does not block; both ends close-on-exec', () => {
  const [r, w] = track(pipe(true));
  assert.ok(flags(r) & O_NONBLOCK);
  assert.ok(!(flags(w) & O_NONBLOCK));
  assert.ok(flags(r) & O_CLOEXEC && flags(w) & O_CLOEXEC);
  const buf = Buffer.alloc(16);
  assert.throws(() => readSync(r, buf, 0, buf.length, null), { code: 'EAGAIN' });
  writeSync(w, 'x');
  assert.equal(readSync(r, buf, 0, buf.length, null), 1);
  assert.equal(buf.toString('utf8', 0, 1), 'x');
  close(w);
  assert.equal(readSync(r, buf, 0, buf.length, null), 0);
});

test('pipe(false): both ends plain, close-on-exec', () => {
  const [r, w] = track(pipe(false));
  assert.ok(!(flags(r) & O_NONBLOCK) && !(flags(w) & O_NONBLOCK));
  assert.ok(flags(r) & O_CLOEXEC && flags(w) & O_CLOEXEC);
  writeSync(w, 'hello');
  close(w);
  assert.equal(readAll(r), 'hello');
});

test('socketpair: connected both ways, close-on-exec, unseen by a child given neither end', () => {
  const [a, b] = track(socketpair());
  assert.ok(flags(a) & O_CLOEXEC && flags(b) & O_CLOEXEC);
  const buf = Buffer.alloc(16);
  writeSync(a, 'ping');
  assert.equal(buf.toString('utf8', 0, readSync(b, buf, 0, buf.length, null)), 'ping');
  writeSync(b, 'pong');
  assert.equal(buf.toString('utf8', 0, readSync(a, buf, 0, buf.length, null)), 'pong');

  const ends = new Set([readlinkSync(`/proc/self/fd/${a}`), readlinkSync(`/proc/self/fd/${b}`)]);
  const pid = sleeper([-1, -1, -1]);
  for (const fd of fdsOf(pid)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // the loader's passing fd
    }
    assert.ok(!ends.has(link), `child fd ${fd} is our socket ${link}`);
  }
});

test('holdAddressSpace: a child that shares our memory, holds nothing else, and leaves once we are gone', async () => {
  const addon = join(import.meta.dirname, '../../dist/hull-sys.node');
  // the process holds its memory, then shows a new title through it, and exits 3 at a line on stdin
  const script = `require(${JSON.stringify(addon)}).holdAddressSpace(); process.title = 'held-by-keeper';
    process.stdout.write(String(process.pid) + '\\n'); process.stdin.once('data', () => process.exit(3));`;
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => holder.once('exit', (code) => resolve(code)));
  const pid = Number(await new Promise<string>((resolve) => holder.stdout.once('data', (d) => resolve(String(d)))));
  const keepers = (): number[] => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => {
    try {
      const [state, ppid] = stat(p);
      return Number(ppid) === pid && state !== 'Z';
    } catch {
      return false;
    }
  });
  const [keeper] = keepers();
  assert.ok(keeper, 'a child is there');
  // the title is written into the memory the child reads its command line from
  assert.equal(readFileSync(`/proc/${keeper}/cmdline`, 'utf8').replace(/\0+$/, ''), 'held-by-keeper');
  assert.deepEqual(fdsOf(keeper).map((fd) => readlinkSync(`/proc/${keeper}/fd/${fd}`)), ['anon_inode:[pidfd]'], 'the pidfd it waits on, and none of ours');
  const blocked = BigInt(`0x${status(keeper).SigBlk}`);
  for (const sig of [1, 2, 3, 10, 12, 13, 14, 15, 17]) assert.ok(blocked & (1n << BigInt(sig - 1)), `signal ${sig} blocked`);
  holder.stdin.end('go\n');
  assert.equal(await exited, 3);
  // gone, or a zombie its new parent has not reaped yet
  for (let i = 0; i < 200 && existsSync(`/proc/${keeper}`) && stat(keeper)[0] !== 'Z'; i++) sleepMs(5);
  assert.ok(!existsSync(`/proc/${keeper}`) || stat(keeper)[0] === 'Z', 'the child left after us');
});
