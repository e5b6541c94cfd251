// Input that would change an nft script's meaning, or make a rule that cannot work, is refused
// with a message that names the field, and before any nft process runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Firewall, FirewallError } from '../../src/network/firewall/index.ts';
import type { NetworkFirewall, PortForward } from '../../src/network/firewall/index.ts';
import { checkForwards, checkNetwork, checkTableName, parseSubnet } from '../../src/network/firewall/validate.ts';

function refuses(fn: () => unknown, why: RegExp, label: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FirewallError && why.test(e.message), label);
}

const net: NetworkFirewall = { id: 'n1', bridge: 'hull0', subnets: ['10.88.0.0/16'], internal: false };
const port: PortForward = { proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, bridge: 'hull0' };

test('bridge names that could break out of an nft string are refused', () => {
  const bad: unknown[] = ['br"0', 'br 0', 'br0\n', "br'0", 'br*', 'a/b', '', '.', '..', 'abcdefghijklmnop', 'br\\0', 'br;0', 7, null];
  for (const bridge of bad) {
    refuses(() => checkNetwork({ ...net, bridge } as NetworkFirewall), /^network n1: invalid bridge name/, `bridge ${JSON.stringify(bridge)}`);
    refuses(() => checkForwards('c1', [{ ...port, bridge } as PortForward]), /^container c1: port 0: invalid bridge name/, `port bridge ${JSON.stringify(bridge)}`);
  }
  assert.equal(checkNetwork({ ...net, bridge: 'br-0123456789a' }).bridge, 'br-0123456789a');
});

test('network and container ids are checked before they become chain names', () => {
  const fw = new Firewall({ netns: '/nonexistent/netns/for/test' });
  for (const id of ['', 'a b', 'a"b', '-x', 'x\n', 'a'.repeat(65), 'a/b', 'é']) {
    refuses(() => checkNetwork({ ...net, id }), /^invalid network id/, `network id ${JSON.stringify(id)}`);
    refuses(() => fw.addPorts(id, [port]), /^invalid container id/, `container id ${JSON.stringify(id)}`);
  }
  refuses(() => new Firewall().removePorts('a"b'), /^invalid container id "a\\"b"/, 'removePorts');
  refuses(() => new Firewall().removeNetwork(''), /^invalid network id ""/, 'removeNetwork');
});

test('bad subnets say which network and what is wrong', () => {
  const cases: [unknown, RegExp][] = [
    ['10.88.0.0', /invalid subnet "10\.88\.0\.0": expected CIDR/],
    ['10.88.0.0/33', /prefix length 33 is over 32/],
    ['fd00::/129', /prefix length 129 is over 128/],
    ['10.88.0/16', /invalid IP address "10\.88\.0"/],
    ['10.088.0.0/16', /invalid IP address/],
    ['fe80::%eth0/64', /invalid IP address/],
    ['10.88.0.0/-1', /expected CIDR/],
    ['10.88.0.0/16 ', /expected CIDR/],
    ['10.88.0.0/16/1', /expected CIDR/],
    [42, /expected CIDR/],
  ];
  for (const [subnet, why] of cases) {
    refuses(() => checkNetwork({ ...net, subnets: [subnet] } as NetworkFirewall), why, `subnet ${JSON.stringify(subnet)}`);
  }
  refuses(() => checkNetwork({ ...net, subnets: '10.0.0.0/8' } as unknown as NetworkFirewall), /subnets must be a list/, 'string subnets');
  refuses(() => checkNetwork({ ...net, internal: 'no' } as unknown as NetworkFirewall), /internal must be true or false/, 'internal');
  assert.deepEqual(parseSubnet('FD00:88::/64', 'x'), { family: 6, text: 'fd00:88::/64' });
});

test('bad ports and addresses are refused, each naming the port it is in', () => {
  const cases: [Partial<PortForward> | Record<string, unknown>, RegExp][] = [
    [{ hostPort: 0 }, /host port: invalid port 0: expected an integer from 1 to 65535/],
    [{ hostPort: 65536 }, /host port: invalid port 65536/],
    [{ containerPort: 0 }, /container port: invalid port 0/],
    [{ containerPort: 1.5 }, /container port: invalid port 1\.5/],
    [{ hostPort: '80' }, /host port: invalid port "80"/],
    [{ proto: 'sctp' }, /invalid protocol "sctp": expected tcp or udp/],
    [{ containerIp: '10.88.0.256' }, /container address: invalid IP address "10\.88\.0\.256"/],
    [{ containerIp: '10.88.0.2/32' }, /container address: invalid IP address/],
    [{ containerIp: '0.0.0.0' }, /is not one address/],
    [{ containerIp: '::' }, /is not one address/],
    [{ hostIp: 'localhost' }, /host address: invalid IP address "localhost"/],
    [{ hostIp: ' 127.0.0.1' }, /host address: invalid IP address/],
    [{ hostIp: '::1', containerIp: 'fd00::2' }, /cannot forward from IPv6 loopback/],
    [{ hostIp: '::' }, /host address "::" is IPv6 but container address "10\.88\.0\.2" is IPv4/],
    [{ family: 6 }, /family 6 does not match container address "10\.88\.0\.2"/],
  ];
  for (const [over, why] of cases) {
    refuses(() => checkForwards('c1', [port, { ...port, hostPort: 9000, ...over } as PortForward]), new RegExp(`^container c1: port 1: .*${why.source}`), JSON.stringify(over));
  }
});

test('two forwards that would catch the same packets are refused', () => {
  refuses(
    () => checkForwards('c1', [port, { ...port, containerPort: 81 }]),
    /ports 0 and 1 both publish tcp port 8080 on every IPv4 address/,
    'same port',
  );
  refuses(() => checkForwards('c1', [port, { ...port, hostIp: '0.0.0.0' }]), /ports 0 and 1/, '0.0.0.0 is every address');
  // Other protocol, family or host address: no conflict.
  assert.equal(
    checkForwards('c1', [
      port,
      { ...port, proto: 'udp' },
      { ...port, hostIp: '127.0.0.1' },
      { ...port, containerIp: 'fd00::2' },
    ]).length,
    4,
  );
});

test('table names and namespace paths are checked when the firewall is made', () => {
  for (const table of ['', 'a b', '1hull', 'hull"', 'x'.repeat(33)]) {
    refuses(() => checkTableName(table), /^invalid nftables table name/, `table ${JSON.stringify(table)}`);
    refuses(() => new Firewall({ table }), /^invalid nftables table name/, `Firewall table ${JSON.stringify(table)}`);
  }
  refuses(() => new Firewall({ netns: 'run/netns/x' }), /invalid network namespace path "run\/netns\/x": expected an absolute path/, 'relative netns');
  assert.equal(new Firewall().table, 'hull');
  assert.equal(new Firewall({ table: 'hull-1a2b3c' }).table, 'hull-1a2b3c');
});

test('hostile input is refused before nft runs: a missing namespace is never reached', () => {
  // nsenter would fail on this path; a validation message proves no process was started.
  const fw = new Firewall({ netns: '/nonexistent/netns/for/test', table: 'hulltest' });
  refuses(() => fw.addNetwork({ ...net, bridge: 'br"; flush ruleset; "' }), /invalid bridge name/, 'addNetwork');
  refuses(() => fw.addPorts('c1', [{ ...port, hostPort: 0 }]), /invalid port 0/, 'addPorts');
  refuses(() => fw.addPorts('c1', [port, { ...port, containerIp: '10.0.0.1\nflush ruleset' }]), /port 1: container address: invalid IP address/, 'newline');
});

test('long hostile input is shown bounded and escaped', () => {
  const huge = `br${'"'.repeat(10_000)}\u0000`;
  assert.throws(
    () => checkNetwork({ ...net, bridge: huge }),
    (e: unknown) => e instanceof FirewallError && e.message.length < 300 && !e.message.includes('\u0000'),
  );
});
