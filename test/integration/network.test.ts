// Bridge networks with real traffic: names and aliases through hull-dns, isolation between
// networks, published TCP and UDP ports from the host, from "outside" (a network namespace routed
// through the host) and from a container (hairpin), with the client's real address checked where
// the kernel keeps it; --internal, the other modes, IPv6, 30 containers at once, and teardown.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO } from './harness.ts';
import { engine, engineBridges, findProcess, firewallTable, type Engine } from './helpers/engine.ts';

let e: Engine;
let tools: string;
/** A network namespace standing for another machine, routed to the host through a veth. */
const outside = { ns: `hout${process.pid}`, host: `ho${process.pid}`, hostIp: '', ip: '' };

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

before(() => {
  e = engine();
  tools = mkdtempSync('/var/tmp/hull-net-tools-');
  sh('gcc', ['-static', '-O2', '-o', join(tools, 'udp-echo'), join(REPO, 'test/integration/fixtures/udp-echo.c')]);
  // busybox httpd runs CGI scripts with the client's address in REMOTE_ADDR
  mkdirSync(join(tools, 'www/cgi-bin'), { recursive: true });
  writeFileSync(join(tools, 'www/index.html'), 'hello from hull\n');
  writeFileSync(join(tools, 'www/cgi-bin/ip'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n');
  chmodSync(join(tools, 'www/cgi-bin/ip'), 0o755);
  const n = process.pid % 250;
  outside.hostIp = `198.18.${n}.1`;
  outside.ip = `198.18.${n}.2`;
  sh('ip', ['netns', 'add', outside.ns]);
  sh('ip', ['link', 'add', outside.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.ns]);
  sh('ip', ['addr', 'add', `${outside.hostIp}/30`, 'dev', outside.host]);
  sh('ip', ['link', 'set', outside.host, 'up']);
  sh('ip', ['-n', outside.ns, 'addr', 'add', `${outside.ip}/30`, 'dev', 'eth0']);
  sh('ip', ['-n', outside.ns, 'link', 'set', 'eth0', 'up']);
  sh('ip', ['-n', outside.ns, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', outside.ns, 'route', 'add', 'default', 'via', outside.hostIp]);
});

after(() => {
  try {
    e.destroy();
  } finally {
    spawnSync('ip', ['link', 'del', outside.host]);
    spawnSync('ip', ['netns', 'del', outside.ns]);
    rmSync(tools, { recursive: true, force: true });
  }
});

function inspect(ref: string): Record<string, any> {
  return JSON.parse(e.ok(['inspect', ref]))[0];
}

/** Runs a busybox command from the outside namespace. */
function fromOutside(args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync('ip', ['netns', 'exec', outside.ns, 'busybox', ...args], { encoding: 'utf8', timeout: 20_000 });
}

/**
 * An HTTP GET as a busybox shell command printing the body. Debian's busybox-static wget
 * crashes without glibc's NSS modules (it looks up the "http" service), so nc speaks HTTP.
 */
function get(host: string, port: number, path = '/', bb = ''): string {
  return `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | ${bb}nc -w 5 ${host} ${port} | ${bb}tr -d '\\r' | ${bb}sed '1,/^$/d'`;
}

/** Runs get() in a new container with these run flags. */
function getFrom(flags: string[], host: string, port = 80, path = '/'): ReturnType<Engine['run']> {
  return e.run(['run', '--rm', ...flags, 'busybox', 'sh', '-c', get(host, port, path)]);
}

function getFromOutside(host: string, port: number, path = '/'): ReturnType<typeof spawnSync> {
  return fromOutside(['sh', '-c', get(host, port, path, 'busybox ')]);
}

function web(name: string, extra: string[] = []): string {
  return e.ok(['run', '-d', '--name', name, '-v', `${join(tools, 'www')}:/www:ro`, ...extra, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
}

function udpEcho(name: string, extra: string[] = []): string {
  return e.ok(['run', '-d', '--name', name, '-v', `${join(tools, 'udp-echo')}:/udp-echo:ro`, ...extra, 'busybox', '/udp-echo', '9999']);
}

async function udpAsk(host: string, port: number, text: string): Promise<string> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => s.send(text, port, host), 300);
      s.on('message', (m) => {
        clearInterval(timer);
        resolve(m.toString());
      });
      s.on('error', reject);
      s.send(text, port, host);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no UDP answer from ${host}:${port}`));
      }, 10_000);
    });
  } finally {
    s.close();
  }
}

function hostAddress(): string {
  const route = JSON.parse(sh('ip', ['-j', 'route', 'get', '192.0.2.200'])) as { prefsrc: string }[];
  return route[0]!.prefsrc;
}

describe('the default bridge', () => {
  it('gives a container eth0 with an address, a default route, and a way out', () => {
    const out = e.ok(['run', '--rm', '--name', 'b1', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route; cat /sys/class/net/eth0/mtu']);
    assert.match(out, /eth0\s+inet (\d+\.\d+\.\d+\.\d+)\/\d+/);
    assert.match(out, /default via \d+\.\d+\.\d+\.\d+ dev eth0/);
    assert.match(out, /^1500$/m);
    // out through the masquerade, to the "outside machine"
    const r = e.run(['run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '5', outside.ip]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('shows the address in inspect and network inspect while it runs', () => {
    e.ok(['run', '-d', '--name', 'b2', 'busybox', 'sleep', '1000']);
    const c = inspect('b2');
    const ep = c.NetworkSettings.Networks.bridge;
    assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(c.NetworkSettings.IPAddress, ep.IPAddress);
    assert.equal(ep.MacAddress, '02:42:' + ep.IPAddress.split('.').map((b: string) => Number(b).toString(16).padStart(2, '0')).join(':'));
    const net = JSON.parse(e.ok(['network', 'inspect', 'bridge']))[0];
    assert.equal(net.Containers[c.Id].IPv4Address, `${ep.IPAddress}/${ep.IPPrefixLen}`);
    const ownHosts = e.ok(['exec', 'b2', 'cat', '/etc/hosts']);
    assert.match(ownHosts, new RegExp(`^${ep.IPAddress.replaceAll('.', '\\.')}\\s+${c.Config.Hostname}$`, 'm'));
    e.ok(['rm', '-f', 'b2']);
    assert.equal(JSON.parse(e.ok(['network', 'inspect', 'bridge']))[0].Containers[c.Id], undefined);
  });
});

describe('user-defined networks', () => {
  it('resolve names and aliases through hull-dns, and keep networks apart', () => {
    e.ok(['network', 'create', 'front']);
    e.ok(['network', 'create', 'back']);
    web('site', ['--network', 'front', '--network-alias', 'www']);
    const siteIp = inspect('site').NetworkSettings.Networks.front.IPAddress;
    for (const name of ['site', 'www', 'SITE', 'site.']) {
      const r = getFrom(['--network', 'front'], name);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, 'hello from hull\n');
    }
    const look = e.ok(['run', '--rm', '--network', 'front', 'busybox', 'nslookup', 'site']);
    assert.match(look, new RegExp(siteIp.replaceAll('.', '\\.')));
    // another network neither resolves the name nor reaches the address
    const byName = getFrom(['--network', 'back'], 'site');
    assert.equal(byName.stdout, '');
    assert.match(byName.stderr, /bad address 'site'/);
    const byIp = getFrom(['--network', 'back'], siteIp);
    assert.equal(byIp.stdout, '');
    // a container on both networks reaches it
    const both = e.run(['run', '--rm', '--network', 'back', '--network', 'front', 'busybox', 'sh', '-c', `ip -o link | grep -c eth; ${get('site', 80)}`]);
    assert.equal(both.status, 0, both.stderr);
    assert.equal(both.stdout, '2\nhello from hull\n');
    e.ok(['rm', '-f', 'site']);
  });

  it('--dns on a user network: hull-dns forwards other names to those servers, and still answers its own', async () => {
    // a fake upstream in another process (this one blocks in spawnSync): every A query is 192.0.2.99
    const upstream = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.on('message', (q, from) => {
        let end = 12; while (q[end]) end += q[end] + 1; end += 5;
        const head = Buffer.from(q.subarray(0, 12)); head.writeUInt16BE(0x8180, 2); head.writeUInt16BE(1, 6);
        const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 99]);
        s.send(Buffer.concat([head, q.subarray(12, end), answer]), from.port, from.address);
      });
      s.bind(53, '127.0.0.77', () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => upstream.stdout!.once('data', r));
      web('named', ['--network', 'front']);
      const r = e.run(['run', '--rm', '--network', 'front', '--dns', '127.0.0.77', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; nslookup far.example.test; nslookup named']);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const gw = JSON.parse(e.ok(['network', 'inspect', 'front']))[0].IPAM.Config[0].Gateway;
      assert.match(r.stdout, new RegExp(`^nameserver ${gw.replaceAll('.', '\\.')}$`, 'm'));
      assert.match(r.stdout, /Name:\s+far\.example\.test\nAddress: 192\.0\.2\.99/);
      assert.match(r.stdout, new RegExp(`Name:\\s+named\\nAddress: ${inspect('named').NetworkSettings.Networks.front.IPAddress.replaceAll('.', '\\.')}`));
      e.ok(['rm', '-f', 'named']);
    } finally {
      upstream.kill();
    }
  });

  it('connect and disconnect a running container', () => {
    e.ok(['network', 'create', 'late']);
    e.ok(['run', '-d', '--name', 'hopper', '--network', 'front', 'busybox', 'sleep', '1000']);
    e.ok(['network', 'connect', '--alias', 'hop', 'late', 'hopper']);
    const ip = inspect('hopper').NetworkSettings.Networks.late.IPAddress;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(e.run(['run', '--rm', '--network', 'late', 'busybox', 'ping', '-c', '1', '-W', '5', 'hop']).status, 0);
    assert.equal(e.ok(['exec', 'hopper', 'sh', '-c', 'ls /sys/class/net | grep -c eth']), '2');
    // leaving eth0's network and joining it again fills the gap instead of clashing with eth1
    e.ok(['network', 'disconnect', 'front', 'hopper']);
    e.ok(['network', 'connect', 'front', 'hopper']);
    assert.equal(e.ok(['exec', 'hopper', 'sh', '-c', 'ls /sys/class/net | grep eth | sort | tr "\\n" " "']), 'eth0 eth1');
    e.ok(['network', 'disconnect', 'late', 'hopper']);
    assert.equal(inspect('hopper').NetworkSettings.Networks.late, undefined);
    assert.equal(e.ok(['exec', 'hopper', 'sh', '-c', 'ls /sys/class/net | grep -c eth']), '1');
    assert.notEqual(e.run(['run', '--rm', '--network', 'late', 'busybox', 'nslookup', 'hop']).status, 0);
    e.ok(['rm', '-f', 'hopper']);
    e.ok(['network', 'rm', 'late']);
  });

  it('--internal networks have no way out, but their containers reach each other', () => {
    e.ok(['network', 'create', '--internal', 'closed']);
    e.ok(['run', '-d', '--name', 'inner', '--network', 'closed', 'busybox', 'sleep', '1000']);
    assert.equal(e.run(['run', '--rm', '--network', 'closed', 'busybox', 'ping', '-c', '1', '-W', '5', 'inner']).status, 0);
    const out = e.run(['run', '--rm', '--network', 'closed', 'busybox', 'sh', '-c', `ip route; ping -c 1 -W 2 ${outside.ip}`]);
    assert.notEqual(out.status, 0);
    assert.doesNotMatch(out.stdout, /default/);
    e.ok(['rm', '-f', 'inner']);
    e.ok(['network', 'rm', 'closed']);
  });

  it('dual-stack networks give IPv6 addresses that resolve and answer', () => {
    e.ok(['network', 'create', '--ipv6', '--subnet', 'fd42:4242:4242:4242::/64', 'six']);
    e.ok(['run', '-d', '--name', 'v6peer', '--network', 'six', 'busybox', 'sleep', '1000']);
    const ep = inspect('v6peer').NetworkSettings.Networks.six;
    assert.match(ep.GlobalIPv6Address, /^fd42:4242:4242:4242::/);
    assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    const r = e.run(['run', '--rm', '--network', 'six', 'busybox', 'sh', '-c', `ping6 -c 1 -W 5 ${ep.GlobalIPv6Address} && nslookup -type=aaaa v6peer`]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(ep.GlobalIPv6Address));
    e.ok(['rm', '-f', 'v6peer']);
    e.ok(['network', 'rm', 'six']);
  });

  it('30 containers on one network all reach each other by name', () => {
    e.ok(['network', 'create', 'crowd']);
    const names = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (const n of names) e.ok(['run', '-d', '--name', n, '--network', 'crowd', 'busybox', 'sleep', '1000']);
    const script = `for n in ${names.join(' ')}; do ping -c 1 -W 3 $n >/dev/null || echo unreachable $n; done`;
    for (const n of names) {
      const r = e.run(['exec', n, 'sh', '-c', script]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '', `${n}: ${r.stdout}`);
    }
    e.ok(['rm', '-f', ...names]);
    e.ok(['network', 'rm', 'crowd']);
  });
});

describe('published ports', () => {
  it('TCP: from outside with the client\'s real address, from the host, and by hairpin', async () => {
    web('pub', ['-p', '18080:80', '-p', '127.0.0.1:18081:80']);
    assert.equal(e.ok(['port', 'pub', '80']), '0.0.0.0:18080\n127.0.0.1:18081'.split('\n').join('\n'));
    // from another machine: the server sees the client itself, not a gateway
    const r = getFromOutside(outside.hostIp, 18080, '/cgi-bin/ip');
    assert.equal(r.status, 0, String(r.stderr));
    // httpd's dual-stack socket shows an IPv4 client as [::ffff:a.b.c.d]
    assert.equal(String(r.stdout).trim().replace(/^\[::ffff:(.*)\]$/, '$1'), outside.ip);
    // 127.0.0.1-only binding is not reachable from outside
    assert.equal(String(getFromOutside(outside.hostIp, 18081).stdout), '');
    // from the host itself
    for (const url of ['http://127.0.0.1:18080/', 'http://127.0.0.1:18081/', `http://${hostAddress()}:18080/`]) {
      const res = await fetch(url);
      assert.equal(await res.text(), 'hello from hull\n', url);
    }
    // hairpin: a container on the same bridge through the host's address
    const hp = getFrom([], hostAddress(), 18080);
    assert.equal(hp.status, 0, hp.stderr);
    assert.equal(hp.stdout, 'hello from hull\n');
    const ps = e.ok(['ps', '--filter', 'name=pub', '--format', '{{.Ports}}']);
    assert.match(ps, /0\.0\.0\.0:18080->80\/tcp/);
    assert.match(ps, /127\.0\.0\.1:18081->80\/tcp/);
    e.ok(['rm', '-f', 'pub']);
    // gone with the container
    await assert.rejects(fetch('http://127.0.0.1:18080/', { signal: AbortSignal.timeout(3000) }));
  });

  it('UDP: from outside with the client\'s real address, and from the host', async () => {
    udpEcho('echo', ['-p', '19999:9999/udp']);
    const r = spawnSync('ip', ['netns', 'exec', outside.ns, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4');
      const t = setInterval(() => s.send('ping', 19999, '${outside.hostIp}'), 300);
      s.on('message', (m) => { console.log(m.toString()); clearInterval(t); s.close(); });
      s.send('ping', 19999, '${outside.hostIp}');
      setTimeout(() => process.exit(3), 10000).unref();`], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `ping from ${outside.ip}`);
    assert.match(await udpAsk('127.0.0.1', 19999, 'hi'), /^hi from /);
    e.ok(['rm', '-f', 'echo']);
  });

  it('-P publishes every exposed port on a free port, and a taken port is refused', () => {
    web('pall', ['--expose', '80', '-P']);
    const line = e.ok(['port', 'pall']);
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(line);
    assert.ok(m, line);
    const r = getFromOutside(outside.hostIp, Number(m[1]));
    assert.equal(String(r.stdout), 'hello from hull\n');
    const clash = e.run(['run', '-d', '--name', 'clash', '-p', `${m[1]}:80`, 'busybox', 'sleep', '100']);
    assert.equal(clash.status, 125);
    assert.match(clash.stderr, /port is already allocated/);
    e.ok(['rm', '-f', 'pall', 'clash']);
  });

  it('a range of ports maps one to one', () => {
    web('ranged', ['-p', '18100-18101:80-81']);
    const out = e.ok(['port', 'ranged']);
    assert.match(out, /80\/tcp -> 0\.0\.0\.0:18100/);
    assert.match(out, /81\/tcp -> 0\.0\.0\.0:18101/);
    e.ok(['rm', '-f', 'ranged']);
  });
});

describe('the container reaches the host', () => {
  it('through its gateway address', () => {
    // a server in another process: this one is blocked in spawnSync while the container asks
    const server = spawn('busybox', ['httpd', '-f', '-p', '0.0.0.0:18200', '-h', join(tools, 'www')], { stdio: 'ignore' });
    try {
      const gw = JSON.parse(e.ok(['network', 'inspect', 'bridge']))[0].IPAM.Config[0].Gateway;
      let r = getFrom([], gw, 18200);
      // httpd may still be starting
      for (let i = 0; i < 20 && r.stdout === ''; i++) r = getFrom([], gw, 18200);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'hello from hull\n');
    } finally {
      server.kill();
    }
  });
});

describe('other modes and DNS options', () => {
  it('none has only loopback; host sees the host\'s links; container: shares another\'s', () => {
    assert.equal(e.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net']), 'lo');
    const hostLinks = e.ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.match(hostLinks, /eth0/);
    assert.match(hostLinks, new RegExp(outside.host));
    e.ok(['run', '-d', '--name', 'owner', 'busybox', 'sleep', '1000']);
    const ip = inspect('owner').NetworkSettings.IPAddress;
    const shared = e.ok(['run', '--rm', '--network', 'container:owner', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.match(shared, new RegExp(`inet ${ip.replaceAll('.', '\\.')}/`));
    e.ok(['rm', '-f', 'owner']);
  });

  it('--dns, --dns-search, --add-host and --hostname', () => {
    const out = e.ok(['run', '--rm', '--dns', '192.0.2.53', '--dns-search', 'example.test', '--add-host', 'db:192.0.2.7', '--hostname', 'box',
      'busybox', 'sh', '-c', 'cat /etc/resolv.conf; cat /etc/hosts; hostname']);
    assert.match(out, /^nameserver 192\.0\.2\.53$/m);
    assert.match(out, /^search example\.test$/m);
    assert.match(out, /^192\.0\.2\.7\tdb$/m);
    assert.match(out, /\tbox$/m);
    assert.match(out, /^box$/m);
  });
});

describe('teardown', () => {
  it('a removed container and network leave no veth, address, rule or DNS entry', () => {
    e.ok(['network', 'create', 'brief']);
    const id = e.ok(['run', '-d', '--network', 'brief', '--name', 'gone', '-p', '18300:80', 'busybox', 'sleep', '1000']);
    const bridge = JSON.parse(e.ok(['network', 'inspect', 'brief']))[0].Options['com.docker.network.bridge.name'];
    assert.match(sh('ip', ['link', 'show', 'master', bridge]), /veth/);
    assert.match(sh('nft', ['list', 'table', 'inet', firewallTable(e)]), new RegExp(id.slice(0, 12)));
    e.ok(['rm', '-f', 'gone']);
    assert.equal(sh('ip', ['link', 'show', 'master', bridge]), '');
    assert.doesNotMatch(sh('nft', ['list', 'table', 'inet', firewallTable(e)]), new RegExp(id.slice(0, 12)));
    e.ok(['network', 'rm', 'brief']);
    assert.notEqual(spawnSync('ip', ['link', 'show', bridge]).status, 0);
    assert.ok(!engineBridges(e).includes(bridge));
  });

  it('a killed shim\'s container is torn down by the next command', () => {
    e.ok(['run', '-d', '--name', 'orphan', '-p', '18301:80', 'busybox', 'sleep', '1000']);
    const c = inspect('orphan');
    const shim = findProcess('hull-shim', c.Id);
    assert.ok(shim);
    process.kill(shim, 'SIGKILL');
    process.kill(c.State.Pid, 'SIGKILL');
    // the next command reconciles: exited, no veth, no port rule
    e.ok(['ps', '-a']);
    assert.equal(inspect('orphan').State.Running, false);
    // the kernel deletes the veth with the namespace, in the background
    const bridge = JSON.parse(e.ok(['network', 'inspect', 'bridge']))[0].Options['com.docker.network.bridge.name'];
    for (let i = 0; i < 50 && sh('ip', ['link', 'show', 'master', bridge]) !== ''; i++) spawnSync('sleep', ['0.1']);
    assert.equal(sh('ip', ['link', 'show', 'master', bridge]), '');
    assert.doesNotMatch(sh('nft', ['list', 'table', 'inet', firewallTable(e)]), new RegExp(c.Id.slice(0, 12)));
    e.ok(['rm', 'orphan']);
  });
});
