// rtnetlink from the Node process against the real kernel: pinned network namespaces, links,
// addresses and routes, and the engine's bridge/veth sequences proven with real pings. Most
// tests work inside private namespaces (a "host" one holding the bridge, a "container" one);
// one uses the real host namespace with test-unique link names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netlinkOpen, netnsCreate } from '../../src/sys/index.ts';
import { NetlinkError } from '../../src/network/netlink/message.ts';
import { RouteSocket } from '../../src/network/netlink/route.ts';
import { createNetns, isNetns, removeNetns } from '../../src/network/netns.ts';
import { attachVeth, deleteLink, detachVeth, ensureBridge, linkExists } from '../../src/network/veth.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const THREAD_NETNS = readlinkSync('/proc/thread-self/ns/net');

/** A short random tag, so link names (15 bytes at most) are unique to this test. */
function tag(): string {
  return Math.random().toString(36).slice(2, 7);
}

interface Fixture {
  dir: string;
  /** A pinned netns in the fixture's directory. */
  netns(name: string): string;
  cleanup(): void;
}

/** Leaves nothing: every netns unpinned, no mount or file under dir, no host link named prefix*. */
function fixture(hostPrefix?: string): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'hull-netlink-'));
  const made: string[] = [];
  return {
    dir,
    netns(name) {
      const path = join(dir, name);
      createNetns(path);
      made.push(path);
      return path;
    },
    cleanup() {
      if (hostPrefix) for (const l of hostLinks(hostPrefix)) deleteLink(l);
      for (const p of made) removeNetns(p);
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(mounts, [], 'mounts leaked');
      if (hostPrefix) assert.deepEqual(hostLinks(hostPrefix), [], 'host links leaked');
      assert.equal(readlinkSync('/proc/thread-self/ns/net'), THREAD_NETNS, 'the thread was left in another netns');
    },
  };
}

function hostLinks(prefix: string): string[] {
  using s = RouteSocket.open();
  return s.listLinks().map((l) => l.name).filter((n) => n.startsWith(prefix));
}

function inNetns(netns: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync('nsenter', [`--net=${netns}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

function ping(netns: string, address: string): void {
  const r = inNetns(netns, ['busybox', 'ping', '-c1', '-W5', address]);
  assert.equal(r.status, 0, `ping ${address} from ${netns} failed:\n${r.out}`);
  assert.match(r.out, /1 packets received/);
}

test('createNetns pins a fresh namespace; removeNetns unpins it and is idempotent', () => {
  const f = fixture();
  try {
    const ns = join(f.dir, 'a');
    createNetns(ns);
    assert.ok(isNetns(ns));
    assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(ns), 'the namespace is bind-mounted on its file');
    // a fresh namespace: only lo, down
    using s = RouteSocket.open(ns);
    assert.deepEqual(s.listLinks().map((l) => [l.name, l.up]), [['lo', false]]);
    s.close();
    removeNetns(ns);
    assert.ok(!existsSync(ns));
    removeNetns(ns);
    // a file that is not mounted on is removed too
    writeFileSync(ns, '');
    removeNetns(ns);
    assert.ok(!existsSync(ns));
  } finally {
    f.cleanup();
  }
});

test('createNetns refuses an existing file or a missing directory, leaving nothing', () => {
  const f = fixture();
  try {
    const existing = join(f.dir, 'existing');
    writeFileSync(existing, 'keep');
    assert.throws(() => createNetns(existing), (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && e.message.startsWith(`create network namespace ${existing}: EEXIST`));
    assert.equal(readFileSync(existing, 'utf8'), 'keep');
    assert.throws(() => createNetns(join(f.dir, 'no/such/dir')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    // the native call failing after the file was made: a directory cannot take a file bind mount
    const d = join(f.dir, 'd');
    mkdirSync(d);
    assert.throws(() => netnsCreate(d), (e: NodeJS.ErrnoException) => e.syscall === 'mount' && e.code === 'ENOTDIR');
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), THREAD_NETNS);
  } finally {
    f.cleanup();
  }
});

test('netlinkOpen: errors are thrown as fs errors and the thread always comes back to its netns', () => {
  const f = fixture();
  try {
    const plain = join(f.dir, 'plain');
    writeFileSync(plain, '');
    assert.throws(() => netlinkOpen(0, plain), (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && e.syscall === 'setns' && e.path === plain);
    assert.throws(() => netlinkOpen(0, join(f.dir, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'open');
    const ns = f.netns('ns');
    assert.throws(() => netlinkOpen(1234, ns), (e: NodeJS.ErrnoException) => e.code === 'EPROTONOSUPPORT' && e.syscall === 'socket');
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), THREAD_NETNS);
    // and the clear message at the RouteSocket level
    assert.throws(() => RouteSocket.open(plain), { message: `network namespace ${plain}: not a network namespace` });
    assert.throws(() => RouteSocket.open('/proc/self/ns/mnt'), { message: 'network namespace /proc/self/ns/mnt: not a network namespace' });
    assert.throws(() => RouteSocket.open(join(f.dir, 'missing')), { message: `network namespace ${join(f.dir, 'missing')}: no such file` });
  } finally {
    f.cleanup();
  }
});

test('a bridge and a veth into a container namespace carry real traffic, v4 and v6', () => {
  const f = fixture();
  try {
    const host = f.netns('host');
    const ctr = f.netns('ctr');
    ensureBridge({ name: 'br0', mtu: 1400, addresses: ['10.88.0.1/16', 'fd00:88::1/64'], netnsPath: host });
    const started = performance.now();
    attachVeth({
      hostName: 'veth0', bridge: 'br0', netnsPath: ctr, hostNetnsPath: host, ifname: 'eth0', mtu: 1400,
      mac: '02:42:0a:58:00:05', addresses: ['10.88.0.5/16', 'fd00:88::5/64'], gateways: ['10.88.0.1', 'fd00:88::1'],
    });
    console.log(`attachVeth (first, cold) took ${(performance.now() - started).toFixed(2)} ms`);

    using h = RouteSocket.open(host);
    using c = RouteSocket.open(ctr);
    const br = h.getLink('br0');
    assert.equal(br.kind, 'bridge');
    assert.equal(br.up, true);
    assert.equal(br.mtu, 1400);
    const veth = h.getLink('veth0');
    assert.equal(veth.kind, 'veth');
    assert.equal(veth.master, br.index);
    assert.equal(veth.up, true);
    assert.equal(veth.mtu, 1400);
    assert.deepEqual(h.listLinks({ master: 'br0' }).map((l) => l.name), ['veth0']);
    assert.deepEqual(h.listLinks({ kind: 'bridge' }).map((l) => l.name), ['br0']);

    const eth0 = c.getLink('eth0');
    assert.equal(eth0.mac, '02:42:0a:58:00:05');
    assert.equal(eth0.mtu, 1400);
    assert.equal(eth0.up, true);
    assert.equal(eth0.link, veth.index, 'a veth names its peer, by its index in the other namespace');
    assert.notEqual(eth0.linkNetnsId, null);
    assert.equal(c.getLink('lo').up, true);
    assert.deepEqual(c.getLink(eth0.index).name, 'eth0');
    assert.deepEqual(
      c.listAddresses({ link: 'eth0' }).filter((a) => a.scope === 0).map((a) => [a.cidr, a.broadcast]),
      [['10.88.0.5/16', '10.88.255.255'], ['fd00:88::5/64', null]],
    );
    assert.deepEqual(
      h.listAddresses({ link: 'br0' }).filter((a) => a.scope === 0).map((a) => a.cidr).sort(),
      ['10.88.0.1/16', 'fd00:88::1/64'],
    );
    const defaults = c.listRoutes().filter((r) => r.dst === 'default');
    assert.deepEqual(defaults.map((r) => [r.family, r.gateway, r.dev]).sort(), [[4, '10.88.0.1', eth0.index], [6, 'fd00:88::1', eth0.index]]);
    assert.ok(c.listRoutes({ family: 4 }).some((r) => r.dst === '10.88.0.0/16' && r.dev === eth0.index && r.gateway === null));

    ping(ctr, '10.88.0.1');
    ping(ctr, 'fd00:88::1');
    ping(host, '10.88.0.5');

    // ensureBridge again changes nothing and does not fail
    ensureBridge({ name: 'br0', mtu: 1400, addresses: ['10.88.0.1/16', 'fd00:88::1/64'], netnsPath: host });
    assert.equal(h.listAddresses({ link: 'br0' }).filter((a) => a.scope === 0).length, 2);

    detachVeth('veth0', host);
    detachVeth('veth0', host); // gone already: fine
    assert.deepEqual(c.listLinks().map((l) => l.name), ['lo'], 'deleting the host end deletes the pair');
    assert.equal(linkExists('veth0', host), false);
    assert.equal(linkExists('br0', host), true);
  } finally {
    f.cleanup();
  }
});

test('attachVeth: measure (printed, not asserted)', () => {
  const f = fixture();
  try {
    const host = f.netns('host');
    ensureBridge({ name: 'br0', addresses: ['10.89.0.1/16'], netnsPath: host });
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const ctr = f.netns(`c${i}`);
      const started = performance.now();
      attachVeth({
        hostName: `veth${i}`, bridge: 'br0', netnsPath: ctr, hostNetnsPath: host, mtu: 1500,
        mac: `02:42:0a:59:00:${(i + 2).toString(16).padStart(2, '0')}`, addresses: [`10.89.0.${i + 2}/16`], gateways: ['10.89.0.1'],
      });
      times.push(performance.now() - started);
    }
    const createStarted = performance.now();
    const extra = f.netns('extra');
    const createMs = performance.now() - createStarted;
    times.sort((a, b) => a - b);
    console.log(
      `attachVeth over 15 runs: median ${times[7]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms, max ${times[14]!.toFixed(2)} ms; createNetns ${createMs.toFixed(2)} ms`,
    );
    ping(join(f.dir, 'c3'), '10.89.0.1');
    removeNetns(extra);
  } finally {
    f.cleanup();
  }
});

test('attachVeth on the real host namespace, with test-unique names', () => {
  const prefix = `ht${tag()}`;
  const f = fixture(prefix);
  try {
    const ctr = f.netns('ctr');
    const subnet = `198.18.${Math.floor(Math.random() * 250) + 1}`;
    ensureBridge({ name: `${prefix}br`, addresses: [`${subnet}.1/24`] });
    attachVeth({ hostName: `${prefix}v0`, bridge: `${prefix}br`, netnsPath: ctr, addresses: [`${subnet}.2/24`], gateways: [`${subnet}.1`] });
    // the container end is eth0 although the host has an eth0 of its own
    using c = RouteSocket.open(ctr);
    assert.ok(c.findLink('eth0'));
    assert.ok(linkExists(`${prefix}v0`));
    ping(ctr, `${subnet}.1`);
    detachVeth(`${prefix}v0`);
    deleteLink(`${prefix}br`);
    assert.deepEqual(hostLinks(prefix), []);
  } finally {
    f.cleanup();
  }
});

test('link operations: up/down, master, mtu, mac, rename, move to a netns, delete', () => {
  const f = fixture();
  try {
    const a = f.netns('a');
    const b = f.netns('b');
    using s = RouteSocket.open(a);
    s.addBridge({ name: 'br0', mac: '02:00:00:00:00:01', options: { stp: false, forwardDelay: 0, multicastSnooping: false } });
    assert.equal(s.getLink('br0').mac, '02:00:00:00:00:01');
    s.addVeth({ name: 'va', peer: { name: 'vb' } });
    assert.equal(s.getLink('va').link, s.getLink('vb').index, 'both ends here: each names the other');
    s.setLink('va', { up: true, master: 'br0', mtu: 1300, mac: '02:00:00:00:00:0a' });
    let va = s.getLink('va');
    assert.deepEqual([va.up, va.master, va.mtu, va.mac], [true, s.getLink('br0').index, 1300, '02:00:00:00:00:0a']);
    s.setMaster('va', null);
    s.setLinkUp('va', false);
    s.setMtu('va', 1280);
    s.setMac('va', '02:00:00:00:00:0b');
    va = s.getLink('va');
    assert.deepEqual([va.up, va.master, va.mtu, va.mac], [false, null, 1280, '02:00:00:00:00:0b']);
    s.renameLink('va', 'vx');
    assert.equal(s.findLink('va'), null);
    assert.equal(s.getLink('vx').index, va.index);
    s.renameLink(va.index, 'vy');
    assert.equal(s.getLink(va.index).name, 'vy');

    // move into b, renamed eth0 there
    s.moveLink('vb', b, 'eth0');
    assert.equal(s.findLink('vb'), null);
    using sb = RouteSocket.open(b);
    assert.equal(sb.getLink('eth0').kind, 'veth');

    assert.equal(s.deleteLink('vy'), true);
    assert.equal(s.deleteLink('vy', { missingOk: true }), false);
    assert.throws(() => s.deleteLink('vy'), { message: `delete link vy in ${a}: ENODEV: no such device` });
    assert.deepEqual(sb.listLinks().map((l) => l.name), ['lo'], 'the pair went with its end');
    assert.deepEqual(s.listLinks().map((l) => l.name), ['lo', 'br0']);
  } finally {
    f.cleanup();
  }
});

test('addresses: add, list and delete, v4 and v6, with clear errors', () => {
  const f = fixture();
  try {
    const a = f.netns('a');
    using s = RouteSocket.open(a);
    s.addVeth({ name: 'v0', peer: { name: 'v1' }, up: true });
    s.addAddress('v0', '10.0.0.2/24');
    s.addAddress('v0', '10.0.1.2/31');
    s.addAddress('v0', 'fd00::2/64', { nodad: true });
    s.addAddress('v0', 'fd01::2/64');
    const listed = s.listAddresses({ link: 'v0' });
    const byCidr = new Map(listed.map((x) => [x.cidr, x]));
    assert.equal(byCidr.get('10.0.0.2/24')!.broadcast, '10.0.0.255');
    assert.equal(byCidr.get('10.0.1.2/31')!.broadcast, null, 'no broadcast on a /31');
    assert.ok(byCidr.get('fd00::2/64')!.flags & 0x02, 'nodad');
    assert.ok(byCidr.has('fd01::2/64'));
    assert.deepEqual(s.listAddresses({ link: 'v0', family: 4 }).map((x) => x.cidr), ['10.0.0.2/24', '10.0.1.2/31']);
    assert.throws(() => s.addAddress('v0', '10.0.0.2/24'), (e: Error) => e instanceof NetlinkError && e.code === 'EEXIST' &&
      e.message.startsWith(`add address 10.0.0.2/24 on v0 in ${a}: EEXIST: file already exists`));
    assert.throws(() => s.addAddress('nosuch0', '10.0.0.9/24'), { message: `add address 10.0.0.9/24 on nosuch0 in ${a}: ENODEV: no such device` });
    assert.throws(() => s.addAddress('v0', '10.0.0.300/24'), { message: `add address 10.0.0.300/24 on v0 in ${a}: invalid address 10.0.0.300/24: invalid CIDR address: 10.0.0.300/24` });
    assert.throws(() => s.addAddress('v0', '10.0.0.2'), /invalid CIDR address/);
    s.deleteAddress('v0', '10.0.0.2/24');
    s.deleteAddress('v0', 'fd00::2/64');
    assert.throws(() => s.deleteAddress('v0', '10.0.0.2/24'), (e: Error) => e instanceof NetlinkError && e.code === 'EADDRNOTAVAIL');
    assert.deepEqual(s.listAddresses({ link: 'v0' }).filter((x) => x.scope === 0).map((x) => x.cidr), ['10.0.1.2/31', 'fd01::2/64']);
    assert.deepEqual(s.listAddresses({ link: 'v1' }), [], 'the down peer has none');
  } finally {
    f.cleanup();
  }
});

test('routes: add, list and delete, v4 and v6, default and prefix', () => {
  const f = fixture();
  try {
    const a = f.netns('a');
    using s = RouteSocket.open(a);
    s.addVeth({ name: 'v0', peer: { name: 'v1' }, up: true });
    s.setLinkUp('v1');
    s.addAddress('v0', '10.1.0.2/24');
    s.addAddress('v0', 'fd10::2/64', { nodad: true });
    s.addRoute({ dst: '10.2.0.0/16', gateway: '10.1.0.1', dev: 'v0', metric: 50 });
    s.addRoute({ dst: '10.3.0.0/16', dev: 'v0' });
    s.addRoute({ dst: 'default', gateway: '10.1.0.1' });
    s.addRoute({ dst: 'fd20::/48', gateway: 'fd10::1', dev: 'v0' });
    s.addRoute({ dst: 'default', gateway: 'fd10::1', dev: 'v0' });
    s.addRoute({ dst: '10.4.0.0/16', dev: 'v0', table: 1000 });
    const v0 = s.getLink('v0').index;
    const v4 = s.listRoutes({ family: 4 });
    const find = (dst: string, list = v4) => list.find((r) => r.dst === dst);
    assert.deepEqual([find('10.2.0.0/16')?.gateway, find('10.2.0.0/16')?.metric, find('10.2.0.0/16')?.dev], ['10.1.0.1', 50, v0]);
    assert.deepEqual([find('10.3.0.0/16')?.gateway, find('10.3.0.0/16')?.scope], [null, 253]);
    assert.equal(find('default')?.gateway, '10.1.0.1');
    assert.equal(find('10.4.0.0/16'), undefined, 'table 1000 is not main');
    assert.equal(find('10.4.0.0/16', s.listRoutes({ table: 1000 }))?.table, 1000);
    assert.ok(find('10.4.0.0/16', s.listRoutes({ table: 'all' })));
    const v6 = s.listRoutes({ family: 6, dev: 'v0' });
    assert.equal(find('fd20::/48', v6)?.gateway, 'fd10::1');
    assert.equal(find('default', v6)?.gateway, 'fd10::1');

    assert.throws(() => s.addRoute({ dst: 'default', gateway: '10.1.0.1' }), (e: Error) => e instanceof NetlinkError && e.code === 'EEXIST' && e.message.startsWith(`add route default via 10.1.0.1 in ${a}: EEXIST`));
    assert.throws(() => s.addRoute({ dst: '10.9.0.0/16', gateway: '10.8.0.1' }), (e: Error) => e instanceof NetlinkError && e.code === 'ENETUNREACH');
    assert.throws(() => s.addRoute({ dst: '10.9.0.0/16', gateway: 'fd10::1' }), { message: `add route 10.9.0.0/16 via fd10::1 in ${a}: fd10::1 is not an IPv4 address` });
    assert.throws(() => s.addRoute({ dst: 'default', dev: 'v0' }), /needs a family/);
    assert.throws(() => s.addRoute({ dst: '10.9.0.0/16', dev: 'nosuch0' }), /ENODEV/);

    s.deleteRoute({ dst: '10.2.0.0/16', gateway: '10.1.0.1', dev: 'v0' });
    s.deleteRoute({ dst: 'default', gateway: '10.1.0.1' });
    s.deleteRoute({ dst: 'default', family: 6 });
    s.deleteRoute({ dst: '10.4.0.0/16', table: 1000 });
    assert.throws(() => s.deleteRoute({ dst: '10.2.0.0/16' }), (e: Error) => e instanceof NetlinkError && e.code === 'ESRCH');
    assert.equal(s.listRoutes({ table: 'all' }).filter((r) => ['10.2.0.0/16', '10.4.0.0/16', 'default'].includes(r.dst)).length, 0);
  } finally {
    f.cleanup();
  }
});

test('bad input gets a clear error and leaves nothing', () => {
  const f = fixture();
  try {
    const host = f.netns('host');
    const ctr = f.netns('ctr');
    using h = RouteSocket.open(host);
    using c = RouteSocket.open(ctr);
    const linksNow = () => [h.listLinks().map((l) => l.name), c.listLinks().map((l) => l.name)];
    ensureBridge({ name: 'br0', addresses: ['10.90.0.1/16'], netnsPath: host });
    const before = linksNow();
    const base = { bridge: 'br0', netnsPath: ctr, hostNetnsPath: host, addresses: ['10.90.0.5/16'] };

    assert.throws(() => h.addBridge({ name: 'br0' }), { message: `add bridge br0 in ${host}: EEXIST: file already exists` });
    assert.throws(() => h.addBridge({ name: 'averyveryverylongname' }), { message: `add bridge averyveryverylongname in ${host}: invalid interface name "averyveryverylongname": it is longer than 15 bytes` });
    assert.throws(() => attachVeth({ ...base, hostName: 'a/b' }), /invalid interface name "a\/b": it contains "\/"/);
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', ifname: 'eth0-with-a-long-name' }), /invalid interface name "eth0-with-a-long-name"/);
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', mac: 'zz' }), /invalid MAC address: "zz"/);
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', mtu: 20 }), /invalid MTU 20/);
    // the peer's namespace is not one
    const plain = join(f.dir, 'plain');
    writeFileSync(plain, '');
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', netnsPath: plain }), { message: `network namespace ${plain}: not a network namespace` });
    assert.throws(() => h.addVeth({ name: 'v1', peer: { name: 'eth0', netnsPath: '/proc/self/ns/uts' } }), /not a network namespace/);
    // a missing bridge
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', bridge: 'nosuchbr' }), /add veth v1 .*: ENODEV: no such device/);
    // duplicate host name: the existing link stays as it was
    h.addVeth({ name: 'dup0', peer: { name: 'dup1' } });
    assert.throws(() => attachVeth({ ...base, hostName: 'dup0' }), (e: Error) => e instanceof NetlinkError && e.code === 'EEXIST');
    assert.equal(h.getLink('dup0').master, null);
    h.deleteLink('dup0');
    // a step inside the namespace fails: the pair is deleted again
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', gateways: ['10.91.0.1'] }), /add route default via 10.91.0.1 dev eth0 in .*: ENETUNREACH/);
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', addresses: ['10.90.0.5/16', '10.90.0.5/16'] }), /EEXIST/);
    assert.throws(() => attachVeth({ ...base, hostName: 'v1', addresses: ['bogus'] }), /invalid CIDR address: bogus/);
    // ensureBridge on a name that is not a bridge leaves that link alone
    h.addVeth({ name: 'notbr', peer: { name: 'notbr1' } });
    assert.throws(() => ensureBridge({ name: 'notbr', netnsPath: host }), { message: 'ensure bridge notbr: the link of that name is a veth, not a bridge' });
    assert.ok(h.findLink('notbr'));
    h.deleteLink('notbr');
    // ensureBridge that made the bridge and then failed takes it away again
    assert.throws(() => ensureBridge({ name: 'br1', addresses: ['nonsense'], netnsPath: host }), /invalid CIDR address/);
    assert.equal(h.findLink('br1'), null);

    assert.deepEqual(linksNow(), before, 'nothing was left behind');
  } finally {
    f.cleanup();
  }
});

test('ensureBridge is safe when processes race for the same bridge', async () => {
  const f = fixture();
  try {
    const host = f.netns('host');
    const script = join(f.dir, 'race.ts');
    const go = join(f.dir, 'go');
    // Each process loads the code, says so, then waits for the go file, so that they all
    // reach ensureBridge together.
    writeFileSync(
      script,
      `import { existsSync } from 'node:fs';\n` +
        `import { ensureBridge } from ${JSON.stringify(join(SRC, 'network/veth.ts'))};\n` +
        `process.stdout.write('ready\\n');\n` +
        `const nap = new Int32Array(new SharedArrayBuffer(4));\n` +
        `while (!existsSync(${JSON.stringify(go)})) Atomics.wait(nap, 0, 0, 1);\n` +
        `ensureBridge({ name: 'br0', addresses: ['10.92.0.1/16', 'fd92::1/64'], netnsPath: ${JSON.stringify(host)} });\n`,
    );
    let ready = 0;
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<{ code: number | null; err: string }>((resolve) => {
          const p = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
          let err = '';
          p.stdout.on('data', () => {
            if (++ready === 6) writeFileSync(go, '');
          });
          p.stderr.on('data', (d) => (err += d));
          p.on('close', (code) => resolve({ code, err }));
        }),
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.err);
    using h = RouteSocket.open(host);
    assert.deepEqual(h.listLinks({ kind: 'bridge' }).map((l) => [l.name, l.up]), [['br0', true]]);
    assert.deepEqual(h.listAddresses({ link: 'br0' }).filter((a) => a.scope === 0).map((a) => a.cidr).sort(), ['10.92.0.1/16', 'fd92::1/64']);
  } finally {
    f.cleanup();
  }
});

test('dumps that span many datagrams come back whole', () => {
  const f = fixture();
  try {
    const a = f.netns('a');
    using s = RouteSocket.open(a);
    for (let i = 0; i < 150; i++) s.addVeth({ name: `a${i}`, peer: { name: `b${i}` } });
    s.setLinkUp('a0'); // the kernel adds prefix routes only on an up link
    for (let i = 0; i < 40; i++) s.addAddress('a0', `10.50.${i}.1/24`);
    const links = s.listLinks();
    assert.equal(links.length, 301);
    assert.equal(new Set(links.map((l) => l.index)).size, 301);
    assert.equal(s.listAddresses({ link: 'a0', family: 4 }).length, 40);
    assert.equal(s.listRoutes({ family: 4 }).filter((r) => r.dst.startsWith('10.50.')).length, 40, 'a prefix route for each');
    assert.ok(s.listRoutes({ table: 'all', family: 4 }).filter((r) => r.dst.startsWith('10.50.')).length >= 80, 'and local routes in table local');
  } finally {
    f.cleanup();
  }
});

test('a bad link name in an operation is reported as that operation', () => {
  const f = fixture();
  try {
    const a = f.netns('a');
    using s = RouteSocket.open(a);
    assert.throws(() => s.addAddress('a/b', '10.0.0.1/24'), { message: `add address 10.0.0.1/24 on a/b in ${a}: invalid interface name "a/b": it contains "/", ":", a NUL or white space` });
    assert.throws(() => s.addRoute({ dst: '10.0.0.0/24', dev: 'x'.repeat(16) }), /^Error: add route 10.0.0.0\/24 dev x{16} in .*: invalid interface name/);
    assert.throws(() => s.getLink(''), { message: `get link  in ${a}: invalid interface name "": it is empty` });
    assert.equal(s.findLink(999), null);
  } finally {
    f.cleanup();
  }
});
