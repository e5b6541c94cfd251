// The `hull network` verbs (create, ls, inspect, rm, prune, connect, disconnect), `hull port`,
// the network flags of run/create, and networks in `inspect` and `system prune`, through the real
// CLI bundle as root: docker's output, messages and exit codes, bridges made and removed on the
// host, and after every refusal nothing made (no network row, no bridge, no container).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { engine, firewallTable, type Engine } from './helpers/engine.ts';

/** Subnets of this test process: 10.N.x.0/24, N from the pid, so that parallel test files rarely meet. */
const NET = 200 + (process.pid % 50);
const subnet = (x: number) => `10.${NET}.${x}.0/24`;
const address = (x: number, host: number) => `10.${NET}.${x}.${host}`;

/** Runs body with a fresh engine; its destroy() asserts that nothing (mount, process, link, rule) is left. */
async function withEngine(body: (e: Engine) => void | Promise<void>, opts: { baseImage?: boolean } = {}): Promise<void> {
  const e = engine(opts);
  try {
    await body(e);
  } finally {
    e.destroy();
  }
}

/** Asserts a refusal: the exit status, stderr exactly, and nothing on stdout. */
function refuses(e: Engine, args: string[], status: number, stderr: string | RegExp, input?: string): void {
  const r = e.run(args, input === undefined ? {} : { input });
  assert.equal(r.status, status, `hull ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  if (typeof stderr === 'string') assert.equal(r.stderr, stderr);
  else assert.match(r.stderr, stderr);
  assert.equal(r.stdout, '', `hull ${args.join(' ')} printed`);
}

function inspectNet(e: Engine, ref: string): Record<string, any> {
  return JSON.parse(e.ok(['network', 'inspect', ref]))[0];
}

function names(e: Engine): string[] {
  return e.ok(['network', 'ls', '--format', '{{.Name}}']).split('\n');
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { encoding: 'utf8' }).status === 0;
}

/** The firewall's rules of this engine that name a bridge (none once its network is gone). */
function firewallMentions(e: Engine, bridge: string): boolean {
  const r = spawnSync('nft', ['list', 'table', 'inet', firewallTable(e)], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(`"${bridge}"`);
}

const BUILTINS = ['bridge', 'host', 'none'];

describe('network ls', () => {
  it('lists the three built-in networks in docker\'s table, sorted by name', () => withEngine((e) => {
    const lines = e.ok(['network', 'ls']).split('\n');
    assert.match(lines[0]!, /^NETWORK ID {5}NAME {6}DRIVER {4}SCOPE$/);
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, /^[0-9a-f]{12} {3}bridge {4}bridge {4}local$/);
    assert.match(lines[2]!, /^[0-9a-f]{12} {3}host {6}host {6}local$/);
    assert.match(lines[3]!, /^[0-9a-f]{12} {3}none {6}null {6}local$/);
    assert.equal(e.ok(['network', 'list', '-q']).split('\n').filter((l) => /^[0-9a-f]{12}$/.test(l)).length, 3);
    assert.equal(e.ok(['network', 'ls', '-q', '--no-trunc']).split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l)).length, 3);
    // the ids are the same every time: the built-ins are made once
    assert.equal(e.ok(['network', 'ls', '-q']), e.ok(['network', 'ls', '-q']));
  }, { baseImage: false }));

  it('sorts naturally, filters, and formats as docker', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(10), '--label', 'tier=web', 'net10']);
    e.ok(['network', 'create', '--subnet', subnet(2), '--internal', 'net2']);
    assert.deepEqual(names(e), ['bridge', 'host', 'net2', 'net10', 'none']);
    assert.equal(e.ok(['network', 'ls', '-f', 'driver=bridge', '--format', '{{.Name}}']), 'bridge\nnet2\nnet10');
    assert.equal(e.ok(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), 'net2\nnet10');
    assert.equal(e.ok(['network', 'ls', '-f', 'type=builtin', '-q']).split('\n').length, 3);
    assert.equal(e.ok(['network', 'ls', '-f', 'label=tier=web', '--format', '{{.Name}} {{.Labels}} {{.Label "tier"}}']), 'net10 tier=web web');
    assert.equal(e.ok(['network', 'ls', '-f', 'name=net1', '--format', '{{.Name}}']), 'net10');
    assert.equal(e.ok(['network', 'ls', '-f', 'dangling=true', '--format', '{{.Name}}']), 'net2\nnet10');
    assert.equal(e.ok(['network', 'ls', '-f', 'name=net2', '--format', '{{.Name}} {{.Internal}} {{.IPv4}} {{.IPv6}}']), 'net2 true true false');
    const json = JSON.parse(e.ok(['network', 'ls', '-f', 'name=net2', '--format', 'json']));
    assert.deepEqual(Object.keys(json).sort(), ['CreatedAt', 'Driver', 'ID', 'IPv4', 'IPv6', 'Internal', 'Labels', 'Name', 'Scope']);
    assert.match(json.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    assert.equal(e.ok(['network', 'ls', '-f', 'name=net2', '--format', 'raw']).split('\n')[1], 'name: net2');
    assert.match(e.ok(['network', 'ls', '-q', '-f', 'name=net2', '--format', 'raw']), /^network_id: [0-9a-f]{12}$/);
    assert.match(e.ok(['network', 'ls', '-f', 'name=net2', '--format', 'table {{.Name}}\t{{.Internal}}']), /^NAME {6}INTERNAL\nnet2 {6}true$/);
    refuses(e, ['network', 'ls', '-f', 'colour=red'], 1, "Error response from daemon: invalid filter 'colour'\n");
    refuses(e, ['network', 'ls', '-f', 'type=odd'], 1, "Error response from daemon: invalid filter: 'type'='odd'\n");
    const bad = e.run(['network', 'ls', '-f', 'nokey']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /bad format of filter \(expected name=value\)/);
    e.ok(['network', 'rm', 'net2', 'net10']);
  }, { baseImage: false }));
});

describe('network create, inspect and rm', () => {
  it('makes a bridge with the pools asked for, shows docker\'s document, and rm takes it all away', () => withEngine((e) => {
    const id = e.ok(['network', 'create', '--subnet', subnet(1), '--gateway', address(1, 254), '--ip-range', `10.${NET}.1.128/25`,
      '--label', 'a=1', '--label', 'b', '-o', 'com.docker.network.driver.mtu=1400', '--attachable', 'web']);
    assert.match(id, /^[0-9a-f]{64}$/);
    const n = inspectNet(e, 'web');
    assert.deepEqual(Object.keys(n), ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable',
      'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']);
    assert.equal(n.Id, id);
    assert.match(n.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.deepEqual(n.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: subnet(1), IPRange: `10.${NET}.1.128/25`, Gateway: address(1, 254) }] });
    assert.deepEqual(n.Labels, { a: '1', b: '' });
    assert.equal(n.Options['com.docker.network.driver.mtu'], '1400');
    assert.deepEqual([n.Scope, n.Driver, n.EnableIPv4, n.EnableIPv6, n.Internal, n.Attachable, n.Containers], ['local', 'bridge', true, false, false, true, {}]);
    const bridge = n.Options['com.docker.network.bridge.name'] as string;
    assert.ok(linkExists(bridge), `bridge ${bridge} made`);
    const addr = JSON.parse(spawnSync('ip', ['-j', 'addr', 'show', 'dev', bridge], { encoding: 'utf8' }).stdout)[0];
    assert.deepEqual(addr.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`), [`${address(1, 254)}/24`]);
    assert.equal(addr.mtu, 1400);
    // by id, id prefix, and through the generic inspect
    assert.equal(inspectNet(e, id).Name, 'web');
    assert.equal(inspectNet(e, id.slice(0, 10)).Name, 'web');
    assert.equal(e.ok(['inspect', '--format', '{{.Name}} {{.Driver}} {{index .Options "com.docker.network.driver.mtu"}}', 'web']), 'web bridge 1400');
    assert.equal(e.ok(['inspect', '--type', 'network', '-f', '{{.Id}}', id.slice(0, 12)]), id);
    assert.equal(e.ok(['network', 'inspect', '-v', '-f', '{{.Name}} {{.Labels.a}} {{json .IPAM.Config}}', 'web']),
      `web 1 [{"Subnet":"${subnet(1)}","IPRange":"10.${NET}.1.128/25","Gateway":"${address(1, 254)}"}]`);
    assert.match(e.ok(['network', 'inspect', '-f', '{{.Created}}', 'web']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    assert.equal(e.ok(['network', 'rm', 'web']), 'web');
    assert.ok(!linkExists(bridge), `bridge ${bridge} removed`);
    assert.ok(!firewallMentions(e, bridge), 'no firewall rule names the bridge');
    assert.deepEqual(names(e), BUILTINS);
  }, { baseImage: false }));

  it('makes a dual-stack network with --ipv6 and an IPv6-only one with --ipv4=false', () => withEngine((e) => {
    e.ok(['network', 'create', '--ipv6', '--subnet', subnet(3), '--subnet', `fd${NET.toString(16)}:3::/64`, 'dual']);
    const dual = inspectNet(e, 'dual');
    assert.deepEqual([dual.EnableIPv4, dual.EnableIPv6], [true, true]);
    assert.deepEqual(dual.IPAM.Config.map((p: { Subnet: string }) => p.Subnet).sort(), [subnet(3), `fd${NET.toString(16)}:3::/64`].sort());
    e.ok(['network', 'create', '--ipv4=false', '--ipv6', '--subnet', `fd${NET.toString(16)}:4::/64`, 'six']);
    const six = inspectNet(e, 'six');
    assert.deepEqual([six.EnableIPv4, six.EnableIPv6, six.IPAM.Config], [false, true, [{ Subnet: `fd${NET.toString(16)}:4::/64`, Gateway: `fd${NET.toString(16)}:4::1` }]]);
    e.ok(['network', 'rm', 'dual', 'six']);
  }, { baseImage: false }));

  it('refuses bad networks with docker\'s messages and makes nothing', () => withEngine(async (e) => {
    e.ok(['network', 'create', '--subnet', subnet(5), 'first']);
    const bridges = () =>
      new Set((JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout || '[]') as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith('hull-')));
    const bridgesBefore = bridges();
    refuses(e, ['network', 'create', '--subnet', `10.${NET}.6.0/33`, 'n'], 1,
      `Error response from daemon: invalid network config:\ninvalid subnet 10.${NET}.6.0/33: invalid CIDR block notation\n`);
    refuses(e, ['network', 'create', '--subnet', `10.${NET}.6.7/24`, 'n'], 1,
      `Error response from daemon: invalid network config:\ninvalid subnet 10.${NET}.6.7/24: it should be ${subnet(6)}\n`);
    refuses(e, ['network', 'create', '--subnet', `10.${NET}.5.128/25`, 'n'], 1,
      'Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n');
    refuses(e, ['network', 'create', '--subnet', subnet(6), '--gateway', address(9, 1), 'n'], 1, `no matching subnet for gateway ${address(9, 1)}\n`);
    refuses(e, ['network', 'create', '--subnet', subnet(6), '--ip-range', `10.${NET}.9.0/25`, 'n'], 1, `no matching subnet for range 10.${NET}.9.0/25\n`);
    refuses(e, ['network', 'create', '--gateway', address(6, 1), 'n'], 1, 'every ip-range or gateway must have a corresponding subnet\n');
    refuses(e, ['network', 'create', '--subnet', subnet(6), '--subnet', `10.${NET}.6.0/25`, 'n'], 1, 'multiple overlapping subnet configuration is not supported\n');
    refuses(e, ['network', 'create', 'first'], 1, 'Error response from daemon: network with name first already exists\n');
    refuses(e, ['network', 'create', 'bridge'], 1, 'Error response from daemon: network with name bridge already exists\n');
    refuses(e, ['network', 'create', '-d', 'nosuchdriver', 'n'], 1, 'Error response from daemon: plugin "nosuchdriver" not found\n');
    refuses(e, ['network', 'create', '--ipam-driver', 'nosuchipam', 'n'], 1, 'Error response from daemon: plugin "nosuchipam" not found\n');
    refuses(e, ['network', 'create', '-d', 'host', 'n'], 1, 'Error response from daemon: only one instance of "host" network is allowed\n');
    refuses(e, ['network', 'create', '--subnet', subnet(6), '--aux-address', `router=${address(6, 2)}`, 'n'], 1,
      'Error response from daemon: not supported by hull: --aux-address: hull reserves no auxiliary addresses\n');
    refuses(e, ['network', 'create', '--ingress', 'n'], 1, 'Error response from daemon: not supported by hull: --ingress: routing-mesh networks need a swarm\n');
    refuses(e, ['network', 'create', '--ipv6=maybe', 'n'], 125, 'Error: invalid argument "maybe" for "--ipv6" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n');
    refuses(e, ['network', 'create', '--subnet', 'a"b', 'n'], 125, 'Error: invalid argument "a\\"b" for "--subnet" flag: parse error on line 1, column 2: bare " in non-quoted-field\n');
    refuses(e, ['network', 'create', '--label', '=x', 'n'], 125, /invalid label '=x': empty name/);
    refuses(e, ['network', 'create', '-o', `com.docker.network.bridge.name=${'x'.repeat(16)}`, 'n'], 1,
      `Error response from daemon: invalid bridge name "${'x'.repeat(16)}": at most 15 of [a-zA-Z0-9_.-]\n`);
    // the host's own link is never taken over (network rm would delete it)
    refuses(e, ['network', 'create', '-o', 'com.docker.network.bridge.name=lo', 'n'], 1,
      'Error response from daemon: bridge name lo is already in use on the host by a link hull did not make\n');
    assert.equal(e.run(['network', 'create']).status, 1);
    assert.equal(e.run(['network', 'create', 'a', 'b']).status, 1);
    assert.deepEqual(names(e), ['bridge', 'first', 'host', 'none']);
    // other test files make and remove bridges meanwhile: a new one may be theirs for a while,
    // but one these refusals leaked would stay
    let added: string[] = [];
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 250))) {
      added = [...bridges()].filter((n) => !bridgesBefore.has(n));
      if (added.length === 0 || Date.now() > deadline) break;
    }
    assert.deepEqual(added, [], 'no bridge is left by a refused create');
    e.ok(['network', 'rm', 'first']);
  }, { baseImage: false }));

  it('inspect prints what it found, then what it did not, and exits 1', () => withEngine((e) => {
    const r = e.run(['network', 'inspect', 'bridge', 'nope', '-f', '{{.Name}}']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, 'bridge\n', 'Error response from daemon: network nope not found\n']);
    const none = e.run(['network', 'inspect', 'nope']);
    assert.deepEqual([none.status, none.stdout, none.stderr], [1, '[]\n', 'Error response from daemon: network nope not found\n']);
    const typed = e.run(['inspect', '--type', 'network', 'nope']);
    assert.deepEqual([typed.status, typed.stderr], [1, 'Error response from daemon: network nope not found\n']);
    const any = e.run(['inspect', 'nope']);
    assert.deepEqual([any.status, any.stderr], [1, 'Error: No such object: nope\n']);
    const parse = e.run(['network', 'inspect', '-f', '{{.Name', 'bridge']);
    assert.equal(parse.status, 64);
    assert.equal(parse.stdout, '');
  }, { baseImage: false }));

  it('rm refuses the built-in networks and missing ones, each in turn, and -f ignores missing ones', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(7), 'a']);
    e.ok(['network', 'create', '--subnet', subnet(8), 'b']);
    const r = e.run(['network', 'rm', 'a', 'bridge', 'nope', 'b']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'a\nb\n');
    assert.equal(r.stderr, 'Error response from daemon: bridge is a pre-defined network and cannot be removed\nError response from daemon: network nope not found\n');
    refuses(e, ['network', 'remove', 'host'], 1, 'Error response from daemon: host is a pre-defined network and cannot be removed\n');
    refuses(e, ['network', 'rm', '-f', 'nope', 'none'], 1, 'Error response from daemon: none is a pre-defined network and cannot be removed\n');
    const quiet = e.run(['network', 'rm', '-f', 'nope']);
    assert.deepEqual([quiet.status, quiet.stdout, quiet.stderr], [0, '', '']);
    assert.equal(e.run(['network', 'rm']).status, 1);
    assert.deepEqual(names(e), BUILTINS);
  }, { baseImage: false }));
});

describe('networks in use', () => {
  it('rm refuses a network a running container is on, and takes it once the container is gone', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(11), 'busy']);
    const bridge = inspectNet(e, 'busy').Options['com.docker.network.bridge.name'] as string;
    e.ok(['run', '-d', '--name', 'worker', '--network', 'busy', 'busybox', 'sleep', '1000']);
    const ep = JSON.parse(e.ok(['inspect', 'worker']))[0].NetworkSettings.Networks.busy;
    refuses(e, ['network', 'rm', 'busy'], 1,
      `Error response from daemon: error while removing network: network busy has active endpoints (name:"worker" id:"${ep.EndpointID.slice(0, 12)}")\n`);
    assert.ok(linkExists(bridge));
    assert.ok(names(e).includes('busy'));
    // a stopped container does not hold its network, as in docker
    e.ok(['create', '--name', 'idle', '--network', 'busy', 'busybox', 'true']);
    e.ok(['rm', '-f', 'worker']);
    assert.equal(e.ok(['network', 'rm', 'busy']), 'busy');
    assert.ok(!linkExists(bridge));
    const start = e.run(['start', 'idle']);
    assert.equal(start.status, 1);
    assert.match(start.stderr, /network busy not found/);
    e.ok(['rm', 'idle']);
  }));

  it('prune asks, then removes every custom network no container uses, and says which', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(12), 'used']);
    e.ok(['network', 'create', '--subnet', subnet(13), '--label', 'keep=yes', 'spare1']);
    e.ok(['network', 'create', '--subnet', subnet(14), 'spare2']);
    const bridge2 = inspectNet(e, 'spare2').Options['com.docker.network.bridge.name'] as string;
    e.ok(['run', '-d', '--name', 'user', '--network', 'used', 'busybox', 'sleep', '1000']);
    const question = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';
    const no = e.run(['network', 'prune'], { input: 'n\n' });
    assert.deepEqual([no.status, no.stdout, no.stderr], [0, question, '']);
    assert.deepEqual(names(e), ['bridge', 'host', 'none', 'spare1', 'spare2', 'used']);
    refuses(e, ['network', 'prune', '-f', '--filter', 'colour=red'], 1, "Error response from daemon: invalid filter 'colour'\n");
    const labelled = e.run(['network', 'prune', '-f', '--filter', 'label=keep=yes']);
    assert.deepEqual([labelled.status, labelled.stdout], [0, 'Deleted Networks:\nspare1\n\n']);
    const yes = e.run(['network', 'prune'], { input: 'y\n' });
    assert.deepEqual([yes.status, yes.stdout], [0, `${question}Deleted Networks:\nspare2\n\n`]);
    assert.ok(!linkExists(bridge2));
    const nothing = e.run(['network', 'prune', '-f']);
    assert.deepEqual([nothing.status, nothing.stdout], [0, '']);
    assert.deepEqual(names(e), ['bridge', 'host', 'none', 'used']);
    e.ok(['rm', '-f', 'user']);
  }));

  it('system prune asks about networks and removes the unused ones after the stopped containers', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(15), 'leftover']);
    e.ok(['create', '--name', 'stopped', '--network', 'leftover', 'busybox', 'true']);
    const id = e.ok(['inspect', '-f', '{{.Id}}', 'stopped']);
    const r = e.run(['system', 'prune'], { input: 'y\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n\n'
      + `Are you sure you want to continue? [y/N] Deleted Containers:\n${id}\n\nDeleted Networks:\nleftover\n\nTotal reclaimed space: 0B\n`);
    assert.deepEqual(names(e), BUILTINS);
  }));
});

describe('network connect and disconnect', () => {
  it('a created container records the network and joins it when it starts', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(20), 'one']);
    e.ok(['network', 'create', '--subnet', subnet(21), 'two']);
    e.ok(['create', '--name', 'late', '--network', 'one', 'busybox', 'sleep', '1000']);
    assert.equal(e.ok(['network', 'connect', '--alias', 'extra,more', '--ip', address(21, 50), 'two', 'late']), '');
    const eps = JSON.parse(e.ok(['inspect', 'late']))[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(eps), ['one', 'two']);
    assert.deepEqual([eps.two.Aliases, eps.two.IPAMConfig], [['extra', 'more'], { IPv4Address: address(21, 50) }]);
    e.ok(['start', 'late']);
    const addrs = e.ok(['exec', 'late', 'ip', '-o', '-4', 'addr', 'show']);
    assert.match(addrs, new RegExp(`eth0\\s+inet 10\\.${NET}\\.20\\.\\d+/24`));
    assert.match(addrs, new RegExp(`eth1\\s+inet 10\\.${NET}\\.21\\.50/24`));
    const two = inspectNet(e, 'two');
    const id = e.ok(['inspect', '-f', '{{.Id}}', 'late']);
    assert.equal(two.Containers[id].Name, 'late');
    assert.equal(two.Containers[id].IPv4Address, `${address(21, 50)}/24`);
    e.ok(['network', 'disconnect', 'two', 'late']);
    assert.doesNotMatch(e.ok(['exec', 'late', 'ip', '-o', 'link']), /eth1/);
    assert.deepEqual(inspectNet(e, 'two').Containers, {});
    assert.deepEqual(Object.keys(JSON.parse(e.ok(['inspect', 'late']))[0].NetworkSettings.Networks), ['one']);
    e.ok(['rm', '-f', 'late']);
    e.ok(['network', 'rm', 'one', 'two']);
  }));

  it('a running container gets the interface at once, and loses it on disconnect', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(22), 'hot']);
    e.ok(['run', '-d', '--name', 'live', 'busybox', 'sleep', '1000']);
    e.ok(['network', 'connect', '--ip', address(22, 9), 'hot', 'live']);
    assert.match(e.ok(['exec', 'live', 'ip', '-o', '-4', 'addr', 'show', 'eth1']), new RegExp(`inet 10\\.${NET}\\.22\\.9/24`));
    e.ok(['run', '--rm', '--network', 'hot', 'busybox', 'ping', '-c', '1', '-W', '5', address(22, 9)]);
    e.ok(['network', 'disconnect', 'hot', 'live']);
    assert.doesNotMatch(e.ok(['exec', 'live', 'ip', '-o', 'link']), /eth1/);
    e.ok(['rm', '-f', 'live']);
    e.ok(['network', 'rm', 'hot']);
  }));

  it('refuses with docker\'s messages and changes nothing', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(23), 'n1']);
    e.ok(['network', 'create', '--subnet', subnet(24), 'n2']);
    e.ok(['create', '--name', 'cc', '--network', 'n1', 'busybox', 'true']);
    e.ok(['create', '--name', 'hh', '--network', 'host', 'busybox', 'true']);
    const id = e.ok(['inspect', '-f', '{{.Id}}', 'cc']);
    const networksOf = () => Object.keys(JSON.parse(e.ok(['inspect', 'cc']))[0].NetworkSettings.Networks);
    refuses(e, ['network', 'connect', 'n2', 'nope'], 1, 'Error response from daemon: No such container: nope\n');
    refuses(e, ['network', 'connect', 'nope', 'cc'], 1, 'Error response from daemon: network nope not found\n');
    refuses(e, ['network', 'connect', 'n1', 'cc'], 1, 'Error response from daemon: endpoint with name cc already exists in network n1\n');
    refuses(e, ['network', 'connect', '--alias', 'x', 'bridge', 'cc'], 1,
      'Error response from daemon: invalid endpoint settings:\nnetwork-scoped alias is supported only for containers in user defined networks\n');
    refuses(e, ['network', 'connect', '--ip', '172.17.9.9', 'bridge', 'cc'], 1,
      'Error response from daemon: invalid endpoint settings:\nuser specified IP address is supported on user defined networks only\n');
    refuses(e, ['network', 'connect', '--ip', `10.${NET}.24.300`, 'n2', 'cc'], 1,
      `Error response from daemon: invalid endpoint settings:\ninvalid IPv4 address: 10.${NET}.24.300\n`);
    refuses(e, ['network', 'connect', 'n2', 'hh'], 1, 'Error response from daemon: container cannot be disconnected from host network or connected to host network\n');
    refuses(e, ['network', 'connect', '--driver-opt', 'novalue', 'n2', 'cc'], 1, 'invalid key/value pair format in driver options\n');
    refuses(e, ['network', 'connect', '--link', 'other:alias', 'n2', 'cc'], 1,
      'Error response from daemon: not supported by hull: --link: legacy links (containers on a user-defined network reach each other by name)\n');
    refuses(e, ['network', 'connect', '--gw-priority', 'x', 'n2', 'cc'], 125, 'Error: invalid argument "x" for "--gw-priority" flag: strconv.ParseInt: parsing "x": invalid syntax\n');
    refuses(e, ['network', 'disconnect', 'n2', 'cc'], 1, `Error response from daemon: container ${id} is not connected to network n2\n`);
    refuses(e, ['network', 'disconnect', 'nope', 'cc'], 1, 'Error response from daemon: network nope not found\n');
    const forced = e.run(['network', 'disconnect', '-f', 'nope', 'cc']);
    assert.deepEqual([forced.status, forced.stdout, forced.stderr], [0, '', '']);
    assert.equal(e.run(['network', 'connect', 'n2']).status, 1);
    assert.deepEqual(networksOf(), ['n1']);
    e.ok(['rm', 'cc', 'hh']);
    e.ok(['network', 'rm', 'n1', 'n2']);
  }));
});

describe('run and create: network flags', () => {
  it('joins several networks, the first with the alias, address and MAC asked for', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(30), 'alpha']);
    e.ok(['network', 'create', '--subnet', subnet(31), 'beta']);
    e.ok(['create', '--name', 'multi', '--network', 'alpha', '--net', 'name=beta,alias=b1', '--network-alias', 'a1', '--ip', address(30, 30),
      '--mac-address', '02:42:0a:00:00:1e', 'busybox', 'sleep', '1000']);
    const c = JSON.parse(e.ok(['inspect', 'multi']))[0];
    assert.equal(c.HostConfig.NetworkMode, 'alpha');
    const eps = c.NetworkSettings.Networks;
    assert.deepEqual(Object.keys(eps), ['alpha', 'beta']);
    assert.deepEqual([eps.alpha.Aliases, eps.alpha.IPAMConfig, eps.alpha.MacAddress], [['a1'], { IPv4Address: address(30, 30) }, '02:42:0a:00:00:1e']);
    assert.deepEqual([eps.beta.Aliases, eps.beta.IPAMConfig], [['b1'], null]);
    e.ok(['start', 'multi']);
    const links = e.ok(['exec', 'multi', 'ip', '-o', 'addr', 'show']);
    assert.match(links, new RegExp(`eth0\\s+inet 10\\.${NET}\\.30\\.30/24`));
    assert.match(links, new RegExp(`eth1\\s+inet 10\\.${NET}\\.31\\.\\d+/24`));
    assert.match(e.ok(['exec', 'multi', 'cat', '/sys/class/net/eth0/address']), /^02:42:0a:00:00:1e$/);
    // the alias answers on its network
    e.ok(['run', '--rm', '--network', 'alpha', 'busybox', 'ping', '-c', '1', '-W', '5', 'a1']);
    e.ok(['rm', '-f', 'multi']);
    e.ok(['network', 'rm', 'alpha', 'beta']);
  }));

  it('refuses what cannot apply, with docker\'s messages, and makes no container', () => withEngine((e) => {
    e.ok(['network', 'create', '--subnet', subnet(32), 'gamma']);
    const cases: [string[], RegExp][] = [
      [['--network-alias', 'x'], /network-scoped aliases are only supported for user-defined networks/],
      [['--ip', '172.17.0.50'], /invalid endpoint settings:\nuser specified IP address is supported on user defined networks only/],
      [['--network', 'nope'], /network nope not found/],
      [['--network', 'gamma', '--network', 'gamma'], /network "gamma" is specified multiple times/],
      [['--network', 'gamma', '--network', 'none'], /conflicting options: cannot attach both user-defined and non-user-defined network-modes/],
      [['--network', 'gamma', '--ip', 'not-an-ip'], /invalid endpoint settings:\ninvalid IPv4 address: not-an-ip/],
      [['--network', 'gamma', '--mac-address', 'zz'], /zz is not a valid mac address/],
      [['--network', 'name=gamma,alias=x', '--network-alias', 'y'], /conflicting options: cannot specify both --network-alias and per-network alias/],
      [['--network', 'name=gamma,foo=bar'], /invalid argument "name=gamma,foo=bar" for "--network" flag: invalid field key foo/],
    ];
    for (const [flags, message] of cases) {
      for (const verb of ['run', 'create']) {
        const r = e.run([verb, ...flags, 'busybox', 'true']);
        assert.equal(r.status, 125, `${verb} ${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, `${verb} ${flags.join(' ')}`);
      }
    }
    assert.equal(e.ok(['ps', '-aq']), '');
    assert.deepEqual(inspectNet(e, 'gamma').Containers, {});
    e.ok(['network', 'rm', 'gamma']);
  }));
});

describe('port', () => {
  it('lists a running container\'s published ports as docker, and one port\'s addresses', () => withEngine((e) => {
    e.ok(['run', '-d', '--name', 'pub', '-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp', '--expose', '9000', 'busybox', 'sleep', '1000']);
    const ports = JSON.parse(e.ok(['inspect', 'pub']))[0].NetworkSettings.Ports;
    const tcp = ports['80/tcp'][0].HostPort as string;
    const udp = ports['53/udp'][0].HostPort as string;
    assert.equal(ports['9000/tcp'], null);
    const lines = [`53/udp -> 127.0.0.1:${udp}`, `80/tcp -> 127.0.0.1:${tcp}`];
    assert.equal(e.ok(['port', 'pub']), lines.join('\n'));
    assert.equal(e.ok(['container', 'port', 'pub', '80']), `127.0.0.1:${tcp}`);
    assert.equal(e.ok(['port', 'pub', '80/tcp']), `127.0.0.1:${tcp}`);
    assert.equal(e.ok(['port', 'pub', '53/udp']), `127.0.0.1:${udp}`);
    refuses(e, ['port', 'pub', '53'], 1, "Error: No public port '53' published for pub\n");
    refuses(e, ['port', 'pub', '9000'], 1, "Error: No public port '9000' published for pub\n");
    refuses(e, ['port', 'pub', 'http'], 1, 'Error: invalid port (http): strconv.ParseUint: parsing "http": invalid syntax\n');
    refuses(e, ['port', 'pub', '70000/tcp'], 1, 'Error: invalid port (70000): strconv.ParseUint: parsing "70000": value out of range\n');
    refuses(e, ['port', 'nope'], 1, 'Error response from daemon: No such container: nope\n');
    assert.equal(e.run(['port']).status, 1);
    e.ok(['stop', '-t', '0', 'pub']);
    // a stopped container has no published ports
    const stopped = e.run(['port', 'pub']);
    assert.deepEqual([stopped.status, stopped.stdout], [0, '']);
    refuses(e, ['port', 'pub', '80'], 1, "Error: No public port '80' published for pub\n");
    e.ok(['rm', 'pub']);
  }));
});
