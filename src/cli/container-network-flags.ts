// The networking values of `run`/`create`: -p/--publish, --expose, --add-host, --dns,
// --dns-search and --network, parsed with docker's grammar and docker's error texts. The
// ports are only recorded here (ExposedPorts, PortBindings); publishing them is the networking
// layer's work.
import { atoi, goQuote, parseUint, readCsvRecord } from './go-strconv.ts';
import { formatIP, parseIP } from '../network/cidr.ts';

export { formatIP, parseIP };

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

/** One --network value as docker's NetworkAttachmentOpts holds it. */
export interface NetworkAttachment {
  target: string;
  aliases: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  linkLocalIps: string[];
  driverOpts: Record<string, string>;
  gwPriority: number;
}

export function networkAttachment(target: string): NetworkAttachment {
  return { target, aliases: [], ipv4: '', ipv6: '', mac: '', linkLocalIps: [], driverOpts: {}, gwPriority: 0 };
}

/** The end of a strconv error ("invalid syntax"), as docker's NumError.Err prints. */
function numErrorReason(err: unknown): string {
  const m = /: ([^:]+)$/.exec((err as Error).message);
  return m ? m[1]! : (err as Error).message;
}

/**
 * One --network value: a name, or docker's long form "name=net,alias=x,ip=...,ip6=...,
 * mac-address=...,link-local-ip=...,driver-opt=k=v,gw-priority=n" (a CSV record; docker lowers
 * keys and values alike).
 */
export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return networkAttachment(value);
  const attachment = networkAttachment('');
  for (const field of readCsvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name': attachment.target = val; break;
      case 'alias': attachment.aliases.push(val); break;
      case 'ip': attachment.ipv4 = val; break;
      case 'ip6': attachment.ipv6 = val; break;
      case 'mac-address': attachment.mac = val; break;
      case 'link-local-ip': attachment.linkLocalIps.push(val); break;
      case 'driver-opt': {
        const cut = val.indexOf('=');
        if (cut <= 0) throw new Error('invalid key value pair format in driver options');
        attachment.driverOpts[val.slice(0, cut).trim()] = val.slice(cut + 1).trim();
        break;
      }
      case 'gw-priority':
        try {
          attachment.gwPriority = atoi(val);
        } catch (err) {
          throw new Error(`invalid gw-priority (${val}): ${numErrorReason(err)}`);
        }
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (attachment.target === '') throw new Error('network name/id is not specified');
  return attachment;
}

/** True for a network other than the built-in modes: docker's NetworkMode.IsUserDefined. */
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

/**
 * Go's net.ParseMAC: 6, 8 or 20 bytes as xx:xx:.., xx-xx-.. or xxxx.xxxx.xxxx; the bytes, or
 * null. (Only a 6-byte address can be an Ethernet link's.)
 */
export function parseMAC(text: string): number[] | null {
  const hex = (s: string) => (/^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : NaN);
  let groups: string[];
  let width: number;
  if (text.length >= 14 && (text[2] === ':' || text[2] === '-')) {
    groups = text.split(text[2]!);
    width = 2;
  } else if (text.length >= 14 && text[4] === '.') {
    groups = text.split('.');
    width = 4;
  } else {
    return null;
  }
  const bytes: number[] = [];
  for (const g of groups) {
    if (g.length !== width) return null;
    const v = hex(g);
    if (Number.isNaN(v)) return null;
    if (width === 4) bytes.push(v >> 8, v & 0xff);
    else bytes.push(v);
  }
  return [6, 8, 20].includes(bytes.length) ? bytes : null;
}

/** opts.ValidateMACAddress, with docker's run-time message; a 6-byte address comes back as xx:xx:xx:xx:xx:xx. */
export function validateMacAddress(text: string): string {
  const bytes = parseMAC(text);
  if (!bytes) throw new Error(`${text} is not a valid mac address`);
  return bytes.length === 6 ? bytes.map((b) => b.toString(16).padStart(2, '0')).join(':') : text;
}
