// The plan compiler, without root: what hull-init will be told to do for a given config.json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCreatePlan, compileExecPlan, compileHookPlan, type CreatePlanOptions } from '../../src/runtime/plan/compile.ts';
import { CLONE, Op, SyncTag, type PlanOp } from '../../src/runtime/plan/ops.ts';
import { defaultSpec } from '../../src/runtime/spec/default.ts';
import { MS } from '../../src/runtime/spec/mount-options.ts';
import type { Spec } from '../../src/runtime/spec/types.ts';

function opts(spec: Spec, extra: Partial<CreatePlanOptions> = {}): CreatePlanOptions {
  return {
    spec,
    rootfs: '/b/rootfs',
    fifo: '/run/x/exec.fifo',
    cgroupProcs: ['/sys/fs/cgroup/pids/x/cgroup.procs'],
    extraFds: 0,
    listenFds: 0,
    wait: false,
    host: {
      stat: (p) => (p.endsWith('.conf') ? 'file' : p.startsWith('/missing') ? undefined : 'dir'),
      cgroupDirs: ['/sys/fs/cgroup/pids/x', '/sys/fs/cgroup/memory/x'],
      cgroupMounts: [
        { mountpoint: '/sys/fs/cgroup/pids', version: 1 },
        { mountpoint: '/sys/fs/cgroup/memory', version: 1 },
      ],
    },
    ...extra,
  };
}

function spec(mutate?: (s: Spec) => void): Spec {
  const s = defaultSpec({});
  s.process!.terminal = false;
  mutate?.(s);
  return s;
}

const codes = (plan: PlanOp[]) => plan.map((p) => p.op);
const find = (plan: PlanOp[], op: number) => plan.filter((p) => p.op === op);
const index = (plan: PlanOp[], op: number) => plan.findIndex((p) => p.op === op);

test('clone gets every new namespace but time and cgroup, which are unshared', () => {
  const plan = compileCreatePlan(opts(spec((s) => s.linux!.namespaces!.push({ type: 'time' }))));
  const clone = find(plan, Op.CLONE)[0]!;
  const flags = Number(clone.args[0]);
  assert.equal(flags & CLONE.NEWPID, CLONE.NEWPID);
  assert.equal(flags & CLONE.NEWNS, CLONE.NEWNS);
  assert.equal(flags & CLONE.NEWCGROUP, 0, 'cgroup ns is made after the process joins its cgroup');
  assert.equal(flags & CLONE.NEWTIME, 0);
  const unshares = find(plan, Op.UNSHARE).map((p) => Number(p.args[0]));
  assert.deepEqual(unshares, [CLONE.NEWTIME, CLONE.NEWCGROUP]);
  assert.ok(index(plan, Op.WRITE_FILE) < index(plan, Op.CLONE), 'cgroup joined before clone');
});

test('time offsets are written before the clone that enters the time namespace', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { monotonic: { secs: 86400 }, boottime: { secs: 1, nanosecs: 5 } };
  })));
  const w = plan.find((p) => p.op === Op.WRITE_FILE && p.args[0] === '/proc/self/timens_offsets')!;
  assert.equal(w.args[1], 'monotonic 86400 0\nboottime 1 5\n');
  assert.ok(plan.indexOf(w) < index(plan, Op.CLONE));
});

test('a user namespace gets its maps on the clone, root inside, and bind-mounted devices', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }, { containerID: 1000, hostID: 5000, size: 1 }];
  })));
  const clone = find(plan, Op.CLONE)[0]!;
  assert.equal(Number(clone.args[0]) & CLONE.NEWUSER, CLONE.NEWUSER);
  assert.equal(clone.args[2], '0 100000 65536\n');
  assert.equal(clone.args[3], '0 200000 1000\n1000 5000 1\n');
  assert.equal(plan[index(plan, Op.CLONE) + 1]!.op, Op.SETID);
  assert.equal(find(plan, Op.MKNOD).length, 0, 'no mknod in a user namespace');
  const devBinds = find(plan, Op.MOUNT).filter((p) => p.args[1] === '/dev/null');
  assert.equal(devBinds.length, 1);
  assert.equal(Number(devBinds[0]!.args[3]) & MS.BIND, MS.BIND);
});

test('namespaces given by path are opened user-first and joined, not cloned', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    delete s.hostname;
    s.linux!.namespaces = [
      { type: 'mount' },
      { type: 'network', path: '/run/netns/a' },
      { type: 'user', path: '/proc/1/ns/user' },
      { type: 'pid' },
    ];
  })));
  const opened = find(plan, Op.NSOPEN).map((p) => p.args[0]);
  assert.deepEqual(opened, ['/proc/1/ns/user', '/run/netns/a']);
  assert.ok(index(plan, Op.NSJOIN) < index(plan, Op.CLONE));
  const flags = Number(find(plan, Op.CLONE)[0]!.args[0]);
  assert.equal(flags & (CLONE.NEWNET | CLONE.NEWUSER), 0);
});

test('the rootfs sequence: rslave, self-bind, mounts, devices, masks, pivot, read-only', () => {
  const plan = compileCreatePlan(opts(spec()));
  const order = [Op.MOUNT_PROP, Op.ROOTFS, Op.MKNOD, Op.MASK, Op.READONLY, Op.PIVOT_ROOT, Op.REMOUNT];
  const firstOf = order.map((op) => index(plan, op));
  assert.ok(firstOf.every((i) => i >= 0), `all present: ${firstOf}`);
  assert.equal(find(plan, Op.MOUNT_PROP)[0]!.args[2], MS.SLAVE | MS.REC);
  assert.ok(index(plan, Op.PIVOT_ROOT) > index(plan, Op.READONLY));
  const ro = plan.filter((p) => p.op === Op.REMOUNT && p.args[0] === '/');
  assert.equal(ro.length, 1);
  assert.equal(plan[index(plan, Op.PIVOT_ROOT)]!.args[1], 0);
});

test('--no-pivot moves the root instead; no mount namespace means a bare chroot', () => {
  assert.equal(find(compileCreatePlan(opts(spec(), { noPivot: true })), Op.PIVOT_ROOT)[0]!.args[1], 1);
  const plan = compileCreatePlan(opts(spec((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.mounts = [];
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
  })));
  assert.equal(find(plan, Op.PIVOT_ROOT)[0]!.args[1], 2);
  assert.equal(find(plan, Op.MOUNT).length, 0);
});

test('bind mounts: missing source refused, file targets made as files, flags by remount', () => {
  const s = spec((x) => x.mounts!.push({ destination: '/etc/app.conf', source: '/host/app.conf', type: 'bind', options: ['rbind', 'ro', 'nosuid', 'rslave'] }));
  const plan = compileCreatePlan(opts(s));
  const i = plan.findIndex((p) => p.op === Op.MOUNT && p.args[1] === '/etc/app.conf');
  const m = plan[i]!;
  assert.equal(Number(m.args[3]), MS.BIND | MS.REC);
  assert.equal(m.args[6], 2, 'target created as a file');
  assert.equal(plan[i + 1]!.op, Op.REMOUNT);
  assert.equal(Number(plan[i + 1]!.args[2]), MS.BIND | MS.RDONLY | MS.NOSUID);
  assert.equal(plan[i + 2]!.op, Op.MOUNT_PROP);
  assert.equal(Number(plan[i + 2]!.args[2]), MS.SLAVE | MS.REC);
  const bad = spec((x) => x.mounts!.push({ destination: '/x', source: '/missing/src', type: 'bind', options: ['bind'] }));
  assert.throws(() => compileCreatePlan(opts(bad)), /bind source \/missing\/src does not exist/);
});

test('mount destinations are cleaned so no ".." reaches hull-init', () => {
  const plan = compileCreatePlan(opts(spec((s) => s.mounts!.push({ destination: '/a/../../../etc', type: 'tmpfs', source: 'tmpfs' }))));
  assert.ok(plan.some((p) => p.op === Op.MOUNT && p.args[1] === '/etc'));
});

test('a v1 cgroup mount becomes a tmpfs with a bind per hierarchy', () => {
  const plan = compileCreatePlan(opts(spec()));
  const targets = find(plan, Op.MOUNT).map((p) => p.args[1]);
  assert.ok(targets.includes('/sys/fs/cgroup'));
  assert.ok(targets.includes('/sys/fs/cgroup/pids'));
  assert.ok(targets.includes('/sys/fs/cgroup/memory'));
});

test('sysctls: both spellings, written before /proc/sys is made read-only', () => {
  const plan = compileCreatePlan(opts(spec((s) => (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'net/core/somaxconn': '512' }))));
  const w = find(plan, Op.WRITE_FILE).map((p) => p.args[0]);
  assert.ok(w.includes('/proc/sys/net/ipv4/ip_forward'));
  assert.ok(w.includes('/proc/sys/net/core/somaxconn'));
  const lastSysctl = plan.findLastIndex((p) => p.op === Op.WRITE_FILE);
  assert.ok(lastSysctl < plan.findIndex((p) => p.op === Op.READONLY && p.args[0] === '/proc/sys'));
});

test('process: user switch keeps capabilities, ambient only where the kernel allows it', () => {
  const plan = compileCreatePlan(opts(spec((s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 6], umask: 0o077 };
    s.process!.capabilities = {
      bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], permitted: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      effective: ['CAP_NET_BIND_SERVICE'], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
    };
  })));
  const seq = codes(plan).filter((c) => [Op.CAPS_BOUNDING, Op.KEEPCAPS, Op.USER, Op.CAPS_SET, Op.CAPS_AMBIENT].includes(c as never));
  assert.deepEqual(seq, [Op.CAPS_BOUNDING, Op.KEEPCAPS, Op.USER, Op.KEEPCAPS, Op.CAPS_SET, Op.CAPS_AMBIENT]);
  const user = find(plan, Op.USER)[0]!;
  assert.deepEqual([...(user.args[2] as Uint8Array)], [5, 0, 0, 0, 6, 0, 0, 0]);
  assert.equal(find(plan, Op.CAPS_AMBIENT)[0]!.args[0], 1n << 10n, 'KILL is not inheritable, so not ambient');
  assert.equal(find(plan, Op.UMASK)[0]!.args[0], 0o077);
});

test('the tail: close fds, report ready, wait for start, exec, with LISTEN_FDS', () => {
  const plan = compileCreatePlan(opts(spec(), { extraFds: 3, listenFds: 2 }));
  assert.deepEqual(codes(plan).slice(-4), [Op.CLOSE_FDS, Op.READY, Op.WAIT_START, Op.EXEC]);
  assert.equal(find(plan, Op.CLOSE_FDS)[0]!.args[0], 6);
  const exec = find(plan, Op.EXEC)[0]!;
  assert.ok(Buffer.from(exec.args[1] as Uint8Array).toString().includes('LISTEN_FDS=2\0'));
  assert.equal(exec.args[2], 1);
});

test('create hooks get a sync point just before pivot_root', () => {
  const plan = compileCreatePlan(opts(spec((s) => (s.hooks = { createRuntime: [{ path: '/bin/true' }] }))));
  const sync = index(plan, Op.SYNC);
  assert.equal(plan[sync]!.args[0], SyncTag.CREATE_HOOKS);
  assert.equal(plan[sync + 1]!.op, Op.PIVOT_ROOT);
  assert.equal(index(compileCreatePlan(opts(spec())), Op.SYNC), -1, 'no round trip without hooks');
});

test('hostname needs a uts namespace; a terminal needs a console socket', () => {
  const noUts = spec((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')));
  assert.throws(() => compileCreatePlan(opts(noUts)), /hostname/);
  assert.throws(() => compileCreatePlan(opts(spec((s) => (s.process!.terminal = true)))), /console-socket/);
  const tty = compileCreatePlan(opts(spec((s) => (s.process!.terminal = true)), { consoleSocket: '/tmp/c.sock' }));
  assert.equal(tty[0]!.op, Op.CONSOLE_CONNECT, 'connected while host paths are still visible');
  assert.ok(index(tty, Op.CONSOLE_SETUP) > index(tty, Op.PIVOT_ROOT));
});

test('exec joins cgroup first, then namespaces user-first, then forks', () => {
  const plan = compileExecPlan({
    process: { cwd: '/', args: ['ls'], user: { uid: 0, gid: 0 } },
    pid: 42,
    namespaces: ['mount', 'pid', 'user', 'network'],
    cgroupProcs: ['/sys/fs/cgroup/pids/x/cgroup.procs'],
    extraFds: 0,
    listenFds: 0,
    wait: true,
  });
  assert.deepEqual(codes(plan).slice(0, 7), [Op.WRITE_FILE, Op.NSOPEN, Op.NSOPEN, Op.NSOPEN, Op.NSOPEN, Op.NSJOIN, Op.CLONE]);
  assert.deepEqual(find(plan, Op.NSOPEN).map((p) => p.args[0]), ['/proc/42/ns/user', '/proc/42/ns/net', '/proc/42/ns/pid', '/proc/42/ns/mnt']);
  assert.deepEqual(codes(plan).slice(-3), [Op.CLOSE_FDS, Op.READY, Op.EXEC], 'ready right before exec, no start to wait for');
  assert.equal(index(plan, Op.WAIT_START), -1);
});

test('a container hook runs its exact path in the container namespaces', () => {
  const plan = compileHookPlan({ pid: 7, namespaces: ['mount', 'uts'], path: '/hooks/h', args: ['h', 'a'], env: ['X=1'] });
  assert.deepEqual(codes(plan), [Op.NSOPEN, Op.NSOPEN, Op.NSJOIN, Op.CLONE, Op.CLOSE_FDS, Op.EXEC_RESOLVE, Op.READY, Op.EXEC]);
  assert.equal(find(plan, Op.CLONE)[0]!.args[1], 1);
});

test('mount options hull cannot honour are refused, not ignored', () => {
  const tmp = spec((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }));
  assert.throws(() => compileCreatePlan(opts(tmp)), /\/t: the tmpcopyup option is not supported/);
  const idmap = spec((s) => s.mounts!.push({ destination: '/m', type: 'bind', source: '/srv', options: ['rbind', 'idmap'] }));
  assert.throws(() => compileCreatePlan(opts(idmap)), /\/m: id-mapped mounts are not supported/);
});
