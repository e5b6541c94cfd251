// `hull attach` to real running containers: their output from the moment of attaching, their
// stdin, a terminal container on a real pty with docker's detach keys, signals passed on, and
// the container's exit code as the CLI's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './harness.ts';
import { background, ptySession } from './helpers/cli-session.ts';
import { engine, type Engine } from './helpers/engine.ts';

let e: Engine;
before(() => {
  e = engine();
});
after(() => e.destroy());

function state(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0].State;
}

/** A container that prints "tick" until /tmp/go exists: attach has connected once a tick shows. */
const TICKER = 'while [ ! -e /tmp/go ]; do echo tick; sleep 0.05; done';

describe('attach', () => {
  it('shows the running container\'s stdout and stderr, and ends with its exit code', async () => {
    e.ok(['run', '-d', '--name', 'out', 'busybox', 'sh', '-c', `${TICKER}; echo done; echo err >&2; exit 3`]);
    const a = background(e, ['attach', 'out']);
    await waitFor(() => a.stdout().includes('tick\n'), 'attach to show the container\'s output');
    e.ok(['exec', 'out', 'touch', '/tmp/go']);
    const r = await a.done;
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /^(tick\n)+done\n$/);
    assert.equal(r.stderr, 'err\n');
    assert.equal(state('out').Status, 'exited', 'the container\'s state has caught up when attach returns');
    e.ok(['rm', 'out']);
  });

  it('gives the container its stdin when it was run with -i; --no-stdin does not', async () => {
    e.ok(['run', '-di', '--name', 'in', 'busybox', 'sh', '-c', 'read line; echo "got $line"; exit 4']);
    const r = e.run(['attach', 'in'], { input: 'hello\n' });
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stdout, 'got hello\n');
    e.ok(['rm', 'in']);

    e.ok(['run', '-di', '--name', 'nostdin', 'busybox', 'sh', '-c', `${TICKER}; read line; echo "got [$line]"`]);
    const a = background(e, ['attach', '--no-stdin', 'nostdin']);
    a.child.stdin!.end('ignored\n');
    await waitFor(() => a.stdout().includes('tick\n'), 'attach');
    // the container's stdin stays open and empty: another attach with stdin feeds it
    e.ok(['exec', 'nostdin', 'touch', '/tmp/go']);
    const feeder = e.run(['attach', 'nostdin'], { input: 'fed\n' });
    assert.equal(feeder.status, 0, feeder.stderr);
    const r2 = await a.done;
    assert.equal(r2.status, 0);
    assert.match(r2.stdout, /got \[fed\]\n$/);
    e.ok(['rm', 'nostdin']);
  });

  it('passes SIGTERM on to the container (--sig-proxy, the default); --sig-proxy=false does not', async () => {
    e.ok(['run', '-d', '--name', 'sig', 'busybox', 'sh', '-c', `trap "echo got-term; exit 42" TERM; ${TICKER}; sleep 100000`]);
    const a = background(e, ['attach', 'sig']);
    await waitFor(() => a.stdout().includes('tick\n'), 'attach');
    a.child.kill('SIGTERM');
    const r = await a.done;
    assert.equal(r.status, 42);
    assert.match(r.stdout, /got-term\n$/);
    e.ok(['rm', 'sig']);

    e.ok(['run', '-d', '--name', 'nosig', 'busybox', 'sh', '-c', `trap "exit 42" TERM; ${TICKER}; sleep 100000`]);
    const b = background(e, ['attach', '--sig-proxy=false', 'nosig']);
    await waitFor(() => b.stdout().includes('tick\n'), 'attach');
    b.child.kill('SIGTERM');
    const r2 = await b.done;
    assert.equal(r2.signal, 'SIGTERM', 'the CLI itself ends');
    assert.equal(state('nosig').Running, true, 'the container runs on');
    e.ok(['rm', '-f', 'nosig']);
  });

  it('to a terminal container: typed input and the output, the detach keys, and the exit code', async () => {
    e.ok(['run', '-dit', '--name', 'term', 'busybox', 'sh']);
    const detached = await ptySession(e, ['attach', 'term'], [
      { send: 'echo $((6 * 7))\r' },
      { expect: '42' },
      { send: '\u0010\u0011' },
    ]);
    assert.equal(detached.status, 1);
    assert.match(detached.output, /read escape sequence/);
    assert.equal(state('term').Running, true, 'detaching leaves the container running');

    const custom = await ptySession(e, ['attach', '--detach-keys', 'ctrl-a', 'term'], [
      { send: 'echo $((7 * 6))\r' },
      { expect: '42' },
      { send: '\u0001' },
    ]);
    assert.equal(custom.status, 1);

    const ended = await ptySession(e, ['attach', 'term'], [{ send: 'exit 7\r' }]);
    assert.equal(ended.status, 7);
    assert.equal(state('term').ExitCode, 7);
    e.ok(['rm', 'term']);
  });

  it('refuses what docker\'s CLI refuses: a stopped container, no terminal for a terminal container, no such container', () => {
    e.ok(['create', '--name', 'stopped', 'busybox', 'true']);
    const r = e.run(['attach', 'stopped']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'You cannot attach to a stopped container, start it first\n');
    e.ok(['rm', 'stopped']);

    e.ok(['run', '-dt', '--name', 'tty', 'busybox', 'sh', '-c', `${TICKER}; exit 5`]);
    const noTty = e.run(['attach', 'tty']);
    assert.equal(noTty.status, 1);
    assert.equal(noTty.stderr, 'the input device is not a TTY\n');
    const keys = e.run(['attach', '--no-stdin', '--detach-keys', 'ctrl-1', 'tty']);
    assert.equal(keys.status, 1);
    assert.equal(keys.stderr, 'Error response from daemon: Invalid detach keys (ctrl-1) provided\n');
    e.ok(['exec', 'tty', 'touch', '/tmp/go']);
    e.ok(['wait', 'tty']);
    e.ok(['rm', 'tty']);

    const missing = e.run(['attach', 'nosuch']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'Error response from daemon: No such container: nosuch\n');
    const flag = e.run(['attach', '--sig-proxy=maybe', 'nosuch']);
    assert.equal(flag.status, 125);
    assert.match(flag.stderr, /invalid argument "maybe" for "--sig-proxy" flag/);
  });

  it('--no-stdin attaches to a terminal container without a terminal', async () => {
    e.ok(['run', '-dt', '--name', 'ttyout', 'busybox', 'sh', '-c', `${TICKER}; echo bye; exit 6`]);
    const a = background(e, ['attach', '--no-stdin', 'ttyout']);
    await waitFor(() => a.stdout().includes('tick\r\n'), 'attach');
    e.ok(['exec', 'ttyout', 'touch', '/tmp/go']);
    const r = await a.done;
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stdout, /bye\r\n$/);
    e.ok(['rm', 'ttyout']);
  });
});
