// process.ioPriority and process.scheduler as the kernel applies them, read from the host
// with util-linux's ionice and chrt; AppArmor, SELinux and Intel RDT, which this host lacks,
// refused at create and exec with nothing left behind; bad values refused naming the field;
// and `hull-runtime features` against the official schema.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import AjvModule from 'ajv-draft-04';
import { features } from '../../src/runtime/features.ts';
import type { Spec } from '../../src/runtime/spec/types.ts';
import { RUNTIME, assertNoLeaks, bundle, processesUnder, runDetached, type Bundle } from './harness.ts';

let b: Bundle | undefined;
afterEach(() => {
  b?.cleanup();
  b = undefined;
});

function host(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** ionice's view of a process: "best-effort: prio 4", "idle", "realtime: prio 0". */
const ioniceOf = (pid: number) => host('ionice', ['-p', String(pid)]).trim();
/** chrt's view of a process, its lines joined: policy, priority, deadline parameters. */
const chrtOf = (pid: number) => host('chrt', ['-p', String(pid)]);
/** Field 19 of /proc/<pid>/stat: the nice value. */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

function detached(mutate: (s: Spec) => void): number {
  b = bundle(['sleep', '100'], mutate);
  return runDetached(b);
}

/** exec -d, returning the exec'd process's host pid. */
function execDetached(x: Bundle, args: string[]): number {
  const pidFile = join(x.dir, `exec-${Math.random().toString(36).slice(2)}.pid`);
  x.ok(['exec', '-d', '--pid-file', pidFile, ...args]);
  return Number(readFileSync(pidFile, 'utf8'));
}

function writeProcessJson(x: Bundle, extra: Record<string, unknown>): string {
  const path = join(x.dir, 'process.json');
  writeFileSync(path, JSON.stringify({ cwd: '/', args: ['sleep', '100'], user: { uid: 0, gid: 0 }, ...extra }));
  return path;
}

// --- ioPriority -----------------------------------------------------------------------------

test('ioPriority is applied to the container process, and inherited or overridden by exec', () => {
  const pid = detached((s) => { s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 }; });
  assert.equal(ioniceOf(pid), 'best-effort: prio 4');
  // an exec derives its process from config.json's, ioPriority included (runc's rule)
  assert.equal(ioniceOf(execDetached(b!, [b!.id, 'sleep', '100'])), 'best-effort: prio 4');
  // a process.json says for itself
  const json = writeProcessJson(b!, { ioPriority: { class: 'IOPRIO_CLASS_IDLE' } });
  assert.equal(ioniceOf(execDetached(b!, ['--process', json, b!.id])), 'idle');
});

test('the realtime I/O class is applied (hull-init still holds CAP_SYS_ADMIN then)', () => {
  const pid = detached((s) => {
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 1 };
    // the container itself gets no CAP_SYS_ADMIN or CAP_SYS_NICE
    s.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  });
  assert.equal(ioniceOf(pid), 'realtime: prio 1');
});

test('without ioPriority the process keeps the default', () => {
  const pid = detached(() => {});
  assert.match(ioniceOf(pid), /^none: prio \d$/);
});

// --- scheduler ------------------------------------------------------------------------------

test('SCHED_BATCH with nice 19 is applied, to exec processes too', () => {
  const pid = detached((s) => { s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 19 }; });
  assert.match(chrtOf(pid), /scheduling policy: SCHED_BATCH\n/);
  assert.equal(niceOf(pid), 19);
  const ex = execDetached(b!, [b!.id, 'sleep', '100']);
  assert.match(chrtOf(ex), /scheduling policy: SCHED_BATCH\n/);
  assert.equal(niceOf(ex), 19);
});

test('SCHED_OTHER with a negative nice is applied before capabilities are dropped', () => {
  const pid = detached((s) => {
    s.process!.scheduler = { policy: 'SCHED_OTHER', nice: -5 };
    s.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  });
  assert.match(chrtOf(pid), /scheduling policy: SCHED_OTHER\n/);
  assert.equal(niceOf(pid), -5);
});

test('SCHED_IDLE is applied', () => {
  const pid = detached((s) => { s.process!.scheduler = { policy: 'SCHED_IDLE' }; });
  assert.match(chrtOf(pid), /scheduling policy: SCHED_IDLE\n/);
});

test('SCHED_DEADLINE with its parameters and SCHED_FLAG_RESET_ON_FORK, from an exec process.json', () => {
  detached(() => {});
  const json = writeProcessJson(b!, {
    scheduler: { policy: 'SCHED_DEADLINE', flags: ['SCHED_FLAG_RESET_ON_FORK'], runtime: 42000, deadline: 100000, period: 1000000 },
  });
  const out = chrtOf(execDetached(b!, ['--process', json, b!.id]));
  assert.match(out, /scheduling policy: SCHED_DEADLINE\|SCHED_RESET_ON_FORK\n/);
  assert.match(out, /runtime\/deadline\/period parameters: 42000\/100000\/1000000/);
});

test('a realtime policy the kernel refuses fails create, saying what it needs', () => {
  // With RT group scheduling (cpu.rt_runtime_us exists), a new cpu cgroup has no realtime
  // runtime, so SCHED_FIFO is refused there with EPERM.
  const rtGroups = existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');
  b = bundle(['true'], (s) => { s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10 }; });
  const r = b.rt(['create', b.id]);
  if (!rtGroups) {
    assert.equal(r.status, 0, r.stderr);
    return;
  }
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /set scheduler SCHED_FIFO priority 10 .*realtimeRuntime.*sched_setattr.*(EPERM|not permitted)/is);
  assertNothingLeft(b);
});

// --- what this host lacks -------------------------------------------------------------------

/** create must fail naming what; then nothing may be left: no process, cgroup, mount or state. */
function createFails(x: Bundle, what: RegExp): void {
  const r = x.rt(['create', x.id]);
  assert.notEqual(r.status, 0, 'create should fail');
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace instead of a message');
  assertNothingLeft(x);
}

function assertNothingLeft(x: Bundle): void {
  assert.deepEqual(processesUnder(x.dir), []);
  assert.ok(!existsSync(join(x.root, x.id)), 'state directory left behind');
  assertNoLeaks(x);
}

test('an AppArmor profile on a host without AppArmor fails create clearly', () => {
  b = bundle(['true'], (s) => { s.process!.apparmorProfile = 'docker-default'; });
  createFails(b, /config\.json: process\.apparmorProfile: "docker-default" cannot be applied: AppArmor is not enabled on this host/);
});

test('an SELinux process label on a host without SELinux fails create clearly', () => {
  b = bundle(['true'], (s) => { s.process!.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'; });
  createFails(b, /config\.json: process\.selinuxLabel: .* cannot be applied: SELinux is not enabled on this host/);
});

test('an SELinux mount label on a host without SELinux fails create clearly', () => {
  b = bundle(['true'], (s) => { s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0'; });
  createFails(b, /config\.json: linux\.mountLabel: .* cannot be applied: SELinux is not enabled on this host/);
});

test('intelRdt on a host without resctrl fails create clearly', () => {
  const filesystems = readFileSync('/proc/filesystems', 'utf8');
  b = bundle(['true'], (s) => { s.linux!.intelRdt = { closID: 'gold', l3CacheSchema: 'L3:0=ff' }; });
  const why = /\tresctrl$/m.test(filesystems) ? /not mounted; mount it first/ : /no resctrl filesystem/;
  createFails(b, new RegExp(`config\\.json: linux\\.intelRdt: cannot be applied: .*${why.source}`));
});

test("delete removes the resctrl group create recorded, though the native front runs delete", () => {
  // No resctrl here, so a plain directory stands in for the group: what is checked is the
  // hand-over. native/front.c deletes by itself, knows nothing of resctrl, and must leave the
  // group to the TypeScript delete, which it does because intel-rdt.json keeps the state
  // directory from being removed.
  detached(() => {});
  const group = join(b!.dir, 'fake-resctrl-group');
  mkdirSync(group);
  writeFileSync(join(b!.root, b!.id, 'intel-rdt.json'), JSON.stringify({ dir: group, created: true, owned: true }));
  b!.ok(['delete', '--force', b!.id]);
  assert.ok(!existsSync(group), 'the group is removed');
  assert.ok(!existsSync(join(b!.root, b!.id)), 'the state directory is removed');
});

test('empty apparmorProfile, selinuxLabel and mountLabel ask for nothing', () => {
  b = bundle(['true'], (s) => {
    s.process!.apparmorProfile = '';
    s.process!.selinuxLabel = '';
    s.linux!.mountLabel = '';
  });
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, r.stderr);
});

test('exec with an AppArmor profile or SELinux label on this host fails before anything runs', () => {
  detached(() => {});
  for (const [extra, field] of [
    [{ apparmorProfile: 'docker-default' }, 'apparmorProfile'],
    [{ selinuxLabel: 'system_u:system_r:container_t:s0' }, 'selinuxLabel'],
  ] as const) {
    const json = writeProcessJson(b!, { ...extra, args: ['sh', '-c', 'echo ran > /ran'] });
    const r = b!.rt(['exec', '--process', json, b!.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`exec: process\\.${field}: .*not enabled on this host`));
    assert.ok(!existsSync(join(b!.rootfs, 'ran')), 'the process must not have run');
  }
  // the container is untouched
  assert.equal(b!.ok(['exec', b!.id, 'echo', 'still']), 'still\n');
});

// --- bad values -----------------------------------------------------------------------------

test('bad scheduler and ioPriority values fail create naming the field', () => {
  const cases: [(s: Spec) => void, RegExp][] = [
    [(s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 5 }; }, /process\.scheduler\.priority: is only for SCHED_FIFO and SCHED_RR/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_RR' }; }, /process\.scheduler\.priority: must be from 1 to 99 with SCHED_RR/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_ISO' }; }, /process\.scheduler\.policy: SCHED_ISO is not a policy of the Linux kernel/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 25 }; }, /process\.scheduler\.nice: must be from -20 to 19/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 200000, deadline: 100000, period: 1000000 }; }, /process\.scheduler\.runtime: must not exceed deadline/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 3000, period: 10 ** 13 }; }, /process\.scheduler\.period: .*above this host's maximum/],
    [(s) => { s.process!.scheduler = { policy: 'SCHED_FAST' }; }, /process\.scheduler\.policy: "SCHED_FAST" is not one of/],
    [(s) => { s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }; }, /process\.ioPriority\.priority: must be from 0 to 7/],
    [(s) => { s.process!.ioPriority = { class: 'IOPRIO_CLASS_NONE' }; }, /process\.ioPriority\.class: "IOPRIO_CLASS_NONE" is not one of/],
    [(s) => { s.linux!.intelRdt = { closID: '../escape' }; }, /linux\.intelRdt\.closID: .*plain directory name/],
    [(s) => { s.process!.apparmorProfile = 'two\nlines'; }, /process\.apparmorProfile: must not contain a newline/],
  ];
  for (const [mutate, what] of cases) {
    const x = bundle(['true'], mutate);
    try {
      createFails(x, what);
    } finally {
      x.cleanup();
    }
  }
});

// --- features -------------------------------------------------------------------------------

test('hull-runtime features prints the features document, valid against the official schema', () => {
  const out = host(RUNTIME, ['features']);
  const doc = JSON.parse(out);
  assert.deepEqual(doc, JSON.parse(JSON.stringify(features())));
  const schemas = new URL('../../../shared/specs/runtime-spec/', import.meta.url);
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  for (const file of ['defs.json', 'defs-linux.json', 'features-linux.json', 'features-schema.json']) {
    const url = new URL(file, schemas);
    ajv.addSchema(JSON.parse(readFileSync(url, 'utf8')), url.href);
  }
  const validate = ajv.getSchema(new URL('features-schema.json', schemas).href)!;
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.equal(doc.linux.apparmor.enabled, true);
  assert.equal(doc.linux.selinux.enabled, true);
  assert.equal(doc.linux.intelRdt.enabled, true);
});
