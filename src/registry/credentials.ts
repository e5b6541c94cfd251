// docker's credential store: ~/.docker/config.json (or $DOCKER_CONFIG/config.json) with its
// `auths`, `credsStore` and `credHelpers`, and the docker-credential-<name> helper protocol.
import { childProcess } from '../child-process.ts';
import { randomBytes } from '../crypto.ts';
import { mkdir, open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkLogin, type CheckLoginOptions } from './auth.ts';
import { canonicalDomain, DOCKER_HUB } from './endpoint.ts';

/** What a registry gets: a password, or an identity token (an OAuth2 refresh token). */
export interface Credentials {
  username: string;
  password: string;
  identityToken?: string;
}

export interface CredentialOptions {
  /** The directory holding config.json. Default: $DOCKER_CONFIG, else ~/.docker. */
  configDir?: string;
  /** Environment for finding the config and running helpers (PATH). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may run, in ms. Default 60 s. */
  helperTimeout?: number;
}

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

/** docker's key for Docker Hub; every other registry is keyed by its host[:port]. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const NOT_FOUND = 'credentials not found in native keychain';
const TOKEN_USERNAME = '<token>';

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return join(env.HOME || homedir(), '.docker');
}

function configPath(options: CredentialOptions): string {
  return join(options.configDir ?? dockerConfigDir(options.env ?? process.env), 'config.json');
}

/** The key docker uses in config.json and with helpers for a registry domain. */
export function credentialKey(domain: string): string {
  const d = canonicalDomain(domain);
  return d === DOCKER_HUB ? DOCKER_HUB_KEY : d;
}

/**
 * docker's ConvertToHostname: config keys may carry a scheme and a path
 * (`https://index.docker.io/v1/`, `http://myreg:5000/`); compare by host only.
 */
function keyDomain(key: string): string | null {
  const host = key.replace(/^https?:\/\//i, '').split('/')[0] ?? '';
  try {
    return canonicalDomain(host);
  } catch {
    return null;
  }
}

type ConfigDoc = Record<string, unknown>;

async function readConfig(path: string): Promise<ConfigDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CredentialsError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CredentialsError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new CredentialsError(`${path} must hold a JSON object`);
  }
  return doc as ConfigDoc;
}

function objectField(doc: ConfigDoc, field: string, path: string): Record<string, unknown> {
  const v = doc[field];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new CredentialsError(`${path}: "${field}" must be an object`);
  return v as Record<string, unknown>;
}

/** The helper configured for this key: credHelpers first (exact key, then same host), then credsStore. */
function helperFor(doc: ConfigDoc, key: string, path: string): string | null {
  const helpers = objectField(doc, 'credHelpers', path);
  const domain = keyDomain(key);
  const match = key in helpers ? helpers[key] : Object.entries(helpers).find(([k]) => keyDomain(k) === domain)?.[1];
  const name = match ?? doc.credsStore;
  if (name === undefined || name === null || name === '') return null;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new CredentialsError(`${path}: invalid credential helper name ${JSON.stringify(name)}`);
  }
  return name;
}

function decodeEntry(entry: unknown, key: string, path: string): Credentials | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const e = entry as Record<string, unknown>;
  let username = typeof e.username === 'string' ? e.username : '';
  let password = typeof e.password === 'string' ? e.password : '';
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(e.auth.trim())) {
      throw new CredentialsError(`${path}: the "auth" of ${key} is not base64 of user:password`);
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const identityToken = typeof e.identitytoken === 'string' && e.identitytoken !== '' ? e.identitytoken : undefined;
  if (!username && !password && !identityToken) return null;
  return identityToken ? { username, password, identityToken } : { username, password };
}

/** The credentials stored for a registry, or null when there are none. */
export async function getCredentials(domain: string, options: CredentialOptions = {}): Promise<Credentials | null> {
  const path = configPath(options);
  const key = credentialKey(domain);
  const doc = await readConfig(path);
  const helper = helperFor(doc, key, path);
  if (helper) return helperGet(helper, key, path, options);
  const auths = objectField(doc, 'auths', path);
  if (key in auths) return decodeEntry(auths[key], key, path);
  const domainName = keyDomain(key);
  for (const [k, v] of Object.entries(auths)) {
    if (keyDomain(k) === domainName) return decodeEntry(v, k, path);
  }
  return null;
}

/** A credential source for RegistryClient: reads the store once per registry on demand. */
export function credentialSource(options: CredentialOptions = {}): (domain: string) => Promise<Credentials | null> {
  return (domain) => getCredentials(domain, options);
}

/** Stores credentials: in the helper if one is configured (leaving docker's `{}` marker in auths), else in auths. */
export async function storeCredentials(domain: string, creds: Credentials, options: CredentialOptions = {}): Promise<void> {
  const path = configPath(options);
  const key = credentialKey(domain);
  const doc = await readConfig(path);
  const helper = helperFor(doc, key, path);
  const auths = { ...objectField(doc, 'auths', path) };
  if (helper) {
    await helperStore(helper, key, creds, path, options);
    auths[key] = {};
  } else {
    const entry: Record<string, string> = {
      auth: Buffer.from(`${creds.username}:${creds.identityToken ? '' : creds.password}`, 'utf8').toString('base64'),
    };
    if (creds.identityToken) entry.identitytoken = creds.identityToken;
    auths[key] = entry;
  }
  doc.auths = auths;
  await writeConfig(path, doc);
}

/** Removes a registry's credentials from the helper and the file; false if there were none. */
export async function eraseCredentials(domain: string, options: CredentialOptions = {}): Promise<boolean> {
  const path = configPath(options);
  const key = credentialKey(domain);
  const doc = await readConfig(path);
  const helper = helperFor(doc, key, path);
  let removed = false;
  if (helper) removed = await helperErase(helper, key, path, options);
  const auths = { ...objectField(doc, 'auths', path) };
  const domainName = keyDomain(key);
  let changed = false;
  for (const k of Object.keys(auths)) {
    if (k === key || keyDomain(k) === domainName) {
      delete auths[k];
      changed = true;
    }
  }
  if (changed) {
    doc.auths = auths;
    await writeConfig(path, doc);
  }
  return removed || changed;
}

/**
 * `docker login`: checks the credentials against the registry, then stores them (the identity
 * token instead of the password when the registry issued one). Nothing is stored on failure.
 */
export async function login(
  domain: string,
  username: string,
  password: string,
  options: CredentialOptions & CheckLoginOptions = {},
): Promise<{ key: string; identityToken: boolean }> {
  const { identityToken } = await checkLogin(domain, username, password, options);
  const creds: Credentials = identityToken ? { username, password: '', identityToken } : { username, password };
  await storeCredentials(domain, creds, options);
  return { key: credentialKey(domain), identityToken: identityToken !== undefined };
}

/** `docker logout`: false when there was nothing to remove. */
export async function logout(domain: string, options: CredentialOptions = {}): Promise<boolean> {
  return eraseCredentials(domain, options);
}

/**
 * Writes config.json atomically (temp file in the same directory, then rename), mode 0600,
 * through a symlink to its target as docker does, keeping every key we do not manage.
 */
async function writeConfig(path: string, doc: ConfigDoc): Promise<void> {
  let target = path;
  try {
    target = await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CredentialsError(`cannot resolve ${path}: ${(e as Error).message}`);
  }
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.config.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const data = `${JSON.stringify(doc, null, '\t')}\n`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new CredentialsError(`cannot write ${target}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// docker-credential-<name> helpers: `get` and `erase` read the server URL on stdin, `store`
// reads {"ServerURL","Username","Secret"}; failures are reported on stdout.

interface HelperResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHelper(name: string, verb: string, input: string, path: string, options: CredentialOptions): Promise<HelperResult> {
  const program = `docker-credential-${name}`;
  const timeout = options.helperTimeout ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(program, [verb], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer rather than spawn's, which outlives a helper that never started.
    // Rejected at once: a helper's own children may hold its stdout open long after it died.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CredentialsError(`credential helper ${program} ${verb} timed out after ${timeout} ms`));
    }, timeout);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (list: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) child.kill('SIGKILL');
      else list.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(new CredentialsError(`credential helper ${program} not found in PATH (configured in ${path})`));
      } else {
        reject(new CredentialsError(`credential helper ${program} ${verb} failed: ${e.message}`));
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) {
        const why = size > 1024 * 1024 ? 'wrote more than 1 MiB' : `was killed by ${signal}`;
        reject(new CredentialsError(`credential helper ${program} ${verb} ${why}`));
        return;
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE: its exit says more.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

function helperFailure(name: string, verb: string, r: HelperResult): CredentialsError {
  const said = (r.stdout.trim() || r.stderr.trim() || `exit status ${r.code}`).slice(0, 500);
  return new CredentialsError(`error ${verb === 'get' ? 'getting' : verb === 'store' ? 'storing' : 'erasing'} credentials with docker-credential-${name}: ${said}`);
}

async function helperGet(name: string, key: string, path: string, options: CredentialOptions): Promise<Credentials | null> {
  const r = await runHelper(name, 'get', key, path, options);
  if (r.code !== 0) {
    if (r.stdout.includes(NOT_FOUND)) return null;
    throw helperFailure(name, 'get', r);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new CredentialsError(`docker-credential-${name} get returned something that is not JSON`);
  }
  const { Username, Secret } = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof Username !== 'string' || typeof Secret !== 'string') {
    throw new CredentialsError(`docker-credential-${name} get returned no Username/Secret strings`);
  }
  if (Secret === '' && Username === '') return null;
  if (Username === TOKEN_USERNAME) return { username: '', password: '', identityToken: Secret };
  return { username: Username, password: Secret };
}

async function helperStore(name: string, key: string, creds: Credentials, path: string, options: CredentialOptions): Promise<void> {
  const payload = creds.identityToken
    ? { ServerURL: key, Username: TOKEN_USERNAME, Secret: creds.identityToken }
    : { ServerURL: key, Username: creds.username, Secret: creds.password };
  const r = await runHelper(name, 'store', JSON.stringify(payload), path, options);
  if (r.code !== 0) throw helperFailure(name, 'store', r);
}

async function helperErase(name: string, key: string, path: string, options: CredentialOptions): Promise<boolean> {
  const r = await runHelper(name, 'erase', key, path, options);
  if (r.code === 0) return true;
  if (r.stdout.includes(NOT_FOUND)) return false;
  throw helperFailure(name, 'erase', r);
}
