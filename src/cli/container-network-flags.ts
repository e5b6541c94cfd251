// The networking values of `run`/`create`: -p/--publish, --expose, --add-host, --dns,
// --dns-search and --network, parsed with docker's grammar and docker's error texts. The
// ports are only recorded here (ExposedPorts, PortBindings); publishing them is the networking
// layer's work.
import { goQuote, parseUint, readCsvRecord } from './go-strconv.ts';

// ---- IP addresses (Go's net.ParseIP: no zones, no leading zeros in IPv4 fields) ----

function parseIPv4(s: string): number[] | null {
  const fields = s.split('.');
  if (fields.length !== 4) return null;
  const out: number[] = [];
  for (const f of fields) {
    if (!/^\d{1,3}$/.test(f) || (f.length > 1 && f[0] === '0')) return null;
    const v = Number(f);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseIPv6(s: string): number[] | null {
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  let i = 0;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return ip;
  }
  while (i < 16) {
    const m = /^[0-9a-fA-F]*/.exec(s)![0];
    if (m.length === 0 || m.length > 4) return null;
    if (s[m.length] === '.') {
      // an embedded IPv4 address takes the last 4 bytes
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return null;
      const v4 = parseIPv4(s);
      if (!v4) return null;
      ip.splice(i, 4, ...v4);
      i += 4;
      s = '';
      break;
    }
    const group = parseInt(m, 16);
    ip[i] = group >> 8;
    ip[i + 1] = group & 0xff;
    i += 2;
    s = s.slice(m.length);
    if (s === '') break;
    if (s[0] !== ':' || s.length === 1) return null;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const tail = ip.slice(ellipsis, i);
    ip.fill(0, ellipsis);
    ip.splice(16 - tail.length, tail.length, ...tail);
  } else if (ellipsis >= 0) {
    // "::" must stand for at least one group of zeros
    return null;
  }
  return ip;
}

/** The 4 or 16 bytes of an IP address written as Go's net.ParseIP accepts it, or null. */
export function parseIP(text: string): number[] | null {
  for (const c of text) {
    if (c === '.') return parseIPv4(text);
    if (c === ':') return parseIPv6(text);
    if (c === '%') return null;
  }
  return null;
}

/** Go's net.IP.String: dotted IPv4 (also for IPv4-mapped IPv6), else RFC 5952 IPv6. */
export function formatIP(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4mapped) return bytes.slice(12).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/** --dns: opts.ValidateIPAddress; the address comes back in canonical form. */
export function validateIPAddress(value: string): string {
  const ip = parseIP(value.trim());
  if (!ip) throw new Error(`IP address is not correctly formatted: ${value}`);
  return formatIP(ip);
}

/** --add-host host:ip, host=ip, host:[v6], or host:host-gateway (kept literally for the engine). */
export function validateExtraHost(value: string): string {
  let cut = value.indexOf('=');
  if (cut < 0) cut = value.indexOf(':');
  const host = cut < 0 ? '' : value.slice(0, cut);
  let addr = cut < 0 ? '' : value.slice(cut + 1);
  if (cut < 0 || host === '' || host.includes(':')) throw new Error(`bad format for add-host: ${goQuote(value)}`);
  if (addr !== 'host-gateway') {
    if (addr.length > 2 && addr[0] === '[' && addr.at(-1) === ']') addr = addr.slice(1, -1);
    if (!parseIP(addr.trim())) throw new Error(`invalid IP address in add-host: ${goQuote(addr)}`);
  }
  return `${host}:${addr}`;
}

// A domain: dot-separated labels of letters, digits and inner hyphens, an optional final dot,
// then optional trailing whitespace.
const DOMAIN = /^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)\.?\s*$/;

/** --dns-search: a domain, or "." for none; returned without a trailing dot. */
export function validateDnsSearch(value: string): string {
  const v = value.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /[a-zA-Z]/.test(v) ? DOMAIN.exec(v) : null;
  if (!m || m[1]!.length >= 255) throw new Error(`${v} is not a valid domain`);
  return m[1]!;
}

// ---- ports ----

type PortSet = Record<string, Record<string, never>>;
type PortMap = Record<string, { HostIp: string; HostPort: string }[]>;

/** nat.SplitProtoPort: "80/udp" -> ["udp", "80"]; a missing protocol is tcp. */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

/** nat.ParsePortRange: "8000" or "8000-8010" (anything after a second "-" is ignored, as in docker). */
function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = Number(parseUint(ports, 10, 16));
    return [p, p];
  }
  const parts = ports.split('-');
  const start = Number(parseUint(parts[0]!, 10, 16));
  const end = Number(parseUint(parts[1]!, 10, 16));
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** -p in the long form "published=8080,target=80,protocol=udp" becomes "8080:80/udp". */
function standardPublishNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
}

function splitPublishParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return ['', '', container];
  if (n === 2) return ['', parts[0]!, container];
  if (n === 3) return [parts[0]!, parts[1]!, container];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, container];
}

interface PortMapping {
  port: string;
  hostIp: string;
  hostPort: string;
}

/** nat.ParsePortSpec: [ip:][hostPort:]containerPort[/proto], with ranges on either side. */
function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPort] = splitPublishParts(raw);
  let proto: string;
  [proto, containerPort] = splitProtoPort(containerPort);
  if (ip !== '' && ip[0] === '[') {
    // docker strips the brackets with net.SplitHostPort(ip + ":"); these are its complaints
    const close = ip.indexOf(']');
    const problem = close < 0 ? "missing ']' in address"
      : close !== ip.length - 1 ? 'missing port in address'
      : /[[\]]/.test(ip.slice(1, -1)) ? `unexpected '${ip.slice(1, -1).match(/[[\]]/)![0]}' in address` : '';
    if (problem) throw new Error(`invalid IP address ${ip}: address ${ip}:: ${problem}`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !parseIP(ip)) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number, end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
  }
  if (hostPort !== '' && end - start !== hostEnd - hostStart && end !== start) {
    throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= end - start; i++) {
    let binding = hostPort === '' ? '' : String(hostStart + i);
    // one container port and a host range: the engine picks a free host port in the range
    if (start === end && hostStart !== hostEnd) binding = `${binding}-${hostEnd}`;
    out.push({ port: `${start + i}/${proto.toLowerCase()}`, hostIp: ip, hostPort: binding });
  }
  return out;
}

/** -p and --expose into the ExposedPorts set and the PortBindings map, as docker's CLI builds them. */
export function parsePorts(publish: string[], expose: string[]): { exposed: PortSet; bindings: PortMap } {
  const exposed: PortSet = {};
  const bindings: PortMap = {};
  for (const p of publish) {
    for (const m of parsePortSpec(standardPublishNotation(p))) {
      exposed[m.port] = {};
      (bindings[m.port] ??= []).push({ HostIp: m.hostIp, HostPort: m.hostPort });
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number, end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) exposed[`${i}/${proto}`] ??= {};
  }
  return { exposed, bindings };
}

// ---- --network ----

export interface NetworkAttachment {
  target: string;
  /** Endpoint settings of the long form (alias=, ip=, ...) that hull does not implement yet. */
  endpointOptions: string[];
}

const NETWORK_KEYS = new Set(['name', 'alias', 'ip', 'ip6', 'mac-address', 'link-local-ip', 'driver-opt', 'gw-priority']);

/** One --network value: a name, or docker's long form "name=net,alias=x,...". */
export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return { target: value, endpointOptions: [] };
  const attachment: NetworkAttachment = { target: '', endpointOptions: [] };
  for (const field of readCsvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    if (!NETWORK_KEYS.has(key)) throw new Error(`invalid field key ${key}`);
    if (key === 'name') attachment.target = val;
    else attachment.endpointOptions.push(key);
  }
  if (attachment.target === '') throw new Error('network name/id is not specified');
  return attachment;
}

/** True for a network other than the built-in modes (a user-defined network, issue 6). */
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}
