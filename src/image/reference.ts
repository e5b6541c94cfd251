// Image references, with docker's grammar and normalization rules
// (github.com/distribution/reference). Users type familiar names (`busybox`, `user/app:1`,
// `localhost:5000/x@sha256:...`); hull stores and compares the full form
// (`docker.io/library/busybox:latest`) and shows the familiar one again.
//
//   reference      := name [ ":" tag ] [ "@" digest ]
//   name           := [domain "/"] path
//   domain         := host [":" port]      host := domain-name | "[" IPv6 "]"
//   path           := component ("/" component)*
//   component      := [a-z0-9]+ (separator [a-z0-9]+)*     separator := [._] | "__" | "-"+
//   tag            := [\w][\w.-]{0,127}
//   digest         := algorithm ":" hex

import { DigestError, parseDigest } from './digest.ts';
import type { Digest } from './digest.ts';

export const DEFAULT_DOMAIN = 'docker.io';
/** The Docker Hub domain as the v1 "index" knew it; it still names Docker Hub. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
export const REPOSITORY_PATH_MAX = 255;

// No valid reference comes near this (a DNS name is at most 253 characters, the path 255,
// the tag 128, a sha512 digest 135); the bound keeps regex backtracking on hostile input
// cheap.
const REFERENCE_INPUT_MAX = 1024;

export interface Reference {
  /** Registry host[:port]; '' only from parseRawReference, which does not normalize. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export type ReferenceErrorCode =
  | 'empty'
  | 'invalid-format'
  | 'uppercase'
  | 'name-too-long'
  | 'hex-name'
  | 'invalid-digest'
  | 'invalid-tag';

export class ReferenceError extends Error {
  override name = 'ReferenceError';
  readonly code: ReferenceErrorCode;
  readonly input: string;
  constructor(code: ReferenceErrorCode, input: string, message: string) {
    super(message);
    this.code = code;
    this.input = input;
  }
}

// The grammar, assembled from the same pieces as distribution/reference's regexp.go so
// each rule can be checked against it. Both Go's regexp and JavaScript's pick the
// leftmost-first alternative, so the captured groups agree.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
// Compressed or full IPv6 in brackets; zones (%eth0) and dotted IPv4 tails are excluded.
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG_RE = new RegExp(`^${tagPattern}$`);
const ANCHORED_REMOTE_RE = new RegExp(`^${remoteName}$`);
const ANCHORED_DOMAIN_RE = new RegExp(`^${domainAndPort}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const ID_PREFIX_RE = /^(?:sha256:)?[a-f0-9]{1,64}$/;

function show(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

function invalidFormat(input: string, detail?: string): ReferenceError {
  return new ReferenceError('invalid-format', input, detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

function tooLong(input: string): ReferenceError {
  return new ReferenceError(
    'name-too-long',
    input,
    `invalid reference format: repository name must not be more than ${REPOSITORY_PATH_MAX} characters`,
  );
}

function checkLength(input: string): void {
  if (input.length > REFERENCE_INPUT_MAX) {
    throw invalidFormat(input, `reference is longer than ${REFERENCE_INPUT_MAX} characters`);
  }
}

/**
 * The grammar alone, as distribution's Parse: no Docker Hub defaults, so `busybox` has
 * domain '' and path `busybox`, and `foo/bar` has domain `foo`. Use parseReference for
 * anything a user typed.
 */
export function parseRawReference(input: string): Reference {
  if (input === '') {
    throw new ReferenceError('empty', input, 'invalid reference format: repository name must have at least one component');
  }
  checkLength(input);
  return parseGrammar(input, input);
}

// `text` is what the grammar sees; `input` is what the user gave, for errors.
function parseGrammar(text: string, input: string): Reference {
  const m = REFERENCE_RE.exec(text);
  if (!m) {
    const lower = text.toLowerCase();
    if (lower !== text && REFERENCE_RE.test(lower)) {
      throw new ReferenceError('uppercase', input, 'invalid reference format: repository name must be lowercase');
    }
    throw invalidFormat(input);
  }
  const [, name = '', tag, digestText] = m;
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  if (path.length > REPOSITORY_PATH_MAX) {
    throw tooLong(input);
  }
  let digest: Digest | undefined;
  if (digestText !== undefined) {
    try {
      digest = parseDigest(digestText);
    } catch (e) {
      if (!(e instanceof DigestError)) throw e;
      throw new ReferenceError('invalid-digest', input, `invalid reference format: ${e.message}`);
    }
  }
  return build(domain, path, tag, digest);
}

/**
 * A bare repository name, `[domain/]path`, with no tag, digest or normalization
 * (distribution's WithName): what a registry or an archive's index names.
 */
export function parseName(input: string): Reference {
  checkLength(input);
  const m = ANCHORED_NAME_RE.exec(input);
  if (!m) {
    const lower = input.toLowerCase();
    if (lower !== input && ANCHORED_NAME_RE.test(lower)) {
      throw new ReferenceError('uppercase', input, 'invalid reference format: repository name must be lowercase');
    }
    throw invalidFormat(input);
  }
  const path = m[2] ?? '';
  if (path.length > REPOSITORY_PATH_MAX) {
    throw tooLong(input);
  }
  return build(m[1] ?? '', path, undefined, undefined);
}

function build(domain: string, path: string, tag: string | undefined, digest: Digest | undefined): Reference {
  const ref: { domain: string; path: string; tag?: string; digest?: Digest } = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

// Splits a familiar name into Docker Hub's canonical domain and path, as docker does
// before parsing: the first component is a registry only when it could not be a Hub
// namespace (it has a dot, a port or uppercase letters, or is `localhost`).
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === 'localhost') {
    domain = first;
    remainder = rest;
  } else if (first === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
    remainder = rest;
  } else if (first.includes('.') || first.includes(':') || first.toLowerCase() !== first) {
    domain = first;
    remainder = rest;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses what a user typed, the way docker does (ParseNormalizedNamed): `busybox` becomes
 * domain `docker.io`, path `library/busybox`. No tag is added; see normalize.
 */
export function parseReference(input: string): Reference {
  if (input === '') {
    throw new ReferenceError('empty', input, 'invalid reference format: repository name must have at least one component');
  }
  if (IDENTIFIER_RE.test(input)) {
    throw new ReferenceError(
      'hex-name',
      input,
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  checkLength(input);
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new ReferenceError(
      'uppercase',
      input,
      `invalid reference format: repository name (${show(remote)}) must be lowercase`,
    );
  }
  return parseGrammar(`${domain}/${remainder}`, input);
}

/**
 * The reference docker pulls or runs for `input` (ParseDockerRef): normalized, `latest`
 * when neither tag nor digest is given, and only the digest when both are (the digest
 * decides the content, so a tag beside it would only mislead).
 */
export function normalize(input: string | Reference): Reference {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  if (ref.tag !== undefined && ref.digest !== undefined) return build(ref.domain, ref.path, undefined, ref.digest);
  return withDefaultTag(ref);
}

/** Adds the `latest` tag to a reference that has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return build(ref.domain, ref.path, DEFAULT_TAG, undefined);
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!isValidTag(tag)) {
    throw new ReferenceError('invalid-tag', tag, `invalid tag format: ${JSON.stringify(show(tag))}`);
  }
  return build(ref.domain, ref.path, tag, ref.digest);
}

export function withDigest(ref: Reference, digest: string): Reference {
  let d: Digest;
  try {
    d = parseDigest(digest);
  } catch (e) {
    if (!(e instanceof DigestError)) throw e;
    throw new ReferenceError('invalid-digest', digest, `invalid digest format: ${e.message}`);
  }
  return build(ref.domain, ref.path, ref.tag, d);
}

/** The reference without tag or digest. */
export function trimmed(ref: Reference): Reference {
  return build(ref.domain, ref.path, undefined, undefined);
}

/** `domain/path`: the repository as registries and the tag store key it. */
export function repository(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

function suffix(ref: Reference): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `docker.io/library/busybox:latest`. */
export function fullString(ref: Reference): string {
  return repository(ref) + suffix(ref);
}

/**
 * The name as docker shows it: Docker Hub's domain dropped, and `library/` dropped for
 * official images (but kept for nested paths such as `library/foo/bar`).
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repository(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** `busybox:latest`, `user/app@sha256:...`, `localhost:5000/x:1`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + suffix(ref);
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG_RE.test(tag);
}

/** Whether `path` is a valid repository path (no domain), as a registry must check. */
export function isValidRepositoryPath(path: string): boolean {
  return path.length <= REPOSITORY_PATH_MAX && ANCHORED_REMOTE_RE.test(path);
}

/** Whether `domain` is a valid registry host[:port]. */
export function isValidDomain(domain: string): boolean {
  return domain.length <= REFERENCE_INPUT_MAX && ANCHORED_DOMAIN_RE.test(domain);
}

/**
 * Whether `s` could be (a prefix of) an image ID, as the CLI accepts in place of a name:
 * lowercase hex, optionally after `sha256:`.
 */
export function isImageIdPrefix(s: string): boolean {
  return ID_PREFIX_RE.test(s);
}

export type AnyReference = { kind: 'id'; id: Digest } | { kind: 'name'; ref: Reference };

/**
 * Parses something the CLI or API accepts as an image: a full 64-hex ID, a digest, or a
 * name (ParseAnyReference). Short hex strings are names here; the caller decides whether
 * to try them as ID prefixes (isImageIdPrefix) when no such name exists.
 */
export function parseAnyReference(input: string): AnyReference {
  if (IDENTIFIER_RE.test(input)) return { kind: 'id', id: `sha256:${input}` };
  try {
    return { kind: 'id', id: parseDigest(input) };
  } catch (e) {
    if (!(e instanceof DigestError)) throw e;
  }
  return { kind: 'name', ref: parseReference(input) };
}
