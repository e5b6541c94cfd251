// Failures: each is reported clearly (naming the field, file, hook or limit), and a failed
// create leaves nothing behind: no process, mount, cgroup or state directory.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { assertNoLeaks, bundle, processesUnder, stateOf, type Bundle } from './harness.ts';
import type { Spec } from '../../src/runtime/spec/types.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

/**
 * Asserts what a failed create must leave: nothing. Checked before cleanup(), which would
 * delete a leftover container and so hide it.
 */
function assertNothingLeft(x: Bundle, id = x.id): void {
  // A process still in the bundle (hull-init's cwd; a container's root before pivot_root),
  // or one that pivoted (its root then reads "/") but is still in the container's cgroup.
  assert.deepEqual(processesUnder(x.dir), [], 'processes left behind');
  assert.deepEqual(processesInCgroup(`/hull-test/${x.id}`), [], 'processes left in the container cgroup');
  assert.ok(!existsSync(join(x.root, id)), `state directory ${id} left behind`);
  assertNoLeaks(x);
}

function processesInCgroup(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => l.endsWith(path) || l.includes(path + '/'))) found.push(pid);
    } catch {
      // gone
    }
  }
  return found;
}

/** create must fail with a message matching what; then nothing may be left. */
function createFails(x: Bundle, what: RegExp, args: string[] = []): string {
  const r = x.rt(['create', ...args, x.id]);
  assert.notEqual(r.status, 0, 'create should fail');
  assert.equal(r.stdout, '');
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace instead of a message');
  assertNothingLeft(x);
  return r.stderr;
}

function configWith(mutate: (s: Spec) => void, args = ['true']): Bundle {
  const x = bundle(args);
  mutate(x.spec);
  x.save();
  return x;
}

test('config.json that is not JSON', () => {
  b = bundle();
  writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.3.0", ');
  createFails(b, /^hull-runtime: config\.json: invalid JSON: /);
});

test('config.json with a value of the wrong type names the field', () => {
  b = configWith((s) => {
    (s.process as unknown as Record<string, unknown>).args = 'sh -c true';
  });
  createFails(b, /config\.json: process\.args: must be an array/);
});

test('config.json with an unknown namespace type names the field', () => {
  b = configWith((s) => {
    s.linux!.namespaces![0] = { type: 'bogus' as 'pid' };
  });
  createFails(b, /config\.json: linux\.namespaces\[0\]\.type: "bogus" is not one of/);
});

test('a missing rootfs', () => {
  b = bundle();
  rmSync(b.rootfs, { recursive: true });
  createFails(b, /root\.path: .*rootfs is not a directory/);
});

test('a missing binary names the executable, by path and through $PATH', () => {
  b = bundle(['/bin/no-such-program']);
  createFails(b, /\/bin\/no-such-program.*no such file or directory/);
  b.spec.process!.args = ['no-such-program', '--flag'];
  b.save();
  createFails(b, /executable no-such-program not found in \$PATH/);
  // No pid file for a container that never was; and run fails the same way.
  createFails(b, /no-such-program/, ['--pid-file', join(b.dir, 'pid')]);
  assert.ok(!existsSync(join(b.dir, 'pid')), 'a pid file was written for a failed create');
  const r = b.rt(['run', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /executable no-such-program not found in \$PATH/);
  assertNothingLeft(b);
});

test('a bind mount whose source does not exist', () => {
  b = configWith((s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/hull-source', options: ['rbind'] });
  });
  createFails(b, /mounts: \/data: bind source \/nonexistent\/hull-source does not exist/);
});

test('a mount that fails inside hull-init, after other mounts were made', () => {
  b = configWith((s) => {
    s.mounts!.push({ destination: '/data', type: 'no-such-fs', source: 'none' });
  });
  createFails(b, /mount no-such-fs on \/data: .*no such device/);
});

test('a failing createRuntime hook: its status and stderr are reported, and the container is gone', () => {
  b = configWith((s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo the-hook-said-no >&2; exit 3'] }] };
  });
  createFails(b, /createRuntime hook \/bin\/sh failed: exit status 3: the-hook-said-no/);
});

test('a failing createContainer hook (run inside the container) leaves nothing either', () => {
  b = configWith((s) => {
    s.hooks = { createContainer: [{ path: '/bin/false' }] };
  });
  createFails(b, /createContainer hook \/bin\/false failed/);
});

test('a namespace path that does not exist', () => {
  b = configWith((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/no-such-ns' } : n));
  });
  createFails(b, /\/proc\/self\/ns\/no-such-ns: no such file or directory/);
});

test('an rlimit above the hard limit fails clearly (root lacks CAP_SYS_RESOURCE here)', () => {
  const hard = Number(/^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'NaN');
  assert.ok(Number.isFinite(hard), 'the host has a finite hard RLIMIT_NOFILE (MACHINE.md: 20000)');
  b = configWith((s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard + 1, hard: hard + 1 }];
  });
  createFails(b, new RegExp(`process\\.rlimits\\[0\\]: RLIMIT_NOFILE hard limit ${hard + 1} is above this host's hard limit ${hard}.*CAP_SYS_RESOURCE`));
  // At the limit it works.
  b.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard, hard }];
  b.spec.process!.args = ['sh', '-c', 'ulimit -Hn'];
  b.save();
  assert.equal(b.ok(['run', b.id]), `${hard}\n`);
});

test('an invalid container id is refused before anything is made', () => {
  b = bundle(['sleep', '30']);
  for (const id of ['../x', 'a/b', '..', '', 'x y', '.seccomp']) {
    const r = b.rt(['create', id]);
    assert.notEqual(r.status, 0, `id ${JSON.stringify(id)}`);
    assert.match(r.stderr, /invalid container id/, `id ${JSON.stringify(id)}: ${r.stderr}`);
  }
  assert.ok(!existsSync(join(b.dir, 'x')), 'a state directory was made outside the root');
  assert.ok(!existsSync(join(b.root, 'a')));
  assert.deepEqual(existsSync(b.root) ? readdirSync(b.root) : [], []);
  assertNothingLeft(b);
});

test('--systemd-cgroup fails clearly: the systemd driver is not supported', () => {
  b = bundle(['sleep', '30']);
  const r = b.rt(['--systemd-cgroup', 'create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--systemd-cgroup: the systemd cgroup driver is not supported/);
  assertNothingLeft(b);
  // A systemd-style cgroupsPath (slice:prefix:name) says the same.
  b.spec.linux!.cgroupsPath = 'system.slice:hull:test';
  b.save();
  createFails(b, /systemd cgroup driver is not supported/);
});

test('start of a container that does not exist', () => {
  b = bundle();
  const r = b.rt(['start', 'no-such-container']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /container no-such-container does not exist/);
  assertNothingLeft(b, 'no-such-container');
});

test('kill with an unknown signal fails and leaves the container alone', () => {
  b = bundle(['sleep', '30']);
  b.ok(['create', b.id]);
  for (const sig of ['SIGNOPE', 'NOPE', '65', '-9']) {
    const r = b.rt(['kill', b.id, sig]);
    assert.notEqual(r.status, 0, `kill ${sig}`);
    assert.match(r.stderr, /signal/, `kill ${sig}: ${r.stderr}`);
  }
  assert.equal(stateOf(b).status, 'created');
  b.ok(['kill', b.id, 'KILL']);
  b.ok(['delete', '--force', b.id]);
  assertNothingLeft(b);
});
