// pause, resume, kill --all and delete --force, on the host's v1 hierarchies and on a pure-v2
// layout rooted at the real cgroup2 mount (HULL_CGROUP_V2_ROOT), where cgroup.freeze and
// cgroup.kill work although no controller is enabled.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { bundle, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

interface Layout {
  name: 'v1' | 'v2';
  env: NodeJS.ProcessEnv;
  /** Whether the container's cgroup reports itself frozen, read from the kernel. */
  frozen(id: string): boolean;
}

const LAYOUTS: Layout[] = [
  {
    name: 'v1',
    env: { ...process.env, HULL_CGROUP_V2_ROOT: '' },
    frozen: (id) => readFileSync(`/sys/fs/cgroup/freezer/hull-test/${id}/freezer.state`, 'utf8').trim() === 'FROZEN',
  },
  {
    name: 'v2',
    env: { ...process.env, HULL_CGROUP_V2_ROOT: '/sys/fs/cgroup/unified' },
    frozen: (id) => /^frozen 1$/m.test(readFileSync(`/sys/fs/cgroup/unified/hull-test/${id}/cgroup.events`, 'utf8')),
  },
];

const ok = (L: Layout, args: string[]) => b!.ok(args, { env: L.env });
const rt = (L: Layout, args: string[]) => b!.rt(args, { env: L.env });

function fails(L: Layout, args: string[], message: RegExp): void {
  const r = rt(L, args);
  assert.notEqual(r.status, 0, `${args.join(' ')} should fail`);
  assert.match(r.stderr, message);
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A container that counts, forever, into /tmp/n of its rootfs. */
function counter(L: Layout): Bundle {
  b = bundle(['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done'], (s) => {
    s.root!.readonly = false;
  });
  ok(L, ['run', '-d', b.id]);
  return b;
}

const count = (c: Bundle) => {
  try {
    return readFileSync(join(c.rootfs, 'tmp/n'), 'utf8');
  } catch {
    return '';
  }
};

for (const L of LAYOUTS) {
  test(`${L.name}: pause freezes every process, state says paused, resume thaws`, async () => {
    const c = counter(L);
    await waitFor(() => count(c) !== '', 'the counter to start');
    if (L.name === 'v2') assert.ok(!existsSync(`/sys/fs/cgroup/freezer/hull-test/${c.id}`), 'the v2 layout makes no v1 cgroup');
    ok(L, ['pause', c.id]);
    assert.ok(L.frozen(c.id), 'the kernel reports the cgroup frozen');
    assert.equal(stateOf(c).status, 'paused');
    assert.ok(stateOf(c).pid > 0);
    assert.match(ok(L, ['list']), new RegExp(`${c.id}\\s+\\d+\\s+paused`));
    const before = count(c);
    await sleep(300);
    assert.equal(count(c), before, 'a paused container makes no progress');

    // ps reads the cgroup and /proc, neither of which a frozen process holds up
    const pids = JSON.parse(ok(L, ['ps', '--format', 'json', c.id])) as number[];
    assert.ok(pids.includes(stateOf(c).pid));
    assert.match(ok(L, ['ps', c.id]), /PID[\s\S]*sh -c/);

    fails(L, ['pause', c.id], /container not running/);
    fails(L, ['start', c.id], /cannot start a container in the paused state/);
    fails(L, ['exec', c.id, 'true'], /cannot exec in a paused container/);
    fails(L, ['delete', c.id], /cannot delete container \S+ that is not stopped: paused/);
    assert.equal(stateOf(c).status, 'paused', 'the refused verbs left it paused');

    ok(L, ['resume', c.id]);
    assert.ok(!L.frozen(c.id));
    assert.equal(stateOf(c).status, 'running');
    await waitFor(() => count(c) !== before, 'the counter to move again');
    fails(L, ['resume', c.id], /container not paused/);
    ok(L, ['delete', '--force', c.id]);
  });

  test(`${L.name}: a created container can be paused (as runc allows) and then not started until resumed`, async () => {
    b = bundle(['sh', '-c', 'echo ran > /tmp/ran; sleep 30'], (s) => {
      s.root!.readonly = false;
    });
    ok(L, ['create', b.id]);
    ok(L, ['pause', b.id]);
    assert.equal(stateOf(b).status, 'paused');
    fails(L, ['start', b.id], /paused state/);
    ok(L, ['resume', b.id]);
    assert.equal(stateOf(b).status, 'created');
    ok(L, ['start', b.id]);
    await waitFor(() => existsSync(join(b!.rootfs, 'tmp/ran')), 'the process to run');
    ok(L, ['delete', '--force', b.id]);
  });

  test(`${L.name}: pausing a stopped container and resuming a running one fail like runc`, async () => {
    b = bundle(['true']);
    ok(L, ['run', '-d', b.id]);
    await waitFor(() => stateOf(b!).status === 'stopped', 'the container to exit');
    fails(L, ['pause', b.id], /container not running/);
    fails(L, ['resume', b.id], /container not paused/);
    // kill --all of a stopped container is not an error in runc either: nothing is left to signal
    ok(L, ['kill', '--all', b.id, 'KILL']);
    ok(L, ['kill', '--all', b.id, 'TERM']);
    fails(L, ['pause', 'no-such-container'], /does not exist/);
    fails(L, ['resume', 'no-such-container'], /does not exist/);
    fails(L, ['pause'], /takes 1 argument/);
    fails(L, ['resume', b.id, 'extra'], /takes 1 argument/);
    ok(L, ['delete', b.id]);
  });

  // Without a pid namespace, a process that double-forks is re-parented outside the container,
  // so only the cgroup still knows it belongs there.
  for (const [signal, how] of [['KILL', 'cgroup.kill'], ['TERM', 'freeze, signal, thaw']] as const) {
    test(`${L.name}: kill --all ${signal} (${how}) reaches a process that double-forked away from init`, async () => {
      b = bundle(['sh', '-c', '(sh -c "echo \\$\\$ > /tmp/orphan; exec sleep 60" &); exec sleep 60'], (s) => {
        s.root!.readonly = false;
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      });
      ok(L, ['run', '-d', b.id]);
      const file = join(b.rootfs, 'tmp/orphan');
      await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), 'the orphan to write its pid');
      const orphan = Number(readFileSync(file, 'utf8'));
      const init = stateOf(b).pid;
      await waitFor(() => running(orphan) && parentOf(orphan) !== init, 'the orphan to be re-parented');
      ok(L, ['kill', '--all', b.id, signal]);
      await waitFor(() => !running(orphan) && !running(init), 'every process to die');
      assert.equal(stateOf(b).status, 'stopped');
      ok(L, ['delete', b.id]);
    });
  }

  test(`${L.name}: signals to a paused container wait for resume, except SIGKILL`, async () => {
    // (a signal whose default action kills, unhandled, is fatal and ends even a v2-frozen task;
    // a handled one waits)
    b = bundle(['sh', '-c', 'trap "echo got > /tmp/got; exit 0" TERM; while :; do sleep 0.05; done'], (s) => {
      s.root!.readonly = false;
    });
    ok(L, ['run', '-d', b.id]);
    const init = stateOf(b).pid;
    await sleep(100); // let the shell install its trap
    ok(L, ['pause', b.id]);
    ok(L, ['kill', '--all', b.id, 'TERM']);
    assert.equal(stateOf(b).status, 'paused', 'kill --all keeps a paused container paused');
    await sleep(200);
    assert.ok(running(init) && !existsSync(join(b.rootfs, 'tmp/got')), 'the trap runs only once thawed');
    ok(L, ['resume', b.id]);
    await waitFor(() => !running(init), 'the pending SIGTERM to take effect');
    assert.ok(existsSync(join(b.rootfs, 'tmp/got')));
    ok(L, ['delete', b.id]);

    b.cleanup();
    b = bundle(['sleep', '60']);
    ok(L, ['run', '-d', b.id]);
    const sleeper = stateOf(b).pid;
    ok(L, ['pause', b.id]);
    ok(L, ['kill', b.id, 'KILL']);
    await waitFor(() => !running(sleeper), 'SIGKILL to kill a paused container (it is thawed for it)');
    assert.equal(stateOf(b).status, 'stopped');
    ok(L, ['delete', b.id]);
  });

  test(`${L.name}: delete --force of a paused container kills everything in its cgroup and leaves nothing`, async () => {
    b = bundle(['sh', '-c', '(sh -c "echo \\$\\$ > /tmp/orphan; exec sleep 60" &); exec sleep 60'], (s) => {
      s.root!.readonly = false;
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    ok(L, ['run', '-d', b.id]);
    const file = join(b.rootfs, 'tmp/orphan');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), 'the orphan to write its pid');
    const orphan = Number(readFileSync(file, 'utf8'));
    const init = stateOf(b).pid;
    ok(L, ['pause', b.id]);
    ok(L, ['delete', '--force', b.id]);
    assert.ok(!running(orphan) && !running(init), 'every process of the container is dead');
    assert.notEqual(rt(L, ['state', b.id]).status, 0);
    // cleanup() checks that no cgroup, mount, process or state directory is left
  });

  if (L.name === 'v2') {
    // A fatal signal ends even a v2-frozen task, so the init can die while the rest stays frozen.
    test('v2: a paused container whose init was killed from outside is stopped, and delete clears the frozen rest', async () => {
      b = bundle(['sh', '-c', 'sleep 60 & exec sleep 61'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      });
      ok(L, ['run', '-d', b.id]);
      await waitFor(() => (JSON.parse(ok(L, ['ps', '--format', 'json', b!.id])) as number[]).length === 2, 'two processes');
      const pids = JSON.parse(ok(L, ['ps', '--format', 'json', b.id])) as number[];
      const init = stateOf(b).pid;
      ok(L, ['pause', b.id]);
      process.kill(init, 'SIGKILL');
      await waitFor(() => !running(init), 'the init to die');
      assert.equal(stateOf(b).status, 'stopped');
      assert.ok(L.frozen(b.id) && pids.some(running), 'the other process is still there, frozen');
      ok(L, ['delete', b.id]);
      assert.ok(!pids.some(running));
    });
  }

  test(`${L.name}: delete --force of a running container uses the whole cgroup`, async () => {
    b = bundle(['sh', '-c', 'sleep 60 & sleep 60 & wait']);
    ok(L, ['run', '-d', b.id]);
    await waitFor(() => (JSON.parse(ok(L, ['ps', '--format', 'json', b!.id])) as number[]).length === 3, 'three processes');
    const pids = JSON.parse(ok(L, ['ps', '--format', 'json', b.id])) as number[];
    ok(L, ['delete', '--force', b.id]);
    assert.ok(!pids.some(running));
  });
}
