// The nft scripts hull's firewall writes: exact text for each kind of network and published
// port, and the removal forms (idempotent without a read, minimal with one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ABSENT,
  UNKNOWN,
  chainOwner,
  containerChain,
  networkChain,
  networkScript,
  portsScript,
  presenceIn,
  removeNetworkScript,
  removePortsScript,
  removeTableScript,
} from '../../src/network/firewall/script.ts';
import { checkForwards, checkNetwork } from '../../src/network/firewall/validate.ts';
import type { PortForward } from '../../src/network/firewall/types.ts';

const T = 'hull';

const dualStack = checkNetwork({ id: 'n1', bridge: 'hull0', subnets: ['10.88.0.0/16', 'fd00:88::/64'], internal: false });
const internal = checkNetwork({ id: 'n2', bridge: 'br-n2', subnets: ['10.89.0.0/24'], internal: true });

function fwd(over: Partial<PortForward>): PortForward {
  return { proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.88.0.2', containerPort: 80, bridge: 'hull0', ...over };
}

test('a new network: its chains are created, with nothing removed first', () => {
  assert.deepEqual(networkScript(T, dualStack, ABSENT), [
    'add table inet hull',
    'create chain inet hull net-n1-forward { type filter hook forward priority filter; policy accept; comment "hull network n1 bridge hull0"; }',
    'add rule inet hull net-n1-forward oifname "hull0" ct state established,related accept',
    'add rule inet hull net-n1-forward oifname "hull0" iifname "hull0" accept',
    'add rule inet hull net-n1-forward oifname "hull0" ct status dnat accept',
    'add rule inet hull net-n1-forward oifname "hull0" drop',
    'create chain inet hull net-n1-input { type filter hook input priority filter; policy accept; comment "hull network n1 bridge hull0"; }',
    'add rule inet hull net-n1-input iifname "hull0" ip daddr 127.0.0.0/8 ct direction reply accept',
    'add rule inet hull net-n1-input iifname "hull0" ip daddr 127.0.0.0/8 drop',
    'create chain inet hull net-n1-postrouting { type nat hook postrouting priority srcnat; policy accept; comment "hull network n1 bridge hull0"; }',
    'add rule inet hull net-n1-postrouting ip saddr 10.88.0.0/16 oifname "hull0" ct status dnat masquerade',
    'add rule inet hull net-n1-postrouting ip saddr 10.88.0.0/16 oifname != "hull0" ct status & dnat == 0 masquerade',
    'add rule inet hull net-n1-postrouting ip6 saddr fd00:88::/64 oifname "hull0" ct status dnat masquerade',
    'add rule inet hull net-n1-postrouting ip6 saddr fd00:88::/64 oifname != "hull0" ct status & dnat == 0 masquerade',
    'add rule inet hull net-n1-postrouting ip saddr 127.0.0.0/8 oifname "hull0" ct status dnat masquerade',
  ]);
});

test('an internal network has no NAT and drops whatever crosses its bridge', () => {
  const lines = networkScript(T, internal, ABSENT);
  assert.deepEqual(
    lines.filter((l) => l.includes('net-n2-forward')),
    [
      'create chain inet hull net-n2-forward { type filter hook forward priority filter; policy accept; comment "hull network n2 bridge br-n2"; }',
      'add rule inet hull net-n2-forward iifname "br-n2" oifname != "br-n2" drop',
      'add rule inet hull net-n2-forward oifname "br-n2" iifname != "br-n2" drop',
    ],
  );
  assert.ok(!lines.some((l) => l.includes('masquerade')));
  assert.ok(!lines.some((l) => l.includes('postrouting')));
});

test('re-adding a network replaces the chains that exist, and only those', () => {
  const lines = networkScript(T, internal, presenceIn(['net-n2-forward', 'net-n2-postrouting']));
  assert.deepEqual(lines.slice(0, 4), [
    'add table inet hull',
    'flush chain inet hull net-n2-forward',
    'delete chain inet hull net-n2-forward',
    'add chain inet hull net-n2-forward { type filter hook forward priority filter; policy accept; comment "hull network n2 bridge br-n2"; }',
  ]);
  assert.ok(lines.includes('create chain inet hull net-n2-input { type filter hook input priority filter; policy accept; comment "hull network n2 bridge br-n2"; }'));
  // A network that became internal loses its NAT chain.
  assert.deepEqual(lines.slice(-2), ['flush chain inet hull net-n2-postrouting', 'delete chain inet hull net-n2-postrouting']);
});

test('with nothing known, a network script works whether or not its chains exist', () => {
  const lines = networkScript(T, internal, UNKNOWN);
  assert.deepEqual(lines.slice(1, 5), [
    'add chain inet hull net-n2-forward',
    'flush chain inet hull net-n2-forward',
    'delete chain inet hull net-n2-forward',
    'add chain inet hull net-n2-forward { type filter hook forward priority filter; policy accept; comment "hull network n2 bridge br-n2"; }',
  ]);
});

test('removing a network: only the chains found, nothing when none is', () => {
  assert.deepEqual(removeNetworkScript(T, 'n1', presenceIn(['net-n1-forward', 'ctr-x-output'])), [
    'add table inet hull',
    'flush chain inet hull net-n1-forward',
    'delete chain inet hull net-n1-forward',
  ]);
  assert.deepEqual(removeNetworkScript(T, 'n1', presenceIn([])), []);
  assert.equal(removeNetworkScript(T, 'n1').length, 1 + 3 * 3);
});

test('one published TCP port on every address: DNAT from outside (not to loopback) and from the host', () => {
  assert.deepEqual(portsScript(T, 'c1', checkForwards('c1', [fwd({})]), ABSENT), [
    'add table inet hull',
    'create chain inet hull ctr-c1-prerouting { type nat hook prerouting priority dstnat; policy accept; comment "hull container c1"; }',
    'add rule inet hull ctr-c1-prerouting meta nfproto ipv4 tcp dport 8080 fib daddr type local ip daddr != 127.0.0.0/8 dnat ip to 10.88.0.2:80',
    'create chain inet hull ctr-c1-output { type nat hook output priority -100; policy accept; comment "hull container c1"; }',
    'add rule inet hull ctr-c1-output meta nfproto ipv4 tcp dport 8080 fib daddr type local dnat ip to 10.88.0.2:80',
  ]);
});

test('several ports share one rule with a port map; one address comes before every address', () => {
  const forwards = checkForwards('c1', [
    fwd({ hostPort: 8080, containerPort: 80 }),
    fwd({ hostPort: 8081, containerPort: 81 }),
    fwd({ proto: 'udp', hostIp: '192.0.2.1', hostPort: 53, containerPort: 53 }),
    fwd({ proto: 'udp', hostIp: '0.0.0.0', hostPort: 5353, containerPort: 53 }),
    fwd({ hostIp: '::', hostPort: 8080, containerIp: 'fd00:88::2', containerPort: 80 }),
    fwd({ hostIp: '2001:DB8::1', hostPort: 9090, containerIp: 'fd00:88::2', containerPort: 90 }),
  ]);
  assert.deepEqual(
    portsScript(T, 'c1', forwards, ABSENT).filter((l) => l.startsWith('add rule inet hull ctr-c1-prerouting')),
    [
      'add rule inet hull ctr-c1-prerouting meta nfproto ipv4 udp dport 53 ip daddr 192.0.2.1 dnat ip to 10.88.0.2:53',
      'add rule inet hull ctr-c1-prerouting meta nfproto ipv6 tcp dport 9090 ip6 daddr 2001:db8::1 dnat ip6 to [fd00:88::2]:90',
      'add rule inet hull ctr-c1-prerouting meta nfproto ipv4 tcp dport { 8080, 8081 } fib daddr type local ip daddr != 127.0.0.0/8 dnat ip to tcp dport map { 8080 : 10.88.0.2 . 80, 8081 : 10.88.0.2 . 81 }',
      'add rule inet hull ctr-c1-prerouting meta nfproto ipv4 udp dport 5353 fib daddr type local ip daddr != 127.0.0.0/8 dnat ip to 10.88.0.2:53',
      'add rule inet hull ctr-c1-prerouting meta nfproto ipv6 tcp dport 8080 fib daddr type local ip6 daddr != ::1 dnat ip6 to [fd00:88::2]:80',
    ],
  );
});

test('a port published on 127.0.0.1 is translated for the host only, never from outside', () => {
  const lines = portsScript(T, 'c1', checkForwards('c1', [fwd({ hostIp: '127.0.0.1', proto: 'udp' })]), ABSENT);
  assert.deepEqual(lines, [
    'add table inet hull',
    'create chain inet hull ctr-c1-output { type nat hook output priority -100; policy accept; comment "hull container c1"; }',
    'add rule inet hull ctr-c1-output meta nfproto ipv4 udp dport 8080 ip daddr 127.0.0.1 dnat ip to 10.88.0.2:80',
  ]);
  // Replacing, a container whose ports moved to loopback loses its prerouting chain.
  assert.deepEqual(
    portsScript(T, 'c1', checkForwards('c1', [fwd({ hostIp: '127.0.0.1' })]), UNKNOWN).slice(1, 4),
    ['add chain inet hull ctr-c1-prerouting', 'flush chain inet hull ctr-c1-prerouting', 'delete chain inet hull ctr-c1-prerouting'],
  );
});

test('removing ports needs only the container id, and works whether or not they exist', () => {
  const expected = [
    'add table inet hull',
    'add chain inet hull ctr-c1-prerouting',
    'flush chain inet hull ctr-c1-prerouting',
    'delete chain inet hull ctr-c1-prerouting',
    'add chain inet hull ctr-c1-output',
    'flush chain inet hull ctr-c1-output',
    'delete chain inet hull ctr-c1-output',
  ];
  assert.deepEqual(removePortsScript(T, 'c1'), expected);
  assert.deepEqual(portsScript(T, 'c1', [], ABSENT), expected);
});

test('the table goes in one command, or none when it is not there', () => {
  assert.deepEqual(removeTableScript('hull-1a2b3c', true), ['delete table inet hull-1a2b3c']);
  assert.deepEqual(removeTableScript('hull', false), []);
});

test('chain names give back their owner, ids with dashes included', () => {
  assert.deepEqual(chainOwner(networkChain('a-b-forward', 'forward')), { kind: 'network', id: 'a-b-forward' });
  assert.deepEqual(chainOwner(containerChain('0123abcd', 'output')), { kind: 'container', id: '0123abcd' });
  assert.equal(chainOwner('ctr-x-forward'), undefined);
  assert.equal(chainOwner('net-x-prerouting'), undefined);
  assert.equal(chainOwner('other'), undefined);
  assert.equal(chainOwner('net--input'), undefined);
});
