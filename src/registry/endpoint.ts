// Which URLs serve a registry domain, following dockerd's rules: Docker Hub's real host,
// mirrors for pulls, and HTTPS first with a fallback to plain HTTP for insecure registries.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_HOST = 'registry-1.docker.io';
// Names that all mean Docker Hub in references and in old configuration.
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

export interface EndpointOptions {
  /**
   * docker's `insecure-registries`: `host[:port]` entries (matched exactly, as dockerd does) or
   * CIDRs (matched against the registry host's addresses). 127.0.0.0/8 and ::1 are always in.
   */
  insecureRegistries?: string[];
  /** Pull mirrors per registry domain, e.g. { "docker.io": ["http://127.0.0.1:5000"] }. */
  mirrors?: Record<string, string[]>;
  /** Name resolution for CIDR matching; tests replace it. Default: the system resolver. */
  lookup?: (host: string) => Promise<string[]>;
}

/** One way to reach a server: its base URL (no path) and whether to verify its certificate. */
export interface Endpoint {
  url: URL;
  tlsVerify: boolean;
}

/**
 * One server that can answer for the registry: the origin or a mirror. Its candidates are tried
 * in order until one answers at all (HTTPS, then HTTP for an insecure registry).
 */
export interface Remote {
  /** host[:port] of this server, used for messages and for looking up credentials. */
  host: string;
  mirror: boolean;
  candidates: Endpoint[];
}

export class EndpointError extends Error {
  override name = 'EndpointError';
}

/** The canonical form of a registry domain: lower case, Docker Hub's aliases folded. */
export function canonicalDomain(domain: string): string {
  const d = validateDomain(domain);
  return DOCKER_HUB_ALIASES.has(d) ? DOCKER_HUB : d;
}

/**
 * Checks that a registry domain is `host[:port]` and nothing else, so that it can be put in a
 * URL without changing what the URL means.
 */
export function validateDomain(domain: string): string {
  const d = domain.toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?$/.exec(d);
  if (!m || d.length > 255) throw new EndpointError(`invalid registry domain ${JSON.stringify(domain)}: expected host[:port]`);
  const host = m[1]!;
  if (host.startsWith('[') && isIP(host.slice(1, -1)) !== 6) {
    throw new EndpointError(`invalid registry domain ${JSON.stringify(domain)}: ${host} is not an IPv6 address`);
  }
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) {
    throw new EndpointError(`invalid registry domain ${JSON.stringify(domain)}: port out of range`);
  }
  return d;
}

/** The host part of host[:port], without IPv6 brackets. */
export function hostOf(domain: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(domain);
  if (m) return m[1]!;
  const colon = domain.lastIndexOf(':');
  return colon >= 0 ? domain.slice(0, colon) : domain;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return LOOPBACK.check(address, 'ipv4');
  if (family === 6) {
    // An IPv4-mapped loopback (::ffff:127.0.0.1) is loopback too.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped ? LOOPBACK.check(mapped[1]!, 'ipv4') : LOOPBACK.check(address, 'ipv6');
  }
  return false;
}

interface InsecureRules {
  names: Set<string>;
  cidrs: BlockList;
  hasCidrs: boolean;
}

function parseInsecure(entries: string[]): InsecureRules {
  const rules: InsecureRules = { names: new Set(), cidrs: new BlockList(), hasCidrs: false };
  for (const raw of entries) {
    // dockerd drops a scheme here with a warning; so do we, silently.
    const entry = raw.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '');
    const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/i.exec(entry);
    if (cidr) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family === 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new EndpointError(`invalid insecure registry ${JSON.stringify(raw)}: not a valid CIDR`);
      }
      rules.cidrs.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
      rules.hasCidrs = true;
      continue;
    }
    try {
      rules.names.add(canonicalDomain(entry));
    } catch {
      throw new EndpointError(`invalid insecure registry ${JSON.stringify(raw)}: expected host[:port] or a CIDR`);
    }
  }
  return rules;
}

async function systemLookup(host: string): Promise<string[]> {
  // dockerd resolves the name too; an unresolvable name just counts as secure, and a resolver
  // that hangs must not hold a pull for long.
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), 2000).unref());
  const addrs = dnsLookup(host, { all: true }).then(
    (list) => list.map((a) => a.address),
    () => [] as string[],
  );
  return Promise.race([addrs, timeout]);
}

/**
 * Whether docker would treat this registry as insecure: listed by name, or one of its addresses
 * is loopback or in a listed CIDR. Docker Hub never is.
 */
export async function isInsecureRegistry(domain: string, options: EndpointOptions = {}): Promise<boolean> {
  const d = canonicalDomain(domain);
  if (d === DOCKER_HUB) return false;
  const rules = parseInsecure(options.insecureRegistries ?? []);
  if (rules.names.has(d)) return true;
  const host = hostOf(d);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else if (host === 'localhost') addresses = ['127.0.0.1', '::1'];
  else addresses = await (options.lookup ?? systemLookup)(host);
  for (const a of addresses) {
    if (isLoopback(a)) return true;
    if (rules.hasCidrs) {
      const family = isIP(a);
      if (family !== 0 && rules.cidrs.check(a, family === 4 ? 'ipv4' : 'ipv6')) return true;
    }
  }
  return false;
}

function originCandidates(domain: string, insecure: boolean): Endpoint[] {
  const host = domain === DOCKER_HUB ? DOCKER_HUB_HOST : domain;
  const https: Endpoint = { url: new URL(`https://${host}`), tlsVerify: !insecure };
  // dockerd: an insecure registry gets HTTPS without verification first, then plain HTTP.
  return insecure ? [https, { url: new URL(`http://${host}`), tlsVerify: false }] : [https];
}

/** Checks a mirror URL as dockerd's ValidateMirror does: http(s), a host, no path or query. */
export function parseMirror(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new EndpointError(`invalid mirror ${JSON.stringify(raw)}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new EndpointError(`invalid mirror ${JSON.stringify(raw)}: only http and https are supported`);
  }
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new EndpointError(`invalid mirror ${JSON.stringify(raw)}: give only scheme, host and port`);
  }
  return new URL(`${u.protocol}//${u.host}`);
}

/**
 * The servers to try, in order. Pulls try each mirror configured for the domain, then the
 * origin; pushes go to the origin only, as mirrors are read-only.
 */
export async function resolveRemotes(domain: string, purpose: 'pull' | 'push', options: EndpointOptions = {}): Promise<Remote[]> {
  const d = canonicalDomain(domain);
  const remotes: Remote[] = [];
  if (purpose === 'pull') {
    const mirrors = mirrorsFor(d, options.mirrors ?? {});
    for (const raw of mirrors) {
      const url = parseMirror(raw);
      const insecure = url.protocol === 'https:' && (await isInsecureRegistry(url.host, options));
      remotes.push({ host: url.host, mirror: true, candidates: [{ url, tlsVerify: !insecure }] });
    }
  }
  remotes.push({
    host: d === DOCKER_HUB ? DOCKER_HUB_HOST : d,
    mirror: false,
    candidates: originCandidates(d, await isInsecureRegistry(d, options)),
  });
  return remotes;
}

function mirrorsFor(domain: string, mirrors: Record<string, string[]>): string[] {
  for (const [key, list] of Object.entries(mirrors)) {
    let k: string;
    try {
      k = canonicalDomain(key);
    } catch {
      throw new EndpointError(`invalid mirror key ${JSON.stringify(key)}: expected a registry domain`);
    }
    if (k === domain) return list;
  }
  return [];
}
