// `update`: runc's flags, or a resources document (-r), turned into an update request.
import { readFileSync } from 'node:fs';
import type { Limits } from '../cgroups/limits.ts';
import { warn } from '../container.ts';
import { SpecError, validateSpec } from '../spec/validate.ts';
import { update, type UpdateRequest } from '../update.ts';
import type { Flag, Values, Verb } from './args.ts';
import type { Context } from './context.ts';

const FLAGS: Flag[] = [
  { name: 'resources', short: 'r', kind: 'string', value: '<file|->', help: 'a JSON file of linux.resources to apply, or - for stdin; every other flag is then ignored' },
  { name: 'blkio-weight', kind: 'string', value: '<n>', help: 'block I/O weight, 10 to 1000' },
  { name: 'cpu-period', kind: 'string', value: '<us>', help: 'CPU CFS period (µs)' },
  { name: 'cpu-quota', kind: 'string', value: '<us>', help: 'CPU CFS quota (µs) per period; -1 for none' },
  { name: 'cpu-burst', kind: 'string', value: '<us>', help: 'CPU CFS burst (µs) allowed beyond the quota' },
  { name: 'cpu-share', kind: 'string', value: '<n>', help: 'CPU shares (relative weight)' },
  { name: 'cpu-rt-period', kind: 'string', value: '<us>', help: 'realtime period (µs)' },
  { name: 'cpu-rt-runtime', kind: 'string', value: '<us>', help: 'realtime runtime (µs) per period' },
  { name: 'cpuset-cpus', kind: 'string', value: '<list>', help: 'CPUs to use (e.g. 0-3,5)' },
  { name: 'cpuset-mems', kind: 'string', value: '<list>', help: 'memory nodes to use' },
  { name: 'cpu-idle', kind: 'string', value: '<0|1>', help: '1 makes the cgroup SCHED_IDLE' },
  { name: 'kernel-memory', kind: 'string', value: '<bytes>', help: 'obsolete, ignored' },
  { name: 'kernel-memory-tcp', kind: 'string', value: '<bytes>', help: 'obsolete, ignored' },
  { name: 'memory', kind: 'string', value: '<bytes>', help: 'memory limit (suffixes k, m, g, ...; -1 for none)' },
  { name: 'memory-reservation', kind: 'string', value: '<bytes>', help: 'memory soft limit' },
  { name: 'memory-swap', kind: 'string', value: '<bytes>', help: 'memory plus swap limit; -1 for unlimited swap' },
  { name: 'pids-limit', kind: 'string', value: '<n>', help: 'maximum number of tasks; -1 for none' },
  { name: 'l3-cache-schema', kind: 'string', value: '<schema>', help: 'Intel RDT/CAT L3 cache schema' },
  { name: 'mem-bw-schema', kind: 'string', value: '<schema>', help: 'Intel RDT/MBA memory bandwidth schema' },
];

const UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * A size as docker's go-units RAMInBytes reads it, which runc uses: a decimal number, an
 * optional space, then b, or k/m/g/t/p (powers of 1024) optionally followed by b or ib, in any
 * case: "512m", "1.5GiB", "100".
 */
export function ramInBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?(?:([kmgtp])(b|ib)?|(b))?$/i.exec(text);
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)}: use a number of bytes with an optional k, m, g, t or p suffix`);
  const mul = m[2] ? UNITS[m[2].toLowerCase()]! : 1;
  return Math.trunc(Number(m[1]) * mul);
}

function integer(flag: string, text: string, min: number): number {
  if (!/^-?\d+$/.test(text)) throw new Error(`invalid value for ${flag}: ${JSON.stringify(text)} is not an integer`);
  const n = Number(text);
  if (n < min) throw new Error(`invalid value for ${flag}: ${text} is below ${min}`);
  return n;
}

function readResources(source: string): Limits {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (e) {
    throw new Error(`--resources ${source}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`--resources ${source}: invalid JSON: ${(e as Error).message}`);
  }
  // the same checks as linux.resources of a config.json (the rest of one, to pass them)
  const shell = { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } } };
  try {
    validateSpec({ ...shell, linux: { resources: value } });
  } catch (e) {
    if (e instanceof SpecError) throw new Error(`--resources ${source}: ${e.message.replace(/^config\.json: /, '')}`);
    throw e;
  }
  return value as Limits;
}

/** runc's reading of the flags: each one given sets its field, the rest stay as they are. */
export function requestFromFlags(f: Record<string, string | undefined>): UpdateRequest {
  const rdt = {
    ...(f.l3CacheSchema ? { l3CacheSchema: f.l3CacheSchema } : {}),
    ...(f.memBwSchema ? { memBwSchema: f.memBwSchema } : {}),
  };
  if (f.resources) return { resources: readResources(f.resources), ...rdt };
  const r: Limits = {};
  const memory = (r.memory = {} as NonNullable<Limits['memory']>);
  const cpu = (r.cpu = {} as NonNullable<Limits['cpu']>);
  if (f.blkioWeight !== undefined) {
    const w = integer('blkio-weight', f.blkioWeight, 0);
    if (w !== 0) r.blockIO = { weight: w };
  }
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.cpuIdle !== undefined) cpu.idle = integer('cpu-idle', f.cpuIdle, -Infinity);
  if (f.cpuBurst !== undefined) cpu.burst = integer('cpu-burst', f.cpuBurst, 0);
  if (f.cpuPeriod !== undefined) cpu.period = integer('cpu-period', f.cpuPeriod, 0);
  if (f.cpuRtPeriod !== undefined) cpu.realtimePeriod = integer('cpu-rt-period', f.cpuRtPeriod, 0);
  if (f.cpuShare !== undefined) cpu.shares = integer('cpu-share', f.cpuShare, 0);
  if (f.cpuQuota !== undefined) cpu.quota = integer('cpu-quota', f.cpuQuota, -Infinity);
  if (f.cpuRtRuntime !== undefined) cpu.realtimeRuntime = integer('cpu-rt-runtime', f.cpuRtRuntime, -Infinity);
  const size = (flag: string, v: string) => {
    if (v === '-1') return -1;
    try {
      return ramInBytes(v);
    } catch (e) {
      throw new Error(`invalid value for ${flag}: ${(e as Error).message}`);
    }
  };
  if (f.memory !== undefined) memory.limit = size('memory', f.memory);
  if (f.memorySwap !== undefined) memory.swap = size('memory-swap', f.memorySwap);
  if (f.memoryReservation !== undefined) memory.reservation = size('memory-reservation', f.memoryReservation);
  if (f.kernelMemory !== undefined) memory.kernel = size('kernel-memory', f.kernelMemory);
  if (f.kernelMemoryTcp !== undefined) memory.kernelTCP = size('kernel-memory-tcp', f.kernelMemoryTcp);
  if (f.pidsLimit !== undefined) r.pids = { limit: integer('pids-limit', f.pidsLimit, -Infinity) };
  return { resources: r, ...rdt };
}

export function verb(ctx: () => Context): Verb {
  return {
    name: 'update',
    args: '<container-id>',
    help: 'update the resource limits of a running or paused container',
    flags: FLAGS,
    min: 1,
    max: 1,
    async run([id], f: Values) {
      const { store } = ctx();
      await update(store, id!, requestFromFlags(f as Record<string, string | undefined>), warn);
    },
  };
}
