// The CLI launcher (scripts/launcher.cjs, built as dist/hull-runtime.cjs): it compiles the bundle
// with a V8 code cache per verb in <bundle>.cache/<verb>, written at exit by the first run of that
// verb or by a run whose cache V8 rejected. Whatever the cache holds, or wherever it cannot be
// written, the CLI must behave exactly as without it. Each test runs its own copy of the launcher
// and bundle, so the real dist/ cache, which other tests use meanwhile, is never touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { REPO } from './harness.ts';

interface Copy {
  dist: string;
  root: string;
  cacheDir: string;
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copy(): Copy {
  const top = mkdtempSync(join(tmpdir(), 'hull-launcher-'));
  made.push(top);
  const dist = join(top, 'dist');
  const root = join(top, 'root');
  mkdirSync(dist);
  mkdirSync(root);
  for (const f of ['hull-runtime.cjs', 'hull-runtime-main.cjs', 'package.json']) copyFileSync(join(REPO, 'dist', f), join(dist, f));
  return { dist, root, cacheDir: join(dist, 'hull-runtime-main.cjs.cache') };
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the copied launcher itself, through its shebang, as a user would. */
function run(c: Copy, args: string[]): Run {
  const r = spawnSync(join(c.dist, 'hull-runtime.cjs'), args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const list = (c: Copy) => run(c, ['--root', c.root, 'list']);
const state = (c: Copy) => run(c, ['--root', c.root, 'state', 'nosuch']);

function entries(c: Copy): string[] {
  return existsSync(c.cacheDir) ? readdirSync(c.cacheDir).sort() : [];
}

/** What identifies one write of a file: a rewrite is a new inode (written aside and renamed). */
function identity(path: string): string {
  const s = statSync(path);
  return `${s.ino} ${s.mtimeMs} ${s.size}`;
}

/** What `list` and `state nosuch` say from a copy that has never had a cache. */
function baseline(): { list: Run; state: Run } {
  const c = copy();
  const out = { list: list(c), state: state(c) };
  assert.equal(out.list.status, 0, out.list.stderr);
  assert.match(out.list.stdout, /^ID\s+PID\s+STATUS/);
  assert.equal(out.state.status, 1);
  assert.match(out.state.stderr, /nosuch does not exist/);
  return out;
}

test('the first run of a verb writes its cache, later runs use it and write nothing, outputs unchanged', () => {
  const base = baseline();
  const c = copy();
  assert.deepEqual(list(c), base.list);
  // `--root <dir>` is skipped as an option with a value: the verb is `list`, not the path
  assert.deepEqual(entries(c), ['list']);
  const file = join(c.cacheDir, 'list');
  const first = identity(file);
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 1000, 'a V8 code cache');

  assert.deepEqual(list(c), base.list);
  assert.equal(identity(file), first, 'an accepted cache is not written again');
  assert.deepEqual(readFileSync(file), bytes);

  assert.deepEqual(state(c), base.state);
  assert.deepEqual(entries(c), ['list', 'state']);
  assert.equal(identity(file), first);
  assert.deepEqual(state(c), base.state);
  assert.deepEqual(list(c), base.list);
});

test('help, version and no verb at all learn nothing', () => {
  const c = copy();
  for (const args of [['--help'], ['-h'], ['--version'], ['--root', c.root, 'list', '--help'], ['--root', c.root]]) {
    run(c, args);
    assert.deepEqual(entries(c), [], args.join(' '));
  }
  assert.equal(run(c, ['--version']).status, 0);
  assert.match(run(c, ['--help']).stdout, /USAGE/);
});

test('options with a value are skipped wherever they come before the verb', () => {
  const c = copy();
  const r = run(c, ['--log', join(c.root, 'log'), '--log-format', 'json', '--root', c.root, 'list']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(entries(c), ['list']);
});

test('a truncated, empty or foreign cache is rejected, the output is the same, and it is replaced', () => {
  const base = baseline();
  const c = copy();
  list(c);
  const file = join(c.cacheDir, 'list');
  const good = readFileSync(file);
  const spoilt: [string, () => void][] = [
    ['truncated', () => truncateSync(file, Math.floor(good.length / 2))],
    ['empty', () => writeFileSync(file, '')],
    ['random bytes', () => writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff)))],
    // the cache of another script: V8 checks the source it was made from
    ['another verb of another bundle', () => writeFileSync(file, cacheOfOtherSource())],
  ];
  for (const [what, spoil] of spoilt) {
    spoil();
    const before = identity(file);
    assert.deepEqual(list(c), base.list, what);
    const after = identity(file);
    assert.notEqual(after, before, `${what}: not replaced`);
    // the replacement is accepted: the next run leaves it alone
    list(c);
    assert.equal(identity(file), after, `${what}: its replacement was rejected too`);
  }
  assert.deepEqual(entries(c), ['list']);
});

// V8 checks a cache's source, flags and length, not its bytes (a checksum costs ~1 ms a start),
// and bytes garbled past its header crash it: so the launcher writes a cache aside, fsyncs it and
// renames it into place, and a write cut short leaves nothing in its place.
test('a cache write cut short leaves neither a cache nor a temporary file', () => {
  const base = baseline();
  const c = copy();
  // the disk is full: a tiny tmpfs where the caches go
  mkdirSync(c.cacheDir);
  mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', c.cacheDir]);
  try {
    assert.deepEqual(list(c), base.list);
    assert.deepEqual(list(c), base.list);
    assert.deepEqual(entries(c), []);
  } finally {
    mount(['-l', c.cacheDir], 'umount');
  }
});

test('where the cache cannot be written the CLI works the same and writes nothing', () => {
  const base = baseline();

  // the cache directory cannot be made: a file is in its place
  const a = copy();
  writeFileSync(a.cacheDir, 'not a directory');
  assert.deepEqual(list(a), base.list);
  assert.deepEqual(state(a), base.state);
  assert.equal(readFileSync(a.cacheDir, 'utf8'), 'not a directory');

  // a read-only dist/, as an installed copy often is (chmod does not stop root)
  const b = copy();
  mount(['--bind', b.dist, b.dist]);
  try {
    mount(['-o', 'remount,bind,ro', b.dist]);
    assert.deepEqual(list(b), base.list);
    assert.deepEqual(state(b), base.state);
  } finally {
    mount(['-l', b.dist], 'umount');
  }
  assert.deepEqual(entries(b), []);
  assert.deepEqual(readdirSync(b.dist).sort(), ['hull-runtime-main.cjs', 'hull-runtime.cjs', 'package.json']);
});

test('where the cache cannot be put in place the CLI works the same', () => {
  const base = baseline();
  const c = copy();
  mkdirSync(join(c.cacheDir, 'list'), { recursive: true });
  assert.deepEqual(list(c), base.list);
  assert.deepEqual(list(c), base.list);
  assert.ok(statSync(join(c.cacheDir, 'list')).isDirectory());
});

// the rename onto a directory fails after the temporary file was written: it goes too
test('a cache that cannot be put in place leaves no temporary file', () => {
  const c = copy();
  mkdirSync(join(c.cacheDir, 'list'), { recursive: true });
  list(c);
  assert.deepEqual(entries(c), ['list']);
});

test('a full cache directory takes no new verb, but still replaces a rejected cache', () => {
  const base = baseline();
  const c = copy();
  state(c);
  truncateSync(join(c.cacheDir, 'state'), 100);
  for (let i = 0; i < 127; i++) writeFileSync(join(c.cacheDir, `verb${i}`), '');
  assert.equal(entries(c).length, 128);
  assert.deepEqual(list(c), base.list);
  assert.ok(!entries(c).includes('list'), 'a 129th verb was added');
  const before = identity(join(c.cacheDir, 'state'));
  assert.deepEqual(state(c), base.state);
  assert.notEqual(identity(join(c.cacheDir, 'state')), before);
  assert.equal(entries(c).length, 128);
});

function mount(args: string[], cmd = 'mount'): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A valid code cache, made by this Node, of a source that is not the bundle. */
function cacheOfOtherSource(): Buffer {
  const r = spawnSync(
    process.execPath,
    ['-e', "process.stdout.write(new (require('node:vm').Script)('function f() { return 42 }; f()').createCachedData())"],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

// dist/hull (native/hull-front.c) runs hull.cjs beside it with the Node of its shebang and the
// options of its header, which a shebang cannot carry; anything else it leaves to the kernel. For
// the verbs the header lists it first forks the cgroup-lock warmer, which Node then has as a child.
function front(launcher: string): { dir: string; run: (args: string[]) => { execArgv: string[]; argv: string[]; children: number } } {
  const dir = mkdtempSync(join(tmpdir(), 'hull-front-'));
  made.push(dir);
  copyFileSync(join(REPO, 'dist', 'hull'), join(dir, 'hull'));
  spawnSync('chmod', ['755', join(dir, 'hull')]);
  writeFileSync(join(dir, 'hull.cjs'), launcher, { mode: 0o755 });
  return {
    dir,
    run(args) {
      const r = spawnSync(join(dir, 'hull'), args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { execArgv: string[]; argv: string[]; children: number };
    },
  };
}

const report =
  "const kids = require('node:fs').readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim();\n" +
  "process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2), children: kids ? kids.split(' ').length : 0 }));\n";

test('the front gives Node the options of the launcher\'s second line, and the user\'s words after "--"', () => {
  const shebang = readFileSync(join(REPO, 'dist', 'hull.cjs'), 'utf8').split('\n', 1)[0]!;
  const f = front(`${shebang}\n// node-options: --stack-size=900 --no-warnings\n${report}`);
  // words that Node would take as its own, were they before the script
  const got = f.run(['run', '--env-file', 'x', '--inspect', '-e', 'A=1']);
  assert.deepEqual(got.execArgv, ['--stack-size=900', '--no-warnings']);
  assert.deepEqual(got.argv, ['run', '--env-file', 'x', '--inspect', '-e', 'A=1']);
  assert.equal(got.children, 0, 'no verbs to warm for: no warmer');
});

test('the front warms the cgroup lock for the verbs the header lists, found as the launcher finds them', () => {
  const shebang = readFileSync(join(REPO, 'dist', 'hull.cjs'), 'utf8').split('\n', 1)[0]!;
  const f = front(`${shebang}\n// node-options: --no-warnings\n// warm-cgroup-lock: run exec\n// options-with-value: --root\n// groups: container\n${report}`);
  const warmed = (args: string[]) => f.run(args).children;
  assert.equal(warmed(['run', 'busybox']), 1);
  assert.equal(warmed(['--debug', 'container', 'exec', 'c', 'sh']), 1);
  assert.equal(warmed(['ps', '-a']), 0);
  // the value of --root is not the verb
  assert.equal(warmed(['--root', 'run', 'ps']), 0);
  assert.equal(warmed(['container', 'ls']), 0);
});

test('without the options line, the front leaves hull.cjs to its shebang', () => {
  const shebang = readFileSync(join(REPO, 'dist', 'hull.cjs'), 'utf8').split('\n', 1)[0]!;
  const f = front(`${shebang}\n${report}`);
  assert.deepEqual(f.run(['ps', '-a']), { execArgv: [], argv: ['ps', '-a'], children: 0 });
});

test('the built launcher asks for the young generation that start-up was measured with, and names the verbs to warm for', () => {
  const lines = readFileSync(join(REPO, 'dist', 'hull.cjs'), 'utf8').split('\n');
  assert.match(lines[1]!, /^\/\/ node-options: .*--min-semi-space-size=\d+/);
  assert.ok(lines.includes('// warm-cgroup-lock: run start restart exec'), lines.slice(0, 6).join('\n'));
});
