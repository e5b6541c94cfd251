// Health checks through the real CLI: --health-* flags and an image's HEALTHCHECK, run by each
// container's hull-shim on a timer (`hull container healthcheck`), with docker's rules for
// retries, the start period, the start interval, timeouts and the log; the status in ps, inspect
// and `ps --filter health=`; and checks that end with the container and leave nothing behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  HEALTH_DEFAULTS, applyResult, goDuration, healthCommand, healthEnabled, healthTimer, nextCheckMs, rfc3339Nano, type ProbeResult,
} from '../../src/engine/containers/health.ts';
import type { Container, ContainerState, HealthConfig } from '../../src/engine/containers/model.ts';
import { waitFor } from './harness.ts';
import { engine, engineProcesses, type Engine } from './helpers/engine.ts';

type Health = NonNullable<ContainerState['Health']>;

let e: Engine;
let work: string;
before(() => {
  e = engine();
  work = mkdtempSync('/var/tmp/hull-health-');
});
after(() => {
  try {
    e.destroy();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

function inspect(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

function health(ref: string): Health | undefined {
  return inspect(ref).State.Health;
}

/** Polls inspect until the health state satisfies ok; every state seen on the way goes to seen. */
async function until(ref: string, ok: (h: Health) => boolean, what: string, seen?: (h: Health) => void): Promise<Health> {
  let last: Health | undefined;
  await waitFor(() => {
    last = health(ref);
    if (last) seen?.(last);
    return !!last && ok(last);
  }, `${ref}: ${what} (last: ${JSON.stringify(last)})`, 60_000);
  return last!;
}

function ps(...args: string[]): string[] {
  return e.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}', ...args]).split('\n').filter(Boolean);
}

function psNames(filter: string): string[] {
  return e.ok(['ps', '-a', '--filter', filter, '--format', '{{.Names}}']).split('\n').filter(Boolean).sort();
}

/** Go's RFC3339Nano: UTC here, trailing zeros of the fraction dropped. */
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

/** Processes in the container's cgroup (its init and whatever runs in it). */
function containerProcs(id: string): number[] {
  const text = readFileSync(`/sys/fs/cgroup/pids/hull/${id}/cgroup.procs`, 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}

/** Stops and removes the containers of a test; each test's checks end with it. */
function remove(...names: string[]): void {
  e.ok(['rm', '-f', ...names]);
}

/** Removes a test's containers when it ends, passed or not, so that one failure does not spill into the next test. */
function cleanup(t: TestContext, ...names: string[]): void {
  t.after(() => {
    e.run(['rm', '-f', ...names]);
  });
}

let imageCount = 0;
/** busybox with a HEALTHCHECK (and CMD sleep), made by `hull import --change` from busybox's layer. */
function imageWith(healthcheck: string): string {
  const dir = join(work, `image-${++imageCount}`);
  const archive = join(work, 'busybox.tar');
  if (!existsSync(archive)) e.ok(['save', '-o', archive, 'busybox:latest']);
  spawnSync('mkdir', ['-p', dir]);
  const x = spawnSync('tar', ['-xf', archive, '-C', dir, 'manifest.json'], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  const layer = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[])[0]!.Layers[0]!;
  const y = spawnSync('tar', ['-xf', archive, '-C', dir, layer], { encoding: 'utf8' });
  assert.equal(y.status, 0, y.stderr);
  const name = `health-image:${imageCount}`;
  e.ok(['import', '--change', healthcheck, '--change', 'CMD ["sleep", "1000"]', join(dir, layer), name]);
  return name;
}

describe('health checks', () => {
  it('a passing check makes the container healthy: inspect\'s log, ps and --filter health=', async (t) => {
    cleanup(t, 'h-ok');
    const id = e.ok(['run', '-d', '--name', 'h-ok', '--health-cmd', 'echo "ok $FOO"; cat /etc/hostname >/dev/null', '--health-interval', '100ms',
      '-e', 'FOO=bar', 'busybox', 'sleep', '1000']);
    const seen = new Set<string>();
    const h = await until('h-ok', (x) => x.Status === 'healthy' && x.Log.length >= 2, 'healthy after two checks', (x) => seen.add(x.Status));
    for (const s of seen) assert.ok(s === 'starting' || s === 'healthy', `status ${s}`);
    assert.equal(h.FailingStreak, 0);
    for (const r of h.Log) {
      assert.equal(r.ExitCode, 0);
      // the check runs with the container's environment
      assert.equal(r.Output, 'ok bar\n');
      assert.match(r.Start, RFC3339_NANO);
      assert.match(r.End, RFC3339_NANO);
      assert.ok(Date.parse(r.End) >= Date.parse(r.Start));
    }
    assert.deepEqual(inspect(id).Config.Healthcheck, { Test: ['CMD-SHELL', 'echo "ok $FOO"; cat /etc/hostname >/dev/null'], Interval: 100_000_000 });
    assert.match(ps('--filter', 'name=h-ok')[0]!, /^h-ok Up .* \(healthy\)$/);
    assert.deepEqual(psNames('health=healthy'), ['h-ok']);
    assert.deepEqual(psNames('health=unhealthy'), []);
    // docker keeps the last five results
    const later = await until('h-ok', (x) => Date.parse(x.Log[0]!.Start) > Date.parse(h.Log.at(-1)!.Start) && x.Log.length === 5, 'five newer results');
    assert.equal(later.Log.length, 5);
    remove('h-ok');
  });

  it('runs as the container\'s user, in its working directory', async (t) => {
    cleanup(t, 'h-user');
    e.ok(['run', '-d', '--name', 'h-user', '-u', '1000:1000', '-w', '/tmp', '--health-cmd', 'echo "$(id -u):$(id -g) $PWD"',
      '--health-interval', '100ms', 'busybox', 'sleep', '1000']);
    const h = await until('h-user', (x) => x.Status === 'healthy', 'healthy');
    assert.equal(h.Log[0]!.Output, '1000:1000 /tmp\n');
    remove('h-user');
  });

  it('a failing check makes it unhealthy only after --health-retries failures in a row', async (t) => {
    cleanup(t, 'h-bad');
    e.ok(['run', '-d', '--name', 'h-bad', '--health-cmd', 'echo nope >&2; exit 3', '--health-interval', '100ms', '--health-retries', '3',
      'busybox', 'sleep', '1000']);
    const h = await until('h-bad', (x) => x.Status === 'unhealthy', 'unhealthy', (x) => {
      // whenever it is looked at: starting below three failures, unhealthy from three
      assert.equal(x.Status, x.FailingStreak >= 3 ? 'unhealthy' : 'starting', JSON.stringify(x));
    });
    assert.ok(h.FailingStreak >= 3);
    for (const r of h.Log) {
      assert.equal(r.ExitCode, 3);
      assert.equal(r.Output, 'nope\n');
    }
    assert.match(ps('--filter', 'name=h-bad')[0]!, /^h-bad Up .* \(unhealthy\)$/);
    assert.deepEqual(psNames('health=unhealthy'), ['h-bad']);
    remove('h-bad');
  });

  it('one success makes it healthy again and resets the failing streak', async (t) => {
    cleanup(t, 'h-flip');
    // the check passes while the test has made ok in a directory bound into the container
    const ctl = mkdtempSync(join(work, 'ctl-'));
    e.ok(['run', '-d', '--name', 'h-flip', '-v', `${ctl}:/ctl`, '--health-cmd', 'test -e /ctl/ok', '--health-interval', '100ms',
      '--health-retries', '2', 'busybox', 'sleep', '1000']);
    const bad = await until('h-flip', (x) => x.Status === 'unhealthy', 'unhealthy');
    assert.ok(bad.FailingStreak >= 2);
    writeFileSync(join(ctl, 'ok'), '');
    const good = await until('h-flip', (x) => x.Status === 'healthy', 'healthy again');
    assert.equal(good.FailingStreak, 0);
    assert.equal(good.Log.at(-1)!.ExitCode, 0);
    remove('h-flip');
  });

  it('failures within the start period do not count, and the start interval sets the pace', async (t) => {
    cleanup(t, 'h-start');
    // an interval of an hour: only the start interval can make several checks happen
    e.ok(['run', '-d', '--name', 'h-start', '--health-cmd', 'exit 1', '--health-interval', '1h', '--health-start-period', '1h',
      '--health-start-interval', '100ms', '--health-retries', '1', 'busybox', 'sleep', '1000']);
    const h = await until('h-start', (x) => x.Log.length >= 3, 'three checks in the start period', (x) => {
      assert.equal(x.Status, 'starting');
      assert.equal(x.FailingStreak, 0);
    });
    assert.ok(h.Log.every((r) => r.ExitCode === 1));
    assert.deepEqual(psNames('health=starting'), ['h-start']);
    assert.match(ps('--filter', 'name=h-start')[0]!, /^h-start Up .* \(health: starting\)$/);
    remove('h-start');
  });

  it('a success within the start period makes it healthy; after the period, failures count', async (t) => {
    cleanup(t, 'h-period', 'h-over');
    const ctl = mkdtempSync(join(work, 'ctl-'));
    writeFileSync(join(ctl, 'ok'), '');
    e.ok(['run', '-d', '--name', 'h-period', '-v', `${ctl}:/ctl`, '--health-cmd', 'test -e /ctl/ok',
      '--health-interval', '100ms', '--health-start-period', '1h', '--health-start-interval', '100ms', '--health-retries', '1',
      'busybox', 'sleep', '1000']);
    await until('h-period', (x) => x.Status === 'healthy', 'healthy');
    // out of "starting", a failure counts though the start period lasts an hour
    rmSync(join(ctl, 'ok'));
    const h = await until('h-period', (x) => x.Status === 'unhealthy', 'unhealthy after one failure');
    assert.ok(h.FailingStreak >= 1);
    remove('h-period');

    e.ok(['run', '-d', '--name', 'h-over', '--health-cmd', 'exit 1', '--health-interval', '100ms', '--health-start-period', '1500ms',
      '--health-retries', '1', 'busybox', 'sleep', '1000']);
    const over = await until('h-over', (x) => x.Status === 'unhealthy', 'unhealthy once the start period is over');
    const started = Date.parse(inspect('h-over').State.StartedAt);
    // the result that made it unhealthy began after the start period
    assert.ok(Date.parse(over.Log.at(-1)!.Start) - started >= 1500, JSON.stringify(over));
    remove('h-over');
  });

  it('a check that runs too long is killed: exit code -1, docker\'s message with what it printed', async (t) => {
    cleanup(t, 'h-slow');
    const id = e.ok(['run', '-d', '--name', 'h-slow', '--health-cmd', 'echo partial; exec sleep 1001', '--health-interval', '100ms',
      '--health-timeout', '300ms', '--health-retries', '2', 'busybox', 'sleep', '1000']);
    const h = await until('h-slow', (x) => x.Status === 'unhealthy' && x.Log.length >= 3, 'unhealthy after timeouts');
    for (const r of h.Log) {
      assert.equal(r.ExitCode, -1);
      assert.equal(r.Output, 'Health check exceeded timeout (300ms): partial\n');
    }
    // the timed-out checks were killed: at most the one under way is in the container beside its init
    const cmds = containerProcs(id).map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        return '';
      }
    });
    assert.ok(cmds.filter((c) => c === 'sleep 1001').length <= 1, `checks left running: ${cmds.join(', ')}`);
    remove('h-slow');
  });

  it('keeps 4 KiB of a check\'s output, with docker\'s "..." after it', async (t) => {
    cleanup(t, 'h-big');
    e.ok(['run', '-d', '--name', 'h-big', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" a; echo err >&2', '--health-interval', '100ms',
      'busybox', 'sleep', '1000']);
    const h = await until('h-big', (x) => x.Status === 'healthy', 'healthy');
    assert.equal(h.Log[0]!.Output, 'a'.repeat(4096) + '...');
    remove('h-big');
  });

  it('an image\'s HEALTHCHECK: exec form, a command that cannot run, the user\'s flags over it, --no-healthcheck', async (t) => {
    cleanup(t, 'h-img', 'h-missing', 'h-override', 'h-none');
    const good = imageWith('HEALTHCHECK --interval=100ms --retries=1 CMD ["sh", "-c", "echo exec form"]');
    e.ok(['run', '-d', '--name', 'h-img', good]);
    const h = await until('h-img', (x) => x.Status === 'healthy', 'healthy');
    assert.equal(h.Log[0]!.Output, 'exec form\n');
    assert.deepEqual(inspect('h-img').Config.Healthcheck, { Test: ['CMD', 'sh', '-c', 'echo exec form'], Interval: 100_000_000, Retries: 1 });

    const missing = imageWith('HEALTHCHECK --interval=100ms --retries=1 CMD ["no-such-check"]');
    e.ok(['run', '-d', '--name', 'h-missing', missing]);
    const m = await until('h-missing', (x) => x.Status === 'unhealthy', 'unhealthy');
    assert.equal(m.Log[0]!.ExitCode, -1);
    assert.match(m.Log[0]!.Output, /no-such-check/);

    // the user's flags replace the image's fields one by one
    e.ok(['run', '-d', '--name', 'h-override', '--health-cmd', 'exit 2', missing]);
    const o = await until('h-override', (x) => x.Status === 'unhealthy', 'unhealthy');
    assert.equal(o.Log[0]!.ExitCode, 2);
    assert.deepEqual(inspect('h-override').Config.Healthcheck, { Test: ['CMD-SHELL', 'exit 2'], Interval: 100_000_000, Retries: 1 });

    e.ok(['run', '-d', '--name', 'h-none', '--no-healthcheck', missing]);
    const none = inspect('h-none');
    assert.equal(none.Config.Healthcheck.Test[0], 'NONE');
    assert.equal(none.State.Health, undefined);
    assert.match(ps('--filter', 'name=h-none')[0]!, /^h-none Up [^(]*$/);
    assert.deepEqual(psNames('health=none'), ['h-none']);
    // nothing runs checks for it
    assert.ok(!engineProcesses(e).some((p) => p.includes('healthcheck') && p.includes(none.Id)));
    remove('h-img', 'h-missing', 'h-override', 'h-none');
  });

  it('checks stop with the container, and start over (keeping the log) when it starts again', async (t) => {
    cleanup(t, 'h-stop');
    const id = e.ok(['run', '-d', '--name', 'h-stop', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '1000']);
    await until('h-stop', (x) => x.Status === 'healthy', 'healthy');
    e.ok(['stop', '-t', '0', 'h-stop']);
    // docker reports a stopped container's health as unhealthy, its log kept
    const stopped = health('h-stop')!;
    assert.equal(stopped.Status, 'unhealthy');
    assert.ok(stopped.Log.length >= 1);
    // the shim and any check under way are gone, and no check comes after the stop
    await waitFor(() => engineProcesses(e).length === 0, 'the shim and its checks to end');
    assert.deepEqual(health('h-stop'), stopped);
    assert.ok(!existsSync(join(e.runroot, 'containers', id)), 'the run dir is gone');

    e.ok(['start', 'h-stop']);
    const restarted = health('h-stop')!;
    if (restarted.Status === 'starting') {
      assert.equal(restarted.FailingStreak, 0);
      assert.deepEqual(restarted.Log.slice(0, stopped.Log.length), stopped.Log);
    }
    const again = await until('h-stop', (x) => x.Status === 'healthy' && Date.parse(x.Log.at(-1)!.Start) > Date.parse(stopped.Log.at(-1)!.End), 'a new check');
    assert.equal(again.FailingStreak, 0);
    remove('h-stop');
    await waitFor(() => engineProcesses(e).length === 0, 'no process left');
  });

  it('a container that exits by itself ends its checks; --rm leaves nothing', async (t) => {
    cleanup(t, 'h-rm');
    e.ok(['run', '-d', '--rm', '--name', 'h-rm', '--health-cmd', 'sleep 1000', '--health-interval', '1ms', 'busybox', 'sleep', '1']);
    await waitFor(() => !e.ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').includes('h-rm'), 'the container to go');
    await waitFor(() => engineProcesses(e).length === 0, 'the shim and its checks to end');
  });

  it('`container healthcheck` runs one check now, and refuses a container that is not running or has no check', async (t) => {
    cleanup(t, 'h-manual', 'h-nocheck');
    e.ok(['run', '-d', '--name', 'h-manual', '--health-cmd', 'true', '--health-interval', '1h', 'busybox', 'sleep', '1000']);
    assert.equal(e.ok(['container', 'healthcheck', 'h-manual']), 'healthy');
    const h = health('h-manual')!;
    assert.equal(h.Log.length, 1);
    e.ok(['run', '-d', '--name', 'h-nocheck', 'busybox', 'sleep', '1000']);
    const r = e.run(['container', 'healthcheck', 'h-nocheck']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /has no health check/);
    e.ok(['stop', '-t', '0', 'h-manual']);
    const r2 = e.run(['container', 'healthcheck', 'h-manual']);
    assert.equal(r2.status, 125);
    assert.match(r2.stderr, /is not running/);
    const r3 = e.run(['container', 'healthcheck', 'no-such']);
    assert.equal(r3.status, 125);
    assert.match(r3.stderr, /No such container: no-such/);
    remove('h-manual', 'h-nocheck');
  });
});

describe('health policy (docker\'s rules)', () => {
  const ms = 1_000_000;
  const base: Health = { Status: 'starting', FailingStreak: 0, Log: [] };
  const result = (exitCode: number, atMs: number): ProbeResult => ({
    exitCode, output: `r${atMs}`, start: BigInt(atMs) * 1_000_000n, end: BigInt(atMs + 1) * 1_000_000n,
  });

  it('retries, the start period, the log of five', () => {
    const cfg: HealthConfig = { Test: ['CMD', 'x'], Retries: 2, StartPeriod: 1000 * ms };
    let h = applyResult(base, result(1, 500), cfg, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 0], 'within the start period');
    h = applyResult(h, result(1, 1000), cfg, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
    h = applyResult(h, result(1, 1100), cfg, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    h = applyResult(h, result(0, 1200), cfg, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
    // once healthy, a failure within the start period counts
    const early = applyResult({ Status: 'healthy', FailingStreak: 0, Log: [] }, result(1, 10), cfg, 0);
    assert.deepEqual([early.Status, early.FailingStreak], ['healthy', 1]);
    for (let i = 0; i < 4; i++) h = applyResult(h, result(0, 2000 + i), cfg, 0);
    assert.deepEqual(h.Log.map((r) => r.Output), ['r1200', 'r2000', 'r2001', 'r2002', 'r2003']);
    assert.equal(h.Log[0]!.Start, '1970-01-01T00:00:01.2Z');
    assert.equal(h.Log[0]!.End, '1970-01-01T00:00:01.201Z');
    // retries 0 is docker's 3
    let d = base;
    for (let i = 0; i < 2; i++) d = applyResult(d, result(1, i), { Test: ['CMD', 'x'] }, 0);
    assert.equal(d.Status, 'starting');
    assert.equal(applyResult(d, result(1, 3), { Test: ['CMD', 'x'] }, 0).Status, 'unhealthy');
  });

  it('when the next check comes', () => {
    const cfg: HealthConfig = { Interval: 1000 * ms, StartPeriod: 10_000 * ms, StartInterval: 200 * ms };
    assert.equal(nextCheckMs(cfg, 0, 'starting', 0), 200, 'starting, in the start period: the start interval');
    assert.equal(nextCheckMs(cfg, 0, 'healthy', 0), 1000, 'healthy in the start period: the interval');
    assert.equal(nextCheckMs(cfg, 0, 'starting', 9900), 100, 'no later than the end of the start period');
    assert.equal(nextCheckMs(cfg, 0, 'starting', 10_000), 1000, 'after the start period: the interval');
    assert.equal(nextCheckMs({}, 0, 'starting', 0), HEALTH_DEFAULTS.interval / ms);
    assert.equal(nextCheckMs({ StartPeriod: 60_000 * ms }, 0, 'starting', 0), HEALTH_DEFAULTS.startInterval / ms);
    assert.equal(nextCheckMs({ Interval: 1 }, 0, 'healthy', 0), 1, 'at least 1 ms');
  });

  it('which configs check, what they run, and the shim timer', () => {
    assert.equal(healthEnabled(undefined), false);
    assert.equal(healthEnabled({ Interval: 5 }), false);
    assert.equal(healthEnabled({ Test: ['NONE'] }), false);
    assert.equal(healthEnabled({ Test: ['CMD-SHELL', 'true'] }), true);
    assert.deepEqual(healthCommand({ Test: ['CMD-SHELL', 'echo a && b'] }), ['/bin/sh', '-c', 'echo a && b']);
    assert.deepEqual(healthCommand({ Test: ['CMD', 'ls', '-l'] }), ['ls', '-l']);
    assert.throws(() => healthCommand({ Test: ['CMD'] }), /the test has no command/);
    assert.throws(() => healthCommand({ Test: ['BOGUS', 'x'] }), /unknown healthcheck type 'BOGUS'/);
    const c = { Id: 'abc', Config: { Healthcheck: { Test: ['CMD', 'true'], Interval: 2500 * ms } } } as unknown as Container;
    assert.deepEqual(healthTimer(c, ['/hull', '--root', '/r']), {
      firstMs: 2500, everyMs: 2500, command: ['/hull', '--root', '/r', 'container', 'healthcheck', '--next-delay', 'abc'],
    });
    assert.equal(healthTimer({ ...c, Config: { Healthcheck: { Test: ['NONE'] } } } as unknown as Container, ['/hull']), undefined);
  });

  it('Go\'s duration and time formats', () => {
    assert.equal(goDuration(300_000_000n), '300ms');
    assert.equal(goDuration(1_500_000_000n), '1.5s');
    assert.equal(goDuration(30_000_000_000n), '30s');
    assert.equal(goDuration(90_000_000_000n), '1m30s');
    assert.equal(goDuration(3_600_000_000_000n), '1h0m0s');
    assert.equal(goDuration(1_500n), '1.5µs');
    assert.equal(goDuration(7n), '7ns');
    assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(rfc3339Nano(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
    assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  });
});
