// Faults: the CLI killed with SIGKILL at any point of `hull run` (and of start, stop and rm -f),
// and a container's shim killed under a foreground run. After each, the next hull command finds every container in a state its
// mounts, cgroups and processes agree with, and `rm -f` of all of them leaves nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from './harness.ts';
import { assertClean, engine, engineProcesses, findProcess, type Engine } from './helpers/engine.ts';
import { allIds, assertConsistent, inspectIfAny, inspectOne } from './helpers/engine-state.ts';

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

/** Starts `hull args`, SIGKILLs it after `ms` (unless it finished first), and waits for it to go. */
async function killAfter(args: string[], ms: number): Promise<number | null> {
  const child = e.spawn(args);
  child.stdin!.end();
  child.stdout!.resume();
  child.stderr!.resume();
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code] = await exited;
  clearTimeout(timer);
  return code as number | null;
}

/** Delays spread over a run's whole life (it takes ~200 ms here), different on every iteration. */
function delays(n: number, maxMs: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round((i / (n - 1)) * maxMs * (0.8 + Math.random() * 0.4)));
}

/**
 * Every container a fault left must still work: start what is not running (attached, for a
 * command that exits by itself, which then must exit with its own code), then rm -f all.
 */
function removeAll(exitCode?: number): void {
  const ids = allIds(e);
  for (const id of ids) {
    const c = inspectOne(e, id);
    if (c.State.Running) continue;
    const r = e.run(exitCode === undefined ? ['start', id] : ['start', '-a', id]);
    assert.equal(r.status, exitCode ?? 0, `a container left by a fault cannot start again: ${r.stderr}`);
  }
  const left = allIds(e);
  if (left.length) e.ok(['rm', '-f', ...left]);
  assert.deepEqual(allIds(e), []);
  assertClean(e, ids);
}

describe('kill -9 of the CLI during run', () => {
  it('run -d: each kill leaves consistent containers', async () => {
    for (const ms of delays(20, 400)) {
      await killAfter(['run', '-d', 'busybox', 'sleep', '1000'], ms);
      assertConsistent(e, `run -d killed after ${ms} ms: `);
    }
    removeAll();
  });

  it('foreground run --rm: each kill leaves consistent containers', async () => {
    for (const ms of delays(20, 400)) {
      await killAfter(['run', '--rm', 'busybox', 'sleep', '1000'], ms);
      assertConsistent(e, `run --rm killed after ${ms} ms: `);
    }
    removeAll();
  });

  it('foreground run of a short command: a killed CLI never keeps the cleanup from happening', async () => {
    for (const ms of delays(12, 300)) {
      await killAfter(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 0.1; exit 3'], ms);
      await killAfter(['run', 'busybox', 'sh', '-c', 'sleep 0.1; exit 3'], ms);
      // the shim's exit command finishes the cleanup on its own: wait for it, then check
      await waitFor(() => allIds(e).every((id) => ['created', 'exited', undefined].includes(inspectIfAny(e, id)?.State.Status)), 'the containers to exit', 20_000);
      assertConsistent(e, `short run killed after ${ms} ms: `);
      for (const id of allIds(e)) {
        const c = inspectIfAny(e, id);
        // one that never started (the CLI died before start) stays created, as docker's does
        if (c?.HostConfig.AutoRemove) assert.equal(c.State.Status, 'created', 'a --rm container that ran is removed when it exits');
      }
    }
    removeAll(3);
  });
});

describe('kill -9 of the CLI during start, stop and rm -f', () => {
  it('each kill leaves consistent containers, and a half-done removal is finished by the next command', async () => {
    const ms = delays(10, 250);
    for (let i = 0; i < ms.length; i++) {
      const id = e.ok(['create', 'busybox', 'sleep', '1000']);
      await killAfter(['start', id], ms[i]!);
      assertConsistent(e, `start killed after ${ms[i]} ms: `);
      if (!inspectOne(e, id).State.Running) e.ok(['start', id]);
      await killAfter(['stop', '-t', '0', id], ms[i]!);
      assertConsistent(e, `stop killed after ${ms[i]} ms: `);
      await killAfter(['rm', '-f', id], ms[i]!);
      assertConsistent(e, `rm -f killed after ${ms[i]} ms: `);
      const left = allIds(e);
      if (left.includes(id)) e.ok(['rm', '-f', id]);
    }
    removeAll();
  });
});

describe('kill -9 of a shim', () => {
  it('a foreground run does not hang: it exits non-zero and the container shows as exited', async () => {
    const child = e.spawn(['run', '--name', 'fg', 'busybox', 'sleep', '1000']);
    child.stdin!.end();
    child.stdout!.resume();
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = once(child, 'exit');
    let shim: number | undefined;
    await waitFor(() => e.run(['inspect', 'fg']).status === 0 && inspectOne(e, 'fg').State.Running && (shim = findProcess('hull-shim', inspectOne(e, 'fg').Id)) !== undefined, 'the container to run');
    process.kill(shim!, 'SIGKILL');
    const [code] = await exited;
    assert.notEqual(code, 0, `the CLI exited 0 after its shim died: ${stderr}`);
    assert.notEqual(code, null);
    await waitFor(() => !existsSync(`/proc/${shim}`), 'the shim to go');
    const c = inspectOne(e, 'fg');
    assert.equal(c.State.Status, 'exited');
    assert.match(c.State.Error, /hull-shim/);
    assertConsistent(e, 'after the shim was killed: ');
    e.ok(['rm', 'fg']);
  });

  it('a foreground run --rm whose shim is killed removes its container', async () => {
    const child = e.spawn(['run', '--rm', '--name', 'fgrm', 'busybox', 'sleep', '1000']);
    child.stdin!.end();
    child.stdout!.resume();
    child.stderr!.resume();
    const exited = once(child, 'exit');
    let shim: number | undefined;
    await waitFor(() => e.run(['inspect', 'fgrm']).status === 0 && inspectOne(e, 'fgrm').State.Running && (shim = findProcess('hull-shim', inspectOne(e, 'fgrm').Id)) !== undefined, 'the container to run');
    process.kill(shim!, 'SIGKILL');
    const [code] = await exited;
    assert.notEqual(code, 0);
    assert.equal(e.run(['inspect', 'fgrm']).status, 1, 'the container is removed');
    assertConsistent(e, 'after the shim of a --rm container was killed: ');
  });

  it('a killed shim of a detached container: the next command finds it exited, and it starts again', async () => {
    const id = e.ok(['run', '-d', 'busybox', 'sleep', '1000']);
    const shim = findProcess('hull-shim', id)!;
    process.kill(shim, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${shim}`), 'the shim to go');
    assertConsistent(e, 'after a detached shim was killed: ');
    assert.equal(inspectOne(e, id).State.Status, 'exited');
    e.ok(['start', id]);
    assert.equal(inspectOne(e, id).State.Running, true);
    e.ok(['rm', '-f', id]);
    assertConsistent(e);
  });
});

describe('kill -9 of a container\'s exit command', () => {
  it('a restart policy\'s waiting cleanup killed during the backoff leaves the container exited, not restarting for ever', async () => {
    const id = e.ok(['run', '-d', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    // by the third restart the backoff is long enough to find the waiting process
    await waitFor(() => inspectOne(e, id).RestartCount >= 3 && inspectOne(e, id).State.Status === 'restarting', 'a long backoff', 30_000);
    const waiting = findProcess('node', `cleanup\0${id}`);
    assert.ok(waiting, 'the exit command waits to restart the container');
    process.kill(waiting!, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${waiting}`), 'the exit command to go');
    // (a run it had just started may still be ending: its own exit command then finds no restart to do)
    await waitFor(() => allIds(e).length === 1 && engineProcesses(e).length === 0, 'the engine to be idle', 20_000);
    assertConsistent(e, 'after the restarter was killed: ');
    const c = inspectOne(e, id);
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.Restarting, false);
    // the user can start it again, and the policy applies again
    e.ok(['start', id]);
    await waitFor(() => inspectOne(e, id).RestartCount >= 1, 'restarts again');
    e.ok(['rm', '-f', id]);
    assertConsistent(e);
  });
});
