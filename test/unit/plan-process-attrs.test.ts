// The process attributes hull-init applies before exec, without root: process.scheduler and
// process.ioPriority (OP_SCHED, OP_IOPRIO), AppArmor/SELinux exec attributes, linux.mountLabel,
// and the resctrl group of linux.intelRdt, as the plan compiler and the host checks see them.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkIntelRdt, loadRdtGroup, rdtTasksFiles, resctrlMount, schemataLines, setupIntelRdt, teardownIntelRdt } from '../../src/runtime/intel-rdt.ts';
import { compileCreatePlan, compileExecPlan, type CreatePlanOptions } from '../../src/runtime/plan/compile.ts';
import { encodePlan } from '../../src/runtime/plan/encode.ts';
import { Op, type PlanOp } from '../../src/runtime/plan/ops.ts';
import { checkSchedulerHost, schedArgs } from '../../src/runtime/plan/process-attrs.ts';
import { checkMountLabel, labelMountData, processAttrWrites, selinuxEnabled, type LsmHost } from '../../src/runtime/security/lsm.ts';
import { defaultSpec } from '../../src/runtime/spec/default.ts';
import type { Process, Spec } from '../../src/runtime/spec/types.ts';
import { SpecError, validateProcess, validateSpec } from '../../src/runtime/spec/validate.ts';

function spec(mutate?: (s: Spec) => void): Spec {
  const s = defaultSpec({});
  s.process!.terminal = false;
  mutate?.(s);
  return s;
}

function opts(s: Spec, extra: Partial<CreatePlanOptions> = {}): CreatePlanOptions {
  return {
    spec: s,
    rootfs: '/b/rootfs',
    fifo: '/run/x/exec.fifo',
    cgroupProcs: ['/sys/fs/cgroup/pids/x/cgroup.procs'],
    extraFds: 0,
    listenFds: 0,
    wait: false,
    host: {
      stat: () => 'dir',
      cgroupDirs: ['/sys/fs/cgroup/pids/x'],
      cgroupMounts: [{ mountpoint: '/sys/fs/cgroup/pids', version: 1 }],
    },
    ...extra,
  };
}

const find = (plan: PlanOp[], op: number) => plan.filter((p) => p.op === op);
const index = (plan: PlanOp[], op: number) => plan.findIndex((p) => p.op === op);

/** The op's arguments as hull-init decodes them: 8-byte integers, read signed. */
function decodedInts(op: PlanOp): bigint[] {
  const buf = encodePlan([op]);
  const out: bigint[] = [];
  let off = 4 + 12 + 4;
  for (let i = 0; i < op.args.length; i++) {
    const len = buf.readUInt32LE(off);
    off += 4;
    assert.equal(len, 8, `argument ${i} is an integer`);
    out.push(buf.readBigInt64LE(off));
    off += len + 1;
  }
  return out;
}

// --- scheduler and I/O priority ---------------------------------------------------------------

test('the two opcodes keep their assigned numbers (native/plan.h agrees: plan-ops.test.ts)', () => {
  assert.equal(Op.IOPRIO, 42);
  assert.equal(Op.SCHED, 43);
});

test('a scheduler becomes one OP_SCHED with the sched_attr fields, a negative nice intact', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.process!.scheduler = { policy: 'SCHED_BATCH', nice: -7, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_POLICY'] };
  })));
  const ops = find(plan, Op.SCHED);
  assert.equal(ops.length, 1);
  // policy, flags, nice, priority, runtime, deadline, period
  assert.deepEqual(decodedInts(ops[0]!), [3n, 0x09n, -7n, 0n, 0n, 0n, 0n]);
  assert.match(ops[0]!.what, /SCHED_BATCH.*nice -7/);
});

test('SCHED_DEADLINE passes runtime, deadline and period in nanoseconds', () => {
  const args = schedArgs({ policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000, period: 1000000 });
  assert.deepEqual(args, [6, 0, 0, 0, 42000, 100000, 1000000]);
  assert.deepEqual(schedArgs({ policy: 'SCHED_FIFO', priority: 10 }), [1, 0, 0, 10, 0, 0, 0]);
  assert.deepEqual(schedArgs({ policy: 'SCHED_IDLE' }), [5, 0, 0, 0, 0, 0, 0]);
});

test('ioPriority becomes OP_IOPRIO with the kernel class number and the level', () => {
  const cases: [string, number | undefined, bigint[]][] = [
    ['IOPRIO_CLASS_RT', 0, [1n, 0n]],
    ['IOPRIO_CLASS_BE', 4, [2n, 4n]],
    ['IOPRIO_CLASS_IDLE', undefined, [3n, 0n]],
  ];
  for (const [cls, priority, want] of cases) {
    const plan = compileCreatePlan(opts(spec((s) => {
      s.process!.ioPriority = priority === undefined ? { class: cls } : { class: cls, priority };
    })));
    const ops = find(plan, Op.IOPRIO);
    assert.equal(ops.length, 1, cls);
    assert.deepEqual(decodedInts(ops[0]!), want, cls);
  }
});

test('scheduler and I/O priority are set in the container process, while it still has every capability', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 5 };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 2 };
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }];
  })));
  const sched = index(plan, Op.SCHED);
  const io = index(plan, Op.IOPRIO);
  assert.ok(sched > index(plan, Op.CLONE), 'after the clone: in the container process');
  assert.ok(sched > index(plan, Op.PIVOT_ROOT));
  assert.ok(sched > index(plan, Op.RLIMIT));
  assert.ok(io > sched, "runc's order: scheduler, then I/O priority");
  for (const later of [Op.CAPS_BOUNDING, Op.USER, Op.CAPS_SET, Op.EXEC]) assert.ok(io < index(plan, later), `before op ${later}`);
});

test('an exec process gets its own scheduler and I/O priority after the fork', () => {
  const process: Process = {
    cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 },
    scheduler: { policy: 'SCHED_IDLE' }, ioPriority: { class: 'IOPRIO_CLASS_IDLE' },
  };
  const plan = compileExecPlan({ process, pid: 42, namespaces: ['pid', 'mount'], cgroupProcs: [], extraFds: 0, listenFds: 0, wait: true });
  assert.ok(index(plan, Op.SCHED) > index(plan, Op.CLONE));
  assert.ok(index(plan, Op.IOPRIO) > index(plan, Op.CLONE));
  assert.ok(index(plan, Op.IOPRIO) < index(plan, Op.CAPS_SET));
});

test('without scheduler or ioPriority the plan has neither op', () => {
  const plan = compileCreatePlan(opts(spec()));
  assert.equal(find(plan, Op.SCHED).length, 0);
  assert.equal(find(plan, Op.IOPRIO).length, 0);
});

// --- validation of the values ---------------------------------------------------------------

function refusal(mutate: (p: Record<string, unknown>) => void): SpecError {
  const p: Record<string, unknown> = { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } };
  mutate(p);
  try {
    validateProcess(p);
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e;
  }
  assert.fail('accepted');
}

test('bad scheduler values are refused naming the field', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ policy: 'SCHED_ISO' }, 'scheduler.policy', /not a policy of the Linux kernel/],
    [{ policy: 'SCHED_FIFO' }, 'scheduler.priority', /1 to 99/],
    [{ policy: 'SCHED_RR', priority: 100 }, 'scheduler.priority', /1 to 99/],
    [{ policy: 'SCHED_IDLE', nice: 30 }, 'scheduler.nice', /-20 to 19/],
    [{ policy: 'SCHED_BATCH', priority: 3 }, 'scheduler.priority', /only for SCHED_FIFO and SCHED_RR/],
    [{ policy: 'SCHED_OTHER', deadline: 5 }, 'scheduler.deadline', /only for SCHED_DEADLINE/],
    [{ policy: 'SCHED_DEADLINE', runtime: 2000 }, 'scheduler.deadline', /required/],
    [{ policy: 'SCHED_DEADLINE', runtime: 1000, deadline: 5000 }, 'scheduler.runtime', /at least 1024/],
    [{ policy: 'SCHED_DEADLINE', runtime: 6000, deadline: 5000 }, 'scheduler.runtime', /must not exceed deadline/],
    [{ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 5000, period: 4000 }, 'scheduler.deadline', /must not exceed period/],
  ];
  for (const [scheduler, field, problem] of cases) {
    const e = refusal((p) => { p.scheduler = scheduler; });
    assert.equal(e.field, field, JSON.stringify(scheduler));
    assert.equal(e.kind, 'semantic');
    assert.match(e.message, problem);
  }
  // and the good ones pass
  for (const scheduler of [
    { policy: 'SCHED_FIFO', priority: 1 }, { policy: 'SCHED_RR', priority: 99 },
    { policy: 'SCHED_DEADLINE', runtime: 1024, deadline: 1024 },
    { policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000, period: 1000000, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
  ]) {
    validateProcess({ cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 }, scheduler });
  }
});

test('bad ioPriority values are refused naming the field', () => {
  assert.equal(refusal((p) => { p.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: -1 }; }).field, 'ioPriority.priority');
  assert.equal(refusal((p) => { p.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }; }).field, 'ioPriority.priority');
  assert.equal(refusal((p) => { p.ioPriority = { class: 'BE' }; }).field, 'ioPriority.class');
});

test("a SCHED_DEADLINE period outside the host's sysctl bounds is refused before create", () => {
  const max = Number(readFileSync('/proc/sys/kernel/sched_deadline_period_max_us', 'utf8'));
  const min = Number(readFileSync('/proc/sys/kernel/sched_deadline_period_min_us', 'utf8'));
  const proc = (s: Record<string, unknown>) => ({ cwd: '/', user: { uid: 0, gid: 0 }, scheduler: s }) as Process;
  assert.throws(
    () => checkSchedulerHost(proc({ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 3000, period: (max + 1) * 1000 }), 'config.json', 'process'),
    (e: SpecError) => e.field === 'process.scheduler.period' && /above this host's maximum/.test(e.message),
  );
  assert.throws(
    () => checkSchedulerHost(proc({ policy: 'SCHED_DEADLINE', runtime: 1024, deadline: min * 1000 - 1 }), 'config.json', 'process'),
    (e: SpecError) => e.field === 'process.scheduler.deadline' && /below this host's minimum/.test(e.message),
  );
  checkSchedulerHost(proc({ policy: 'SCHED_DEADLINE', runtime: 42000, deadline: 100000, period: 1000000 }), 'config.json', 'process');
  checkSchedulerHost(proc({ policy: 'SCHED_FIFO', priority: 1 }), 'config.json', 'process');
});

// --- AppArmor and SELinux -------------------------------------------------------------------

const HOST_NONE: LsmHost = { apparmor: false, apparmorExecAttr: '/proc/thread-self/attr/exec', selinux: false };
const HOST_BOTH: LsmHost = { apparmor: true, apparmorExecAttr: '/proc/thread-self/attr/apparmor/exec', selinux: true };
const proc = (extra: Partial<Process>): Process => ({ cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 }, ...extra });

test('an AppArmor profile is an "exec <profile>" write to the AppArmor attr file', () => {
  const w = processAttrWrites(proc({ apparmorProfile: 'docker-default' }), 'config.json', 'process', () => HOST_BOTH);
  assert.deepEqual(w.map(({ path, data }) => ({ path, data })), [{ path: '/proc/thread-self/attr/apparmor/exec', data: 'exec docker-default' }]);
  const old = processAttrWrites(proc({ apparmorProfile: 'p' }), 'config.json', 'process', () => ({ ...HOST_BOTH, apparmorExecAttr: '/proc/thread-self/attr/exec' }));
  assert.equal(old[0]!.path, '/proc/thread-self/attr/exec', 'the older shared attr file where AppArmor has no directory of its own');
});

test('an SELinux label is written to attr/exec', () => {
  const w = processAttrWrites(proc({ selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2' }), 'config.json', 'process', () => HOST_BOTH);
  assert.deepEqual(w.map(({ path, data }) => ({ path, data })), [{ path: '/proc/thread-self/attr/exec', data: 'system_u:system_r:container_t:s0:c1,c2' }]);
});

test('a profile or label the host cannot apply is refused, naming the field and why', () => {
  assert.throws(
    () => processAttrWrites(proc({ apparmorProfile: 'docker-default' }), 'config.json', 'process', () => HOST_NONE),
    (e: SpecError) => e.field === 'process.apparmorProfile' && /AppArmor is not enabled on this host/.test(e.message),
  );
  assert.throws(
    () => processAttrWrites(proc({ selinuxLabel: 'u:r:t:s0' }), 'exec', 'process', () => HOST_NONE),
    (e: SpecError) => e.message.startsWith('exec: process.selinuxLabel:') && /SELinux is not enabled/.test(e.message),
  );
  assert.throws(
    () => checkMountLabel(spec((s) => { s.linux!.mountLabel = 'u:object_r:t:s0'; }), () => HOST_NONE),
    (e: SpecError) => e.field === 'linux.mountLabel' && /SELinux is not enabled/.test(e.message),
  );
  checkMountLabel(spec((s) => { s.linux!.mountLabel = 'u:object_r:t:s0'; }), () => HOST_BOTH);
});

test('empty profile and label ask for nothing and never look at the host', () => {
  const host = () => assert.fail('host consulted');
  assert.deepEqual(processAttrWrites(proc({ apparmorProfile: '', selinuxLabel: '' }), 'config.json', 'process', host), []);
  checkMountLabel(spec((s) => { s.linux!.mountLabel = ''; }), host);
});

test('the exec attributes are written first, through the host /proc, before any namespace is joined', () => {
  const lsmAttrs = [{ path: '/proc/thread-self/attr/exec', data: 'u:r:t:s0', what: 'set SELinux label' }];
  const create = compileCreatePlan(opts(spec((s) => { s.linux!.namespaces!.push({ type: 'network', path: '/run/netns/x' }); }), { lsmAttrs }));
  assert.equal(create[0]!.op, Op.WRITE_FILE);
  assert.deepEqual(create[0]!.args, ['/proc/thread-self/attr/exec', 'u:r:t:s0', 0]);
  assert.ok(index(create, Op.NSOPEN) > 0 && index(create, Op.CLONE) > 0);
  const exec = compileExecPlan({ process: proc({}), pid: 42, namespaces: ['mount'], cgroupProcs: [], extraFds: 0, listenFds: 0, wait: false, lsmAttrs });
  assert.deepEqual(exec[0]!.args, ['/proc/thread-self/attr/exec', 'u:r:t:s0', 0]);
  assert.ok(index(exec, Op.NSJOIN) > 0);
});

test('selinuxEnabled needs a writable selinuxfs', () => {
  assert.equal(selinuxEnabled(''), false);
  const ro = '30 20 0:25 / /sys/fs/selinux ro,relatime shared:9 - selinuxfs selinuxfs ro\n';
  assert.equal(selinuxEnabled(ro), false);
  // this host has no selinuxfs at all
  assert.equal(selinuxEnabled(), false);
});

test('bad label strings are refused by the validator', () => {
  assert.equal(refusal((p) => { p.apparmorProfile = 'a\nb'; }).field, 'apparmorProfile');
  assert.equal(refusal((p) => { p.selinuxLabel = 'u:r:t\n'; }).field, 'selinuxLabel');
  const bad = { ...spec(), linux: { ...spec().linux, mountLabel: 'u:object_r:"x' } };
  assert.throws(() => validateSpec(bad), (e: SpecError) => e.field === 'linux.mountLabel');
});

// --- linux.mountLabel -----------------------------------------------------------------------

test('labelMountData adds context="..." where runc does, and only there', () => {
  assert.equal(labelMountData('', 'tmpfs', 'u:object_r:t:s0'), 'context="u:object_r:t:s0"');
  assert.equal(labelMountData('mode=755', 'tmpfs', 'u:object_r:t:s0:c1,c2'), 'mode=755,context="u:object_r:t:s0:c1,c2"');
  assert.equal(labelMountData('newinstance', 'devpts', 'L'), 'newinstance,context="L"');
  for (const type of ['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']) assert.equal(labelMountData('x', type, 'L'), 'x', type);
  assert.equal(labelMountData('size=1m,context="mine"', 'tmpfs', 'L'), 'size=1m,context="mine"', 'a context of its own is kept');
  assert.equal(labelMountData('size=1m', 'tmpfs', undefined), 'size=1m');
  assert.equal(labelMountData('size=1m', 'tmpfs', ''), 'size=1m');
});

test('with mountLabel, the filesystems hull mounts carry it; proc, sysfs and binds do not', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0';
    s.linux!.maskedPaths = ['/proc/acpi'];
  })));
  const ctx = 'context="system_u:object_r:container_file_t:s0"';
  const mounts = find(plan, Op.MOUNT);
  const data = (dest: string) => mounts.find((m) => m.args[1] === dest)?.args[4];
  assert.equal(data('/dev'), `mode=755,size=65536k,${ctx}`);
  assert.match(String(data('/dev/pts')), new RegExp(`,${ctx.replace(/"/g, '"')}$`));
  assert.equal(data('/proc'), '');
  assert.doesNotMatch(String(data('/sys')), /context=/);
  assert.doesNotMatch(String(data('/dev/mqueue')), /context=/);
  const cgroupTmpfs = mounts.find((m) => String(m.what).startsWith('mount tmpfs for cgroups'));
  assert.equal(cgroupTmpfs?.args[4], `mode=755,${ctx}`);
  const mask = find(plan, Op.MASK)[0]!;
  assert.deepEqual(mask.args, ['/proc/acpi', `size=0k,nr_inodes=1,${ctx}`]);
});

test('without mountLabel nothing is labelled and masks keep their one argument', () => {
  const plan = compileCreatePlan(opts(spec((s) => { s.linux!.maskedPaths = ['/proc/acpi']; })));
  for (const m of find(plan, Op.MOUNT)) assert.doesNotMatch(String(m.args[4]), /context=/);
  assert.deepEqual(find(plan, Op.MASK)[0]!.args, ['/proc/acpi']);
});

// --- linux.intelRdt -------------------------------------------------------------------------

// resctrl itself cannot run on this host (no such filesystem in this kernel), so the group
// logic runs against a plain directory laid out like a resctrl mount. The one difference:
// resctrl's files belong to the kernel and rmdir takes them along, while a plain directory
// must be emptied of them first (kernelFilesGone).

/** A directory laid out like a resctrl mount: the kernel's info/ directory per resource. */
function fakeResctrl(resources: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'hull-resctrl-'));
  for (const r of resources) mkdirSync(join(root, 'info', r), { recursive: true });
  return root;
}

/** Removes the files a group holds (schemata), as the kernel would on rmdir. */
function kernelFilesGone(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) kernelFilesGone(join(dir, e.name));
    else rmSync(join(dir, e.name));
  }
}

test('the container joins its resctrl group after its cgroups, before the clone, in create and exec', () => {
  const rdtTasks = ['/sys/fs/resctrl/c1/tasks', '/sys/fs/resctrl/c1/mon_groups/c1/tasks'];
  const plan = compileCreatePlan(opts(spec(), { rdtTasks }));
  const joins = plan.filter((p) => p.op === Op.WRITE_FILE && String(p.args[0]).startsWith('/sys/fs/resctrl'));
  assert.deepEqual(joins.map((p) => p.args), rdtTasks.map((f) => [f, '0', 0]));
  const cgroupJoin = plan.findIndex((p) => p.args[0] === '/sys/fs/cgroup/pids/x/cgroup.procs');
  assert.ok(plan.indexOf(joins[0]!) > cgroupJoin);
  assert.ok(plan.indexOf(joins[1]!) < index(plan, Op.CLONE));
  const exec = compileExecPlan({ process: proc({}), pid: 42, namespaces: ['pid'], cgroupProcs: [], extraFds: 0, listenFds: 0, wait: false, rdtTasks });
  assert.ok(exec.findIndex((p) => p.args[0] === rdtTasks[0]) < index(exec, Op.CLONE));
});

test('intelRdt host checks name the field: missing CAT, MBA, resource, monitoring, or a closID never made', () => {
  const root = fakeResctrl(['MB']);
  try {
    const rdt = (r: Record<string, unknown>) => spec((s) => { s.linux!.intelRdt = r; });
    assert.throws(() => checkIntelRdt(rdt({ l3CacheSchema: 'L3:0=ff' }), root), (e: SpecError) => e.field === 'linux.intelRdt.l3CacheSchema' && /CAT/.test(e.message));
    assert.throws(() => checkIntelRdt(rdt({ schemata: ['SMBA:0=50'] }), root), (e: SpecError) => e.field === 'linux.intelRdt.schemata[0]');
    assert.throws(() => checkIntelRdt(rdt({ memBwSchema: 'MB:0=50', enableMonitoring: true }), root), (e: SpecError) => e.field === 'linux.intelRdt.enableMonitoring');
    assert.throws(() => checkIntelRdt(rdt({ closID: 'gold' }), root), (e: SpecError) => e.field === 'linux.intelRdt.closID' && /made beforehand/.test(e.message));
    assert.equal(checkIntelRdt(rdt({ memBwSchema: 'MB:0=50' }), root), root);
    mkdirSync(join(root, 'gold'));
    assert.equal(checkIntelRdt(rdt({ closID: 'gold' }), root), root);
    assert.equal(checkIntelRdt(spec(), root), undefined, 'no intelRdt: nothing to check');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a group named after the container is made with its schemata, recorded, and removed on delete', () => {
  const root = fakeResctrl(['L3', 'MB', 'L2']);
  const state = mkdtempSync(join(tmpdir(), 'hull-state-'));
  try {
    const s = spec((x) => { x.linux!.intelRdt = { l3CacheSchema: 'L3:0=f0', memBwSchema: 'MB:0=20', schemata: ['L2:0=3'] }; });
    assert.equal(checkIntelRdt(s, root), root);
    const group = setupIntelRdt(s, 'box', root, state);
    assert.equal(group.dir, join(root, 'box'));
    // runc's order: L3, MB, then the schemata lines
    assert.equal(readFileSync(join(root, 'box', 'schemata'), 'utf8'), 'L3:0=f0\nMB:0=20\nL2:0=3\n');
    assert.deepEqual(rdtTasksFiles(group), [join(root, 'box', 'tasks')]);
    assert.deepEqual(loadRdtGroup(state), group);
    kernelFilesGone(join(root, 'box'));
    teardownIntelRdt(state);
    assert.ok(!existsSync(join(root, 'box')), 'removed with the container');
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
});

test('enableMonitoring adds a monitoring group in the CLOS group, joined after it and removed with the container', () => {
  const root = fakeResctrl(['L3', 'L3_MON']);
  const state = mkdtempSync(join(tmpdir(), 'hull-state-'));
  try {
    // a CLOS group the admin made; the kernel gives every group its mon_groups directory
    mkdirSync(join(root, 'gold', 'mon_groups'), { recursive: true });
    const s = spec((x) => { x.linux!.intelRdt = { closID: 'gold', enableMonitoring: true }; });
    assert.equal(checkIntelRdt(s, root), root);
    const group = setupIntelRdt(s, 'box', root, state);
    assert.deepEqual(rdtTasksFiles(group), [join(root, 'gold', 'tasks'), join(root, 'gold', 'mon_groups', 'box', 'tasks')]);
    assert.ok(existsSync(join(root, 'gold', 'mon_groups', 'box')));
    teardownIntelRdt(state);
    assert.ok(!existsSync(join(root, 'gold', 'mon_groups', 'box')), 'the monitoring group goes');
    assert.ok(existsSync(join(root, 'gold')), 'the shared CLOS group stays');
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
});

test('a closID group is shared: delete leaves it, a failed create removes the one it made', () => {
  const root = fakeResctrl(['L3']);
  const state = mkdtempSync(join(tmpdir(), 'hull-state-'));
  try {
    const s = spec((x) => { x.linux!.intelRdt = { closID: 'gold', l3CacheSchema: 'L3:0=ff' }; });
    setupIntelRdt(s, 'box', root, state);
    teardownIntelRdt(state);
    assert.ok(existsSync(join(root, 'gold')), 'delete leaves a closID group');
    rmSync(join(root, 'gold'), { recursive: true });
    setupIntelRdt(s, 'box', root, state);
    kernelFilesGone(join(root, 'gold'));
    teardownIntelRdt(state, true);
    assert.ok(!existsSync(join(root, 'gold')), 'a failed create removes what it made');
    // a group someone else made is never removed
    mkdirSync(join(root, 'gold'));
    setupIntelRdt(s, 'box', root, state);
    teardownIntelRdt(state, true);
    assert.ok(existsSync(join(root, 'gold')));
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
});

test('schemata that cannot be written fail with the group removed', () => {
  const root = fakeResctrl(['L3']);
  const state = mkdtempSync(join(tmpdir(), 'hull-state-'));
  try {
    // a directory where the schemata file should be: the write fails, as a kernel refusal would
    const s = spec((x) => { x.linux!.intelRdt = { closID: 'gold', l3CacheSchema: 'L3:0=ff' }; });
    mkdirSync(join(root, 'gold', 'schemata'), { recursive: true });
    assert.throws(() => setupIntelRdt(s, 'c', root, state), /linux\.intelRdt: cannot write schemata "L3:0=ff" to /);
    assert.ok(existsSync(join(root, 'gold')), 'a group it did not make stays');
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
});

test('bad intelRdt values are refused by the validator, naming the field', () => {
  const bad = (r: Record<string, unknown>) => {
    try {
      validateSpec(spec((s) => { s.linux!.intelRdt = r; }));
    } catch (e) {
      return (e as SpecError).field;
    }
    return undefined;
  };
  assert.equal(bad({ closID: '..' }), 'linux.intelRdt.closID');
  assert.equal(bad({ closID: 'a/b' }), 'linux.intelRdt.closID');
  assert.equal(bad({ closID: 'info' }), 'linux.intelRdt.closID');
  assert.equal(bad({ l3CacheSchema: 'MB:0=1' }), 'linux.intelRdt.l3CacheSchema');
  assert.equal(bad({ schemata: ['L3:0=ff', 'nonsense'] }), 'linux.intelRdt.schemata[1]');
  assert.equal(bad({ closID: 'gold', schemata: ['L3:0=ff'], l3CacheSchema: 'L3:0=ff', memBwSchema: 'MB:0=50' }), undefined);
  assert.deepEqual(schemataLines({ schemata: ['L2:0=1'], memBwSchema: 'MB:0=5' }), ['MB:0=5', 'L2:0=1']);
});

test('resctrl is found at its usual place or through mountinfo', () => {
  // a host with resctrl at its usual place answers that before reading mountinfo
  const usual = existsSync('/sys/fs/resctrl/info') ? '/sys/fs/resctrl' : undefined;
  assert.equal(resctrlMount(''), usual);
  assert.equal(resctrlMount('40 20 0:30 / /mnt/rdt\\040x rw - resctrl resctrl rw\n'), usual ?? '/mnt/rdt x');
  assert.equal(resctrlMount('40 20 0:30 / /mnt/rdt rw - tmpfs resctrl rw\n'), usual);
});
