// The registry client against Debian's real docker-registry (distribution 2.8) in its three
// auth modes, and against a Node proxy in front of it that misbehaves on demand.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import AjvModule from 'ajv-draft-04';
import { Authenticator, checkLogin, ping, repositoryScope } from '../../src/registry/auth.ts';
import {
  BlobSourceError,
  RegistryClient,
  RegistryError,
  RegistryProtocolError,
  RegistryTransportError,
  type RegistryClientOptions,
} from '../../src/registry/client.ts';
import { credentialSource, getCredentials, login, logout } from '../../src/registry/credentials.ts';
import { resolveRemotes } from '../../src/registry/endpoint.ts';
import { Transport } from '../../src/registry/transport.ts';
import {
  freePort,
  processesMentioning,
  startMisbehavingRegistry,
  startRegistry,
  type AuthMode,
  type MisbehavingRegistry,
  type TestRegistry,
} from './helpers/registry.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const SCHEMAS = new URL('../../../shared/specs/image-spec/', import.meta.url);

// ---------------------------------------------------------------------------------------------
// Test content

interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

function blobOf(bytes: Buffer): Blob {
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

/** The caller's side of pushBlob: the bytes from an offset, in 16 KiB pieces, counting opens. */
function opener(blob: Blob, opened: number[] = []): (offset: number) => Readable {
  return (offset) => {
    opened.push(offset);
    const rest = blob.bytes.subarray(offset);
    const pieces: Buffer[] = [];
    for (let i = 0; i < rest.length; i += 16 * 1024) pieces.push(rest.subarray(i, i + 16 * 1024));
    return Readable.from(pieces);
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// The official image-spec schemas name each other through "id" URLs on opencontainers.org;
// dropping those ids lets the relative $refs resolve against the files themselves.
function schemaValidator(file: string) {
  const ajv = new AjvModule.default({ allErrors: true, strict: false, logger: false });
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, strip(v)]),
      );
    }
    return node;
  };
  for (const name of ['defs.json', 'defs-descriptor.json', 'content-descriptor.json', 'config-schema.json', 'image-manifest-schema.json']) {
    const url = new URL(name, SCHEMAS);
    ajv.addSchema(strip(JSON.parse(readFileSync(url, 'utf8'))) as object, url.href);
  }
  const validate = ajv.getSchema(new URL(file, SCHEMAS).href);
  assert.ok(validate, `${file} compiles`);
  return (doc: unknown) => {
    assert.ok(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`);
  };
}
const validateManifest = schemaValidator('image-manifest-schema.json');
const validateConfig = schemaValidator('config-schema.json');

/** A tiny OCI image made by hand: one layer, its config, and the manifest. */
function tinyImage(label: string): { layer: Blob; config: Blob; manifest: Blob } {
  const layer = blobOf(randomBytes(300 * 1024 + 123));
  const configDoc = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/true'], Labels: { test: label } },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  };
  validateConfig(configDoc);
  const config = blobOf(Buffer.from(JSON.stringify(configDoc)));
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
  };
  validateManifest(manifestDoc);
  return { layer, config, manifest: blobOf(Buffer.from(JSON.stringify(manifestDoc))) };
}

function clientFor(reg: TestRegistry, extra: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(reg.host, {
    credentials: async () => ({ username: reg.users.user, password: reg.users.password }),
    ...extra,
  });
}

async function stopAndCheck(reg: TestRegistry): Promise<void> {
  await reg.stop();
  assert.ok(!existsSync(reg.dir), `registry dir leaked: ${reg.dir}`);
  assert.deepEqual(processesMentioning(reg.dir), [], 'registry processes still running');
}

/** Pushes an image's blobs and its manifest under `tag`. */
async function pushImage(client: RegistryClient, repo: string, image: ReturnType<typeof tinyImage>, tag: string): Promise<string> {
  await client.pushBlob(repo, image.layer.digest, image.layer.size, opener(image.layer));
  await client.pushBlob(repo, image.config.digest, image.config.size, opener(image.config));
  return client.putManifest(repo, tag, OCI_MANIFEST, image.manifest.bytes);
}

// ---------------------------------------------------------------------------------------------
// The same conversation in every auth mode

for (const mode of ['none', 'htpasswd', 'token'] as AuthMode[]) {
  describe(`docker-registry with auth: ${mode}`, () => {
    let reg: TestRegistry;
    let client: RegistryClient;
    const image = tinyImage(mode);

    before(async () => {
      reg = await startRegistry({ auth: mode });
      client = clientFor(reg);
    });
    after(async () => {
      await client.close();
      await stopAndCheck(reg);
    });

    test('pushes a blob monolithic and another chunked, then HEADs both', async () => {
      const progress: number[] = [];
      const opened: number[] = [];
      await client.pushBlob('hull/app', image.config.digest, image.config.size, opener(image.config, opened), {
        onProgress: (n) => progress.push(n),
      });
      assert.deepEqual(opened, [0]);
      assert.equal(progress.at(-1), image.config.size);

      const chunkOpens: number[] = [];
      const chunkProgress: number[] = [];
      // 100 KiB chunks do not divide the layer's size: the last chunk is short
      await client.pushBlob('hull/app', image.layer.digest, image.layer.size, opener(image.layer, chunkOpens), {
        chunkSize: 100 * 1024,
        onProgress: (n) => chunkProgress.push(n),
      });
      assert.deepEqual(chunkOpens, [0, 102400, 204800, 307200]);
      assert.equal(chunkProgress.at(-1), image.layer.size);
      assert.ok(chunkProgress.every((n, i) => i === 0 || n >= chunkProgress[i - 1]!), 'progress never goes back');

      assert.deepEqual(await client.blobExists('hull/app', image.config.digest), { size: image.config.size });
      assert.deepEqual(await client.blobExists('hull/app', image.layer.digest), { size: image.layer.size });
      assert.equal(await client.blobExists('hull/app', blobOf(Buffer.from('absent')).digest), null);
      assert.equal(await client.blobExists('hull/other', image.layer.digest), null, 'blobs are per repository');
    });

    test('fetches a blob whole and from an offset (Range resume)', async () => {
      const whole = await client.fetchBlob('hull/app', image.layer.digest);
      assert.equal(whole.offset, 0);
      assert.equal(whole.size, image.layer.size);
      assert.ok((await readAll(whole.stream)).equals(image.layer.bytes));

      const offset = 200_001;
      const rest = await client.fetchBlob('hull/app', image.layer.digest, { offset });
      assert.equal(rest.offset, offset);
      assert.equal(rest.size, image.layer.size, 'size is the total, from Content-Range');
      assert.ok((await readAll(rest.stream)).equals(image.layer.bytes.subarray(offset)));

      await assert.rejects(client.fetchBlob('hull/app', image.layer.digest, { offset: image.layer.size + 10 }), RegistryProtocolError);
      await assert.rejects(client.fetchBlob('hull/app', blobOf(Buffer.from('nope')).digest), (e: RegistryError) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.status, 404);
        assert.equal(e.dockerMessage, 'blob unknown: blob unknown to registry');
        return true;
      });
    });

    test('mounts a blob across repositories; a missing blob is not mounted', async () => {
      assert.equal(await client.mountBlob('hull/copy', image.layer.digest, 'hull/app'), true);
      assert.deepEqual(await client.blobExists('hull/copy', image.layer.digest), { size: image.layer.size });
      assert.equal(await client.mountBlob('hull/copy', blobOf(Buffer.from('never pushed')).digest, 'hull/app'), false);
    });

    test('puts a manifest, gets it by tag and by digest, HEADs it, lists tags', async () => {
      const digest = await client.putManifest('hull/app', 'v1', OCI_MANIFEST, image.manifest.bytes);
      assert.equal(digest, image.manifest.digest);
      assert.equal(await client.putManifest('hull/app', image.manifest.digest, OCI_MANIFEST, image.manifest.bytes), image.manifest.digest);
      await client.putManifest('hull/app', 'v2', OCI_MANIFEST, image.manifest.bytes);

      for (const ref of ['v1', image.manifest.digest]) {
        const got = await client.getManifest('hull/app', ref, { accept: [OCI_MANIFEST] });
        assert.ok(got.bytes.equals(image.manifest.bytes));
        assert.equal(got.mediaType, OCI_MANIFEST);
        assert.equal(got.digest, image.manifest.digest);
      }
      assert.deepEqual(await client.headManifest('hull/app', 'v1'), {
        digest: image.manifest.digest,
        mediaType: OCI_MANIFEST,
        size: image.manifest.size,
      });
      assert.equal(await client.headManifest('hull/app', 'no-such-tag'), null);
      assert.deepEqual((await client.listTags('hull/app')).sort(), ['v1', 'v2']);

      await assert.rejects(client.getManifest('hull/app', 'no-such-tag'), (e: RegistryError) => {
        assert.equal(e.code, 'MANIFEST_UNKNOWN');
        assert.equal(e.dockerMessage, 'manifest unknown: manifest unknown');
        return true;
      });
      await assert.rejects(client.putManifest('hull/app', blobOf(Buffer.from('x')).digest, OCI_MANIFEST, image.manifest.bytes), /not the reference/);
      // a manifest naming a blob the repository lacks is refused by the registry
      const orphan = Buffer.from(JSON.stringify({ ...JSON.parse(image.manifest.bytes.toString()), layers: [{ mediaType: OCI_LAYER, digest: blobOf(Buffer.from('gone')).digest, size: 4 }] }));
      await assert.rejects(client.putManifest('hull/app', 'broken', OCI_MANIFEST, orphan), (e: RegistryError) => e.status === 400 && /manifest blob unknown|blob unknown/.test(e.dockerMessage));
    });
  });
}

test('a registry does not outlive a test process that is killed', async () => {
  const helper = new URL('./helpers/registry.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { startRegistry } = await import(${JSON.stringify(helper)});
     const reg = await startRegistry({ auth: 'none' });
     console.log(reg.dir);
     setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`helper exited with ${code}`)));
  });
  try {
    assert.ok(processesMentioning(dir).length > 0, 'the registry runs');
    child.kill('SIGKILL');
    for (let i = 0; i < 100 && processesMentioning(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(processesMentioning(dir), [], 'the registry died with its test process');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Auth specifics

describe('htpasswd auth', () => {
  let reg: TestRegistry;
  let configDir: string;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    configDir = mkdtempSync(join(tmpdir(), 'hull-docker-config-'));
  });
  after(async () => {
    rmSync(configDir, { recursive: true, force: true });
    await stopAndCheck(reg);
  });

  test('a wrong password and no credentials give clear errors', async () => {
    const wrong = new RegistryClient(reg.host, { credentials: async () => ({ username: reg.users.user, password: 'wrong' }) });
    await assert.rejects(wrong.listTags('hull/app'), (e: RegistryError) => {
      assert.equal(e.status, 401);
      assert.equal(e.dockerMessage, 'unauthorized: incorrect username or password');
      return true;
    });
    await wrong.close();
    const anonymous = new RegistryClient(reg.host);
    await assert.rejects(anonymous.headManifest('hull/app', 'v1'), (e: RegistryError) => e.status === 401 && e.dockerMessage === 'unauthorized: authentication required');
    await anonymous.close();
  });

  test('checkLogin, login and logout go through config.json', async () => {
    await assert.rejects(checkLogin(reg.host, reg.users.user, 'nope'), /unauthorized: incorrect username or password/);
    await assert.rejects(login(reg.host, reg.users.user, 'nope', { configDir }), /incorrect username or password/);
    assert.ok(!existsSync(join(configDir, 'config.json')), 'nothing stored after a failed login');

    assert.deepEqual(await checkLogin(reg.host, reg.users.user, reg.users.password), {});
    assert.deepEqual(await login(reg.host, reg.users.user, reg.users.password, { configDir }), { key: reg.host, identityToken: false });
    assert.deepEqual(await getCredentials(reg.host, { configDir }), { username: reg.users.user, password: reg.users.password });

    const client = new RegistryClient(reg.host, { credentials: credentialSource({ configDir }) });
    const blob = blobOf(randomBytes(1000));
    await client.pushBlob('hull/login', blob.digest, blob.size, opener(blob));
    assert.deepEqual(await client.blobExists('hull/login', blob.digest), { size: blob.size });
    await client.close();

    assert.equal(await logout(reg.host, { configDir }), true);
    assert.equal(await getCredentials(reg.host, { configDir }), null);
  });
});

describe('token auth', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token' });
  });
  after(async () => stopAndCheck(reg));

  test('tokens are cached per scope set and reused for covered scopes', async () => {
    const client = clientFor(reg);
    const blob = blobOf(randomBytes(5000));
    const before = reg.token!.requests.length;
    await client.pushBlob('cache/a', blob.digest, blob.size, opener(blob));
    await client.blobExists('cache/a', blob.digest); // pull is covered by the pull,push token
    await readAll((await client.fetchBlob('cache/a', blob.digest)).stream);
    const asked = reg.token!.requests.slice(before);
    assert.deepEqual(asked.map((r) => r.scopes), [['repository:cache/a:pull,push']]);
    assert.equal(asked[0]!.account, reg.users.user);
    assert.equal(await client.tokenRequests(), 1);
    await client.close();
  });

  test('an expired token is fetched again', async () => {
    reg.token!.expiresIn = 1;
    try {
      const client = clientFor(reg);
      assert.equal(await client.headManifest('expiry/a', 'x'), null);
      assert.equal(await client.tokenRequests(), 1);
      assert.equal(await client.headManifest('expiry/a', 'x'), null);
      assert.equal(await client.tokenRequests(), 1, 'still fresh: reused');
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(await client.headManifest('expiry/a', 'x'), null);
      assert.equal(await client.tokenRequests(), 2, 'expired: fetched anew');
      await client.close();
    } finally {
      reg.token!.expiresIn = 300;
    }
  });

  test('without expires_in a token lives 60 s; access_token is accepted in place of token', async () => {
    reg.token!.expiresIn = undefined;
    reg.token!.tokenField = 'access_token';
    try {
      const client = clientFor(reg);
      const blob = blobOf(randomBytes(100));
      await client.pushBlob('oauth/a', blob.digest, blob.size, opener(blob));
      assert.deepEqual(await client.blobExists('oauth/a', blob.digest), { size: 100 });
      assert.equal(await client.tokenRequests(), 1);
      await client.close();
    } finally {
      reg.token!.expiresIn = 300;
      reg.token!.tokenField = 'token';
    }
  });

  test('a 401 asking for another scope gets a token for both', async () => {
    const client = clientFor(reg);
    const blob = blobOf(randomBytes(64));
    await client.pushBlob('scope/b', blob.digest, blob.size, opener(blob));
    await client.close();

    const transport = new Transport();
    try {
      const [remote] = await resolveRemotes(reg.host, 'pull');
      const pong = await ping(transport, remote!);
      assert.equal(pong.endpoint.url.protocol, 'http:', 'HTTPS was tried and fell back to HTTP');
      const auth = new Authenticator(transport, {
        host: reg.host,
        endpoint: pong.endpoint,
        challenges: pong.challenges,
        credentials: async () => ({ username: reg.users.user, password: reg.users.password }),
      });
      let state = await auth.authorize([repositoryScope('scope/a', ['pull'])]);
      const url = new URL(`/v2/scope/b/blobs/${blob.digest}`, pong.endpoint.url);
      let res = await transport.send({ method: 'HEAD', url, headers: { authorization: state.header! } });
      assert.equal(res.status, 401);
      const retry = await auth.retryScopes(res, state);
      assert.deepEqual(retry, ['repository:scope/a:pull', 'repository:scope/b:pull']);
      state = await auth.authorize(retry!);
      res = await transport.send({ method: 'HEAD', url, headers: { authorization: state.header! } });
      assert.equal(res.status, 200);
      assert.deepEqual(reg.token!.requests.at(-1)!.scopes, ['repository:scope/a:pull', 'repository:scope/b:pull']);
    } finally {
      await transport.close();
    }
  });

  test('a wrong password is reported from the token server', async () => {
    const client = new RegistryClient(reg.host, { credentials: async () => ({ username: reg.users.user, password: 'wrong' }) });
    await assert.rejects(client.getManifest('any/repo', 'latest'), (e: RegistryError) => {
      assert.equal(e.status, 401);
      assert.equal(e.dockerMessage, 'unauthorized: incorrect username or password');
      assert.ok(e.url.startsWith(reg.token!.realm), 'the error names the token server');
      return true;
    });
    await client.close();
    await assert.rejects(checkLogin(reg.host, reg.users.user, 'wrong'), /unauthorized: incorrect username or password/);
  });

  test('anonymous access gets an empty grant: authentication required', async () => {
    const client = new RegistryClient(reg.host);
    await assert.rejects(client.listTags('private/repo'), (e: RegistryError) => e.status === 401 && e.dockerMessage === 'unauthorized: authentication required');
    await client.close();
  });

  test('a denied scope is "denied", whether left out of the grant or refused by the token server', async () => {
    reg.token!.deny = (repo, action) => repo === 'locked/app' && action === 'push';
    try {
      const blob = blobOf(randomBytes(10));
      const client = clientFor(reg);
      await assert.rejects(client.pushBlob('locked/app', blob.digest, blob.size, opener(blob)), (e: RegistryError) => {
        assert.equal(e.code, 'DENIED');
        assert.equal(e.dockerMessage, 'denied: requested access to the resource is denied');
        return true;
      });
      await client.close();

      reg.token!.denyMode = 'forbid';
      const again = clientFor(reg);
      await assert.rejects(again.pushBlob('locked/app', blob.digest, blob.size, opener(blob)), (e: RegistryError) => {
        assert.equal(e.status, 403);
        assert.equal(e.code, 'DENIED');
        assert.equal(e.dockerMessage, 'denied: access to locked/app is denied');
        return true;
      });
      await again.close();
    } finally {
      reg.token!.deny = () => false;
      reg.token!.denyMode = 'omit';
    }
  });

  test('a mount whose source may not be read falls back to false, and the upload still works', async () => {
    const blob = blobOf(randomBytes(2000));
    const client = clientFor(reg);
    await client.pushBlob('mount/src', blob.digest, blob.size, opener(blob));
    reg.token!.deny = (repo) => repo === 'mount/src';
    try {
      assert.equal(await client.mountBlob('mount/dst', blob.digest, 'mount/src'), false);
      await client.pushBlob('mount/dst', blob.digest, blob.size, opener(blob));
      assert.deepEqual(await client.blobExists('mount/dst', blob.digest), { size: blob.size });
    } finally {
      reg.token!.deny = () => false;
      await client.close();
    }
  });

  test('login stores the identity token the server issued; pulls then use the OAuth2 refresh flow', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'hull-docker-config-'));
    try {
      const result = await login(reg.host, reg.users.user, reg.users.password, { configDir });
      assert.deepEqual(result, { key: reg.host, identityToken: true });
      const stored = await getCredentials(reg.host, { configDir });
      assert.equal(stored!.password, '', 'the password is not kept');
      assert.ok(stored!.identityToken);
      assert.ok(reg.token!.requests.at(-1)!.offline);

      const client = new RegistryClient(reg.host, { credentials: credentialSource({ configDir }) });
      const blob = blobOf(randomBytes(300));
      await client.pushBlob('identity/app', blob.digest, blob.size, opener(blob));
      const last = reg.token!.requests.at(-1)!;
      assert.equal(last.method, 'POST');
      assert.equal(last.grantType, 'refresh_token');
      assert.equal(last.user, reg.users.user);
      assert.deepEqual(last.scopes, ['repository:identity/app:pull,push']);
      await client.close();
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});

describe('a TLS registry that wants a client certificate', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd', tls: true });
  });
  after(async () => stopAndCheck(reg));

  test("docker's certs.d gives the client certificate, and the conversation stays on HTTPS", async () => {
    const transport = new Transport({ certsDir: reg.certsDir! });
    try {
      const [remote] = await resolveRemotes(reg.host, 'push');
      const pong = await ping(transport, remote!);
      assert.equal(pong.endpoint.url.href, `https://${reg.host}/`);
      assert.equal(pong.endpoint.tlsVerify, false, 'a loopback registry is insecure: its certificate is not verified');
    } finally {
      await transport.close();
    }
    const client = clientFor(reg, { certsDir: reg.certsDir! });
    const blob = blobOf(randomBytes(70_000));
    await client.pushBlob('tls/app', blob.digest, blob.size, opener(blob), { chunkSize: 30_000 });
    assert.deepEqual(await client.blobExists('tls/app', blob.digest), { size: blob.size });
    const got = await client.fetchBlob('tls/app', blob.digest, { offset: 5 });
    assert.ok((await readAll(got.stream)).equals(blob.bytes.subarray(5)));
    await client.close();
  });

  test('without the client certificate HTTPS fails, the HTTP fallback is no registry, and the error says both', async () => {
    const client = clientFor(reg, { certsDir: null });
    await assert.rejects(client.listTags('tls/app'), (e: Error) => {
      assert.ok(e instanceof RegistryTransportError);
      assert.match(e.message, new RegExp(`cannot reach registry ${reg.host.replace(/\./g, '\\.')}; tried GET https://.*; then http://.*answered HTTP 400 to GET /v2/`));
      return true;
    });
    await client.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Servers that misbehave

describe('misbehaving servers', () => {
  let reg: TestRegistry;
  let proxy: MisbehavingRegistry;
  let client: RegistryClient;
  const image = tinyImage('hostile');
  const blobPath = (p: string) => p.startsWith('/v2/hostile/app/blobs/sha256:');

  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    const direct = clientFor(reg);
    await pushImage(direct, 'hostile/app', image, 'v1');
    await direct.close();
    proxy = await startMisbehavingRegistry({ upstream: reg.url });
    client = new RegistryClient(proxy.host, { credentials: async () => ({ username: reg.users.user, password: reg.users.password }) });
  });
  after(async () => {
    await client.close();
    await proxy.stop();
    await stopAndCheck(reg);
  });

  test('a body shorter than its Content-Length errors the stream', async () => {
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'wrong-length', extra: 100 } : null);
    const { stream, size } = await client.fetchBlob('hostile/app', image.layer.digest);
    assert.equal(size, image.layer.size + 100);
    await assert.rejects(readAll(stream), (e: Error) => {
      assert.ok(e instanceof RegistryTransportError);
      assert.match(e.message, /\/v2\/hostile\/app\/blobs\/sha256:/);
      assert.match(e.message, new RegExp(`after ${image.layer.size} of ${image.layer.size + 100} bytes`));
      return true;
    });
  });

  test('a connection dropped mid-body errors the stream', async () => {
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'drop', after: 50_000 } : null);
    const { stream } = await client.fetchBlob('hostile/app', image.layer.digest);
    await assert.rejects(readAll(stream), (e: Error) => e instanceof RegistryTransportError && /after 50000 of \d+ bytes/.test(e.message));
  });

  test('a server that stalls before its headers or in its body times out', async () => {
    const impatient = new RegistryClient(proxy.host, {
      credentials: async () => ({ username: reg.users.user, password: reg.users.password }),
      headersTimeout: 500,
      bodyTimeout: 500,
    });
    try {
      proxy.rule = (r) => (blobPath(r.path) ? { kind: 'stall' } : null);
      await assert.rejects(impatient.fetchBlob('hostile/app', image.layer.digest), (e: Error) => e instanceof RegistryTransportError && /timed out waiting for the response headers/.test(e.message));
      proxy.rule = (r) => (blobPath(r.path) ? { kind: 'stall-body', after: 1000 } : null);
      const { stream } = await impatient.fetchBlob('hostile/app', image.layer.digest);
      await assert.rejects(readAll(stream), (e: Error) => e instanceof RegistryTransportError && /the response body stalled after 1000 of \d+ bytes/.test(e.message));
    } finally {
      await impatient.close();
    }
  });

  test('a redirect loop and too many redirects are refused; ten hops are followed with credentials', async () => {
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'redirect-loop' } : null);
    await assert.rejects(client.fetchBlob('hostile/app', image.layer.digest), (e: Error) => e instanceof RegistryProtocolError && /redirect loop/.test(e.message));
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'redirects', hops: 11 } : null);
    await assert.rejects(client.fetchBlob('hostile/app', image.layer.digest), /too many redirects \(more than 10\)/);
    // the registry behind needs the credentials, so they travelled along the same-host hops
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'redirects', hops: 10 } : null);
    const got = await client.fetchBlob('hostile/app', image.layer.digest);
    assert.ok((await readAll(got.stream)).equals(image.layer.bytes));
  });

  test('a redirect to another host does not carry the Authorization header', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const storage = await serveBytes(image.layer.bytes, seen);
    try {
      proxy.rule = (r) => (blobPath(r.path) ? { kind: 'redirect-to', location: `${storage.url}/signed?sig=abc` } : null);
      const got = await client.fetchBlob('hostile/app', image.layer.digest);
      assert.ok((await readAll(got.stream)).equals(image.layer.bytes));
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.authorization, undefined);
      assert.ok(proxy.requests.at(-1)!.headers.authorization?.startsWith('Basic '), 'the registry itself got them');
    } finally {
      await storage.close();
    }
  });

  test('a server that ignores Range restarts the blob at offset 0', async () => {
    proxy.rule = (r) => (blobPath(r.path) ? { kind: 'ignore-range' } : null);
    const got = await client.fetchBlob('hostile/app', image.layer.digest, { offset: 1000 });
    assert.equal(got.offset, 0);
    assert.ok((await readAll(got.stream)).equals(image.layer.bytes));
  });

  test('an oversized manifest is refused, with and without a Content-Length', async () => {
    proxy.rule = () => null;
    await assert.rejects(client.getManifest('hostile/app', 'v1', { maxBytes: 100 }), /is \d+ bytes, over the limit of 100 bytes/);
    proxy.rule = (r) => (r.path.includes('/manifests/') ? { kind: 'strip-length' } : null);
    await assert.rejects(client.getManifest('hostile/app', 'v1', { maxBytes: 100 }), /is over the limit of 100 bytes/);
    const fine = await client.getManifest('hostile/app', 'v1');
    assert.ok(fine.bytes.equals(image.manifest.bytes));
  });

  test('manifest content that does not match its digest is refused', async () => {
    const other = Buffer.from('{"schemaVersion":2}');
    proxy.rule = (r) =>
      r.path.includes('/manifests/') ? { kind: 'respond', status: 200, headers: { 'content-type': OCI_MANIFEST }, body: other } : null;
    await assert.rejects(client.getManifest('hostile/app', image.manifest.digest), (e: Error) => e instanceof RegistryProtocolError && /manifest digest mismatch/.test(e.message));
    proxy.rule = (r) =>
      r.path.includes('/manifests/') ? { kind: 'set-headers', headers: { 'docker-content-digest': blobOf(other).digest } } : null;
    await assert.rejects(client.getManifest('hostile/app', 'v1'), /Docker-Content-Digest sha256:\w+ does not match the content/);
  });

  test('tag lists are followed through Link pages, and a looping Link is refused', async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      '/v2/hostile/app/tags/list': { tags: ['a', 'b'], next: '/v2/hostile/app/tags/list?n=2&last=b' },
      '/v2/hostile/app/tags/list?n=2&last=b': { tags: ['c', 'd'], next: '/v2/hostile/app/tags/list?n=2&last=d' },
      '/v2/hostile/app/tags/list?n=2&last=d': { tags: ['e'] },
    };
    proxy.rule = (r) => {
      const page = pages[r.path];
      if (!page) return null;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page.next) headers.link = `<${page.next}>; rel="next"`;
      return { kind: 'respond', status: 200, headers, body: JSON.stringify({ name: 'hostile/app', tags: page.tags }) };
    };
    assert.deepEqual(await client.listTags('hostile/app'), ['a', 'b', 'c', 'd', 'e']);
    pages['/v2/hostile/app/tags/list?n=2&last=d']!.next = '/v2/hostile/app/tags/list?n=2&last=b';
    await assert.rejects(client.listTags('hostile/app'), /tag list pages link in a loop/);
  });

  test('a source of the wrong length or a wrong digest fails the push; uploads are cancelled', async () => {
    proxy.rule = () => null;
    const plain = await startRegistry({ auth: 'none' });
    try {
      const c = new RegistryClient(plain.host);
      const blob = blobOf(randomBytes(100_000));
      // Once part of a body went out, distribution 2.8 refuses the DELETE (its upload state no
      // longer matches the offset in our upload URL): those uploads are left to its purging.
      await assert.rejects(c.pushBlob('cut/dirty', blob.digest, blob.size + 5, opener(blob)), (e: Error) => e instanceof BlobSourceError && /ended after 100000 bytes, expected 100005/.test(e.message));
      await assert.rejects(c.pushBlob('cut/dirty', blob.digest, blob.size + 5, opener(blob), { chunkSize: 30_000 }), (e: Error) => e instanceof BlobSourceError && /ended after 100000 bytes, expected 100005/.test(e.message));
      await assert.rejects(c.pushBlob('cut/dirty', blob.digest, blob.size - 5, opener(blob)), (e: Error) => e instanceof BlobSourceError && /more than the announced 99995 bytes/.test(e.message));
      await assert.rejects(c.pushBlob('cut/dirty', blobOf(Buffer.from('x')).digest, blob.size, opener(blob)), (e: RegistryError) => e.code === 'DIGEST_INVALID');

      // These fail before any byte of the body is sent, or at the body-less final PUT: the
      // registry can cancel them.
      const exact = blobOf(blob.bytes.subarray(0, 16 * 1024));
      await assert.rejects(c.pushBlob('cut/clean', exact.digest, exact.size, opener(blob)), (e: Error) => e instanceof BlobSourceError && /more than the announced 16384 bytes/.test(e.message));
      await assert.rejects(c.pushBlob('cut/clean', blobOf(Buffer.from('x')).digest, blob.size, opener(blob), { chunkSize: 40_000 }), (e: RegistryError) => e.code === 'DIGEST_INVALID');
      assert.equal(await c.mountBlob('cut/clean', blob.digest, 'cut/dirty'), false);
      // distribution 2.8 cancels an upload by deleting its directory, then writes a hash state
      // back into it as the request closes; an upload without data or startedat is gone for it.
      const uploads = join(plain.dir, 'data/docker/registry/v2/repositories/cut/clean/_uploads');
      const left = readdirSync(uploads, { recursive: true }).map(String);
      assert.equal(left.filter((p) => p.endsWith('/data') || p.endsWith('/startedat')).length, 0, `upload sessions left: ${left.join(', ')}`);
      assert.equal(left.filter((p) => !p.includes('/')).length, 3, 'three uploads were started');
      assert.equal(await c.blobExists('cut/clean', blob.digest), null);
      assert.equal(await c.blobExists('cut/dirty', blob.digest), null);
      await c.close();
    } finally {
      await stopAndCheck(plain);
    }
  });

  test('mirrors are tried first for pulls; a mirror that fails or lacks the content falls back to the origin', async () => {
    const mirror = await startMisbehavingRegistry({ upstream: reg.url });
    const deadPort = await freePort();
    const creds = { credentials: async () => ({ username: reg.users.user, password: reg.users.password }) };
    try {
      const viaMirror = new RegistryClient(reg.host, { ...creds, mirrors: { [reg.host]: [mirror.url] } });
      const got = await viaMirror.getManifest('hostile/app', 'v1');
      assert.ok(got.bytes.equals(image.manifest.bytes));
      assert.ok(mirror.requests.some((r) => r.path === '/v2/hostile/app/manifests/v1'), 'the mirror served it');
      await viaMirror.close();

      mirror.rule = (r) => (r.path.startsWith('/v2/hostile/') ? { kind: 'respond', status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' } : null);
      const missing = new RegistryClient(reg.host, { ...creds, mirrors: { [reg.host]: [`http://127.0.0.1:${deadPort}`, mirror.url] } });
      const fromOrigin = await missing.getManifest('hostile/app', 'v1');
      assert.ok(fromOrigin.bytes.equals(image.manifest.bytes));
      assert.equal(await missing.headManifest('hostile/app', 'v1').then((h) => h?.digest), image.manifest.digest);
      const blob = await missing.fetchBlob('hostile/app', image.config.digest);
      assert.ok((await readAll(blob.stream)).equals(image.config.bytes));
      await missing.close();
    } finally {
      await mirror.stop();
    }
  });

  test('foreign layer URLs are tried first, without credentials; other schemes are skipped', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const storage = await serveBytes(image.layer.bytes, seen);
    try {
      const got = await client.fetchBlob('hostile/app', image.layer.digest, { urls: ['ftp://example/x', `${storage.url}/layer.tar`], offset: 10 });
      assert.equal(got.offset, 10);
      assert.ok((await readAll(got.stream)).equals(image.layer.bytes.subarray(10)));
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.authorization, undefined);
      assert.equal(seen[0]!.range, 'bytes=10-');
      // a foreign URL that fails leaves the registry to serve it
      const fallback = await client.fetchBlob('hostile/app', image.layer.digest, { urls: [`${storage.url}/missing`] });
      assert.ok((await readAll(fallback.stream)).equals(image.layer.bytes));
    } finally {
      await storage.close();
    }
  });

  test('an unreachable registry says which URLs were tried and why', async () => {
    const port = await freePort();
    const nowhere = new RegistryClient(`127.0.0.1:${port}`);
    await assert.rejects(nowhere.getManifest('a/b', 'latest'), (e: Error) => {
      assert.ok(e instanceof RegistryTransportError);
      assert.match(e.message, new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port}; tried GET https://127\\.0\\.0\\.1:${port}/v2/: connection refused.*; then GET http://127\\.0\\.0\\.1:${port}/v2/: connection refused`));
      return true;
    });
    await nowhere.close();
  });
});

/** A plain HTTP server standing for blob storage or a foreign-layer host: serves bytes, with Range. */
async function serveBytes(bytes: Buffer, seen: IncomingHttpHeaders[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url?.startsWith('/missing')) {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, { 'content-length': String(bytes.length - start), 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
      res.end(bytes.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': String(bytes.length) });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
