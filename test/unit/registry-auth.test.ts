// The registry client's pure parts: WWW-Authenticate parsing, scopes, endpoint and insecure
// registry decisions, error bodies, and docker's credential store (config.json and a real
// docker-credential-<name> helper program written by the test).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { normalizeScopes, parseChallenges, repositoryScope } from '../../src/registry/auth.ts';
import {
  credentialKey,
  CredentialsError,
  dockerConfigDir,
  eraseCredentials,
  getCredentials,
  storeCredentials,
} from '../../src/registry/credentials.ts';
import {
  canonicalDomain,
  EndpointError,
  isInsecureRegistry,
  parseMirror,
  resolveRemotes,
  validateDomain,
} from '../../src/registry/endpoint.ts';
import { dockerErrorText, parseErrorBody, RegistryError, redactUrl } from '../../src/registry/errors.ts';
import { validateDigest, validateRepository } from '../../src/registry/client.ts';

describe('WWW-Authenticate parsing', () => {
  test('distribution token challenge with scope and error', () => {
    const ch = parseChallenges(
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:library/busybox:pull,push",error="insufficient_scope"',
    );
    assert.deepEqual(ch, [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:library/busybox:pull,push',
          error: 'insufficient_scope',
        },
      },
    ]);
  });

  test('Basic realm; scheme and parameter names are case-insensitive', () => {
    assert.deepEqual(parseChallenges('BASIC Realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });

  test('several challenges in one value and over several values', () => {
    const one = parseChallenges('Basic realm="a, b", Bearer realm="https://t/x",service=s , Negotiate');
    assert.deepEqual(one.map((c) => c.scheme), ['basic', 'bearer', 'negotiate']);
    assert.equal(one[0]!.params.realm, 'a, b');
    assert.deepEqual(one[1]!.params, { realm: 'https://t/x', service: 's' });
    const many = parseChallenges(['Basic realm="r"', 'Bearer realm="https://t"']);
    assert.deepEqual(many.map((c) => c.scheme), ['basic', 'bearer']);
  });

  test('quoted strings keep escaped quotes and backslashes', () => {
    const [ch] = parseChallenges('Bearer realm="https://t/\\"q\\"",service="a\\\\b"');
    assert.equal(ch!.params.realm, 'https://t/"q"');
    assert.equal(ch!.params.service, 'a\\b');
  });

  test('token68 and whitespace around "="', () => {
    assert.deepEqual(parseChallenges('Negotiate YIIBhg==, Basic realm = "x"'), [
      { scheme: 'negotiate', params: {}, token68: 'YIIBhg==' },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  test('a repeated parameter keeps its first value', () => {
    const [ch] = parseChallenges('Bearer realm="https://good/token",realm="https://evil/token"');
    assert.equal(ch!.params.realm, 'https://good/token');
  });

  test('garbage and unterminated quotes do not throw', () => {
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges(',,, ;;'), []);
    const [ch] = parseChallenges('Bearer realm="https://t/unterminated');
    assert.equal(ch!.params.realm, 'https://t/unterminated');
  });
});

describe('scopes', () => {
  test('repositoryScope sorts and dedups actions', () => {
    assert.equal(repositoryScope('a/b', ['push', 'pull', 'push']), 'repository:a/b:pull,push');
  });

  test('normalizeScopes merges one resource and sorts', () => {
    assert.deepEqual(
      normalizeScopes(['repository:b:push', 'repository:a:pull', 'repository:b:pull', 'registry:catalog:*']),
      ['registry:catalog:*', 'repository:a:pull', 'repository:b:pull,push'],
    );
    // a challenge's scope parameter may hold several, space-separated
    assert.deepEqual(normalizeScopes(['repository:a:pull repository:c:pull']), ['repository:a:pull', 'repository:c:pull']);
  });
});

describe('endpoints', () => {
  test('domains are validated and Docker Hub aliases fold', () => {
    assert.equal(canonicalDomain('index.docker.io'), 'docker.io');
    assert.equal(canonicalDomain('registry-1.docker.io'), 'docker.io');
    assert.equal(canonicalDomain('Registry.Example.com:5000'), 'registry.example.com:5000');
    assert.equal(validateDomain('[::1]:5000'), '[::1]:5000');
    for (const bad of ['', 'a/b', 'user@host', 'host:0', 'host:99999', 'http://host', 'host name', '[zz]:1', 'host:5000/x', 'a..b']) {
      assert.throws(() => validateDomain(bad), EndpointError, bad);
    }
  });

  test('loopback registries are insecure by default; Docker Hub never is', async () => {
    const noLookup = async () => assert.fail('no name resolution expected');
    assert.equal(await isInsecureRegistry('127.0.0.1:5000', { lookup: noLookup }), true);
    assert.equal(await isInsecureRegistry('127.8.9.10', { lookup: noLookup }), true);
    assert.equal(await isInsecureRegistry('[::1]:5000', { lookup: noLookup }), true);
    assert.equal(await isInsecureRegistry('localhost:5000', { lookup: noLookup }), true);
    assert.equal(await isInsecureRegistry('10.1.2.3:5000', { lookup: noLookup }), false);
    assert.equal(await isInsecureRegistry('docker.io', { insecureRegistries: ['0.0.0.0/0'], lookup: noLookup }), false);
  });

  test('insecure entries: host[:port] match exactly as in dockerd, CIDRs match resolved addresses', async () => {
    const lookup = async (host: string) => (host === 'reg.lan' ? ['192.168.7.20'] : host === 'loop.lan' ? ['127.0.1.1'] : []);
    const opts = { insecureRegistries: ['myreg:5000', 'other', 'http://schemed:443', '192.168.0.0/16'], lookup };
    assert.equal(await isInsecureRegistry('myreg:5000', opts), true);
    assert.equal(await isInsecureRegistry('myreg', opts), false);
    assert.equal(await isInsecureRegistry('myreg:5001', opts), false);
    assert.equal(await isInsecureRegistry('other', opts), true);
    assert.equal(await isInsecureRegistry('other:5000', opts), false);
    assert.equal(await isInsecureRegistry('schemed:443', opts), true);
    assert.equal(await isInsecureRegistry('reg.lan:5000', opts), true);
    assert.equal(await isInsecureRegistry('192.168.200.1', opts), true);
    assert.equal(await isInsecureRegistry('192.169.0.1', opts), false);
    // a name that resolves to loopback is insecure like 127.0.0.0/8 itself, as dockerd has it
    assert.equal(await isInsecureRegistry('loop.lan', { lookup }), true);
    assert.equal(await isInsecureRegistry('unknown.lan', opts), false);
    await assert.rejects(isInsecureRegistry('x', { insecureRegistries: ['10.0.0.0/33'] }), /not a valid CIDR/);
    await assert.rejects(isInsecureRegistry('x', { insecureRegistries: ['a/b/c'] }), /expected host\[:port\] or a CIDR/);
  });

  test('secure registries get HTTPS only; insecure ones HTTPS without verification, then HTTP', async () => {
    const lookup = async () => [];
    const secure = await resolveRemotes('registry.example.com', 'pull', { lookup });
    assert.deepEqual(secure.map((r) => ({ host: r.host, mirror: r.mirror, c: r.candidates.map((c) => [c.url.href, c.tlsVerify]) })), [
      { host: 'registry.example.com', mirror: false, c: [['https://registry.example.com/', true]] },
    ]);
    const insecure = await resolveRemotes('127.0.0.1:5000', 'push', { lookup });
    assert.deepEqual(insecure[0]!.candidates.map((c) => [c.url.href, c.tlsVerify]), [
      ['https://127.0.0.1:5000/', false],
      ['http://127.0.0.1:5000/', false],
    ]);
  });

  test('Docker Hub is registry-1.docker.io; mirrors come first for pulls only', async () => {
    const options = {
      lookup: async () => [],
      mirrors: { 'docker.io': ['http://127.0.0.1:5000', 'https://mirror.example.com/'], 'other.example': ['http://x:1'] },
    };
    const pull = await resolveRemotes('index.docker.io', 'pull', options);
    assert.deepEqual(pull.map((r) => [r.host, r.mirror, r.candidates.map((c) => c.url.href)]), [
      ['127.0.0.1:5000', true, ['http://127.0.0.1:5000/']],
      ['mirror.example.com', true, ['https://mirror.example.com/']],
      ['registry-1.docker.io', false, ['https://registry-1.docker.io/']],
    ]);
    const push = await resolveRemotes('docker.io', 'push', options);
    assert.deepEqual(push.map((r) => r.host), ['registry-1.docker.io']);
    const other = await resolveRemotes('quay.example', 'pull', options);
    assert.deepEqual(other.map((r) => r.host), ['quay.example']);
  });

  test('mirror URLs are checked like dockerd does', () => {
    assert.equal(parseMirror('https://m.example:8443/').href, 'https://m.example:8443/');
    for (const bad of ['ftp://m', 'm.example', 'https://m/v2/', 'https://u:p@m', 'https://m/?x=1']) {
      assert.throws(() => parseMirror(bad), EndpointError, bad);
    }
  });
});

describe('names and digests', () => {
  test('repository names follow the distribution grammar', () => {
    for (const ok of ['a', 'library/busybox', 'a.b/c__d/e-f--g', 'x/y/z']) assert.equal(validateRepository(ok), ok);
    for (const bad of ['', 'A', 'a//b', '/a', 'a/', 'a..b', '../etc', 'a/b?x', 'a b', 'a_']) {
      assert.throws(() => validateRepository(bad), /invalid repository name/, bad);
    }
  });

  test('digests must be sha256 or sha512 in canonical hex', () => {
    assert.doesNotThrow(() => validateDigest(`sha256:${'a'.repeat(64)}`));
    for (const bad of [`sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `md5:${'a'.repeat(32)}`, 'sha256:../../x']) {
      assert.throws(() => validateDigest(bad), /invalid digest/, bad);
    }
  });
});

describe('registry errors', () => {
  test('distribution error bodies give docker-like messages', () => {
    const e = new RegistryError({
      status: 404,
      errors: parseErrorBody('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}'),
      method: 'GET',
      url: 'https://r/v2/a/manifests/x',
    });
    assert.equal(e.code, 'MANIFEST_UNKNOWN');
    assert.equal(e.dockerMessage, 'manifest unknown: manifest unknown');
    assert.equal(e.registryMessage, 'manifest unknown');
    assert.match(e.message, /^manifest unknown: manifest unknown \(GET https:\/\/r\/v2\/a\/manifests\/x: HTTP 404\)$/);
    assert.deepEqual(e.errors[0]!.detail, { Tag: 'x' });
  });

  test('several errors are listed; empty or foreign bodies fall back to the status', () => {
    const two = new RegistryError({
      status: 400,
      errors: parseErrorBody('{"errors":[{"code":"BLOB_UNKNOWN","message":"a"},{"code":"MANIFEST_INVALID","message":"b"}]}'),
      method: 'PUT',
      url: 'https://r/',
    });
    assert.equal(two.dockerMessage, 'errors:\nblob unknown: a\nmanifest invalid: b');
    const denied = new RegistryError({ status: 403, errors: parseErrorBody('<html>nope</html>'), method: 'GET', url: 'https://r/' });
    assert.equal(denied.dockerMessage, 'denied: requested access to the resource is denied');
    const hub = new RegistryError({ status: 401, errors: parseErrorBody('{"details":"incorrect username or password"}'), method: 'GET', url: 'https://r/' });
    assert.equal(hub.dockerMessage, 'unauthorized: incorrect username or password');
    const odd = new RegistryError({ status: 502, errors: [], method: 'GET', url: 'https://r/' });
    assert.equal(odd.dockerMessage, 'unknown: unexpected HTTP status 502');
  });

  test('hostile bodies: bad codes, control characters and floods are tamed', () => {
    const errs = parseErrorBody(JSON.stringify({ errors: [{ code: 'x\u001b[31m', message: `a\u001b[2Jb${'z'.repeat(2000)}` }, 7, null] }));
    assert.equal(errs.length, 1);
    assert.equal(errs[0]!.code, 'UNKNOWN');
    assert.ok(!errs[0]!.message.includes('\u001b'));
    assert.ok(errs[0]!.message.length <= 501);
    assert.equal(dockerErrorText('NAME_UNKNOWN', 'repository name not known to registry'), 'name unknown: repository name not known to registry');
  });

  test('URLs in messages lose credentials and upload state', () => {
    assert.equal(redactUrl('https://u:p@r/v2/x/blobs/uploads/1?_state=SECRET&digest=d'), 'https://r/v2/x/blobs/uploads/1?_state=%E2%80%A6&digest=d');
  });
});

// ---------------------------------------------------------------------------------------------
// Credentials

const scratch = mkdtempSync(join(tmpdir(), 'hull-creds-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;

function configDir(content?: unknown): string {
  const dir = join(scratch, `cfg${++dirCount}`);
  mkdirSync(dir);
  if (content !== undefined) writeFileSync(join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, any>;

describe('docker config.json', () => {
  test('the config directory is $DOCKER_CONFIG, else ~/.docker', () => {
    assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/x/y', HOME: '/h' }), '/x/y');
    assert.equal(dockerConfigDir({ HOME: '/h' }), '/h/.docker');
  });

  test('keys: Docker Hub is https://index.docker.io/v1/, others host[:port]', () => {
    assert.equal(credentialKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(credentialKey('index.docker.io'), 'https://index.docker.io/v1/');
    assert.equal(credentialKey('Reg.Example:5000'), 'reg.example:5000');
  });

  test('reads auths: base64 user:password, identity tokens, keys with scheme and path', async () => {
    const dir = configDir({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass:with:colons') },
        'reg.example:5000': { auth: b64('u:'), identitytoken: 'refresh-123' },
        'https://legacy.example/v1/': { auth: b64('old:secret') },
        'plain.example': { username: 'pu', password: 'pp' },
        'empty.example': {},
      },
    });
    assert.deepEqual(await getCredentials('docker.io', { configDir: dir }), { username: 'hubuser', password: 'hub:pass:with:colons' });
    assert.deepEqual(await getCredentials('reg.example:5000', { configDir: dir }), { username: 'u', password: '', identityToken: 'refresh-123' });
    assert.deepEqual(await getCredentials('legacy.example', { configDir: dir }), { username: 'old', password: 'secret' });
    assert.deepEqual(await getCredentials('plain.example', { configDir: dir }), { username: 'pu', password: 'pp' });
    assert.equal(await getCredentials('empty.example', { configDir: dir }), null);
    assert.equal(await getCredentials('reg.example:5001', { configDir: dir }), null);
    assert.equal(await getCredentials('reg.example', { configDir: configDir() }), null);
  });

  test('DOCKER_CONFIG from the environment is honoured', async () => {
    const dir = configDir({ auths: { 'r.example': { auth: b64('a:b') } } });
    assert.deepEqual(await getCredentials('r.example', { env: { DOCKER_CONFIG: dir } }), { username: 'a', password: 'b' });
  });

  test('a broken config is an error that names the file, and is never overwritten', async () => {
    const dir = configDir('{"auths": {');
    await assert.rejects(getCredentials('r.example', { configDir: dir }), (e: Error) => e instanceof CredentialsError && e.message.includes(join(dir, 'config.json')) && /not valid JSON/.test(e.message));
    await assert.rejects(storeCredentials('r.example', { username: 'a', password: 'b' }, { configDir: dir }), CredentialsError);
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"auths": {');
    const bad = configDir({ auths: { 'r.example': { auth: '!!!not-base64' } } });
    await assert.rejects(getCredentials('r.example', { configDir: bad }), /not base64 of user:password/);
    const arr = configDir('[1,2]');
    await assert.rejects(getCredentials('r.example', { configDir: arr }), /must hold a JSON object/);
  });

  test('store keeps unknown keys, writes 0600 atomically, and erase removes', async () => {
    const dir = configDir({ auths: { 'other.example': { auth: b64('o:p') } }, psFormat: 'table {{.ID}}', proxies: { default: { httpProxy: 'x' } } });
    chmodSync(join(dir, 'config.json'), 0o644);
    await storeCredentials('reg.example:5000', { username: 'me', password: 's3cret' }, { configDir: dir });
    const doc = readJson(dir);
    assert.equal(doc.psFormat, 'table {{.ID}}');
    assert.deepEqual(doc.proxies, { default: { httpProxy: 'x' } });
    assert.deepEqual(doc.auths['other.example'], { auth: b64('o:p') });
    assert.deepEqual(doc.auths['reg.example:5000'], { auth: b64('me:s3cret') });
    assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['config.json'], 'no temp file left behind');
    assert.deepEqual(await getCredentials('reg.example:5000', { configDir: dir }), { username: 'me', password: 's3cret' });

    await storeCredentials('docker.io', { username: 'hub', password: '', identityToken: 'tok' }, { configDir: dir });
    assert.deepEqual(readJson(dir).auths['https://index.docker.io/v1/'], { auth: b64('hub:'), identitytoken: 'tok' });

    assert.equal(await eraseCredentials('reg.example:5000', { configDir: dir }), true);
    assert.equal(await eraseCredentials('reg.example:5000', { configDir: dir }), false);
    const after = readJson(dir);
    assert.equal(after.auths['reg.example:5000'], undefined);
    assert.deepEqual(after.auths['other.example'], { auth: b64('o:p') });
    assert.equal(after.psFormat, 'table {{.ID}}');
  });

  test('store creates the directory and file when missing, and writes through a symlink', async () => {
    const dir = join(scratch, `fresh${++dirCount}`, 'nested');
    await storeCredentials('r.example', { username: 'a', password: 'b' }, { configDir: dir });
    assert.deepEqual(readJson(dir).auths, { 'r.example': { auth: b64('a:b') } });
    assert.equal(statSync(dir).mode & 0o777, 0o700);

    const real = configDir({ auths: {}, keep: 1 });
    const linked = configDir();
    symlinkSync(join(real, 'config.json'), join(linked, 'config.json'));
    await storeCredentials('r.example', { username: 'c', password: 'd' }, { configDir: linked });
    assert.ok(statSync(join(linked, 'config.json')).isFile());
    assert.deepEqual(readJson(real), { auths: { 'r.example': { auth: b64('c:d') } }, keep: 1 });
  });
});

describe('credential helpers', () => {
  // A real helper program speaking docker's protocol, keeping one file per server URL.
  const bin = join(scratch, 'bin');
  const store = join(scratch, 'helper-store');
  mkdirSync(bin);
  mkdirSync(store);
  writeFileSync(
    join(bin, 'docker-credential-test'),
    `#!/bin/sh
input=$(cat)
echo "$1 $input" >> "$HELPER_STORE/log"
case "$1" in
  get|erase) url="$input" ;;
  store) url=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p') ;;
  *) echo "unknown verb"; exit 2 ;;
esac
case "$url" in *broken*) echo "the keychain is locked" >&2; exit 3 ;; esac
file="$HELPER_STORE/$(printf '%s' "$url" | od -An -tx1 | tr -d ' \\n')"
case "$1" in
  get) if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) printf '%s' "$input" > "$file" ;;
  erase) if [ -f "$file" ]; then rm "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
`,
  );
  chmodSync(join(bin, 'docker-credential-test'), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}`, HELPER_STORE: store };
  const log = () => (existsSync(join(store, 'log')) ? readFileSync(join(store, 'log'), 'utf8').trim().split('\n') : []);

  test('credsStore: store goes to the helper, config.json keeps an empty marker', async () => {
    const dir = configDir({ credsStore: 'test', auths: {}, other: true });
    await storeCredentials('reg.example:5000', { username: 'me', password: 'pw' }, { configDir: dir, env });
    assert.deepEqual(readJson(dir), { credsStore: 'test', auths: { 'reg.example:5000': {} }, other: true });
    assert.deepEqual(await getCredentials('reg.example:5000', { configDir: dir, env }), { username: 'me', password: 'pw' });
    assert.equal(await getCredentials('nothing.example', { configDir: dir, env }), null);
    assert.ok(log().includes('get reg.example:5000'));
    assert.ok(log().includes('store {"ServerURL":"reg.example:5000","Username":"me","Secret":"pw"}'));
    assert.equal(await eraseCredentials('reg.example:5000', { configDir: dir, env }), true);
    assert.equal(await getCredentials('reg.example:5000', { configDir: dir, env }), null);
    assert.deepEqual(readJson(dir).auths, {});
  });

  test('credHelpers per registry win over credsStore and auths; <token> means an identity token', async () => {
    const dir = configDir({
      credsStore: 'missing-helper',
      credHelpers: { 'https://index.docker.io/v1/': 'test' },
      auths: { 'https://index.docker.io/v1/': { auth: b64('file:ignored') } },
    });
    await storeCredentials('docker.io', { username: 'x', password: '', identityToken: 'id-tok' }, { configDir: dir, env });
    assert.ok(log().includes('store {"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"id-tok"}'));
    assert.deepEqual(await getCredentials('docker.io', { configDir: dir, env }), { username: '', password: '', identityToken: 'id-tok' });
    // other registries fall to credsStore, whose program is not installed
    await assert.rejects(getCredentials('else.example', { configDir: dir, env }), /docker-credential-missing-helper not found in PATH \(configured in .*config\.json\)/);
  });

  test('a helper that hangs is killed and reported', async () => {
    writeFileSync(join(bin, 'docker-credential-hang'), '#!/bin/sh\nexec sleep 30\n');
    chmodSync(join(bin, 'docker-credential-hang'), 0o755);
    const dir = configDir({ credsStore: 'hang' });
    await assert.rejects(getCredentials('r.example', { configDir: dir, env, helperTimeout: 300 }), /docker-credential-hang get timed out/);
  });

  test('a failing helper is an error with what it said; odd helper names are refused', async () => {
    const dir = configDir({ credHelpers: { 'broken.example': 'test' } });
    await assert.rejects(getCredentials('broken.example', { configDir: dir, env }), /error getting credentials with docker-credential-test: the keychain is locked/);
    const evil = configDir({ credsStore: '../../bin/sh' });
    await assert.rejects(getCredentials('r.example', { configDir: evil, env }), /invalid credential helper name/);
  });
});
