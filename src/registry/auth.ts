// The registry's challenge flow: ping /v2/, read WWW-Authenticate, then Basic credentials or a
// Bearer token from the realm (docker's token protocol, or OAuth2 with an identity token).
import type { Credentials } from './credentials.ts';
import { resolveRemotes, type Endpoint, type EndpointOptions, type Remote } from './endpoint.ts';
import { parseErrorBody, RegistryError, RegistryProtocolError, RegistryTransportError } from './errors.ts';
import {
  discardBody,
  errorFrom,
  headerValues,
  readBody,
  Transport,
  type HttpResponse,
  type TransportOptions,
} from './transport.ts';

export interface Challenge {
  /** Lower case: basic, bearer, ... */
  scheme: string;
  /** Parameter names in lower case; values unquoted and unescaped. */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses WWW-Authenticate values (RFC 7235): several challenges per value, separated by commas
 * like their parameters, with quoted strings and backslash escapes. Malformed parts are
 * skipped, never thrown on: the header comes from the network.
 */
export function parseChallenges(values: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values === undefined ? [] : Array.isArray(values) ? values : [values]) {
    parseOne(value, out);
  }
  return out;
}

function parseOne(s: string, out: Challenge[]): void {
  const n = s.length;
  let i = 0;
  let current: Challenge | null = null;
  const skipBlank = (j: number): number => {
    while (j < n && (s[j] === ' ' || s[j] === '\t')) j++;
    return j;
  };
  const readToken = (j: number): number => {
    while (j < n && TOKEN_CHAR.test(s[j]!)) j++;
    return j;
  };
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= n) break;
    const end = readToken(i);
    if (end === i) {
      i++; // a stray character: skip it
      continue;
    }
    const word = s.slice(i, end);
    let j = skipBlank(end);
    if (current && s[j] === '=') {
      const k = skipBlank(j + 1);
      if (s[k] === '"') {
        const [value, after] = readQuoted(s, k);
        setParam(current, word, value);
        i = after;
        continue;
      }
      if (k < n && TOKEN_CHAR.test(s[k]!)) {
        const after = readToken(k);
        setParam(current, word, s.slice(k, after));
        i = after;
        continue;
      }
    }
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
    j = skipBlank(end);
    const t68 = TOKEN68.exec(s.slice(j));
    if (t68) {
      const after = skipBlank(j + t68[0].length);
      // "realm=..." also has token68's shape; it is a token68 only when no value follows it.
      if (after >= n || s[after] === ',') {
        current.token68 = t68[0];
        i = after;
        continue;
      }
    }
    i = j;
  }
}

function readQuoted(s: string, start: number): [string, number] {
  let value = '';
  let i = start + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      value += s[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return [value, i + 1];
    value += c;
    i++;
  }
  return [value, i]; // unterminated: take what there is
}

function setParam(ch: Challenge, name: string, value: string): void {
  const key = name.toLowerCase();
  // A repeated parameter is invalid (RFC 7235); keep the first so a later one cannot override.
  if (!(key in ch.params)) ch.params[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Scopes

/** `repository:<name>:<actions>`, docker's resource scope for a repository. */
export function repositoryScope(repo: string, actions: string[]): string {
  return `repository:${repo}:${[...new Set(actions)].sort().join(',')}`;
}

interface ParsedScope {
  resource: string; // type:name
  actions: Set<string>;
}

function parseScope(scope: string): ParsedScope | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  return { resource: scope.slice(0, last), actions: new Set(scope.slice(last + 1).split(',').filter(Boolean)) };
}

/** Merges scopes naming the same resource and sorts them, so equal sets compare equal. */
export function normalizeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const s of scopes.flatMap((x) => x.split(' ')).filter(Boolean)) {
    const p = parseScope(s);
    if (!p) {
      opaque.add(s);
      continue;
    }
    const set = byResource.get(p.resource) ?? new Set<string>();
    for (const a of p.actions) set.add(a);
    byResource.set(p.resource, set);
  }
  const out = [...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`);
  return [...out, ...opaque].sort();
}

/** Whether a token asked for `held` also covers everything in `wanted`. */
function covers(held: string[], wanted: string[]): boolean {
  const have = new Map<string, Set<string>>();
  for (const s of held) {
    const p = parseScope(s);
    if (p) have.set(p.resource, p.actions);
    else have.set(s, new Set());
  }
  return wanted.every((s) => {
    const p = parseScope(s);
    if (!p) return have.has(s);
    const got = have.get(p.resource);
    return got !== undefined && [...p.actions].every((a) => got.has(a) || got.has('*'));
  });
}

// ---------------------------------------------------------------------------------------------
// Ping

export interface PingResult {
  endpoint: Endpoint;
  status: number;
  challenges: Challenge[];
}

/**
 * GET /v2/ on each candidate of a server until one answers at all: that fixes HTTPS or HTTP for
 * the rest of the conversation, and a 401 brings the challenges.
 */
export async function ping(transport: Transport, remote: Remote): Promise<PingResult> {
  const failures: string[] = [];
  let last: unknown;
  for (const endpoint of remote.candidates) {
    const url = new URL('/v2/', endpoint.url);
    try {
      const res = await transport.send({ method: 'GET', url, tlsVerify: endpoint.tlsVerify });
      await discardBody(res);
      // A registry answers /v2/ with 200 or 401. Anything else (a TLS port answering plain
      // HTTP with 400, a web server's 404) means this is not the way to the registry.
      if (res.status !== 401 && (res.status < 200 || res.status > 299)) {
        throw new RegistryProtocolError(url.toString(), `answered HTTP ${res.status} to GET /v2/, which a registry answers with 200 or 401`);
      }
      const challenges = res.status === 401 ? parseChallenges(headerValues(res.headers, 'www-authenticate')) : [];
      return { endpoint, status: res.status, challenges };
    } catch (e) {
      last = e;
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (failures.length === 1 && last instanceof Error) throw last;
  throw new RegistryTransportError('GET', new URL('/v2/', remote.candidates[0]!.url).toString(),
    `cannot reach registry ${remote.host}; tried ${failures.join('; then ')}`, { cause: last, whole: true });
}

// ---------------------------------------------------------------------------------------------
// Authenticator

/** What a request was sent with: needed to decide what a 401 means. */
export interface AuthState {
  header: string | undefined;
  scopes: string[];
  /** The token was fetched for this request, not taken from the cache. */
  fresh: boolean;
}

interface CachedToken {
  realm: string;
  service: string;
  scopes: string[];
  token: string;
  expiresAt: number;
}

export interface AuthenticatorOptions {
  /** Registry host[:port], for messages. */
  host: string;
  /** The endpoint the registry answered on: the realm is trusted like it when on the same host. */
  endpoint: Endpoint;
  challenges: Challenge[];
  credentials?: () => Promise<Credentials | null>;
  /** Sent as client_id in token requests. */
  clientId?: string;
  now?: () => number;
}

const DEFAULT_TOKEN_LIFETIME_S = 60;
const TOKEN_BODY_LIMIT = 1024 * 1024;

export class Authenticator {
  readonly #transport: Transport;
  readonly #options: AuthenticatorOptions;
  #challenges: Challenge[];
  #credentials: Promise<Credentials | null> | undefined;
  // A refresh token the token server rotated during this session replaces the configured one.
  #refreshToken: string | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  /** Token requests made, for diagnostics and tests. */
  tokenRequests = 0;

  constructor(transport: Transport, options: AuthenticatorOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#challenges = options.challenges;
  }

  get challenges(): readonly Challenge[] {
    return this.#challenges;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #creds(): Promise<Credentials | null> {
    this.#credentials ??= this.#options.credentials ? this.#options.credentials() : Promise.resolve(null);
    return this.#credentials;
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.#creds()) !== null;
  }

  #bearer(): Challenge | undefined {
    return this.#challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  }

  #basic(): Challenge | undefined {
    return this.#challenges.find((c) => c.scheme === 'basic');
  }

  /** The Authorization header for a request needing `scopes`, or none if the registry asks none. */
  async authorize(scopes: string[]): Promise<AuthState> {
    const wanted = normalizeScopes(scopes);
    const bearer = this.#bearer();
    if (bearer) {
      const cached = this.#cached(bearer, wanted);
      if (cached) return { header: `Bearer ${cached.token}`, scopes: wanted, fresh: false };
      const token = await this.#fetchToken(bearer, wanted);
      return { header: `Bearer ${token}`, scopes: wanted, fresh: true };
    }
    if (this.#basic()) {
      const creds = await this.#creds();
      if (creds && !creds.identityToken) {
        return { header: basicHeader(creds.username, creds.password), scopes: wanted, fresh: true };
      }
    }
    return { header: undefined, scopes: wanted, fresh: false };
  }

  #cached(bearer: Challenge, wanted: string[]): CachedToken | undefined {
    const now = this.#now();
    const key = tokenKey(bearer, wanted);
    const exact = this.#tokens.get(key);
    if (exact && now < exact.expiresAt) return exact;
    for (const t of this.#tokens.values()) {
      if (t.realm === bearer.params.realm && t.service === (bearer.params.service ?? '') && now < t.expiresAt && covers(t.scopes, wanted)) {
        return t;
      }
    }
    return undefined;
  }

  /**
   * Decides whether a 401 is worth one retry: the registry asks for a scope we did not request,
   * or a cached token went stale, or it wants credentials we have but did not send. Returns the
   * scopes to retry with, or null when a retry would get the same answer.
   */
  async retryScopes(res: HttpResponse, used: AuthState): Promise<string[] | null> {
    const challenges = parseChallenges(headerValues(res.headers, 'www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      this.#challenges = [bearer, ...this.#challenges.filter((c) => c.scheme !== 'bearer')];
      const asked = bearer.params.scope ? bearer.params.scope.split(' ') : [];
      const wanted = normalizeScopes([...used.scopes, ...asked]);
      const scopeChanged = wanted.join(' ') !== used.scopes.join(' ');
      if (scopeChanged || !used.fresh || !used.header) {
        this.#forget(used.scopes);
        return wanted;
      }
      return null;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (basic && !used.header) {
      const creds = await this.#creds();
      if (creds && !creds.identityToken) {
        this.#challenges = [basic, ...this.#challenges.filter((c) => c.scheme !== 'basic')];
        return used.scopes;
      }
    }
    return null;
  }

  #forget(scopes: string[]): void {
    for (const [key, t] of this.#tokens) {
      if (covers(t.scopes, scopes)) this.#tokens.delete(key);
    }
  }

  /**
   * The error for a 401 we give up on. A registry refusing a token that was just issued for
   * exactly these scopes means the token server granted less: docker reports that as denied.
   */
  async finalError(res: HttpResponse, used: AuthState): Promise<RegistryError> {
    const base = await errorFrom(res);
    // Basic credentials refused are wrong credentials, whatever the registry's wording.
    if (used.header?.startsWith('Basic ') && res.status === 401) return incorrectCredentials(res);
    const challenge = parseChallenges(headerValues(res.headers, 'www-authenticate')).find((c) => c.scheme === 'bearer');
    if (used.fresh && used.header?.startsWith('Bearer ') && challenge?.params.error === 'insufficient_scope' && (await this.hasCredentials())) {
      return new RegistryError({
        status: res.status,
        errors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: { scope: challenge.params.scope ?? used.scopes.join(' ') } }],
        method: res.method,
        url: res.url,
      });
    }
    return base;
  }

  async #fetchToken(bearer: Challenge, scopes: string[], extra: { offline?: boolean } = {}): Promise<string> {
    const result = await this.requestToken(bearer, scopes, extra);
    return result.token;
  }

  /** Asks the realm for a token; caches it under (realm, service, scopes). */
  async requestToken(bearer: Challenge, scopes: string[], extra: { offline?: boolean } = {}): Promise<{ token: string; refreshToken?: string }> {
    const realm = parseRealm(bearer.params.realm ?? '', this.#options.host);
    const service = bearer.params.service ?? '';
    const creds = await this.#creds();
    const clientId = this.#options.clientId ?? 'hull';
    const refreshToken = this.#refreshToken ?? creds?.identityToken;
    const tlsVerify = realm.host === this.#options.endpoint.url.host ? this.#options.endpoint.tlsVerify : true;
    let res: HttpResponse;
    this.tokenRequests++;
    if (refreshToken) {
      // An identity token is an OAuth2 refresh token: it goes in a POST form, never in Basic auth.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service, client_id: clientId });
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      if (extra.offline) form.set('access_type', 'offline');
      res = await this.#transport.send({
        method: 'POST',
        url: realm,
        tlsVerify,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds) url.searchParams.set('account', creds.username);
      if (extra.offline) {
        url.searchParams.set('offline_token', 'true');
        url.searchParams.set('client_id', clientId);
      }
      const headers: Record<string, string> = creds ? { authorization: basicHeader(creds.username, creds.password) } : {};
      res = await this.#transport.send({ method: 'GET', url, tlsVerify, headers });
    }
    if (res.status !== 200) throw await tokenError(res, creds !== null);
    const body = await readBody(res, TOKEN_BODY_LIMIT, 'token response');
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryProtocolError(res.url, 'token response is not JSON');
    }
    const fields = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    const token = [fields.token, fields.access_token].find((v): v is string => typeof v === 'string' && v.length > 0);
    if (!token) throw new RegistryProtocolError(res.url, 'token response has neither "token" nor "access_token"');
    if (/[\s\u0000-\u001f]/.test(token)) throw new RegistryProtocolError(res.url, 'token response holds a token with whitespace or control characters');
    const lifetime =
      typeof fields.expires_in === 'number' && Number.isFinite(fields.expires_in) && fields.expires_in > 0
        ? fields.expires_in
        : DEFAULT_TOKEN_LIFETIME_S;
    const lifetimeMs = lifetime * 1000;
    // Renew a little early so that a token does not expire between our check and the request.
    const expiresAt = this.#now() + lifetimeMs - Math.min(10_000, lifetimeMs / 4);
    const rotated = typeof fields.refresh_token === 'string' && fields.refresh_token ? fields.refresh_token : undefined;
    if (rotated && refreshToken) this.#refreshToken = rotated;
    this.#tokens.set(tokenKey(bearer, scopes), { realm: bearer.params.realm ?? '', service, scopes, token, expiresAt });
    return { token, ...(rotated ? { refreshToken: rotated } : {}) };
  }

  /**
   * docker login's check: prove the credentials work. For Bearer, a token for no scope from the
   * realm (asking for a refresh token, which becomes the stored identity token if granted),
   * then /v2/ with it; for Basic, /v2/ with the credentials.
   */
  async verifyLogin(): Promise<{ identityToken?: string }> {
    const bearer = this.#bearer();
    const basic = this.#basic();
    if (!bearer && !basic) return {};
    let header: string;
    let identityToken: string | undefined;
    if (bearer) {
      const { token, refreshToken } = await this.requestToken(bearer, [], { offline: true });
      header = `Bearer ${token}`;
      identityToken = refreshToken;
    } else {
      const creds = await this.#creds();
      if (!creds) throw new Error('no credentials to check');
      header = basicHeader(creds.username, creds.password);
    }
    const endpoint = this.#options.endpoint;
    const res = await this.#transport.send({
      method: 'GET',
      url: new URL('/v2/', endpoint.url),
      tlsVerify: endpoint.tlsVerify,
      headers: { authorization: header },
    });
    if (res.status >= 200 && res.status < 300) {
      await discardBody(res);
      return identityToken ? { identityToken } : {};
    }
    if (res.status === 401) {
      await discardBody(res);
      throw incorrectCredentials(res);
    }
    throw await errorFrom(res);
  }
}

function tokenKey(bearer: Challenge, scopes: string[]): string {
  return JSON.stringify([bearer.params.realm ?? '', bearer.params.service ?? '', scopes]);
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function parseRealm(realm: string, host: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new RegistryProtocolError(`https://${host}/v2/`, `the registry's token realm ${JSON.stringify(realm)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RegistryProtocolError(`https://${host}/v2/`, `the registry's token realm ${JSON.stringify(realm)} is not http(s)`);
  }
  return url;
}

function incorrectCredentials(res: HttpResponse): RegistryError {
  return new RegistryError({
    status: 401,
    errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }],
    method: res.method,
    url: res.url,
  });
}

async function tokenError(res: HttpResponse, hadCredentials: boolean): Promise<RegistryError> {
  let text = '';
  try {
    text = (await readBody(res, 64 * 1024, 'token error body')).toString('utf8');
  } catch {
    // keep the status alone
  }
  const parsed = parseErrorBody(text);
  if (res.status === 401 && hadCredentials && parsed.every((e) => !e.message || /authentication required/i.test(e.message))) {
    return incorrectCredentials(res);
  }
  if (res.status === 403 && parsed.length === 0) {
    return new RegistryError({ status: 403, errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }], method: res.method, url: res.url });
  }
  return new RegistryError({ status: res.status, errors: parsed, method: res.method, url: res.url });
}

// ---------------------------------------------------------------------------------------------
// Login check

export interface CheckLoginOptions extends EndpointOptions, TransportOptions {}

/**
 * Checks credentials against a registry as `docker login` does, before anything is stored.
 * Resolves with the identity token to store instead of the password when the token server
 * issued one; rejects with a RegistryError such as `unauthorized: incorrect username or password`.
 */
export async function checkLogin(
  domain: string,
  username: string,
  password: string,
  options: CheckLoginOptions = {},
): Promise<{ identityToken?: string }> {
  const [remote] = await resolveRemotes(domain, 'push', options);
  const transport = new Transport(options);
  try {
    const pong = await ping(transport, remote!);
    const auth = new Authenticator(transport, {
      host: remote!.host,
      endpoint: pong.endpoint,
      challenges: pong.challenges,
      credentials: async () => ({ username, password }),
    });
    return await auth.verifyLogin();
  } finally {
    await transport.close();
  }
}
