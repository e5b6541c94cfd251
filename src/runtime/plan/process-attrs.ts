// process.ioPriority and process.scheduler as the kernel takes them: ioprio_set(2)'s packed
// value and sched_setattr(2)'s struct sched_attr, which hull-init fills from the op's integers.
import { readFileSync } from 'node:fs';
import type { Process } from '../spec/types.ts';
import { SpecError } from '../spec/validate.ts';

/** linux/ioprio.h: the class sits above 13 bits of class data (the level, 0-7). */
export const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** linux/sched.h policy numbers. 4 was SCHED_ISO in the -ck patches; mainline never had it. */
export const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};

/** linux/sched.h sched_attr.sched_flags bits. */
export const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

export interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

/** OP_IOPRIO's arguments: class, level. */
export function ioprioArgs(io: NonNullable<Process['ioPriority']>): [number, number] {
  const cls = IOPRIO_CLASS[io.class];
  if (cls === undefined) throw new Error(`config.json: process.ioPriority.class: unknown ${io.class}`);
  return [cls, io.priority ?? 0];
}

/** OP_SCHED's arguments: policy, flags, nice, priority, runtime, deadline, period (ns). */
export function schedArgs(s: Scheduler): number[] {
  const policy = SCHED_POLICY[s.policy];
  if (policy === undefined) throw new Error(`config.json: process.scheduler.policy: unknown ${s.policy}`);
  let flags = 0;
  for (const f of s.flags ?? []) {
    const bit = SCHED_FLAG[f];
    if (bit === undefined) throw new Error(`config.json: process.scheduler.flags: unknown ${f}`);
    flags |= bit;
  }
  return [policy, flags, s.nice ?? 0, s.priority ?? 0, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0];
}

/** In words, for the plan step: what an EPERM from sched_setattr most likely means is part of it. */
export function schedWhat(s: Scheduler): string {
  const parts = [s.policy];
  if (s.flags?.length) parts.push(s.flags.join('|'));
  if (s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR') {
    return `set scheduler ${parts.join(' ')} priority ${s.priority ?? 0} (a realtime policy needs CAP_SYS_NICE in the initial user namespace and, ` +
      'where the kernel has RT group scheduling, realtime runtime in the container\'s cpu cgroup: linux.resources.cpu.realtimeRuntime)';
  }
  if (s.policy === 'SCHED_DEADLINE') {
    return `set scheduler ${parts.join(' ')} runtime/deadline/period ${s.runtime ?? 0}/${s.deadline ?? 0}/${s.period ?? 0} ns ` +
      '(SCHED_DEADLINE needs CPU affinity over every CPU, so no linux.resources.cpu.cpus subset, and free deadline bandwidth)';
  }
  return `set scheduler ${parts.join(' ')} nice ${s.nice ?? 0}`;
}

function readInt(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one scheduler rule that depends on the host: a SCHED_DEADLINE period must lie within
 * the kernel's sysctl bounds. Said here, before anything exists, rather than as a bare EINVAL.
 */
export function checkSchedulerHost(proc: Process, file: string, at: string): void {
  const s = proc.scheduler as Scheduler | undefined;
  if (s?.policy !== 'SCHED_DEADLINE') return;
  const field = `${at === '' ? '' : `${at}.`}scheduler.${s.period ? 'period' : 'deadline'}`;
  const period = s.period || s.deadline || 0;
  const min = readInt('/proc/sys/kernel/sched_deadline_period_min_us');
  const max = readInt('/proc/sys/kernel/sched_deadline_period_max_us');
  if (min !== undefined && period < min * 1000) {
    throw new SpecError(file, field, `a deadline period of ${period} ns is below this host's minimum of ${min * 1000} ns (kernel.sched_deadline_period_min_us)`, 'semantic');
  }
  if (max !== undefined && period > max * 1000) {
    throw new SpecError(file, field, `a deadline period of ${period} ns is above this host's maximum of ${max * 1000} ns (kernel.sched_deadline_period_max_us)`, 'semantic');
  }
}
