// Device access rules on the real kernel: the v1 devices cgroup of this hybrid host, and the
// eBPF device filter on its cgroup2 tree (/sys/fs/cgroup/unified runs BPF_CGROUP_DEVICE
// programs although it holds no controllers), directly and in whole containers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { applyDevices, installDeviceProgram, parseDevicesList } from '../../src/runtime/cgroups/devices.ts';
import { ANY, deviceState, type DeviceState } from '../../src/runtime/cgroups/device-program.ts';
import { alu64, assemble, exit, R0, Alu } from '../../src/runtime/cgroups/ebpf.ts';
import { detectLayout, type CgroupLayout } from '../../src/runtime/cgroups/hierarchy.ts';
import type { Device, DeviceRule } from '../../src/runtime/spec/types.ts';
import { bundle, processesUnder, runCaptured, RUNTIME, type Bundle } from './harness.ts';

const V1_DEVICES = '/sys/fs/cgroup/devices';
const UNIFIED = '/sys/fs/cgroup/unified';
const V2: CgroupLayout = { mode: 'v2', hierarchies: [{ version: 2, controllers: [], mountpoint: UNIFIED, mountRoot: '/' }] };

let cleanups: (() => void)[] = [];
afterEach(() => {
  const all = cleanups.reverse();
  cleanups = [];
  for (const c of all) c();
});

function track(b: Bundle): Bundle {
  cleanups.push(() => b.cleanup());
  return b;
}

let n = 0;
/** A fresh cgroup of our own under hull-test in one hierarchy; removed (and checked) after the test. */
function cgroup(root: string): string {
  const dir = join(root, 'hull-test', `dev${process.pid}-${++n}`);
  mkdirSync(dir, { recursive: true });
  cleanups.push(() => {
    for (let i = 0; ; i++) {
      try {
        for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(dir, sub.name));
        rmdirSync(dir);
        break;
      } catch (e) {
        // a process that just exited leaves its cgroup a moment after it is reaped
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || i > 100) throw e;
        spawnSync('sleep', ['0.02']);
      }
    }
    assert.ok(!existsSync(dir), `cgroup leaked: ${dir}`);
  });
  return dir;
}

/** Runs sh -c script after moving the shell into the cgroup dir; returns its stdout. */
function inCgroup(dir: string, script: string): string {
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs || exit 99; ${script}`], { encoding: 'utf8', timeout: 10_000 });
  assert.notEqual(r.status, 99, `cannot join ${dir}: ${r.stderr}`);
  return r.stdout;
}

/** "<what> ok" or "<what> denied" for a shell step (its stderr is left alone: /dev/null may be denied). */
const TRY = (what: string, cmd: string) => `if ${cmd}; then echo "${what} ok"; else echo "${what} denied"; fi`;

/** A real block device of this machine (a loop device if there is one) and its numbers. */
function blockDevice(): { name: string; major: number; minor: number } {
  const names = readdirSync('/sys/block').sort((a, b) => Number(!a.startsWith('loop')) - Number(!b.startsWith('loop')));
  for (const name of names) {
    const m = /^(\d+):(\d+)$/.exec(readFileSync(`/sys/block/${name}/dev`, 'utf8').trim());
    if (m) return { name, major: Number(m[1]), minor: Number(m[2]) };
  }
  assert.fail('no block device under /sys/block');
}

// The reading of the rules that everything must agree with (as in the unit tests).
function reference(rules: readonly DeviceRule[], type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  for (const letter of access) {
    let allowed = false;
    for (const r of rules) {
      const t = r.type || 'a';
      if ((t === 'a' || t === type) && [undefined, -1, major].includes(r.major) && [undefined, -1, minor].includes(r.minor) && r.access!.includes(letter)) {
        allowed = r.allow;
      }
    }
    if (!allowed) return false;
  }
  return true;
}

/** What the v1 kernel grants from a devices.list in allow-list mode (match_exception). */
function listGrants(s: DeviceState, type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  const want = (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  return s.exceptions.some(
    (e) => e.type === type && (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor) && (want & ~e.access) === 0,
  );
}

// ---- v1, directly ------------------------------------------------------------------------

test('v1: applied rule lists leave devices.list meaning exactly the rules, update after update', async () => {
  const lay = detectLayout();
  assert.equal(lay.mode, 'v1');
  const dir = cgroup(V1_DEVICES);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let checked = 0;
  for (let i = 0; i < 40; i++) {
    const rules: DeviceRule[] = [{ allow: false, access: 'rwm' }];
    for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) {
      const r: DeviceRule = { allow: rand() < 0.7, access: pick(['r', 'w', 'm', 'rw', 'rwm']) };
      const t = pick(['a', 'b', 'c', 'c']);
      if (t !== 'a') r.type = t;
      const major = pick([undefined, 1, 5, 7]);
      const minor = pick([undefined, 3, 5]);
      if (major !== undefined) r.major = major;
      if (minor !== undefined) r.minor = minor;
      rules.push(r);
    }
    try {
      // only allow lists: devices.list shows none of an allow-all cgroup's denies
      if (deviceState(rules).defaultAllow) continue;
      await applyDevices([dir], rules, lay);
    } catch (e) {
      assert.match((e as Error).message, /cannot express/); // a hole v1 cannot make
      continue;
    }
    const list = parseDevicesList(readFileSync(join(dir, 'devices.list'), 'utf8'));
    assert.equal(list.defaultAllow, false);
    for (const type of ['b', 'c'] as const) {
      for (const major of [1, 5, 7, 8]) {
        for (const minor of [0, 3, 5]) {
          for (const access of ['r', 'w', 'm', 'rw', 'rwm']) {
            assert.equal(listGrants(list, type, major, minor, access), reference(rules, type, major, minor, access),
              `${type} ${major}:${minor} ${access} after ${JSON.stringify(rules)}`);
          }
        }
      }
    }
    checked++;
  }
  assert.ok(checked >= 30, `${checked} lists checked`);
});

test('v1: a process in the cgroup is held to the rules, in allow-list and deny-list form', async () => {
  const lay = detectLayout();
  const dir = cgroup(V1_DEVICES);
  const node = `/tmp/hull-v1-${process.pid}-${n}`;
  const steps = [
    TRY('read null', 'cat /dev/null'),
    TRY('read zero', 'head -c 1 /dev/zero | wc -c | grep -q 1'),
    TRY('mknod c 1:3', `mknod ${node} c 1 3`),
    `rm -f ${node}`,
  ].join('; ');
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }], lay);
  assert.equal(readFileSync(join(dir, 'devices.list'), 'utf8'), 'c 1:3 rw\n');
  assert.equal(inCgroup(dir, steps), 'read null ok\nread zero denied\nmknod c 1:3 denied\n');
  // an update to allow-all-but: the deny exceptions the kernel does not list still hold
  await applyDevices([dir], [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'r' }], lay);
  assert.equal(readFileSync(join(dir, 'devices.list'), 'utf8'), 'a *:* rwm\n');
  assert.equal(inCgroup(dir, steps), 'read null denied\nread zero ok\nmknod c 1:3 ok\n');
});

test('v1: switching allow-all and deny-all is refused clearly while the cgroup has a child', async () => {
  const lay = detectLayout();
  const dir = cgroup(V1_DEVICES);
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }], lay);
  mkdirSync(join(dir, 'child'));
  // a change within the allow list needs no reset, and works
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }], lay);
  assert.equal(readFileSync(join(dir, 'devices.list'), 'utf8'), 'c 1:5 rwm\n');
  // the child lost 1:3 with its parent (the kernel passes removals down)
  assert.equal(readFileSync(join(dir, 'child/devices.list'), 'utf8'), '');
  await assert.rejects(
    applyDevices([dir], [{ allow: true, access: 'rwm' }], lay),
    /cannot write "a \*:\* rwm" to .*devices\.allow: .*the kernel cannot switch a devices cgroup between allow-all and deny-all while it has child cgroups/,
  );
});

// ---- v1, containers ----------------------------------------------------------------------

/** A container whose /dev holds the host's block device as /dev/blk, with CAP_MKNOD. */
function deviceBundle(script: string, rules: DeviceRule[] | undefined, extra: Device[] = []): Bundle {
  const blk = blockDevice();
  return track(bundle(['sh', '-c', script], (s) => {
    const caps = s.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
    s.linux!.devices = [{ type: 'b', path: '/dev/blk', major: blk.major, minor: blk.minor, fileMode: 0o600 }, ...extra];
    if (rules) s.linux!.resources = { ...s.linux!.resources, devices: rules };
    else delete s.linux!.resources?.devices;
  }));
}

const ACCEPTANCE = [
  TRY('open blk', '(exec 3</dev/blk)'),
  TRY('mknod c 4:1', 'mknod /dev/made c 4 1'),
  TRY('mknod c 1:3', 'mknod /dev/made-null c 1 3'),
  TRY('null', 'echo x >/dev/null'),
].join('; ');

function runOut(b: Bundle, env?: NodeJS.ProcessEnv): string {
  const r = b.rt(['run', b.id], env ? { env } : {});
  assert.equal(r.status, 0, `run failed: ${r.stderr}`);
  return r.stdout;
}

test('acceptance (v1): a block device and mknod the config does not allow are denied; allowed ones work', () => {
  const blk = blockDevice();
  const denied = deviceBundle(ACCEPTANCE, [{ allow: false, access: 'rwm' }]);
  assert.equal(runOut(denied), 'open blk denied\nmknod c 4:1 denied\nmknod c 1:3 ok\nnull ok\n');
  const allowed = deviceBundle(ACCEPTANCE, [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'r' },
    { allow: true, type: 'c', major: 4, minor: 1, access: 'm' },
  ]);
  assert.equal(runOut(allowed), 'open blk ok\nmknod c 4:1 ok\nmknod c 1:3 ok\nnull ok\n');
  // the error is the kernel's EPERM, not a missing node
  const why = deviceBundle('head -c 1 /dev/blk; ls -l /dev/blk | cut -c1', [{ allow: false, access: 'rwm' }]);
  assert.match(runOut(why), /head: \/dev\/blk: Operation not permitted\nb\n|^b\n$/);
});

test('v1: the default config and a config without rules work, and the container sees only its devices', () => {
  const script = [TRY('null', 'echo x >/dev/null'), TRY('zero', 'head -c 1 /dev/zero >/dev/null'), TRY('urandom', 'head -c 1 /dev/urandom >/dev/null'),
    TRY('ptmx', '(exec 4<>/dev/ptmx)'), TRY('blk', '(exec 3</dev/blk)'), 'cat /proc/self/cgroup | grep devices: | cut -d: -f3'].join('; ');
  for (const rules of [[{ allow: false, access: 'rwm' }], undefined]) {
    const b = deviceBundle(script, rules);
    assert.equal(runOut(b), `null ok\nzero ok\nurandom ok\nptmx ok\nblk denied\n/\n`);
  }
  // and the cgroup itself, read while the container runs
  const b = deviceBundle('sleep 60', undefined);
  b.ok(['run', '--detach', b.id]);
  const list = readFileSync(join(V1_DEVICES, 'hull-test', b.id, 'devices.list'), 'utf8').trim().split('\n').sort();
  const blk = blockDevice();
  assert.deepEqual(list, [`b ${blk.major}:${blk.minor} m`, 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm'].sort());
});

test('v1: podman-style deny-all then allow list, and a privileged allow-all config', () => {
  const blk = blockDevice();
  const podman: DeviceRule[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
    { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'rw' },
  ];
  assert.equal(runOut(deviceBundle(ACCEPTANCE, podman)), 'open blk ok\nmknod c 4:1 denied\nmknod c 1:3 ok\nnull ok\n');
  assert.equal(runOut(deviceBundle(ACCEPTANCE, [{ allow: true, access: 'rwm' }])), 'open blk ok\nmknod c 4:1 ok\nmknod c 1:3 ok\nnull ok\n');
});

function createFails(b: Bundle, what: RegExp, env?: NodeJS.ProcessEnv): void {
  const r = b.rt(['create', b.id], env ? { env } : {});
  assert.notEqual(r.status, 0, 'create should fail');
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace instead of a message');
  assert.deepEqual(processesUnder(b.dir), []);
  for (const ctrl of readdirSync('/sys/fs/cgroup')) assert.ok(!existsSync(join('/sys/fs/cgroup', ctrl, 'hull-test', b.id)), `cgroup left in ${ctrl}`);
}

const BAD: [string, DeviceRule[], RegExp][] = [
  ['type x', [{ allow: true, type: 'x', access: 'rwm' }], /linux\.resources\.devices\[0\]\.type: "x" is not one of a, b, c/],
  ['access rwz', [{ allow: true, type: 'c', access: 'rwz' }], /linux\.resources\.devices\[0\]\.access: "rwz" may hold only r, w and m/],
  ['major -2', [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: -2, access: 'r' }], /linux\.resources\.devices\[1\]\.major: -2 is not a device number/],
  ['a hole v1 cannot make', [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, access: 'rw' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    { allow: true, type: 'b', minor: 7, access: 'r' },
    { allow: false, type: 'b', major: 8, access: 'r' },
  ], /linux\.resources\.devices\[2\]: "deny c 1:3 w" would undo part of the earlier "allow c 1:\* w"/],
];

test('v1: bad rules fail create clearly and leave nothing', () => {
  for (const [, rules, what] of BAD) createFails(deviceBundle('true', rules), what);
});

// ---- v2, directly ------------------------------------------------------------------------

test('v2: the eBPF filter holds a process to the rules, and an update replaces it', async () => {
  const dir = cgroup(UNIFIED);
  const node = `/tmp/hull-v2-${process.pid}-${n}`;
  const steps = [
    TRY('read null', 'cat /dev/null'),
    TRY('write null', 'echo x >/dev/null'),
    TRY('read zero', 'head -c 1 /dev/zero | wc -c | grep -q 1'),
    TRY('mknod c 1:3', `mknod ${node} c 1 3`),
    `rm -f ${node}`,
  ].join('; ');
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }], V2);
  // read-only /dev/null: an open for writing asks for w, which the rule does not give
  assert.equal(inCgroup(dir, steps), 'read null ok\nwrite null denied\nread zero denied\nmknod c 1:3 denied\n');
  // The update allows what the first program denied and the reverse: if the old program were
  // still attached beside the new one (all attached programs must allow), zero stays denied.
  await applyDevices([dir], [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }], V2);
  assert.equal(inCgroup(dir, steps), 'read null denied\nwrite null denied\nread zero ok\nmknod c 1:3 ok\n');
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rw' }], V2);
  assert.equal(inCgroup(dir, steps), 'read null ok\nwrite null ok\nread zero ok\nmknod c 1:3 denied\n');
  // a block device, by its real numbers
  const blk = blockDevice();
  const blkNode = `/tmp/hull-v2-blk-${process.pid}-${n}`;
  const blkSteps = `${TRY('mknod blk', `mknod ${blkNode} b ${blk.major} ${blk.minor}`)}; ${TRY('open blk', `(exec 3<${blkNode})`)}; rm -f ${blkNode}`;
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'm' }], V2);
  assert.equal(inCgroup(dir, blkSteps), 'mknod blk ok\nopen blk denied\n');
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'rm' }], V2);
  assert.equal(inCgroup(dir, blkSteps), 'mknod blk ok\nopen blk ok\n');
});

test('v2: a program the verifier refuses fails with the verifier\'s log, and leaves the old filter', async () => {
  const dir = cgroup(UNIFIED);
  await applyDevices([dir], [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }], V2);
  // returns 2: a device program may only return 0 or 1
  const bad = assemble([alu64(Alu.MOV, R0, 2), exit()]);
  await assert.rejects(installDeviceProgram(dir, bad), (e: Error) => {
    assert.match(e.message, /^linux\.resources\.devices: install the device filter on .*: load the device program \(2 instructions\): verifier log: /);
    assert.match(e.message, /R0/);
    assert.match(e.message, /invalid argument$/i);
    return true;
  });
  assert.equal(inCgroup(dir, `${TRY('null', 'cat /dev/null')}; ${TRY('zero', 'head -c 1 /dev/zero >/dev/null')}`), 'null ok\nzero denied\n');
  await assert.rejects(installDeviceProgram(join(dir, 'missing'), bad), /open cgroup .*missing: no such file or directory/i);
  // a v1 directory is no cgroup2 one
  const v1 = cgroup(V1_DEVICES);
  await assert.rejects(applyDevices([v1], [{ allow: false, access: 'rwm' }], { mode: 'v2', hierarchies: [{ version: 2, controllers: [], mountpoint: V1_DEVICES, mountRoot: '/' }] }), /device/);
});

// ---- v2, containers (HULL_CGROUP_V2_ROOT runs them on the cgroup2 tree only) ---------------

const V2_ENV = { ...process.env, HULL_CGROUP_V2_ROOT: UNIFIED };

test('acceptance (v2 containers): the same rules hold through the eBPF filter', () => {
  const blk = blockDevice();
  const denied = deviceBundle(ACCEPTANCE, [{ allow: false, access: 'rwm' }]);
  assert.equal(runOut(denied, V2_ENV), 'open blk denied\nmknod c 4:1 denied\nmknod c 1:3 ok\nnull ok\n');
  const allowed = deviceBundle(ACCEPTANCE, [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'r' },
    { allow: true, type: 'c', major: 4, minor: 1, access: 'm' },
  ]);
  assert.equal(runOut(allowed, V2_ENV), 'open blk ok\nmknod c 4:1 ok\nmknod c 1:3 ok\nnull ok\n');
  // no v1 devices cgroup was involved
  const where = deviceBundle('cat /proc/self/cgroup | grep -E "^0::|devices:"', undefined);
  const lines = runOut(where, V2_ENV).trim().split('\n');
  assert.ok(lines.some((l) => l.startsWith('0::')), lines.join('\n'));
  for (const [, rules, what] of BAD) createFails(deviceBundle('true', rules), what, V2_ENV);
});

test('update re-applies the rules without opening or closing anything, on v1 and v2', () => {
  const blk = blockDevice();
  const rules: DeviceRule[] = [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: blk.major, minor: blk.minor, access: 'r' }];
  const check = `${TRY('null', 'echo x >/dev/null')}; ${TRY('zero', 'head -c 1 /dev/zero | wc -c | grep -q 1')}; ${TRY('blk', '(exec 3</dev/blk)')}; ${TRY('blk rw', '(exec 3<>/dev/blk)')}`;
  const want = 'null ok\nzero ok\nblk ok\nblk rw denied\n';
  for (const env of [undefined, V2_ENV]) {
    const b = deviceBundle('sleep 60', rules);
    const r = b.rt(['run', '--detach', b.id], env ? { env } : {});
    assert.equal(r.status, 0, r.stderr);
    const exec = () => runCaptured(b.dir, RUNTIME, ['--root', b.root, 'exec', b.id, 'sh', '-c', check], env ? { env } : {});
    assert.equal(exec().stdout, want);
    const list = env ? '' : readFileSync(join(V1_DEVICES, 'hull-test', b.id, 'devices.list'), 'utf8');
    const u = env ? b.rt(['update', '-r', '-', b.id], { input: '{}', env }) : b.rt(['update', '--pids-limit', '50', b.id]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(exec().stdout, want, env ? 'v2' : 'v1');
    if (!env) assert.equal(readFileSync(join(V1_DEVICES, 'hull-test', b.id, 'devices.list'), 'utf8'), list);
  }
});

test('v2 containers: the default config works, and exec joins the filtered cgroup', () => {
  const b = deviceBundle('sleep 60', [{ allow: false, access: 'rwm' }]);
  const r = b.rt(['run', '--detach', b.id], { env: V2_ENV });
  assert.equal(r.status, 0, r.stderr);
  const ex = runCaptured(b.dir, RUNTIME, ['--root', b.root, 'exec', b.id, 'sh', '-c', `${TRY('null', 'echo x >/dev/null')}; ${TRY('blk', '(exec 3</dev/blk)')}`], { env: V2_ENV });
  assert.equal(ex.status, 0, ex.stderr);
  assert.equal(ex.stdout, 'null ok\nblk denied\n');
});
