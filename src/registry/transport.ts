// HTTP for one registry client: kept-alive connections per origin, docker's certs.d TLS
// material per host, and every undici failure turned into an error that names the URL.
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { getCACertificates } from 'node:tls';
import { Agent, Pool, type Dispatcher } from 'undici';
import { parseErrorBody, RegistryError, RegistryProtocolError, RegistryTransportError } from './errors.ts';

export interface TransportOptions {
  /** Time allowed for the response headers of one request, in ms. Default 30 s. */
  headersTimeout?: number;
  /**
   * The same for PUT and PATCH, counted from the end of the body: the registry verifies and
   * moves the whole blob before it answers, which takes a while for big ones on object
   * storage. Default 10 min.
   */
  uploadHeadersTimeout?: number;
  /**
   * Longest silence allowed between two pieces of a response body, in ms (not a limit on the
   * whole body, which may take as long as it takes). Default 5 min; 0 disables it.
   */
  bodyTimeout?: number;
  /** Time allowed to connect (TCP + TLS), in ms. Default 30 s. */
  connectTimeout?: number;
  userAgent?: string;
  /**
   * docker's per-registry TLS directory: `<certsDir>/<host[:port]>/` holding `*.crt` (extra CA
   * roots), `*.cert` + `*.key` (a client certificate). Default /etc/docker/certs.d; null: none.
   */
  certsDir?: string | null;
}

export type ResponseBody = Dispatcher.ResponseData['body'];

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
  method: string;
  url: string;
}

export interface HttpRequest {
  method: string;
  url: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable | null;
  /** false for an insecure registry reached over HTTPS: docker skips verification there. */
  tlsVerify?: boolean;
}

const DEFAULT_HEADERS_TIMEOUT = 30_000;
const DEFAULT_UPLOAD_HEADERS_TIMEOUT = 600_000;
const DEFAULT_BODY_TIMEOUT = 300_000;
const DEFAULT_CONNECT_TIMEOUT = 30_000;
export const USER_AGENT = 'hull/0.1.0';

export class Transport {
  readonly #options: TransportOptions;
  readonly #agents = new Map<boolean, Agent>();

  constructor(options: TransportOptions = {}) {
    this.#options = options;
  }

  #agent(tlsVerify: boolean): Agent {
    let agent = this.#agents.get(tlsVerify);
    if (!agent) {
      const certsDir = this.#options.certsDir === undefined ? '/etc/docker/certs.d' : this.#options.certsDir;
      const connectTimeout = this.#options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
      agent = new Agent({
        // One pool per origin, so each registry host keeps its own connections and TLS material.
        factory: (origin, opts) => {
          const url = new URL(String(origin));
          const tls = url.protocol === 'https:' ? tlsMaterial(certsDir, url.host) : {};
          return new Pool(origin, {
            ...(opts as Pool.Options),
            connect: { timeout: connectTimeout, ...tls, ...(tlsVerify ? {} : { rejectUnauthorized: false }) },
          });
        },
      });
      this.#agents.set(tlsVerify, agent);
    }
    return agent;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const url = typeof req.url === 'string' ? req.url : req.url.toString();
    const headers: Record<string, string> = { 'user-agent': this.#options.userAgent ?? USER_AGENT, ...req.headers };
    try {
      const parsed = new URL(url);
      const res = await this.#agent(req.tlsVerify ?? true).request({
        origin: parsed.origin,
        path: parsed.pathname + parsed.search,
        method: req.method,
        headers,
        body: req.body ?? null,
        headersTimeout:
          req.method === 'PUT' || req.method === 'PATCH'
            ? (this.#options.uploadHeadersTimeout ?? DEFAULT_UPLOAD_HEADERS_TIMEOUT)
            : (this.#options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT),
        bodyTimeout: this.#options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body, method: req.method, url };
    } catch (e) {
      throw transportError(req.method, url, e);
    }
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close().catch(() => a.destroy())));
  }
}

/** Reads docker's certs.d directory for one host; a missing directory means nothing extra. */
function tlsMaterial(certsDir: string | null, host: string): { ca?: string[]; cert?: Buffer; key?: Buffer } {
  if (!certsDir) return {};
  const dir = join(certsDir, host.replace(/^\[|\]$/g, ''));
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return {};
  }
  const out: { ca?: string[]; cert?: Buffer; key?: Buffer } = {};
  const roots = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
  // Extra roots add to the system's, as docker does, rather than replacing them.
  if (roots.length > 0) out.ca = [...getCACertificates('default'), ...roots];
  for (const certName of names.filter((n) => n.endsWith('.cert'))) {
    const keyName = `${certName.slice(0, -'.cert'.length)}.key`;
    if (!names.includes(keyName)) {
      throw new Error(`TLS client certificate ${join(dir, certName)} has no matching key ${keyName}`);
    }
    out.cert = readFileSync(join(dir, certName));
    out.key = readFileSync(join(dir, keyName));
    break;
  }
  return out;
}

/** Turns undici's and Node's errors into one that says which request failed and why. */
export function transportError(method: string, url: string, e: unknown): Error {
  if (e instanceof RegistryTransportError || e instanceof RegistryProtocolError || e instanceof RegistryError) return e;
  const err = e as NodeJS.ErrnoException & { code?: string };
  let reason = err?.message ?? String(e);
  switch (err?.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      reason = 'timed out waiting for the response headers';
      break;
    case 'UND_ERR_BODY_TIMEOUT':
      reason = 'timed out: the response body stalled';
      break;
    case 'UND_ERR_CONNECT_TIMEOUT':
      reason = 'timed out connecting';
      break;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      reason = 'the connection closed before the body reached its Content-Length';
      break;
    case 'UND_ERR_SOCKET':
      reason = `connection dropped (${err.message})`;
      break;
    case 'ECONNREFUSED':
      reason = `connection refused (${err.message})`;
      break;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      reason = `TLS handshake failed: the server does not speak HTTPS (${err.message})`;
      break;
    default: {
      // OpenSSL's own text is a colon-separated record; its reason field is the useful part.
      const ssl = /:SSL routines:[^:]*:([^:]+):/.exec(reason);
      if (ssl) reason = `TLS failure: ${ssl[1]}`;
      else if (err?.code && !reason.includes(err.code)) reason = `${reason} (${err.code})`;
    }
  }
  return new RegistryTransportError(method, url, reason, { cause: e });
}

/** First value of a response header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** All values of a header that may repeat (WWW-Authenticate, Link). */
export function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** A Content-Length value, or null when absent; a malformed one is the server's fault. */
export function contentLength(res: HttpResponse): number | null {
  const raw = headerValue(res.headers, 'content-length');
  if (raw === undefined) return null;
  if (!/^\d{1,15}$/.test(raw.trim())) throw new RegistryProtocolError(res.url, `malformed Content-Length ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/**
 * Reads a whole body, refusing it as soon as it passes `limit` bytes: the declared length is
 * checked first and the count while reading, since a server may declare nothing or lie.
 */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = contentLength(res);
  if (declared !== null && declared > limit) {
    abandonBody(res);
    throw new RegistryProtocolError(res.url, `${what} is ${declared} bytes, over the limit of ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        abandonBody(res);
        throw new RegistryProtocolError(res.url, `${what} is over the limit of ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof RegistryProtocolError) throw e;
    throw transportError(res.method, res.url, e);
  }
  if (declared !== null && total !== declared) {
    throw new RegistryProtocolError(res.url, `${what} is ${total} bytes but Content-Length said ${declared}`);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Closes a response's connection without reading the body. undici reports that as an error
 * on the body, which is expected here and must not surface as an uncaught exception.
 */
export function abandonBody(res: HttpResponse): void {
  res.body.on('error', () => {});
  res.body.destroy();
}

/** Drops a body we do not need, without letting a huge one hold the connection for long. */
export async function discardBody(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed instead; nothing to report
  }
}

/** Builds the RegistryError for a failed response from its (bounded) body. */
export async function errorFrom(res: HttpResponse): Promise<RegistryError> {
  let text = '';
  if (res.method !== 'HEAD') {
    try {
      text = (await readBody(res, 64 * 1024, 'error body')).toString('utf8');
    } catch {
      text = '';
    }
  } else {
    await discardBody(res);
  }
  return new RegistryError({ status: res.status, errors: parseErrorBody(text), method: res.method, url: res.url });
}
