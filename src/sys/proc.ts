// Facts about processes from /proc, shared by every layer that records "who holds this".
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined when the process is gone or a zombie. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when pid is still the process that started at `start` (pid reuse gives another start time). */
export function sameProcess(pid: number, start: string): boolean {
  return pid > 0 && processStart(pid) === start;
}
