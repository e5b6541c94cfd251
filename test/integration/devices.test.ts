// /dev inside a container: the runtime-spec default devices and links, /dev/pts and /dev/shm,
// linux.devices entries, and devices in a user namespace (binds of the host's nodes).
// (runtime-tools validation: default/default_devices, linux_devices, linux_uid_mappings.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
import type { Device, Spec } from '../../src/runtime/spec/types.ts';
import { bundle, runScript, type Bundle } from './harness.ts';

let bundles: Bundle[] = [];
afterEach(() => {
  for (const b of bundles) b.cleanup();
  bundles = [];
});

function track(b: Bundle): Bundle {
  bundles.push(b);
  return b;
}

interface Node {
  type: string;
  major: number;
  minor: number;
  mode: string;
  owner: string;
}

/** stat(1) of each path inside: type, major:minor (hex in busybox), permissions, owner. */
function statInside(b: Bundle, paths: string[], extra = ''): { nodes: Record<string, Node>; out: string } {
  const all = runScript(b, `stat -c "%n|%F|%t|%T|%a|%u:%g" ${paths.join(' ')}; echo ---; ${extra || 'true'}`);
  const at = all.indexOf('---\n');
  const nodes: Record<string, Node> = {};
  for (const line of all.slice(0, at).trim().split('\n')) {
    const [name, type, major, minor, mode, owner] = line.split('|');
    nodes[name!] = { type: type!, major: parseInt(major!, 16), minor: parseInt(minor!, 16), mode: mode!, owner: owner! };
  }
  return { nodes, out: all.slice(at + 4) };
}

// awk over mountinfo lines: the fields after the optional ones are "- fstype source options".
const POINT_AND_TYPE = `awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1) }'`;
const ROOT_AND_TYPE = `awk '{ for (i = 7; $i != "-"; i++); print $4, $(i + 1) }'`;

const DEFAULTS: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

test('the default devices exist with their numbers, mode 0666 and root ownership, and work', () => {
  const b = track(bundle());
  const { nodes, out } = statInside(
    b,
    DEFAULTS.map(([p]) => p),
    'echo discarded > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; ' +
      '(echo x > /dev/full) 2>&1; head -c 16 /dev/urandom | wc -c; head -c 16 /dev/random | wc -c; wc -c < /dev/null',
  );
  for (const [path, major, minor] of DEFAULTS) {
    assert.deepEqual(nodes[path], { type: 'character special file', major, minor, mode: '666', owner: '0:0' }, path);
  }
  const lines = out.trim().split('\n').map((l) => l.trim());
  assert.deepEqual(lines, ['null-ok', '00 00 00 00', 'sh: write error: No space left on device', '16', '16', '0']);
});

test('/dev has the fd, stdin, stdout and stderr links, and ptmx points into pts', () => {
  const b = track(bundle());
  const out = runScript(
    b,
    'for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done; ' +
      // (through a pipe: reopening a regular file by /proc/self/fd/N with > would truncate it)
      '{ echo via-stdout > /dev/stdout; } | cat; { echo via-stderr > /dev/stderr; } 2>&1 | cat; ls /dev/fd/ | grep -qx 0 && echo fd-ok; ' +
      'echo from-stdin | cat /dev/stdin',
  );
  assert.equal(
    out,
    [
      'fd -> /proc/self/fd', 'stdin -> /proc/self/fd/0', 'stdout -> /proc/self/fd/1', 'stderr -> /proc/self/fd/2',
      'ptmx -> pts/ptmx', 'via-stdout', 'via-stderr', 'fd-ok', 'from-stdin', '',
    ].join('\n'),
  );
});

test('/dev/ptmx reaches the container\'s own devpts ptmx, and /dev is a small tmpfs', () => {
  const b = track(bundle());
  const { nodes, out } = statInside(
    b,
    ['/dev/pts/ptmx', '/dev/shm', '/dev'],
    `grep -E " /dev(/shm|/pts)? " /proc/self/mountinfo | ${POINT_AND_TYPE}; stat -L -c %t:%T /dev/ptmx; ls -A /dev | sort | tr "\\n" " "`,
  );
  assert.deepEqual(nodes['/dev/pts/ptmx'], { type: 'character special file', major: 5, minor: 2, mode: '666', owner: '0:0' });
  assert.equal(nodes['/dev/shm']!.mode, '1777');
  assert.equal(nodes['/dev']!.mode, '755');
  const lines = out.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs']);
  assert.equal(lines[3], '5:2');
  // nothing of the host's /dev leaks in: only what the config and the spec's defaults make
  assert.equal(
    lines[4]!.trim(),
    'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero',
  );
});

test('/dev/shm is a tmpfs shared by the container\'s processes', () => {
  const b = track(bundle());
  const out = runScript(b, 'echo shared > /dev/shm/f; sh -c "cat /dev/shm/f"; grep " /dev/shm " /proc/self/mountinfo');
  const [content, mount] = out.trim().split('\n');
  assert.equal(content, 'shared');
  assert.match(mount!, / \/dev\/shm rw,nosuid,nodev,noexec,relatime (\S+ )*- tmpfs shm rw,size=65536k/);
});

test('linux.devices: char, block and fifo entries with their mode and owner', () => {
  const b = track(bundle(['true'], (s) => {
    // The owner of the nodes below: root lacks CAP_DAC_OVERRIDE in the default config.
    s.process!.user = { uid: 1000, gid: 1000 };
    s.linux!.devices = [
      { type: 'c', path: '/dev/mydev', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 },
      { type: 'u', path: '/dev/myunbuffered', major: 1, minor: 5, fileMode: 0o640, uid: 0, gid: 1000 },
      { type: 'b', path: '/dev/myblock', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
      { type: 'p', path: '/dev/myfifo', fileMode: 0o644, uid: 1000, gid: 1000 },
      { type: 'c', path: '/dev/deep/in/dirs/zero', major: 1, minor: 5 },
    ];
  }));
  const { nodes, out } = statInside(
    b,
    ['/dev/mydev', '/dev/myunbuffered', '/dev/myblock', '/dev/myfifo', '/dev/deep/in/dirs/zero'],
    'echo into-mydev > /dev/mydev && echo mydev-ok; head -c 3 /dev/deep/in/dirs/zero | od -An -tx1; ' +
      // the timeouts only keep a broken fifo from hanging the test
      '(timeout 10 sh -c "echo through-the-fifo > /dev/myfifo" &); timeout 10 cat /dev/myfifo',
  );
  assert.deepEqual(nodes['/dev/mydev'], { type: 'character special file', major: 1, minor: 3, mode: '600', owner: '1000:1000' });
  assert.deepEqual(nodes['/dev/myunbuffered'], { type: 'character special file', major: 1, minor: 5, mode: '640', owner: '0:1000' });
  assert.deepEqual(nodes['/dev/myblock'], { type: 'block special file', major: 7, minor: 0, mode: '660', owner: '0:6' });
  assert.equal(nodes['/dev/myfifo']!.type, 'fifo');
  assert.equal(nodes['/dev/myfifo']!.mode, '644');
  assert.equal(nodes['/dev/myfifo']!.owner, '1000:1000');
  // fileMode absent: 0666, owner root
  assert.deepEqual(nodes['/dev/deep/in/dirs/zero'], { type: 'character special file', major: 1, minor: 5, mode: '666', owner: '0:0' });
  assert.deepEqual(out.trim().split('\n').map((l) => l.trim()), ['mydev-ok', '00 00 00', 'through-the-fifo']);
});

test('linux.devices: a fileMode is not reduced by the umask, and an entry overrides a default device', () => {
  const b = track(bundle(['true'], (s) => {
    s.process!.user.umask = 0o077;
    s.linux!.devices = [
      { type: 'c', path: '/dev/wide', major: 1, minor: 3, fileMode: 0o666 },
      { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 0 },
    ];
  }));
  const { nodes } = statInside(b, ['/dev/wide', '/dev/null']);
  assert.equal(nodes['/dev/wide']!.mode, '666');
  assert.equal(nodes['/dev/null']!.mode, '600');
});

test('linux.devices: a device path outside /dev and a relative one', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.devices = [{ type: 'c', path: '/opt/null', major: 1, minor: 3, fileMode: 0o666 }];
  }));
  const { nodes } = statInside(b, ['/opt/null']);
  assert.deepEqual(nodes['/opt/null'], { type: 'character special file', major: 1, minor: 3, mode: '666', owner: '0:0' });

  const c = track(bundle(['true'], (s) => {
    s.linux!.devices = [{ type: 'c', path: 'dev/relative', major: 1, minor: 3 }];
  }));
  const r = c.rt(['create', c.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.devices\[0\]\.path: "dev\/relative" must be an absolute path/);
});

test('linux.devices: a char device without major/minor is refused by validation', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.devices = [{ type: 'c', path: '/dev/nomajor' }];
  }));
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.devices\[0\]\.major: required/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

/** A bundle whose /dev is the rootfs's own directory (no tmpfs), with nodes made there first. */
function bareDevBundle(devices: Device[]): Bundle {
  return track(bundle(['true'], (s) => {
    s.mounts = s.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'));
    s.linux!.devices = devices;
  }));
}

function mknodHost(path: string, args: string[]): void {
  const r = spawnSync('mknod', ['-m', '0666', path, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('linux.devices: a node already in the rootfs that matches is kept', () => {
  const b = bareDevBundle([{ type: 'c', path: '/dev/mydev', major: 1, minor: 3, fileMode: 0o620 }]);
  mknodHost(`${b.rootfs}/dev/mydev`, ['c', '1', '3']);
  const { nodes } = statInside(b, ['/dev/mydev', '/dev/null']);
  assert.deepEqual(nodes['/dev/mydev'], { type: 'character special file', major: 1, minor: 3, mode: '620', owner: '0:0' });
  assert.equal(nodes['/dev/null']!.major, 1);
});

test('linux.devices: a different file already at the path is an error (runtime-spec: MUST)', () => {
  const cases: [string, (p: string) => void][] = [
    ['another device number', (p) => mknodHost(p, ['c', '1', '5'])],
    ['a block device', (p) => mknodHost(p, ['b', '1', '3'])],
    ['a fifo', (p) => mknodHost(p, ['p'])],
    ['a regular file', (p) => writeFileSync(p, 'not a device\n')],
  ];
  for (const [what, make] of cases) {
    const b = bareDevBundle([{ type: 'c', path: '/dev/mydev', major: 1, minor: 3 }]);
    make(`${b.rootfs}/dev/mydev`);
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0, `${what} at /dev/mydev must make create fail`);
    assert.match(r.stderr, /\/dev\/mydev/, what);
    assert.notEqual(b.rt(['state', b.id]).status, 0);
  }
});

// ---- user namespace ------------------------------------------------------------------------

function withUserNs(s: Spec): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

function userNsBundle(mutate?: (s: Spec) => void): Bundle {
  const b = track(bundle(['true'], (s) => {
    withUserNs(s);
    mutate?.(s);
  }));
  chmodSync(b.dir, 0o755); // the mapped root must reach the rootfs
  const r = spawnSync('chown', ['-R', '-h', '100000:100000', b.rootfs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return b;
}

test('user namespace: default devices are binds of the host nodes, and they work', () => {
  const b = userNsBundle();
  const { nodes, out } = statInside(
    b,
    DEFAULTS.map(([p]) => p),
    'echo discarded > /dev/null && echo null-ok; head -c 2 /dev/zero | od -An -tx1; ' +
      `for d in null zero full random urandom tty; do grep " /dev/$d " /proc/self/mountinfo | ${ROOT_AND_TYPE}; done`,
  );
  for (const [path, major, minor] of DEFAULTS) {
    const n = nodes[path]!;
    assert.equal(n.type, 'character special file', path);
    assert.deepEqual([n.major, n.minor, n.mode], [major, minor, '666'], path);
    // the host's root owns them, and is not mapped: the overflow ids
    assert.equal(n.owner, '65534:65534', path);
  }
  const lines = out.trim().split('\n').map((l) => l.trim());
  assert.equal(lines[0], 'null-ok');
  assert.equal(lines[1], '00 00');
  // each is a bind mount whose root is the node on the host's devtmpfs
  assert.deepEqual(lines.slice(2), DEFAULTS.map(([p]) => `${p.slice(4)} devtmpfs`));
  const hostNull = statSync('/dev/null');
  assert.equal(hostNull.rdev, (1 << 8) | 3);
});

test('user namespace: a linux.devices entry is a bind of the host node of that path', () => {
  const host = statSync('/dev/kmsg');
  const b = userNsBundle((s) => {
    s.linux!.devices = [{ type: 'c', path: '/dev/kmsg', major: 1, minor: 11, fileMode: 0o644 }];
  });
  const { nodes, out } = statInside(b, ['/dev/kmsg'], `grep " /dev/kmsg " /proc/self/mountinfo | ${ROOT_AND_TYPE}`);
  assert.equal(nodes['/dev/kmsg']!.type, 'character special file');
  assert.deepEqual([nodes['/dev/kmsg']!.major, nodes['/dev/kmsg']!.minor], [Math.floor(host.rdev / 256), host.rdev % 256]);
  assert.equal(out.trim(), '/kmsg devtmpfs');
});

test('user namespace: a device node the host lacks cannot be bound, and create says which', () => {
  const b = userNsBundle((s) => {
    s.linux!.devices = [{ type: 'c', path: '/dev/hull-no-such-node', major: 1, minor: 3 }];
  });
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/dev\/hull-no-such-node/);
  assert.notEqual(b.rt(['state', b.id]).status, 0);
});

test('without a mount namespace no device nodes are made in the rootfs', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.mounts = [];
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
  }));
  b.save();
  const r = b.rt(['run', b.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(`${b.rootfs}/dev`), []);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(b.rootfs), false);
});
