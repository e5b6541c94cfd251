// IP address management: which subnet a new network gets (one the host does not route already,
// and no other hull network holds), and which address a container gets inside it.
import { readFileSync } from 'node:fs';
import { randomBytes } from '../../crypto.ts';
import { contains, formatAddress, formatPrefix, isNetworkAddress, last, nth, overlaps, parseAddress, parsePrefix, size, type Address, type Family, type Prefix } from '../../network/cidr.ts';
import type { IpamPool } from './model.ts';

/** docker's default-address-pools: /16s from 172.17/16 to 172.31/16, then /20s of 192.168/16. */
export const DEFAULT_POOLS: { base: string; size: number }[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/13', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** Every subnet of the pools, in order. */
export function* candidates(pools: { base: string; size: number }[]): Generator<Prefix> {
  for (const pool of pools) {
    const base = parsePrefix(pool.base, 'address pool');
    if (pool.size < base.bits) throw new Error(`invalid address pool ${pool.base}: size ${pool.size} is shorter than the pool's prefix`);
    const step = 1n << BigInt((base.family === 4 ? 32 : 128) - pool.size);
    for (let v = nth(base, 0n).value; v <= last(base).value; v += step) yield { family: base.family, value: v, bits: pool.size };
  }
}

/** The prefixes the host routes now (/proc/net/route and ipv6_route), except default routes and those of the given devices. */
export function hostRoutes(except: string[] = []): { prefix: Prefix; dev: string }[] {
  const out: { prefix: Prefix; dev: string }[] = [];
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || except.includes(f[0]!)) continue;
      // little-endian hex words
      const le = (hex: string) => BigInt('0x' + hex.match(/../g)!.reverse().join(''));
      const maskBits = le(f[7]!).toString(2).replace(/0/g, '').length;
      if (maskBits === 0) continue;
      out.push({ prefix: { family: 4, value: le(f[1]!), bits: maskBits }, dev: f[0]! });
    }
  } catch {
    // no IPv4
  }
  try {
    for (const line of readFileSync('/proc/net/ipv6_route', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || except.includes(f[9]!)) continue;
      const bits = parseInt(f[1]!, 16);
      // link-local, multicast and local routes are on every interface
      if (bits === 0 || f[9] === 'lo' || /^(fe80|ff)/.test(f[0]!)) continue;
      out.push({ prefix: { family: 6, value: BigInt('0x' + f[0]), bits }, dev: f[9]! });
    }
  } catch {
    // no IPv6
  }
  return out;
}

/** The first subnet of the pools that overlaps none of the taken ones. */
export function pickSubnet(pools: { base: string; size: number }[], taken: Prefix[], start = 0): Prefix {
  const all = [...candidates(pools)];
  for (let i = 0; i < all.length; i++) {
    const c = all[(start + i) % all.length]!;
    if (!taken.some((t) => overlaps(t, c))) return c;
  }
  throw new Error('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** A unique local IPv6 /64 (RFC 4193: fd00::/8 with 40 random bits), as docker gives a dual-stack network without a v6 subnet. */
export function randomUlaSubnet(): Prefix {
  const bytes = randomBytes(5);
  let v = 0xfdn;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: 6, value: (v << 64n) << 16n, bits: 64 };
}

/** Fills in a pool's gateway (the first host address) and checks what the user gave. */
export function completePool(pool: IpamPool): IpamPool {
  const subnet = parsePrefix(pool.Subnet);
  if (!isNetworkAddress(subnet)) {
    const net = formatPrefix({ ...subnet, value: subnet.value & ~(size(subnet) - 1n) });
    throw new Error(`invalid subnet ${pool.Subnet}: it should be ${net}`);
  }
  if (subnet.family === 4 && subnet.bits > 30) throw new Error(`invalid subnet ${pool.Subnet}: an IPv4 subnet must be /30 or larger`);
  if (subnet.family === 6 && subnet.bits > 126) throw new Error(`invalid subnet ${pool.Subnet}: an IPv6 subnet must be /126 or larger`);
  const out: IpamPool = { Subnet: formatPrefix(subnet) };
  if (pool.IPRange) {
    const range = parsePrefix(pool.IPRange, 'ip-range');
    if (!isNetworkAddress(range)) throw new Error(`invalid ip-range ${pool.IPRange}: it should be ${formatPrefix({ ...range, value: range.value & ~(size(range) - 1n) })}`);
    if (range.family !== subnet.family || range.bits < subnet.bits || !contains(subnet, range)) throw new Error(`no matching subnet for range ${pool.IPRange}`);
    out.IPRange = formatPrefix(range);
  }
  if (pool.Gateway) {
    const gw = parseAddress(pool.Gateway);
    if (!gw) throw new Error(`invalid gateway address ${pool.Gateway}`);
    if (!usable(subnet, gw)) throw new Error(`no matching subnet for gateway ${pool.Gateway}`);
    out.Gateway = formatAddress(gw);
  } else {
    out.Gateway = formatAddress(nth(subnet, 1n));
  }
  return out;
}

/** In the subnet, and neither its network address nor (IPv4) its broadcast address. */
function usable(subnet: Prefix, a: Address): boolean {
  return contains(subnet, a) && a.value !== nth(subnet, 0n).value && !(subnet.family === 4 && a.value === last(subnet).value);
}

/**
 * An address for a container: the one asked for (checked), or the lowest free one of the pool's
 * range. `used` holds the addresses other endpoints have.
 */
export function allocate(pool: IpamPool, used: Set<string>, requested?: string): { address: string; prefixLen: number } {
  const subnet = parsePrefix(pool.Subnet);
  const gateway = pool.Gateway ? formatAddress(parseAddress(pool.Gateway)!) : '';
  if (requested) {
    const a = parseAddress(requested);
    if (!a || a.family !== subnet.family) throw new Error(`invalid IPv${subnet.family} address: ${requested}`);
    const text = formatAddress(a);
    if (!usable(subnet, a)) throw new Error(`Address ${requested} does not belong to the network's subnet ${pool.Subnet}`);
    if (text === gateway || used.has(text)) throw new Error(`Address already in use: ${text}`);
    return { address: text, prefixLen: subnet.bits };
  }
  const range = pool.IPRange ? parsePrefix(pool.IPRange) : subnet;
  const count = size(range);
  // IPv6 subnets are huge: look at no more addresses than there can be endpoints
  const limit = count < 1n << 20n ? count : 1n << 20n;
  for (let i = 0n; i < limit; i++) {
    const a = nth(range, i);
    if (!usable(subnet, a)) continue;
    const text = formatAddress(a);
    if (text !== gateway && !used.has(text)) return { address: text, prefixLen: subnet.bits };
  }
  throw new Error(`no available IPv${subnet.family} addresses on this network's address pools: ${pool.Subnet}`);
}

/** docker's MAC for an IPv4 endpoint: 02:42 and the four address bytes. Random (locally administered) otherwise. */
export function macFor(ipv4: string | undefined): string {
  const bytes = ipv4 ? [0x02, 0x42, ...ipv4.split('.').map(Number)] : [0x02, ...randomBytes(5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function familyOf(pool: IpamPool): Family {
  return parsePrefix(pool.Subnet).family;
}
