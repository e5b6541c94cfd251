// Reading nft's JSON ruleset: hull's chains, iptables' FORWARD chains and hull's tagged rules in
// them, and the scripts for those rules (which use only what iptables-nft itself can read).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  foreignNetworkScript,
  foreignRemoveAllScript,
  foreignRemoveScript,
  ownersOf,
  readRuleset,
} from '../../src/network/firewall/ruleset.ts';
import { checkNetwork } from '../../src/network/firewall/validate.ts';
import { FirewallError } from '../../src/network/firewall/index.ts';

const meta = { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } };
const chain = (family: string, table: string, name: string, extra: object = {}) => ({ chain: { family, table, name, handle: 1, ...extra } });
const rule = (family: string, table: string, chainName: string, handle: number, comment?: string) => ({
  rule: { family, table, chain: chainName, handle, ...(comment === undefined ? {} : { comment }), expr: [{ accept: null }] },
});

/** A host like this one: netavark's ip nat table, docker's and ufw's drop policy, and hull. */
const RULESET = JSON.stringify({
  nftables: [
    meta,
    { table: { family: 'ip', name: 'nat', handle: 1 } },
    chain('ip', 'nat', 'POSTROUTING', { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' }),
    { table: { family: 'ip', name: 'filter', handle: 2 } },
    chain('ip', 'filter', 'FORWARD', { type: 'filter', hook: 'forward', prio: 0, policy: 'drop' }),
    chain('ip', 'filter', 'DOCKER-USER'),
    rule('ip', 'filter', 'FORWARD', 10, 'hull network n1'),
    rule('ip', 'filter', 'FORWARD', 11, 'hull network n1'),
    rule('ip', 'filter', 'FORWARD', 12, 'hull network gone'),
    rule('ip', 'filter', 'FORWARD', 13, 'hull-1a2b3c network other-root'),
    rule('ip', 'filter', 'FORWARD', 14),
    rule('ip', 'filter', 'DOCKER-USER', 15, 'hull network n1'),
    { table: { family: 'ip6', name: 'filter', handle: 3 } },
    chain('ip6', 'filter', 'FORWARD', { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' }),
    rule('ip6', 'filter', 'FORWARD', 20, 'hull network n1'),
    { table: { family: 'inet', name: 'hull', handle: 4 } },
    chain('inet', 'hull', 'net-n1-forward', { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' }),
    chain('inet', 'hull', 'net-n1-input', { type: 'filter', hook: 'input', prio: 0, policy: 'accept' }),
    chain('inet', 'hull', 'net-n3-postrouting', { type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' }),
    chain('inet', 'hull', 'ctr-abc-prerouting', { type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' }),
    chain('inet', 'hull', 'ctr-abc-output', { type: 'nat', hook: 'output', prio: -100, policy: 'accept' }),
    chain('inet', 'hull', 'someone-elses'),
    { table: { family: 'inet', name: 'hull-1a2b3c', handle: 5 } },
    chain('inet', 'hull-1a2b3c', 'ctr-zzz-output', { type: 'nat', hook: 'output', prio: -100, policy: 'accept' }),
  ],
});

test('the view holds hull\'s own chains and the FORWARD chains with their commented rules', () => {
  const view = readRuleset(RULESET, 'hull');
  assert.equal(view.ownTable, true);
  assert.deepEqual(view.ownChains, [
    'net-n1-forward',
    'net-n1-input',
    'net-n3-postrouting',
    'ctr-abc-prerouting',
    'ctr-abc-output',
    'someone-elses',
  ]);
  assert.deepEqual(view.forward, [
    {
      family: 'ip',
      policy: 'drop',
      tagged: [
        { handle: 10, comment: 'hull network n1' },
        { handle: 11, comment: 'hull network n1' },
        { handle: 12, comment: 'hull network gone' },
        { handle: 13, comment: 'hull-1a2b3c network other-root' },
      ],
    },
    { family: 'ip6', policy: 'accept', tagged: [{ handle: 20, comment: 'hull network n1' }] },
  ]);
  assert.equal(readRuleset(JSON.stringify({ nftables: [meta] }), 'hull').ownTable, false);
});

test('owners: networks and containers from chain names and from FORWARD tags, per table', () => {
  const view = readRuleset(RULESET, 'hull');
  assert.deepEqual(ownersOf(view, 'hull'), { networks: ['gone', 'n1', 'n3'], containers: ['abc'] });
  assert.deepEqual(ownersOf(readRuleset(RULESET, 'hull-1a2b3c'), 'hull-1a2b3c'), {
    networks: ['other-root'],
    containers: ['zzz'],
  });
});

test('adding a network puts accept rules at the top of drop-policy FORWARD chains, for its families', () => {
  const view = readRuleset(RULESET, 'hull');
  const n = checkNetwork({ id: 'n1', bridge: 'hull0', subnets: ['10.88.0.0/16', 'fd00::/64'], internal: false });
  assert.deepEqual(foreignNetworkScript(view, 'hull', n), [
    // Its old rules go first, in both families (ip6's policy is accept now: no rule there).
    'delete rule ip filter FORWARD handle 10',
    'delete rule ip filter FORWARD handle 11',
    'delete rule ip6 filter FORWARD handle 20',
    'insert rule ip filter FORWARD oifname "hull0" accept comment "hull network n1"',
    'insert rule ip filter FORWARD iifname "hull0" accept comment "hull network n1"',
  ]);
  const v6only = checkNetwork({ id: 'n9', bridge: 'br9', subnets: ['fd00:9::/64'], internal: false });
  assert.deepEqual(foreignNetworkScript(view, 'hull', v6only), []);
  const none = readRuleset(JSON.stringify({ nftables: [meta] }), 'hull');
  assert.deepEqual(foreignNetworkScript(none, 'hull', n), []);
});

test('removing a network deletes its tagged rules by handle, and nobody else\'s', () => {
  const view = readRuleset(RULESET, 'hull');
  assert.deepEqual(foreignRemoveScript(view, 'hull', 'n1'), [
    'delete rule ip filter FORWARD handle 10',
    'delete rule ip filter FORWARD handle 11',
    'delete rule ip6 filter FORWARD handle 20',
  ]);
  assert.deepEqual(foreignRemoveScript(view, 'hull', 'n2'), []);
  assert.deepEqual(foreignRemoveAllScript(view, 'hull'), [
    'delete rule ip filter FORWARD handle 10',
    'delete rule ip filter FORWARD handle 11',
    'delete rule ip filter FORWARD handle 12',
    'delete rule ip6 filter FORWARD handle 20',
  ]);
  assert.deepEqual(foreignRemoveAllScript(view, 'hull-1a2b3c'), ['delete rule ip filter FORWARD handle 13']);
});

test('output that is not nft JSON is a clear error', () => {
  for (const text of ['', 'table inet hull {', '{"x": 1}', '[]']) {
    assert.throws(
      () => readRuleset(text, 'hull'),
      (e: unknown) => e instanceof FirewallError && /cannot read nft's JSON output/.test(e.message),
      JSON.stringify(text),
    );
  }
});
