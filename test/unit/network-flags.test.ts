// The networking flags of `run`/`create` (--network several times and in its long form,
// --network-alias, --ip, --ip6, --mac-address) as docker's CLI turns them into NetworkMode and
// NetworkingConfig.EndpointsConfig (API 1.44 and later), and the client-side parts of `network
// create` and `network connect`: docker's grouping of --subnet/--ip-range/--gateway and its flag
// types. The messages are docker 28's (cli/command/container/opts.go, opts/network.go,
// cli/command/network/create.go and connect.go).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { defineContainerFlags, networkConfig, parseContainerFlags, type ParsedContainer } from '../../src/cli/container-flags.ts';
import { networkAttachment, parseMAC, parseNetworkOpt, validateMacAddress } from '../../src/cli/container-network-flags.ts';
import { CliError } from '../../src/cli/context.ts';
import { goQuote } from '../../src/cli/go-strconv.ts';
import { driverOpts, networkConnect } from '../../src/cli/commands/network-connect.ts';
import { ipamPools, networkCreate } from '../../src/cli/commands/network-create.ts';
import { boolFlags, goTime, mapFlag, sliceFlag } from '../../src/cli/commands/network-common.ts';

const silent = { writeErr: () => {}, writeOut: () => {}, outputError: () => {} };

/** Parses `hull run ARGV busybox` through a real commander command, as the CLI does. */
function run(argv: string[]): ParsedContainer {
  const program = new Command('hull').enablePositionalOptions().passThroughOptions().exitOverride().configureOutput(silent);
  const cmd = program.command('run').exitOverride().configureOutput(silent).argument('<image>').argument('[command...]');
  defineContainerFlags(cmd);
  let result: ParsedContainer | undefined;
  cmd.action((image: string, command: string[], _opts: unknown, c: Command) => {
    result = parseContainerFlags(c.opts(), image, command, {});
  });
  program.parse(['run', ...argv, 'busybox'], { from: 'user' });
  assert.ok(result, 'the action ran');
  return result;
}

const endpoints = (argv: string[]) => run(argv).networking.EndpointsConfig;
const mode = (argv: string[]) => run(argv).hostConfig.NetworkMode;

function fails(argv: string[], message: string): void {
  assert.throws(() => run(argv), (err: unknown) => {
    assert.ok(err instanceof CliError, `a CliError, got ${String(err)}`);
    assert.equal(err.status, 125);
    assert.equal(err.message, message);
    return true;
  });
}

const invalidArg = (value: string, flag: string, why: string) => `invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${why}`;

describe('run --network: the mode and the endpoints', () => {
  test('no --network: the default mode and no endpoint', () => {
    assert.equal(mode([]), 'default');
    assert.deepEqual(endpoints([]), {});
  });

  test('one network without options sends no endpoint, as docker 1.44+', () => {
    assert.equal(mode(['--network', 'front']), 'front');
    assert.deepEqual(endpoints(['--network', 'front']), {});
    assert.equal(mode(['--network=name=front']), 'front');
    assert.deepEqual(endpoints(['--network', 'host']), {});
  });

  test('several networks: the first is the mode, each gets an endpoint', () => {
    assert.equal(mode(['--network', 'front', '--network', 'back']), 'front');
    assert.deepEqual(endpoints(['--network', 'front', '--network', 'back']), { front: {}, back: {} });
  });

  test('--net and --network are one list in command-line order', () => {
    assert.equal(mode(['--net', 'a', '--network', 'b']), 'a');
    assert.equal(mode(['--network', 'b', '--net=a']), 'b');
    assert.deepEqual(Object.keys(endpoints(['--network', 'b', '--net', 'a', '--network', 'c'])), ['b', 'a', 'c']);
  });

  test('the long form: aliases, addresses, MAC and driver options, lowered as docker lowers them', () => {
    const eps = endpoints(['--network', 'name=Front,alias=Web,alias=www,ip=10.5.0.9,ip6=FD00::9,mac-address=02:42:AC:11:00:02,driver-opt=com.example.Opt=On']);
    assert.deepEqual(eps, {
      front: {
        Aliases: ['web', 'www'],
        IPAMConfig: { IPv4Address: '10.5.0.9', IPv6Address: 'fd00::9' },
        MacAddress: '02:42:ac:11:00:02',
        DriverOpts: { 'com.example.opt': 'on' },
      },
    });
    assert.equal(mode(['--network', 'name=Front,alias=web']), 'front');
  });

  test('--network-alias, --ip, --ip6 and --mac-address go to the first network only', () => {
    const eps = endpoints(['--network', 'front', '--network-alias', 'web', '--net-alias', 'www', '--ip', '10.5.0.9', '--ip6', 'fd00::9',
      '--mac-address', '02-42-ac-11-00-02', '--network', 'back']);
    assert.deepEqual(eps, {
      front: { Aliases: ['web', 'www'], IPAMConfig: { IPv4Address: '10.5.0.9', IPv6Address: 'fd00::9' }, MacAddress: '02:42:ac:11:00:02' },
      back: {},
    });
  });

  test('without --network, --ip and --mac-address ask the default bridge (whose engine refuses an address)', () => {
    assert.deepEqual(endpoints(['--ip', '172.17.0.9']), { bridge: { IPAMConfig: { IPv4Address: '172.17.0.9' } } });
    assert.deepEqual(endpoints(['--mac-address', '02:42:ac:11:00:09']), { bridge: { MacAddress: '02:42:ac:11:00:09' } });
    assert.equal(mode(['--ip', '172.17.0.9']), 'default');
  });

  test('docker\'s refusals, at exit status 125', () => {
    fails(['--network-alias', 'web'], 'network-scoped aliases are only supported for user-defined networks');
    fails(['--network', 'bridge', '--network-alias', 'web'], 'network-scoped aliases are only supported for user-defined networks');
    fails(['--network', 'name=host,alias=x'], 'network-scoped aliases are only supported for user-defined networks');
    fails(['--network', 'a', '--network', 'a'], 'network "a" is specified multiple times');
    fails(['--net', 'a', '--network', 'name=a'], 'network "a" is specified multiple times');
    fails(['--network', 'host', '--network', 'mynet'], 'conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    fails(['--network', ''], 'no name set for network');
    fails(['--network', 'name=a,alias=x', '--network-alias', 'y'], 'conflicting options: cannot specify both --network-alias and per-network alias');
    fails(['--network', 'name=a,ip=10.0.0.2', '--ip', '10.0.0.3'], 'conflicting options: cannot specify both --ip and per-network IPv4 address');
    fails(['--network', 'name=a,ip6=fd00::2', '--ip6', 'fd00::3'], 'conflicting options: cannot specify both --ip6 and per-network IPv6 address');
    fails(['--network', 'name=a,mac-address=02:42:ac:11:00:02', '--mac-address', '02:42:ac:11:00:03'],
      'conflicting options: cannot specify both --mac-address and per-network MAC address');
    fails(['--mac-address', '02:42:ac:11:00'], '02:42:ac:11:00 is not a valid mac address');
    fails(['--network', 'name=a,mac-address=zz:42:ac:11:00:02'], 'zz:42:ac:11:00:02 is not a valid mac address');
  });

  test('bad long forms, as pflag reports a bad flag value', () => {
    fails(['--network', 'name=a,foo=b'], invalidArg('name=a,foo=b', '--network', 'invalid field key foo'));
    fails(['--net', 'name=a,foo=b'], invalidArg('name=a,foo=b', '--net', 'invalid field key foo'));
    fails(['--network', 'alias=x'], invalidArg('alias=x', '--network', 'network name/id is not specified'));
    fails(['--network', 'name=a,driver-opt=nothing'], invalidArg('name=a,driver-opt=nothing', '--network', 'invalid key value pair format in driver options'));
    fails(['--network', 'name=a,gw-priority=high'], invalidArg('name=a,gw-priority=high', '--network', 'invalid gw-priority (high): invalid syntax'));
    fails(['--network', 'name=a,al"ias'], invalidArg('name=a,al"ias', '--network', 'parse error on line 1, column 10: bare " in non-quoted-field'));
  });

  test('what hull\'s networks do not have is refused, not ignored', () => {
    fails(['--network', 'name=a,gw-priority=5'], 'gw-priority is not supported by hull: the first network that leads out gives the default route');
    fails(['--network', 'name=a,link-local-ip=169.254.9.9'], 'link-local IP addresses are not supported by hull: 169.254.9.9');
    fails(['--network', 'a', '--link-local-ip', '169.254.9.9'], 'link-local IP addresses are not supported by hull: 169.254.9.9');
    fails(['--network', 'name=a,link-local-ip=169.254.9.9', '--link-local-ip', '169.254.9.8'],
      'conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
  });

  test('networkConfig leaves the attachments it was given as they were', () => {
    const given = { ...networkAttachment('front'), aliases: ['a'] };
    const out = networkConfig({ attachments: [given], aliases: [], ipv4: '10.0.0.2', ipv6: '', mac: '', linkLocalIps: [] });
    assert.deepEqual(out.endpoints, { front: { Aliases: ['a'], IPAMConfig: { IPv4Address: '10.0.0.2' } } });
    assert.equal(given.ipv4, '');
  });
});

describe('--network values and MAC addresses', () => {
  test('a plain value is a name, whatever it holds', () => {
    assert.equal(parseNetworkOpt('container:web').target, 'container:web');
    assert.equal(parseNetworkOpt('My-Net').target, 'My-Net');
  });

  test('net.ParseMAC\'s three spellings and three lengths', () => {
    assert.deepEqual(parseMAC('02:42:ac:11:00:02'), [2, 0x42, 0xac, 0x11, 0, 2]);
    assert.deepEqual(parseMAC('02-42-AC-11-00-02'), [2, 0x42, 0xac, 0x11, 0, 2]);
    assert.deepEqual(parseMAC('0242.ac11.0002'), [2, 0x42, 0xac, 0x11, 0, 2]);
    assert.equal(parseMAC('02:42:ac:11:00:02:00:01')?.length, 8);
    for (const bad of ['', '02:42:ac:11:00', '02:42-ac:11:00:02', '02:42:ac:11:00:0g', '2:42:ac:11:00:02:0', '0242.ac11.000', '02:42:ac:11:00:02:00']) {
      assert.equal(parseMAC(bad), null, bad);
    }
    assert.equal(validateMacAddress('02-42-AC-11-00-02'), '02:42:ac:11:00:02');
    assert.throws(() => validateMacAddress('nope'), { message: 'nope is not a valid mac address' });
  });
});

describe('network create: --subnet, --ip-range and --gateway as docker groups them', () => {
  test('each range and gateway goes to the subnet that holds it, not by position', () => {
    assert.deepEqual(ipamPools(['10.1.0.0/16', '10.2.0.0/16', 'fd00:1::/64'], ['10.2.128.0/17'], ['fd00:1::1', '10.2.0.254', '10.1.0.1']), [
      { Subnet: '10.1.0.0/16', Gateway: '10.1.0.1' },
      { Subnet: '10.2.0.0/16', IPRange: '10.2.128.0/17', Gateway: '10.2.0.254' },
      { Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1' },
    ]);
    assert.deepEqual(ipamPools([], [], []), []);
    // one subnet is the daemon's to check, as docker's CLI leaves it
    assert.deepEqual(ipamPools(['10.0.0.0/33'], [], []), [{ Subnet: '10.0.0.0/33' }]);
  });

  test('docker\'s client-side refusals', () => {
    const refuses = (args: [string[], string[], string[]], message: string) => assert.throws(() => ipamPools(...args), { message });
    refuses([[], [], ['10.0.0.1']], 'every ip-range or gateway must have a corresponding subnet');
    refuses([['10.0.0.0/24'], ['10.0.0.0/25', '10.0.0.128/25'], []], 'every ip-range or gateway must have a corresponding subnet');
    refuses([['10.1.0.0/16', '10.1.2.0/24'], [], []], 'multiple overlapping subnet configuration is not supported');
    refuses([['10.1.2.0/24', '10.1.0.0/16'], [], []], 'multiple overlapping subnet configuration is not supported');
    refuses([['10.1.0.0/24', '10.1.0.0/24'], [], []], 'multiple overlapping subnet configuration is not supported');
    refuses([['10.1.0.0/16', '10.2.0.0/33'], [], []], 'invalid subnet: invalid CIDR address: 10.2.0.0/33');
    refuses([['10.1.0.0/16', 'fd00::/64'], ['10.1.0.0/24', '10.1.1.0/24'], []], 'cannot configure multiple ranges (10.1.1.0/24, 10.1.0.0/24) on the same subnet (10.1.0.0/16)');
    refuses([['10.1.0.0/16', 'fd00::/64'], [], ['10.1.0.1', '10.1.0.2']], 'cannot configure multiple gateways (10.1.0.2, 10.1.0.1) for the same subnet (10.1.0.0/16)');
    refuses([['10.1.0.0/16'], ['10.9.0.0/24'], []], 'no matching subnet for range 10.9.0.0/24');
    refuses([['10.1.0.0/16'], ['10.1.0.0'], []], 'invalid CIDR address: 10.1.0.0');
    refuses([['10.1.0.0/16'], [], ['10.9.0.1']], 'no matching subnet for gateway 10.9.0.1');
    refuses([['10.1.0.0/16'], [], ['not-an-ip']], 'no matching subnet for gateway not-an-ip');
  });
});

describe('network flag types', () => {
  test('StringSlice values are CSV records that add up; a bad one is pflag\'s error', () => {
    const subnet = sliceFlag('--subnet');
    assert.deepEqual(subnet('10.1.0.0/16,fd00::/64', subnet('10.2.0.0/16')), ['10.2.0.0/16', '10.1.0.0/16', 'fd00::/64']);
    assert.deepEqual(subnet('', ['x']), ['x']);
    assert.throws(() => subnet('a"b'), (err: unknown) => err instanceof CliError && err.status === 125
      && err.message === invalidArg('a"b', '--subnet', 'parse error on line 1, column 2: bare " in non-quoted-field'));
  });

  test('maps: "k=v", a bare "k", a later k wins', () => {
    assert.deepEqual(mapFlag('c=3', mapFlag('b', mapFlag('a=1=2'))), { a: '1=2', b: '', c: '3' });
    assert.deepEqual(mapFlag('a=2', { a: '1' }), { a: '2' });
  });

  test('driver options of connect: trimmed pairs; no "=" or no key is refused', () => {
    assert.deepEqual(driverOpts([' k = v ', 'x=']), { k: 'v', x: '' });
    assert.throws(() => driverOpts(['novalue']), { message: 'invalid key/value pair format in driver options' });
    assert.throws(() => driverOpts(['=v']), { message: 'invalid key/value pair format in driver options' });
  });

  test('pflag booleans: given, =false, =true, not given, and a bad value', () => {
    const opts = (argv: string[]) => {
      const cmd = new Command('t').exitOverride().configureOutput(silent).argument('[x]');
      boolFlags(cmd, [{ name: 'ipv4', help: '' }, { name: 'ipv6', help: '' }, { name: 'internal', help: '' }]);
      cmd.action(() => {});
      cmd.parse(argv, { from: 'user' });
      return cmd.opts();
    };
    assert.deepEqual(opts(['--ipv4=false', '--ipv6', '--internal=1', 'n']), { ipv4: false, ipv6: true, internal: true });
    assert.deepEqual(opts(['n']), {});
    assert.deepEqual(opts(['--ipv6=T', '--ipv6=0']), { ipv6: false });
    assert.throws(() => opts(['--ipv6=maybe']), (err: unknown) => err instanceof CliError && err.status === 125
      && err.message === invalidArg('maybe', '--ipv6', 'strconv.ParseBool: parsing "maybe": invalid syntax'));
  });

  test('the verbs define docker\'s flags', () => {
    const flags = (define: (c: Command) => void) => {
      const cmd = new Command('t');
      define(cmd);
      return cmd.options.filter((o) => !o.hidden).map((o) => o.long).sort();
    };
    assert.deepEqual(flags((c) => networkCreate.define(c)), ['--attachable', '--aux-address', '--config-from', '--config-only', '--driver', '--gateway', '--ingress',
      '--internal', '--ip-range', '--ipam-driver', '--ipam-opt', '--ipv4', '--ipv6', '--label', '--opt', '--scope', '--subnet']);
    assert.deepEqual(flags((c) => networkConnect.define(c)), ['--alias', '--driver-opt', '--gw-priority', '--ip', '--ip6', '--link', '--link-local-ip']);
  });

  test('times print as Go\'s time.Time and encode as the daemon\'s RFC 3339', () => {
    const t = goTime('2026-01-02T03:04:05.120Z');
    assert.equal(JSON.stringify({ t }), '{"t":"2026-01-02T03:04:05.12Z"}');
    assert.equal(JSON.stringify(goTime('2026-01-02T03:04:05.000Z')), '"2026-01-02T03:04:05Z"');
  });
});
