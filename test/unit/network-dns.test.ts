// The pure parts of src/network/dns/: the host's resolvers from resolv.conf, what counts as a
// name and a forwarder in hull-dns's files, and the lines those files get.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDnsName } from '../../src/network/dns/index.ts';
import { isForwarder, writeNetworkDns } from '../../src/network/dns/config-file.ts';
import { hostForwarders } from '../../src/network/dns/host-resolvers.ts';

test('hostForwarders: nameserver lines in order, as glibc reads them', () => {
  const conf = [
    '# a comment', '; another', 'search example.com', 'nameserver 192.168.1.1 # the router',
    'nameserver\t127.0.0.53', 'nameserver 192.168.1.1', 'nameserver fe80::1%eth0', 'nameserver 2001:db8::53',
    'nameserver not-an-address', 'nameserver', 'options edns0 ndots:2',
  ].join('\n');
  // duplicates dropped; glibc stops at three; loopback kept (hull-dns runs on the host)
  assert.deepEqual(hostForwarders(conf), ['192.168.1.1', '127.0.0.53', 'fe80::1%eth0']);
  assert.deepEqual(hostForwarders('nameserver 10.0.0.2\nnameserver bad\nnameserver 10.0.0.3\n'), ['10.0.0.2', '10.0.0.3']);
});

test('hostForwarders: with no nameserver, the local machine, as glibc', () => {
  assert.deepEqual(hostForwarders(''), ['127.0.0.1']);
  assert.deepEqual(hostForwarders('search x\n#nameserver 1.1.1.1\n'), ['127.0.0.1']);
});

test('hostForwarders: the host file when no text is given', () => {
  const list = hostForwarders();
  assert.ok(list.length >= 1 && list.length <= 3);
  for (const f of list) assert.ok(isForwarder(f), f);
});

test('isForwarder: an address, a v6 one maybe with a scope, then maybe #port', () => {
  for (const ok of ['1.1.1.1', '1.1.1.1#53', '1.1.1.1#65535', '::1', '2001:db8::1#5353', 'fe80::1%eth0', 'fe80::1%eth0#53']) {
    assert.ok(isForwarder(ok), ok);
  }
  for (const bad of ['', '1.1.1', '1.1.1.1#', '1.1.1.1#0', '1.1.1.1#65536', '1.1.1.1#5a', '1.1.1.1%eth0', 'fe80::1%', 'fe80::1%a b',
    `fe80::1%${'e'.repeat(16)}`, 'host.example', '1.1.1.1 #53', '1.1.1.1\n']) {
    assert.ok(!isForwarder(bad), JSON.stringify(bad));
  }
});

test('isDnsName: what hull-dns can serve', () => {
  for (const ok of ['web', 'Web.', 'a.b.c', '0123456789ab', 'my_container-1', 'x'.repeat(63), `${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61)]) {
    assert.ok(isDnsName(ok), ok);
  }
  for (const bad of ['', '.', 'a..b', '.a', 'x'.repeat(64), 'we b', 'web\n', 'tab\there', 'é', `${'a'.repeat(63)}.`.repeat(4)]) {
    assert.ok(!isDnsName(bad), JSON.stringify(bad));
  }
});

test('writeNetworkDns: scoped records and a client\'s own upstreams are lines hull-dns reads; bad ones are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hull-dns-unit-'));
  try {
    writeNetworkDns(dir, 'n1', {
      listen: ['10.1.0.1'], forward: ['192.0.2.53'],
      records: [{ name: 'web', ip: '10.1.0.2' }, { name: 'db', ip: '10.2.0.3', client: '10.1.0.2' }],
      clientForward: [{ client: '10.1.0.2', forward: ['192.0.2.1', '192.0.2.2#5353'] }],
    });
    const lines = readFileSync(join(dir, 'n1'), 'utf8').split('\n');
    for (const want of ['listen 10.1.0.1', 'forward 192.0.2.53', 'forward 192.0.2.1 10.1.0.2', 'forward 192.0.2.2#5353 10.1.0.2', 'record web 10.1.0.2', 'record db 10.2.0.3 10.1.0.2']) {
      assert.ok(lines.includes(want), `${want} in ${lines.join(' | ')}`);
    }
    assert.throws(() => writeNetworkDns(dir, 'n2', { listen: ['10.1.0.1'], forward: [], records: [{ name: 'x', ip: '10.1.0.2', client: 'nope' }] }), /client "nope" is not an IP address/);
    assert.throws(() => writeNetworkDns(dir, 'n2', { listen: ['10.1.0.1'], forward: [], records: [], clientForward: [{ client: '10.1.0.2', forward: ['x y'] }] }), /forwarder "x y"/);
    assert.deepEqual(readdirSync(dir), ['n1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
