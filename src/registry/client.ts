// The distribution-spec client for one registry domain: manifests, blobs (with range resume,
// redirects, foreign URLs, mounts, monolithic and chunked uploads) and tags. It moves bytes
// and checks what the protocol lets it check; storing and unpacking belong to the caller.
import { createHash } from '../crypto.ts';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { Authenticator, ping, repositoryScope, type AuthState } from './auth.ts';
import type { Credentials } from './credentials.ts';
import { canonicalDomain, resolveRemotes, type Endpoint, type EndpointOptions, type Remote } from './endpoint.ts';
import { RegistryError, RegistryProtocolError, RegistryTransportError } from './errors.ts';
import {
  abandonBody,
  contentLength,
  discardBody,
  errorFrom,
  headerValue,
  headerValues,
  readBody,
  Transport,
  transportError,
  type HttpResponse,
  type TransportOptions,
} from './transport.ts';

export { RegistryError, RegistryProtocolError, RegistryTransportError } from './errors.ts';

/** The manifest types docker and containerd accept, most specific first. */
export const DEFAULT_MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** containerd's limit: a manifest is metadata, and 4 MiB is far beyond any real one. */
export const DEFAULT_MANIFEST_LIMIT = 4 * 1024 * 1024;
const MAX_REDIRECTS = 10;
const TAGS_LIMIT = 16 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;

export interface RegistryClientOptions extends EndpointOptions, TransportOptions {
  /** Credentials for a registry host (the origin's domain, or a mirror's host[:port]). */
  credentials?: (domain: string) => Promise<Credentials | null>;
}

export interface ManifestResult {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface BlobStream {
  stream: Readable;
  /** The blob's total size when the server said it. */
  size: number | null;
  /** Where the stream starts in the blob: the requested offset, or 0 if the server ignored the Range. */
  offset: number;
}

export interface PushBlobOptions {
  /** Upload in PATCH requests of this many bytes; unset: one PUT with the whole blob. */
  chunkSize?: number;
  /** Called with the number of bytes sent so far. */
  onProgress?: (bytes: number) => void;
}

/** The caller gave a name, tag, digest or size that the protocol cannot carry. */
export class RegistryInputError extends Error {
  override name = 'RegistryInputError';
}

/** The blob source given to pushBlob yielded fewer or more bytes than announced. */
export class BlobSourceError extends Error {
  override name = 'BlobSourceError';
}

// ---------------------------------------------------------------------------------------------
// Names, tags and digests (the distribution spec's grammar), checked before they go in a URL.

const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function validateRepository(repo: string): string {
  if (repo.length > 255 || !REPOSITORY.test(repo)) {
    throw new RegistryInputError(`invalid repository name ${JSON.stringify(repo)}: must be lower-case path components [a-z0-9] joined by . _ __ - and /`);
  }
  return repo;
}

export function validateDigest(digest: string): string {
  if (!DIGEST.test(digest)) {
    throw new RegistryInputError(`invalid digest ${JSON.stringify(digest)}: expected sha256:<64 hex> or sha512:<128 hex>`);
  }
  return digest;
}

function referenceKind(reference: string): 'tag' | 'digest' {
  if (DIGEST.test(reference)) return 'digest';
  if (TAG.test(reference)) return 'tag';
  throw new RegistryInputError(`invalid reference ${JSON.stringify(reference)}: expected a tag or a sha256/sha512 digest`);
}

function digestOf(algorithm: 'sha256' | 'sha512', bytes: Buffer): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function algorithmOf(digest: string): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

function validateSize(size: number, what: string): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RegistryInputError(`invalid ${what} ${size}: expected a whole number >= 0`);
  return size;
}

function validateMediaType(mediaType: string): string {
  if (!/^[A-Za-z0-9][\w.+-]{0,126}\/[A-Za-z0-9][\w.+-]{0,126}$/.test(mediaType)) {
    throw new RegistryInputError(`invalid media type ${JSON.stringify(mediaType)}`);
  }
  return mediaType;
}

/** Docker-Content-Digest, checked against content when it names an algorithm we can compute. */
function checkContentDigest(res: HttpResponse, bytes: Buffer | null, expected: string | null): void {
  const header = headerValue(res.headers, 'docker-content-digest')?.trim();
  if (!header) return;
  if (!DIGEST.test(header)) {
    if (/^sha(256|512):/.test(header)) throw new RegistryProtocolError(res.url, `malformed Docker-Content-Digest ${JSON.stringify(header.slice(0, 200))}`);
    return; // another algorithm: nothing to compare with
  }
  const actual = bytes ? digestOf(algorithmOf(header), bytes) : expected;
  if (actual && actual.startsWith(`${algorithmOf(header)}:`) && actual !== header) {
    throw new RegistryProtocolError(res.url, `Docker-Content-Digest ${header} does not match ${bytes ? 'the content' : 'the expected digest'} (${actual})`);
  }
}

function mediaTypeOf(res: HttpResponse, bytes: Buffer | null): string {
  const header = headerValue(res.headers, 'content-type')?.split(';')[0]?.trim() ?? '';
  if (header && header !== 'application/json' && header !== 'text/plain' && header !== 'application/octet-stream') return header;
  // Registries that do not know the type serve plain JSON; the manifest's own field says it.
  if (bytes) {
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; schemaVersion?: unknown; signatures?: unknown };
      if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
      if (doc.schemaVersion === 1) {
        return doc.signatures ? 'application/vnd.docker.distribution.manifest.v1+prettyjws' : 'application/vnd.docker.distribution.manifest.v1+json';
      }
    } catch {
      // not JSON: the caller's parser will say so
    }
  }
  return header;
}

// ---------------------------------------------------------------------------------------------

interface Session {
  remote: Remote;
  endpoint: Endpoint;
  auth: Authenticator;
}

interface Call {
  method: string;
  /** Path and query below the endpoint (e.g. /v2/x/manifests/y), or an absolute URL (an upload Location). */
  target: string | URL;
  headers?: Record<string, string>;
  /** Made anew for each attempt, since a 401 retry must send the body again. */
  body?: () => Buffer | Readable | null;
  scopes: string[];
  followRedirects?: boolean;
}

export class RegistryClient {
  readonly domain: string;
  readonly #options: RegistryClientOptions;
  readonly #transport: Transport;
  readonly #remotes = new Map<'pull' | 'push', Promise<Remote[]>>();
  readonly #sessions = new Map<string, Promise<Session>>();
  // Mirrors that failed at the transport level are not tried again by this client.
  readonly #deadMirrors = new Set<string>();

  constructor(domain: string, options: RegistryClientOptions = {}) {
    this.domain = canonicalDomain(domain);
    this.#options = options;
    this.#transport = new Transport(options);
  }

  /** Closes the kept-alive connections. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Token requests made so far across this client's servers. */
  async tokenRequests(): Promise<number> {
    let n = 0;
    for (const s of this.#sessions.values()) n += (await s.catch(() => null))?.auth.tokenRequests ?? 0;
    return n;
  }

  #remotesFor(purpose: 'pull' | 'push'): Promise<Remote[]> {
    let r = this.#remotes.get(purpose);
    if (!r) {
      r = resolveRemotes(this.domain, purpose, this.#options);
      this.#remotes.set(purpose, r);
    }
    return r;
  }

  #session(remote: Remote): Promise<Session> {
    const key = `${remote.mirror ? 'mirror' : 'origin'}:${remote.host}`;
    let s = this.#sessions.get(key);
    if (!s) {
      s = (async () => {
        const pong = await ping(this.#transport, remote);
        const source = this.#options.credentials;
        // A mirror gets its own credentials, never the origin's.
        const credentialsFor = remote.mirror ? remote.host : this.domain;
        const auth = new Authenticator(this.#transport, {
          host: remote.host,
          endpoint: pong.endpoint,
          challenges: pong.challenges,
          ...(source ? { credentials: () => source(credentialsFor) } : {}),
        });
        return { remote, endpoint: pong.endpoint, auth };
      })();
      // A failed ping is not remembered: the next call pings again.
      s.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, s);
    }
    return s;
  }

  async #origin(): Promise<Session> {
    const remotes = await this.#remotesFor('push');
    return this.#session(remotes[remotes.length - 1]!);
  }

  /**
   * Runs a read against the mirrors, then the origin. As dockerd does, any failure on a mirror
   * (including "not found", here a null result) moves on to the next server.
   */
  async #pull<T>(fn: (s: Session) => Promise<T | null>): Promise<T | null> {
    const remotes = await this.#remotesFor('pull');
    for (const remote of remotes) {
      if (!remote.mirror) return fn(await this.#session(remote));
      if (this.#deadMirrors.has(remote.host)) continue;
      try {
        const result = await fn(await this.#session(remote));
        if (result !== null) return result;
      } catch (e) {
        if (e instanceof RegistryTransportError) this.#deadMirrors.add(remote.host);
      }
    }
    throw new Error(`no origin for ${this.domain}`); // resolveRemotes always ends with the origin
  }

  /** One request with authentication: a 401 gets one retry when a new token can help. */
  async #exchange(s: Session, call: Call, retryOn401 = true): Promise<HttpResponse> {
    let state = await s.auth.authorize(call.scopes);
    for (let attempt = 0; ; attempt++) {
      const body = call.body?.() ?? null;
      let res: HttpResponse;
      try {
        res = await this.#follow(s, call, body, state);
      } finally {
        if (body instanceof Readable && !body.destroyed) body.destroy();
      }
      if (res.status !== 401) return res;
      const retry = attempt === 0 && retryOn401 ? await s.auth.retryScopes(res, state) : null;
      if (!retry) throw await s.auth.finalError(res, state);
      await discardBody(res);
      state = await s.auth.authorize(retry);
    }
  }

  /**
   * Sends a request and, for reads, follows redirects (blob storage often redirects) up to 10
   * hops. Credentials go only to the registry's own origin, never to a redirect target elsewhere.
   */
  async #follow(s: Session, call: Call, body: Buffer | Readable | null, state: AuthState): Promise<HttpResponse> {
    let url = typeof call.target === 'string' ? new URL(call.target, s.endpoint.url) : call.target;
    const visited = new Set<string>();
    for (let hop = 0; ; hop++) {
      const own = url.origin === s.endpoint.url.origin;
      const headers = { ...call.headers };
      if (own && state.header) headers.authorization = state.header;
      const res = await this.#transport.send({
        method: call.method,
        url,
        headers,
        body: hop === 0 ? body : null,
        tlsVerify: own ? s.endpoint.tlsVerify : true,
      });
      if (!call.followRedirects || ![301, 302, 303, 307, 308].includes(res.status)) return res;
      url = await nextHop(res, url, visited, hop);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Manifests

  async getManifest(
    repo: string,
    reference: string,
    options: { accept?: string[]; maxBytes?: number } = {},
  ): Promise<ManifestResult> {
    validateRepository(repo);
    const kind = referenceKind(reference);
    const accept = options.accept ?? DEFAULT_MANIFEST_ACCEPT;
    if (accept.length === 0) throw new RegistryInputError('getManifest needs at least one accepted media type');
    accept.forEach(validateMediaType);
    const limit = options.maxBytes ?? DEFAULT_MANIFEST_LIMIT;
    const result = await this.#pull(async (s) => {
      const res = await this.#exchange(s, {
        method: 'GET',
        target: `/v2/${repo}/manifests/${reference}`,
        headers: { accept: accept.join(', ') },
        scopes: [repositoryScope(repo, ['pull'])],
        followRedirects: true,
      });
      if (res.status !== 200) throw await errorFrom(res);
      const bytes = await readBody(res, limit, `manifest ${repo}@${reference}`);
      if (kind === 'digest') {
        const actual = digestOf(algorithmOf(reference), bytes);
        if (actual !== reference) {
          throw new RegistryProtocolError(res.url, `manifest digest mismatch: asked for ${reference}, received content with digest ${actual}`);
        }
      }
      checkContentDigest(res, bytes, null);
      return { bytes, mediaType: mediaTypeOf(res, bytes), digest: kind === 'digest' ? reference : digestOf('sha256', bytes) };
    });
    return result!;
  }

  /** HEAD a manifest: null when the registry does not have it. */
  async headManifest(
    repo: string,
    reference: string,
    options: { accept?: string[] } = {},
  ): Promise<{ digest: string; mediaType: string; size: number } | null> {
    validateRepository(repo);
    const kind = referenceKind(reference);
    const accept = options.accept ?? DEFAULT_MANIFEST_ACCEPT;
    accept.forEach(validateMediaType);
    return this.#pull(async (s) => {
      const res = await this.#exchange(s, {
        method: 'HEAD',
        target: `/v2/${repo}/manifests/${reference}`,
        headers: { accept: accept.join(', ') },
        scopes: [repositoryScope(repo, ['pull'])],
        followRedirects: true,
      });
      if (res.status === 404) {
        await discardBody(res);
        return null;
      }
      if (res.status !== 200) throw await errorFrom(res);
      await discardBody(res);
      const header = headerValue(res.headers, 'docker-content-digest')?.trim();
      const size = contentLength(res);
      if (kind === 'digest') checkContentDigest(res, null, reference);
      if (header && DIGEST.test(header) && size !== null) {
        return { digest: kind === 'digest' ? reference : header, mediaType: mediaTypeOf(res, null), size };
      }
      // Without the digest header (or a length) a tag cannot be resolved from headers alone.
      const full = await this.getManifest(repo, reference, { accept });
      return { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
    });
  }

  /** Uploads a manifest under a tag or its digest; returns its digest. */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    validateRepository(repo);
    const kind = referenceKind(reference);
    validateMediaType(mediaType);
    const digest = kind === 'digest' ? digestOf(algorithmOf(reference), bytes) : digestOf('sha256', bytes);
    if (kind === 'digest' && digest !== reference) {
      throw new RegistryInputError(`manifest content has digest ${digest}, not the reference ${reference}`);
    }
    const s = await this.#origin();
    const res = await this.#exchange(s, {
      method: 'PUT',
      target: `/v2/${repo}/manifests/${reference}`,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: () => bytes,
      scopes: [repositoryScope(repo, ['pull', 'push'])],
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await errorFrom(res);
    await discardBody(res);
    checkContentDigest(res, bytes, null);
    return digest;
  }

  // -------------------------------------------------------------------------------------------
  // Blobs

  /**
   * Opens a blob for reading from `offset`. `urls` (a foreign layer's, when the caller allows
   * them) are tried first, then the mirrors and the registry. The stream errors if the body is
   * cut short or the connection drops; the caller verifies the digest.
   */
  async fetchBlob(repo: string, digest: string, options: { offset?: number; urls?: string[] } = {}): Promise<BlobStream> {
    validateRepository(repo);
    validateDigest(digest);
    const offset = validateSize(options.offset ?? 0, 'offset');
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const foreignFailures: string[] = [];
    for (const raw of options.urls ?? []) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        foreignFailures.push(`${JSON.stringify(raw)} is not a URL`);
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        foreignFailures.push(`${url.protocol} URLs are not fetched`);
        continue;
      }
      try {
        const res = await this.#fetchForeign(url, headers);
        if (res.status === 200 || res.status === 206) return openBlobStream(res, offset);
        foreignFailures.push((await errorFrom(res)).message);
      } catch (e) {
        foreignFailures.push((e as Error).message);
      }
    }
    try {
      const result = await this.#pull(async (s) => {
        const res = await this.#exchange(s, {
          method: 'GET',
          target: `/v2/${repo}/blobs/${digest}`,
          headers,
          scopes: [repositoryScope(repo, ['pull'])],
          followRedirects: true,
        });
        if (res.status === 200 || res.status === 206) return openBlobStream(res, offset);
        if (res.status === 416) {
          await discardBody(res);
          throw new RegistryProtocolError(res.url, `the registry refused a read from offset ${offset} (HTTP 416): the offset is past the end of the blob`);
        }
        throw await errorFrom(res);
      });
      return result!;
    } catch (e) {
      if (foreignFailures.length > 0 && e instanceof Error) {
        e.message += ` (its foreign URLs failed too: ${foreignFailures.join('; ')})`;
      }
      throw e;
    }
  }

  /** A foreign layer URL: no registry credentials, redirects followed. */
  async #fetchForeign(first: URL, headers: Record<string, string>): Promise<HttpResponse> {
    let url = first;
    const visited = new Set<string>();
    for (let hop = 0; ; hop++) {
      const res = await this.#transport.send({ method: 'GET', url, headers });
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      url = await nextHop(res, url, visited, hop);
    }
  }

  /** HEAD a blob in a repository (on the origin, since this serves pushes): its size, or null. */
  async blobExists(repo: string, digest: string): Promise<{ size: number } | null> {
    validateRepository(repo);
    validateDigest(digest);
    const s = await this.#origin();
    const res = await this.#exchange(s, {
      method: 'HEAD',
      target: `/v2/${repo}/blobs/${digest}`,
      scopes: [repositoryScope(repo, ['pull'])],
      followRedirects: true,
    });
    if (res.status === 404) {
      await discardBody(res);
      return null;
    }
    if (res.status !== 200) throw await errorFrom(res);
    await discardBody(res);
    checkContentDigest(res, null, digest);
    const size = contentLength(res);
    if (size === null) throw new RegistryProtocolError(res.url, 'blob HEAD answered without a Content-Length');
    return { size };
  }

  /**
   * Asks the registry to link a blob from another repository. true: mounted (201). false: the
   * registry does not have the blob there, or we may not read it, and started an upload
   * instead (202), or refused the source scope (401/403). The upload it started is cancelled
   * (best effort) rather than reused: pushBlob opens its own, which keeps the two calls
   * independent and stateless; it costs one round trip when a mount misses.
   */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    validateRepository(repo);
    validateDigest(digest);
    validateRepository(fromRepo);
    const s = await this.#origin();
    const query = new URLSearchParams({ mount: digest, from: fromRepo });
    let res: HttpResponse;
    try {
      res = await this.#exchange(s, {
        method: 'POST',
        target: `/v2/${repo}/blobs/uploads/?${query}`,
        headers: { 'content-length': '0' },
        scopes: [repositoryScope(repo, ['pull', 'push']), repositoryScope(fromRepo, ['pull'])],
      });
    } catch (e) {
      // Without read access to the source a plain upload may still be allowed; let it decide.
      if (e instanceof RegistryError && (e.status === 401 || e.status === 403)) return false;
      throw e;
    }
    if (res.status === 201) {
      await discardBody(res);
      checkContentDigest(res, null, digest);
      return true;
    }
    if (res.status === 202) {
      await discardBody(res);
      const location = uploadLocation(res);
      await this.#cancelUpload(s, location, [repositoryScope(repo, ['pull', 'push'])]);
      return false;
    }
    throw await errorFrom(res);
  }

  /**
   * Uploads a blob. `open(offset)` gives the blob's bytes from that offset; it is called again
   * when a request must be resent (a 401 after a token expired) and once per chunk.
   */
  async pushBlob(
    repo: string,
    digest: string,
    size: number,
    open: (offset: number) => Readable,
    options: PushBlobOptions = {},
  ): Promise<void> {
    validateRepository(repo);
    validateDigest(digest);
    validateSize(size, 'size');
    const { chunkSize, onProgress } = options;
    if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize <= 0)) {
      throw new RegistryInputError(`invalid chunkSize ${chunkSize}: expected a whole number > 0`);
    }
    const s = await this.#origin();
    const scopes = [repositoryScope(repo, ['pull', 'push'])];
    const started = await this.#exchange(s, {
      method: 'POST',
      target: `/v2/${repo}/blobs/uploads/`,
      headers: { 'content-length': '0' },
      scopes,
    });
    if (started.status !== 202) throw await errorFrom(started);
    await discardBody(started);
    let location = uploadLocation(started);
    try {
      let done: HttpResponse;
      if (chunkSize === undefined) {
        const source = new SourceGuard(digest);
        done = await source.run(() =>
          this.#exchange(s, {
            method: 'PUT',
            target: withDigest(location, digest),
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
            body: () => source.take(open(0), 0, size, true, onProgress),
            scopes,
          }),
        );
      } else {
        let offset = 0;
        while (offset < size) {
          const length = Math.min(chunkSize, size - offset);
          const source = new SourceGuard(digest);
          const at = offset;
          const res = await source.run(() =>
            this.#exchange(s, {
              method: 'PATCH',
              target: location,
              headers: {
                'content-type': 'application/octet-stream',
                'content-length': String(length),
                'content-range': `${at}-${at + length - 1}`,
              },
              body: () => source.take(open(at), at, length, at + length === size, onProgress),
              scopes,
            }),
          );
          if (res.status !== 202 && res.status !== 204) throw await errorFrom(res);
          await discardBody(res);
          const end = uploadedEnd(res);
          if (end !== null && end !== at + length) {
            throw new RegistryProtocolError(res.url, `after a chunk ending at byte ${at + length} the registry holds ${end} bytes`);
          }
          location = uploadLocation(res, location);
          offset += length;
        }
        done = await this.#exchange(s, {
          method: 'PUT',
          target: withDigest(location, digest),
          headers: { 'content-length': '0' },
          scopes,
        });
      }
      if (done.status !== 201 && done.status !== 204) throw await errorFrom(done);
      await discardBody(done);
      checkContentDigest(done, null, digest);
    } catch (e) {
      await this.#cancelUpload(s, location, scopes);
      throw e;
    }
  }

  /**
   * DELETE an upload session, best effort. distribution wants the `delete` action for it, which
   * push tokens rarely carry, so a 401 is not chased with a new token: the registry purges
   * abandoned uploads itself.
   */
  async #cancelUpload(s: Session, location: URL, scopes: string[]): Promise<void> {
    try {
      const res = await this.#exchange(s, { method: 'DELETE', target: location, scopes }, false);
      await discardBody(res);
    } catch {
      // the registry expires abandoned uploads itself
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tags

  /** All tags of a repository, following `Link: <...>; rel="next"` pages. */
  async listTags(repo: string, options: { pageSize?: number } = {}): Promise<string[]> {
    validateRepository(repo);
    if (options.pageSize !== undefined) validateSize(options.pageSize, 'pageSize');
    const result = await this.#pull(async (s) => {
      const tags: string[] = [];
      const seen = new Set<string>();
      let target: string | URL = `/v2/${repo}/tags/list${options.pageSize ? `?n=${options.pageSize}` : ''}`;
      for (let page = 0; page < MAX_TAG_PAGES; page++) {
        const res = await this.#exchange(s, {
          method: 'GET',
          target,
          headers: { accept: 'application/json' },
          scopes: [repositoryScope(repo, ['pull'])],
          followRedirects: true,
        });
        if (res.status !== 200) throw await errorFrom(res);
        const body = await readBody(res, TAGS_LIMIT, `tag list of ${repo}`);
        let doc: unknown;
        try {
          doc = JSON.parse(body.toString('utf8'));
        } catch {
          throw new RegistryProtocolError(res.url, 'tag list is not JSON');
        }
        const list = (doc as { tags?: unknown } | null)?.tags;
        if (list !== null && list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))) {
          throw new RegistryProtocolError(res.url, 'tag list: "tags" is not an array of strings');
        }
        tags.push(...((list as string[] | null | undefined) ?? []));
        const next = nextLink(res);
        if (!next) return tags;
        const url = new URL(next, res.url);
        if (url.origin !== s.endpoint.url.origin) {
          throw new RegistryProtocolError(res.url, `tag list page link leads to another server (${url.origin})`);
        }
        if (seen.has(url.toString())) throw new RegistryProtocolError(res.url, 'tag list pages link in a loop');
        seen.add(url.toString());
        target = url;
      }
      throw new RegistryProtocolError(`${s.endpoint.url.origin}/v2/${repo}/tags/list`, `tag list has more than ${MAX_TAG_PAGES} pages`);
    });
    return result!;
  }
}

// ---------------------------------------------------------------------------------------------

async function nextHop(res: HttpResponse, url: URL, visited: Set<string>, hop: number): Promise<URL> {
  await discardBody(res);
  const location = headerValue(res.headers, 'location');
  if (!location) throw new RegistryProtocolError(url.toString(), `redirect (HTTP ${res.status}) without a Location`);
  let next: URL;
  try {
    next = new URL(location, url);
  } catch {
    throw new RegistryProtocolError(url.toString(), `redirect to an invalid Location ${JSON.stringify(location.slice(0, 200))}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new RegistryProtocolError(url.toString(), `redirect to a ${next.protocol} URL is not followed`);
  }
  visited.add(url.toString());
  if (visited.has(next.toString())) {
    throw new RegistryProtocolError(url.toString(), `redirect loop: ${next} was already visited`);
  }
  if (hop + 1 > MAX_REDIRECTS) {
    throw new RegistryProtocolError(url.toString(), `too many redirects (more than ${MAX_REDIRECTS})`);
  }
  return next;
}

/** The upload URL from Location, which may be relative (distribution) or absolute. */
function uploadLocation(res: HttpResponse, previous?: URL): URL {
  const location = headerValue(res.headers, 'location');
  if (!location) {
    if (previous) return previous;
    throw new RegistryProtocolError(res.url, `upload answer (HTTP ${res.status}) has no Location`);
  }
  let url: URL;
  try {
    url = new URL(location, res.url);
  } catch {
    throw new RegistryProtocolError(res.url, `upload Location ${JSON.stringify(location.slice(0, 200))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RegistryProtocolError(res.url, `upload Location is a ${url.protocol} URL`);
  }
  return url;
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/** The Range header of an upload answer ("0-N", also seen as "bytes=0-N"): bytes held, or null. */
function uploadedEnd(res: HttpResponse): number | null {
  const range = headerValue(res.headers, 'range');
  if (!range) return null;
  const m = /^(?:bytes=)?0-(\d{1,15})$/.exec(range.trim());
  if (!m) throw new RegistryProtocolError(res.url, `malformed upload Range ${JSON.stringify(range.slice(0, 100))}`);
  return Number(m[1]) + 1;
}

function nextLink(res: HttpResponse): string | null {
  for (const value of headerValues(res.headers, 'link')) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>\s*((?:;\s*[^;]*)*)$/.exec(part);
      if (m && /;\s*rel="?next"?/i.test(m[2]!)) return m[1]!;
    }
  }
  return null;
}

/**
 * Turns a 200 or 206 blob response into a stream whose length is checked: a body shorter than
 * its Content-Length, or a connection that drops, ends the stream with an error naming the URL.
 */
function openBlobStream(res: HttpResponse, requested: number): BlobStream {
  let start = 0;
  let size: number | null;
  let expected: number | null;
  const length = contentLength(res);
  if (res.status === 206) {
    const raw = headerValue(res.headers, 'content-range') ?? '';
    const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(raw.trim());
    if (!m) {
      abandonBody(res);
      throw new RegistryProtocolError(res.url, `partial content with a malformed Content-Range ${JSON.stringify(raw.slice(0, 100))}`);
    }
    start = Number(m[1]);
    const end = Number(m[2]);
    size = m[3] === '*' ? null : Number(m[3]);
    expected = end - start + 1;
    if (start !== requested || end < start || (size !== null && end >= size) || (length !== null && length !== expected)) {
      abandonBody(res);
      throw new RegistryProtocolError(res.url, `asked for bytes from ${requested}, got Content-Range ${raw}${length !== null ? ` with Content-Length ${length}` : ''}`);
    }
  } else {
    size = length;
    expected = length;
  }
  const stream = checkedBody(res, expected);
  return { stream, size, offset: start };
}

function checkedBody(res: HttpResponse, expected: number | null): Readable {
  let received = 0;
  const source = res.body;
  const out = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      received += chunk.length;
      if (expected !== null && received > expected) {
        cb(new RegistryProtocolError(res.url, `body is longer than its Content-Length of ${expected} bytes`));
        return;
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (expected !== null && received !== expected) {
        cb(new RegistryTransportError(res.method, res.url, `body ended after ${received} of ${expected} bytes`));
        return;
      }
      cb();
    },
  });
  source.on('error', (e) => {
    const err = transportError(res.method, res.url, e);
    err.message += ` after ${received}${expected !== null ? ` of ${expected}` : ''} bytes`;
    out.destroy(err);
  });
  // A consumer that stops reading closes the connection instead of draining it.
  out.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
}

/**
 * Feeds an upload from the caller's stream, exactly `length` bytes of it, and remembers when the
 * source itself was at fault so that the error says so rather than blaming the network.
 */
class SourceGuard {
  readonly #digest: string;
  #failure: BlobSourceError | undefined;

  constructor(digest: string) {
    this.#digest = digest;
  }

  take(src: Readable, offset: number, length: number, last: boolean, onProgress?: (bytes: number) => void): Readable {
    this.#failure = undefined;
    const fail = (message: string): BlobSourceError => {
      this.#failure = new BlobSourceError(`blob ${this.#digest}: ${message}`);
      return this.#failure;
    };
    async function* feed(): AsyncGenerator<Buffer> {
      let sent = 0;
      // The last bytes of the blob are held back until the source has ended, so that a source
      // longer than announced fails before the registry has a complete body to commit.
      let held: Buffer | null = null;
      const more = () => fail(`the source has more than the announced ${offset + length} bytes`);
      try {
        for await (const raw of src as AsyncIterable<Buffer | string>) {
          const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
          if (chunk.length === 0) continue;
          if (held) throw more();
          const room = length - sent;
          if (chunk.length > room) {
            if (last) throw more();
            if (room > 0) {
              sent += room;
              yield chunk.subarray(0, room);
              onProgress?.(offset + sent);
            }
            return;
          }
          if (last && chunk.length === room) {
            held = chunk;
            continue;
          }
          sent += chunk.length;
          yield chunk;
          onProgress?.(offset + sent);
          if (sent === length) return;
        }
        if (held) {
          sent += held.length;
          yield held;
          onProgress?.(offset + sent);
        }
        if (sent < length) throw fail(`the source ended after ${offset + sent} bytes, expected ${offset + length}`);
      } catch (e) {
        if (e instanceof BlobSourceError) throw e;
        throw fail(`reading the source failed: ${(e as Error).message}`);
      } finally {
        src.destroy();
      }
    }
    return Readable.from(feed(), { objectMode: false });
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#failure ?? e;
    }
  }
}
