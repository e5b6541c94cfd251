// IP addresses and prefixes: Go's net.ParseIP grammar (docker's), and the prefix arithmetic that
// IPAM needs (containment, overlap, the n-th address), on BigInt so IPv4 and IPv6 share one path.

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

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

export interface Prefix extends Address {
  /** The prefix length. */
  bits: number;
}

const width = (f: Family) => (f === 4 ? 32 : 128);

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(a: Address): number[] {
  const out: number[] = [];
  for (let i = width(a.family) / 8 - 1; i >= 0; i--) out.push(Number((a.value >> BigInt(i * 8)) & 0xffn));
  return out;
}

/** An address in Go's grammar; an IPv4-mapped IPv6 address counts as IPv4, as Go's To4 does. */
export function parseAddress(text: string): Address | null {
  const bytes = parseIP(text);
  if (!bytes) return null;
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { family: 4, value: toBigInt(bytes.slice(12)) };
  }
  return { family: bytes.length === 4 ? 4 : 6, value: toBigInt(bytes) };
}

export function formatAddress(a: Address): string {
  return formatIP(toBytes(a));
}

function mask(p: { family: Family; bits: number }): bigint {
  const w = BigInt(width(p.family));
  return ((1n << w) - 1n) ^ ((1n << (w - BigInt(p.bits))) - 1n);
}

/** "a.b.c.d/n" or "v6/n"; what is wrong comes back as the error's text. */
export function parsePrefix(text: string, what = 'subnet'): Prefix {
  const slash = text.indexOf('/');
  const a = slash > 0 ? parseAddress(text.slice(0, slash)) : null;
  const bitsText = text.slice(slash + 1);
  if (!a || !/^\d{1,3}$/.test(bitsText) || Number(bitsText) > width(a.family)) throw new Error(`invalid ${what} ${text}: invalid CIDR address: ${text}`);
  return { ...a, bits: Number(bitsText) };
}

/** The prefix's network: its address with the host bits cleared. */
export function networkOf(p: Prefix): Prefix {
  return { family: p.family, value: p.value & mask(p), bits: p.bits };
}

export function isNetworkAddress(p: Prefix): boolean {
  return (p.value & mask(p)) === p.value;
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p)}/${p.bits}`;
}

export function contains(p: Prefix, a: Address): boolean {
  return p.family === a.family && (a.value & mask(p)) === (p.value & mask(p));
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.bits <= b.bits ? a : b;
  return contains(shorter, a === shorter ? b : a);
}

/** How many addresses the prefix holds. */
export function size(p: Prefix): bigint {
  return 1n << BigInt(width(p.family) - p.bits);
}

/** The prefix's n-th address (0 is the network address). */
export function nth(p: Prefix, n: bigint): Address {
  return { family: p.family, value: (p.value & mask(p)) + n };
}

/** The last address: IPv4's broadcast address. */
export function last(p: Prefix): Address {
  return nth(p, size(p) - 1n);
}
