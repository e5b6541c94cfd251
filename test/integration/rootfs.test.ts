// The container's filesystem: pivot_root and --no-pivot, a read-only root, rootfs propagation,
// every mount type config.json can ask for, masked and read-only paths, and sysctls.
// (runtime-tools validation: root_readonly_true/false, linux_rootfs_propagation_*, mounts,
// linux_masked_paths, linux_readonly_paths, linux_sysctl.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Mount } from '../../src/runtime/spec/types.ts';
import { bundle, runDetached, runScript, type Bundle } from './harness.ts';

let bundles: Bundle[] = [];
/** Host mounts a test made under its bundle: unmounted after its containers are gone. */
let hostMounts: string[] = [];
afterEach(() => {
  for (const b of bundles) for (const cid of safeList(b)) b.rt(['delete', '--force', cid]);
  for (const m of hostMounts.reverse()) sh('umount', ['-R', m]);
  hostMounts = [];
  for (const b of bundles) b.cleanup();
  bundles = [];
});

function safeList(b: Bundle): string[] {
  try {
    return readdirSync(b.root);
  } catch {
    return [];
  }
}

function track(b: Bundle): Bundle {
  bundles.push(b);
  return b;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** mount(8) on the host, undone after the test. */
function hostMount(args: string[], target: string): void {
  sh('mount', [...args, target]);
  hostMounts.push(target);
}

interface MountInfo {
  id: number;
  parent: number;
  dev: string;
  root: string;
  point: string;
  options: string[];
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function parseMountinfo(text: string): MountInfo[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const f = line.split(' ');
      const dash = f.indexOf('-');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        dev: f[2]!,
        root: unescape(f[3]!),
        point: unescape(f[4]!),
        options: f[5]!.split(','),
        optional: f.slice(6, dash),
        fstype: f[dash + 1]!,
        source: f[dash + 2]!,
        superOptions: (f[dash + 3] ?? '').split(','),
      };
    });
}

/** The last mount on a mount point: the one a path lookup reaches. */
function mountAt(mounts: MountInfo[], point: string): MountInfo {
  const m = mounts.findLast((x) => x.point === point);
  assert.ok(m, `nothing is mounted on ${point}:\n${mounts.map((x) => x.point).join('\n')}`);
  return m;
}

/** Runs the script, printing the mountinfo first; returns both parts. */
function mountinfoAnd(b: Bundle, script = 'true'): { mounts: MountInfo[]; out: string } {
  const all = runScript(b, `cat /proc/self/mountinfo; echo ---; ${script}`);
  const at = all.indexOf('---\n');
  return { mounts: parseMountinfo(all.slice(0, at)), out: all.slice(at + 4) };
}

const EROFS = /Read-only file system/;

// ---- the root -----------------------------------------------------------------------------

/** Every mount point the default config (plus masks and read-only paths) makes. */
function expectedPoints(b: Bundle): Set<string> {
  const points = new Set(['/', ...(b.spec.mounts ?? []).map((m) => m.destination)]);
  for (const p of [...(b.spec.linux?.maskedPaths ?? []), ...(b.spec.linux?.readonlyPaths ?? [])]) points.add(p);
  return points;
}

function assertOwnRoot(b: Bundle, mounts: MountInfo[], listing: string): void {
  const root = mountAt(mounts, '/');
  assert.equal(root.root, b.rootfs, 'the root mount is the bundle rootfs');
  const expected = expectedPoints(b);
  for (const m of mounts) {
    const ok = expected.has(m.point) || m.point.startsWith('/sys/fs/cgroup/');
    assert.ok(ok, `unexpected mount ${m.point} (${m.fstype} ${m.root}) inside the container`);
  }
  // The host's own mounts are nowhere: not the host root, not /run/netns, nothing under /work.
  assert.ok(!mounts.some((m) => m.point.startsWith('/work') || m.point.startsWith('/run') || m.point.startsWith('/mnt')));
  assert.deepEqual(listing.trim().split('\n').sort(), readdirSync(b.rootfs).sort());
}

test('pivot_root: / is the rootfs and none of the host mounts are visible', () => {
  const b = track(bundle());
  const { mounts, out } = mountinfoAnd(b, 'ls -1 /; echo ---; ls /work >/dev/null 2>&1 || echo no-work');
  const [listing, work] = out.split('---\n');
  assertOwnRoot(b, mounts, listing!);
  assert.equal(work, 'no-work\n');
  // the old root is unmounted: only one mount of the host root device remains, the rootfs itself
  const rootDev = mountAt(mounts, '/').dev;
  assert.deepEqual(mounts.filter((m) => m.dev === rootDev && m.fstype !== 'tmpfs').map((m) => m.point), ['/']);
});

test('--no-pivot: the container still gets the rootfs as / and its mounts', () => {
  const b = track(bundle(['sh', '-c', 'cat /proc/self/mountinfo; echo ---; ls -1 /; echo ---; touch /x 2>&1; echo $?']));
  const r = b.rt(['run', '--no-pivot', b.id]);
  assert.equal(r.status, 0, r.stderr);
  const [mi, listing, touch] = r.stdout.split('---\n');
  const mounts = parseMountinfo(mi!);
  assertOwnRoot(b, mounts, listing!);
  assert.equal(mountAt(mounts, '/proc').fstype, 'proc');
  // root.readonly still applies without pivot_root
  assert.match(touch!, EROFS);
});

test('root.readonly true: writing to / fails with EROFS', () => {
  const b = track(bundle());
  b.spec.root!.readonly = true;
  const { mounts, out } = mountinfoAnd(b, 'touch /x 2>&1; echo "status $?"; mkdir /newdir 2>&1; echo "status $?"');
  assert.ok(mountAt(mounts, '/').options.includes('ro'));
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, EROFS);
  assert.equal(lines[1], 'status 1');
  assert.match(lines[2]!, EROFS);
  assert.equal(lines[3], 'status 1');
  assert.throws(() => statSync(join(b.rootfs, 'x')));
  // the writable mounts on top are still writable
  assert.equal(runScript(b, 'touch /dev/shm/ok && echo ok'), 'ok\n');
});

test('root.readonly false: writing to / works and lands in the rootfs', () => {
  const b = track(bundle());
  b.spec.root!.readonly = false;
  const { mounts, out } = mountinfoAnd(b, 'echo hello > /x && cat /x');
  assert.ok(mountAt(mounts, '/').options.includes('rw'));
  assert.equal(out, 'hello\n');
  assert.equal(readFileSync(join(b.rootfs, 'x'), 'utf8'), 'hello\n');
});

// ---- rootfs propagation -------------------------------------------------------------------

/**
 * Makes the bundle's rootfs a shared mount on the host (the host's / here is private, so
 * without this there is nothing to be a slave of), runs the container detached with the
 * given rootfsPropagation, then mounts a tmpfs under the rootfs on the host.
 */
function propagationCase(prop: string): { hostGroup: string; root: MountInfo; seesHostMount: boolean } {
  const b = track(bundle(['sleep', '30']));
  mkdirSync(join(b.rootfs, 'mnt', 'probe'), { recursive: true });
  hostMount(['--bind', b.rootfs], b.rootfs);
  sh('mount', ['--make-shared', b.rootfs]);
  const host = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).findLast((m) => m.point === b.rootfs)!;
  const hostGroup = host.optional.find((o) => o.startsWith('shared:'))!.slice('shared:'.length);
  b.spec.linux!.rootfsPropagation = prop;
  runDetached(b);
  // after the container exists, the host mounts something under its rootfs
  sh('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'hull-probe', join(b.rootfs, 'mnt', 'probe')]);
  const mounts = parseMountinfo(b.ok(['exec', b.id, 'cat', '/proc/self/mountinfo']));
  return {
    hostGroup,
    root: mountAt(mounts, '/'),
    seesHostMount: mounts.some((m) => m.point === '/mnt/probe' && m.fstype === 'tmpfs'),
  };
}

test('rootfsPropagation slave: / is a slave of the host mount and receives host mounts', () => {
  const { hostGroup, root, seesHostMount } = propagationCase('slave');
  assert.deepEqual(root.optional, [`master:${hostGroup}`]);
  assert.ok(seesHostMount, 'a mount made on the host under the rootfs must appear inside');
});

test('rootfsPropagation rslave behaves as slave for /', () => {
  const { hostGroup, root, seesHostMount } = propagationCase('rslave');
  assert.deepEqual(root.optional, [`master:${hostGroup}`]);
  assert.ok(seesHostMount);
});

test('rootfsPropagation private: / has no peer group and host mounts stay out', () => {
  const { root, seesHostMount } = propagationCase('private');
  assert.deepEqual(root.optional, []);
  assert.ok(!seesHostMount, 'a private rootfs must not receive host mounts');
});

test('rootfsPropagation shared: / is in a new peer group of its own', () => {
  const { hostGroup, root, seesHostMount } = propagationCase('shared');
  const shared = root.optional.find((o) => o.startsWith('shared:'));
  assert.ok(shared, `optional fields: ${root.optional.join(' ')}`);
  // runtime-spec: "the rootfs mount belongs to a new peer group ... not shared with the host"
  assert.notEqual(shared, `shared:${hostGroup}`);
  assert.ok(seesHostMount);
});

test('rootfsPropagation unbindable: / is unbindable', () => {
  const { root } = propagationCase('unbindable');
  assert.ok(root.optional.includes('unbindable'), `optional fields: ${root.optional.join(' ')}`);
});

test('without rootfsPropagation, / is a slave of the host (runc default rslave)', () => {
  const b = track(bundle(['sleep', '30']));
  hostMount(['--bind', b.rootfs], b.rootfs);
  sh('mount', ['--make-shared', b.rootfs]);
  const host = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).findLast((m) => m.point === b.rootfs)!;
  runDetached(b);
  const root = mountAt(parseMountinfo(b.ok(['exec', b.id, 'cat', '/proc/self/mountinfo'])), '/');
  assert.deepEqual(root.optional, [host.optional[0]!.replace('shared:', 'master:')]);
});

// ---- mounts -------------------------------------------------------------------------------

test('bind and rbind: a nested mount under the source appears only with rbind', () => {
  const b = track(bundle());
  const src = join(b.dir, 'src');
  mkdirSync(join(src, 'nested'), { recursive: true });
  writeFileSync(join(src, 'plain'), 'plain file\n');
  writeFileSync(join(src, 'nested', 'under-the-mount'), 'hidden by the nested mount\n');
  hostMount(['-t', 'tmpfs', '-o', 'size=16k', 'hull-nested'], join(src, 'nested'));
  writeFileSync(join(src, 'nested', 'marker'), 'in the nested tmpfs\n');
  b.spec.mounts!.push(
    { destination: '/mnt/bind', type: 'bind', source: src, options: ['bind'] },
    { destination: '/mnt/rbind', type: 'bind', source: src, options: ['rbind'] },
    { destination: '/mnt/none-type', source: src, options: ['rbind'] },
  );
  const { mounts, out } = mountinfoAnd(
    b,
    'cat /mnt/bind/plain; ls /mnt/bind/nested; echo ---; cat /mnt/rbind/plain; ls /mnt/rbind/nested; echo ---; ls /mnt/none-type/nested',
  );
  const [bind, rbind, noneType] = out.split('---\n');
  assert.equal(bind, 'plain file\nunder-the-mount\n', 'bind shows the directory below the nested mount');
  assert.equal(rbind, 'plain file\nmarker\n', 'rbind takes the nested mount along');
  assert.equal(noneType, 'marker\n');
  assert.equal(mountAt(mounts, '/mnt/bind').root, src);
  assert.ok(!mounts.some((m) => m.point === '/mnt/bind/nested'));
  assert.equal(mountAt(mounts, '/mnt/rbind/nested').fstype, 'tmpfs');
});

test('a read-only bind refuses writes; a read-write one writes through to the host', () => {
  const b = track(bundle());
  const src = join(b.dir, 'data');
  mkdirSync(src);
  b.spec.mounts!.push(
    { destination: '/ro', type: 'bind', source: src, options: ['bind', 'ro'] },
    { destination: '/rw', type: 'bind', source: src, options: ['rbind', 'rw'] },
  );
  const { mounts, out } = mountinfoAnd(b, 'touch /ro/x 2>&1; echo "status $?"; echo written > /rw/y && cat /ro/y');
  const [err, status, content] = out.trim().split('\n');
  assert.match(err!, EROFS);
  assert.equal(status, 'status 1');
  assert.equal(content, 'written');
  assert.ok(mountAt(mounts, '/ro').options.includes('ro'));
  assert.ok(mountAt(mounts, '/rw').options.includes('rw'));
  assert.equal(readFileSync(join(src, 'y'), 'utf8'), 'written\n');
  assert.throws(() => statSync(join(src, 'x')));
});

test('recursive mount attributes: rro and rnoexec reach the submounts of an rbind', () => {
  const b = track(bundle());
  const src = join(b.dir, 'rsrc');
  mkdirSync(join(src, 'nested'), { recursive: true });
  hostMount(['-t', 'tmpfs', '-o', 'size=4m', 'hull-nested'], join(src, 'nested'));
  b.spec.mounts!.push(
    { destination: '/plain', type: 'bind', source: src, options: ['rbind', 'ro'] },
    { destination: '/recursive', type: 'bind', source: src, options: ['rbind', 'rro', 'rnoexec'] },
  );
  const { mounts, out } = mountinfoAnd(
    b,
    'touch /plain/nested/a 2>&1; echo "plain $?"; touch /recursive/x /recursive/nested/b 2>&1; echo "recursive $?"; ' +
      'rm /plain/nested/a',
  );
  // "ro" applies to the top mount only; the nested tmpfs stays writable
  assert.ok(mountAt(mounts, '/plain').options.includes('ro'));
  assert.ok(mountAt(mounts, '/plain/nested').options.includes('rw'));
  assert.match(out, /^plain 0\n/);
  for (const point of ['/recursive', '/recursive/nested']) {
    const m = mountAt(mounts, point);
    assert.ok(m.options.includes('ro') && m.options.includes('noexec'), `${point}: ${m.options.join(',')}`);
  }
  assert.match(out, /touch: \/recursive\/x: Read-only file system\ntouch: \/recursive\/nested\/b: Read-only file system\nrecursive 1\n/);
});

test('tmpfs with size and mode options', () => {
  const b = track(bundle());
  b.spec.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1770', 'nr_inodes=100'] });
  const { mounts, out } = mountinfoAnd(
    b,
    'stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1 | grep -o "No space left on device"; ' +
      'rm /scratch/big; dd if=/dev/zero of=/scratch/small bs=1k count=512 2>/dev/null && echo small-ok',
  );
  const m = mountAt(mounts, '/scratch');
  assert.equal(m.fstype, 'tmpfs');
  assert.ok(m.superOptions.includes('size=1024k'), m.superOptions.join(','));
  assert.ok(m.superOptions.includes('mode=1770'), m.superOptions.join(','));
  assert.ok(m.superOptions.includes('nr_inodes=100'), m.superOptions.join(','));
  const lines = out.trim().split('\n');
  assert.equal(lines[0], '1770');
  assert.match(lines[1]!, /No space left on device/);
  assert.equal(lines.at(-1), 'small-ok');
});

test('proc, sysfs and mqueue mounts', () => {
  const b = track(bundle());
  b.spec.mounts!.push({ destination: '/proc2', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  const { mounts, out } = mountinfoAnd(
    b,
    'readlink /proc2/self >/dev/null && echo proc2-ok; cat /proc2/1/comm; ls /sys/kernel >/dev/null && echo sys-ok; ' +
      'touch /sys/x 2>&1; ls /dev/mqueue && echo mq-ok',
  );
  assert.equal(mountAt(mounts, '/proc').fstype, 'proc');
  assert.equal(mountAt(mounts, '/proc2').fstype, 'proc');
  for (const f of ['nosuid', 'noexec', 'nodev']) assert.ok(mountAt(mounts, '/proc2').options.includes(f), f);
  const sys = mountAt(mounts, '/sys');
  assert.equal(sys.fstype, 'sysfs');
  assert.ok(sys.options.includes('ro'));
  assert.equal(mountAt(mounts, '/dev/mqueue').fstype, 'mqueue');
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'proc2-ok');
  assert.equal(lines[1], 'sh', 'pid 1 of the container pid namespace is the container process');
  assert.equal(lines[2], 'sys-ok');
  assert.match(lines[3]!, EROFS);
  assert.equal(lines.at(-1), 'mq-ok');
});

test('cgroup mount: read-only, lists the controllers and shows the container\'s own cgroup', () => {
  const b = track(bundle());
  const { mounts, out } = mountinfoAnd(
    b,
    'ls -1 /sys/fs/cgroup; echo ---; cat /sys/fs/cgroup/pids/cgroup.procs; echo ---; mkdir /sys/fs/cgroup/pids/sub 2>&1; echo ---; ' +
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes >/dev/null && echo memory-ok',
  );
  const [listing, procs, mkdir, memory] = out.split('---\n');
  const controllers = listing!.trim().split('\n');
  for (const c of ['cpu', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'cpuset']) {
    assert.ok(controllers.includes(c), `${c} missing from ${controllers.join(' ')}`);
  }
  // cgroup.procs of the bound directory lists the container's processes only (sh is pid 1)
  assert.ok(procs!.trim().split('\n').includes('1'), procs);
  assert.ok(procs!.trim().split('\n').length <= 3, `only the container's processes: ${procs}`);
  assert.match(mkdir!, EROFS);
  assert.equal(memory, 'memory-ok\n');
  assert.ok(mountAt(mounts, '/sys/fs/cgroup').options.includes('ro'));
  const pids = mountAt(mounts, '/sys/fs/cgroup/pids');
  assert.equal(pids.fstype, 'cgroup');
  assert.ok(pids.options.includes('ro'));
  // the bind's root is the container's own cgroup directory, the root of its cgroup namespace
  assert.equal(pids.root, '/');
});

test('cgroup mount without a cgroup namespace binds the container\'s cgroup directories', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  }));
  const { mounts, out } = mountinfoAnd(b, 'cat /sys/fs/cgroup/memory/cgroup.procs');
  for (const ctrl of ['memory', 'pids', 'cpuset']) {
    const m = mountAt(mounts, `/sys/fs/cgroup/${ctrl}`);
    assert.equal(m.root, `/hull-test/${b.id}`, ctrl);
    assert.ok(m.options.includes('ro'), ctrl);
  }
  assert.ok(out.trim().split('\n').includes('1'), out);
});

test('devpts: a new instance with ptmxmode, separate from the host\'s', () => {
  const b = track(bundle());
  const { mounts, out } = mountinfoAnd(b, 'stat -c "%a %t:%T" /dev/pts/ptmx; ls /dev/pts');
  const pts = mountAt(mounts, '/dev/pts');
  assert.equal(pts.fstype, 'devpts');
  for (const o of ['ptmxmode=666', 'mode=620', 'gid=5']) assert.ok(pts.superOptions.includes(o), `${o} in ${pts.superOptions.join(',')}`);
  const hostPts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).findLast((m) => m.point === '/dev/pts')!;
  assert.notEqual(pts.dev, hostPts.dev, 'newinstance: not the host devpts');
  const [ptmx, listing] = out.trim().split('\n');
  assert.equal(ptmx, '666 5:2');
  assert.equal(listing, 'ptmx', 'a new devpts has no ptys of the host');
});

test('nosuid, nodev and noexec on mounts show in mountinfo and take effect', () => {
  const b = track(bundle());
  const src = join(b.dir, 'bindsrc');
  mkdirSync(src);
  b.spec.mounts!.push(
    { destination: '/noexec', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=4m'] },
    { destination: '/exec', type: 'tmpfs', source: 'tmpfs', options: ['size=4m'] },
    { destination: '/bindflags', type: 'bind', source: src, options: ['rbind', 'nosuid', 'nodev', 'noexec'] },
  );
  const { mounts, out } = mountinfoAnd(
    b,
    // busybox runs the applet its file is named after
    'cp /bin/busybox /noexec/true; cp /bin/busybox /exec/true; cp /bin/busybox /bindflags/true; ' +
      '/noexec/true 2>&1; echo "noexec $?"; /exec/true; echo "exec $?"; /bindflags/true 2>&1; echo "bind $?"',
  );
  for (const point of ['/noexec', '/bindflags']) {
    const m = mountAt(mounts, point);
    for (const f of ['nosuid', 'nodev', 'noexec']) assert.ok(m.options.includes(f), `${f} on ${point}: ${m.options.join(',')}`);
  }
  const exec = mountAt(mounts, '/exec');
  for (const f of ['nosuid', 'nodev', 'noexec']) assert.ok(!exec.options.includes(f), `${f} on /exec`);
  assert.match(out, /Permission denied\nnoexec 126\n/);
  assert.match(out, /\nexec 0\n/);
  assert.match(out, /Permission denied\nbind 126\n/);
});

test('mount propagation options on a bind: rshared, rslave, private', () => {
  const b = track(bundle(['sleep', '30']));
  const src = join(b.dir, 'propsrc');
  mkdirSync(join(src, 'probe'), { recursive: true });
  hostMount(['--bind', src], src);
  sh('mount', ['--make-shared', src]);
  const host = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).findLast((m) => m.point === src)!;
  const group = host.optional[0]!.slice('shared:'.length);
  const m = (destination: string, prop: string): Mount => ({ destination, type: 'bind', source: src, options: ['rbind', prop] });
  b.spec.mounts!.push(m('/shared', 'rshared'), m('/slave', 'rslave'), m('/private', 'private'));
  runDetached(b);
  sh('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'hull-probe', join(src, 'probe')]);
  const mounts = parseMountinfo(b.ok(['exec', b.id, 'cat', '/proc/self/mountinfo']));
  const shared = mountAt(mounts, '/shared').optional;
  assert.ok(shared.some((o) => o.startsWith('shared:')), `/shared: ${shared.join(' ')}`);
  assert.deepEqual(mountAt(mounts, '/slave').optional, [`master:${group}`]);
  assert.deepEqual(mountAt(mounts, '/private').optional, []);
  // host mounts reach the slave, not the private one
  assert.ok(mounts.some((x) => x.point === '/slave/probe'), 'the slave bind receives the host mount');
  assert.ok(!mounts.some((x) => x.point === '/private/probe'), 'the private bind does not');
});

test('missing mount targets are created: a directory for a directory, a file for a file', () => {
  const b = track(bundle());
  const dir = join(b.dir, 'srcdir');
  mkdirSync(dir);
  writeFileSync(join(dir, 'inside'), 'from the dir\n');
  const file = join(b.dir, 'srcfile');
  writeFileSync(file, 'from the file\n');
  b.spec.mounts!.push(
    { destination: '/new/deep/dir', type: 'bind', source: dir, options: ['rbind', 'ro'] },
    { destination: '/new/other/file.txt', type: 'bind', source: file, options: ['bind', 'ro'] },
    { destination: '/new/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=16k'] },
  );
  const { out } = mountinfoAnd(
    b,
    'cat /new/deep/dir/inside /new/other/file.txt; [ -d /new/deep/dir ] && echo dir; [ -f /new/other/file.txt ] && echo file; [ -d /new/tmp ] && echo tmpdir',
  );
  assert.equal(out, 'from the dir\nfrom the file\ndir\nfile\ntmpdir\n');
  // the targets were made in the rootfs, and are left there empty, as runc leaves them
  assert.ok(statSync(join(b.rootfs, 'new/deep/dir')).isDirectory());
  assert.ok(statSync(join(b.rootfs, 'new/other/file.txt')).isFile());
  assert.equal(statSync(join(b.rootfs, 'new/other/file.txt')).size, 0);
  assert.ok(statSync(join(b.rootfs, 'new/tmp')).isDirectory());
});

test('a bind mount whose source is missing is refused, leaving nothing', () => {
  const b = track(bundle());
  b.spec.mounts!.push({ destination: '/x', type: 'bind', source: join(b.dir, 'missing'), options: ['rbind'] });
  b.save();
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /missing/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('a mount destination through a symlink stays inside the rootfs', () => {
  const b = track(bundle());
  // /escape -> /../../.. : resolved inside the rootfs it is just /
  spawnSync('ln', ['-s', '../../../../../../tmp', join(b.rootfs, 'escape')]);
  b.spec.mounts!.push({ destination: '/escape/target', type: 'tmpfs', source: 'tmpfs', options: ['size=16k'] });
  const { mounts } = mountinfoAnd(b);
  assert.equal(mountAt(mounts, '/tmp/target').fstype, 'tmpfs');
  assert.ok(statSync(join(b.rootfs, 'tmp/target')).isDirectory());
});

// ---- masked and read-only paths -----------------------------------------------------------

test('maskedPaths: a masked file reads empty, a masked directory is empty, a missing one is skipped', () => {
  const b = track(bundle());
  mkdirSync(join(b.rootfs, 'secretdir'));
  writeFileSync(join(b.rootfs, 'secretdir', 'key'), 'dir secret\n');
  writeFileSync(join(b.rootfs, 'secretfile'), 'file secret\n');
  b.spec.linux!.maskedPaths = [...b.spec.linux!.maskedPaths!, '/secretdir', '/secretfile', '/does/not/exist'];
  assert.ok(readFileSync('/proc/keys', 'utf8').length > 0, 'the host has keys to hide');
  assert.ok(readdirSync('/sys/firmware').length > 0, 'the host has firmware entries to hide');
  const { out } = mountinfoAnd(
    b,
    'for f in /proc/keys /proc/timer_list /secretfile; do echo "$f $(wc -c < $f)"; done; ' +
      'for d in /sys/firmware /proc/acpi /secretdir; do echo "$d $(ls -A $d | wc -l)"; done; ' +
      'touch /secretdir/new 2>&1; echo x > /secretfile; echo "after write $(wc -c < /secretfile)"',
  );
  const lines = out.trim().split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    '/proc/keys 0', '/proc/timer_list 0', '/secretfile 0', '/sys/firmware 0', '/proc/acpi 0', '/secretdir 0',
  ]);
  assert.match(lines[6]!, EROFS);
  // a write to a masked file goes to /dev/null
  assert.equal(lines[7], 'after write 0');
  assert.equal(readFileSync(join(b.rootfs, 'secretfile'), 'utf8'), 'file secret\n');
});

test('readonlyPaths: writes under /proc/sys and a configured path fail with EROFS', () => {
  const b = track(bundle());
  b.spec.root!.readonly = false;
  mkdirSync(join(b.rootfs, 'data'));
  b.spec.linux!.readonlyPaths = [...b.spec.linux!.readonlyPaths!, '/data'];
  const { mounts, out } = mountinfoAnd(
    b,
    '(echo x > /proc/sys/kernel/domainname) 2>&1; echo "sys $?"; (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1; echo "net $?"; ' +
      'touch /data/x 2>&1; echo "data $?"; touch /elsewhere && echo "elsewhere ok"',
  );
  assert.ok(mountAt(mounts, '/proc/sys').options.includes('ro'));
  assert.ok(mountAt(mounts, '/data').options.includes('ro'));
  assert.match(out, /Read-only file system\nsys 1\n/);
  assert.match(out, /Read-only file system\nnet 1\n/);
  assert.match(out, /Read-only file system\ndata 1\n/);
  assert.match(out, /elsewhere ok/);
});

test('maskedPaths and readonlyPaths without a mount namespace are refused', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.mounts = [];
    delete s.linux!.readonlyPaths;
  }));
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.maskedPaths: needs a mount namespace/);
});

test('in a user namespace: read-only root, ro and nosuid binds, masks and read-only paths still apply', () => {
  const b = track(bundle());
  const src = join(b.dir, 'usrc');
  mkdirSync(src);
  b.spec.linux!.namespaces!.push({ type: 'user' });
  b.spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  b.spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  b.spec.mounts!.push(
    { destination: '/robind', type: 'bind', source: src, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'noexec'] },
  );
  chmodSync(b.dir, 0o755);
  sh('chown', ['-R', '-h', '100000:100000', b.rootfs, src]);
  const { mounts, out } = mountinfoAnd(
    b,
    'touch /x 2>&1; touch /robind/y 2>&1; touch /scratch/z && echo scratch-ok; (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1; ' +
      'wc -c < /proc/keys; ls -A /sys/firmware | wc -l',
  );
  assert.ok(mountAt(mounts, '/').options.includes('ro'));
  for (const f of ['ro', 'nosuid', 'nodev']) assert.ok(mountAt(mounts, '/robind').options.includes(f), f);
  assert.ok(mountAt(mounts, '/scratch').options.includes('noexec'));
  assert.ok(mountAt(mounts, '/scratch').superOptions.includes('mode=700'));
  assert.deepEqual(out.trim().split('\n').map((l) => l.trim()), [
    'touch: /x: Read-only file system',
    'touch: /robind/y: Read-only file system',
    'scratch-ok',
    "sh: can't create /proc/sys/net/ipv4/ip_forward: Read-only file system",
    '0',
    '0',
  ]);
});

// ---- sysctls ------------------------------------------------------------------------------

test('sysctls are set in the container\'s namespaces and the host keeps its values', () => {
  // ip_forward is checked inside only: other test files (bridge networks) may set the host's
  // at any moment. The host checks use sysctls that nothing else here changes.
  const hostPingRange = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8');
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const hostMsgmax = readFileSync('/proc/sys/kernel/msgmax', 'utf8');
  assert.notEqual(hostPingRange.trim().split(/\s+/).join(' '), '0 0', 'the host must differ from what the container sets');
  const b = track(bundle(['true'], (s) => {
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456789', 'kernel/msgmax': '4096', 'net.ipv4.ping_group_range': '0 0' };
  }));
  const out = runScript(
    b,
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ping_group_range',
  );
  assert.deepEqual(out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['1', '123456789', '4096', '0 0']);
  assert.equal(readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8'), hostPingRange);
  assert.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax);
  assert.equal(readFileSync('/proc/sys/kernel/msgmax', 'utf8'), hostMsgmax);
});

test('a sysctl of a namespace the container does not have is refused, leaving nothing', () => {
  const cases: { key: string; drop?: string; message: RegExp }[] = [
    { key: 'net.ipv4.ip_forward', drop: 'network', message: /net\.ipv4\.ip_forward.*network namespace/ },
    { key: 'kernel.shmmax', drop: 'ipc', message: /kernel\.shmmax.*ipc namespace/ },
    { key: 'vm.swappiness', message: /vm\.swappiness.*not namespaced/ },
  ];
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const hostSwappiness = readFileSync('/proc/sys/vm/swappiness', 'utf8');
  for (const c of cases) {
    const b = track(bundle(['true'], (s) => {
      if (c.drop) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== c.drop);
      s.linux!.sysctl = { [c.key]: '1' };
    }));
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0, c.key);
    assert.match(r.stderr, c.message);
    assert.notEqual(b.rt(['state', b.id]).status, 0);
  }
  assert.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax);
  assert.equal(readFileSync('/proc/sys/vm/swappiness', 'utf8'), hostSwappiness);
});

test('a sysctl is refused when its namespace, joined by path, is the host\'s own', () => {
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8').trim();
  const cases = [
    // the values are the host's current ones, so that even a wrong success changes nothing
    { type: 'network' as const, proc: 'net', key: 'net.ipv4.ip_forward', value: hostForward },
    { type: 'ipc' as const, proc: 'ipc', key: 'kernel.shmmax', value: hostShmmax },
  ];
  for (const c of cases) {
    const b = track(bundle(['true'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === c.type ? { type: c.type, path: `/proc/${process.pid}/ns/${c.proc}` } : n));
      s.linux!.sysctl = { [c.key]: c.value };
    }));
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0, `${c.key} in the host's ${c.type} namespace must be refused`);
    assert.match(r.stderr, new RegExp(`${c.key.replace(/\./g, '\\.')}.*host's ${c.type} namespace`));
    assert.notEqual(b.rt(['state', b.id]).status, 0);
  }
});

test('a sysctl in another container\'s network namespace, joined by path, is applied there', () => {
  const a = track(bundle(['sleep', '30']));
  const pid = runDetached(a);
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n));
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  }));
  assert.equal(runScript(b, 'cat /proc/sys/net/ipv4/ip_forward'), '1\n');
  assert.equal(a.ok(['exec', a.id, 'cat', '/proc/sys/net/ipv4/ip_forward']), '1\n');
});

test('a sysctl the kernel does not know fails create with the key named, leaving nothing', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.sysctl = { 'net.ipv4.no_such_sysctl': '1' };
  }));
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /net\.ipv4\.no_such_sysctl/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});
