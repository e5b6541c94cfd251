// Checks on everything that ends up inside an nft script. Names and addresses are written into
// the script as text, so anything that could change the script's meaning (a quote, a space, a
// newline, a wildcard) is refused here, before a script is made, with the field that held it.
import { isIPv4, isIPv6 } from 'node:net';
import type { IpFamily, NetworkFirewall, PortForward } from './types.ts';

export class FirewallError extends Error {
  override name = 'FirewallError';
}

/** Shows hostile input bounded and escaped in an error message. */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'object' && value !== null ? 'an object' : String(value).slice(0, 40);
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

// An nftables table name: hull's own, so short and plain.
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
// Owner ids become part of chain names and of rule comments (nft caps comments at 128 bytes).
const OWNER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// A Linux interface name (IFNAMSIZ is 16 with the NUL). The kernel allows more characters, but
// these are what hull makes, and none of them means anything to nft inside a quoted string
// (a trailing '*' would be a wildcard, a '"' would end the string).
const BRIDGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function checkTableName(name: unknown): string {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new FirewallError(
      `invalid nftables table name ${quote(name)}: expected a letter then up to 31 letters, digits, '_' or '-'`,
    );
  }
  return name;
}

export function checkOwnerId(id: unknown, what: 'network' | 'container'): string {
  if (typeof id !== 'string' || !OWNER_ID.test(id)) {
    throw new FirewallError(
      `invalid ${what} id ${quote(id)}: expected 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
  }
  return id;
}

export function checkBridge(name: unknown, where: string): string {
  if (typeof name !== 'string' || !BRIDGE_NAME.test(name) || name === '.' || name === '..') {
    throw new FirewallError(
      `${where}: invalid bridge name ${quote(name)}: expected 1 to 15 letters, digits, '_', '.' or '-'`,
    );
  }
  return name;
}

export interface Address {
  family: IpFamily;
  text: string;
}

/** An IPv4 or IPv6 address without a zone (node's isIPv6 takes "fe80::1%eth0"; nft does not). */
export function parseAddress(text: unknown, where: string): Address {
  if (typeof text === 'string' && !text.includes('%')) {
    if (isIPv4(text)) return { family: 4, text };
    if (isIPv6(text)) return { family: 6, text: text.toLowerCase() };
  }
  throw new FirewallError(`${where}: invalid IP address ${quote(text)}`);
}

function isUnspecified(a: Address): boolean {
  return a.family === 4 ? a.text === '0.0.0.0' : /^[0:]+$/.test(a.text);
}

export interface Subnet {
  family: IpFamily;
  /** As given, "address/prefix": nft itself clears host bits, as docker's IPAM does. */
  text: string;
}

export function parseSubnet(text: unknown, where: string): Subnet {
  const parts = typeof text === 'string' ? text.split('/') : [];
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1]!)) {
    throw new FirewallError(`${where}: invalid subnet ${quote(text)}: expected CIDR notation such as 10.88.0.0/16`);
  }
  const address = parseAddress(parts[0], `${where}: subnet ${quote(text)}`);
  const prefix = Number(parts[1]);
  const max = address.family === 4 ? 32 : 128;
  if (prefix > max) {
    throw new FirewallError(`${where}: invalid subnet ${quote(text)}: prefix length ${prefix} is over ${max}`);
  }
  return { family: address.family, text: `${address.text}/${prefix}` };
}

export function checkPort(port: unknown, where: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FirewallError(`${where}: invalid port ${quote(port)}: expected an integer from 1 to 65535`);
  }
  return port;
}

export interface CheckedNetwork {
  id: string;
  bridge: string;
  subnets: Subnet[];
  internal: boolean;
}

export function checkNetwork(n: NetworkFirewall): CheckedNetwork {
  if (typeof n !== 'object' || n === null) throw new FirewallError('network: expected an object');
  const id = checkOwnerId(n.id, 'network');
  const where = `network ${id}`;
  const bridge = checkBridge(n.bridge, where);
  if (!Array.isArray(n.subnets)) throw new FirewallError(`${where}: subnets must be a list of CIDRs`);
  const subnets = n.subnets.map((s) => parseSubnet(s, where));
  if (typeof n.internal !== 'boolean') throw new FirewallError(`${where}: internal must be true or false`);
  return { id, bridge, subnets, internal: n.internal };
}

export interface CheckedForward {
  family: IpFamily;
  proto: 'tcp' | 'udp';
  /** '' for every local address of the family; otherwise one address. */
  hostIp: string;
  hostLoopback: boolean;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  bridge: string;
}

function isLoopback(a: Address): boolean {
  return a.family === 4 ? a.text.startsWith('127.') : /^[0:]*:0*1$/.test(a.text);
}

/**
 * One published port, checked. The family is the container address's; a host address must be of
 * the same family (the kernel cannot translate between them). 0.0.0.0 and :: mean every local
 * address of their family, as they do to docker.
 */
export function checkForward(p: PortForward, containerId: string, index: number): CheckedForward {
  const where = `container ${containerId}: port ${index}`;
  if (typeof p !== 'object' || p === null) throw new FirewallError(`${where}: expected an object`);
  if (p.proto !== 'tcp' && p.proto !== 'udp') {
    throw new FirewallError(`${where}: invalid protocol ${quote(p.proto)}: expected tcp or udp`);
  }
  const containerIp = parseAddress(p.containerIp, `${where}: container address`);
  if (isUnspecified(containerIp)) {
    throw new FirewallError(`${where}: container address ${quote(p.containerIp)} is not one address`);
  }
  if (p.family !== undefined && p.family !== containerIp.family) {
    throw new FirewallError(
      `${where}: family ${quote(p.family)} does not match container address ${quote(p.containerIp)} (IPv${containerIp.family})`,
    );
  }
  let hostIp = '';
  let hostLoopback = false;
  if (p.hostIp !== '') {
    const host = parseAddress(p.hostIp, `${where}: host address`);
    if (host.family !== containerIp.family) {
      throw new FirewallError(
        `${where}: host address ${quote(p.hostIp)} is IPv${host.family} but container address ${quote(p.containerIp)} is IPv${containerIp.family}`,
      );
    }
    if (!isUnspecified(host)) {
      hostIp = host.text;
      hostLoopback = isLoopback(host);
      // The kernel drops a packet from ::1 that would leave by another interface, and IPv6 has
      // no route_localnet to allow it: such a rule could never carry a connection.
      if (hostLoopback && host.family === 6) {
        throw new FirewallError(`${where}: host address ${quote(p.hostIp)}: the kernel cannot forward from IPv6 loopback`);
      }
    }
  }
  return {
    family: containerIp.family,
    proto: p.proto,
    hostIp,
    hostLoopback,
    hostPort: checkPort(p.hostPort, `${where}: host port`),
    containerIp: containerIp.text,
    containerPort: checkPort(p.containerPort, `${where}: container port`),
    bridge: checkBridge(p.bridge, where),
  };
}

/** Every forward checked, and no two catching the same packets. */
export function checkForwards(containerId: string, forwards: PortForward[]): CheckedForward[] {
  if (!Array.isArray(forwards)) throw new FirewallError(`container ${containerId}: ports must be a list`);
  const checked = forwards.map((p, i) => checkForward(p, containerId, i));
  const seen = new Map<string, number>();
  checked.forEach((f, i) => {
    const key = `${f.family}/${f.proto}/${f.hostIp}/${f.hostPort}`;
    const first = seen.get(key);
    if (first !== undefined) {
      const host = f.hostIp === '' ? `every IPv${f.family} address` : f.hostIp;
      throw new FirewallError(
        `container ${containerId}: ports ${first} and ${i} both publish ${f.proto} port ${f.hostPort} on ${host}`,
      );
    }
    seen.set(key, i);
  });
  return checked;
}
