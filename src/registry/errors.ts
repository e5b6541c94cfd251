// The three ways a registry conversation fails, kept apart so that callers can decide what to
// retry: the registry answered with an error (RegistryError), the network failed
// (RegistryTransportError), or the registry answered something that breaks the protocol or
// our limits (RegistryProtocolError).

/** One entry of the distribution spec's error body: {"errors":[{"code","message","detail"}]}. */
export interface DistributionError {
  code: string;
  message: string;
  detail?: unknown;
}

// The registry may send an empty or non-JSON body; then the status decides the code, with the
// wording docker's client uses for that code, so that the CLI prints the same line.
const STATUS_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'UNSUPPORTED', message: 'bad request' },
  401: { code: 'UNAUTHORIZED', message: 'authentication required' },
  403: { code: 'DENIED', message: 'requested access to the resource is denied' },
  404: { code: 'NOT_FOUND', message: 'not found' },
  405: { code: 'UNSUPPORTED', message: 'The operation is unsupported.' },
  416: { code: 'RANGE_INVALID', message: 'requested range not satisfiable' },
  429: { code: 'TOOMANYREQUESTS', message: 'too many requests' },
  503: { code: 'UNAVAILABLE', message: 'service unavailable' },
};

/** docker prints a registry error as `<code in lower case, spaces for underscores>: <message>`. */
export function dockerErrorText(code: string, message: string): string {
  const name = code.toLowerCase().replace(/_/g, ' ');
  return message ? `${name}: ${message}` : name;
}

/** An error response from a registry (or its token server). */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly status: number;
  /** The first error's code, e.g. MANIFEST_UNKNOWN, UNAUTHORIZED, DENIED. */
  readonly code: string;
  /** The first error's message as the registry sent it. */
  readonly registryMessage: string;
  readonly errors: DistributionError[];
  /** What docker would print, e.g. `manifest unknown: manifest unknown`. */
  readonly dockerMessage: string;
  readonly method: string;
  readonly url: string;

  constructor(init: { status: number; errors: DistributionError[]; method: string; url: string }) {
    // An entry without a code (a token server's {"details": ...}) takes the status's code.
    const errors =
      init.errors.length > 0
        ? init.errors.map((e) => (e.code ? e : { ...e, code: statusError(init.status).code }))
        : [statusError(init.status)];
    const first = errors[0]!;
    const docker =
      errors.length === 1
        ? dockerErrorText(first.code, first.message)
        : `errors:\n${errors.map((e) => dockerErrorText(e.code, e.message)).join('\n')}`;
    super(`${docker} (${init.method} ${redactUrl(init.url)}: HTTP ${init.status})`);
    this.status = init.status;
    this.code = first.code;
    this.registryMessage = first.message;
    this.errors = errors;
    this.dockerMessage = docker;
    this.method = init.method;
    this.url = init.url;
  }
}

function statusError(status: number): DistributionError {
  const known = STATUS_CODES[status];
  if (known) return { ...known };
  return { code: 'UNKNOWN', message: `unexpected HTTP status ${status}` };
}

/** The network failed: no connection, TLS failure, timeout, or the connection dropped. */
export class RegistryTransportError extends Error {
  override name = 'RegistryTransportError';
  readonly method: string;
  readonly url: string;
  /** `whole`: the reason already names what was requested, so it is the message as is. */
  constructor(method: string, url: string, reason: string, options?: { cause?: unknown; whole?: boolean }) {
    super(options?.whole ? reason : `${method} ${redactUrl(url)}: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.method = method;
    this.url = url;
  }
}

/** The server broke the protocol or a limit: wrong digest, short body, redirect loop, oversized. */
export class RegistryProtocolError extends Error {
  override name = 'RegistryProtocolError';
  readonly url: string;
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`${redactUrl(url)}: ${reason}`, options);
    this.url = url;
  }
}

/**
 * Parses a distribution error body. Anything that is not the documented shape yields [] so
 * that the status decides; a hostile body can neither throw here nor flood the message.
 */
export function parseErrorBody(text: string): DistributionError[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const list = (doc as { errors?: unknown }).errors;
  if (!Array.isArray(list)) {
    // Some token servers answer {"details": "..."} or {"error": "..."}.
    const single = (doc as { details?: unknown; error?: unknown; message?: unknown });
    const message = [single.details, single.error, single.message].find((v) => typeof v === 'string');
    return typeof message === 'string' ? [{ code: '', message: clip(message) }] : [];
  }
  const out: DistributionError[] = [];
  for (const entry of list.slice(0, 20)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { code, message, detail } = entry as { code?: unknown; message?: unknown; detail?: unknown };
    out.push({
      code: typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'UNKNOWN',
      message: typeof message === 'string' ? clip(message) : '',
      ...(detail !== undefined && detail !== null ? { detail } : {}),
    });
  }
  return out;
}

function clip(s: string): string {
  // Messages end up on a terminal: no control characters, bounded length.
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > 500 ? `${clean.slice(0, 500)}…` : clean;
}

/** URLs in messages lose credentials and the upload _state blob, which is long and useless. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const key of ['_state', 'refresh_token', 'X-Amz-Signature', 'sig', 'signature']) {
      if (u.searchParams.has(key)) u.searchParams.set(key, '…');
    }
    return u.toString();
  } catch {
    return url;
  }
}
