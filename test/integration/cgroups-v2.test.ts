// A pure cgroup v2 host, for real: HULL_CGROUP_V2_ROOT points hull-runtime at this host's
// cgroup2 mount (which has no controllers), so containers are made, joined and removed in
// the v2 tree alone, and a limit that needs a controller fails by name and leaves nothing.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { assertNoLeaks, bundle, stateOf, type Bundle } from './harness.ts';

const V2 = '/sys/fs/cgroup/unified';
const env = { ...process.env, HULL_CGROUP_V2_ROOT: V2 };

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

/** v1 hierarchies in which a container dir of this id exists. */
const v1Dirs = (x: Bundle) => readdirSync('/sys/fs/cgroup').filter((c) => c !== 'unified' && existsSync(join('/sys/fs/cgroup', c, 'hull-test', x.id)));

test('v2 knob: the container lives in the cgroup2 tree alone, and leaves it on delete', () => {
  b = bundle(['sleep', '100']);
  b.ok(['run', '--detach', b.id], { env });
  const pid = stateOf(b).pid;
  const dir = join(V2, 'hull-test', b.id);
  assert.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::')), `0::/hull-test/${b.id}`);
  assert.deepEqual(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n'), [String(pid)]);
  assert.deepEqual(v1Dirs(b), [], 'no v1 directories on a v2 host');
  const ps = b.ok(['ps', b.id], { env });
  assert.match(ps, /sleep 100/);
  b.ok(['delete', '--force', b.id], { env });
  assert.ok(!existsSync(dir));
});

test('v2 knob: a relative cgroupsPath hangs below the parent of the runtime\'s own cgroup', () => {
  const name = `hull-rel-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  b = bundle(['true'], (s) => {
    s.linux!.cgroupsPath = `${name}/inner`;
  });
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
  const parent = join(V2, own === '/' ? '/' : join(own, '..'));
  try {
    b.ok(['create', b.id], { env });
    assert.ok(existsSync(join(parent, name, 'inner', 'cgroup.procs')));
    b.ok(['delete', '--force', b.id], { env });
    assert.ok(!existsSync(join(parent, name)), 'the levels create made are gone');
  } finally {
    b.rt(['delete', '--force', b.id], { env });
  }
});

test('v2 knob: a limit whose controller the tree lacks fails by name and leaves nothing', () => {
  for (const [resources, what] of [
    [{ memory: { limit: 64 << 20 } }, /linux\.resources\.memory\.limit: needs the memory controller, which is not enabled for \/sys\/fs\/cgroup\/unified\/hull-test\/\S+ \(its cgroup\.controllers lists none; the parent cgroup must delegate it in cgroup\.subtree_control\)/],
    [{ pids: { limit: 10 } }, /linux\.resources\.pids\.limit: needs the pids controller/],
    [{ cpu: { shares: 512 } }, /linux\.resources\.cpu\.shares: needs the cpu controller/],
    [{ memory: { swappiness: 10 } }, /linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/],
    [{ cpu: { realtimeRuntime: 1000 } }, /linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime CPU controls/],
    [{ network: { classID: 1 } }, /linux\.resources\.network: cgroup v2 has no net_cls or net_prio controller/],
    [{ unified: { 'memory.high': '1' } }, /linux\.resources\.unified\["memory\.high"\]: needs the memory controller, which is not enabled/],
    [{ unified: { 'cgroup.procs': '1' } }, /linux\.resources\.unified\["cgroup\.procs"\]: cgroup\.procs is managed by the runtime/],
  ] as const) {
    const x = bundle(['true'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, ...resources };
    });
    try {
      const r = x.rt(['create', x.id], { env });
      assert.notEqual(r.status, 0, `create should fail (${what})`);
      assert.match(r.stderr, what);
      assertNoLeaks(x);
    } finally {
      x.cleanup();
    }
  }
});

test('v2 knob: unified keys for the core files are applied for real', () => {
  b = bundle(['true'], (s) => {
    s.linux!.resources = { ...s.linux!.resources, unified: { 'cgroup.max.depth': '2', 'cgroup.max.descendants': '5' } };
  });
  b.ok(['create', b.id], { env });
  const dir = join(V2, 'hull-test', b.id);
  assert.equal(readFileSync(join(dir, 'cgroup.max.depth'), 'utf8').trim(), '2');
  assert.equal(readFileSync(join(dir, 'cgroup.max.descendants'), 'utf8').trim(), '5');
});
