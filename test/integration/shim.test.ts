// hull-shim end to end: the runtime creates and starts real busybox containers under the shim,
// exactly as the engine does (CreateOptions.wrap = shimWrap(...), then shimStarted), and the
// tests read what the shim leaves: attach frames, the json-file log, the exit record, and the
// exit command's runs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { AttachClient, consoleSocketPath, readExit, shimBinary as shimBinaryPath, shimStarted, shimWrap, type ShimOptions } from '../../src/engine/containers/shim.ts';
import { create, start } from '../../src/runtime/container.ts';
import type { Spec } from '../../src/runtime/spec/types.ts';
import { StateStore } from '../../src/runtime/state.ts';
import { REPO, RUNTIME, bundle, waitFor, type Bundle } from './harness.ts';

const SHIM_TS = join(REPO, 'src/engine/containers/shim.ts');
const NODE = process.execPath;

interface Container {
  b: Bundle;
  dir: string;
  store: StateStore;
  shimPid: number;
  /** The container init's host pid. */
  pid: number;
  log: string;
  marker: string;
}

interface Options {
  terminal?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  log?: { maxSize: number; maxFiles: number };
  mutate?: (s: Spec) => void;
  /** Skip shimStarted: the engine "dies" before it tells the shim the pid. */
  noPid?: boolean;
  /** What the log file holds before the shim opens it. */
  logBefore?: string;
  /** A run dir whose socket paths are too long for a socket address. */
  longDir?: boolean;
  timer?: ShimOptions['timer'];
}

let current: Container | undefined;
afterEach(async () => {
  const c = current;
  current = undefined;
  if (!c) return;
  try {
    if (!shimGone(c)) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await waitFor(() => shimGone(c), 'the shim to exit');
    }
    assert.ok(!existsSync(join(c.dir, 'attach.sock')), 'attach.sock is left behind');
    assert.ok(!existsSync(join(c.dir, 'console.sock')), 'console.sock is left behind');
  } finally {
    c.b.cleanup(); // deletes what is left, and asserts no mount, cgroup, process or state leaked
  }
});

/** A test that waits on a shim gets a limit, so that a broken shim fails the test instead of hanging it. */
const LIMIT = { timeout: 60_000 };

function processGone(pid: number): boolean {
  try {
    // a zombie is gone as far as we care: it is not running, and someone will reap it
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function shimGone(c: Container): boolean {
  return processGone(c.shimPid);
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** The exit command the engine would pass: note the run, then reconcile as `hull container cleanup` does. */
function exitCommand(b: Bundle, marker: string): string[] {
  return ['/bin/sh', '-c', `echo ran >> '${marker}'; exec '${RUNTIME}' --root '${b.root}' delete --force '${b.id}'`];
}

function prepare(args: string[], o: Options): { b: Bundle; dir: string; log: string; marker: string } {
  const b = bundle(args, o.mutate);
  if (o.terminal) {
    b.spec.process!.terminal = true;
    b.save();
  }
  const dir = join(b.dir, o.longDir ? 'run-'.padEnd(120, 'x') : 'run');
  mkdirSync(dir, { mode: 0o700 });
  return { b, dir, log: join(dir, 'container.log'), marker: join(b.dir, 'exit-command-ran') };
}

/** Creates the container under a shim, as the engine does; start it with start(c.store, c.b.id). */
async function launch(args: string[], o: Options = {}): Promise<Container> {
  const { b, dir, log, marker } = prepare(args, o);
  if (o.logBefore !== undefined) writeFileSync(log, o.logBefore);
  const store = new StateStore(b.root);
  const wrap = shimWrap({
    id: b.id,
    dir,
    terminal: !!o.terminal,
    openStdin: !!o.openStdin,
    stdinOnce: !!o.stdinOnce,
    log: { path: log, maxSize: o.log?.maxSize ?? 0, maxFiles: o.log?.maxFiles ?? 1 },
    exitCommand: exitCommand(b, marker),
    ...(o.timer ? { timer: o.timer } : {}),
  });
  const { saved, launched } = await create(store, {
    id: b.id,
    bundle: b.dir,
    ...(o.terminal ? { consoleSocket: consoleSocketPath(dir) } : {}),
    wrap,
  });
  launched.unref();
  const c: Container = { b, dir, store, shimPid: launched.childPid, pid: saved.pid, log, marker };
  current = c;
  if (o.noPid) closeSync(launched.control!);
  else shimStarted(launched, saved.pid);
  return c;
}

/** Collects a client's output per stream. */
function collect(client: AttachClient): { out: () => string; err: () => string } {
  const chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  client.onOutput((stream, data) => chunks[stream].push(Buffer.from(data)));
  return { out: () => Buffer.concat(chunks[1]).toString('latin1'), err: () => Buffer.concat(chunks[2]).toString('latin1') };
}

interface Entry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

/** Parses a json-file log, checking each line's exact layout (field order, no spaces). */
function readLog(path: string): { lines: string[]; entries: Entry[] } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${path} ends in the middle of an entry`);
  const lines = text.split('\n').slice(0, -1);
  const entries = lines.map((line) => {
    assert.match(line, /^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$/, `log line layout: ${line}`);
    const e = JSON.parse(line) as Entry;
    assert.match(e.time, TIME);
    return e;
  });
  return { lines, entries };
}

async function waitShim(c: Container): Promise<void> {
  await waitFor(() => shimGone(c), 'the shim to exit', 20_000);
}

function exitRuns(c: Container): number {
  return existsSync(c.marker) ? readFileSync(c.marker, 'utf8').split('\n').filter(Boolean).length : 0;
}

test('output: frames per stream, and a json-file log byte for byte as docker writes it', LIMIT, async () => {
  const script = [
    'echo out1',
    'echo err1 >&2',
    String.raw`printf '<&>"\\ \t\001\377 caf\303\251 \342\200\250\r\n'`,
    // a line longer than 16 KiB is logged in two pieces, the first without its newline
    String.raw`head -c 20000 /dev/zero | tr '\0' a >&2; echo >&2`,
    'printf partial',
    'exit 3',
  ].join('; ');
  // a restarted container's log is appended to: the same file, kept from before
  const c = await launch(['sh', '-c', script], { logBefore: '{"log":"earlier run\\n","stream":"stdout","time":"2020-01-01T00:00:00Z"}\n' });
  assert.equal(parentOf(c.pid), c.shimPid, 'the shim is the container init\'s parent');
  const client = await AttachClient.connect(c.dir);
  const got = collect(client);
  await start(c.store, c.b.id);
  assert.equal(await client.exited, 3);
  const weird = '<&>"\\ \t\x01\xff caf\xc3\xa9 \xe2\x80\xa8\r\n';
  assert.equal(got.out(), 'out1\n' + weird + 'partial');
  assert.equal(got.err(), 'err1\n' + 'a'.repeat(20000) + '\n');

  await waitShim(c);
  const { lines, entries } = readLog(c.log);
  assert.equal(lines[0], '{"log":"earlier run\\n","stream":"stdout","time":"2020-01-01T00:00:00Z"}');
  const stdout = lines.slice(1).filter((l) => l.includes('"stream":"stdout"')).map((l) => l.replace(/"time":"[^"]+"/, '"time":T'));
  assert.deepEqual(stdout, [
    '{"log":"out1\\n","stream":"stdout","time":T}',
    // Go's escaping as docker's json-file writer does it: HTML-safe, \u00XX for control
    // characters but \n and \r, \ufffd for a byte that is not UTF-8, \u2028 escaped
    String.raw`{"log":"\u003c\u0026\u003e\"\\ \u0009\u0001\ufffd café \u2028\r\n","stream":"stdout","time":T}`,
    // at EOF, the rest is logged as it is
    '{"log":"partial","stream":"stdout","time":T}',
  ]);
  const stderr = entries.filter((e) => e.stream === 'stderr').map((e) => e.log);
  assert.deepEqual(stderr, ['err1\n', 'a'.repeat(16384), 'a'.repeat(20000 - 16384) + '\n']);

  const exit = readExit(c.dir)!;
  assert.equal(exit.exitCode, 3);
  assert.match(exit.exitedAt, TIME);
  assert.equal(exitRuns(c), 1, 'the exit command runs exactly once');
  assert.deepEqual(readdirSync(c.dir).sort(), ['cleanup.log', 'container.log', 'exit']);
});

test('kill -9 of the container init: exit code 137', LIMIT, async () => {
  const c = await launch(['sleep', '1000']);
  await start(c.store, c.b.id);
  const client = await AttachClient.connect(c.dir);
  process.kill(c.pid, 'SIGKILL');
  assert.equal(await client.exited, 137);
  await waitShim(c);
  assert.equal(readExit(c.dir)!.exitCode, 137);
  assert.equal(exitRuns(c), 1);
  await assert.rejects(AttachClient.connect(c.dir), /^Error: container run is not running$/);
});

test('a process left holding the container\'s stdout does not hold back the exit', LIMIT, async () => {
  const c = await launch(['sh', '-c', '(sleep 1000 &); echo bye'], { mutate: noPidNamespace });
  const client = await AttachClient.connect(c.dir);
  const got = collect(client);
  await start(c.store, c.b.id);
  // the init has exited; its output is drained for a moment, then the exit is reported anyway
  assert.equal(await client.exited, 0);
  assert.equal(got.out(), 'bye\n');
  await waitShim(c);
  assert.equal(readExit(c.dir)!.exitCode, 0);
  assert.equal(exitRuns(c), 1);
});

function noPidNamespace(s: Spec): void {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
}

test('stdin through attach, --stdin-once: the end of the first stdin client closes the container\'s stdin', LIMIT, async () => {
  const c = await launch(['sh', '-c', 'while read l; do echo "got $l"; done; echo eof'], { openStdin: true, stdinOnce: true });
  const watcher = await AttachClient.connect(c.dir);
  const got = collect(watcher);
  const writer = await AttachClient.connect(c.dir, { stdin: true });
  await start(c.store, c.b.id);
  writer.writeStdin(Buffer.from('a\n'));
  await waitFor(() => got.out() === 'got a\n', 'the container to read stdin');
  writer.close(); // without closeStdin: leaving is enough
  assert.equal(await watcher.exited, 0);
  assert.equal(got.out(), 'got a\neof\n');
  await waitShim(c);
});

test('stdin through attach without --stdin-once: stdin stays open for the next client; close-stdin ends it', LIMIT, async () => {
  const c = await launch(['sh', '-c', 'while read l; do echo "got $l"; done; echo eof'], { openStdin: true });
  const watcher = await AttachClient.connect(c.dir);
  const got = collect(watcher);
  await start(c.store, c.b.id);
  const first = await AttachClient.connect(c.dir, { stdin: true });
  first.writeStdin(Buffer.from('a\n'));
  await waitFor(() => got.out() === 'got a\n', 'the first line');
  first.close();
  const second = await AttachClient.connect(c.dir, { stdin: true });
  // pipeStdin: the stream's end closes the container's stdin
  second.pipeStdin(Readable.from([Buffer.from('b\n'), Buffer.from('c\n')]));
  assert.equal(await watcher.exited, 0);
  assert.equal(got.out(), 'got a\ngot b\ngot c\neof\n');
  assert.equal(await second.exited, 0);
  await waitShim(c);
});

test('a terminal: the pty is the container\'s stdio, resize changes its size, all output is stdout', LIMIT, async () => {
  // a run dir too long for a socket address: both sockets are still reached
  const c = await launch(['sh', '-c', 'tty; read line; stty size; echo "line=$line"'], { terminal: true, openStdin: true, longDir: true });
  assert.ok(join(c.dir, 'console.sock').length > 108);
  const client = await AttachClient.connect(c.dir, { stdin: true });
  const got = collect(client);
  await start(c.store, c.b.id);
  await waitFor(() => got.out().includes('\r\n'), 'the tty name');
  assert.equal(got.out(), '/dev/pts/0\r\n');
  client.resize(33, 111);
  client.writeStdin(Buffer.from('go\n'));
  assert.equal(await client.exited, 0);
  // the pty echoes what was typed
  assert.equal(got.out(), '/dev/pts/0\r\ngo\r\n33 111\r\nline=go\r\n');
  assert.equal(got.err(), '');
  await waitShim(c);
  const { entries } = readLog(c.log);
  assert.ok(entries.every((e) => e.stream === 'stdout'));
  assert.equal(entries.map((e) => e.log).join(''), got.out());
});

const LINES = 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done';

function checkRotated(files: string[], maxSize: number): string[] {
  const logs: string[] = [];
  for (const f of files) {
    assert.ok(statSync(f).size <= maxSize, `${f} is ${statSync(f).size} bytes, over ${maxSize}`);
    logs.push(...readLog(f).entries.map((e) => e.log));
  }
  return logs;
}

test('log rotation: max-size and max-file keep file, file.1, file.2 (oldest dropped)', LIMIT, async () => {
  const c = await launch(['sh', '-c', LINES], { log: { maxSize: 2000, maxFiles: 3 } });
  await start(c.store, c.b.id);
  await waitShim(c);
  assert.equal(readExit(c.dir)!.exitCode, 0);
  const names = readdirSync(c.dir).filter((n) => n.startsWith('container.log')).sort();
  assert.deepEqual(names, ['container.log', 'container.log.1', 'container.log.2']);
  const logs = checkRotated([`${c.log}.2`, `${c.log}.1`, c.log], 2000);
  // what is kept is the newest output, in order, without a gap
  const first = Number(/^line-(\d+)\n$/.exec(logs[0]!)![1]);
  assert.ok(first > 0, 'the oldest file was dropped');
  assert.deepEqual(logs, Array.from({ length: 300 - first }, (_, i) => `line-${first + i}\n`));
});

test('log rotation with max-file 1: the one file is truncated', LIMIT, async () => {
  const c = await launch(['sh', '-c', LINES], { log: { maxSize: 2000, maxFiles: 1 } });
  await start(c.store, c.b.id);
  await waitShim(c);
  assert.deepEqual(readdirSync(c.dir).filter((n) => n.startsWith('container.log')), ['container.log']);
  const logs = checkRotated([c.log], 2000);
  assert.equal(logs.at(-1), 'line-299\n');
  assert.ok(logs.length < 300);
});

test('a slow attach client holds output back instead of losing it; one that vanishes is dropped', LIMIT, async () => {
  const c = await launch(['seq', '1', '200000']);
  const reader = await AttachClient.connect(c.dir);
  const got = collect(reader);
  // a raw client that reads nothing for a while: the shim keeps at most one frame for it and
  // stops reading the container's output until it takes it, so it loses nothing either
  const slow = await rawClient(c.dir);
  slow.socket.pause();
  const vanishing = await rawClient(c.dir);
  await start(c.store, c.b.id);
  await waitFor(() => got.out().length > 0, 'the first output');
  // held back: the shim no longer reads, so the container blocks writing to its stdout pipe
  let seen = 0;
  await waitFor(() => (seen = /pipe_write/.test(readFileSync(`/proc/${c.pid}/wchan`, 'utf8')) ? seen + 1 : 0) >= 5, 'the container to be held back');
  vanishing.socket.destroy();
  slow.socket.resume();
  assert.equal(await reader.exited, 0);
  const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
  assert.equal(got.out(), expected, 'the reading client saw all output, in order');
  await slow.ended;
  assert.equal(slow.frames.filter((f) => f.stream === 1).map((f) => f.data).join(''), expected, 'the slow client saw all output too');
  assert.deepEqual(slow.frames.at(-1), { stream: 3, data: '0' });
  await waitShim(c);
  assert.equal(readLog(c.log).entries.map((e) => e.log).join(''), expected);
});

/** A client that speaks the frame protocol by hand. */
async function rawClient(dir: string): Promise<{ socket: Socket; frames: { stream: number; data: string }[]; ended: Promise<void> }> {
  const socket = createConnection(join(dir, 'attach.sock'));
  await new Promise((r) => socket.once('connect', r));
  const frames: { stream: number; data: string }[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4)) {
      const len = buf.readUInt32BE(4);
      frames.push({ stream: buf[0]!, data: buf.subarray(8, 8 + len).toString('latin1') });
      buf = buf.subarray(8 + len);
    }
  });
  socket.on('error', () => {});
  const ended = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, frames, ended };
}

test('cleanup claim: a client that says it cleaned up stops the exit command', LIMIT, async () => {
  const c = await launch(['sh', '-c', 'exit 4']);
  const client = await AttachClient.connect(c.dir, { claimCleanup: true });
  await start(c.store, c.b.id);
  assert.equal(await client.exited, 4);
  client.cleanupDone();
  await waitShim(c);
  assert.equal(exitRuns(c), 0, 'the exit command must not run after "cleanup done"');
  assert.equal(readExit(c.dir)!.exitCode, 4);
});

test('cleanup claim: a claiming client killed before it is done leaves the cleanup to the exit command', LIMIT, async () => {
  const c = await launch(['sleep', '1000']);
  const code = [
    `import { AttachClient } from ${JSON.stringify(pathToFileURL(SHIM_TS).href)};`,
    'const c = await AttachClient.connect(process.env.DIR, { claimCleanup: true });',
    'console.log("attached");',
    'c.exited.then((code) => console.log("exit " + code));',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const client = spawn(NODE, ['--input-type=module', '-e', code], { env: { ...process.env, DIR: c.dir }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const clientExit = new Promise((r) => client.once('exit', r));
  try {
    await waitFor(() => out.includes('attached'), 'the client to attach');
    await start(c.store, c.b.id);
    process.kill(c.pid, 'SIGKILL');
    await waitFor(() => out.includes('exit 137'), 'the client to get the exit frame');
    assert.ok(!shimGone(c), 'the shim waits for the claiming client');
    assert.equal(exitRuns(c), 0);
  } finally {
    client.kill('SIGKILL');
    await clientExit;
  }
  await waitShim(c);
  assert.equal(exitRuns(c), 1);
});

test('the engine dies before sending the pid: the shim runs the exit command, which reconciles', LIMIT, async () => {
  const c = await launch(['sleep', '1000'], { noPid: true });
  await waitShim(c);
  assert.equal(exitRuns(c), 1);
  assert.equal(readExit(c.dir), undefined, 'no exit record without a pid');
  // the exit command deleted the container, whose init was still waiting for start
  assert.ok(processGone(c.pid));
});

test('the shim outlives the engine process that spawned it, as the container\'s parent', LIMIT, async () => {
  const { b, dir, log, marker } = prepare(['sh', '-c', 'echo survived'], {});
  // the "engine": another process that creates the container under a shim, tells it the pid, and exits
  const code = [
    `import { create } from ${JSON.stringify(pathToFileURL(join(REPO, 'src/runtime/container.ts')).href)};`,
    `import { StateStore } from ${JSON.stringify(pathToFileURL(join(REPO, 'src/runtime/state.ts')).href)};`,
    `import { shimStarted, shimWrap } from ${JSON.stringify(pathToFileURL(SHIM_TS).href)};`,
    'const o = JSON.parse(process.env.OPTS);',
    'const { saved, launched } = await create(new StateStore(o.root), { id: o.id, bundle: o.bundle, wrap: shimWrap(o.shim) });',
    'launched.unref();',
    'shimStarted(launched, saved.pid);',
    'console.log(JSON.stringify({ shim: launched.childPid, pid: saved.pid }));',
  ].join('\n');
  const opts = {
    root: b.root,
    id: b.id,
    bundle: b.dir,
    shim: { id: b.id, dir, terminal: false, openStdin: false, stdinOnce: false, log: { path: log, maxSize: 0, maxFiles: 1 }, exitCommand: exitCommand(b, marker) },
  };
  const engine = spawn(NODE, ['--input-type=module', '-e', code], { env: { ...process.env, OPTS: JSON.stringify(opts) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  engine.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  engine.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise((r) => engine.once('exit', r));
  assert.equal(status, 0, `the engine process failed: ${err}`);
  const { shim, pid } = JSON.parse(out) as { shim: number; pid: number };
  const c: Container = { b, dir, store: new StateStore(b.root), shimPid: shim, pid, log, marker };
  current = c;
  assert.ok(!processGone(shim), 'the shim is alive after the engine exited');
  assert.equal(parentOf(pid), shim, 'the container init is the shim\'s child');
  const client = await AttachClient.connect(dir);
  const got = collect(client);
  await start(c.store, b.id);
  assert.equal(await client.exited, 0);
  assert.equal(got.out(), 'survived\n');
  await waitShim(c);
  assert.equal(exitRuns(c), 1);
  assert.deepEqual(readLog(log).entries.map((e) => e.log), ['survived\n']);
});

test('SIGTERM, SIGINT and SIGHUP to the shim are ignored', LIMIT, async () => {
  const c = await launch(['sleep', '1000']);
  await start(c.store, c.b.id);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(c.shimPid, sig);
  // had any of them killed the shim, it would be gone before it could serve this client
  const client = await AttachClient.connect(c.dir);
  assert.ok(!shimGone(c));
  process.kill(c.pid, 'SIGKILL');
  assert.equal(await client.exited, 137);
  await waitShim(c);
  assert.equal(exitRuns(c), 1, 'the shim ended as it should, running its exit command');
});

test('the shim is the subreaper: orphans of a container without its own pid namespace are reaped', LIMIT, async () => {
  const c = await launch(['sh', '-c', '(sleep 1001 &); exec sleep 1000'], {
    mutate: noPidNamespace,
  });
  await start(c.store, c.b.id);
  let orphan = 0;
  await waitFor(() => {
    orphan = childrenOf(c.shimPid).find((p) => cmdline(p) === 'sleep 1001') ?? 0;
    return orphan > 0;
  }, 'the orphan to be re-parented to the shim');
  process.kill(orphan, 'SIGKILL');
  await waitFor(() => !existsSync(`/proc/${orphan}`), 'the shim to reap the orphan');
  assert.ok(!shimGone(c));
  process.kill(c.pid, 'SIGKILL');
  await waitShim(c);
  assert.equal(readExit(c.dir)!.exitCode, 137);
});

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

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

test('an idle shim is small: RSS and PSS from smaps_rollup', LIMIT, async (t) => {
  const c = await launch(['sleep', '1000'], { openStdin: true });
  await start(c.store, c.b.id);
  const client = await AttachClient.connect(c.dir);
  client.close();
  await waitFor(() => readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim() === 'sleep', 'the container to run');
  const rollup = readFileSync(`/proc/${c.shimPid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup)![1]);
  t.diagnostic(`idle hull-shim: Rss ${kb('Rss')} kB, Pss ${kb('Pss')} kB (anon ${kb('Pss_Anon')} kB, file ${kb('Pss_File')} kB)`);
  assert.ok(kb('Rss') < 1024, `an idle shim uses ${kb('Rss')} kB RSS, over 1 MiB`);
});

/** A timer command: a shell script on the host, run with the test's files in $T. */
function timerScript(dir: string, script: string): string[] {
  return ['/bin/sh', '-c', `T='${dir}'; ${script}`];
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

test('timer: runs its command while the container runs, one at a time, as often as each run asks', LIMIT, async () => {
  const t = mkdtempSync('/var/tmp/hull-timer-');
  // each run notes an overlap if another is under way, stays a moment, and asks for the next in 5 ms;
  // --every alone (an hour) would allow one run in this test
  const script = [
    '[ -e "$T/busy" ] && echo overlap >> "$T/runs"',
    'touch "$T/busy"; echo run >> "$T/runs"',
    'sleep 0.05; rm -f "$T/busy"; echo 5',
  ].join('; ');
  const c = await launch(['sleep', '1000'], { timer: { firstMs: 1, everyMs: 3_600_000, command: timerScript(t, script) } });
  await start(c.store, c.b.id);
  await waitFor(() => lines(join(t, 'runs')).length >= 6, 'six timer runs', 30_000);
  assert.ok(!lines(join(t, 'runs')).includes('overlap'), 'two runs at once');
  process.kill(c.pid, 'SIGKILL');
  await waitShim(c);
  assert.equal(exitRuns(c), 1);
  rmSync(t, { recursive: true, force: true });
});

test('timer: the container\'s exit kills a run under way, with what it started', LIMIT, async () => {
  const t = mkdtempSync('/var/tmp/hull-timer-');
  const script = 'echo "to timer.log" >&2; echo $$ >> "$T/pids"; sleep 1001 & echo $! >> "$T/pids"; wait';
  const c = await launch(['sleep', '1000'], { timer: { firstMs: 1, everyMs: 1, command: timerScript(t, script) } });
  await start(c.store, c.b.id);
  await waitFor(() => lines(join(t, 'pids')).length === 2, 'the run and its child to start');
  const pids = lines(join(t, 'pids')).map(Number);
  for (const pid of pids) assert.ok(!processGone(pid), `timer process ${pid} runs`);
  // a run's stderr is kept in timer.log (the last run's); its stdout is the shim's
  assert.equal(readFileSync(join(c.dir, 'timer.log'), 'utf8'), 'to timer.log\n');
  process.kill(c.pid, 'SIGKILL');
  await waitShim(c);
  for (const pid of pids) assert.ok(processGone(pid), `timer process ${pid} outlived the container`);
  assert.equal(lines(join(t, 'pids')).length, 2, 'no run after the first (it never ended)');
  assert.equal(readExit(c.dir)!.exitCode, 137);
  assert.equal(exitRuns(c), 1);
  rmSync(t, { recursive: true, force: true });
});

test('timer: nothing runs before the engine tells the pid', LIMIT, async () => {
  const t = mkdtempSync('/var/tmp/hull-timer-');
  const c = await launch(['sleep', '1000'], { noPid: true, timer: { firstMs: 1, everyMs: 1, command: timerScript(t, 'echo run >> "$T/runs"') } });
  await waitShim(c);
  assert.equal(exitRuns(c), 1);
  assert.deepEqual(lines(join(t, 'runs')), []);
  rmSync(t, { recursive: true, force: true });
});

test('a shim whose timer runs is still small', LIMIT, async (t) => {
  const dir = mkdtempSync('/var/tmp/hull-timer-');
  const c = await launch(['sleep', '1000'], { timer: { firstMs: 1, everyMs: 1, command: timerScript(dir, 'echo run >> "$T/runs"') } });
  await start(c.store, c.b.id);
  await waitFor(() => lines(join(dir, 'runs')).length >= 20, 'twenty timer runs', 30_000);
  const rollup = readFileSync(`/proc/${c.shimPid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup)![1]);
  t.diagnostic(`hull-shim running a timer: Rss ${kb('Rss')} kB, Pss ${kb('Pss')} kB`);
  assert.ok(kb('Rss') < 1024, `the shim uses ${kb('Rss')} kB RSS, over 1 MiB`);
  process.kill(c.pid, 'SIGKILL');
  await waitShim(c);
  rmSync(dir, { recursive: true, force: true });
});

test('shimWrap, consoleSocketPath and readExit: the arguments, and hostile input', () => {
  const w = shimWrap({
    id: 'c1',
    dir: '/run/x/c1',
    terminal: true,
    openStdin: true,
    stdinOnce: true,
    log: { path: '/var/log/c1.json', maxSize: 1000, maxFiles: 3 },
    exitCommand: ['/bin/hull', 'container', 'cleanup', 'c1'],
  });
  assert.deepEqual(w.stdio, ['pipe', 'ignore', 'pipe']);
  assert.deepEqual(w.args, [
    '--id', 'c1', '--dir', '/run/x/c1', '--terminal', '--stdin', '--stdin-once',
    '--log', '/var/log/c1.json', '--log-max-size', '1000', '--log-max-file', '3',
    '--', '/bin/hull', 'container', 'cleanup', 'c1',
  ]);
  assert.throws(
    () => shimWrap({ id: 'c', dir: '/d', terminal: false, openStdin: false, stdinOnce: false, log: { path: '/l', maxSize: 0, maxFiles: 0 }, exitCommand: [] }),
    /log max files: 0 is not an integer >= 1/,
  );
  const base = { id: 'c1', dir: '/d', terminal: false, openStdin: false, stdinOnce: false, exitCommand: ['/bin/x'] };
  // the timer's arguments go one flag each, so that one that reads "--" cannot end the flags
  assert.deepEqual(shimWrap({ ...base, timer: { firstMs: 5, everyMs: 30000, command: ['/bin/hull', '--', 'x y'] } }).args, [
    '--id', 'c1', '--dir', '/d', '--every', '30000', '--every-first', '5',
    '--every-arg', '/bin/hull', '--every-arg', '--', '--every-arg', 'x y', '--', '/bin/x',
  ]);
  assert.throws(() => shimWrap({ ...base, timer: { firstMs: 0, everyMs: 1, command: ['/x'] } }), /timer first delay: 0 is not an integer >= 1/);
  assert.throws(() => shimWrap({ ...base, timer: { firstMs: 1, everyMs: 1.5, command: ['/x'] } }), /timer interval: 1.5 is not an integer >= 1/);
  assert.throws(() => shimWrap({ ...base, timer: { firstMs: 1, everyMs: 4e12, command: ['/x'] } }), /more than a hundred years/);
  assert.throws(() => shimWrap({ ...base, timer: { firstMs: 1, everyMs: 1, command: [] } }), /timer: a command is required/);
  assert.throws(() => shimWrap({ ...base, timer: { firstMs: 1, everyMs: 1, command: Array(65).fill('a') } }), /more than 64 arguments/);
  assert.equal(consoleSocketPath('/run/x/c1'), '/run/x/c1/console.sock');
  assert.equal(consoleSocketPath('/run/' + 'x'.repeat(120)), '/proc/self/cwd/console.sock');

  const { b, dir } = prepare(['true'], {});
  try {
    assert.equal(readExit(dir), undefined);
    writeFileSync(join(dir, 'exit'), '{"exitCode":');
    assert.throws(() => readExit(dir), new RegExp(`^Error: ${dir}/exit: not JSON: `));
    writeFileSync(join(dir, 'exit'), '{"exitCode":"1","exitedAt":"x"}');
    assert.throws(() => readExit(dir), /expected \{"exitCode": <integer>, "exitedAt": <string>\}/);
  } finally {
    b.cleanup();
  }
});

test('the shim refuses bad command lines before it starts anything', () => {
  const { b, dir } = prepare(['true'], {});
  try {
    const run = (args: string[]) => spawnSync(shimBinaryPath(), args, { encoding: 'utf8' });
    const r1 = run(['--init', '/x', '--sync-fd', '3', '--dir', 'relative']);
    assert.equal(r1.status, 2);
    assert.match(r1.stderr, /must be absolute paths/);
    const r2 = run(['--init', '/x', '--sync-fd', 'three', '--dir', dir]);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /--sync-fd/);
    const r3 = run(['--init', '/x', '--sync-fd', '3', '--dir', dir, '--bogus']);
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /unknown flag/);
    for (const timer of [['--every', '10'], ['--every-arg', '/bin/true'], ['--every-first', '5', '--every-arg', '/bin/true'], ['--every', '0', '--every-arg', '/bin/true'], ['--every', '-1', '--every-arg', '/bin/true'], ['--every', '10', '--every-arg']]) {
      const r = run(['--init', '/x', '--sync-fd', '3', '--dir', dir, ...timer, '--', '/bin/true']);
      assert.equal(r.status, 2, `${timer.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--every/);
    }
    assert.deepEqual(readdirSync(dir), [], 'nothing is made');
  } finally {
    b.cleanup();
  }
});
