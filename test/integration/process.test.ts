// config.json's process and its kin, as the container's process sees them: hostname,
// rlimits, oom_score_adj, user, umask, cwd, env, capabilities, no_new_privs, personality.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { capabilityMask } from '../../src/runtime/capabilities.ts';
import { bundle, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

/** Runs the bundle in the foreground and returns its stdout, asserting it exited 0. */
function run(x: Bundle): string {
  const r = x.rt(['run', x.id]);
  assert.equal(r.status, 0, `run exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The /proc/self/status fields of the container's process, by name. */
function status(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

const hex = (mask: bigint) => mask.toString(16).padStart(16, '0');

test('hostname and domainname are set in the container and not on the host', () => {
  const before = hostname();
  b = bundle(['sh', '-c', 'hostname; uname -n; cat /proc/sys/kernel/domainname']);
  b.spec.hostname = 'box.one';
  b.spec.domainname = 'example.org';
  b.save();
  assert.equal(run(b), 'box.one\nbox.one\nexample.org\n');
  assert.equal(hostname(), before);
});

test('hostname without a private uts namespace is refused at create', () => {
  b = bundle(['true']);
  b.spec.hostname = 'nope';
  b.spec.linux!.namespaces = b.spec.linux!.namespaces!.filter((n) => n.type !== 'uts');
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /hostname.*uts/);
});

test('rlimits are applied: soft and hard values show in /proc/self/limits', () => {
  b = bundle(['cat', '/proc/self/limits']);
  b.spec.process!.rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 1234, hard: 5678 },
    { type: 'RLIMIT_CORE', soft: 4096, hard: 8192 },
    { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
    { type: 'RLIMIT_CPU', soft: 100, hard: 200 },
    { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
  ];
  b.save();
  const limits = new Map<string, [string, string]>();
  for (const line of run(b).split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) limits.set(m[1]!, [m[2]!, m[3]!]);
  }
  assert.deepEqual(limits.get('Max open files'), ['1234', '5678']);
  assert.deepEqual(limits.get('Max core file size'), ['4096', '8192']);
  assert.deepEqual(limits.get('Max processes'), ['300', '400']);
  assert.deepEqual(limits.get('Max cpu time'), ['100', '200']);
  assert.deepEqual(limits.get('Max msgqueue size'), ['1000', '2000']);
  // a limit the config does not name is inherited unchanged
  const own = readFileSync('/proc/self/limits', 'utf8');
  const stack = /^Max stack size\s{2,}(\S+)\s+(\S+)/m.exec(own)!;
  assert.deepEqual(limits.get('Max stack size'), [stack[1], stack[2]]);
});

test('an rlimit above the host hard limit fails create, naming the limit', () => {
  b = bundle(['true']);
  const hard = Number(/^Max open files\s{2,}\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  b.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard + 1, hard: hard + 1 }];
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /RLIMIT_NOFILE/);
  // either checked up front (saying why) or refused by setrlimit
  assert.match(r.stderr, /CAP_SYS_RESOURCE|not permitted/i);
});

test('oomScoreAdj sets /proc/self/oom_score_adj', () => {
  b = bundle(['cat', '/proc/self/oom_score_adj']);
  b.spec.process!.oomScoreAdj = 500;
  b.save();
  assert.equal(run(b), '500\n');
});

test('without oomScoreAdj the container inherits the runtime caller\'s value', () => {
  b = bundle(['cat', '/proc/self/oom_score_adj']);
  delete b.spec.process!.oomScoreAdj;
  b.save();
  assert.equal(run(b), readFileSync('/proc/self/oom_score_adj', 'utf8'));
});

test('user: uid, gid and additionalGids', () => {
  b = bundle(['sh', '-c', 'id -u; id -g; id -G; grep -E "^(Uid|Gid|Groups):" /proc/self/status']);
  b.spec.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 2000, 3000] };
  b.save();
  const [uid, gid, groups, ...rest] = run(b).trim().split('\n');
  assert.equal(uid, '1000');
  assert.equal(gid, '1001');
  assert.deepEqual(groups!.split(' ').map(Number).sort((x, y) => x - y), [5, 1001, 2000, 3000]);
  const st = status(rest.join('\n'));
  assert.deepEqual(st.get('Uid')!.split(/\s+/), ['1000', '1000', '1000', '1000']);
  assert.deepEqual(st.get('Gid')!.split(/\s+/), ['1001', '1001', '1001', '1001']);
  assert.deepEqual(st.get('Groups')!.split(/\s+/), ['5', '2000', '3000']);
});

test('user without additionalGids has no supplementary groups', () => {
  b = bundle(['grep', '^Groups:', '/proc/self/status']);
  b.spec.process!.user = { uid: 65534, gid: 65534 };
  b.save();
  assert.equal(run(b).trim(), 'Groups:');
});

test('umask applies to files the process creates and shows in /proc/self/status', () => {
  b = bundle(['sh', '-c', 'grep ^Umask: /proc/self/status; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d']);
  b.spec.root!.readonly = false;
  b.spec.process!.user.umask = 0o077;
  b.save();
  assert.equal(run(b), 'Umask:\t0077\n600\n700\n');
});

test('the default umask is 0022', () => {
  b = bundle(['sh', '-c', 'grep ^Umask: /proc/self/status; touch /tmp/f; stat -c %a /tmp/f']);
  b.spec.root!.readonly = false;
  delete b.spec.process!.user.umask;
  b.save();
  assert.equal(run(b), 'Umask:\t0022\n644\n');
});

test('cwd is the working directory, created if missing', () => {
  b = bundle(['pwd']);
  b.spec.process!.cwd = '/tmp';
  b.save();
  assert.equal(run(b), '/tmp\n');
  b.cleanup();

  // runc's behaviour: a missing cwd is created, even on a read-only rootfs (before the remount)
  b = bundle(['sh', '-c', 'pwd; stat -c %a .']);
  b.spec.root!.readonly = true;
  b.spec.process!.cwd = '/does/not/exist';
  b.save();
  assert.equal(run(b), '/does/not/exist\n755\n');
});

test('env is passed exactly, with nothing added', () => {
  b = bundle(['env']);
  b.spec.process!.env = ['PATH=/bin:/usr/bin', 'A=1', 'WITH_SPACE=x y', 'EMPTY=', 'TERM=dumb'];
  b.save();
  assert.deepEqual(run(b).trim().split('\n'), b.spec.process!.env);
});

test('the runtime\'s own environment does not leak into the container', () => {
  b = bundle(['env']);
  b.spec.process!.env = ['PATH=/usr/bin:/bin'];
  b.save();
  const r = b.rt(['run', b.id], { env: { ...process.env, HULL_TEST_SECRET: 'leak' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'PATH=/usr/bin:/bin\n');
});

test('args[0] is looked up in the PATH of process.env, not the runtime\'s', () => {
  b = bundle(['hello', 'world']);
  mkdirSync(join(b.rootfs, 'opt/tools'), { recursive: true });
  writeFileSync(join(b.rootfs, 'opt/tools/hello'), '#!/bin/sh\necho "hello $1 from $0"\n');
  chmodSync(join(b.rootfs, 'opt/tools/hello'), 0o755);
  // a non-executable earlier PATH entry is skipped
  mkdirSync(join(b.rootfs, 'opt/first'), { recursive: true });
  writeFileSync(join(b.rootfs, 'opt/first/hello'), 'not executable\n');
  b.spec.process!.env = ['PATH=/opt/first:/opt/tools:/bin'];
  b.save();
  assert.equal(run(b), 'hello world from /opt/tools/hello\n');
});

test('a relative args[0] with a slash is resolved against cwd', () => {
  b = bundle(['./echo', 'relative']);
  b.spec.process!.cwd = '/bin';
  b.save();
  assert.equal(run(b), 'relative\n');
});

test('a relative args[0] that does not exist fails create and leaves nothing', () => {
  b = bundle(['./not-here']);
  b.spec.process!.cwd = '/bin';
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not-here/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('args[0] missing from the PATH fails create, naming the executable', () => {
  b = bundle(['no-such-program', 'x']);
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no-such-program/);
  assert.match(r.stderr, /not found|no such file/i);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('a missing absolute args[0] fails create and run, leaving nothing', () => {
  b = bundle(['/bin/not-a-binary']);
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/bin\/not-a-binary/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
  const run2 = b.rt(['run', b.id]);
  assert.notEqual(run2.status, 0);
  assert.match(run2.stderr, /\/bin\/not-a-binary/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('exec of a missing program fails, naming it, and leaves the container running', () => {
  b = bundle(['sleep', '30']);
  b.ok(['run', '-d', b.id]);
  const r = b.rt(['exec', b.id, 'no-such-program']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no-such-program/);
  assert.equal(b.rt(['state', b.id]).stdout.includes('"running"'), true);
  assert.deepEqual(JSON.parse(b.ok(['ps', '--format', 'json', b.id])).length, 1, 'no process of the failed exec is left');
  b.ok(['delete', '-f', b.id]);
});

test('a non-executable args[0] fails create with permission denied', () => {
  b = bundle(['/etc/passwd']);
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/etc\/passwd/);
  assert.match(r.stderr, /permission denied/i);
});

test('args[0] is checked as the configured user: one it may not execute fails create', () => {
  b = bundle(['/rootonly']);
  writeFileSync(join(b.rootfs, 'rootonly'), '#!/bin/sh\necho ran\n');
  chmodSync(join(b.rootfs, 'rootonly'), 0o700);
  b.spec.process!.user = { uid: 1000, gid: 1000 };
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0, 'create must fail, not the process after start');
  assert.match(r.stderr, /\/rootonly/);
  assert.match(r.stderr, /permission denied/i);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('args[0] executable through an additional group runs', () => {
  b = bundle(['/groupexec']);
  writeFileSync(join(b.rootfs, 'groupexec'), '#!/bin/sh\nid -u\n');
  chmodSync(join(b.rootfs, 'groupexec'), 0o750);
  chownSync(join(b.rootfs, 'groupexec'), 0, 2000);
  b.spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [2000] };
  b.save();
  assert.equal(run(b), '1000\n');
});

const capsScript = ['grep', '^Cap', '/proc/self/status'];

test('capabilities for root: bounding, inheritable and ambient exactly as configured', () => {
  b = bundle(capsScript);
  const bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'];
  b.spec.process!.noNewPrivileges = false;
  b.spec.process!.capabilities = {
    bounding,
    effective: ['CAP_CHOWN', 'CAP_KILL'],
    permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    ambient: ['CAP_KILL'],
  };
  b.save();
  const st = status(run(b));
  assert.equal(st.get('CapBnd'), hex(capabilityMask(bounding)));
  assert.equal(st.get('CapInh'), hex(capabilityMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE'])));
  assert.equal(st.get('CapAmb'), hex(capabilityMask(['CAP_KILL'])));
  // execve as uid 0 without no_new_privs gives the program its whole bounding set
  // (capabilities(7): P'(permitted) = bounding | inheritable, and inheritable is within bounding)
  const rootSet = hex(capabilityMask(bounding));
  assert.equal(st.get('CapPrm'), rootSet);
  assert.equal(st.get('CapEff'), rootSet);
});

test('capabilities for root with noNewPrivileges: exec cannot gain beyond the permitted set', () => {
  b = bundle(capsScript);
  const bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'];
  const permitted = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  b.spec.process!.noNewPrivileges = true;
  b.spec.process!.capabilities = { bounding, effective: permitted, permitted, inheritable: [], ambient: [] };
  b.save();
  const st = status(run(b));
  assert.equal(st.get('CapBnd'), hex(capabilityMask(bounding)));
  assert.equal(st.get('CapInh'), hex(0n));
  assert.equal(st.get('CapAmb'), hex(0n));
  // with no_new_privs the kernel caps the new permitted set at the old one: the configured set
  assert.equal(st.get('CapPrm'), hex(capabilityMask(permitted)));
  assert.equal(st.get('CapEff'), hex(capabilityMask(permitted)));
});

test('capabilities for a non-root user: ambient keeps them across exec', () => {
  b = bundle(['sh', '-c', 'grep ^Cap /proc/self/status; id -u']);
  const kept = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
  b.spec.process!.user = { uid: 1000, gid: 1000 };
  b.spec.process!.capabilities = {
    bounding: [...kept, 'CAP_CHOWN', 'CAP_SYS_ADMIN'],
    effective: [...kept, 'CAP_CHOWN'],
    permitted: [...kept, 'CAP_CHOWN'],
    inheritable: [...kept, 'CAP_CHOWN'],
    ambient: kept,
  };
  b.save();
  const out = run(b);
  assert.match(out, /\n1000\n$/);
  const st = status(out);
  assert.equal(st.get('CapBnd'), hex(capabilityMask([...kept, 'CAP_CHOWN', 'CAP_SYS_ADMIN'])));
  assert.equal(st.get('CapInh'), hex(capabilityMask([...kept, 'CAP_CHOWN'])));
  assert.equal(st.get('CapAmb'), hex(capabilityMask(kept)));
  assert.equal(st.get('CapPrm'), hex(capabilityMask(kept)));
  assert.equal(st.get('CapEff'), hex(capabilityMask(kept)));
});

test('capabilities for a non-root user without ambient are lost at exec', () => {
  b = bundle(capsScript);
  b.spec.process!.user = { uid: 1000, gid: 1000 };
  b.spec.process!.capabilities = {
    bounding: ['CAP_KILL', 'CAP_CHOWN'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL'],
    inheritable: ['CAP_CHOWN'],
  };
  b.save();
  const st = status(run(b));
  assert.equal(st.get('CapBnd'), hex(capabilityMask(['CAP_KILL', 'CAP_CHOWN'])));
  assert.equal(st.get('CapInh'), hex(capabilityMask(['CAP_CHOWN'])));
  assert.equal(st.get('CapAmb'), hex(0n));
  assert.equal(st.get('CapPrm'), hex(0n));
  assert.equal(st.get('CapEff'), hex(0n));
});

test('an ambient capability outside permitted or inheritable is skipped, not an error', () => {
  b = bundle(capsScript);
  b.spec.process!.user = { uid: 1000, gid: 1000 };
  b.spec.process!.capabilities = {
    bounding: ['CAP_KILL', 'CAP_CHOWN'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL'],
    inheritable: ['CAP_KILL'],
    ambient: ['CAP_KILL', 'CAP_CHOWN'],
  };
  b.save();
  const st = status(run(b));
  assert.equal(st.get('CapAmb'), hex(capabilityMask(['CAP_KILL'])));
  assert.equal(st.get('CapEff'), hex(capabilityMask(['CAP_KILL'])));
});

test('an inheritable capability outside the bounding set fails create', () => {
  b = bundle(['true']);
  b.spec.process!.capabilities = { bounding: ['CAP_KILL'], inheritable: ['CAP_SYS_ADMIN'] };
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /capabilit/);
});

test('no capabilities at all: every set is empty, even for root', () => {
  b = bundle(capsScript);
  b.spec.process!.capabilities = {};
  b.save();
  const st = status(run(b));
  for (const set of ['CapBnd', 'CapInh', 'CapAmb', 'CapPrm', 'CapEff']) assert.equal(st.get(set), hex(0n), set);
});

test('a dropped capability really is gone: chown fails without CAP_CHOWN', () => {
  b = bundle(['sh', '-c', 'touch /tmp/x && chown 1:1 /tmp/x && echo allowed || echo denied']);
  b.spec.root!.readonly = false;
  b.spec.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  b.save();
  assert.match(run(b), /denied\n$/);
  b.cleanup();
  b = bundle(['sh', '-c', 'touch /tmp/x && chown 1:1 /tmp/x && echo allowed || echo denied']);
  b.spec.root!.readonly = false;
  b.spec.process!.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
  b.save();
  assert.equal(run(b), 'allowed\n');
});

test('noNewPrivileges sets NoNewPrivs, and false leaves it clear', () => {
  b = bundle(['grep', '^NoNewPrivs:', '/proc/self/status']);
  b.spec.process!.noNewPrivileges = true;
  b.save();
  assert.equal(run(b), 'NoNewPrivs:\t1\n');
  b.cleanup();
  b = bundle(['grep', '^NoNewPrivs:', '/proc/self/status']);
  b.spec.process!.noNewPrivileges = false;
  b.save();
  assert.equal(run(b), 'NoNewPrivs:\t0\n');
});

test('personality LINUX32 makes uname -m report i686', () => {
  b = bundle(['uname', '-m']);
  b.spec.linux!.personality = { domain: 'LINUX32' };
  b.save();
  assert.equal(run(b), 'i686\n');
  b.cleanup();
  b = bundle(['uname', '-m']);
  b.spec.linux!.personality = { domain: 'LINUX' };
  b.save();
  assert.equal(run(b), 'x86_64\n');
});

test('the exit status of the process is the exit status of run', () => {
  b = bundle(['sh', '-c', 'exit 42']);
  assert.equal(b.rt(['run', b.id]).status, 42);
});

test('files created by a non-root user are owned by it', () => {
  b = bundle(['touch', '/tmp/owned']);
  b.spec.root!.readonly = false;
  chmodSync(join(b.rootfs, 'tmp'), 0o1777); // the harness's copy loses /tmp's mode
  b.spec.process!.user = { uid: 1234, gid: 4321 };
  b.save();
  run(b);
  const st = statSync(join(b.rootfs, 'tmp/owned'));
  assert.equal(st.uid, 1234);
  assert.equal(st.gid, 4321);
});
