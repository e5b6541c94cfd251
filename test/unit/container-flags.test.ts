// `hull run`/`hull create` flags: each flag's effect on the container model, and each class of
// bad value with docker's message. The expected messages were checked against the docker 28 CLI
// installed here (client-side checks) and against moby's daemon sources (create-time checks).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { defineContainerFlags, parseContainerFlags, type ParsedContainer } from '../../src/cli/container-flags.ts';
import { CliError } from '../../src/cli/context.ts';
import { parseDuration } from '../../src/cli/duration.ts';
import { atoi, fromHumanSize, goQuote, parseBool, parseFlagInt, ramInBytes, readCsvRecord } from '../../src/cli/go-strconv.ts';
import { formatIP, parseIP } from '../../src/cli/container-network-flags.ts';
import { validateContainerSettings } from '../../src/cli/container-settings.ts';

const silent = { writeErr: () => {}, writeOut: () => {}, outputError: () => {} };

/** Parses argv as `hull <verb> ...` would, through a real commander command. */
function parse(argv: string[], options: { verb?: 'run' | 'create'; env?: NodeJS.ProcessEnv } = {}): ParsedContainer {
  const verb = options.verb ?? 'run';
  const program = new Command('hull').enablePositionalOptions().passThroughOptions().exitOverride().configureOutput(silent);
  const cmd = program.command(verb).exitOverride().configureOutput(silent).argument('<image>').argument('[command...]');
  defineContainerFlags(cmd);
  let result: ParsedContainer | undefined;
  cmd.action((image: string, command: string[], _opts: unknown, c: Command) => {
    result = parseContainerFlags(c.opts(), image, command, options.env ?? {});
  });
  program.parse([verb, ...argv], { from: 'user' });
  assert.ok(result, 'the action ran');
  return result;
}

/** Asserts that argv fails with docker's message and status 125. */
function fails(argv: string[], message: string | RegExp, options: { verb?: 'run' | 'create'; env?: NodeJS.ProcessEnv } = {}): void {
  assert.throws(() => parse([...argv, 'busybox'], options), (err: unknown) => {
    assert.ok(err instanceof CliError, `a CliError, got ${String(err)}`);
    assert.equal(err.status, 125);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

const hc = (argv: string[], env?: NodeJS.ProcessEnv) => parse([...argv, 'busybox'], { env: env ?? {} }).hostConfig;
const cfg = (argv: string[], env?: NodeJS.ProcessEnv) => parse([...argv, 'busybox'], { env: env ?? {} }).config;
const invalidArg = (value: string, flag: string, why: string) => `invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${why}`;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hull-flags-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(existsSync(dir), false);
});

describe('defaults', () => {
  test('a bare run is what docker run sends', () => {
    const p = parse(['busybox']);
    assert.deepEqual(p.config, {
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
      Tty: false, OpenStdin: false, StdinOnce: false, Env: [], Cmd: null, Image: 'busybox', Volumes: null,
      WorkingDir: '', Entrypoint: null, Labels: {},
    });
    assert.deepEqual(p.hostConfig, {
      Binds: null, ReadonlyRootfs: false, Memory: 0, MemorySwap: 0, MemoryReservation: 0, NanoCpus: 0, CpuShares: 0,
      CpuPeriod: 0, CpuQuota: 0, CpusetCpus: '', CpusetMems: '', PidsLimit: null, Ulimits: [], ShmSize: 0, OomScoreAdj: 0,
      OomKillDisable: false, CapAdd: null, CapDrop: null, Privileged: false, SecurityOpt: null, Devices: [],
      DeviceCgroupRules: null, GroupAdd: null, UsernsMode: '', IpcMode: '', PidMode: '', UTSMode: '', NetworkMode: 'default',
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, LogConfig: { Type: '', Config: {} },
      Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, PortBindings: {}, PublishAllPorts: false, VolumesFrom: null,
    });
    assert.equal(p.pull, 'missing');
    assert.equal(p.detach, false);
    assert.equal(p.sigProxy, true);
    assert.equal(p.quiet, false);
    assert.equal(p.name, undefined);
  });

  test('the image is kept as typed and the command after it is passed through, flags included', () => {
    const p = parse(['--rm', 'docker.io/library/busybox:1.36', 'ls', '-l', '--rm', '-e', 'X']);
    assert.equal(p.config.Image, 'docker.io/library/busybox:1.36');
    assert.deepEqual(p.config.Cmd, ['ls', '-l', '--rm', '-e', 'X']);
    assert.equal(p.hostConfig.AutoRemove, true);
    assert.deepEqual(parse(['busybox', '--', '-x']).config.Cmd, ['--', '-x']);
    assert.deepEqual(parse(['--', 'busybox']).config.Cmd, null);
  });

  test('create has no -d, --sig-proxy or --detach-keys', () => {
    assert.throws(() => parse(['-d', 'busybox'], { verb: 'create' }), /unknown option/);
    assert.throws(() => parse(['--sig-proxy=false', 'busybox'], { verb: 'create' }), /unknown option/);
    assert.equal(parse(['busybox'], { verb: 'create' }).detach, false);
  });

  test('-h is --hostname, and help is --help only', () => {
    assert.equal(cfg(['-h', 'box']).Hostname, 'box');
    const program = new Command('hull').enablePositionalOptions().exitOverride().configureOutput(silent);
    const cmd = program.command('run').exitOverride().configureOutput(silent).argument('<image>');
    defineContainerFlags(cmd);
    const help = cmd.helpInformation();
    assert.match(help, /--help\s+Print usage/);
    assert.match(help, /-h, --hostname <string>\s+Container host name/);
    assert.doesNotMatch(help, /--no-rm|--dns-opt |--net </);
  });
});

describe('pflag spellings', () => {
  test('booleans take =true/=false, grouped short flags and a value after =', () => {
    let p = parse(['-dit', 'busybox']);
    assert.deepEqual([p.detach, p.config.OpenStdin, p.config.Tty], [true, true, true]);
    p = parse(['-it=false', 'busybox']);
    assert.deepEqual([p.config.OpenStdin, p.config.Tty], [true, false]);
    p = parse(['--rm=true', '-d=1', '--sig-proxy=false', '--privileged=F', 'busybox']);
    assert.deepEqual([p.hostConfig.AutoRemove, p.detach, p.sigProxy, p.hostConfig.Privileged], [true, true, false, false]);
    assert.deepEqual(cfg(['-e=A=1', '-eB=2', '--env=C=3', '-e', 'D=4']).Env, ['A=1', 'B=2', 'C=3', 'D=4']);
    assert.deepEqual(Object.keys(hc(['-p8080:80']).PortBindings!), ['80/tcp']);
  });

  test('--init is unset, true or false', () => {
    assert.equal(hc([]).Init, undefined);
    assert.equal(hc(['--init']).Init, true);
    assert.equal(hc(['--init=false']).Init, false);
  });

  test('a bad boolean is pflag\'s error', () => {
    fails(['--rm=maybe'], invalidArg('maybe', '--rm', 'strconv.ParseBool: parsing "maybe": invalid syntax'));
    fails(['-d=yes'], invalidArg('yes', '-d, --detach', 'strconv.ParseBool: parsing "yes": invalid syntax'));
  });

  test('negative numbers are values, not flags', () => {
    const h = hc(['-m', '10m', '--memory-swap', '-1', '--oom-score-adj', '-500']);
    assert.equal(h.MemorySwap, -1);
    assert.equal(h.OomScoreAdj, -500);
  });
});

describe('basics', () => {
  test('-d, -i, -t and -a set the attach fields as docker run does', () => {
    const attach = (argv: string[], verb: 'run' | 'create' = 'run') => {
      const c = parse([...argv, 'busybox'], { verb }).config;
      return [c.AttachStdin, c.AttachStdout, c.AttachStderr, c.OpenStdin, c.StdinOnce, c.Tty];
    };
    assert.deepEqual(attach([]), [false, true, true, false, false, false]);
    assert.deepEqual(attach(['-i']), [true, true, true, true, true, false]);
    assert.deepEqual(attach(['-it']), [true, true, true, true, true, true]);
    assert.deepEqual(attach(['-d']), [false, false, false, false, false, false]);
    assert.deepEqual(attach(['-d', '-i']), [false, false, false, true, false, false]);
    assert.deepEqual(attach(['-a', 'stdout']), [false, true, false, false, false, false]);
    assert.deepEqual(attach(['-a', 'STDIN', '-a', 'stderr']), [true, false, true, false, false, false]);
    assert.deepEqual(attach(['-a', 'stdin', '-i']), [true, false, false, true, true, false]);
    // create keeps the attach fields run would use
    assert.deepEqual(attach(['-i'], 'create'), [true, true, true, true, true, false]);
  });

  test('-a takes only the three streams, and not with -d', () => {
    fails(['-a', 'foo'], invalidArg('foo', '-a, --attach', 'valid streams are STDIN, STDOUT and STDERR'));
    fails(['-d', '-a', 'stdout'], 'conflicting options: cannot specify both --attach and --detach');
  });

  test('--rm, --name, --hostname, --domainname, -u', () => {
    const p = parse(['--rm', '--name', '/web-1', '--hostname', 'h', '--domainname', 'example.com', '-u', '1000:1000', 'busybox']);
    assert.equal(p.hostConfig.AutoRemove, true);
    assert.equal(p.name, 'web-1');
    assert.deepEqual([p.config.Hostname, p.config.Domainname, p.config.User], ['h', 'example.com', '1000:1000']);
  });

  test('a bad name is the daemon\'s error', () => {
    fails(['--name', 'a b'], 'Invalid container name (a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    fails(['--name', 'x'], 'Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  });

  test('-e: KEY=VAL, KEY=, and KEY alone from the environment or dropped', () => {
    assert.deepEqual(cfg(['-e', 'A=1', '-e', 'B=', '-e', 'HOME', '-e', 'UNSET', '-e', 'C=x=y'], { HOME: '/root' }).Env,
      ['A=1', 'B=', 'HOME=/root', 'C=x=y']);
    fails(['-e', '=x'], invalidArg('=x', '-e, --env', 'invalid environment variable: =x'));
    fails(['-e', ''], invalidArg('', '-e, --env', 'invalid environment variable: '));
  });

  test('--env-file: comments, blank lines, leading space, KEY alone, then -e after it', () => {
    const file = join(dir, 'app.env');
    writeFileSync(file, '\ufeff# comment\n\n  A=1\nB= spaced \r\nFROM_ENV\nMISSING\n\tC=3\nA=override\n');
    assert.deepEqual(cfg(['--env-file', file, '-e', 'A=last'], { FROM_ENV: 'yes' }).Env,
      ['A=1', 'B= spaced ', 'FROM_ENV=yes', 'C=3', 'A=override', 'A=last']);
  });

  test('--env-file errors are docker\'s', () => {
    fails(['--env-file', join(dir, 'none.env')], `open ${join(dir, 'none.env')}: no such file or directory`);
    fails(['--env-file', dir], `invalid env file (${dir}): read ${dir}: is a directory`);
    const spaced = join(dir, 'spaced.env');
    writeFileSync(spaced, 'A B=1\n');
    fails(['--env-file', spaced], `invalid env file (${spaced}): variable 'A B' contains whitespaces`);
    const noName = join(dir, 'noname.env');
    writeFileSync(noName, '=1\n');
    fails(['--env-file', noName], `invalid env file (${noName}): no variable name on line '=1'`);
    const binary = join(dir, 'binary.env');
    writeFileSync(binary, Buffer.from([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff, 0x0a]));
    fails(['--env-file', binary], `invalid env file (${binary}): invalid utf8 bytes at line 2: [66 61 255]`);
  });

  test('-l and --label-file: labels from files first, KEY alone in a file is dropped', () => {
    const file = join(dir, 'labels');
    writeFileSync(file, 'a=1\n# c\nlonely\nb=2\n');
    assert.deepEqual(cfg(['--label-file', file, '-l', 'b=3', '-l', 'flag', '--label=c=x=y']).Labels, { a: '1', b: '3', flag: '', c: 'x=y' });
    fails(['-l', '=a'], invalidArg('=a', '-l, --label', "invalid label '=a': empty name"));
    fails(['-l', 'a b=c'], invalidArg('a b=c', '-l, --label', "label 'a b' contains whitespaces"));
    fails(['--label-file', join(dir, 'nope')], `open ${join(dir, 'nope')}: no such file or directory`);
  });

  test('-w must be absolute, and is cleaned', () => {
    assert.equal(cfg(['-w', '/a/b/../c/']).WorkingDir, '/a/c');
    fails(['-w', 'rel'], "the working directory 'rel' is invalid, it needs to be an absolute path");
  });

  test('--entrypoint replaces, and "" clears as docker sends it', () => {
    assert.deepEqual(cfg(['--entrypoint', '/bin/sh']).Entrypoint, ['/bin/sh']);
    assert.deepEqual(cfg(['--entrypoint', '']).Entrypoint, ['']);
    assert.deepEqual(cfg(['--entrypoint=']).Entrypoint, ['']);
  });

  test('--pull, --platform, -q, --detach-keys', () => {
    const p = parse(['--pull', 'always', '--platform', 'linux/arm64', '-q', '--detach-keys', 'ctrl-x', 'busybox']);
    assert.deepEqual([p.pull, p.platform, p.quiet, p.detachKeys], ['always', 'linux/arm64', true, 'ctrl-x']);
    assert.equal(parse(['--pull=never', 'busybox']).pull, 'never');
    fails(['--pull', 'foo'], 'invalid pull option: \'foo\': must be one of "always", "missing" or "never"');
  });
});

describe('lifecycle', () => {
  test('--restart policies', () => {
    assert.deepEqual(hc(['--restart', 'always']).RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(hc(['--restart', 'unless-stopped']).RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.deepEqual(hc(['--restart', 'on-failure']).RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
    assert.deepEqual(hc(['--restart', 'on-failure:5']).RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 5 });
    assert.deepEqual(hc(['--restart', 'no']).RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  });

  test('bad --restart values', () => {
    fails(['--restart', ':1'], 'invalid restart policy format: no policy provided before colon');
    fails(['--restart', 'on-failure:x'], 'invalid restart policy format: maximum retry count must be an integer');
    fails(['--restart', 'sometimes'], "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    fails(['--restart', 'always:3'], "invalid restart policy: maximum retry count can only be used with 'on-failure'");
    fails(['--restart', 'no:-1'], "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
    fails(['--restart', 'on-failure:-1'], 'invalid restart policy: maximum retry count cannot be negative');
    fails(['--rm', '--restart', 'always'], 'conflicting options: cannot specify both --restart and --rm');
  });

  test('--stop-signal and --stop-timeout', () => {
    assert.deepEqual([cfg(['--stop-signal', 'SIGUSR1']).StopSignal, cfg(['--stop-signal', 'rtmin+3']).StopSignal], ['SIGUSR1', 'rtmin+3']);
    assert.equal(cfg(['--stop-signal', '9']).StopSignal, '9');
    assert.equal(cfg([]).StopTimeout, undefined);
    assert.equal(cfg(['--stop-timeout', '0']).StopTimeout, 0);
    assert.equal(cfg(['--stop-timeout', '0x10']).StopTimeout, 16);
    fails(['--stop-signal', 'SIGFOO'], 'invalid signal: SIGFOO');
    fails(['--stop-signal', '0'], 'invalid signal: 0');
    fails(['--stop-timeout', 'x'], invalidArg('x', '--stop-timeout', 'strconv.ParseInt: parsing "x": invalid syntax'));
    fails(['--stop-timeout', '1e3'], invalidArg('1e3', '--stop-timeout', 'strconv.ParseInt: parsing "1e3": invalid syntax'));
  });

  test('health options in nanoseconds, zeros left out', () => {
    assert.deepEqual(cfg(['--health-cmd', 'curl -f localhost', '--health-interval', '1m30s', '--health-timeout', '500ms',
      '--health-start-period', '1.5s', '--health-start-interval', '2s', '--health-retries', '3']).Healthcheck, {
      Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 90e9, Timeout: 500e6, StartPeriod: 1.5e9, StartInterval: 2e9, Retries: 3,
    });
    assert.deepEqual(cfg(['--health-interval', '10s']).Healthcheck, { Interval: 10e9 });
    assert.deepEqual(cfg(['--no-healthcheck']).Healthcheck, { Test: ['NONE'] });
    // pflag's value for a boolean, on a flag whose name starts with no-
    assert.deepEqual(cfg(['--no-healthcheck=true']).Healthcheck, { Test: ['NONE'] });
    assert.equal(cfg(['--no-healthcheck=false']).Healthcheck, undefined);
    assert.equal(cfg([]).Healthcheck, undefined);
  });

  test('bad health options', () => {
    fails(['--health-interval', '5'], invalidArg('5', '--health-interval', 'time: missing unit in duration "5"'));
    fails(['--health-timeout', '5x'], invalidArg('5x', '--health-timeout', 'time: unknown unit "x" in duration "5x"'));
    fails(['--health-start-period', '.s'], invalidArg('.s', '--health-start-period', 'time: invalid duration ".s"'));
    fails(['--health-retries', 'x'], invalidArg('x', '--health-retries', 'strconv.ParseInt: parsing "x": invalid syntax'));
    fails(['--health-interval', '-1s'], '--health-interval cannot be negative');
    fails(['--health-timeout', '-1s'], '--health-timeout cannot be negative');
    fails(['--health-retries', '-1'], '--health-retries cannot be negative');
    fails(['--health-start-period', '-1s'], '--health-start-period cannot be negative');
    fails(['--health-start-interval', '-1s'], '--health-start-interval cannot be negative');
    fails(['--no-healthcheck', '--health-cmd', 'true'], '--no-healthcheck conflicts with --health-* options');
    fails(['--health-interval', '500us'], 'Interval in Healthcheck cannot be less than 1ms');
    fails(['--health-timeout', '1ns'], 'Timeout in Healthcheck cannot be less than 1ms');
    fails(['--health-start-period', '10us'], 'StartPeriod in Healthcheck cannot be less than 1ms');
    fails(['--health-start-interval', '999us'], 'StartInterval in Healthcheck cannot be less than 1ms');
  });

  test('--init, --log-driver and --log-opt', () => {
    assert.deepEqual(hc(['--log-opt', 'max-size=10m', '--log-opt', 'max-file=3']).LogConfig, { Type: '', Config: { 'max-size': '10m', 'max-file': '3' } });
    assert.deepEqual(hc(['--log-driver', 'json-file']).LogConfig, { Type: 'json-file', Config: {} });
    assert.deepEqual(hc(['--log-driver', 'none']).LogConfig, { Type: 'none', Config: {} });
    assert.deepEqual(hc(['--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', '--log-opt', 'compress=true']).LogConfig.Config,
      { 'max-size': '1k', 'max-file': '2', compress: 'true' });
  });

  test('bad log settings', () => {
    fails(['--log-driver', 'none', '--log-opt', 'a=b'], 'invalid logging opts for driver none');
    fails(['--log-driver', 'syslog'], "logger: no log driver named 'syslog' is registered");
    fails(['--log-opt', 'foo=1'], "unknown log opt 'foo' for json-file log driver");
    fails(['--log-opt', 'max-size=x'], "invalid size: 'x'");
    fails(['--log-opt', 'max-size=0'], 'max-size must be a positive number');
    fails(['--log-opt', 'max-file=x'], 'strconv.Atoi: parsing "x": invalid syntax');
    fails(['--log-opt', 'max-file=0'], 'max-file cannot be less than 1');
    fails(['--log-opt', 'compress=true'], 'compress cannot be true when max-file is less than 2 or max-size is not set');
    fails(['--log-opt', 'mode=sometimes'], 'logger: logging mode not supported: sometimes');
    fails(['--log-opt', 'max-buffer-size=1m'], "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
  });
});

describe('networking', () => {
  test('--network/--net, none by name, one network', () => {
    assert.equal(hc(['--network', 'none']).NetworkMode, 'none');
    assert.equal(hc(['--net=host']).NetworkMode, 'host');
    assert.equal(hc(['--network', 'container:web']).NetworkMode, 'container:web');
    assert.equal(hc(['--network', 'name=mynet']).NetworkMode, 'mynet');
  });

  test('bad --network values', () => {
    fails(['--network', 'name=a,foo=b'], invalidArg('name=a,foo=b', '--network', 'invalid field key foo'));
    fails(['--network', 'alias=x'], invalidArg('alias=x', '--network', 'network name/id is not specified'));
    fails(['--network', ''], 'no name set for network');
    fails(['--network', 'host', '--network', 'mynet'], 'conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    fails(['--network', 'a', '--network', 'a'], 'network "a" is specified multiple times');
    fails(['--network', 'name=host,alias=x'], 'network-scoped aliases are only supported for user-defined networks');
  });

  test('-p and --expose fill ExposedPorts and PortBindings with docker\'s parsing', () => {
    const p = parse(['-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-p', '[::1]:9000:9000', '-p', '3000', '-p', '8000-8001:7000-7001',
      '-p', '9100-9200:91', '-p', 'published=8443,target=443', '--expose', '5000-5001/sctp', '--expose', '80', '-P', 'busybox']);
    assert.deepEqual(p.config.ExposedPorts, {
      '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '3000/tcp': {}, '7000/tcp': {}, '7001/tcp': {}, '91/tcp': {}, '443/tcp': {},
      '5000/sctp': {}, '5001/sctp': {},
    });
    assert.deepEqual(p.hostConfig.PortBindings, {
      '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }],
      '9000/tcp': [{ HostIp: '::1', HostPort: '9000' }],
      '3000/tcp': [{ HostIp: '', HostPort: '' }],
      '7000/tcp': [{ HostIp: '', HostPort: '8000' }],
      '7001/tcp': [{ HostIp: '', HostPort: '8001' }],
      '91/tcp': [{ HostIp: '', HostPort: '9100-9200' }],
      '443/tcp': [{ HostIp: '', HostPort: '8443' }],
    });
    assert.equal(p.hostConfig.PublishAllPorts, true);
  });

  test('bad ports', () => {
    fails(['-p', '1:2:3:4'], 'invalid IP address: 1:2');
    fails(['-p', 'x:80'], 'invalid hostPort: x');
    fails(['-p', '80:x'], 'invalid containerPort: x');
    fails(['-p', '70000'], 'invalid containerPort: 70000');
    fails(['-p', '80-82:90-91'], 'invalid ranges specified for container and host Ports: 90-91 and 80-82');
    fails(['-p', '80/foo'], 'invalid proto: foo');
    fails(['-p', ''], 'no port specified: <empty>');
    fails(['-p', 'a=b'], 'no port specified: :/tcp<empty>');
    fails(['-p', 'published=80,foo'], "invalid publish opts format (should be name=value but got 'foo')");
    fails(['-p', '[::1:80:80'], "invalid IP address [::1: address [::1:: missing ']' in address");
    fails(['--expose', '1:2'], 'invalid port format for --expose: 1:2');
    fails(['--expose', '1-x'], 'invalid range format for --expose: 1-x, error: strconv.ParseUint: parsing "x": invalid syntax');
    fails(['--expose', '70000'], 'invalid range format for --expose: 70000, error: strconv.ParseUint: parsing "70000": value out of range');
    fails(['--expose', '5-3'], 'invalid range format for --expose: 5-3, error: invalid range specified for port: 5-3');
  });

  test('--dns, --dns-search, --dns-option and --add-host', () => {
    const h = hc(['--dns', '1.1.1.1', '--dns', ' 2001:DB8:0:0:0:0:0:1 ', '--dns', '::ffff:10.0.0.1', '--dns-search', 'example.com.',
      '--dns-search', '.', '--dns-option', 'ndots:2', '--dns-opt', 'rotate', '--add-host', 'db:10.0.0.2', '--add-host', 'v6=[::1]',
      '--add-host', 'gw:host-gateway']);
    assert.deepEqual(h.Dns, ['1.1.1.1', '2001:db8::1', '10.0.0.1']);
    assert.deepEqual(h.DnsSearch, ['example.com', '.']);
    assert.deepEqual(h.DnsOptions, ['ndots:2', 'rotate']);
    assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2', 'v6:::1', 'gw:host-gateway']);
  });

  test('bad DNS and hosts values', () => {
    for (const bad of ['1.2', '01.2.3.4', '::1%eth0', '1.2.3.256', ':::', '1::2::3', 'x']) {
      fails(['--dns', bad], invalidArg(bad, '--dns', `IP address is not correctly formatted: ${bad}`));
    }
    fails(['--dns-search', '1.2'], invalidArg('1.2', '--dns-search', '1.2 is not a valid domain'));
    fails(['--dns-search', '-bad.com'], invalidArg('-bad.com', '--dns-search', '-bad.com is not a valid domain'));
    fails(['--add-host', 'foo'], invalidArg('foo', '--add-host', 'bad format for add-host: "foo"'));
    fails(['--add-host', 'a:b:c'], invalidArg('a:b:c', '--add-host', 'invalid IP address in add-host: "b:c"'));
    fails(['--add-host', ':1.2.3.4'], invalidArg(':1.2.3.4', '--add-host', 'bad format for add-host: ":1.2.3.4"'));
  });
});

describe('storage', () => {
  test('-v: anonymous volumes, named volumes and binds, "./" made absolute', () => {
    const p = parse(['-v', '/data', '-v', 'cache:/cache:ro,nocopy', '-v', '/srv:/srv:ro,Z,rshared', '-v', './rel:/rel',
      '-v', '/data', '-v', '/x:/y:cached', 'busybox']);
    assert.deepEqual(p.config.Volumes, { '/data': {} });
    assert.deepEqual(p.hostConfig.Binds, ['cache:/cache:ro,nocopy', '/srv:/srv:ro,Z,rshared', `${resolve('rel')}:/rel`, '/x:/y:cached']);
  });

  test('bad -v values: the CLI\'s, then the daemon\'s', () => {
    fails(['-v', ''], 'invalid empty volume spec');
    fails(['-v', '/a:/b:ro:x'], 'invalid spec: /a:/b:ro:x: too many colons');
    fails(['-v', ':/x'], 'invalid spec: :/x: empty section between colons');
    fails(['-v', '/a::ro'], 'invalid spec: /a::ro: empty section between colons');
    fails(['-v', '/a:/b:rwz'], 'invalid mode: rwz');
    fails(['-v', '/a:/b:ro,rw'], 'invalid mode: ro,rw');
    fails(['-v', '/path:ro'], "invalid volume specification: '/path:ro'");
    fails(['-v', 'name:rel'], "invalid volume specification: 'name:rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute");
    fails(['-v', '/src:/'], "invalid volume specification: '/src:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
    fails(['-v', '/a:/b:nocopy'], "invalid volume specification: '/a:/b:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified");
    fails(['-v', 'vol:/b:shared'], "invalid volume specification: 'vol:/b:shared': invalid mount config for type \"volume\": field BindOptions must not be specified");
    fails(['-v', 'rel'], "invalid volume specification: 'rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute");
    fails(['-v', '/'], "invalid volume specification: '/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'");
    fails(['-v', 'a@b:/x'], 'create a@b: "a@b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path');
    fails(['-v', 'sub/dir:/x'], /^create sub\/dir: "sub\/dir" includes invalid characters for a local volume name/);
    fails(['-v', '~/x:/x'], /^create ~\/x: "~\/x" includes invalid characters/);
  });

  test('--mount: bind, volume and tmpfs with their options', () => {
    const src = join(dir, 'mount-src');
    mkdirSync(src);
    const mounts = hc(['--mount', `type=bind,src=${src},dst=/b,readonly,bind-propagation=rslave,bind-nonrecursive`,
      '--mount', 'type=volume,source=data,target=/v,volume-nocopy,volume-label=a=1,volume-driver=local,volume-opt=o=x,volume-subpath=sub',
      '--mount', 'target=/anon', '--mount', 'type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770',
      '--mount', `"type=bind","source=${src}",target=/q,ro=false,bind-recursive=disabled,consistency=cached`]).Mounts;
    assert.deepEqual(mounts, [
      { Type: 'bind', Source: src, Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } },
      { Type: 'volume', Source: 'data', Target: '/v', VolumeOptions: { Labels: { a: '1' }, DriverConfig: { Name: 'local', Options: { o: 'x' } }, NoCopy: true, Subpath: 'sub' } },
      { Type: 'volume', Target: '/anon' },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 2 ** 20, Mode: 0o1770 } },
      { Type: 'bind', Source: src, Target: '/q', ReadOnly: false, BindOptions: { NonRecursive: true } },
    ]);
    assert.equal(hc(['--mount', 'type=bind,src=./,dst=/here']).Mounts![0]!.Source, process.cwd());
  });

  test('bad --mount values: the CLI\'s', () => {
    const bad = (value: string, why: string) => fails(['--mount', value], invalidArg(value, '--mount', why));
    bad('', 'EOF');
    bad('type=bind', 'target is required');
    bad('type=,target=/x', 'type is required');
    bad('foo', "invalid field 'foo' must be a key=value pair");
    bad('type=volume,target=/x,bogus=1', "unexpected key 'bogus' in 'bogus=1'");
    bad('type=bind,sr"c=/a', 'parse error on line 1, column 13: bare " in non-quoted-field');
    bad('"type=bind,src=/a', 'parse error on line 1, column 18: extraneous or missing " in quoted-field');
    bad('"type=bind"x,src=/a', 'parse error on line 1, column 11: extraneous or missing " in quoted-field');
    bad('type=volume,target=/a,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'");
    bad('type=bind,target=/a,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'");
    bad('type=volume,target=/a,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'");
    bad('type=bind,target=/a,image-subpath=x', "cannot mix 'image-*' options with mount type 'bind'");
    bad('type=tmpfs,target=/a,tmpfs-size=x', 'invalid value for tmpfs-size: x');
    bad('type=tmpfs,target=/a,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999');
    bad('type=bind,src=/a,target=/b,readonly=maybe', 'invalid value for readonly: maybe');
    bad('type=volume,target=/x,volume-nocopy=x', 'invalid value for volume-nocopy: x');
    bad('type=bind,target=/a,bind-recursive=foo', 'invalid value for bind-recursive: foo (must be "enabled", "disabled", "writable", or "readonly")');
    bad('type=bind,src=/a,target=/b,bind-recursive=writable', "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
    bad('type=bind,src=/a,target=/b,readonly,bind-recursive=writable', 'bind-recursive=writable is not supported by hull yet; use bind-recursive=enabled or disabled');
  });

  test('bad --mount values: the daemon\'s', () => {
    fails(['--mount', `type=bind,src=${join(dir, 'absent')},dst=/x`], `invalid mount config for type "bind": bind source path does not exist: ${join(dir, 'absent')}`);
    fails(['--mount', 'type=bind,src=rel,dst=/x'], "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
    fails(['--mount', `type=bind,src=${dir},dst=rel`], "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
    fails(['--mount', `type=bind,src=${dir},dst=/`], "invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
    fails(['--mount', `type=bind,src=${dir},dst=/x,bind-propagation=weird`], 'invalid mount config for type "bind": invalid propagation mode: weird');
    fails(['--mount', 'type=volume,dst=/x,ro'], 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
    fails(['--mount', 'type=volume,dst=/x,volume-subpath=a'], 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes');
    fails(['--mount', 'type=volume,src=v1,dst=/x,volume-subpath=../a'], 'invalid mount config for type "volume": subpath must be a relative path within the volume');
    fails(['--mount', 'type=volume,src=a@b,dst=/x'], /^create a@b: "a@b" includes invalid characters/);
    fails(['--mount', 'type=volume,src=v1,dst=/x,volume-driver=nfs'], 'hull has only the "local" volume driver, not "nfs"');
    fails(['--mount', 'type=tmpfs,src=x,dst=/x'], 'invalid mount config for type "tmpfs": field Source must not be specified');
    fails(['--mount', 'type=npipe,dst=/x'], 'invalid mount config for type "npipe": mount type unknown');
  });

  test('--tmpfs, --read-only and --volumes-from', () => {
    const h = hc(['--tmpfs', '/run', '--tmpfs', '/tmp:rw,size=64m,mode=1777,noexec', '--read-only', '--volumes-from', 'data:ro', '--volumes-from', 'other']);
    assert.deepEqual(h.Tmpfs, { '/run': '', '/tmp': 'rw,size=64m,mode=1777,noexec' });
    assert.equal(h.ReadonlyRootfs, true);
    assert.deepEqual(h.VolumesFrom, ['data:ro', 'other']);
    fails(['--tmpfs', 'rel'], "invalid mount path: 'rel' mount path must be absolute");
    fails(['--tmpfs', '/'], "invalid specification: destination can't be '/'");
    fails(['--tmpfs', '/x:foo'], 'invalid tmpfs option ["foo"]');
    fails(['--tmpfs', '/x:size=1m,bad=1'], 'invalid tmpfs option ["bad" "1"]');
    fails(['--volumes-from', ''], 'volumes-from specification cannot be an empty string');
    fails(['--volumes-from', 'a:rshared'], 'invalid mode: rshared');
    fails(['--volumes-from', 'a:nocopy'], 'invalid mode: nocopy');
  });
});

describe('limits', () => {
  test('memory flags in docker\'s units', () => {
    const h = hc(['-m', '1.5g', '--memory-swap', '3G', '--memory-reservation', '512MiB', '--shm-size', '64m']);
    assert.deepEqual([h.Memory, h.MemorySwap, h.MemoryReservation, h.ShmSize], [1.5 * 2 ** 30, 3 * 2 ** 30, 512 * 2 ** 20, 64 * 2 ** 20]);
    assert.equal(hc(['-m', '6291456']).Memory, 6 * 2 ** 20);
    assert.equal(hc(['-m', '10 M']).Memory, 10 * 2 ** 20);
    assert.equal(hc(['-m', '10m', '--memory-swap', '-1']).MemorySwap, -1);
  });

  test('bad memory values', () => {
    fails(['-m', 'abc'], invalidArg('abc', '-m, --memory', "invalid size: 'abc'"));
    fails(['-m', '-5m'], invalidArg('-5m', '-m, --memory', "invalid size: '-5m'"));
    fails(['-m', '5x'], invalidArg('5x', '-m, --memory', "invalid suffix: 'x'"));
    fails(['-m', '5kbb'], invalidArg('5kbb', '-m, --memory', "invalid suffix: 'kbb'"));
    fails(['-m', '1.2.3'], invalidArg('1.2.3', '-m, --memory', 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'));
    fails(['--memory-swap', 'abc'], invalidArg('abc', '--memory-swap', "invalid size: 'abc'"));
    fails(['--shm-size', 'lots'], invalidArg('lots', '--shm-size', "invalid size: 'lots'"));
    fails(['-m', '1m'], 'Minimum memory limit allowed is 6MB');
    fails(['-m', '10m', '--memory-swap', '5m'], 'Minimum memoryswap limit should be larger than memory limit, see usage');
    fails(['--memory-swap', '10m'], 'You should always set the Memory limit when using Memoryswap limit, see usage');
    fails(['--memory-reservation', '1m'], 'Minimum memory reservation allowed is 6MB');
    fails(['-m', '10m', '--memory-reservation', '20m'], 'Minimum memory limit can not be less than memory reservation limit, see usage');
  });

  test('CPU flags', () => {
    assert.equal(hc(['--cpus', '1.5']).NanoCpus, 1.5e9);
    assert.equal(hc(['--cpus', '3/2']).NanoCpus, 1.5e9);
    assert.equal(hc(['--cpus', '1e-3']).NanoCpus, 1e6);
    assert.equal(hc(['--cpus', '.25']).NanoCpus, 0.25e9);
    const h = hc(['-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-cpus', '0-1,3', '--cpuset-mems', '0']);
    assert.deepEqual([h.CpuShares, h.CpuPeriod, h.CpuQuota, h.CpusetCpus, h.CpusetMems], [512, 100000, 50000, '0-1,3', '0']);
    assert.equal(hc(['--cpu-shares=0x200']).CpuShares, 512);
  });

  test('bad CPU values', () => {
    fails(['--cpus', 'abc'], invalidArg('abc', '--cpus', 'failed to parse abc as a rational number'));
    fails(['--cpus', '1/0'], invalidArg('1/0', '--cpus', 'failed to parse 1/0 as a rational number'));
    fails(['--cpus', '0.0000000001'], invalidArg('0.0000000001', '--cpus', 'value is too precise'));
    fails(['-c', 'x'], invalidArg('x', '-c, --cpu-shares', 'strconv.ParseInt: parsing "x": invalid syntax'));
    fails(['--cpu-period', '1.5'], invalidArg('1.5', '--cpu-period', 'strconv.ParseInt: parsing "1.5": invalid syntax'));
    fails(['--cpus', '1', '--cpu-period', '100000'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
    fails(['--cpus', '1', '--cpu-quota', '50000'], 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    fails(['--cpu-period', '10'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    fails(['--cpu-quota', '10'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    fails(['--cpuset-cpus', '0-x'], 'Invalid value 0-x for cpuset cpus: invalid format: 0-x');
    fails(['--cpuset-cpus', '3-1'], 'Invalid value 3-1 for cpuset cpus: invalid format: 3-1');
    fails(['--cpuset-mems', '9000'], 'Invalid value 9000 for cpuset mems: value of out range, maximum is 8192');
  });

  test('--pids-limit, --ulimit, --oom-score-adj, --oom-kill-disable', () => {
    assert.equal(hc(['--pids-limit', '100']).PidsLimit, 100);
    assert.equal(hc(['--pids-limit', '-1']).PidsLimit, null);
    assert.equal(hc(['--pids-limit', '0']).PidsLimit, null);
    assert.deepEqual(hc(['--ulimit', 'nproc=10:20', '--ulimit', 'nofile=1024', '--ulimit', 'core=-1', '--ulimit', 'nofile=100:200']).Ulimits, [
      { Name: 'core', Soft: -1, Hard: -1 }, { Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'nproc', Soft: 10, Hard: 20 },
    ]);
    assert.equal(hc(['--oom-score-adj', '-1000']).OomScoreAdj, -1000);
    assert.equal(hc(['--oom-kill-disable']).OomKillDisable, true);
  });

  test('bad ulimits, pids and oom scores', () => {
    const bad = (value: string, why: string) => fails(['--ulimit', value], invalidArg(value, '--ulimit', why));
    bad('foo=1', 'invalid ulimit type: foo');
    bad('as=1', 'invalid ulimit type: as');
    bad('nofile', 'invalid ulimit argument: nofile');
    bad('nofile=2:1', 'ulimit soft limit must be less than or equal to hard limit: 2 > 1');
    bad('nofile=-1:5', 'ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 5');
    bad('nofile=1:2:3', 'too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`');
    bad('nofile=x', 'strconv.ParseInt: parsing "x": invalid syntax');
    fails(['--pids-limit', 'many'], invalidArg('many', '--pids-limit', 'strconv.ParseInt: parsing "many": invalid syntax'));
    fails(['--oom-score-adj', '1001'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
    fails(['--oom-score-adj', '99999999999999999999'], invalidArg('99999999999999999999', '--oom-score-adj', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'));
  });
});

describe('security', () => {
  test('--cap-add, --cap-drop, --privileged, --group-add', () => {
    const h = hc(['--cap-add', 'NET_ADMIN', '--cap-add', 'cap_sys_time', '--cap-drop', 'ALL', '--privileged', '--group-add', 'audio', '--group-add', '1000']);
    assert.deepEqual([h.CapAdd, h.CapDrop, h.Privileged, h.GroupAdd], [['NET_ADMIN', 'cap_sys_time'], ['ALL'], true, ['audio', '1000']]);
    fails(['--cap-add', 'foo'], 'invalid CapAdd: unknown capability: "CAP_FOO"');
    fails(['--cap-drop', 'CAP_NOPE'], 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  });

  test('--security-opt values, a seccomp file sent as compact JSON', () => {
    const profile = join(dir, 'seccomp.json');
    writeFileSync(profile, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": ["a b", "\\"q\\""], "action": "SCMP_ACT_ERRNO" } ]\n}\n');
    assert.deepEqual(hc(['--security-opt', 'no-new-privileges', '--security-opt', 'no-new-privileges:false', '--security-opt', 'apparmor=unconfined',
      '--security-opt', 'label=disable', '--security-opt', 'seccomp=unconfined', '--security-opt', `seccomp=${profile}`]).SecurityOpt, [
      'no-new-privileges', 'no-new-privileges=false', 'apparmor=unconfined', 'label=disable', 'seccomp=unconfined',
      'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a b","\\"q\\""],"action":"SCMP_ACT_ERRNO"}]}',
    ]);
  });

  test('bad --security-opt values', () => {
    fails(['--security-opt', 'foo'], 'Invalid --security-opt: "foo"');
    fails(['--security-opt', 'seccomp='], 'Invalid --security-opt: "seccomp="');
    fails(['--security-opt', 'foo=bar'], 'invalid --security-opt 2: "foo=bar"');
    fails(['--security-opt', 'no-new-privileges=maybe'], 'invalid --security-opt 2: "no-new-privileges=maybe"');
    fails(['--security-opt', `seccomp=${join(dir, 'none.json')}`], `opening seccomp profile (${join(dir, 'none.json')}) failed: open ${join(dir, 'none.json')}: no such file or directory`);
    fails(['--security-opt', `seccomp=${dir}`], `opening seccomp profile (${dir}) failed: read ${dir}: is a directory`);
    const broken = join(dir, 'broken.json');
    for (const [text, why] of [
      ['{"a": x}', "invalid character 'x' looking for beginning of value"],
      ['{"a": [1,', 'unexpected end of JSON input'],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"],
      ['[1 2]', "invalid character '2' after array element"],
      ['{1: 2}', "invalid character '1' looking for beginning of object key string"],
      ['{} {}', "invalid character '{' after top-level value"],
      ['{"a": tru}', "invalid character '}' in literal true (expecting 'e')"],
      ['{"a": -}', "invalid character '}' in numeric literal"],
      ['{"a": "\\x"}', "invalid character 'x' in string escape code"],
      // Go feeds a space at the end: inside a literal that is the invalid character
      ['nul', "invalid character ' ' in literal null (expecting 'l')"],
      ['1e', "invalid character ' ' in exponent of numeric literal"],
      ['"abc', 'unexpected end of JSON input'],
    ]) {
      writeFileSync(broken, text!);
      fails(['--security-opt', `seccomp=${broken}`], `compacting json for seccomp profile (${broken}) failed: ${why}`);
    }
  });

  test('--device and --device-cgroup-rule', () => {
    assert.deepEqual(hc(['--device', '/dev/fuse', '--device', '/dev/sda:/dev/xvda:r', '--device', '/dev/null:rw', '--device', '/dev/zero:/dev/z']).Devices, [
      { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
      { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
      { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rw' },
      { PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'rwm' },
    ]);
    assert.deepEqual(hc(['--device-cgroup-rule', 'c 1:3 rwm', '--device-cgroup-rule', 'b *:* r']).DeviceCgroupRules, ['c 1:3 rwm', 'b *:* r']);
    fails(['--device', ''], 'bad format for path: ');
    fails(['--device', 'a:b:c:d'], 'bad format for path: a:b:c:d');
    fails(['--device', '/dev/null:rel'], 'rel is not an absolute path');
    fails(['--device', 'dev/null'], 'dev/null is not an absolute path');
    fails(['--device', '/dev/null:/x:rwx'], 'bad mode specified: rwx');
    fails(['--device', 'nvidia.com/gpu=all'], 'CDI device nvidia.com/gpu=all is not supported by hull');
    fails(['--device-cgroup-rule', 'x'], invalidArg('x', '--device-cgroup-rule', "invalid device cgroup format 'x'"));
    fails(['--device-cgroup-rule', 'c 1:3 rwmx'], invalidArg('c 1:3 rwmx', '--device-cgroup-rule', "invalid device cgroup format 'c 1:3 rwmx'"));
  });

  test('--sysctl: namespaced ones only', () => {
    assert.deepEqual(hc(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=100', '--sysctl', 'fs.mqueue.msg_max=5']).Sysctls,
      { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.msg_max': '5' });
    assert.equal(hc([]).Sysctls, undefined);
    fails(['--sysctl', 'kernel.foo=1'], invalidArg('kernel.foo=1', '--sysctl', "sysctl 'kernel.foo=1' is not allowed"));
    fails(['--sysctl', 'net.ipv4.ip_forward'], invalidArg('net.ipv4.ip_forward', '--sysctl', "sysctl 'net.ipv4.ip_forward' is not allowed"));
  });

  test('--ipc, --pid, --uts, --userns', () => {
    const h = hc(['--ipc', 'shareable', '--pid', 'host', '--uts', 'host', '--userns', 'host']);
    assert.deepEqual([h.IpcMode, h.PidMode, h.UTSMode, h.UsernsMode], ['shareable', 'host', 'host', 'host']);
    assert.deepEqual([hc(['--ipc', 'container:db']).IpcMode, hc(['--pid', 'container:db']).PidMode], ['container:db', 'container:db']);
    fails(['--ipc', 'foo'], 'invalid IPC mode: foo');
    fails(['--pid', 'foo'], '--pid: invalid PID mode');
    fails(['--pid', 'container:'], '--pid: invalid PID mode');
    fails(['--uts', 'private'], '--uts: invalid UTS mode');
    fails(['--userns', 'private'], '--userns: invalid USER mode');
  });
});

describe('the daemon checks alone (for the API server)', () => {
  test('validateContainerSettings accepts what the flags build and refuses a bad request', () => {
    const p = parse(['-m', '64m', '--restart', 'on-failure:3', 'busybox']);
    validateContainerSettings(p.config, p.hostConfig);
    assert.throws(() => validateContainerSettings({ ...p.config, Env: ['=x'] }, p.hostConfig), /^Error: invalid environment variable: =x$/);
    assert.throws(() => validateContainerSettings(p.config, { ...p.hostConfig, AutoRemove: true }), /can't create 'AutoRemove' container with restart policy/);
    assert.throws(() => validateContainerSettings(p.config, { ...p.hostConfig, Tmpfs: { 'a:b': '' } }), /invalid mount path: 'a:b'/);
  });
});

describe('Go value grammars', () => {
  test('%q quoting', () => {
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote('\n\t\x01\x7f'), '"\\n\\t\\x01\\x7f"');
    assert.equal(goQuote('é日\u200b'), '"é日\\u200b"');
    assert.equal(goQuote('\u{1F600}'), '"\u{1F600}"');
  });

  test('ParseBool, ParseInt (base 0), Atoi', () => {
    assert.equal(parseBool('T'), true);
    assert.equal(parseBool('False'), false);
    assert.throws(() => parseBool('yes'), /strconv.ParseBool: parsing "yes": invalid syntax/);
    assert.equal(parseFlagInt('0x1f'), 31);
    assert.equal(parseFlagInt('0o17'), 15);
    assert.equal(parseFlagInt('017'), 15);
    assert.equal(parseFlagInt('0b11'), 3);
    assert.equal(parseFlagInt('1_000'), 1000);
    assert.equal(parseFlagInt('-0x10'), -16);
    assert.equal(parseFlagInt('0'), 0);
    for (const bad of ['_1', '1__0', '1_', '08', '0x', '', '+', '1.0']) assert.throws(() => parseFlagInt(bad), /invalid syntax/, bad);
    assert.throws(() => parseFlagInt('9223372036854775808'), /value out of range/);
    assert.equal(parseFlagInt('-9223372036854775808'), -(2 ** 63));
    assert.equal(atoi('+42'), 42);
    assert.throws(() => atoi('0x10'), /strconv.Atoi: parsing "0x10": invalid syntax/);
  });

  test('RAMInBytes and FromHumanSize', () => {
    assert.equal(ramInBytes('1k'), 1024);
    assert.equal(ramInBytes('1KiB'), 1024);
    assert.equal(ramInBytes('1.5 MB'), 1.5 * 2 ** 20);
    assert.equal(ramInBytes('32'), 32);
    assert.equal(ramInBytes('32b'), 32);
    assert.equal(ramInBytes('1e3'), 1000);
    assert.equal(fromHumanSize('10m'), 10_000_000);
    assert.throws(() => ramInBytes('1KB2'), /invalid size|ParseFloat/);
    assert.throws(() => ramInBytes('1kib '), /invalid/);
    assert.throws(() => ramInBytes('10 Mbit'), /invalid suffix: 'Mbit'/);
  });

  test('time.ParseDuration', () => {
    assert.equal(parseDuration('0'), 0n);
    assert.equal(parseDuration('1h2m3s4ms5us6ns'), 3_723_004_005_006n);
    assert.equal(parseDuration('1.5h'), 5_400_000_000_000n);
    assert.equal(parseDuration('-2s'), -2_000_000_000n);
    assert.equal(parseDuration('3µs'), 3000n);
    assert.equal(parseDuration('3μs'), 3000n);
    assert.equal(parseDuration('.5s'), 500_000_000n);
    assert.equal(parseDuration('2562047h47m16.854775807s'), 2n ** 63n - 1n);
    assert.throws(() => parseDuration(''), /^Error: time: invalid duration ""$/);
    assert.throws(() => parseDuration('1'), /time: missing unit in duration "1"/);
    assert.throws(() => parseDuration('1d'), /time: unknown unit "d" in duration "1d"/);
    assert.throws(() => parseDuration('1é'), /time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"/);
    assert.throws(() => parseDuration('2562048h'), /time: invalid duration "2562048h"/);
  });

  test('encoding/csv first record', () => {
    assert.deepEqual(readCsvRecord('a,b,c'), ['a', 'b', 'c']);
    assert.deepEqual(readCsvRecord('"a,b",c'), ['a,b', 'c']);
    assert.deepEqual(readCsvRecord('"a""b",'), ['a"b', '']);
    assert.deepEqual(readCsvRecord('\n\na,b\nc,d'), ['a', 'b']);
    assert.deepEqual(readCsvRecord('"multi\nline",x'), ['multi\nline', 'x']);
    assert.deepEqual(readCsvRecord('a,b\r\n'), ['a', 'b']);
    assert.throws(() => readCsvRecord(''), /^Error: EOF$/);
    assert.throws(() => readCsvRecord('é,"x'), /parse error on line 1, column 6: extraneous or missing " in quoted-field/);
    assert.throws(() => readCsvRecord('"a\nb'), /record on line 1; parse error on line 2, column 2: extraneous or missing " in quoted-field/);
  });

  test('net.ParseIP and IP.String', () => {
    const ip = (s: string) => {
      const b = parseIP(s);
      return b ? formatIP(b) : null;
    };
    assert.equal(ip('10.0.0.1'), '10.0.0.1');
    assert.equal(ip('::'), '::');
    assert.equal(ip('::1'), '::1');
    assert.equal(ip('1::'), '1::');
    assert.equal(ip('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
    assert.equal(ip('1:0:0:1:0:0:0:1'), '1:0:0:1::1');
    assert.equal(ip('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
    assert.equal(ip('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
    assert.equal(ip('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(ip('64:ff9b::1.2.3.4'), '64:ff9b::102:304');
    for (const bad of ['1.2.3', '1.2.3.4.5', '1.2.3.04', '256.1.1.1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8:9', '1:2:3:4:5:6:7:8::',
      '12345::', '::1:', ':1::', 'fe80::1%eth0', '1:2:3:4:5:6:1.2.3.4:1', '']) {
      assert.equal(ip(bad), null, bad);
    }
  });
});
