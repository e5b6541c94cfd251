// Load: 50 `hull run -d` at once and then 50 `hull rm -f` at once all succeed and leak nothing;
// two hull commands on the same container at once (stop + rm -f, start + start, ...) are safe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertClean, engine, type Engine } from './helpers/engine.ts';
import { allIds, assertConsistent, inspectOne } from './helpers/engine-state.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());
// a failed test must not leave its containers to the next one (each test checks for leaks itself)
afterEach(() => {
  const ids = allIds(e);
  if (ids.length) e.run(['rm', '-f', ...ids]);
});

interface Result {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hull args` without blocking the test process, so that many run at once. */
function hull(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = e.spawn(args);
    child.stdin!.end();
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ args, status, stdout, stderr }));
  });
}

function assertAllOk(results: Result[]): void {
  const failed = results.filter((r) => r.status !== 0).map((r) => `hull ${r.args.join(' ')} exited ${r.status}: ${r.stderr}`);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} failed`);
}

describe('50 containers at once', () => {
  it('50 run -d at once all succeed with distinct ids and names, then 50 rm -f at once leave nothing', async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, () => hull(['run', '-d', 'busybox', 'sleep', '1000'])));
    assertAllOk(runs);
    const ids = runs.map((r) => r.stdout.trim());
    for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(new Set(ids).size, 50);
    assert.deepEqual(allIds(e), [...ids].sort());
    const names = e.ok(['ps', '--format', '{{.Names}}']).split('\n');
    assert.equal(new Set(names).size, 50, 'every container got its own name');
    for (const id of ids) assert.equal(inspectOne(e, id).State.Running, true);
    assertConsistent(e);

    const removals = await Promise.all(ids.map((id) => hull(['rm', '-f', id])));
    assertAllOk(removals);
    for (const r of removals) assert.equal(r.stdout.trim(), r.args[2]);
    assert.deepEqual(allIds(e), []);
    assertClean(e, ids);
  });

  it('50 foreground run --rm at once all exit with their own code and leave nothing', async () => {
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => hull(['run', '--rm', 'busybox', 'sh', '-c', `echo ${i}; exit ${i % 7}`])));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.status, i % 7, `run ${i}: ${r.stderr}`);
      assert.equal(r.stdout, `${i}\n`);
    }
    assert.deepEqual(allIds(e), []);
    assertClean(e, []);
  });

  it('named containers at once: one name, one winner, the rest get docker\'s conflict', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => hull(['run', '-d', '--name', 'contested', 'busybox', 'sleep', '1000'])));
    const won = runs.filter((r) => r.status === 0);
    assert.equal(won.length, 1, runs.map((r) => r.stderr).join(''));
    for (const r of runs.filter((x) => x.status !== 0)) {
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, /The container name "\/contested" is already in use by container/);
    }
    assert.deepEqual(allIds(e), [won[0]!.stdout.trim()]);
    assertConsistent(e);
    e.ok(['rm', '-f', 'contested']);
    assertClean(e, []);
  });
});

describe('two commands on one container at once', () => {
  async function pair(setup: () => string, a: string[], b: string[]): Promise<{ id: string; results: Result[] }> {
    const id = setup();
    const results = await Promise.all([hull([...a, id]), hull([...b, id])]);
    return { id, results };
  }
  const running = () => e.ok(['run', '-d', 'busybox', 'sleep', '1000']);
  const created = () => e.ok(['create', 'busybox', 'sleep', '1000']);

  it('stop + rm -f: rm -f succeeds, stop succeeds or finds no container, nothing leaks', async () => {
    for (let i = 0; i < 5; i++) {
      const { id, results: [stop, rm] } = await pair(running, ['stop', '-t', '1'], ['rm', '-f']);
      assert.equal(rm!.status, 0, rm!.stderr);
      if (stop!.status !== 0) assert.match(stop!.stderr, /No such container/);
      assert.deepEqual(allIds(e), []);
      assertClean(e, [id]);
    }
  });

  it('rm -f + rm -f: the container goes, and each either succeeds or says why not', async () => {
    for (let i = 0; i < 5; i++) {
      const { id, results } = await pair(running, ['rm', '-f'], ['rm', '-f']);
      assert.ok(results.some((r) => r.status === 0), results.map((r) => r.stderr).join(''));
      for (const r of results.filter((x) => x.status !== 0)) assert.match(r.stderr, /No such container|removal of container .* is already in progress/);
      assert.deepEqual(allIds(e), []);
      assertClean(e, [id]);
    }
  });

  it('start + start: both succeed and the container runs once', async () => {
    for (let i = 0; i < 5; i++) {
      const { id, results } = await pair(created, ['start'], ['start']);
      assertAllOk(results);
      const c = inspectOne(e, id);
      assert.equal(c.State.Running, true);
      assertConsistent(e);
      const procs = readFileSync(`/sys/fs/cgroup/pids/hull/${id}/cgroup.procs`, 'utf8').trim().split('\n');
      assert.equal(procs.length, 1, 'one process, not two');
      e.ok(['rm', '-f', id]);
    }
    assertClean(e, []);
  });

  it('start + rm -f: the container goes, and nothing is left running or mounted', async () => {
    for (let i = 0; i < 5; i++) {
      const { id, results: [start, rm] } = await pair(created, ['start'], ['rm', '-f']);
      assert.equal(rm!.status, 0, rm!.stderr);
      if (start!.status !== 0) assert.match(start!.stderr, /No such container|marked for removal/);
      assert.deepEqual(allIds(e), []);
      assertClean(e, [id]);
    }
  });

  it('stop + start, kill + stop, restart + restart: the container ends up consistent', async () => {
    for (const [a, b] of [[['stop', '-t', '1'], ['start']], [['kill'], ['stop', '-t', '1']], [['restart', '-t', '1'], ['restart', '-t', '1']]] as const) {
      const { id, results } = await pair(running, [...a], [...b]);
      for (const r of results) assert.ok(r.status === 0 || /is not running/.test(r.stderr), `${r.args.join(' ')}: ${r.stderr}`);
      assertConsistent(e, `${a[0]} + ${b[0]}: `);
      e.ok(['rm', '-f', id]);
    }
    assertClean(e, []);
  });
});
