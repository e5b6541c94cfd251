// OCI hooks: the six kinds run at their points of the lifecycle, in the right namespaces, in
// order, with the state on stdin and exactly their args and env; failures and timeouts act as
// the runtime spec says (create and start fail and clean up; poststart and poststop only warn).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Hook, Hooks } from '../../src/runtime/spec/types.ts';
import { bundle, processesUnder, stateOf, waitFor, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

const PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * rec.sh KIND LOG [container]: appends one tab-separated line to LOG: the kind, this process's
 * uts, pid and net namespaces, its hostname, the comm of the container's process (state.pid
 * from the host's /proc, or pid 1 for a hook inside the container), and the state it read.
 */
const REC = `#!/bin/sh
kind=$1 log=$2
state=$(cat)
if [ "$3" = container ]; then target=1; else target=$(echo "$state" | sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); fi
comm=
if [ -n "$target" ]; then comm=$(cat /proc/$target/comm 2>/dev/null); fi
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$kind" "$(readlink /proc/self/ns/uts)" "$(readlink /proc/self/ns/pid)" \\
  "$(readlink /proc/self/ns/net)" "$(hostname)" "$comm" "$state" >> "$log"
`;

interface Rec {
  kind: string;
  uts: string;
  pidNs: string;
  net: string;
  hostname: string;
  comm: string;
  state: { ociVersion: string; id: string; status: string; pid?: number; bundle: string; annotations?: Record<string, string> };
}

interface HookBundle {
  b: Bundle;
  /** The host's log; /hooklog/log inside the container. */
  log: string;
  /** A hook that records KIND on the host (or, with inside, a path inside the rootfs). */
  rec(kind: string, inside?: boolean): Hook;
  /** A script hook with the given shell body; inside puts it in the rootfs. */
  script(name: string, body: string, inside?: boolean): Hook;
  records(): Rec[];
}

function hookBundle(args: string[], hooks: (h: HookBundle) => Hooks): HookBundle {
  const x = bundle(args);
  const logDir = join(x.dir, 'logdir');
  mkdirSync(logDir);
  const log = join(logDir, 'log');
  writeFileSync(log, '');
  const put = (path: string, body: string) => {
    writeFileSync(path, body);
    chmodSync(path, 0o755);
  };
  put(join(x.dir, 'rec.sh'), REC);
  put(join(x.rootfs, 'rec.sh'), REC);
  x.spec.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind', 'rw'] });
  x.spec.annotations = { 'org.example.hooks': 'yes' };
  const h: HookBundle = {
    b: x,
    log,
    rec(kind, inside = false) {
      return inside
        ? { path: '/rec.sh', args: ['rec.sh', kind, '/hooklog/log', 'container'], env: [PATH] }
        : { path: join(x.dir, 'rec.sh'), args: ['rec.sh', kind, log], env: [PATH] };
    },
    script(name, body, inside = false) {
      const path = inside ? `/${name}` : join(x.dir, name);
      put(inside ? join(x.rootfs, name) : path, `#!/bin/sh\n${body}\n`);
      return { path, env: [PATH] };
    },
    records() {
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [kind, uts, pidNs, net, host, comm, state] = line.split('\t');
          return { kind: kind!, uts: uts!, pidNs: pidNs!, net: net!, hostname: host!, comm: comm!, state: JSON.parse(state!) as Rec['state'] };
        });
    },
  };
  x.spec.hooks = hooks(h);
  x.save();
  return h;
}

const kinds = (h: HookBundle) => h.records().map((r) => r.kind);
const hostNs = (type: string) => readlinkSync(`/proc/self/ns/${type}`);

test('all six hooks run at their points of the lifecycle with the state on stdin', async () => {
  const h = hookBundle(['sleep', '30'], (h) => ({
    prestart: [h.rec('prestart')],
    createRuntime: [h.rec('createRuntime')],
    createContainer: [h.rec('createContainer')],
    startContainer: [h.rec('startContainer', true)],
    poststart: [h.rec('poststart')],
    poststop: [h.rec('poststop')],
  }));
  b = h.b;
  b.spec.hostname = 'hooked';
  b.save();

  b.ok(['create', b.id]);
  const pid = stateOf(b).pid;
  const containerNs = (type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);
  assert.deepEqual(kinds(h), ['prestart', 'createRuntime', 'createContainer']);
  for (const r of h.records()) {
    assert.equal(r.state.status, 'creating', r.kind);
    assert.equal(r.state.pid, pid, r.kind);
    assert.equal(r.state.id, b.id);
    assert.equal(r.state.bundle, b.dir);
    assert.ok(r.state.ociVersion);
    assert.deepEqual(r.state.annotations, { 'org.example.hooks': 'yes' });
    assert.notEqual(r.comm, 'sleep', `${r.kind} ran after the user's process started`);
  }
  const [prestart, createRuntime, createContainer] = h.records();
  // prestart and createRuntime: the runtime's namespaces
  for (const r of [prestart!, createRuntime!]) {
    assert.equal(r.uts, hostNs('uts'), r.kind);
    assert.equal(r.net, hostNs('net'), r.kind);
    assert.equal(r.pidNs, hostNs('pid'), r.kind);
    assert.equal(r.hostname, hostname(), r.kind);
  }
  // createContainer: the container's namespaces (its path resolved before pivot_root)
  assert.equal(createContainer!.uts, containerNs('uts'));
  assert.equal(createContainer!.net, containerNs('net'));
  assert.equal(createContainer!.pidNs, containerNs('pid'));
  assert.notEqual(createContainer!.uts, hostNs('uts'));

  b.ok(['start', b.id]);
  assert.deepEqual(kinds(h), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart']);
  const [, , , startContainer, poststart] = h.records();
  // startContainer: inside the container, path resolved in its rootfs, before the user's process
  assert.equal(startContainer!.state.status, 'created');
  assert.equal(startContainer!.state.pid, pid);
  assert.equal(startContainer!.uts, containerNs('uts'));
  assert.equal(startContainer!.pidNs, containerNs('pid'));
  assert.equal(startContainer!.net, containerNs('net'));
  assert.equal(startContainer!.hostname, 'hooked');
  assert.notEqual(startContainer!.comm, 'sleep', 'startContainer ran after the user\'s process started');
  // poststart: the runtime's namespaces, after the user's process was executed
  assert.equal(poststart!.state.status, 'running');
  assert.equal(poststart!.state.pid, pid);
  assert.equal(poststart!.uts, hostNs('uts'));
  assert.equal(poststart!.comm, 'sleep', 'poststart ran before the user\'s process was executed');

  b.ok(['kill', b.id, 'KILL']);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  assert.equal(kinds(h).length, 5, 'poststop waits for delete');
  b.ok(['delete', b.id]);
  const poststop = h.records()[5]!;
  assert.equal(poststop.kind, 'poststop');
  assert.equal(poststop.state.status, 'stopped');
  assert.equal(poststop.state.id, b.id);
  assert.ok(!poststop.state.pid, 'a stopped container has no pid');
  assert.equal(poststop.uts, hostNs('uts'));
});

test('run in the foreground runs all six hooks in order', () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: [h.rec('prestart')],
    createRuntime: [h.rec('createRuntime')],
    createContainer: [h.rec('createContainer')],
    startContainer: [h.rec('startContainer', true)],
    poststart: [h.rec('poststart')],
    poststop: [h.rec('poststop')],
  }));
  b = h.b;
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(kinds(h), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
});

test('hooks of one kind run in order, and kinds in lifecycle order', () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: [h.rec('prestart-1'), h.rec('prestart-2'), h.rec('prestart-3')],
    createRuntime: [h.rec('createRuntime-1'), h.rec('createRuntime-2')],
    createContainer: [h.rec('createContainer-1'), h.rec('createContainer-2')],
    startContainer: [h.rec('startContainer-1', true), h.rec('startContainer-2', true)],
    poststart: [h.rec('poststart-1'), h.rec('poststart-2')],
    poststop: [h.rec('poststop-1'), h.rec('poststop-2')],
  }));
  b = h.b;
  b.ok(['run', b.id]);
  assert.deepEqual(kinds(h), [
    'prestart-1', 'prestart-2', 'prestart-3', 'createRuntime-1', 'createRuntime-2', 'createContainer-1', 'createContainer-2',
    'startContainer-1', 'startContainer-2', 'poststart-1', 'poststart-2', 'poststop-1', 'poststop-2',
  ]);
});

/**
 * Hooks that copy their own /proc/self/cmdline and environ to out.argv and out.env: busybox's
 * cp applet, chosen by argv[0], so "cp" only runs if args[0] really reaches argv[0].
 */
function argvEnvHooks(out: string): Hook[] {
  const env = ['FOO=bar', 'SPACED=a b', 'EMPTY=', 'PATH=/nowhere'];
  return [
    { path: '/bin/busybox', args: ['cp', '/proc/self/cmdline', `${out}.argv`, ], env },
    { path: '/bin/busybox', args: ['cp', '/proc/self/environ', `${out}.env`], env },
  ];
}

test('hooks get exactly their args (args[0] is argv[0]) and env, on the host and in the container', () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: argvEnvHooks(join(h.b.dir, 'logdir/prestart')),
    createRuntime: argvEnvHooks(join(h.b.dir, 'logdir/createRuntime')),
    createContainer: argvEnvHooks(join(h.b.dir, 'logdir/createContainer')),
    startContainer: argvEnvHooks('/hooklog/startContainer'),
    poststart: argvEnvHooks(join(h.b.dir, 'logdir/poststart')),
    poststop: argvEnvHooks(join(h.b.dir, 'logdir/poststop')),
  }));
  b = h.b;
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, r.stderr);
  for (const kind of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
    const base = join(b.dir, 'logdir', kind);
    assert.ok(existsSync(`${base}.argv`), `${kind} did not run`);
    const out = kind === 'startContainer' ? '/hooklog/startContainer' : base;
    assert.equal(readFileSync(`${base}.argv`, 'utf8'), `cp\0/proc/self/cmdline\0${out}.argv\0`, `${kind}: argv`);
    assert.equal(readFileSync(`${base}.env`, 'utf8'), 'FOO=bar\0SPACED=a b\0EMPTY=\0PATH=/nowhere\0', `${kind}: env`);
  }
});

test('a hook without args gets its path as argv[0], and no environment without env', () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: [{ path: h.script('noargs.sh', `tr "\\0" "|" < /proc/$$/cmdline > ${h.b.dir}/logdir/argv; tr "\\0" "|" < /proc/$$/environ > ${h.b.dir}/logdir/env`).path }],
  }));
  b = h.b;
  b.ok(['run', b.id]);
  const path = join(b.dir, 'noargs.sh');
  // the kernel runs the script as "/bin/sh <path>": what the runtime passed follows
  assert.equal(readFileSync(join(b.dir, 'logdir/argv'), 'utf8'), `/bin/sh|${path}|`);
  assert.equal(readFileSync(join(b.dir, 'logdir/env'), 'utf8'), '');
});

for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
  test(`a failing ${kind} hook fails create, names the hook, stops later hooks and leaves nothing`, () => {
    const h = hookBundle(['sleep', '30'], (h) => {
      const fail = h.script('fail.sh', 'echo "hook says no" >&2; exit 3');
      const hooks: Hooks = {
        prestart: [h.rec('prestart')],
        createRuntime: [h.rec('createRuntime')],
        createContainer: [h.rec('createContainer')],
        startContainer: [h.rec('startContainer', true)],
        poststart: [h.rec('poststart')],
        poststop: [h.rec('poststop')],
      };
      hooks[kind] = [fail, h.rec(`${kind}-after`)];
      return hooks;
    });
    b = h.b;
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`${kind} hook ${join(b.dir, 'fail.sh')}`));
    assert.match(r.stderr, /exit status 3/);
    assert.match(r.stderr, /hook says no/);
    const order = ['prestart', 'createRuntime', 'createContainer'];
    const before = order.slice(0, order.indexOf(kind));
    // the runtime spec's step 12: a failed create continues with delete, which runs poststop
    assert.deepEqual(kinds(h), [...before, 'poststop']);
    assert.notEqual(b.rt(['state', b.id]).status, 0, 'no state is left');
  });
}

test('a hook that cannot be executed fails create, naming it', () => {
  const h = hookBundle(['true'], () => ({ createRuntime: [{ path: '/no/such/hook' }] }));
  b = h.b;
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /createRuntime hook \/no\/such\/hook/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('a createContainer hook that cannot be executed fails create, naming it', () => {
  const h = hookBundle(['true'], () => ({ createContainer: [{ path: '/no/such/hook' }] }));
  b = h.b;
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /createContainer hook \/no\/such\/hook/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('a prestart hook that outlives its timeout is killed and fails create', () => {
  // the script's sleep is a child of the shell: killing only the shell would leave it running
  const h = hookBundle(['true'], (h) => ({ prestart: [{ ...h.script('slow.sh', 'sleep 60; echo done'), timeout: 1 }] }));
  b = h.b;
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /prestart hook .*slow\.sh failed: timed out after 1s/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
  assert.deepEqual(processesUnder(b.dir), [], 'the hook and its children were killed');
});

test('a hook that leaves a daemon holding its stderr does not hold up create', async () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: [h.script('daemon.sh', `sleep 60 & echo $! > ${h.b.dir}/daemon.pid`), h.rec('prestart-after')],
  }));
  b = h.b;
  try {
    b.ok(['run', b.id]);
    assert.deepEqual(kinds(h), ['prestart-after']);
  } finally {
    const daemon = Number(readFileSync(join(b.dir, 'daemon.pid'), 'utf8'));
    process.kill(daemon, 'SIGKILL');
    // the leak check after the test must not see it still dying
    await waitFor(() => !existsSync(`/proc/${daemon}/cwd`) || processesUnder(b!.dir).length === 0, 'the daemon to die');
  }
});

test('a createContainer hook that outlives its timeout is killed and fails create', () => {
  const h = hookBundle(['true'], (h) => ({ createContainer: [{ ...h.script('slow.sh', 'sleep 60; echo done'), timeout: 1 }] }));
  b = h.b;
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /createContainer hook .*slow\.sh failed: timed out after 1s/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('a hook that finishes within its timeout succeeds', () => {
  const h = hookBundle(['true'], (h) => ({ prestart: [{ ...h.rec('prestart'), timeout: 30 }], createContainer: [{ ...h.rec('createContainer'), timeout: 30 }] }));
  b = h.b;
  b.ok(['run', b.id]);
  assert.deepEqual(kinds(h), ['prestart', 'createContainer']);
});

test('a failing startContainer hook fails start, stops the container, and the user process never runs', async () => {
  const h = hookBundle(['sh', '-c', 'echo ran >> /hooklog/log; sleep 30'], (h) => ({
    startContainer: [h.script('fail.sh', 'exit 4', true), h.rec('startContainer-after', true)],
    poststart: [h.rec('poststart')],
    poststop: [h.rec('poststop')],
  }));
  b = h.b;
  b.ok(['create', b.id]);
  const r = b.rt(['start', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /startContainer hook \/fail\.sh failed: exit status 4/);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  assert.equal(readFileSync(h.log, 'utf8'), '', 'no later hook and no user process ran');
  b.ok(['delete', b.id]);
  assert.deepEqual(kinds(h), ['poststop']);
});

test('a failing poststart hook only warns: start succeeds and later poststart hooks run', () => {
  const h = hookBundle(['sleep', '30'], (h) => ({
    poststart: [h.script('fail.sh', 'exit 5'), h.rec('poststart-after')],
  }));
  b = h.b;
  b.ok(['create', b.id]);
  const r = b.rt(['start', b.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning/i);
  assert.match(r.stderr, /poststart hook .*fail\.sh failed: exit status 5/);
  assert.deepEqual(kinds(h), ['poststart-after']);
  assert.equal(stateOf(b).status, 'running');
  b.ok(['delete', '-f', b.id]);
});

test('a failing poststop hook only warns: delete succeeds, later poststop hooks run, nothing is left', async () => {
  const h = hookBundle(['true'], (h) => ({
    poststop: [h.script('fail.sh', 'exit 6'), h.rec('poststop-after')],
  }));
  b = h.b;
  b.ok(['run', '-d', b.id]);
  await waitFor(() => stateOf(b!).status === 'stopped', 'the container to stop');
  const r = b.rt(['delete', b.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning/i);
  assert.match(r.stderr, /poststop hook .*fail\.sh failed: exit status 6/);
  assert.deepEqual(kinds(h), ['poststop-after']);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('poststop runs once, on delete --force of a running container', () => {
  const h = hookBundle(['sleep', '30'], (h) => ({ poststop: [h.rec('poststop')] }));
  b = h.b;
  b.ok(['run', '-d', b.id]);
  b.ok(['delete', '--force', b.id]);
  assert.deepEqual(kinds(h), ['poststop']);
  assert.equal(h.records()[0]!.state.status, 'stopped');
});

test('a hook that ignores its stdin does not fail', () => {
  const h = hookBundle(['true'], (h) => ({
    prestart: [h.script('nostdin.sh', 'exec true')],
    createContainer: [h.script('nostdin2.sh', 'exec true')],
    poststart: [h.rec('poststart')],
  }));
  b = h.b;
  b.ok(['run', b.id]);
  assert.deepEqual(kinds(h), ['poststart']);
});
