// A real registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 and a free
// port, with storage in a temp dir, and no auth, htpasswd (bcrypt) or token auth. Token mode
// runs a small token server here in Node that signs ES256 JWTs with an x5c chain the registry
// verifies against its rootcertbundle. startMisbehavingRegistry puts a Node proxy in front of a
// registry to send what real registries never send on demand: wrong lengths, dropped
// connections, redirect chains and loops, canned answers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export type AuthMode = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  auth: AuthMode;
  /**
   * Serve HTTPS with a certificate for 127.0.0.1 from a test CA, and require a client
   * certificate from that CA. The handle's certsDir is then laid out as docker's certs.d.
   */
  tls?: boolean;
  /** Token mode: what the token server starts with (all adjustable later on `token`). */
  token?: Partial<TokenSettings>;
}

export interface TokenSettings {
  /** Which field carries the token: docker's `token`, OAuth's `access_token`, or both. */
  tokenField: 'token' | 'access_token' | 'both';
  /** expires_in to announce (and the JWT's lifetime); undefined: the field is left out. */
  expiresIn: number | undefined;
  /** Denied (repository, action) pairs: left out of the grant, or refused with 403. */
  deny: (repository: string, action: string) => boolean;
  denyMode: 'omit' | 'forbid';
}

export interface TokenRequest {
  method: string;
  grantType: string | null;
  scopes: string[];
  account: string | null;
  /** The user of valid Basic credentials, or of a valid refresh token. */
  user: string | null;
  offline: boolean;
}

export interface TokenServer extends TokenSettings {
  realm: string;
  service: string;
  issuer: string;
  requests: TokenRequest[];
}

export interface TestRegistry {
  /** "127.0.0.1:PORT", the registry's domain for the client. */
  host: string;
  url: string;
  users: { user: string; password: string };
  auth: AuthMode;
  /** TLS mode: a docker certs.d directory with ca.crt, client.cert and client.key for host. */
  certsDir: string | undefined;
  /** The temp dir holding config, keys and storage (data/); gone after stop(). */
  dir: string;
  /** The watchdog shell's pid; the registry is its child. */
  pid: number;
  /** Token mode only. */
  token: TokenServer | undefined;
  /** Everything the registry process wrote, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the registry may still lose a race; start retries). */
/** Processes whose command line mentions `text` (a registry's temp dir, say). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: RegistryOptions): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'hull-registry-'));
  const users = { user: 'hull-tester', password: `pw-${randomBytes(9).toString('base64url')}` };
  let token: (TokenServer & { server: Server }) | undefined;
  try {
    let authConfig = '';
    if (options.auth === 'htpasswd') {
      const r = spawnSync('/usr/bin/htpasswd', ['-Bbn', users.user, users.password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
      writeFileSync(join(dir, 'htpasswd'), r.stdout);
      authConfig = `auth:\n  htpasswd:\n    realm: hull-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (options.auth === 'token') {
      token = await startTokenServer(dir, users, options.token ?? {});
      authConfig =
        `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n` +
        `    issuer: ${token.issuer}\n    rootcertbundle: ${join(dir, 'token-cert.pem')}\n`;
    }
    const tls = options.tls ? makeTlsFiles(dir) : undefined;
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const config =
        `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n` +
        `  maintenance:\n    uploadpurging:\n      enabled: false\n` +
        `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n` +
        (tls ? `  tls:\n    certificate: ${tls.serverCert}\n    key: ${tls.serverKey}\n    clientcas:\n      - ${tls.ca}\n` : '') +
        authConfig;
      writeFileSync(join(dir, 'config.yml'), config);
      const child = spawn('/bin/sh', ['-c', WATCHDOG, 'hull-registry-watchdog', REGISTRY_BINARY, join(dir, 'config.yml')], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const host = `127.0.0.1:${port}`;
      let certsDir: string | undefined;
      if (tls) {
        certsDir = join(dir, 'certs.d');
        mkdirSync(join(certsDir, host), { recursive: true });
        copyFileSync(tls.ca, join(certsDir, host, 'ca.crt'));
        copyFileSync(tls.clientCert, join(certsDir, host, 'client.cert'));
        copyFileSync(tls.clientKey, join(certsDir, host, 'client.key'));
      }
      const up = await waitForRegistry(child, port, tls);
      if (!up) {
        await killChild(child);
        if (attempt < 3 && /address already in use/.test(output)) continue;
        throw new Error(`docker-registry did not start:\n${output}`);
      }
      const tokenServer = token;
      return {
        host,
        url: `${tls ? 'https' : 'http'}://${host}`,
        certsDir,
        users,
        auth: options.auth,
        dir,
        pid: child.pid!,
        token: tokenServer,
        log: () => output,
        async stop() {
          await killChild(child);
          if (tokenServer) await closeServer(tokenServer.server);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    if (token) await closeServer(token.server);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function waitForRegistry(child: ChildProcess, port: number, tls: TlsFiles | undefined): Promise<boolean> {
  let exited = false;
  child.once('exit', () => (exited = true));
  const send = tls ? httpsRequest : httpRequest;
  const tlsOptions = tls
    ? { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) }
    : {};
  for (let i = 0; i < 200 && !exited; i++) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = send({ host: '127.0.0.1', port, path: '/v2/', method: 'GET', timeout: 1000, ...tlsOptions }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 || res.statusCode === 401);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (answered) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A test CA, a server certificate for 127.0.0.1 and a client certificate, all ECDSA P-256. */
function makeTlsFiles(dir: string): TlsFiles {
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=hull-test-ca']);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(['req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=hull-test-${who}`]);
    openssl(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f(`${who}.crt`), '-days', '2', '-extfile', f(`${who}.ext`)]);
  }
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

// The registry runs under a small shell that holds a pipe from this process on its stdin:
// when the pipe closes (stop(), or this test process dying however it dies) the registry is
// killed, so no registry outlives its test. The shell exits when the registry does.
const WATCHDOG = `
exec 3<&0 0</dev/null
"$1" serve "$2" &
pid=$!
( read -r _ <&3; kill "$pid" 2>/dev/null ) &
wait "$pid"
`;

async function killChild(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => {
    // a registry that ignores SIGTERM: kill it (the shell's child) and the shell
    spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
    child.kill('SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Token server

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

async function startTokenServer(
  dir: string,
  users: { user: string; password: string },
  settings: Partial<TokenSettings>,
): Promise<TokenServer & { server: Server }> {
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=hull-test-token-issuer',
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const refreshTokens = new Map<string, string>();

  const state: TokenServer & { server: Server } = {
    realm: '',
    service: 'hull-test-registry',
    issuer: 'hull-test-issuer',
    requests: [],
    tokenField: settings.tokenField ?? 'token',
    expiresIn: 'expiresIn' in settings ? settings.expiresIn : 300,
    deny: settings.deny ?? (() => false),
    denyMode: settings.denyMode ?? 'omit',
    server: createServer((req, res) => {
      handleToken(req, res, state, users, key, certDer, refreshTokens).catch((e) => {
        res.statusCode = 500;
        res.end(String(e));
      });
    }),
  };
  const port = await listen(state.server);
  state.realm = `http://127.0.0.1:${port}/token`;
  return state;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handleToken(
  req: IncomingMessage,
  res: ServerResponse,
  state: TokenServer,
  users: { user: string; password: string },
  key: KeyObject,
  certDer: Buffer,
  refreshTokens: Map<string, string>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://token');
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  let params: URLSearchParams;
  let scopes: string[];
  if (req.method === 'POST') {
    params = new URLSearchParams(await readAll(req));
    scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
  } else {
    params = url.searchParams;
    scopes = params.getAll('scope');
  }
  const grantType = req.method === 'POST' ? params.get('grant_type') : null;
  let user: string | null = null;
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  let badCredentials = false;
  if (grantType === 'refresh_token') {
    user = refreshTokens.get(params.get('refresh_token') ?? '') ?? null;
    badCredentials = user === null;
  } else if (grantType === 'password') {
    badCredentials = params.get('username') !== users.user || params.get('password') !== users.password;
    user = badCredentials ? null : users.user;
  } else if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    badCredentials = decoded.slice(0, colon) !== users.user || decoded.slice(colon + 1) !== users.password;
    user = badCredentials ? null : users.user;
  }
  const offline = params.get('offline_token') === 'true' || params.get('access_type') === 'offline';
  state.requests.push({ method: req.method ?? 'GET', grantType, scopes, account: params.get('account'), user, offline });
  if (params.get('service') !== state.service) {
    reply(400, { errors: [{ code: 'UNSUPPORTED', message: `unknown service ${params.get('service')}` }] });
    return;
  }
  if (badCredentials) {
    // Docker Hub's token server answers a wrong password like this.
    reply(401, { details: 'incorrect username or password' });
    return;
  }
  // Anonymous users get a token for nothing, as a private registry's token server gives.
  const access: { type: string; name: string; actions: string[] }[] = [];
  for (const scope of scopes) {
    const m = /^repository:([^:]+):(.+)$/.exec(scope);
    if (!m || !user) continue;
    const name = m[1]!;
    const wanted = m[2]!.split(',');
    const granted = wanted.filter((a) => !state.deny(name, a));
    if (granted.length < wanted.length && state.denyMode === 'forbid') {
      reply(403, { errors: [{ code: 'DENIED', message: `access to ${name} is denied` }] });
      return;
    }
    if (granted.length > 0) access.push({ type: 'repository', name, actions: granted });
  }
  const now = Math.floor(Date.now() / 1000);
  const lifetime = state.expiresIn ?? 60;
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
  const claims = {
    iss: state.issuer,
    sub: user ?? '',
    aud: state.service,
    exp: now + lifetime,
    nbf: now - 1,
    iat: now,
    jti: randomBytes(12).toString('hex'),
    access,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  const jwt = `${signingInput}.${b64url(signature)}`;
  const body: Record<string, unknown> = {};
  if (state.tokenField !== 'access_token') body.token = jwt;
  if (state.tokenField !== 'token') body.access_token = jwt;
  if (state.expiresIn !== undefined) body.expires_in = state.expiresIn;
  body.issued_at = new Date(now * 1000).toISOString();
  if (offline && user) {
    const refresh = randomBytes(18).toString('base64url');
    refreshTokens.set(refresh, user);
    body.refresh_token = refresh;
  }
  reply(200, body);
}

// ---------------------------------------------------------------------------------------------
// Misbehaving proxy

export type Misbehaviour =
  /** Forwards the response but announces `extra` more bytes than it sends, then closes. */
  | { kind: 'wrong-length'; extra: number }
  /** Forwards the headers and `after` bytes of the body, then drops the connection. */
  | { kind: 'drop'; after: number }
  /** Never answers. */
  | { kind: 'stall' }
  /** Forwards the headers and `after` bytes of the body, then sends nothing more. */
  | { kind: 'stall-body'; after: number }
  /** Redirects between two paths of its own for ever. */
  | { kind: 'redirect-loop' }
  /** Redirects `hops` times on itself, then forwards the request. */
  | { kind: 'redirects'; hops: number }
  /** Redirects to an absolute URL (another server). */
  | { kind: 'redirect-to'; location: string }
  /** Forwards the request without its Range header, as a server that ignores ranges. */
  | { kind: 'ignore-range' }
  /** Forwards the response without its Content-Length (chunked). */
  | { kind: 'strip-length' }
  /** Forwards the response with headers replaced or added. */
  | { kind: 'set-headers'; headers: Record<string, string> }
  /** Answers this instead of forwarding. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string | Buffer };

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface MisbehavingRegistry {
  host: string;
  url: string;
  requests: ProxiedRequest[];
  /** Decides per request; null forwards it unchanged. Replace it at will. */
  rule: (req: ProxiedRequest) => Misbehaviour | null;
  stop(): Promise<void>;
}

export async function startMisbehavingRegistry(options: {
  upstream: string;
  rule?: (req: ProxiedRequest) => Misbehaviour | null;
}): Promise<MisbehavingRegistry> {
  const upstream = new URL(options.upstream);
  const sockets = new Set<Socket>();
  const proxy: MisbehavingRegistry & { server: Server } = {
    host: '',
    url: '',
    requests: [],
    rule: options.rule ?? (() => null),
    server: createServer((req, res) => {
      serve(req, res).catch((e) => {
        if (!res.headersSent) {
          res.statusCode = 502;
          res.end(String(e));
        } else req.socket.destroy();
      });
    }),
    async stop() {
      for (const s of sockets) s.destroy();
      await closeServer(proxy.server);
    },
  };
  proxy.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path = req.url ?? '/';
    const loop = /^\/__loop\/(a|b)(\/.*)$/.exec(path);
    if (loop) {
      res.writeHead(307, { location: `/__loop/${loop[1] === 'a' ? 'b' : 'a'}${loop[2]}`, 'content-length': '0' });
      res.end();
      return;
    }
    const hop = /^\/__hop\/(\d+)(\/.*)$/.exec(path);
    if (hop) {
      const left = Number(hop[1]);
      if (left > 1) {
        res.writeHead(307, { location: `/__hop/${left - 1}${hop[2]}`, 'content-length': '0' });
        res.end();
        return;
      }
      path = hop[2]!;
    }
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path, headers: req.headers };
    const misbehaviour = hop ? null : proxy.rule(seen);
    proxy.requests.push(seen);
    switch (misbehaviour?.kind) {
      case 'stall':
        req.resume();
        return;
      case 'redirect-loop':
        res.writeHead(307, { location: `/__loop/a${path}`, 'content-length': '0' });
        res.end();
        return;
      case 'redirects':
        res.writeHead(307, { location: `/__hop/${misbehaviour.hops}${path}`, 'content-length': '0' });
        res.end();
        return;
      case 'redirect-to':
        res.writeHead(307, { location: misbehaviour.location, 'content-length': '0' });
        res.end();
        return;
      case 'respond': {
        const body = misbehaviour.body === undefined ? Buffer.alloc(0) : Buffer.from(misbehaviour.body);
        res.writeHead(misbehaviour.status, { 'content-length': String(body.length), ...misbehaviour.headers });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
    }
    if (misbehaviour?.kind === 'ignore-range') delete req.headers.range;
    const up = await forward(req, path);
    const headers = { ...up.headers };
    switch (misbehaviour?.kind) {
      case 'stall-body': {
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, headers);
        const body = await readBuffer(up);
        res.write(body.subarray(0, misbehaviour.after));
        return;
      }
      case 'wrong-length':
      case 'drop': {
        const body = await readBuffer(up);
        const announced = misbehaviour.kind === 'wrong-length' ? body.length + misbehaviour.extra : body.length;
        const sent = misbehaviour.kind === 'drop' ? body.subarray(0, misbehaviour.after) : body;
        // Written on the socket by hand: Node's own response object refuses to send a body
        // that disagrees with its Content-Length.
        headers['content-length'] = String(announced);
        delete headers['transfer-encoding'];
        const head = [`HTTP/1.1 ${up.statusCode} ${up.statusMessage ?? ''}`];
        for (const [k, v] of Object.entries(headers)) {
          if (v === undefined || k === 'connection' || k === 'keep-alive') continue;
          for (const one of Array.isArray(v) ? v : [v]) head.push(`${k}: ${one}`);
        }
        const socket = req.socket;
        socket.write(`${head.join('\r\n')}\r\nconnection: close\r\n\r\n`);
        socket.write(sent, () => {
          if (misbehaviour.kind === 'drop') socket.destroy();
          else socket.end();
        });
        return;
      }
      case 'strip-length':
        delete headers['content-length'];
        break;
      case 'set-headers':
        Object.assign(headers, misbehaviour.headers);
        break;
    }
    res.writeHead(up.statusCode ?? 502, headers);
    up.pipe(res);
  }

  function forward(req: IncomingMessage, path: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path,
          // The Host header stays the proxy's, so the registry writes its URLs for the proxy.
          headers: req.headers,
        },
        resolve,
      );
      out.on('error', reject);
      req.pipe(out);
    });
  }

  const port = await listen(proxy.server);
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  return proxy;
}

async function readBuffer(msg: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of msg) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
