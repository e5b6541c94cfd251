// Namespaces through hull-runtime: which ones a container gets, user id maps, time offsets,
// the cgroup namespace, joining existing namespaces by path, and the uts names.
// (runtime-tools validation: linux_ns_itype, linux_ns_nopath, linux_ns_path, linux_ns_path_type,
// linux_uid_mappings, hostname.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { NamespaceType, Spec } from '../../src/runtime/spec/types.ts';
import { bundle, runDetached, runScript, stateOf, type Bundle } from './harness.ts';

let bundles: Bundle[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  // Containers first (a container may hold a namespace that a later cleanup removes).
  for (const b of bundles.reverse()) b.cleanup();
  bundles = [];
  for (const c of cleanups.splice(0).reverse()) c();
});

function track(b: Bundle): Bundle {
  bundles.push(b);
  return b;
}

const TYPES: NamespaceType[] = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup', 'time'];
const PROC: Record<NamespaceType, string> = {
  user: 'user', mount: 'mnt', pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', time: 'time',
};
/** The namespaces `hull-runtime spec` lists. */
const DEFAULT: NamespaceType[] = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];

const HOST_UID = 100000;
const HOST_GID = 100000;
const RANGE = 65536;

function hostNs(type: NamespaceType): string {
  return readlinkSync(`/proc/self/ns/${PROC[type]}`);
}

/** Chown the bundle's rootfs copy to the mapped root, so that the container's root owns it. */
function chownRootfs(b: Bundle, uid = HOST_UID, gid = HOST_GID): void {
  // The mapped root must be able to reach the rootfs: mkdtemp made the bundle dir 0700.
  chmodSync(b.dir, 0o755);
  const r = spawnSync('chown', ['-R', '-h', `${uid}:${gid}`, b.rootfs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Give a spec a user namespace mapping container 0..65535 to host 100000..165535. */
function withUserNs(s: Spec): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_UID, size: RANGE }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: HOST_GID, size: RANGE }];
}

/** Configure exactly these namespaces (user with the maps above). */
function setNamespaces(s: Spec, types: NamespaceType[]): void {
  s.linux!.namespaces = types.filter((t) => t !== 'user').map((type) => ({ type }));
  if (types.includes('user')) withUserNs(s);
  if (!types.includes('uts')) delete s.hostname;
  if (!types.includes('mount')) {
    // Without a mount namespace there are no mounts (runc: a bare chroot).
    s.mounts = [];
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
  }
}

/** The namespace links of the container's process, read inside the container. */
function nsInside(b: Bundle): Record<string, string> {
  const out = runScript(b, 'for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done');
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

/** The namespace links of a running container's init, read from the host. */
function nsOfPid(pid: number): Record<string, string> {
  return Object.fromEntries(TYPES.map((t) => [PROC[t], readlinkSync(`/proc/${pid}/ns/${PROC[t]}`)]));
}

/** The container's namespaces: inside when it has a /proc, else from the host with a detached run. */
function containerNs(types: NamespaceType[]): Record<string, string> {
  const b = track(bundle(['true'], (s) => setNamespaces(s, types)));
  if (types.includes('user')) chownRootfs(b);
  if (types.includes('mount')) return nsInside(b);
  b.spec.process!.args = ['sleep', '30'];
  const pid = runDetached(b);
  const ns = nsOfPid(pid);
  b.ok(['delete', '--force', b.id]);
  return ns;
}

function assertNamespaces(seen: Record<string, string>, listed: NamespaceType[]): void {
  for (const t of TYPES) {
    const link = seen[PROC[t]];
    assert.match(link ?? '', new RegExp(`^${PROC[t]}:\\[\\d+\\]$`), `${t}: ${link}`);
    if (listed.includes(t)) assert.notEqual(link, hostNs(t), `${t} is listed, so the container must have its own`);
    else assert.equal(link, hostNs(t), `${t} is not listed, so the container must share the host's`);
  }
}

for (const type of TYPES) {
  test(`${type} namespace: new when listed, the host's when not`, () => {
    // Listed: the defaults plus this one (user needs all the others to own them for mounts).
    const listed = type === 'user' ? [...TYPES] : [...new Set([...DEFAULT, type])];
    assertNamespaces(containerNs(listed), listed);
    // Not listed: the defaults less this one.
    const unlisted = DEFAULT.filter((t) => t !== type);
    assertNamespaces(containerNs(unlisted), unlisted);
  });
}

test('all eight namespaces at once are all new', () => {
  assertNamespaces(containerNs([...TYPES]), [...TYPES]);
});

test('user namespace: uid_map and gid_map inside, files owned by the mapped host ids', () => {
  const b = track(bundle(['true'], (s) => {
    withUserNs(s);
    s.root!.readonly = false;
    s.process!.user = { uid: 0, gid: 0, additionalGids: [10, 20] };
  }));
  chownRootfs(b);
  const out = runScript(
    b,
    'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; cat /proc/self/setgroups; echo --; ' +
      'id -u; id -G; touch /created-inside; mkdir /dir-inside; echo --; stat -c "%u:%g" /created-inside /proc/1',
  );
  const [uidMap, gidMap, setgroups, ids, stats] = out.split('--\n').map((x) => x.trim());
  assert.deepEqual(uidMap!.split(/\s+/).map(Number), [0, HOST_UID, RANGE]);
  assert.deepEqual(gidMap!.split(/\s+/).map(Number), [0, HOST_GID, RANGE]);
  // A privileged runtime leaves setgroups allowed: the process could set its additional groups.
  assert.equal(setgroups, 'allow');
  assert.equal(ids, '0\n0 10 20');
  // Inside, root owns what it made, and its own process.
  assert.equal(stats, '0:0\n0:0');
  // Outside, those are the mapped ids.
  for (const name of ['created-inside', 'dir-inside']) {
    const st = statSync(join(b.rootfs, name));
    assert.equal(st.uid, HOST_UID, `${name} uid`);
    assert.equal(st.gid, HOST_GID, `${name} gid`);
  }
});

test('user namespace: the container process runs as the mapped host uid, seen from the host', () => {
  const b = track(bundle(['sleep', '30'], (s) => {
    withUserNs(s);
    s.process!.user = { uid: 1000, gid: 1000 };
  }));
  chownRootfs(b);
  const pid = runDetached(b);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\s+${HOST_UID + 1000}\\s+${HOST_UID + 1000}\\s+${HOST_UID + 1000}\\s+${HOST_UID + 1000}$`, 'm'));
  assert.match(status, new RegExp(`^Gid:\\s+${HOST_GID + 1000}\\s+`, 'm'));
  assert.equal(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), `0 ${HOST_UID} ${RANGE}`);
  // uid 1000 inside is uid 1000 for the container's own view
  assert.equal(b.ok(['exec', '--user', '1000:1000', b.id, 'id', '-u']), '1000\n');
  b.ok(['delete', '--force', b.id]);
});

test('user namespace: a uid outside the mapping cannot be used', () => {
  const b = track(bundle(['true'], (s) => {
    withUserNs(s);
    s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_UID, size: 1000 }];
    s.process!.user = { uid: 5000, gid: 0 };
  }));
  chownRootfs(b);
  b.save();
  const r = b.rt(['run', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /5000/);
});

test('time namespace: monotonic and boottime offsets are applied', () => {
  const MONO = 7 * 86400;
  const BOOT = 1_000_000;
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { monotonic: { secs: MONO, nanosecs: 0 }, boottime: { secs: BOOT, nanosecs: 0 } };
  }));
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const out = runScript(b, 'cat /proc/self/timens_offsets; echo --; cat /proc/uptime; readlink /proc/self/ns/time');
  const [offsets, rest] = out.split('--\n');
  const lines = offsets!.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const byClock = Object.fromEntries(lines.map(([clock, secs, ns]) => [clock, `${secs} ${ns}`]));
  assert.deepEqual(byClock, { monotonic: `${MONO} 0`, boottime: `${BOOT} 0` });
  const [uptime, timeNs] = rest!.trim().split('\n');
  // /proc/uptime is CLOCK_BOOTTIME: the container's is the host's plus the offset.
  assert.ok(Number(uptime!.split(' ')[0]) >= hostUptime + BOOT, `uptime ${uptime} vs host ${hostUptime} + ${BOOT}`);
  assert.notEqual(timeNs, hostNs('time'));
  // The host's own offsets are untouched.
  assert.match(readFileSync('/proc/self/timens_offsets', 'utf8'), /monotonic\s+0\s+0/);
});

test('time namespace: without offsets the clocks are the host\'s', () => {
  const b = track(bundle(['true'], (s) => s.linux!.namespaces!.push({ type: 'time' })));
  const out = runScript(b, 'cat /proc/self/timens_offsets');
  for (const line of out.trim().split('\n')) assert.match(line, /^\s*(monotonic|boottime)\s+0\s+0$/);
});

test('timeOffsets without a time namespace is refused', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.timeOffsets = { monotonic: { secs: 10 } };
  }));
  const r = b.rt(['run', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.timeOffsets: needs a time namespace/);
});

test('cgroup namespace: /proc/self/cgroup shows / inside, the real path without one', () => {
  const b = track(bundle(['true']));
  const inside = runScript(b, 'cat /proc/self/cgroup').trim().split('\n');
  assert.ok(inside.length > 0);
  for (const line of inside) assert.match(line, /^\d+:[^:]*:\/$/, line);

  const c = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  }));
  const outside = runScript(c, 'cat /proc/self/cgroup').trim().split('\n');
  const memory = outside.find((l) => /^\d+:memory:/.test(l));
  assert.ok(memory, outside.join('\n'));
  assert.match(memory, new RegExp(`:/hull-test/${c.id}$`));
});

test('joining another container\'s network, uts and ipc namespaces by path', () => {
  const a = track(bundle(['sleep', '30'], (s) => {
    s.hostname = 'first-container';
  }));
  const pid = runDetached(a);
  const b = track(bundle(['true'], (s) => {
    delete s.hostname; // the uts namespace is a's; b must not rename it
    s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
      n.type === 'network' || n.type === 'uts' || n.type === 'ipc' ? { type: n.type, path: `/proc/${pid}/ns/${PROC[n.type]}` } : n,
    );
  }));
  const out = runScript(b, 'for n in net uts ipc pid; do readlink /proc/self/ns/$n; done; hostname');
  const [net, uts, ipc, pidNs, hostname] = out.trim().split('\n');
  assert.equal(net, readlinkSync(`/proc/${pid}/ns/net`));
  assert.equal(uts, readlinkSync(`/proc/${pid}/ns/uts`));
  assert.equal(ipc, readlinkSync(`/proc/${pid}/ns/ipc`));
  assert.notEqual(net, hostNs('network'));
  // The others are still b's own.
  assert.notEqual(pidNs, readlinkSync(`/proc/${pid}/ns/pid`));
  assert.notEqual(pidNs, hostNs('pid'));
  assert.equal(hostname, 'first-container');
  assert.equal(stateOf(a).status, 'running');
  a.ok(['delete', '--force', a.id]);
});

test('joining every namespace of a user-namespaced container by path, with a mount namespace of its own', () => {
  const a = track(bundle(['sleep', '30'], (s) => {
    setNamespaces(s, [...TYPES]);
    s.hostname = 'owner-container';
    s.linux!.timeOffsets = { boottime: { secs: 500000, nanosecs: 0 } };
  }));
  chownRootfs(a);
  const pid = runDetached(a);
  const joined = TYPES.filter((t) => t !== 'mount');
  const b = track(bundle(['true'], (s) => {
    delete s.hostname;
    s.linux!.namespaces = [
      { type: 'mount' },
      ...joined.map((type) => ({ type, path: `/proc/${pid}/ns/${PROC[type]}` })),
    ];
  }));
  chownRootfs(b);
  const out = runScript(b, 'for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done; hostname; cat /proc/self/uid_map; ls /proc | grep -c "^[0-9]"');
  const lines = out.trim().split('\n');
  const seen = Object.fromEntries(lines.slice(0, 8).map((l) => l.split(' ') as [string, string]));
  for (const t of joined) assert.equal(seen[PROC[t]], readlinkSync(`/proc/${pid}/ns/${PROC[t]}`), `${t} is a's`);
  assert.notEqual(seen.mnt, readlinkSync(`/proc/${pid}/ns/mnt`));
  assert.notEqual(seen.mnt, hostNs('mount'));
  assert.equal(lines[8], 'owner-container');
  assert.equal(lines[9]!.trim().split(/\s+/).join(' '), `0 ${HOST_UID} ${RANGE}`);
  // a's pid namespace: its sleep, plus b's shell and ls at least
  assert.ok(Number(lines[10]) >= 2, `processes seen: ${lines[10]}`);
  a.ok(['delete', '--force', a.id]);
});

test('exec into a container with a time namespace sees its offsets', () => {
  const BOOT = 2_000_000;
  const b = track(bundle(['sleep', '30'], (s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: BOOT, nanosecs: 0 } };
  }));
  const pid = runDetached(b);
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const out = b.ok(['exec', b.id, 'sh', '-c', 'readlink /proc/self/ns/time; cat /proc/uptime']);
  const [ns, uptime] = out.trim().split('\n');
  assert.equal(ns, readlinkSync(`/proc/${pid}/ns/time`));
  assert.ok(Number(uptime!.split(' ')[0]) >= hostUptime + BOOT, `uptime ${uptime}`);
  b.ok(['delete', '--force', b.id]);
});

test('exec into a container with all eight namespaces joins every one of them', () => {
  const b = track(bundle(['sleep', '30'], (s) => {
    setNamespaces(s, [...TYPES]);
    s.linux!.timeOffsets = { monotonic: { secs: 3600, nanosecs: 0 } };
  }));
  chownRootfs(b);
  const pid = runDetached(b);
  const out = b.ok(['exec', b.id, 'sh', '-c', 'for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done; id -u']);
  const lines = out.trim().split('\n');
  for (const line of lines.slice(0, 8)) {
    const [name, link] = line.split(' ');
    assert.equal(link, readlinkSync(`/proc/${pid}/ns/${name}`), name);
  }
  assert.equal(lines[8], '0');
  b.ok(['delete', '--force', b.id]);
});

test('joining a named network namespace made by ip netns', () => {
  const name = `hull-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  cleanups.push(() => {
    spawnSync('ip', ['netns', 'del', name]);
  });
  // Something recognisable in it: a link only this namespace has.
  const link = spawnSync('ip', ['-n', name, 'link', 'add', 'hulltest0', 'type', 'bridge'], { encoding: 'utf8' });
  assert.equal(link.status, 0, link.stderr);
  const path = `/run/netns/${name}`;
  const inode = statSync(path).ino;
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path } : n));
  }));
  const out = runScript(b, 'readlink /proc/self/ns/net; ip link show hulltest0 >/dev/null && echo has-link');
  const [net, dummy] = out.trim().split('\n');
  assert.equal(net, `net:[${inode}]`);
  assert.equal(dummy, 'has-link');
});

test('a namespace path that is not a namespace of that type is refused, leaving nothing', () => {
  const b = track(bundle(['true']));
  const notNs = join(b.dir, 'not-a-namespace');
  writeFileSync(notNs, '');
  for (const path of [notNs, '/proc/self/ns/uts', join(b.dir, 'missing')]) {
    b.spec.linux!.namespaces = b.spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path } : n));
    b.save();
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0, `joining ${path} as a network namespace must fail`);
    assert.match(r.stderr, new RegExp(`${path.replace(/[/.]/g, '\\$&')}.*network namespace|network namespace.*${path.replace(/[/.]/g, '\\$&')}`), r.stderr);
    assert.notEqual(b.rt(['state', b.id]).status, 0, 'no container may remain');
  }
});

test('a relative namespace path is refused by validation', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: 'run/netns/x' } : n));
  }));
  const r = b.rt(['create', b.id]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /linux\.namespaces\[\d\]\.path: "run\/netns\/x" must be an absolute path/);
});

test('uts namespace: hostname and domainname are set inside and the host keeps its own', () => {
  const hostHostname = readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
  const b = track(bundle(['true'], (s) => {
    s.hostname = 'hull-ns-test';
    s.domainname = 'example.test';
  }));
  const out = runScript(b, 'hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname');
  assert.equal(out, 'hull-ns-test\nhull-ns-test\nexample.test\n');
  assert.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostHostname);
  assert.equal(readFileSync('/proc/sys/kernel/domainname', 'utf8'), hostDomain);
});

test('hostname or domainname without a uts namespace is refused before anything is made', () => {
  for (const field of ['hostname', 'domainname'] as const) {
    const b = track(bundle(['true'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
      delete s.hostname;
      s[field] = 'nope';
    }));
    const r = b.rt(['create', b.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`${field}: needs a uts namespace`));
    assert.notEqual(b.rt(['state', b.id]).status, 0);
  }
});

test('without a uts namespace the container sees the host name', () => {
  const b = track(bundle(['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
    delete s.hostname;
  }));
  assert.equal(runScript(b, 'hostname'), readFileSync('/proc/sys/kernel/hostname', 'utf8'));
});
