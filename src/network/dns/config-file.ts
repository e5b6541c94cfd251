// The files that hull-dns (native/dns.c) serves: one per network in the DNS directory, naming
// the addresses to listen on, the upstream resolvers and the network's names. hull-dns re-reads
// them on SIGHUP (server-control.ts), so each is replaced whole by a rename and never seen half
// written; files whose names start with "." (temporary files, .pid, .log) are not networks.
import { randomBytes } from '../../crypto.ts';
import { mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface DnsRecord {
  /** A container's name, short id or alias; matched without regard to case or a trailing dot. */
  name: string;
  ip: string;
  /** Answered only to queries from this address: a container's names on its other networks. */
  client?: string;
}

export interface NetworkDns {
  /** Addresses hull-dns listens on for this network (its gateways), port 53. */
  listen: string[];
  /** Upstream resolvers for every other name, tried in order: `ip` or `ip#port`. */
  forward: string[];
  /** A/AAAA answers; the first record of an address is its PTR answer, so list a container's name first. */
  records: DnsRecord[];
  /** Upstreams of one client instead of `forward` (a container's --dns). */
  clientForward?: { client: string; forward: string[] }[];
}

/** native/dns.c's limits: past them it ignores lines, so they are refused here instead. */
const MAX_LISTEN = 16;
const MAX_FORWARD = 8;
const MAX_RECORDS = 16384;

const NETWORK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SCOPE = /^[A-Za-z0-9_.-]{1,15}$/;

/** An address with no %scope (node's isIP takes one): what listen and record lines hold. */
function isPlainIP(text: string): boolean {
  return !text.includes('%') && isIP(text) !== 0;
}

function fail(networkId: string, what: string): never {
  throw new Error(`network ${JSON.stringify(networkId)}: DNS: ${what}`);
}

function checkNetworkId(networkId: string): void {
  if (!NETWORK_ID.test(networkId)) {
    throw new Error(`DNS: invalid network id ${JSON.stringify(networkId)}: only letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }
}

/** An upstream as hull-dns reads it: an address, a v6 one maybe with %scope, then maybe #port. */
export function isForwarder(text: string): boolean {
  const hash = text.lastIndexOf('#');
  let host = text;
  if (hash >= 0) {
    const port = text.slice(hash + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return false;
    host = text.slice(0, hash);
  }
  const pct = host.indexOf('%');
  if (pct >= 0) return isPlainIP(host.slice(0, pct)) && isIP(host.slice(0, pct)) === 6 && SCOPE.test(host.slice(pct + 1));
  return isPlainIP(host);
}

/** A DNS name as hull-dns accepts it: 1 to 63 printable, non-space characters per label, 253 in all. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => label.length >= 1 && label.length <= 63 && /^[\x21-\x7e]+$/.test(label));
}

function render(networkId: string, dns: NetworkDns): string {
  if (dns.listen.length > MAX_LISTEN) fail(networkId, `more than ${MAX_LISTEN} listen addresses`);
  if (dns.forward.length > MAX_FORWARD) fail(networkId, `more than ${MAX_FORWARD} forwarders`);
  if (dns.records.length > MAX_RECORDS) fail(networkId, `more than ${MAX_RECORDS} records`);
  const lines = [`# hull network ${networkId}`];
  for (const ip of dns.listen) {
    if (typeof ip !== 'string' || !isPlainIP(ip)) fail(networkId, `listen address ${JSON.stringify(ip)} is not an IP address`);
    lines.push(`listen ${ip}`);
  }
  for (const f of dns.forward) {
    if (typeof f !== 'string' || !isForwarder(f)) fail(networkId, `forwarder ${JSON.stringify(f)} is not an IP address with an optional #port`);
    lines.push(`forward ${f}`);
  }
  for (const cf of dns.clientForward ?? []) {
    if (typeof cf?.client !== 'string' || !isPlainIP(cf.client)) fail(networkId, `client ${JSON.stringify(cf?.client)} is not an IP address`);
    if (!Array.isArray(cf.forward) || cf.forward.length > MAX_FORWARD) fail(networkId, `client ${cf.client}: expected at most ${MAX_FORWARD} forwarders`);
    for (const f of cf.forward) {
      if (typeof f !== 'string' || !isForwarder(f)) fail(networkId, `client ${cf.client}: forwarder ${JSON.stringify(f)} is not an IP address with an optional #port`);
      lines.push(`forward ${f} ${cf.client}`);
    }
  }
  for (const r of dns.records) {
    if (typeof r?.name !== 'string' || !isDnsName(r.name)) fail(networkId, `record name ${JSON.stringify(r?.name)} is not a DNS name`);
    if (typeof r.ip !== 'string' || !isPlainIP(r.ip)) fail(networkId, `record ${r.name}: ${JSON.stringify(r.ip)} is not an IP address`);
    if (r.client !== undefined && (typeof r.client !== 'string' || !isPlainIP(r.client))) fail(networkId, `record ${r.name}: client ${JSON.stringify(r.client)} is not an IP address`);
    lines.push(r.client ? `record ${r.name} ${r.ip} ${r.client}` : `record ${r.name} ${r.ip}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes (or replaces) one network's file in dir, atomically. Call notifyDns afterwards. */
export function writeNetworkDns(dir: string, networkId: string, dns: NetworkDns): void {
  checkNetworkId(networkId);
  const text = render(networkId, dns);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.${networkId}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
    renameSync(tmp, join(dir, networkId));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Removes one network's file (gone already is fine). Call notifyDns afterwards. */
export function removeNetworkDns(dir: string, networkId: string): void {
  checkNetworkId(networkId);
  try {
    unlinkSync(join(dir, networkId));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** The networks that have a file in dir (none if dir does not exist). */
export function dnsNetworks(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
