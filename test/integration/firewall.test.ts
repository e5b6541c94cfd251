// hull's nftables firewall with real traffic, in private network namespaces only: a "host"
// namespace holds the bridges and hull's rules, "container" namespaces hang off the bridges by
// veth, and an "outside" namespace is linked to the host. The host's own ruleset is never
// touched. Servers and clients are small node scripts; each server answers with the address it
// sees the client at, which is what shows whether an address was translated.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test, type TestContext } from 'node:test';
import {
  Firewall,
  FirewallError,
  checkNftables,
  enableForwarding,
  type NetworkFirewall,
  type PortForward,
} from '../../src/network/firewall/index.ts';

const TABLE = 'hulltest';

const SERVER = `
import net from 'node:net';
import dgram from 'node:dgram';
const plain = (a) => (a.startsWith('::ffff:') ? a.slice(7) : a);
const specs = process.argv.slice(2);
let waiting = specs.length;
const ready = () => { if (--waiting === 0) process.stdout.write('ready\\n'); };
for (const spec of specs) {
  const [proto, port] = spec.split(':');
  if (proto === 'tcp') {
    net.createServer((c) => c.end(plain(c.remoteAddress) + '\\n')).listen({ port: Number(port), host: '::', ipv6Only: false }, ready);
  } else {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
    s.on('message', (m, r) => s.send(plain(r.address) + '\\n', r.port, r.address));
    s.bind(Number(port), '::', ready);
  }
}
`;

// Prints what the server saw, or TIMEOUT (dropped), or ERROR <code> (refused, unreachable).
const CLIENT = `
import net from 'node:net';
import dgram from 'node:dgram';
const [proto, host, port, ms] = process.argv.slice(2);
const done = (s) => { process.stdout.write(s + '\\n'); process.exit(0); };
setTimeout(() => done('TIMEOUT'), Number(ms));
if (proto === 'tcp') {
  let got = '';
  const c = net.connect({ host, port: Number(port) });
  c.on('data', (d) => (got += d));
  c.on('end', () => done(got.trim()));
  c.on('error', (e) => done('ERROR ' + e.code));
} else {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.on('message', (m) => done(m.toString().trim()));
  s.on('error', (e) => done('ERROR ' + e.code));
  const send = () => s.send('ping', Number(port), host);
  send();
  setInterval(send, 200);
}
`;

// How long a client waits before calling a connection dropped: a probe, not a timing assertion.
const DROP_WAIT_MS = 1500;

let labs = 0;

class Lab {
  readonly prefix = `hfw${process.pid}x${++labs}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'hull-firewall-'));
  readonly server = join(this.dir, 'server.mjs');
  readonly client = join(this.dir, 'client.mjs');
  private readonly names: string[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor() {
    writeFileSync(this.server, SERVER);
    writeFileSync(this.client, CLIENT);
  }

  name(ns: string): string {
    return `${this.prefix}-${ns}`;
  }

  path(ns: string): string {
    return `/run/netns/${this.name(ns)}`;
  }

  run(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.error?.message ?? ''}`);
    return r.stdout;
  }

  ip(ns: string, ...args: string[]): string {
    return this.run('ip', ['-n', this.name(ns), ...args]);
  }

  /** A command inside a namespace. */
  in(ns: string, cmd: string, ...args: string[]): string {
    return this.run('nsenter', [`--net=${this.path(ns)}`, '--', cmd, ...args]);
  }

  netns(ns: string): void {
    this.run('ip', ['netns', 'add', this.name(ns)]);
    this.names.push(this.name(ns));
    this.ip(ns, 'link', 'set', 'lo', 'up');
  }

  /** The host and the outside, linked: host 192.0.2.1 / 2001:db8::1, outside .2 / ::2. */
  hostAndOutside(): void {
    this.netns('host');
    this.netns('out');
    enableForwarding({ ipv4: true, ipv6: true }, this.path('host'));
    this.ip('host', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.name('out'));
    this.in('host', 'sysctl', '-q', '-w', 'net.ipv6.conf.up0.accept_dad=0');
    this.ip('host', 'addr', 'add', '192.0.2.1/24', 'dev', 'up0');
    this.ip('host', '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'up0', 'nodad');
    this.ip('host', 'link', 'set', 'up0', 'up');
    this.ip('out', 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0');
    this.ip('out', '-6', 'addr', 'add', '2001:db8::2/64', 'dev', 'eth0', 'nodad');
    this.ip('out', 'link', 'set', 'eth0', 'up');
  }

  /**
   * A bridge in the host namespace, its gateway addresses given as CIDRs. Without DAD on it:
   * while the bridge's link-local address is tentative, the kernel sends no neighbour
   * solicitation for a forwarded packet (it has no source address for one), so the first
   * IPv6 connections through a new bridge would stall for a second or two.
   */
  bridge(name: string, ...gateways: string[]): void {
    this.ip('host', 'link', 'add', name, 'type', 'bridge', 'forward_delay', '0');
    this.in('host', 'sysctl', '-q', '-w', `net.ipv6.conf.${name}.accept_dad=0`);
    for (const g of gateways) this.ip('host', 'addr', 'add', g, 'dev', name, ...(g.includes(':') ? ['nodad'] : []));
    this.ip('host', 'link', 'set', name, 'up');
  }

  /** A container namespace on a bridge: eth0 with the addresses, default routes to the gateways. */
  container(ns: string, bridge: string, addrs: { ip4: string; gw4: string; ip6?: string; gw6?: string }): void {
    this.netns(ns);
    const veth = `v${ns}`.slice(0, 15);
    this.ip('host', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.name(ns));
    this.ip('host', 'link', 'set', veth, 'master', bridge, 'up');
    // With br_netfilter loaded (it is here), a DNATed packet is bridged straight back out of
    // the port it came in by when a container reaches itself through a published port: the
    // bridge only does that with hairpin mode on the port, as docker sets it.
    this.ip('host', 'link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on');
    this.ip(ns, 'addr', 'add', addrs.ip4, 'dev', 'eth0');
    if (addrs.ip6) this.ip(ns, '-6', 'addr', 'add', addrs.ip6, 'dev', 'eth0', 'nodad');
    this.ip(ns, 'link', 'set', 'eth0', 'up');
    this.ip(ns, 'route', 'add', 'default', 'via', addrs.gw4);
    if (addrs.gw6) this.ip(ns, '-6', 'route', 'add', 'default', 'via', addrs.gw6);
  }

  /** Starts a server in a namespace (specs like "tcp:80") and waits until it listens. */
  async serve(ns: string, ...specs: string[]): Promise<void> {
    const p = spawn('nsenter', [`--net=${this.path(ns)}`, '--', process.execPath, this.server, ...specs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.procs.push(p);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ready')) resolve();
      });
      p.on('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
    });
  }

  /** Connects from a namespace; resolves to what the server saw, TIMEOUT or ERROR <code>. */
  probe(ns: string, proto: 'tcp' | 'udp', host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn(
        'nsenter',
        [`--net=${this.path(ns)}`, '--', process.execPath, this.client, proto, host, String(port), String(DROP_WAIT_MS)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`client exited ${code}: ${err}`))));
    });
  }

  nft(ns: string, ...args: string[]): string {
    return this.in(ns, 'nft', ...args);
  }

  async cleanup(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    // Deleting a namespace takes its veths, bridges and rules with it.
    for (const n of this.names.reverse()) spawnSync('ip', ['netns', 'del', n]);
    rmSync(this.dir, { recursive: true, force: true });
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.ok(!left.includes(this.prefix), `network namespaces left behind: ${left}`);
    // The machine's own ruleset never had hull's test table in it.
    assert.ok(!spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout.includes(TABLE));
  }
}

let lab: Lab | undefined;
afterEach(async () => {
  const l = lab;
  lab = undefined;
  await l?.cleanup();
});

function newLab(): Lab {
  lab = new Lab();
  return lab;
}

const NET_A: NetworkFirewall = { id: 'neta', bridge: 'hbr0', subnets: ['10.88.0.0/24', 'fd88::/64'], internal: false };
const NET_B: NetworkFirewall = { id: 'netb', bridge: 'hbr1', subnets: ['10.89.0.0/24'], internal: false };
const NET_I: NetworkFirewall = { id: 'neti', bridge: 'hbr2', subnets: ['10.90.0.0/24'], internal: true };

/** Net A with containers c1 (10.88.0.2, fd88::2) and c2 (.3, ::3), plus the host and the outside. */
async function labWithNetA(): Promise<Lab> {
  const l = newLab();
  l.hostAndOutside();
  l.bridge('hbr0', '10.88.0.1/24', 'fd88::1/64');
  l.container('c1', 'hbr0', { ip4: '10.88.0.2/24', gw4: '10.88.0.1', ip6: 'fd88::2/64', gw6: 'fd88::1' });
  l.container('c2', 'hbr0', { ip4: '10.88.0.3/24', gw4: '10.88.0.1', ip6: 'fd88::3/64', gw6: 'fd88::1' });
  await l.serve('out', 'tcp:7000', 'udp:7000');
  await l.serve('c1', 'tcp:80', 'udp:80');
  return l;
}

function c1Ports(): PortForward[] {
  const f = (o: Partial<PortForward>): PortForward => ({
    proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, bridge: 'hbr0', ...o,
  });
  return [
    f({}),
    f({ proto: 'udp' }),
    f({ containerIp: 'fd88::2' }),
    f({ proto: 'udp', containerIp: 'fd88::2' }),
    f({ hostIp: '127.0.0.1', hostPort: 8081 }),
    f({ hostIp: '192.0.2.1', hostPort: 8082 }),
  ];
}

function ms(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms`;
}

/** Every probe at once (a dropped one waits DROP_WAIT_MS), compared to what each should print. */
async function expectAll(l: Lab, cases: [string, 'tcp' | 'udp', string, number, string | RegExp][]): Promise<void> {
  const got = await Promise.all(cases.map(([ns, proto, host, port]) => l.probe(ns, proto, host, port)));
  // All of them compared at once, so that a failure shows every probe that went wrong.
  const label = ([ns, proto, host, port]: (typeof cases)[number]) => `${ns} -> ${proto} ${host} port ${port}`;
  assert.deepEqual(
    cases.map((c, i) => `${label(c)}: ${typeof c[4] === 'string' || !c[4].test(got[i]!) ? got[i] : String(c[4])}`),
    cases.map((c) => `${label(c)}: ${String(c[4])}`),
  );
}

test('NAT out, published ports from outside with the real client address, from the host, and hairpin', async (t: TestContext) => {
  const l = await labWithNetA();
  const host = l.path('host');
  checkNftables(host);
  const fw = new Firewall({ netns: host, table: TABLE });
  fw.addNetwork(NET_A);
  assert.equal(l.in('host', 'cat', '/proc/sys/net/ipv4/conf/hbr0/route_localnet').trim(), '1');
  let start = process.hrtime.bigint();
  fw.addPorts('c1', c1Ports());
  t.diagnostic(`addPorts (one nft process, through nsenter): ${ms(start)}`);

  await expectAll(l, [
    // Out: the outside has no route to the bridges, so an answer proves the masquerade.
    ['c1', 'tcp', '192.0.2.2', 7000, '192.0.2.1'],
    ['c1', 'udp', '192.0.2.2', 7000, '192.0.2.1'],
    ['c2', 'tcp', '2001:db8::2', 7000, '2001:db8::1'],
    // In from outside: the container sees the client's own address.
    ['out', 'tcp', '192.0.2.1', 8080, '192.0.2.2'],
    ['out', 'udp', '192.0.2.1', 8080, '192.0.2.2'],
    ['out', 'tcp', '2001:db8::1', 8080, '2001:db8::2'],
    ['out', 'udp', '2001:db8::1', 8080, '2001:db8::2'],
    ['out', 'tcp', '192.0.2.1', 8082, '192.0.2.2'],
    // A port published on 127.0.0.1 is not reachable from outside (nothing listens on the host).
    ['out', 'tcp', '192.0.2.1', 8081, 'ERROR ECONNREFUSED'],
    // From the host itself: through loopback (masqueraded to the bridge address), and through
    // its own address (no masquerade needed: the answer comes back through the host).
    ['host', 'tcp', '127.0.0.1', 8080, '10.88.0.1'],
    ['host', 'udp', '127.0.0.1', 8080, '10.88.0.1'],
    ['host', 'tcp', '127.0.0.1', 8081, '10.88.0.1'],
    ['host', 'tcp', '192.0.2.1', 8080, '192.0.2.1'],
    ['host', 'tcp', '2001:db8::1', 8080, '2001:db8::1'],
    // Hairpin: containers of the same bridge through the host's addresses, c1 to itself too.
    ['c2', 'tcp', '10.88.0.1', 8080, '10.88.0.1'],
    ['c2', 'tcp', '192.0.2.1', 8080, '10.88.0.1'],
    ['c2', 'udp', '192.0.2.1', 8080, '10.88.0.1'],
    ['c1', 'tcp', '192.0.2.1', 8080, '10.88.0.1'],
    ['c2', 'tcp', '2001:db8::1', 8080, 'fd88::1'],
  ]);

  // Nothing else of the container is exposed: routed straight to its address, the packet is dropped.
  l.ip('out', 'route', 'add', '10.88.0.0/24', 'via', '192.0.2.1');
  await expectAll(l, [['out', 'tcp', '10.88.0.2', 80, 'TIMEOUT']]);

  start = process.hrtime.bigint();
  fw.removePorts('c1');
  t.diagnostic(`removePorts (one nft process, through nsenter): ${ms(start)}`);
  fw.removePorts('c1');
  await expectAll(l, [
    ['out', 'tcp', '192.0.2.1', 8080, 'ERROR ECONNREFUSED'],
    ['host', 'tcp', '127.0.0.1', 8080, 'ERROR ECONNREFUSED'],
    ['c1', 'tcp', '192.0.2.2', 7000, '192.0.2.1'],
  ]);
  assert.doesNotMatch(l.nft('host', 'list', 'table', 'inet', TABLE), /ctr-|dnat ip6? to/);

  fw.removeNetwork('neta');
  assert.doesNotMatch(l.nft('host', 'list', 'table', 'inet', TABLE), /chain|rule/);
  fw.removeAll();
  assert.doesNotMatch(l.nft('host', 'list', 'tables'), new RegExp(TABLE));
});

test('networks are isolated from each other, and an internal network has no way out or in', async () => {
  const l = newLab();
  l.hostAndOutside();
  l.bridge('hbr0', '10.88.0.1/24');
  l.bridge('hbr1', '10.89.0.1/24');
  l.bridge('hbr2', '10.90.0.1/24');
  l.container('c1', 'hbr0', { ip4: '10.88.0.2/24', gw4: '10.88.0.1' });
  l.container('c3', 'hbr1', { ip4: '10.89.0.2/24', gw4: '10.89.0.1' });
  l.container('c4', 'hbr2', { ip4: '10.90.0.2/24', gw4: '10.90.0.1' });
  l.ip('out', 'route', 'add', '10.0.0.0/8', 'via', '192.0.2.1');
  for (const ns of ['c1', 'c3', 'c4', 'out']) await l.serve(ns, 'tcp:80');
  // A container that sends to 127.0.0.9 through its gateway (as one with CAP_NET_RAW could),
  // at a host whose bridge has route_localnet on, reaches the host's loopback services.
  await l.serve('host', 'tcp:9999');
  l.in('host', 'sysctl', '-q', '-w', 'net.ipv4.conf.hbr0.route_localnet=1');
  l.in('c1', 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0.route_localnet=1');
  l.ip('c1', 'route', 'add', '127.0.0.9/32', 'via', '10.88.0.1', 'dev', 'eth0', 'table', '100');
  l.ip('c1', 'rule', 'add', 'pref', '10', 'to', '127.0.0.9', 'lookup', '100');
  l.ip('c1', 'rule', 'add', 'pref', '20', 'lookup', 'local');
  l.ip('c1', 'rule', 'del', 'pref', '0', 'lookup', 'local');

  // Without hull's rules the host routes between all of them: the drops below are the rules'.
  await expectAll(l, [
    ['c1', 'tcp', '10.89.0.2', 80, '10.88.0.2'],
    ['c4', 'tcp', '10.88.0.2', 80, '10.90.0.2'],
    ['c4', 'tcp', '192.0.2.2', 80, '10.90.0.2'],
    ['c1', 'tcp', '127.0.0.9', 9999, '10.88.0.2'],
  ]);

  const fw = new Firewall({ netns: l.path('host'), table: TABLE });
  for (const n of [NET_A, NET_B, NET_I]) fw.addNetwork({ ...n, subnets: n.subnets.filter((s) => !s.includes(':')) });
  fw.addPorts('c1', [{ proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, bridge: 'hbr0' }]);
  fw.addPorts('c4', [{ proto: 'tcp', hostIp: '', hostPort: 8090, containerIp: '10.90.0.2', containerPort: 80, bridge: 'hbr2' }]);

  await expectAll(l, [
    ['c1', 'tcp', '127.0.0.9', 9999, 'TIMEOUT'],
    ['c1', 'tcp', '10.89.0.2', 80, 'TIMEOUT'],
    ['c3', 'tcp', '10.88.0.2', 80, 'TIMEOUT'],
    ['c3', 'tcp', '192.0.2.2', 80, '192.0.2.1'],
    // A published port is public: another network reaches it through a host address, and the
    // server sees that container's own address.
    ['c3', 'tcp', '10.89.0.1', 8080, '10.89.0.2'],
    // Internal: nothing out, nothing in, not even through a published port.
    ['c4', 'tcp', '192.0.2.2', 80, 'TIMEOUT'],
    ['c4', 'tcp', '10.88.0.2', 80, 'TIMEOUT'],
    ['c1', 'tcp', '10.90.0.2', 80, 'TIMEOUT'],
    ['out', 'tcp', '10.90.0.2', 80, 'TIMEOUT'],
    ['out', 'tcp', '192.0.2.1', 8090, 'TIMEOUT'],
  ]);

  for (const n of ['neta', 'netb', 'neti']) fw.removeNetwork(n);
  fw.removePorts('c1');
  fw.removePorts('c4');
  assert.deepEqual(fw.owners(), { networks: [], containers: [] });
  await expectAll(l, [['c1', 'tcp', '10.89.0.2', 80, '10.88.0.2']]);
  fw.removeAll();
});

test('a FORWARD chain with a drop policy (docker, ufw) gets accept rules that iptables still reads', async () => {
  const l = await labWithNetA();
  // What dockerd does to the host: policy drop and its own chains.
  for (const cmd of ['iptables-nft', 'ip6tables-nft']) {
    l.in('host', cmd, '-P', 'FORWARD', 'DROP');
    l.in('host', cmd, '-N', 'DOCKER-USER');
    l.in('host', cmd, '-A', 'DOCKER-USER', '-j', 'RETURN');
    l.in('host', cmd, '-A', 'FORWARD', '-j', 'DOCKER-USER');
  }
  const before4 = l.in('host', 'iptables-nft', '-S');
  const before6 = l.in('host', 'ip6tables-nft', '-S');

  const fw = new Firewall({ netns: l.path('host'), table: TABLE });
  // A network made before the drop policy would be cut off: show that first.
  fw.addNetwork(NET_B);
  await expectAll(l, [['c1', 'tcp', '192.0.2.2', 7000, 'TIMEOUT']]);

  fw.addNetwork(NET_A);
  fw.addNetwork(NET_A);
  fw.addPorts('c1', c1Ports());
  await expectAll(l, [
    ['c1', 'tcp', '192.0.2.2', 7000, '192.0.2.1'],
    ['c2', 'tcp', '2001:db8::2', 7000, '2001:db8::1'],
    ['out', 'tcp', '192.0.2.1', 8080, '192.0.2.2'],
    ['out', 'udp', '2001:db8::1', 8080, '2001:db8::2'],
    ['c2', 'tcp', '192.0.2.1', 8080, '10.88.0.1'],
  ]);

  // iptables reads the table as its own (so docker and ufw keep working), one copy per rule.
  const rules4 = l.in('host', 'iptables-nft', '-S', 'FORWARD');
  assert.deepEqual(
    rules4.split('\n').filter((r) => r.includes('hulltest network neta')),
    [
      '-A FORWARD -i hbr0 -m comment --comment "hulltest network neta" -j ACCEPT',
      '-A FORWARD -o hbr0 -m comment --comment "hulltest network neta" -j ACCEPT',
    ],
  );
  assert.match(l.in('host', 'ip6tables-nft', '-S', 'FORWARD'), /-A FORWARD -i hbr0 -m comment --comment "hulltest network neta" -j ACCEPT/);
  assert.doesNotMatch(l.in('host', 'ip6tables-nft', '-S', 'FORWARD'), /netb/, 'netb has no IPv6 subnet');
  l.in('host', 'iptables-nft-save');
  assert.deepEqual(fw.owners(), { networks: ['neta', 'netb'], containers: ['c1'] });

  fw.removeNetwork('neta');
  fw.removeNetwork('netb');
  fw.removeNetwork('netb');
  assert.equal(l.in('host', 'iptables-nft', '-S'), before4);
  assert.equal(l.in('host', 'ip6tables-nft', '-S'), before6);

  // removeAll also takes the FORWARD rules of networks it still had.
  fw.addNetwork(NET_A);
  fw.removeAll();
  assert.equal(l.in('host', 'iptables-nft', '-S'), before4);
  assert.equal(l.in('host', 'ip6tables-nft', '-S'), before6);
  assert.doesNotMatch(l.nft('host', 'list', 'tables'), new RegExp(TABLE));
});

test('rules of others stay as they were; adds replace, removals are idempotent, bad input changes nothing', () => {
  const l = newLab();
  l.netns('host');
  const host = l.path('host');
  // Someone else's tables, netavark-like and a plain inet one.
  l.nft('host', '-f', writeScript(l, [
    'add table ip nat',
    'add chain ip nat POSTROUTING { type nat hook postrouting priority srcnat; policy accept; }',
    'add rule ip nat POSTROUTING ip saddr 10.77.0.0/16 masquerade',
    'add table inet other',
    'add chain inet other forward { type filter hook forward priority 10; policy accept; }',
    'add rule inet other forward iifname "podman0" accept comment "not hull\'s"',
  ]));
  const theirs = l.nft('host', 'list', 'ruleset');

  const fw = new Firewall({ netns: host, table: TABLE });
  assert.deepEqual(fw.owners(), { networks: [], containers: [] });
  fw.removeAll();
  fw.removeNetwork('neta');
  assert.equal(l.nft('host', 'list', 'ruleset'), theirs, 'removals of nothing change nothing');

  fw.addNetwork(NET_A);
  fw.addNetwork(NET_I);
  const once = l.nft('host', 'list', 'table', 'inet', TABLE);
  fw.addNetwork(NET_A);
  fw.addNetwork(NET_I);
  assert.equal(l.nft('host', 'list', 'table', 'inet', TABLE), once, 'adding a network twice leaves one copy');

  fw.addPorts('c1', c1Ports());
  fw.addPorts('c1', c1Ports().slice(0, 1));
  const chains = l.nft('host', 'list', 'chain', 'inet', TABLE, 'ctr-c1-prerouting');
  assert.equal(chains.match(/dnat/g)?.length, 1, 'addPorts replaced the list');
  assert.doesNotMatch(l.nft('host', 'list', 'table', 'inet', TABLE), /ctr-c1-output[\s\S]*127\.0\.0\.1/);
  fw.addPorts('c2', c1Ports().slice(4, 5));
  assert.deepEqual(fw.owners(), { networks: ['neta', 'neti'], containers: ['c1', 'c2'] });

  // Refused before nft runs, and nft's own refusal is one failed transaction: nothing changes.
  const full = l.nft('host', 'list', 'ruleset');
  const bad = [
    () => fw.addNetwork({ ...NET_A, bridge: 'hbr0" accept; #' }),
    () => fw.addNetwork({ ...NET_A, subnets: ['10.88.0.0/33'] }),
    () => fw.addPorts('c1', [{ ...c1Ports()[0]!, hostPort: 65536 }]),
    () => fw.addPorts('c1', [{ ...c1Ports()[0]!, containerIp: '10.88.0.2 ' }]),
    () => fw.addPorts('c1', [c1Ports()[0]!, { ...c1Ports()[0]!, hostPort: 0 }]),
    () => fw.removePorts('c1 c2'),
  ];
  for (const b of bad) assert.throws(b, FirewallError);
  const broken = new Firewall({ netns: host, table: 'hullbroken' });
  l.nft('host', '-f', writeScript(l, [
    'add table inet hullbroken',
    'add chain inet hullbroken ctr-x-output',
    'add chain inet hullbroken other',
    'add rule inet hullbroken other jump ctr-x-output',
  ]));
  // A chain in the way that cannot go (a rule jumps to it): the adding script fails, so does
  // the replacing one, each as a whole.
  assert.throws(
    () => broken.addPorts('x', [{ ...c1Ports()[0]!, hostIp: '127.0.0.1' }]),
    (e: unknown) => e instanceof FirewallError && /publishing the ports of container x: nft failed .*nothing was changed/s.test(e.message),
  );
  l.nft('host', 'delete', 'table', 'inet', 'hullbroken');
  assert.equal(l.nft('host', 'list', 'ruleset'), full);

  fw.removePorts('c1');
  fw.removePorts('c1');
  fw.removePorts('c2');
  fw.removeNetwork('neta');
  fw.removeNetwork('neti');
  fw.removeNetwork('neti');
  assert.deepEqual(fw.owners(), { networks: [], containers: [] });
  assert.doesNotMatch(l.nft('host', 'list', 'table', 'inet', TABLE), /chain/);
  fw.removeAll();
  fw.removeAll();
  assert.equal(l.nft('host', 'list', 'ruleset'), theirs);
});

test('an nft that cannot reach its namespace is a clear error', () => {
  const l = newLab();
  const notNetns = join(l.dir, 'server.mjs');
  assert.throws(
    () => checkNftables(notNetns),
    (e: unknown) => e instanceof FirewallError && /^hull requires nftables/.test(e.message),
  );
  assert.throws(
    () => new Firewall({ netns: notNetns, table: TABLE }).removePorts('c1'),
    (e: unknown) => e instanceof FirewallError && /^removing the published ports of container c1: nft failed/.test(e.message),
  );
  assert.ok(readFileSync(notNetns, 'utf8').length > 0);
});

function writeScript(l: Lab, lines: string[]): string {
  const path = join(l.dir, 'theirs.nft');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
