// hull-dns (native/dns.c) and its TypeScript side (src/network/dns/), with real processes and
// real UDP/TCP on 127.0.0.2 and 127.0.0.3 (two "networks") and a free high port, so no bridge is
// needed; one test runs glibc's resolver against it on port 53 in a private network namespace.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dnsServerPid, notifyDns, removeNetworkDns, writeNetworkDns } from '../../src/network/dns/index.ts';
import { processStart } from '../../src/sys/proc.ts';
import { REPO } from './harness.ts';

// HULL_DNS: another build of the server (one with sanitizers, say)
const DNS = process.env.HULL_DNS ?? join(REPO, 'dist/hull-dns');
const N1 = '127.0.0.2';
const N2 = '127.0.0.3';

const T_A = 1;
const T_MX = 15;
const T_PTR = 12;
const T_AAAA = 28;
const T_ANY = 255;
const NOERROR = 0;
const FORMERR = 1;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const NOTIMP = 4;

// ---- DNS messages -----------------------------------------------------------------------------

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function query(id: number, name: string, type: number, o: { edns?: number; flags?: number } = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(o.flags ?? 0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const parts = [h, encodeName(name), Buffer.from([type >> 8, type & 255, 0, 1])];
  if (o.edns !== undefined) {
    h.writeUInt16BE(1, 10);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(o.edns, 3);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

function readName(m: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let off = start;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = m[off]!;
    if (len >= 0xc0) {
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | m[off + 1]!;
      continue;
    }
    if (len === 0) return [labels.join('.'), end < 0 ? off + 1 : end];
    labels.push(m.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  throw new Error('name loops');
}

interface Answer { name: string; type: number; ttl: number; data: string }
interface Reply { id: number; aa: boolean; tc: boolean; rcode: number; qdcount: number; arcount: number; qname?: string; qtype?: number; answers: Answer[] }

function ipv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function decode(m: Buffer): Reply {
  assert.ok(m.length >= 12, `reply of ${m.length} bytes`);
  assert.ok(m[2]! & 0x80, 'QR set in a reply');
  const r: Reply = {
    id: m.readUInt16BE(0), aa: !!(m[2]! & 4), tc: !!(m[2]! & 2), rcode: m[3]! & 15,
    qdcount: m.readUInt16BE(4), arcount: m.readUInt16BE(10), answers: [],
  };
  let off = 12;
  if (r.qdcount === 1) {
    const [name, end] = readName(m, off);
    r.qname = name;
    r.qtype = m.readUInt16BE(end);
    off = end + 4;
  }
  for (let i = 0; i < m.readUInt16BE(6); i++) {
    const [name, end] = readName(m, off);
    const type = m.readUInt16BE(end);
    const ttl = m.readUInt32BE(end + 4);
    const rdlen = m.readUInt16BE(end + 8);
    const rd = m.subarray(end + 10, end + 10 + rdlen);
    let data = rd.toString('hex');
    if (type === T_A) data = [...rd].join('.');
    if (type === T_AAAA) data = ipv6(rd.toString('hex').replace(/(.{4})(?!$)/g, '$1:'));
    if (type === T_PTR) data = readName(m, end + 10)[0];
    r.answers.push({ name, type, ttl, data });
    off = end + 10 + rdlen;
  }
  return r;
}

/** A reply to q as an upstream would make it: its ID unless told, its question, these A answers. */
function upstreamReply(q: Buffer, o: { id?: number; rcode?: number; a?: string[]; question?: Buffer } = {}): Buffer {
  const [, end] = readName(q, 12);
  const question = o.question ?? q.subarray(12, end + 4);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? q.readUInt16BE(0), 0);
  h.writeUInt16BE(0x8180 | (o.rcode ?? 0), 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(o.a?.length ?? 0, 6);
  const answers = (o.a ?? []).map((ip) => Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, ...ip.split('.').map(Number)]));
  return Buffer.concat([h, question, ...answers]);
}

// ---- clients ----------------------------------------------------------------------------------

/** Sends packets from one socket; returns every reply until one with the last packet's ID (or the timeout). */
function udpExchange(host: string, port: number, packets: Buffer[], timeoutMs = 3000): Promise<Buffer[]> {
  const lastId = packets.at(-1)!.length >= 2 ? packets.at(-1)!.readUInt16BE(0) : -1;
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      s.close();
      resolve(got);
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('error', () => done());
    s.on('message', (m) => {
      got.push(m);
      if (m.length >= 2 && m.readUInt16BE(0) === lastId) done();
    });
    s.connect(port, host, () => {
      for (const p of packets) s.send(p);
    });
  });
}

async function udpAsk(host: string, port: number, q: Buffer, timeoutMs = 3000): Promise<Reply | undefined> {
  const got = await udpExchange(host, port, [q], timeoutMs);
  const m = got.find((b) => b.length >= 2 && b.readUInt16BE(0) === q.readUInt16BE(0));
  return m ? decode(m) : undefined;
}

function tcpAsk(host: string, port: number, q: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let buf = Buffer.alloc(0);
    s.setTimeout(10_000, () => s.destroy(new Error('TCP query timed out')));
    s.on('error', reject);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on('close', () => reject(new Error('connection closed before a reply')));
  });
}

let nextId = 1;
const id = () => (nextId = (nextId * 7919 + 17) & 0xffff);

async function askA(host: string, port: number, name: string, type = T_A): Promise<Reply> {
  const r = await udpAsk(host, port, query(id(), name, type));
  assert.ok(r, `no reply for ${name} from ${host}:${port}`);
  return r;
}

/** Retries a query until the answer satisfies ok (the server starts or reloads meanwhile). */
async function until(what: string, ask: () => Promise<Reply | undefined>, ok: (r: Reply | undefined) => boolean): Promise<Reply | undefined> {
  let last: Reply | undefined;
  for (let i = 0; i < 100; i++) {
    last = await ask();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: last reply ${JSON.stringify(last)}`);
}

// ---- servers and the test's own directory -----------------------------------------------------

/** A port free for UDP and TCP on every address the tests use. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const held: (net.Server | dgram.Socket)[] = [];
    const ok = await (async () => {
      for (const host of [N1, N2, '127.0.0.1', '127.0.0.4', '127.0.0.5']) {
        const ok = await new Promise<boolean>((resolve) => {
          const srv = net.createServer();
          srv.once('error', () => resolve(false));
          srv.listen(port, host, () => { held.push(srv); resolve(true); });
        }) && await new Promise<boolean>((resolve) => {
          const s = dgram.createSocket('udp4');
          s.once('error', () => resolve(false));
          s.bind(port, host, () => { held.push(s); resolve(true); });
        });
        if (!ok) return false;
      }
      return true;
    })();
    for (const h of held) h.close();
    if (ok) return port;
  }
}

interface Server {
  proc: ChildProcess;
  stderr(): string;
  exit: Promise<number | null>;
}

function startServer(dir: string, port: number): Server {
  const proc = spawn(DNS, ['--port', String(port), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stderr: () => err, exit };
}

/** hull-dns processes whose command line names dir or a directory in it. */
function serversOf(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('hull-dns') && argv.some((a) => a === dir || a.startsWith(dir + '/')) && processStart(Number(p)) !== undefined) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && processStart(pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(processStart(pid), undefined, `process ${pid} still there`);
}

interface Ctx {
  dir: string;
  port: number;
  net(name: string, lines: string[]): void;
  start(): Server;
}

/** Runs body with its own directory and port; afterwards kills what is left and asserts nothing was. */
async function withDns(body: (c: Ctx) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hull-dns-'));
  const port = await freePort();
  const servers: Server[] = [];
  const c: Ctx = {
    dir, port,
    net(name, lines) {
      writeFileSync(join(dir, `.${name}.tmp`), lines.join('\n') + '\n');
      renameSync(join(dir, `.${name}.tmp`), join(dir, name));
    },
    start() {
      const s = startServer(dir, port);
      servers.push(s);
      return s;
    },
  };
  let failure: unknown;
  try {
    await body(c);
  } catch (e) {
    failure = e;
  }
  const left = serversOf(dir);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  for (const pid of left) await gone(pid);
  for (const s of servers) await s.exit;
  rmSync(dir, { recursive: true, force: true });
  if (failure) {
    const err = servers.map((s) => s.stderr()).join('');
    if (err && failure instanceof Error) failure.message += `\nhull-dns stderr:\n${err.slice(0, 4000)}`;
    throw failure;
  }
  assert.deepEqual(left, [], 'a hull-dns was left running');
}

/** Stops a server the way the engine would: its directory emptied, then a SIGHUP; it exits 0. */
async function emptyAndStop(c: Ctx, s: Server): Promise<void> {
  for (const f of readdirSync(c.dir)) if (!f.startsWith('.')) rmSync(join(c.dir, f), { recursive: true });
  s.proc.kill('SIGHUP');
  assert.equal(await s.exit, 0, s.stderr());
  assert.ok(!existsSync(join(c.dir, '.pid')), 'the pidfile goes with the server');
}

/** Waits until the server answers on host: a STATUS query, which it answers itself (NOTIMP) whatever its records. */
const ready = (host: string, port: number) =>
  until(`hull-dns on ${host}:${port} answers`, () => udpAsk(host, port, query(id(), 'ready.probe', T_A, { flags: 0x1000 }), 300), (r) => r?.rcode === NOTIMP);

// ---- a fake upstream resolver ----------------------------------------------------------------

interface Upstream {
  port: number;
  seen: { msg: Buffer; from: dgram.RemoteInfo }[];
  sock: dgram.Socket;
  close(): Promise<void>;
}

function upstream(answer: (q: Buffer, from: dgram.RemoteInfo, sock: dgram.Socket) => void): Promise<Upstream> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const seen: Upstream['seen'] = [];
    sock.on('message', (msg, from) => {
      seen.push({ msg, from });
      answer(msg, from, sock);
    });
    sock.bind(0, '127.0.0.1', () => resolve({
      port: sock.address().port, seen, sock,
      close: () => new Promise<void>((r) => sock.close(() => r())),
    }));
  });
}

// ---- the tests --------------------------------------------------------------------------------

test('names and aliases resolve on their network: A, AAAA, ANY, PTR, any case, with or without the trailing dot', async () => {
  await withDns(async (c) => {
    c.net('n1', [
      `listen ${N1}`,
      'record web 10.88.0.2', 'record web fd00:88::2', 'record 0123456789ab 10.88.0.2', 'record Front.End 10.88.0.2',
      'record db 10.88.0.3', 'record db-alias 10.88.0.3',
    ]);
    const s = c.start();
    await ready(N1, c.port);

    const q = query(0xbeef, 'web', T_A);
    const a = (await udpAsk(N1, c.port, q))!;
    assert.equal(a.id, 0xbeef);
    assert.equal(a.rcode, NOERROR);
    assert.ok(a.aa, 'authoritative for its own names');
    assert.equal(a.qname, 'web');
    assert.deepEqual(a.answers, [{ name: 'web', type: T_A, ttl: 60, data: '10.88.0.2' }]);

    for (const name of ['WEB', 'web.', 'WeB.', '0123456789AB', 'front.end', 'FRONT.END.']) {
      const r = await askA(N1, c.port, name);
      assert.deepEqual(r.answers.map((x) => x.data), ['10.88.0.2'], name);
      assert.equal(r.qname, name.replace(/\.$/, ''), 'the question comes back as asked');
    }
    assert.deepEqual((await askA(N1, c.port, 'db-alias')).answers.map((x) => x.data), ['10.88.0.3']);
    assert.deepEqual((await askA(N1, c.port, 'web', T_AAAA)).answers.map((x) => x.data), ['fd00:88::2']);
    assert.deepEqual((await askA(N1, c.port, 'web', T_ANY)).answers.map((x) => x.data).sort(), ['10.88.0.2', 'fd00:88::2']);

    // a known name without the type asked: no answers, and not NXDOMAIN
    for (const [name, type] of [['db', T_AAAA], ['web', T_MX]] as const) {
      const r = await askA(N1, c.port, name, type);
      assert.equal(r.rcode, NOERROR);
      assert.deepEqual(r.answers, []);
    }

    // PTR: the first record of the address names it
    const ptr = await askA(N1, c.port, '2.0.88.10.in-addr.arpa', T_PTR);
    assert.deepEqual(ptr.answers.map((x) => [x.type, x.data]), [[T_PTR, 'web']]);
    assert.deepEqual((await askA(N1, c.port, '3.0.88.10.IN-ADDR.ARPA.', T_PTR)).answers.map((x) => x.data), ['db']);
    const v6rev = [...'fd000088000000000000000000000002'].reverse().join('.') + '.ip6.arpa';
    assert.deepEqual((await askA(N1, c.port, v6rev, T_PTR)).answers.map((x) => x.data), ['web']);

    // over TCP too
    assert.deepEqual((await tcpAsk(N1, c.port, query(7, 'Web', T_A))).answers.map((x) => x.data), ['10.88.0.2']);
    await emptyAndStop(c, s);
  });
});

test('networks are isolated: without forwarders another network\'s name is NXDOMAIN; with them it goes upstream', async () => {
  const up = await upstream((q, from, sock) => sock.send(upstreamReply(q, { rcode: NXDOMAIN }), from.port, from.address));
  try {
    await withDns(async (c) => {
      // n1 has no way out; n2 forwards to the fake upstream, which knows nothing
      c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2', 'record shared 10.88.0.9']);
      c.net('n2', [`listen ${N2}`, `forward 127.0.0.1#${up.port}`, 'record api 10.99.0.2', 'record shared 10.99.0.9']);
      const s = c.start();
      await ready(N1, c.port);
      await ready(N2, c.port);
      up.seen.length = 0;

      assert.deepEqual((await askA(N1, c.port, 'web')).answers.map((x) => x.data), ['10.88.0.2']);
      assert.deepEqual((await askA(N2, c.port, 'api')).answers.map((x) => x.data), ['10.99.0.2']);
      // the same name on both: each network answers its own
      assert.deepEqual((await askA(N1, c.port, 'shared')).answers.map((x) => x.data), ['10.88.0.9']);
      assert.deepEqual((await askA(N2, c.port, 'shared')).answers.map((x) => x.data), ['10.99.0.9']);
      assert.equal(up.seen.length, 0, 'names of the network are never forwarded');

      // n2's name asked on n1: n1 has no forwarder, so hull-dns says NXDOMAIN itself
      const r1 = await askA(N1, c.port, 'api');
      assert.equal(r1.rcode, NXDOMAIN);
      assert.deepEqual(r1.answers, []);
      assert.equal(up.seen.length, 0);
      // and its address has no PTR on n1 either
      assert.equal((await askA(N1, c.port, '2.0.99.10.in-addr.arpa', T_PTR)).rcode, NXDOMAIN);

      // n1's name asked on n2: not n2's, so it is forwarded, and the upstream's NXDOMAIN comes back
      const r2 = await askA(N2, c.port, 'web');
      assert.equal(r2.rcode, NXDOMAIN);
      assert.deepEqual(r2.answers, []);
      assert.equal(up.seen.length, 1);
      assert.equal(readName(up.seen[0]!.msg, 12)[0], 'web');
      await emptyAndStop(c, s);
    });
  } finally {
    await up.close();
  }
});

test('a reply too big for 512 bytes is truncated over UDP, whole over TCP, and whole over UDP with EDNS', async () => {
  await withDns(async (c) => {
    const many = Array.from({ length: 40 }, (_, i) => `record many 10.77.0.${i + 1}`);
    c.net('n1', [`listen ${N1}`, ...many]);
    const s = c.start();
    await ready(N1, c.port);

    const udp = await askA(N1, c.port, 'many');
    assert.ok(udp.tc, 'TC set');
    assert.ok(udp.answers.length > 0 && udp.answers.length < 40, `${udp.answers.length} answers fit in 512 bytes`);

    const tcp = await tcpAsk(N1, c.port, query(99, 'many', T_A));
    assert.ok(!tcp.tc);
    assert.equal(tcp.answers.length, 40);

    const edns = (await udpAsk(N1, c.port, query(100, 'many', T_A, { edns: 1232 })))!;
    assert.ok(!edns.tc);
    assert.equal(edns.answers.length, 40);
    assert.equal(edns.arcount, 1, 'an OPT record answers an OPT record');
    await emptyAndStop(c, s);
  });
});

test('other names are forwarded with a fresh ID from a fresh port; only the matching reply is relayed, with the client\'s ID', async () => {
  let forged = 0;
  const up = await upstream((q, from, sock) => {
    const name = readName(q, 12)[0];
    if (name === 'example.org') {
      // first what a spoofer would send: a wrong ID, then the right ID with another question, then
      // the right ID from another port; only after that, the answer itself
      const other = query(0, 'evil.org', T_A).subarray(12);
      sock.send(upstreamReply(q, { id: q.readUInt16BE(0) ^ 1, a: ['6.6.6.1'] }), from.port, from.address);
      sock.send(upstreamReply(q, { question: other, a: ['6.6.6.2'] }), from.port, from.address);
      const spoofer = dgram.createSocket('udp4');
      spoofer.send(upstreamReply(q, { a: ['6.6.6.3'] }), from.port, from.address, () => {
        spoofer.close();
        forged++;
        sock.send(upstreamReply(q, { a: ['93.184.216.34'] }), from.port, from.address);
      });
      return;
    }
    sock.send(upstreamReply(q, { a: ['1.2.3.4'] }), from.port, from.address);
  });
  try {
    await withDns(async (c) => {
      c.net('n1', [`listen ${N1}`, `forward 127.0.0.1#${up.port}`, 'record web 10.88.0.2']);
      const s = c.start();
      await ready(N1, c.port);
      up.seen.length = 0;

      const r = (await udpAsk(N1, c.port, query(0x4242, 'example.org', T_A)))!;
      assert.equal(r.id, 0x4242, "the client's ID");
      assert.equal(r.rcode, NOERROR);
      assert.deepEqual(r.answers.map((x) => x.data), ['93.184.216.34']);
      assert.equal(forged, 1);

      const r2 = (await udpAsk(N1, c.port, query(0x4242, 'example.com', T_A)))!;
      assert.deepEqual(r2.answers.map((x) => x.data), ['1.2.3.4']);
      assert.equal(up.seen.length, 2);
      const [f1, f2] = up.seen;
      assert.equal(readName(f1!.msg, 12)[0], 'example.org');
      // fresh random IDs: that both equal the client's 0x4242 by chance is 1 in 2^32
      assert.ok(f1!.msg.readUInt16BE(0) !== 0x4242 || f2!.msg.readUInt16BE(0) !== 0x4242, 'the upstream sees its own IDs');
      assert.notEqual(f1!.from.port, c.port, 'not from the listening port');
      await emptyAndStop(c, s);
    });
  } finally {
    await up.close();
  }
});

test('a TCP client is forwarded over TCP: a reply the upstream truncated over UDP comes whole over TCP', async () => {
  const big = Array.from({ length: 300 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
  const up = await upstream((q, from, sock) => {
    const r = upstreamReply(q);
    r[2]! |= 2; // TC, no answers: ask me over TCP
    sock.send(r, from.port, from.address);
  });
  const tcpUp = net.createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('error', () => {});
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
      // a spoofed ID first would break the stream: hull-dns then tries again, so answer correctly
      const r = upstreamReply(q, { a: big });
      conn.end(Buffer.concat([Buffer.from([r.length >> 8, r.length & 255]), r]));
    });
  });
  await new Promise<void>((r) => tcpUp.listen(up.port, '127.0.0.1', () => r()));
  try {
    await withDns(async (c) => {
      c.net('n1', [`listen ${N1}`, `forward 127.0.0.1#${up.port}`]);
      const s = c.start();
      await ready(N1, c.port);
      const u = (await udpAsk(N1, c.port, query(0x3131, 'big.example', T_A)))!;
      assert.equal(u.id, 0x3131);
      assert.ok(u.tc, "the upstream's TC is relayed");
      const t = await tcpAsk(N1, c.port, query(0x3232, 'big.example', T_A));
      assert.equal(t.id, 0x3232);
      assert.equal(t.rcode, NOERROR);
      assert.deepEqual(t.answers.map((x) => x.data), big);
      await emptyAndStop(c, s);
    });
  } finally {
    await new Promise<void>((r) => tcpUp.close(() => r()));
    await up.close();
  }
});

test('a silent upstream gives SERVFAIL, and so does a refusing one, and the next forwarder is tried', async () => {
  const silent = await upstream(() => {});
  const good = await upstream((q, from, sock) => sock.send(upstreamReply(q, { a: ['5.5.5.5'] }), from.port, from.address));
  const closedPort = await freePort();
  try {
    await withDns(async (c) => {
      c.net('n1', [`listen ${N1}`, `forward 127.0.0.1#${silent.port}`]);
      c.net('n2', [`listen ${N2}`, `forward 127.0.0.1#${closedPort}`, `forward 127.0.0.1#${good.port}`]);
      const s = c.start();
      await ready(N1, c.port);

      const r = await udpAsk(N1, c.port, query(0x5151, 'quiet.example', T_A), 15_000);
      assert.ok(r, 'an answer, not silence');
      assert.equal(r.id, 0x5151);
      assert.equal(r.rcode, SERVFAIL);
      assert.equal(r.qname, 'quiet.example');
      assert.ok(silent.seen.length >= 1);
      // the same over TCP (to the silent upstream over TCP: nobody listens there)
      const t = await tcpAsk(N1, c.port, query(0x5152, 'quiet.example', T_A));
      assert.equal(t.rcode, SERVFAIL);

      // the first forwarder's port is closed: the second one answers
      const g = await askA(N2, c.port, 'anything.example');
      assert.deepEqual(g.answers.map((x) => x.data), ['5.5.5.5']);
      await emptyAndStop(c, s);
    });
  } finally {
    await silent.close();
    await good.close();
  }
});

test('SIGHUP adds and removes records and listeners; the server exits 0 when the directory empties', async () => {
  await withDns(async (c) => {
    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2']);
    const s = c.start();
    await ready(N1, c.port);
    assert.equal((await askA(N1, c.port, 'db')).rcode, NXDOMAIN);

    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2', 'record db 10.88.0.3']);
    s.proc.kill('SIGHUP');
    await until('db appears', () => askA(N1, c.port, 'db'), (r) => r?.answers[0]?.data === '10.88.0.3');

    c.net('n1', [`listen ${N1}`, 'record db 10.88.0.3']);
    s.proc.kill('SIGHUP');
    await until('web goes', () => askA(N1, c.port, 'web'), (r) => r?.rcode === NXDOMAIN);

    c.net('n2', [`listen ${N2}`, 'record api 10.99.0.2']);
    s.proc.kill('SIGHUP');
    await until('n2 is served', () => udpAsk(N2, c.port, query(id(), 'api', T_A), 300), (r) => r?.answers[0]?.data === '10.99.0.2');

    rmSync(join(c.dir, 'n1'));
    s.proc.kill('SIGHUP');
    await until('n1 is no longer served', () => udpAsk(N1, c.port, query(id(), 'db', T_A), 300), (r) => r === undefined);
    assert.equal((await askA(N2, c.port, 'api')).answers[0]?.data, '10.99.0.2');
    await assert.rejects(tcpAsk(N1, c.port, query(1, 'db', T_A)), 'nor over TCP');

    // a listen address moves from one network to another
    c.net('n2', [`listen ${N1}`, 'record moved 10.99.0.5']);
    s.proc.kill('SIGHUP');
    await until('moved', () => udpAsk(N1, c.port, query(id(), 'moved', T_A), 300), (r) => r?.answers[0]?.data === '10.99.0.5');

    rmSync(join(c.dir, 'n2'));
    s.proc.kill('SIGHUP');
    assert.equal(await s.exit, 0);
    assert.ok(!existsSync(join(c.dir, '.pid')));
    assert.deepEqual(serversOf(c.dir), []);
  });
});

test('one instance per directory: a second exits 0 at once; with no network at all, the first does too', async () => {
  await withDns(async (c) => {
    const empty = c.start();
    assert.equal(await empty.exit, 0, 'no networks: nothing to serve');

    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2']);
    const s = c.start();
    await ready(N1, c.port);
    const pid = Number(readFileSync(join(c.dir, '.pid'), 'utf8'));
    assert.equal(pid, s.proc.pid);
    assert.equal(dnsServerPid(c.dir), s.proc.pid, 'seen as live, holding its lock');

    const second = c.start();
    assert.equal(await second.exit, 0);
    assert.equal(Number(readFileSync(join(c.dir, '.pid'), 'utf8')), pid, 'the pidfile is still the first one\'s');
    assert.deepEqual((await askA(N1, c.port, 'web')).answers.map((x) => x.data), ['10.88.0.2']);

    // SIGTERM: it goes, and its pidfile with it
    s.proc.kill('SIGTERM');
    assert.equal(await s.exit, 0);
    assert.ok(!existsSync(join(c.dir, '.pid')));
    assert.equal(dnsServerPid(c.dir), undefined);
  });
});

function header(idv: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(idv, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}

const TAIL = Buffer.from([0, 1, 0, 1]); // type A, class IN

test('hostile UDP packets get no reply or an error, never a crash, and a normal query is answered after each', async () => {
  await withDns(async (c) => {
    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2']);
    const s = c.start();
    await ready(N1, c.port);

    const label63 = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
    const cases: { what: string; pkt: Buffer; expect: 'none' | number }[] = [
      { what: 'empty', pkt: Buffer.alloc(0), expect: 'none' },
      { what: 'truncated header', pkt: Buffer.from([0x11, 0x11, 1, 0, 0]), expect: 'none' },
      { what: 'header only, QDCOUNT 1', pkt: header(0x1201, 0x0100, 1), expect: FORMERR },
      { what: 'QDCOUNT 0', pkt: Buffer.concat([header(0x1202, 0x0100, 0), encodeName('web'), TAIL]), expect: FORMERR },
      { what: 'QDCOUNT 2', pkt: Buffer.concat([header(0x1203, 0x0100, 2), encodeName('web'), TAIL, encodeName('web'), TAIL]), expect: FORMERR },
      { what: 'a response (QR set)', pkt: Buffer.concat([header(0x1204, 0x8180, 1), encodeName('web'), TAIL]), expect: 'none' },
      { what: 'a response with answers', pkt: upstreamReply(query(0x1205, 'web', T_A), { a: ['1.1.1.1'] }), expect: 'none' },
      { what: 'label past the end', pkt: Buffer.concat([header(0x1206, 0x0100, 1), Buffer.from([40, 0x61, 0x62])]), expect: FORMERR },
      { what: 'no root label', pkt: Buffer.concat([header(0x1207, 0x0100, 1), Buffer.from([3, 0x77, 0x65, 0x62])]), expect: FORMERR },
      { what: 'pointer to itself', pkt: Buffer.concat([header(0x1208, 0x0100, 1), Buffer.from([0xc0, 12]), TAIL]), expect: FORMERR },
      { what: 'two pointers in a loop', pkt: Buffer.concat([header(0x1209, 0x0100, 1), Buffer.from([0xc0, 14, 0xc0, 12]), TAIL]), expect: FORMERR },
      { what: 'pointer past the end', pkt: Buffer.concat([header(0x120a, 0x0100, 1), Buffer.from([0xff, 0xff]), TAIL]), expect: FORMERR },
      { what: 'pointer cut short', pkt: Buffer.concat([header(0x120b, 0x0100, 1), Buffer.from([0xc0])]), expect: FORMERR },
      { what: 'name over 255 bytes', pkt: Buffer.concat([header(0x120c, 0x0100, 1), label63, label63, label63, label63, Buffer.from([0]), TAIL]), expect: FORMERR },
      { what: 'label type 0x40', pkt: Buffer.concat([header(0x120d, 0x0100, 1), Buffer.from([0x41, 0x61, 0]), TAIL]), expect: FORMERR },
      { what: 'no type and class', pkt: Buffer.concat([header(0x120e, 0x0100, 1), encodeName('web')]), expect: FORMERR },
      { what: 'opcode STATUS', pkt: Buffer.concat([header(0x120f, 0x1100, 1), encodeName('web'), TAIL]), expect: NOTIMP },
      { what: 'EDNS record cut short', pkt: Buffer.concat([header(0x1210, 0x0100, 1, 0, 0, 1), encodeName('web'), TAIL, Buffer.from([0, 0, 41])]), expect: NOERROR },
      { what: '9000 bytes (more than a UDP query may be)', pkt: Buffer.concat([query(0x1211, 'web', T_A), Buffer.alloc(9000)]), expect: 'none' },
      { what: '4 KiB of 0xff', pkt: Buffer.alloc(4096, 0xff), expect: 'none' },
    ];
    for (const k of cases) {
      const normal = query(id(), 'web', T_A);
      const got = await udpExchange(N1, c.port, [k.pkt, normal]);
      assert.ok(got.length >= 1, `${k.what}: the normal query after it is answered`);
      const last = decode(got.at(-1)!);
      assert.deepEqual(last.answers.map((x) => x.data), ['10.88.0.2'], k.what);
      const before = got.slice(0, -1);
      if (k.expect === 'none') {
        assert.equal(before.length, 0, `${k.what}: no reply`);
      } else {
        assert.equal(before.length, 1, `${k.what}: one reply`);
        const r = decode(before[0]!);
        assert.equal(r.id, k.pkt.readUInt16BE(0), k.what);
        assert.equal(r.rcode, k.expect, k.what);
      }
    }

    // random junk, with and without QR, many times: then it still answers
    for (let i = 0; i < 300; i++) {
      const junk = randomBytes(1 + Math.floor(Math.random() * 600));
      if (i % 2 && junk.length > 2) junk[2]! &= 0x7f;
      await udpExchange(N1, c.port, [junk], 20);
    }
    assert.deepEqual((await askA(N1, c.port, 'web')).answers.map((x) => x.data), ['10.88.0.2']);
    assert.equal(s.proc.exitCode, null, 'still running');
    await emptyAndStop(c, s);
  });
});

/** Connects and writes data; resolves when the server closes the connection (or after ms). */
function tcpJunk(host: string, port: number, data: Buffer, end: boolean, ms = 15_000): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    const timer = setTimeout(() => { s.destroy(); resolve('open'); }, ms);
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => { clearTimeout(timer); resolve('closed'); });
    s.on('connect', () => (end ? s.end(data) : s.write(data)));
  });
}

test('hostile TCP: 64 KiB of junk, a huge length, a short length, a response, too many connections', async () => {
  await withDns(async (c) => {
    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2']);
    const s = c.start();
    await ready(N1, c.port);

    assert.equal(await tcpJunk(N1, c.port, randomBytes(64 * 1024), true), 'closed');
    // 64 KiB of junk without an end: the server stops reading it at the first junk message at the latest
    const junk = randomBytes(64 * 1024);
    junk[0] = 0x00;
    junk[1] = 0x05; // a length under a header's
    assert.equal(await tcpJunk(N1, c.port, junk, false), 'closed', 'a length under 12 closes the connection');
    assert.equal(await tcpJunk(N1, c.port, Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(100)]), true), 'closed');
    const resp = upstreamReply(query(3, 'web', T_A), { a: ['1.1.1.1'] });
    assert.equal(await tcpJunk(N1, c.port, Buffer.concat([Buffer.from([0, resp.length]), resp]), false), 'closed', 'a response is not answered: the connection is closed');

    // more connections than it keeps: it closes the extra ones, and still answers
    const socks: net.Socket[] = [];
    let closedByServer = 0;
    await Promise.all(Array.from({ length: 48 }, () => new Promise<void>((resolve) => {
      const k = net.connect(c.port, N1, () => resolve());
      k.on('error', () => resolve());
      k.on('close', () => closedByServer++);
      socks.push(k);
    })));
    assert.deepEqual((await askA(N1, c.port, 'web')).answers.map((x) => x.data), ['10.88.0.2']);
    await until('extra connections closed', async () => undefined, () => closedByServer >= 16);
    for (const k of socks) k.destroy();
    await until('TCP answers again', async () => tcpAsk(N1, c.port, query(5, 'web', T_A)).catch(() => undefined), (r) => r?.answers[0]?.data === '10.88.0.2');
    assert.equal(s.proc.exitCode, null, 'still running');
    await emptyAndStop(c, s);
  });
});

test('a hostile configuration: long lines, a huge file, bad addresses and names are reported and skipped', async () => {
  await withDns(async (c) => {
    c.net('n1', [
      `listen ${N1}`, 'listen 300.1.1.1', 'listen', `${'x'.repeat(10_000)}`, 'record web 10.88.0.2',
      'record web 999.1.1.1', 'record web not-an-ip', 'record a..b 10.88.0.4', `record ${'y'.repeat(300)} 10.88.0.5`,
      `record ${'z'.repeat(64)} 10.88.0.6`, 'record web 10.88.0.7 extra', 'forward 1.2.3.4#99999', 'forward 1.2.3.4#',
      `forward fe80::1%${'q'.repeat(40)}`, 'record ok%scope fd00::1%lo', '\x00\xff\x01 binary', `# a comment`, '',
      'record last 10.88.0.8',
    ]);
    // the last line without its newline, CRLF line ends
    writeFileSync(join(c.dir, 'n3'), `listen 127.0.0.4\r\nrecord crlf 10.66.0.1\r\nrecord tail 10.66.0.2`);
    // more than 16 MiB, most of it records past the limit
    const big = join(c.dir, 'n2');
    writeFileSync(big, `listen ${N2}\nrecord first 10.99.0.1\n` + 'record x 10.99.0.2\n'.repeat(1_000_000));
    // not networks: dot files, a directory, a symlink, a FIFO
    writeFileSync(join(c.dir, '.hidden'), `listen 127.0.0.5\nrecord hidden 1.1.1.1\n`);
    mkdirSync(join(c.dir, 'adir'));
    symlinkSync(join(c.dir, 'n1'), join(c.dir, 'alink'));
    spawnSync('mkfifo', [join(c.dir, 'afifo')]);

    const s = c.start();
    await ready(N1, c.port);
    await ready(N2, c.port);
    assert.deepEqual((await askA(N1, c.port, 'web')).answers.map((x) => x.data), ['10.88.0.2']);
    assert.deepEqual((await askA(N1, c.port, 'last')).answers.map((x) => x.data), ['10.88.0.8']);
    assert.equal((await askA(N1, c.port, 'a.b')).rcode, NXDOMAIN, '"a..b" was not taken as a.b');
    assert.deepEqual((await askA('127.0.0.4', c.port, 'crlf')).answers.map((x) => x.data), ['10.66.0.1']);
    assert.deepEqual((await askA('127.0.0.4', c.port, 'tail')).answers.map((x) => x.data), ['10.66.0.2']);
    assert.deepEqual((await askA(N2, c.port, 'first')).answers.map((x) => x.data), ['10.99.0.1']);
    const x = await tcpAsk(N2, c.port, query(9, 'x', T_A));
    assert.ok(x.answers.length > 1000, 'records up to the limit');
    assert.equal(await udpAsk('127.0.0.5', c.port, query(id(), 'hidden', T_A), 300), undefined, 'a dot file is not a network');

    const err = s.stderr();
    for (const want of ['n1:2: not an IP address', 'n1:3: not a listen, forward or record line', 'n1:4: line too long',
      'n1:6: not an IP address', 'n1:7: not an IP address', 'n1:8: not a DNS name', 'n1:9: not a DNS name', 'n1:10: not a DNS name',
      'n1:11: not a client IP address', 'n1:12: bad port',
      // ten complaints a file, then a count: lines 13 to 16
      'n1: 4 more bad lines ignored', 'n2:16386: too many records', 'n2: longer than 16777216 bytes']) {
      assert.ok(err.includes(want), `stderr says "${want}":\n${err}`);
    }
    assert.ok(!err.includes('n1:13:'), 'no more than ten complaints a file');
    assert.ok(/n2: \d+ more bad lines ignored/.test(err));
    assert.ok(!/\x00|\xff/.test(err), 'bytes from the file are escaped');
    assert.ok(err.length < 20_000, 'complaints are bounded');
    assert.equal(s.proc.exitCode, null);
    await emptyAndStop(c, s);
  });
});

test('writeNetworkDns + notifyDns start the server, SIGHUP it, and removing the last network ends it', async () => {
  await withDns(async (c) => {
    const dir = join(c.dir, 'dns');
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'none', 'nothing to serve, nothing started');
    writeNetworkDns(dir, 'a'.repeat(64), { listen: [N1], forward: ['127.0.0.1#5353'], records: [{ name: 'web', ip: '10.88.0.2' }, { name: 'web', ip: 'fd00::2' }] });
    assert.deepEqual(readdirSync(dir), ['a'.repeat(64)], 'no temporary file left');
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'started');
    await until('served', () => udpAsk(N1, c.port, query(id(), 'web', T_A), 300), (r) => r?.answers[0]?.data === '10.88.0.2');
    const pid = dnsServerPid(dir);
    assert.ok(pid, 'a live server holds the lock');
    assert.ok(readFileSync(join(dir, '.log'), 'utf8') !== undefined);

    writeNetworkDns(dir, 'b'.repeat(64), { listen: [N2], forward: [], records: [{ name: 'api', ip: '10.99.0.2' }] });
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'signalled');
    await until('second network', () => udpAsk(N2, c.port, query(id(), 'api', T_A), 300), (r) => r?.answers[0]?.data === '10.99.0.2');
    assert.equal(dnsServerPid(dir), pid, 'the same server');

    removeNetworkDns(dir, 'a'.repeat(64));
    removeNetworkDns(dir, 'a'.repeat(64)); // gone already: fine
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'signalled');
    removeNetworkDns(dir, 'b'.repeat(64));
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'signalled');
    await gone(pid);
    assert.equal(dnsServerPid(dir), undefined);
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'none');
  });
});

test('notifyDns starts one server when several notify at once, and another after a kill -9', async () => {
  await withDns(async (c) => {
    const dir = join(c.dir, 'dns');
    writeNetworkDns(dir, 'net1', { listen: [N1], forward: [], records: [{ name: 'web', ip: '10.88.0.2' }] });
    for (let i = 0; i < 5; i++) notifyDns(dir, DNS, { port: c.port });
    await until('served', () => udpAsk(N1, c.port, query(id(), 'web', T_A), 300), (r) => r?.answers[0]?.data === '10.88.0.2');
    await until('one server left', async () => undefined, () => serversOf(dir).length === 1);
    const pid = dnsServerPid(dir)!;
    process.kill(pid, 'SIGKILL');
    await gone(pid);
    assert.equal(dnsServerPid(dir), undefined, 'a stale pidfile is not a live server');
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'started');
    await until('served again', () => udpAsk(N1, c.port, query(id(), 'web', T_A), 300), (r) => r?.answers[0]?.data === '10.88.0.2');
    removeNetworkDns(dir, 'net1');
    const again = dnsServerPid(dir)!;
    assert.equal(notifyDns(dir, DNS, { port: c.port }), 'signalled');
    await gone(again);
  });
});

test('writeNetworkDns refuses bad input with a clear error and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hull-dns-bad-'));
  try {
    const ok = { listen: [N1], forward: ['1.1.1.1'], records: [{ name: 'web', ip: '10.0.0.2' }] };
    const bad: [string, string, unknown, RegExp][] = [
      ['path', '../x', ok, /invalid network id/],
      ['dot', '.hidden', ok, /invalid network id/],
      ['empty id', '', ok, /invalid network id/],
      ['listen', 'n', { ...ok, listen: ['10.0.0.256'] }, /listen address "10.0.0.256" is not an IP address/],
      ['forward', 'n', { ...ok, forward: ['1.1.1.1#0'] }, /forwarder "1.1.1.1#0"/],
      ['forward newline', 'n', { ...ok, forward: ['1.1.1.1\nrecord evil 6.6.6.6'] }, /forwarder/],
      ['name space', 'n', { ...ok, records: [{ name: 'we b', ip: '10.0.0.2' }] }, /record name "we b" is not a DNS name/],
      ['name newline', 'n', { ...ok, records: [{ name: 'web\nlisten 0.0.0.0', ip: '10.0.0.2' }] }, /not a DNS name/],
      ['long label', 'n', { ...ok, records: [{ name: 'a'.repeat(64), ip: '10.0.0.2' }] }, /not a DNS name/],
      ['record ip', 'n', { ...ok, records: [{ name: 'web', ip: 'fe80::1%eth0' }] }, /record web: "fe80::1%eth0" is not an IP address/],
      ['too many forwarders', 'n', { ...ok, forward: Array(9).fill('1.1.1.1') }, /more than 8 forwarders/],
    ];
    for (const [what, nid, dns, re] of bad) {
      assert.throws(() => writeNetworkDns(dir, nid, dns as never), re, what);
    }
    assert.deepEqual(readdirSync(dir), [], 'nothing written, not even a temporary file');
    writeNetworkDns(dir, 'n', { listen: ['fd00::1'], forward: ['fe80::1%eth0', '10.0.0.1#5353'], records: [{ name: 'Web.', ip: 'fd00::2' }] });
    assert.equal(readFileSync(join(dir, 'n'), 'utf8'), '# hull network n\nlisten fd00::1\nforward fe80::1%eth0\nforward 10.0.0.1#5353\nrecord Web. fd00::2\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("glibc's resolver finds names through it, retrying over TCP when the reply is truncated (private netns, port 53)", async () => {
  await withDns(async (c) => {
    const many = Array.from({ length: 40 }, (_, i) => `record many 10.77.0.${i + 1}`);
    c.net('n1', [`listen ${N1}`, 'record web 10.88.0.2', ...many]);
    const resolv = join(c.dir, '.resolv.conf');
    writeFileSync(resolv, `nameserver ${N1}\noptions timeout:1 attempts:5\n`);
    // getent hosts (gethostbyname): getaddrinfo's AI_ADDRCONFIG would find no address but loopback here
    const script = `
      set -e
      ip link set lo up
      mount --bind "$RESOLV" /etc/resolv.conf
      "$DNS" "$DIR" 2>"$DIR/.err" &
      pid=$!
      i=0; until getent hosts web >/dev/null; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.05; done
      echo "web: $(getent hosts web | awk '{print $1}' | tr '\\n' ' ')"
      echo "many: $(getent hosts many | awk '{print $1}' | sort -u | wc -l)"
      kill $pid; wait $pid || true
    `;
    const r = spawnSync('unshare', ['--net', '--mount', '--fork', 'sh', '-c', script], {
      encoding: 'utf8', env: { ...process.env, RESOLV: resolv, DNS, DIR: c.dir }, timeout: 60_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${existsSync(join(c.dir, '.err')) ? readFileSync(join(c.dir, '.err'), 'utf8') : ''}`);
    assert.match(r.stdout, /^web: 10\.88\.0\.2 $/m);
    assert.match(r.stdout, /^many: 40$/m, 'all 40 addresses: the truncated UDP reply was retried over TCP');
  });
});

test('memory: RSS of the server with 2 networks of 30 records (printed, not asserted)', async (t) => {
  await withDns(async (c) => {
    for (const [name, host, net3] of [['n1', N1, 88], ['n2', N2, 99]] as const) {
      c.net(name, [`listen ${host}`, 'forward 127.0.0.1#9', ...Array.from({ length: 30 }, (_, i) => `record c${i}.${name} 10.${net3}.0.${i + 2}`)]);
    }
    const s = c.start();
    await ready(N1, c.port);
    await ready(N2, c.port);
    for (let i = 0; i < 30; i++) {
      assert.equal((await askA(N1, c.port, `c${i}.n1`)).answers[0]?.data, `10.88.0.${i + 2}`);
      assert.equal((await tcpAsk(N2, c.port, query(i, `c${i}.n2`, T_A))).answers[0]?.data, `10.99.0.${i + 2}`);
    }
    const status = readFileSync(`/proc/${s.proc.pid}/status`, 'utf8');
    const rss = status.match(/VmRSS:\s+(\d+) kB/)![1];
    const hwm = status.match(/VmHWM:\s+(\d+) kB/)![1];
    const pss = readFileSync(`/proc/${s.proc.pid}/smaps_rollup`, 'utf8').match(/Pss:\s+(\d+) kB/)![1];
    t.diagnostic(`hull-dns with 2 networks x 30 records, after 60 queries: RSS ${rss} kB (peak ${hwm} kB), PSS ${pss} kB`);
    console.log(`# hull-dns RSS ${rss} kB, peak ${hwm} kB, PSS ${pss} kB`);
    await emptyAndStop(c, s);
  });
});
