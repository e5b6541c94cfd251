// Restart policies, run by each container's shim through `hull container cleanup`: on-failure:N
// restarts N times, always restarts after exit 0, a user's stop (or kill) ends the restarts, and a
// foreground run exits with the container's code while the policy keeps restarting it. Docker's
// backoff (100 ms, doubling) is followed; the tests assert counts and states, never timings.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from './harness.ts';
import { engine, engineProcesses, type Engine } from './helpers/engine.ts';
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

function state(ref: string): { status: string; count: number; exitCode: number; running: boolean } {
  const c = inspectOne(e, ref);
  return { status: c.State.Status, count: c.RestartCount, exitCode: c.State.ExitCode, running: c.State.Running };
}

/** Waits until no restart is pending or under way: the container is exited and no cleanup process is left. */
async function settled(ref: string, ms = 30_000): Promise<void> {
  await waitFor(() => state(ref).status === 'exited' && engineProcesses(e).length === 0, `${ref} to settle`, ms);
}

/** Lets a pending restart (if any were wrongly scheduled) show itself: the longest first backoff and a start. */
async function quietFor(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('restart policies', () => {
  it('on-failure:3 restarts a failing container three times, then leaves it exited', async () => {
    e.ok(['run', '-d', '--name', 'of3', '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 2']);
    await waitFor(() => state('of3').count === 3, 'three restarts', 30_000);
    await settled('of3');
    await quietFor(1500);
    assert.deepEqual(state('of3'), { status: 'exited', count: 3, exitCode: 2, running: false });
    const c = inspectOne(e, 'of3');
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assertConsistent(e);
    // a user's start resets the count, as docker's does, and the policy applies again
    e.ok(['start', 'of3']);
    await waitFor(() => state('of3').count === 3, 'three more restarts', 30_000);
    await settled('of3');
    e.ok(['rm', 'of3']);
  });

  it('on-failure does not restart a container that exits 0', async () => {
    e.ok(['run', '-d', '--name', 'of0', '--restart', 'on-failure', 'busybox', 'true']);
    await settled('of0');
    await quietFor(1000);
    assert.deepEqual(state('of0'), { status: 'exited', count: 0, exitCode: 0, running: false });
    e.ok(['rm', 'of0']);
  });

  it('always restarts after exit 0, and stop ends it: no restart after a user stop', async () => {
    e.ok(['run', '-d', '--name', 'alw', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
    await waitFor(() => state('alw').count >= 2, 'two restarts', 30_000);
    e.ok(['stop', '-t', '1', 'alw']);
    await settled('alw');
    const stopped = state('alw');
    await quietFor(1500);
    assert.deepEqual(state('alw'), stopped, 'nothing restarted it after the stop');
    assert.equal(stopped.status, 'exited');
    assertConsistent(e);
    e.ok(['rm', 'alw']);
  });

  it('unless-stopped restarts until stopped, and a stop during the backoff wait is final too', async () => {
    e.ok(['run', '-d', '--name', 'uls', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'exit 1']);
    await waitFor(() => state('uls').count >= 2, 'two restarts', 30_000);
    // the container exits at once, so most of its time is spent waiting to restart
    e.ok(['stop', 'uls']);
    await settled('uls');
    const stopped = state('uls');
    await quietFor(1500);
    assert.deepEqual(state('uls'), stopped);
    assertConsistent(e);
    e.ok(['rm', 'uls']);
  });

  it('always does not restart after kill either (docker counts it as a user stop)', async () => {
    e.ok(['run', '-d', '--name', 'alk', '--restart', 'always', 'busybox', 'sleep', '1000']);
    e.ok(['kill', 'alk']);
    await settled('alk');
    await quietFor(1000);
    assert.deepEqual(state('alk'), { status: 'exited', count: 0, exitCode: 137, running: false });
    e.ok(['rm', 'alk']);
  });

  it('a foreground run with --restart always exits with the container\'s code while the container restarts', async () => {
    const r = e.run(['run', '--name', 'fga', '--restart', 'always', 'busybox', 'sh', '-c', 'echo ran; sleep 0.2; exit 3']);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    await waitFor(() => state('fga').count >= 2, 'restarts after the CLI left', 30_000);
    e.ok(['stop', '-t', '1', 'fga']);
    await settled('fga');
    assertConsistent(e);
    e.ok(['rm', 'fga']);
  });

  it('rm -f of a restarting container removes it and stops the restarts', async () => {
    e.ok(['run', '-d', '--name', 'rmr', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    await waitFor(() => state('rmr').count >= 1, 'a restart', 30_000);
    e.ok(['rm', '-f', 'rmr']);
    await waitFor(() => engineProcesses(e).length === 0, 'the restarter to give up');
    assert.equal(e.run(['inspect', 'rmr']).status, 1);
    assertConsistent(e);
  });

  it('the restart count and status show in ps and inspect while it restarts', async () => {
    e.ok(['run', '-d', '--name', 'shw', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 4']);
    await waitFor(() => state('shw').count === 2, 'two restarts', 30_000);
    await settled('shw');
    assert.match(e.ok(['ps', '-a', '--filter', 'name=shw', '--format', '{{.Status}}']), /^Exited \(4\)/);
    assert.equal(e.ok(['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}}', 'shw']), '2 4');
    e.ok(['rm', 'shw']);
  });
});
