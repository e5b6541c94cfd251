// Reading what a process, a cgroup and the machine hold in memory, from /proc and /sys.
// All sizes are KiB, as the kernel reports them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessMemory {
  /** Resident set: every page mapped, shared or not. */
  rssKiB: number;
  /** Proportional set: each shared page divided by the number of processes that map it. */
  pssKiB: number;
}

function field(text: string, name: string, where: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} line in ${where}`);
  return Number(m[1]);
}

/** Rss and Pss of a process, from /proc/<pid>/smaps_rollup. */
export function processMemory(pid: number): ProcessMemory {
  const path = `/proc/${pid}/smaps_rollup`;
  const text = readFileSync(path, 'utf8');
  return { rssKiB: field(text, 'Rss', path), pssKiB: field(text, 'Pss', path) };
}

/** VmRSS of a process, from /proc/<pid>/status. */
export function rssOf(pid: number): number {
  const path = `/proc/${pid}/status`;
  return field(readFileSync(path, 'utf8'), 'VmRSS', path);
}

/** MemAvailable of /proc/meminfo: what the machine could still give without swapping. */
export function memAvailableKiB(): number {
  return field(readFileSync('/proc/meminfo', 'utf8'), 'MemAvailable', '/proc/meminfo');
}

export function ppidOf(pid: number): number {
  // The comm in parentheses may hold spaces or parentheses: the fields start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[1]);
}

export function commOf(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/**
 * Memory charged to the cgroup a process is in: memory.usage_in_bytes of its v1 memory
 * controller, or memory.current on cgroup v2. That is its processes' pages, the page cache
 * they brought in first, and the kernel memory allocated for them.
 */
export function cgroupMemoryKiB(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const file = v1
    ? join('/sys/fs/cgroup/memory', v1.split(':')[2]!, 'memory.usage_in_bytes')
    : join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/', 'memory.current');
  return Math.round(Number(readFileSync(file, 'utf8').trim()) / 1024);
}

/** 80 -> "80 KiB", 2030 -> "1.98 MiB", 119603 -> "116.8 MiB". */
export function size(kib: number): string {
  if (Math.abs(kib) < 1024) return `${Math.round(kib)} KiB`;
  const m = kib / 1024;
  return Math.abs(m) < 10 ? `${m.toFixed(2)} MiB` : Math.abs(m) < 1024 ? `${m.toFixed(1)} MiB` : `${(m / 1024).toFixed(2)} GiB`;
}
