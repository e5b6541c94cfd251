// The container cannot reach outside itself through the runtime: the binary, fds, cwd, and
// paths resolved while the rootfs is being built.
//
// Every test runs its probe twice: with the real hull-init, where the probe must find the
// container contained, and with a mutant hull-init that lacks just the protection under test
// (helpers/safety-mutants.ts), where the same probe must find the hole. The second run shows
// the test can fail: a probe that never sees a hole proves nothing. Mutant runs are arranged
// so that a hole lands in the test's own temporary directories, never on the host at large.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { RUNTIME, bundle, stateOf, waitFor, type Bundle } from './harness.ts';
import { envWith, mutantInit, realInitCopy, sha256, type Mutant } from './helpers/safety-mutants.ts';

let open: Bundle[] = [];
let fds: number[] = [];
afterEach(() => {
  for (const fd of fds) closeSync(fd);
  fds = [];
  const bs = open;
  open = [];
  for (const b of bs) b.cleanup();
});

function mk(args: string[]): Bundle {
  const b = bundle(args);
  open.push(b);
  return b;
}

function fd(path: string, flags = 'r'): number {
  const n = openSync(path, flags);
  fds.push(n);
  return n;
}

/** The runtime as shipped (dist/hull-init beside dist/hull-runtime), or with a mutant hull-init. */
function envFor(m?: Mutant): NodeJS.ProcessEnv {
  if (m) return envWith(mutantInit(m));
  const env = { ...process.env };
  delete env.HULL_INIT;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  return env;
}

let outs = 0;
/**
 * Runs hull-runtime with extra open fds at the given numbers and no --preserve-fds unless
 * args say so. These fds are not close-on-exec in hull-runtime: Node marks its inherited fds
 * close-on-exec only up to the first gap past fd 15, so a high fd stays inheritable, the way
 * a careless caller's fd would. Output goes to files that outlive the call, since a created
 * container keeps the create call's stdio.
 */
function rtFds(b: Bundle, args: string[], extra: Record<number, number>, env: NodeJS.ProcessEnv) {
  const n = ++outs;
  const out = join(b.dir, `.fds-out-${n}`);
  const err = join(b.dir, `.fds-err-${n}`);
  const fo = openSync(out, 'w');
  const fe = openSync(err, 'w');
  const max = Math.max(2, ...Object.keys(extra).map(Number));
  const stdio: ('pipe' | 'ignore' | number)[] = ['pipe', fo, fe];
  for (let i = 3; i <= max; i++) stdio.push(extra[i] ?? 'ignore');
  try {
    const r = spawnSync(RUNTIME, ['--root', b.root, ...args], { cwd: b.dir, env, stdio, input: '', timeout: 30_000 });
    return { status: r.status, out, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(fo);
    closeSync(fe);
  }
}

// ---------------------------------------------------------------------------------------------
// The runtime's binary (CVE-2019-5736)

/**
 * A privileged process exec'd into a created container holds /proc/1/exe (the container's init,
 * still hull-init, waiting for start) open, and once the init has exec'd the user's program,
 * reopens that fd for writing through /proc/self/fd: the original runc attack. It appends, so
 * that even a hole does not wreck the binary. The binary is a private copy, so a concurrent
 * build of dist/ cannot change it during the test.
 */
async function probeBinaryOverwrite(init: string) {
  const env = envWith(init);
  const b = mk(['sleep', '30']);
  b.spec.root!.readonly = false;
  b.save();
  const before = sha256(init);
  b.ok(['create', b.id], { env });
  const pid = stateOf(b).pid;
  const exe = readlinkSync(`/proc/${pid}/exe`);
  let hostWrite = 'opened';
  try {
    closeSync(openSync(`/proc/${pid}/exe`, 'a'));
  } catch (e) {
    hostWrite = (e as NodeJS.ErrnoException).code ?? 'error';
  }
  const tmp = join(b.rootfs, 'tmp');
  const attack = [
    'exec 3</proc/1/exe || { echo no > /tmp/opened; exit 1; }',
    'echo yes > /tmp/opened',
    'while [ ! -e /tmp/go ]; do sleep 0.05; done',
    '{ echo HULL-SAFETY-PWNED >> /proc/self/fd/3; } 2>/tmp/err',
    'echo $? > /tmp/done',
  ].join('\n');
  b.ok(['exec', '-d', '--cap', 'CAP_SYS_PTRACE', b.id, 'sh', '-c', attack], { env });
  const written = (f: string) => existsSync(join(tmp, f)) && readFileSync(join(tmp, f), 'utf8').endsWith('\n');
  await waitFor(() => written('opened'), 'the attacker to open /proc/1/exe');
  const opened = readFileSync(join(tmp, 'opened'), 'utf8').trim();
  b.ok(['start', b.id], { env });
  // Wait until the init runs the user's program, so that nothing executes the binary any more.
  await waitFor(() => readlinkSync(`/proc/${pid}/exe`) !== exe, 'the init to exec');
  writeFileSync(join(tmp, 'go'), '');
  await waitFor(() => written('done'), 'the attack to finish');
  const writeStatus = Number(readFileSync(join(tmp, 'done'), 'utf8'));
  const writeError = readFileSync(join(tmp, 'err'), 'utf8').trim();
  b.ok(['delete', '--force', b.id], { env });
  return { exe, hostWrite, opened, writeStatus, writeError, changed: sha256(init) !== before, marked: readFileSync(init).includes('HULL-SAFETY-PWNED') };
}

test('the runtime binary cannot be overwritten from the container: hull-init runs from a sealed memfd (CVE-2019-5736)', async () => {
  const real = await probeBinaryOverwrite(realInitCopy());
  assert.equal(real.exe, '/memfd:hull-init (deleted)', 'the created init runs from a memfd copy, not the file on disk');
  // Even host root cannot open it for writing while it runs (this alone would hold for a file
  // on disk too: the kernel denies writes to a running executable; the attack waits for exec).
  assert.equal(real.hostWrite, 'ETXTBSY');
  assert.equal(real.opened, 'yes', 'the privileged attacker reached the init binary (the test needs it to)');
  assert.notEqual(real.writeStatus, 0, 'writing to the init binary through /proc/self/fd must fail');
  assert.match(real.writeError, /not permitted|busy|denied/i);
  assert.equal(real.changed, false, 'the hull-init binary on the host changed');
  assert.equal(real.marked, false);

  // Without the memfd copy the same attack rewrites the binary on disk.
  const hole = await probeBinaryOverwrite(mutantInit('no-memfd'));
  assert.equal(hole.exe, mutantInit('no-memfd'));
  assert.equal(hole.writeStatus, 0, `the probe should reach the binary without a memfd: ${hole.writeError}`);
  assert.equal(hole.changed, true, 'the probe cannot detect an overwritten binary');
  assert.equal(hole.marked, true);
});

/**
 * An unprivileged process exec'd into a created container (root, but with the default three
 * capabilities and no CAP_SYS_PTRACE) looks at pid 1, which is still hull-init.
 */
async function probeInitProcFiles(env: NodeJS.ProcessEnv) {
  const b = mk(['sleep', '30']);
  b.ok(['create', b.id], { env });
  const pid = stateOf(b).pid;
  const initExe = readlinkSync(`/proc/${pid}/exe`);
  const look = b.rt(['exec', b.id, 'sh', '-c', 'readlink /proc/1/exe; echo "exe=$?"; cat /proc/1/environ >/dev/null; echo "environ=$?"; ls /proc/1/fd/ >/dev/null; echo "x" >> /proc/1/exe; echo "write=$?"'], { env });
  b.ok(['start', b.id], { env });
  await waitFor(() => readlinkSync(`/proc/${pid}/exe`) !== initExe, 'the init to exec');
  // The same look at a process that is not hull-init: the probe can read what it is allowed to.
  const control = b.rt(['exec', b.id, 'sh', '-c', 'readlink /proc/1/exe; echo "exe=$?"'], { env });
  b.ok(['delete', '--force', b.id], { env });
  return { look: look.stdout, control: control.stdout };
}

test('hull-init is not dumpable: a process in the container cannot open its /proc files', async () => {
  const real = await probeInitProcFiles(envFor());
  assert.match(real.look, /^exe=1$/m, `readlink /proc/1/exe of hull-init must fail:\n${real.look}`);
  assert.match(real.look, /^environ=1$/m);
  assert.match(real.look, /^write=1$/m);
  assert.doesNotMatch(real.look, /memfd|hull-init/);
  assert.equal(real.control, '/bin/busybox\nexe=0\n', 'the probe can read /proc/1/exe of an ordinary process');

  const hole = await probeInitProcFiles(envFor('dumpable'));
  assert.match(hole.look, /^\/memfd:hull-init \(deleted\)\nexe=0$/m, `a dumpable hull-init should be visible:\n${hole.look}`);
  assert.match(hole.look, /^environ=0$/m);
});

// ---------------------------------------------------------------------------------------------
// File descriptors

interface FdEntry {
  fd: number;
  target: string;
}

function parseFds(lsOutput: string): FdEntry[] {
  const out: FdEntry[] = [];
  for (const line of lsOutput.split('\n')) {
    const m = / (\d+) -> (.*)$/.exec(line);
    if (m) out.push({ fd: Number(m[1]), target: m[2]! });
  }
  return out;
}

/** fds other than stdio and ls's own handle on /proc/self/fd. */
function strangers(entries: FdEntry[]): FdEntry[] {
  return entries.filter((e) => e.fd > 2 && !/^\/proc\/\d+\/fd$/.test(e.target));
}

/** A container's process lists its fds after run, create + start, exec, and exec --preserve-fds 1. */
async function probeFds(env: NodeJS.ProcessEnv) {
  const b = mk(['ls', '-l', '/proc/self/fd']);
  writeFileSync(join(b.dir, 'host-file'), 'host');
  const file = fd(join(b.dir, 'host-file'), 'r+');
  const dir = fd(b.dir, 'r');
  // Low fds (which Node itself already keeps from its children) and high ones (which reach
  // hull-init, and which only hull-init's close_range keeps from the container).
  const extra = { 3: file, 4: dir, 5: file, 60: file, 61: dir, 62: file };

  const run = rtFds(b, ['run', b.id], extra, env);
  assert.equal(run.status, 0, run.stderr);

  const created = rtFds(b, ['create', b.id], extra, env);
  assert.equal(created.status, 0, created.stderr);
  b.ok(['start', b.id], { env });
  await waitFor(() => stateOf(b).status === 'stopped', 'the container to exit');
  b.ok(['delete', b.id], { env });

  b.spec.process!.args = ['sleep', '30'];
  b.save();
  b.ok(['run', '-d', b.id], { env });
  const exec = rtFds(b, ['exec', b.id, 'ls', '-l', '/proc/self/fd'], extra, env);
  assert.equal(exec.status, 0, exec.stderr);
  const preserved = rtFds(b, ['exec', '--preserve-fds', '1', b.id, 'ls', '-l', '/proc/self/fd'], extra, env);
  assert.equal(preserved.status, 0, preserved.stderr);
  b.ok(['delete', '--force', b.id], { env });
  return {
    run: parseFds(run.stdout),
    created: parseFds(readFileSync(created.out, 'utf8')),
    exec: parseFds(exec.stdout),
    preserved: parseFds(preserved.stdout),
  };
}

test('no host fd reaches the container without --preserve-fds', async () => {
  const real = await probeFds(envFor());
  for (const [how, entries] of Object.entries(real)) {
    assert.deepEqual(entries.filter((e) => e.fd <= 2).map((e) => e.fd), [0, 1, 2], `${how}: stdio`);
    if (how === 'preserved') {
      assert.deepEqual(strangers(entries).map((e) => e.fd), [3], `exec --preserve-fds 1 passes fd 3 and nothing else: ${JSON.stringify(entries)}`);
      assert.match(strangers(entries)[0]!.target, /host-file$/);
    } else {
      assert.deepEqual(strangers(entries), [], `${how}: fds leaked into the container`);
    }
  }

  // Without close_range before exec, the same fds arrive in the container.
  const hole = await probeFds(envFor('no-close-fds'));
  for (const how of ['run', 'created', 'exec', 'preserved'] as const) {
    const leaked = strangers(hole[how]).map((e) => e.fd);
    for (const n of [60, 61, 62]) assert.ok(leaked.includes(n), `${how}: the probe should see fd ${n} leak without close_range: ${leaked}`);
  }
});

// ---------------------------------------------------------------------------------------------
// The working directory (CVE-2024-21626)

/**
 * The container's cwd names a host directory through a fd hull-init holds while it sets up:
 * leaked (fd 60, no --preserve-fds), or handed over on purpose (--preserve-fds). The directory
 * holds a file "host-secret"; the container lists its cwd.
 */
async function probeCwd(env: NodeJS.ProcessEnv) {
  const b = mk(['sh', '-c', 'ls; echo "pwd=$(pwd)"']);
  mkdirSync(join(b.dir, 'host-side'));
  writeFileSync(join(b.dir, 'host-side', 'host-secret'), 'secret');
  const dir = fd(join(b.dir, 'host-side'), 'r');

  b.spec.process!.cwd = '/proc/self/fd/60';
  b.save();
  const leaked = rtFds(b, ['run', b.id], { 60: dir }, env);

  b.spec.process!.cwd = '/proc/self/fd/3';
  b.save();
  const preserved = rtFds(b, ['run', '--preserve-fds', '1', b.id], { 3: dir }, env);

  b.spec.process!.cwd = '/';
  b.spec.process!.args = ['sleep', '30'];
  b.save();
  b.ok(['run', '-d', b.id], { env });
  const exec = rtFds(b, ['exec', '--cwd', '/proc/self/fd/60', b.id, 'sh', '-c', 'ls; echo "pwd=$(pwd)"'], { 60: dir }, env);
  b.ok(['delete', '--force', b.id], { env });
  return { leaked, preserved, exec };
}

test('the cwd is checked to be inside the container: a /proc/self/fd/N cwd cannot reach the host (CVE-2024-21626)', async () => {
  const real = await probeCwd(envFor());
  for (const [how, r] of Object.entries(real)) {
    assert.notEqual(r.status, 0, `${how}: a cwd outside the rootfs must fail`);
    assert.doesNotMatch(r.stdout, /host-secret/, `${how}: the container saw the host directory`);
    // exec is stopped by the getcwd check after chdir; create already by making the cwd inside
    // the rootfs, which refuses the magic link.
    const why = how === 'exec' ? /cwd \/proc\/self\/fd\/60 is outside the container root/ : /cwd \/proc\/self\/fd\/\d+: .*too many symbolic links/;
    assert.match(r.stderr, why, `${how}: ${r.stderr}`);
  }

  const hole = await probeCwd(envFor('no-cwd-check'));
  for (const [how, r] of Object.entries(hole)) {
    assert.match(r.stdout, /host-secret/, `${how}: without the check the probe should list the host directory: ${r.stderr}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Paths resolved while the rootfs is built

/** Replaces rootfs/<name> with a symlink to target. */
function relink(b: Bundle, name: string, target: string): void {
  rmSync(join(b.rootfs, name), { recursive: true, force: true });
  symlinkSync(target, join(b.rootfs, name));
}

function mountPoints(text: string): string[] {
  return text.split('\n').map((l) => l.split(' ')[4]).filter((x): x is string => !!x);
}

const DEVICE_NAMES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'fd', 'stdin', 'stdout', 'stderr', 'core'];

/**
 * The rootfs's /dev, /mnt and /srv are symlinks that leave the rootfs; devices are made in
 * /dev (no /dev tmpfs), a tmpfs is mounted on /mnt/<name> and a bind on /srv/<name>.
 * "relative": the links are "../escape-*", which leave the rootfs for the bundle directory when
 * resolved as ordinary paths. "absolute" (run with the real hull-init only): "/", "/etc" and
 * "../../../../../../../../../../etc", which would reach the host's / and /etc.
 */
function probeMountTargets(env: NodeJS.ProcessEnv, kind: 'relative' | 'absolute') {
  const b = mk(['sh', '-c', 'cat /proc/self/mountinfo; echo ---; ls -l /dev/null; cat /srv/hull-bound/bound-file']);
  const name = `hull-safety-${b.id}`;
  const bindSrc = join(b.dir, 'bind-src');
  mkdirSync(bindSrc);
  writeFileSync(join(bindSrc, 'bound-file'), 'bound\n');
  b.spec.process!.args = ['sh', '-c', `cat /proc/self/mountinfo; echo ---; ls -l /dev/null; cat /srv/${name}-bound/bound-file`];
  b.spec.mounts = b.spec.mounts!.filter((m) => !m.destination.startsWith('/dev'));
  b.spec.mounts.push({ destination: `/mnt/${name}-target`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
  b.spec.mounts.push({ destination: `/srv/${name}-bound`, type: 'bind', source: bindSrc, options: ['bind'] });
  b.save();
  const escapes = ['escape-dev', 'escape-mnt', 'escape-srv'];
  if (kind === 'relative') {
    for (const e of escapes) {
      mkdirSync(join(b.dir, e)); // where an ordinary resolution lands
      mkdirSync(join(b.rootfs, e)); // where resolution inside the rootfs lands
    }
    relink(b, 'dev', '../escape-dev');
    relink(b, 'mnt', '../escape-mnt');
    relink(b, 'srv', '../escape-srv');
  } else {
    relink(b, 'dev', '/');
    relink(b, 'mnt', '/etc');
    relink(b, 'srv', '../../../../../../../../../../etc');
  }
  const hostRoot = readdirSync('/').sort();
  const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const r = b.rt(['run', b.id], { env });
  const [mountinfo = '', rest = ''] = r.stdout.split('---\n');
  return {
    b,
    name,
    r,
    inside: mountPoints(mountinfo),
    devNull: rest.split('\n')[0] ?? '',
    bound: rest.includes('bound'),
    newHostRootEntries: readdirSync('/').filter((x) => !hostRoot.includes(x)),
    hostEtcEntries: readdirSync('/etc').filter((x) => x.startsWith(name)),
    newHostMounts: mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => !hostMounts.includes(` ${m} `) && (m.includes(name) || m.includes(b.dir) || m === '/' || m.startsWith('/etc'))),
    escaped: Object.fromEntries(escapes.map((e) => [e, existsSync(join(b.dir, e)) ? readdirSync(join(b.dir, e)) : []])),
  };
}

test('mount targets and device paths resolve inside the rootfs: symlinks out of it stay in it', () => {
  for (const kind of ['relative', 'absolute'] as const) {
    const p = probeMountTargets(envFor(), kind);
    assert.equal(p.r.status, 0, `${kind}: ${p.r.stderr}`);
    assert.deepEqual(p.newHostRootEntries.filter((x) => DEVICE_NAMES.includes(x) || x.startsWith('hull-safety')), [], `${kind}: entries created in the host's /`);
    assert.deepEqual(p.hostEtcEntries, [], `${kind}: entries created in the host's /etc`);
    assert.deepEqual(p.newHostMounts, [], `${kind}: mounts on the host`);
    for (const [e, entries] of Object.entries(p.escaped)) assert.deepEqual(entries, [], `${kind}: ${e} outside the rootfs was written to`);
    // The container has what it asked for, where the symlinks lead inside its own rootfs.
    const at = kind === 'relative' ? { mnt: '/escape-mnt', srv: '/escape-srv', dev: '/escape-dev' } : { mnt: '/etc', srv: '/etc', dev: '' };
    assert.ok(p.inside.includes(`${at.mnt}/${p.name}-target`), `${kind}: tmpfs not at ${at.mnt}/${p.name}-target: ${p.inside}`);
    assert.ok(p.inside.includes(`${at.srv}/${p.name}-bound`), `${kind}: bind not at ${at.srv}/${p.name}-bound: ${p.inside}`);
    assert.ok(p.bound, `${kind}: the bind mount's content is visible`);
    assert.match(p.devNull, /^c.* 1, +3 /, `${kind}: /dev/null in the container: ${p.devNull}`);
    for (const d of ['null', 'zero', 'tty']) {
      assert.ok(lstatSync(join(p.b.rootfs, at.dev, d)).isCharacterDevice(), `${kind}: device ${d} inside the rootfs at ${at.dev || '/'}`);
    }
  }

  // Resolving the same paths as ordinary paths lands outside the rootfs (in the bundle directory).
  const hole = probeMountTargets(envFor('no-in-root'), 'relative');
  assert.ok(hole.escaped['escape-dev']!.includes('null'), `the probe should see devices made outside the rootfs: ${JSON.stringify(hole.escaped)}`);
  assert.ok(hole.escaped['escape-mnt']!.includes(`${hole.name}-target`), `the probe should see a mount target made outside the rootfs: ${JSON.stringify(hole.escaped)}`);
  assert.ok(!hole.inside.includes(`/escape-mnt/${hole.name}-target`));
});

/**
 * maskedPaths and readonlyPaths entries that are symlinks out of the rootfs. "relative":
 * "../decoy-*" leads to the bundle directory when resolved as an ordinary path; both the host
 * side and the in-rootfs side exist, with different contents. "absolute" (real hull-init only):
 * symlinks to the host's /etc/hostname, through "/" and through a chain of "..".
 */
function probeMaskedPaths(env: NodeJS.ProcessEnv, kind: 'relative' | 'absolute') {
  const script = [
    'cat /masklink; echo "[mask=$?]"',
    'cat /masklink2; echo "[mask2=$?]"',
    'touch /rolink/new 2>/dev/null; echo "[ro=$?]"',
    'touch /tmp/control; echo "[control=$?]"',
  ].join('; ');
  const b = mk(['sh', '-c', script]);
  b.spec.root!.readonly = false;
  b.spec.linux!.maskedPaths = [...(b.spec.linux!.maskedPaths ?? []), '/masklink', '/masklink2'];
  b.spec.linux!.readonlyPaths = [...(b.spec.linux!.readonlyPaths ?? []), '/rolink'];
  b.save();
  writeFileSync(join(b.dir, 'decoy-file'), 'host-data\n');
  mkdirSync(join(b.dir, 'decoy-dir'));
  writeFileSync(join(b.rootfs, 'decoy-file'), 'inside-data\n');
  mkdirSync(join(b.rootfs, 'decoy-dir'));
  const hostname = readFileSync('/etc/hostname', 'utf8');
  if (kind === 'relative') {
    symlinkSync('../decoy-file', join(b.rootfs, 'masklink'));
    symlinkSync('../../decoy-file', join(b.rootfs, 'masklink2'));
    symlinkSync('../decoy-dir', join(b.rootfs, 'rolink'));
  } else {
    writeFileSync(join(b.rootfs, 'etc/hostname'), 'inside-data\n');
    symlinkSync('/etc/hostname', join(b.rootfs, 'masklink'));
    symlinkSync('../../../../../../../../../../etc/hostname', join(b.rootfs, 'masklink2'));
    symlinkSync('/decoy-dir', join(b.rootfs, 'rolink'));
  }
  const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const r = b.rt(['run', b.id], { env });
  return {
    r,
    hostDecoyFile: readFileSync(join(b.dir, 'decoy-file'), 'utf8'),
    hostDecoyDir: readdirSync(join(b.dir, 'decoy-dir')),
    hostnameUnchanged: readFileSync('/etc/hostname', 'utf8') === hostname,
    hostMountsUnchanged: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('/etc/hostname') || l.includes(b.dir)).join('\n') ===
      hostMounts.split('\n').filter((l) => l.includes('/etc/hostname') || l.includes(b.dir)).join('\n'),
  };
}

test('maskedPaths and readonlyPaths that are symlinks out of the rootfs act inside it, never on the host', () => {
  for (const kind of ['relative', 'absolute'] as const) {
    const p = probeMaskedPaths(envFor(), kind);
    assert.equal(p.r.status, 0, `${kind}: ${p.r.stderr}`);
    // Masked inside the rootfs (the in-rootfs file reads empty), read-only inside it.
    assert.equal(p.r.stdout, '[mask=0]\n[mask2=0]\n[ro=1]\n[control=0]\n', `${kind}: what the container saw`);
    assert.equal(p.hostDecoyFile, 'host-data\n', `${kind}: host file`);
    assert.deepEqual(p.hostDecoyDir, [], `${kind}: host directory`);
    assert.ok(p.hostnameUnchanged, `${kind}: the host's /etc/hostname changed`);
    assert.ok(p.hostMountsUnchanged, `${kind}: the host's mounts changed`);
  }

  // Resolved as ordinary paths, the mask and the read-only bind go to the host side, in the
  // container's mount namespace, and the in-rootfs files stay exposed and writable.
  const hole = probeMaskedPaths(envFor('no-in-root'), 'relative');
  assert.match(hole.r.stdout, /inside-data\n\[mask=0\]/, `the probe should see an unmasked file: ${hole.r.stdout}${hole.r.stderr}`);
  assert.match(hole.r.stdout, /\[ro=0\]/, 'the probe should see a writable directory');
});
