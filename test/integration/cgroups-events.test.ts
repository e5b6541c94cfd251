// `events`: statistics in runc's JSON (compared byte for byte with the real runc reading the
// same cgroup), streaming until the container stops, and OOM kills reported as they happen.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { RUNTIME, bundle, runCaptured, spawn, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

const V2_ENV = { ...process.env, HULL_CGROUP_V2_ROOT: '/sys/fs/cgroup/unified' };
const V1_ENV = { ...process.env, HULL_CGROUP_V2_ROOT: '' };

interface Stream {
  lines(): { type: string; id: string; data?: Record<string, unknown> }[];
  exited: Promise<number | null>;
  stderr(): string;
}

/** `events` in the background, its output going to files (never a pipe a container might hold). */
function startEvents(c: Bundle, args: string[], env: NodeJS.ProcessEnv = process.env): Stream {
  const out = join(c.dir, `events-${Date.now()}.out`);
  const err = out.replace(/out$/, 'err');
  const fo = openSync(out, 'w');
  const fe = openSync(err, 'w');
  const p = spawn(RUNTIME, ['--root', c.root, 'events', ...args, c.id], { cwd: c.dir, env, stdio: ['ignore', fo, fe] });
  closeSync(fo);
  closeSync(fe);
  return {
    lines: () => readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    exited: new Promise((r) => p.on('exit', (code) => r(code))),
    stderr: () => readFileSync(err, 'utf8'),
  };
}

test('v1: events --stats prints what runc events --stats prints for the same cgroup, byte for byte', async () => {
  b = bundle(['sh', '-c', 'echo x > /tmp/f; exec sleep 60']);
  const runc = (args: string[]) =>
    runCaptured(b!.dir, 'runc', ['--root', join(b!.dir, 'runc-state'), ...args], { env: V1_ENV });
  const runcId = `${b.id}-runc`;
  // runc's container makes the cgroup; hull's joins it, so that both read the very same files
  const made = runc(['run', '-d', '-b', b.dir, runcId]);
  assert.equal(made.status, 0, `runc run: ${made.stderr}`);
  try {
    b.ok(['run', '-d', b.id], { env: V1_ENV });
    let hull = '';
    let theirs = '';
    for (let i = 0; i < 20; i++) {
      // the processes only sleep, so the counters hold still between two of our readings
      const before = b.ok(['events', '--stats', b.id]);
      const r = runc(['events', '--stats', runcId]);
      assert.equal(r.status, 0, r.stderr);
      const after = b.ok(['events', '--stats', b.id]);
      hull = before;
      theirs = r.stdout.replace(`"id":"${runcId}"`, `"id":"${b.id}"`);
      if (before === after && theirs === before) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(hull, theirs);
    const data = JSON.parse(hull).data;
    // at least: pids.current also counts an exited hull-init until this machine's lazy pid 1 reaps it
    assert.ok(data.pids.current >= 2, `both containers' processes are in the cgroup (pids.current ${data.pids.current})`);
    assert.ok(data.memory.usage.usage > 0 && data.memory.raw.total_rss !== undefined);
    assert.ok(data.cpu.usage.total > 0 && data.cpu.usage.percpu.length > 0);
  } finally {
    b.rt(['delete', '--force', b.id]); // cgroup.kill: runc's process goes too
    runc(['delete', '--force', runcId]);
  }
});

test('v2 layout: events --stats reads the cgroup2 tree (cpu.stat, processes) with runc\'s field names', () => {
  b = bundle(['sh', '-c', 'sleep 60 & sleep 60']);
  b.ok(['run', '-d', b.id], { env: V2_ENV });
  const ev = JSON.parse(b.ok(['events', '--stats', b.id]));
  assert.equal(ev.type, 'stats');
  assert.equal(ev.id, b.id);
  const d = ev.data;
  assert.deepEqual(Object.keys(d), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  assert.ok(d.cpu.usage.total > 0, 'cpu.stat counts without the cpu controller');
  assert.ok('kernel' in d.cpu.usage && 'user' in d.cpu.usage);
  assert.equal(d.pids.current, 2, 'counted from cgroup.procs without the pids controller');
  // no memory, io or hugetlb controller on this cgroup2 tree: runc reports zeros, and so do we
  assert.deepEqual(d.memory, { usage: { limit: 0, failcnt: 0 }, swap: { limit: 0, failcnt: 0 }, kernel: { limit: 0, failcnt: 0 }, kernelTCP: { limit: 0, failcnt: 0 } });
  assert.deepEqual(d.blkio, {});
  assert.deepEqual(d.hugetlb, {});
  b.ok(['delete', '--force', b.id]);
});

for (const [name, env] of [['v1', V1_ENV], ['v2', V2_ENV]] as const) {
  test(`${name}: events streams stats every --interval and ends by itself when the container stops`, async () => {
    b = bundle(['sleep', '60']);
    b.ok(['run', '-d', b.id], { env });
    const ev = startEvents(b, ['--interval', '100ms']);
    await waitFor(() => ev.lines().length >= 2, 'two stats events');
    // a paused container still reports
    b.ok(['pause', b.id]);
    const n = ev.lines().length;
    await waitFor(() => ev.lines().length > n, 'stats of the paused container');
    b.ok(['resume', b.id]);
    b.ok(['kill', b.id, 'KILL']);
    assert.equal(await ev.exited, 0, ev.stderr());
    for (const l of ev.lines()) {
      assert.equal(l.type, 'stats');
      assert.equal(l.id, b.id);
      assert.ok(l.data && 'cpu' in l.data && 'memory' in l.data);
    }
    b.ok(['delete', b.id]);
  });
}

test('events refuses a stopped container, a missing one, and a bad --interval', async () => {
  b = bundle(['true']);
  b.ok(['run', '-d', b.id]);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to exit');
  const cases: [string[], RegExp][] = [
    [['events', b.id], /container with id \S+ is not running/],
    [['events', '--stats', b.id], /container with id \S+ is not running/],
    [['events', 'no-such-container'], /does not exist/],
    [['events', '--interval', '0s', b.id], /duration interval must be greater than 0/],
    [['events', '--interval', '-5s', b.id], /duration interval must be greater than 0/],
    [['events', '--interval', 'soon', b.id], /--interval: invalid duration "soon"/],
    [['events', '--interval', '5', b.id], /--interval: invalid duration "5"/],
    [['events'], /takes 1 argument/],
  ];
  for (const [args, message] of cases) {
    const r = b.rt(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  b.ok(['delete', b.id]);
});

/**
 * A container that waits for /tmp/go, then has dd fill a 64 MiB buffer: beyond the limit,
 * the OOM killer kills dd (the largest process) and the shell goes on sleeping.
 */
function oomBundle(limit?: number): Bundle {
  return bundle(['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.02; done; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 60'], (s) => {
    s.root!.readonly = false;
    if (limit !== undefined) s.linux!.resources = { ...s.linux!.resources, memory: { limit } };
  });
}

async function expectOom(c: Bundle): Promise<void> {
  const ev = startEvents(c, ['--interval', '50ms'], V1_ENV);
  // the first stats line means events is up and has its starting OOM count
  await waitFor(() => ev.lines().length > 0, 'events to start');
  writeFileSync(join(c.rootfs, 'tmp/go'), '');
  await waitFor(() => ev.lines().some((l) => l.type === 'oom'), 'an oom event');
  const oom = ev.lines().find((l) => l.type === 'oom')!;
  assert.deepEqual(oom, { type: 'oom', id: c.id }, 'runc\'s oom event has no data');
  assert.equal(stateOf(c).status, 'running', 'the OOM killer took dd, not the init');
  c.ok(['kill', c.id, 'KILL']);
  assert.equal(await ev.exited, 0, ev.stderr());
  c.ok(['delete', c.id]);
}

test('v1: an OOM kill in the container is an oom event (limit written to the cgroup)', async () => {
  b = oomBundle();
  b.ok(['create', b.id], { env: V1_ENV });
  const mem = `/sys/fs/cgroup/memory/hull-test/${b.id}`;
  writeFileSync(join(mem, 'memory.limit_in_bytes'), String(32 << 20));
  b.ok(['start', b.id]);
  await expectOom(b);
});

test('v1: an OOM kill under linux.resources.memory.limit is an oom event', async () => {
  b = oomBundle(32 << 20);
  b.ok(['create', b.id], { env: V1_ENV });
  assert.equal(Number(readFileSync(`/sys/fs/cgroup/memory/hull-test/${b.id}/memory.limit_in_bytes`, 'utf8')), 32 << 20);
  b.ok(['start', b.id]);
  await expectOom(b);
});
