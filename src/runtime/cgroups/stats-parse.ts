// Parsers for the text of cgroup statistics files, v1 and v2. Pure functions of the text, so
// the v2 ones can be tested on hosts whose cgroup2 tree has no controllers. Counters are
// 64-bit unsigned: bigint throughout, since limits such as 2^63-4096 lose digits as doubles.

export const U64_MAX = (1n << 64n) - 1n;

export class StatsParseError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
  }
}

/**
 * One unsigned value: "max" is the largest u64 (v2 writes it for "no limit"), and a negative
 * number reads as 0 (v1 shows -1 for some unset values), as runc reads them.
 */
export function parseU64(text: string, file: string): bigint {
  const t = text.trim();
  if (t === 'max') return U64_MAX;
  if (/^-\d+$/.test(t)) return 0n;
  if (!/^\d+$/.test(t)) throw new StatsParseError(file, `${JSON.stringify(t)} is not an unsigned integer`);
  const n = BigInt(t);
  if (n > U64_MAX) throw new StatsParseError(file, `${t} does not fit in 64 bits`);
  return n;
}

export function parseI64(text: string, file: string): bigint {
  const t = text.trim();
  if (t === 'max') return (1n << 63n) - 1n;
  if (!/^-?\d+$/.test(t)) throw new StatsParseError(file, `${JSON.stringify(t)} is not an integer`);
  return BigInt(t);
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat), in file order. */
export function parseKeyValues(text: string, file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp === line.length - 1) throw new StatsParseError(file, `line ${JSON.stringify(line)} is not "key value"`);
    out.set(line.slice(0, sp), parseU64(line.slice(sp + 1), file));
  }
  return out;
}

/** A "key value" file's value for key, 0 when the key is absent. */
export function valueOf(text: string, key: string, file: string): bigint {
  for (const line of text.split('\n')) {
    if (line.startsWith(key + ' ')) return parseU64(line.slice(key.length + 1), file);
  }
  return 0n;
}

/** Whitespace-separated numbers (cpuacct.usage_percpu). */
export function parseU64List(text: string, file: string): bigint[] {
  return text.split(/\s+/).filter(Boolean).map((v) => parseU64(v, file));
}

/** cpuset lists: "0-3,8,10-11". */
export function parseCpuList(text: string, file: string): number[] {
  const t = text.trim();
  if (t === '') throw new StatsParseError(file, 'empty');
  const out: number[] = [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new StatsParseError(file, `${JSON.stringify(part)} is not a number or a range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to || to > 0xffff) throw new StatsParseError(file, `bad range ${JSON.stringify(part)}`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

/** cpuacct.usage_all: a "cpu user system" header, then one row per cpu, in ns. */
export function parseUsageAll(text: string, file: string): { user: bigint[]; kernel: bigint[] } {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('cpu user system')) throw new StatsParseError(file, `unexpected header ${JSON.stringify(lines[0])}`);
  const user: bigint[] = [];
  const kernel: bigint[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    user.push(parseU64(f[1]!, file));
    kernel.push(parseU64(f[2]!, file));
  }
  return { user, kernel };
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

/**
 * v1 blkio files: "8:0 Read 1282048" rows (or "8:0 6792" without an op) and a final
 * "Total N" row, which carries nothing per device and is dropped. Returns undefined when the
 * file has no device rows, which tells the caller to try the next source of these numbers.
 */
export function parseBlkio(text: string, file: string): BlkioEntry[] | undefined {
  let out: BlkioEntry[] | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) {
      if (f.length === 2 && f[0] === 'Total') continue;
      throw new StatsParseError(file, `malformed line ${JSON.stringify(line)}`);
    }
    const op = f.length === 4 ? f[2]! : '';
    const value = f.length === 4 ? f[3]! : f[2]!;
    (out ??= []).push({ major: parseU64(f[0]!, file), minor: parseU64(f[1]!, file), op, value: parseU64(value, file) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
export function parseIoStat(text: string, file: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(/\s+/).filter(Boolean);
    if (parts.length < 2) continue;
    const dev = /^(\d+):(\d+)$/.exec(parts[0]!);
    if (!dev) continue;
    const major = parseU64(dev[1]!, file);
    const minor = parseU64(dev[2]!, file);
    for (const item of parts.slice(1)) {
      const eq = item.indexOf('=');
      if (eq < 0) continue;
      const key = item.slice(0, eq);
      const table = key === 'rbytes' || key === 'wbytes' ? bytes : key === 'rios' || key === 'wios' ? ios : undefined;
      if (!table) continue;
      table.push({ major, minor, op: key.startsWith('r') ? 'Read' : 'Write', value: parseU64(item.slice(eq + 1), file) });
    }
  }
  return { bytes, ios };
}

/**
 * Huge page sizes as the hugetlb files name them, from /sys/kernel/mm/hugepages entries
 * ("hugepages-2048kB" is "2MB", "hugepages-1048576kB" is "1GB"), in directory order.
 */
export function hugePageSizes(entries: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const m = /^hugepages-(\d+)kB$/.exec(e);
    if (!m) continue;
    const kb = Number(m[1]);
    out.push(kb >= 1 << 20 ? `${Math.floor(kb / (1 << 20))}GB` : kb >= 1 << 10 ? `${Math.floor(kb / (1 << 10))}MB` : `${kb}KB`);
  }
  return out;
}
