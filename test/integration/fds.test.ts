// Extra fds: --preserve-fds N and systemd socket activation (LISTEN_FDS) hand the caller's
// fds 3.. to the container; every other fd of the runtime stays out of it.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { RUNTIME, bundle, processesUnder, rtWithFds, runCaptured, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
  if (!b) return;
  const dir = b.dir;
  b.cleanup();
  b = undefined;
  assert.deepEqual(processesUnder(dir), [], 'processes leaked');
});

function open(path: string, flags: string): number {
  const fd = openSync(path, flags);
  opened.push(fd);
  return fd;
}

/** Files for the container: a readable one with known content and an empty writable one. */
function files(x: Bundle, prefix = ''): { read: number; write: number; written: string } {
  writeFileSync(join(x.dir, `${prefix}in.txt`), `${prefix}content of the readable fd\n`);
  const written = join(x.dir, `${prefix}out.txt`);
  writeFileSync(written, '');
  return { read: open(join(x.dir, `${prefix}in.txt`), 'r'), write: open(written, 'a'), written };
}

/**
 * Lists the fd numbers the container's shell has, one a line, then "--". ls runs as a child
 * with no redirection, pipe or command substitution open in the shell while it looks.
 */
const LIST_FDS = 'ls -1 /proc/$$/fd; echo --';

/** Splits LIST_FDS output: the sorted fd list as "0 1 2 ...", and the output after it. */
function fdsAndRest(out: string): [string, string] {
  const i = out.indexOf('--\n');
  assert.ok(i >= 0, `no fd list in ${JSON.stringify(out)}`);
  const fds = out.slice(0, i).split('\n').filter(Boolean).map(Number).sort((x, y) => x - y);
  return [fds.join(' '), out.slice(i + 3)];
}

test('--preserve-fds N passes fds 3..3+N-1, readable and writable, and nothing else', () => {
  b = bundle(['sh', '-c', `${LIST_FDS}; cat <&3; echo "to fd 4" >&4`]);
  const f = files(b);
  const r = rtWithFds(b, ['run', '--preserve-fds', '2', b.id], [f.read, f.write]);
  assert.equal(r.status, 0, r.stderr);
  const [fds, rest] = fdsAndRest(r.stdout);
  assert.equal(fds, '0 1 2 3 4', 'exactly stdio and the preserved fds');
  assert.equal(rest, 'content of the readable fd\n');
  assert.equal(readFileSync(f.written, 'utf8'), 'to fd 4\n');
});

test('without --preserve-fds the caller\'s extra fds stay out of the container', () => {
  b = bundle(['sh', '-c', LIST_FDS]);
  const f = files(b);
  const r = rtWithFds(b, ['run', b.id], [f.read, f.write]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fdsAndRest(r.stdout), ['0 1 2', '']);
});

test('--preserve-fds counts exactly: fds past 3+N-1 are not passed', () => {
  b = bundle(['sh', '-c', `${LIST_FDS}; cat <&3`]);
  const f = files(b);
  const r = rtWithFds(b, ['run', '--preserve-fds', '1', b.id], [f.read, f.write]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fdsAndRest(r.stdout), ['0 1 2 3', 'content of the readable fd\n']);
});

test('preserved fds survive the wait between create and start', async () => {
  b = bundle(['sh', '-c', `exec >&4; ${LIST_FDS}; cat <&3`]);
  const f = files(b);
  const r = rtWithFds(b, ['create', '--preserve-fds', '2', b.id], [f.read, f.write]);
  assert.equal(r.status, 0, r.stderr);
  // the caller's copies may go away: the container holds its own
  for (const fd of opened.splice(0)) closeSync(fd);
  b.ok(['start', b.id]);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  assert.deepEqual(fdsAndRest(readFileSync(f.written, 'utf8')), ['0 1 2 3 4', 'content of the readable fd\n']);
  b.ok(['delete', b.id]);
});

test('a detached container has no fd of the runtime (no leaked sync socket, fifo or Node fds)', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const pid = stateOf(b).pid;
  // start returns once the init is released; its fds are the program's only after the exec
  await waitFor(() => readlinkSync(`/proc/${pid}/exe`).endsWith('/busybox'), 'the container to exec');
  const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((x, y) => x - y);
  assert.deepEqual(fds, [0, 1, 2], `fds: ${fds.map((fd) => `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`).join(', ')}`);
  b.ok(['delete', '-f', b.id]);
});

test('before start, every fd of the blocked init but stdio and the preserved ones is close-on-exec', async () => {
  b = bundle(['sh', '-c', 'sleep 30']);
  const f = files(b);
  const r = rtWithFds(b, ['create', '--preserve-fds', '1', b.id], [f.read]);
  assert.equal(r.status, 0, r.stderr);
  const pid = stateOf(b).pid;
  const O_CLOEXEC = 0o2000000;
  const flags = (fd: number) => parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!, 8);
  const fds = readdirSync(`/proc/${pid}/fd`).map(Number);
  for (const fd of fds) {
    if (fd <= 3) assert.equal(flags(fd) & O_CLOEXEC, 0, `fd ${fd} must survive exec`);
    else assert.equal(flags(fd) & O_CLOEXEC, O_CLOEXEC, `fd ${fd} (${readlinkSync(`/proc/${pid}/fd/${fd}`)}) must be close-on-exec`);
  }
  assert.equal(readlinkSync(`/proc/${pid}/fd/3`), join(b.dir, 'in.txt'));
  b.ok(['start', b.id]);
  await waitFor(() => readlinkSync(`/proc/${pid}/exe`).endsWith('/busybox'), 'the container to exec');
  assert.deepEqual(readdirSync(`/proc/${pid}/fd`).map(Number).sort((x, y) => x - y), [0, 1, 2, 3]);
  b.ok(['delete', '-f', b.id]);
});

/** Runs the runtime as systemd would after socket activation: LISTEN_PID is the runtime's pid. */
function activated(x: Bundle, args: string[], fds: number[], listenFds: number): SpawnSyncReturns<string> {
  return runCaptured(x.dir, '/bin/sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', RUNTIME, '--root', x.root, ...args], {
    env: { ...process.env, LISTEN_FDS: String(listenFds), LISTEN_FDNAMES: '' },
    extra: fds,
    stdin: 'ignore',
  });
}

test('LISTEN_FDS passes the activated fds and sets LISTEN_FDS and LISTEN_PID=1 in the container', () => {
  b = bundle(['sh', '-c', `${LIST_FDS}; echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; cat <&3; echo "to fd 4" >&4`]);
  const f = files(b);
  const r = activated(b, ['run', b.id], [f.read, f.write], 2);
  assert.equal(r.status, 0, r.stderr);
  const [fds, rest] = fdsAndRest(r.stdout);
  assert.equal(fds, '0 1 2 3 4');
  const lines = rest.split('\n');
  assert.equal(lines[0], 'LISTEN_FDS=2 LISTEN_PID=1', 'pid 1: the container has its own pid namespace');
  assert.equal(lines[1], 'content of the readable fd');
  assert.equal(readFileSync(f.written, 'utf8'), 'to fd 4\n');
});

test('LISTEN_FDS meant for another process (LISTEN_PID is not the runtime) is ignored', () => {
  b = bundle(['sh', '-c', `${LIST_FDS}; echo "[$LISTEN_FDS] [$LISTEN_PID]"`]);
  const f = files(b);
  const out = join(b.dir, '.other-out');
  const fo = openSync(out, 'w');
  let r;
  try {
    r = spawnSync(RUNTIME, ['--root', b.root, 'run', b.id], {
      cwd: b.dir,
      encoding: 'utf8',
      env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
      stdio: ['ignore', fo, 'pipe', f.read],
      timeout: 30_000,
    });
  } finally {
    closeSync(fo);
  }
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fdsAndRest(readFileSync(out, 'utf8')), ['0 1 2', '[] []\n']);
});

test('LISTEN_FDS and LISTEN_PID are added to process.env, which is otherwise kept exactly', () => {
  b = bundle(['env']);
  b.spec.process!.env = ['PATH=/bin:/usr/bin', 'A=1'];
  b.save();
  const f = files(b);
  const r = activated(b, ['run', b.id], [f.read], 1);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['A=1', 'LISTEN_FDS=1', 'LISTEN_PID=1', 'PATH=/bin:/usr/bin']);
});

test('LISTEN_FDS and --preserve-fds add up: the activated fds come first', () => {
  b = bundle(['sh', '-c', `${LIST_FDS}; echo "LISTEN_FDS=$LISTEN_FDS"; cat <&3; cat <&5`]);
  const f = files(b);
  const g = files(b, 'second-');
  const r = activated(b, ['run', '--preserve-fds', '1', b.id], [f.read, f.write, g.read], 2);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fdsAndRest(r.stdout), ['0 1 2 3 4 5', 'LISTEN_FDS=2\ncontent of the readable fd\nsecond-content of the readable fd\n']);
});

test('exec --preserve-fds passes fds to the exec\'d process only', async () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const f = files(b);
  const r = rtWithFds(b, ['exec', '--preserve-fds', '2', b.id, 'sh', '-c', `${LIST_FDS}; cat <&3; echo "from exec" >&4`], [f.read, f.write]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fdsAndRest(r.stdout), ['0 1 2 3 4', 'content of the readable fd\n']);
  assert.equal(readFileSync(f.written, 'utf8'), 'from exec\n');
  // an exec without the flag sees none of them, and the init never got them
  const plain = rtWithFds(b, ['exec', b.id, 'sh', '-c', LIST_FDS], [f.read, f.write]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.deepEqual(fdsAndRest(plain.stdout), ['0 1 2', '']);
  const pid = stateOf(b).pid;
  await waitFor(() => readlinkSync(`/proc/${pid}/exe`).endsWith('/busybox'), 'the container to exec');
  const init = b.ok(['exec', b.id, 'ls', '/proc/1/fd']);
  assert.deepEqual(init.trim().split('\n').map(Number).sort((x, y) => x - y), [0, 1, 2]);
  b.ok(['delete', '-f', b.id]);
});

test('exec with LISTEN_FDS in the runtime\'s environment passes them and sets LISTEN_PID to the process', () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const f = files(b);
  const r = activated(b, ['exec', b.id, 'sh', '-c', `${LIST_FDS}; echo "$LISTEN_FDS $LISTEN_PID $$"; cat <&3`], [f.read], 1);
  assert.equal(r.status, 0, r.stderr);
  const [list, rest] = fdsAndRest(r.stdout);
  const [vars, content] = rest.split('\n');
  assert.equal(list, '0 1 2 3');
  const [n, listenPid, self] = vars!.split(' ');
  assert.equal(n, '1');
  assert.equal(listenPid, self, 'LISTEN_PID is the exec\'d process, as seen in the container');
  assert.equal(content, 'content of the readable fd');
  b.ok(['delete', '-f', b.id]);
});
