// process.terminal: the pty master goes to the --console-socket peer (SCM_RIGHTS), the
// container's stdio, controlling terminal and /dev/console are the pty, and consoleSize sizes it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundle, spawn, stateOf, waitFor, type Bundle } from './harness.ts';

const RECEIVER = fileURLToPath(new URL('./helpers/console-receiver.py', import.meta.url));

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

interface Received {
  message: string;
  fds: number;
  master?: boolean;
  ptn?: number;
  winsize?: [number, number];
  data?: string;
}

/** Starts the console-socket peer; resolves once it listens. result settles when the pty closes. */
async function receiver(path: string, input?: string): Promise<{ result: Promise<Received> }> {
  const child = spawn('/usr/bin/python3', [RECEIVER, path, ...(input !== undefined ? [input] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<Received>((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`console receiver exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as Received);
    });
  });
  result.catch(() => {}); // reported where awaited
  await Promise.race([
    waitFor(() => existsSync(path), 'the console socket to listen'),
    result.then(() => assert.fail(`console receiver ended early: ${err}`)),
  ]);
  return { result };
}

/** A bundle whose process has a terminal. */
function ttyBundle(args: string[]): Bundle {
  const x = bundle(args);
  x.spec.process!.terminal = true;
  x.save();
  return x;
}

test('create sends the pty master over the console socket; the output of the container shows on it', async () => {
  b = ttyBundle(['sh', '-c', 'echo hello from the container']);
  const sock = join(b.dir, 'console.sock');
  const peer = await receiver(sock);
  b.ok(['create', '--console-socket', sock, b.id]);
  assert.equal(stateOf(b).status, 'created');
  b.ok(['start', b.id]);
  const got = await peer.result;
  assert.equal(got.fds, 1, 'exactly one fd comes with the message');
  assert.equal(got.master, true, 'the fd is a pty master');
  assert.equal(got.data, 'hello from the container\r\n');
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  b.ok(['delete', b.id]);
});

test('inside, stdio is the pty: tty names /dev/pts/N, which is the controlling terminal and /dev/console', async () => {
  b = ttyBundle([
    'sh',
    '-c',
    [
      'tty',
      '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys',
      'echo via-dev-tty > /dev/tty && echo has-ctty',
      'if [ "$(stat -L -c %t:%T /dev/console)" = "$(stat -L -c %t:%T "$(tty)")" ]; then echo console-is-pty; fi',
      'ls /dev/pts',
    ].join('; '),
  ]);
  const sock = join(b.dir, 'console.sock');
  const peer = await receiver(sock);
  b.ok(['create', '--console-socket', sock, b.id]);
  b.ok(['start', b.id]);
  const got = await peer.result;
  const lines = got.data!.split('\r\n');
  const tty = lines[0]!;
  assert.match(tty, /^\/dev\/pts\/\d+$/);
  // the pty belongs to the container's own devpts instance: its number is the one sent out
  assert.equal(tty, `/dev/pts/${got.ptn}`);
  assert.deepEqual(lines.slice(1, 5), ['all-ttys', 'via-dev-tty', 'has-ctty', 'console-is-pty']);
  assert.match(lines[5]!, new RegExp(`(^|\\s)${got.ptn}(\\s|$)`));
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  b.ok(['delete', b.id]);
});

test('what the console peer writes reaches the container\'s stdin', async () => {
  b = ttyBundle(['sh', '-c', 'read line; echo "got [$line]"']);
  const sock = join(b.dir, 'console.sock');
  const peer = await receiver(sock, 'typed text\n');
  b.ok(['create', '--console-socket', sock, b.id]);
  b.ok(['start', b.id]);
  const got = await peer.result;
  // the pty echoes the input, then the program answers
  assert.match(got.data!, /got \[typed text\]\r\n$/);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  b.ok(['delete', b.id]);
});

test('consoleSize sets the window size of the pty', async () => {
  b = ttyBundle(['stty', 'size']);
  b.spec.process!.consoleSize = { height: 37, width: 123 };
  b.save();
  const sock = join(b.dir, 'console.sock');
  const peer = await receiver(sock);
  b.ok(['create', '--console-socket', sock, b.id]);
  b.ok(['start', b.id]);
  const got = await peer.result;
  assert.deepEqual(got.winsize, [37, 123]);
  assert.equal(got.data, '37 123\r\n');
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  b.ok(['delete', b.id]);
});

test('run --console-socket in the foreground returns the exit code of the terminal process', async () => {
  b = ttyBundle(['sh', '-c', 'echo bye; exit 5']);
  const sock = join(b.dir, 'console.sock');
  const peer = await receiver(sock);
  const r = b.rt(['run', '--console-socket', sock, b.id]);
  assert.equal(r.status, 5, r.stderr);
  assert.equal(r.stdout, '', 'output goes to the pty, not the runtime\'s stdout');
  assert.equal((await peer.result).data, 'bye\r\n');
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('exec -t with --console-socket gives the process its own pty', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const sock = join(b.dir, 'exec.sock');
  const peer = await receiver(sock);
  const r = b.rt(['exec', '-t', '--console-socket', sock, b.id, 'sh', '-c', 'tty; echo x > /dev/tty && echo has-ctty; exit 3']);
  assert.equal(r.status, 3, r.stderr);
  const got = await peer.result;
  assert.equal(got.fds, 1);
  assert.equal(got.master, true);
  const lines = got.data!.split('\r\n');
  assert.match(lines[0]!, /^\/dev\/pts\/\d+$/);
  assert.deepEqual(lines.slice(1, 3), ['x', 'has-ctty']);
  b.ok(['delete', '-f', b.id]);
});

test('exec --process with terminal and consoleSize sizes the exec pty', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const sock = join(b.dir, 'exec.sock');
  const peer = await receiver(sock);
  const proc = { terminal: true, consoleSize: { height: 11, width: 77 }, cwd: '/', args: ['stty', 'size'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 } };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(b.dir, 'process.json'), JSON.stringify(proc));
  b.ok(['exec', '--console-socket', sock, '--process', join(b.dir, 'process.json'), b.id]);
  const got = await peer.result;
  assert.deepEqual(got.winsize, [11, 77]);
  assert.equal(got.data, '11 77\r\n');
  b.ok(['delete', '-f', b.id]);
});

test('terminal without --console-socket fails create clearly and leaves nothing', () => {
  b = ttyBundle(['true']);
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /console-socket/);
  assert.match(r.stderr, /terminal/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
  const run = b.rt(['run', b.id]);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /console-socket/);
});

test('exec -t without --console-socket fails clearly', () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const r = b.rt(['exec', '-t', b.id, 'true']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /console-socket/);
  assert.equal(stateOf(b).status, 'running', 'the container is unharmed');
  b.ok(['delete', '-f', b.id]);
});

test('a console socket nobody listens on fails create, naming it, and leaves nothing', () => {
  b = ttyBundle(['true']);
  const sock = join(b.dir, 'nobody.sock');
  const r = b.rt(['create', '--console-socket', sock, b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /nobody\.sock/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('--console-socket without a terminal is refused, as runc refuses it', () => {
  b = bundle(['sleep', '30']);
  const sock = join(b.dir, 'unused.sock');
  const r = b.rt(['create', '--console-socket', sock, b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /console-socket/);
  assert.match(r.stderr, /terminal/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
  b.ok(['run', '-d', b.id]);
  const e = b.rt(['exec', '--console-socket', sock, b.id, 'true']);
  assert.notEqual(e.status, 0);
  assert.match(e.stderr, /console-socket/);
  b.ok(['delete', '-f', b.id]);
});
