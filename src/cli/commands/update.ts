// `hull update [OPTIONS] CONTAINER...`: new limits and restart policy, docker's flags. A flag's bad
// syntax is docker's client error (exit 125); what the engine refuses is the daemon's (exit 1),
// per container, after the names of those that were updated.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import type { Command } from 'commander';
import type { RestartPolicy } from '../../engine/containers/model.ts';
import { updateContainer, type UpdateRequest } from '../../engine/containers/update.ts';
import { CliError, write } from '../context.ts';
import { atoi, goQuote, parseFlagInt, ramInBytes } from '../go-strconv.ts';
import { clientError } from './daemon-error.ts';
import type { Verb } from './verb.ts';

// [commander's attribute, flags, help, pflag's name for it in errors]
const FLAGS: [string, string, string, string][] = [
  ['cpuPeriod', '--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', '--cpu-period'],
  ['cpuQuota', '--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', '--cpu-quota'],
  ['cpuShares', '-c, --cpu-shares <int>', 'CPU shares (relative weight)', '-c, --cpu-shares'],
  ['cpus', '--cpus <decimal>', 'Number of CPUs', '--cpus'],
  ['cpusetCpus', '--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)', '--cpuset-cpus'],
  ['cpusetMems', '--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)', '--cpuset-mems'],
  ['memory', '-m, --memory <bytes>', 'Memory limit', '-m, --memory'],
  ['memoryReservation', '--memory-reservation <bytes>', 'Memory soft limit', '--memory-reservation'],
  ['memorySwap', '--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap", '--memory-swap'],
  ['pidsLimit', '--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', '--pids-limit'],
  ['restart', '--restart <string>', 'Restart policy to apply when a container exits', '--restart'],
];

function flagValue<T>(attr: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (e) {
    const label = FLAGS.find((f) => f[0] === attr)?.[3] ?? attr;
    throw new CliError(`invalid argument ${goQuote(value)} for ${goQuote(label)} flag: ${(e as Error).message}`, 125);
  }
}

/** docker's NanoCPUs flag: an exact rational ("1.5", "3/2", "2e-1") times 1e9, which must be whole. */
export function parseNanoCpus(value: string): number {
  let num: bigint;
  let den: bigint;
  const fraction = /^([+-]?\d+)\/(\d+)$/.exec(value);
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
  if (fraction && BigInt(fraction[2]!) !== 0n) {
    num = BigInt(fraction[1]!);
    den = BigInt(fraction[2]!);
  } else if (decimal && (decimal[2] || decimal[3]) && Math.abs(Number(decimal[4] ?? 0)) < 10_000) {
    const [, sign, int = '', frac = '', exp = '0'] = decimal;
    num = BigInt(`${sign}${int}${frac}` || '0');
    den = 10n ** BigInt(frac.length);
    const e = Number(exp);
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    throw new Error(`failed to parse ${value} as a rational number`);
  }
  const scaled = num * 1_000_000_000n;
  if (scaled % den !== 0n) throw new Error('value is too precise');
  const nano = scaled / den;
  if (nano >= 1n << 63n || nano < -(1n << 63n)) throw new Error('value out of range');
  return Number(nano);
}

/** docker's ParseRestartPolicy: "name[:max-retries]"; the name itself is the engine's to check. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  const colon = policy.indexOf(':');
  const name = colon < 0 ? policy : policy.slice(0, colon);
  const count = colon < 0 ? '' : policy.slice(colon + 1);
  if (colon >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let retries = 0;
  if (count !== '') {
    try {
      retries = atoi(count);
    } catch {
      throw new Error('invalid restart policy format: maximum retry count must be an integer');
    }
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: retries };
}

/** The update the flags ask for; a flag not given (or given as 0, as docker's client reads it) changes nothing. */
export function requestFromFlags(opts: Record<string, unknown>): UpdateRequest {
  const str = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
  const bytes = (k: string) => {
    const v = str(k);
    return v === undefined ? undefined : flagValue(k, v, ramInBytes);
  };
  const int = (k: string) => {
    const v = str(k);
    return v === undefined ? undefined : flagValue(k, v, parseFlagInt);
  };
  const u: UpdateRequest = {};
  const memory = bytes('memory');
  if (memory) u.Memory = memory;
  const swap = str('memorySwap');
  if (swap !== undefined) {
    const v = swap === '-1' ? -1 : flagValue('memorySwap', swap, ramInBytes);
    if (v) u.MemorySwap = v;
  }
  const reservation = bytes('memoryReservation');
  if (reservation) u.MemoryReservation = reservation;
  const cpus = str('cpus');
  if (cpus !== undefined) {
    const v = flagValue('cpus', cpus, parseNanoCpus);
    if (v) u.NanoCpus = v;
  }
  for (const [attr, field] of [['cpuShares', 'CpuShares'], ['cpuPeriod', 'CpuPeriod'], ['cpuQuota', 'CpuQuota']] as const) {
    const v = int(attr);
    if (v) u[field] = v;
  }
  const cpusetCpus = str('cpusetCpus');
  if (cpusetCpus) u.CpusetCpus = cpusetCpus;
  const cpusetMems = str('cpusetMems');
  if (cpusetMems) u.CpusetMems = cpusetMems;
  const pids = int('pidsLimit');
  if (pids) u.PidsLimit = pids;
  const restart = str('restart');
  if (restart) u.RestartPolicy = flagValue('restart', restart, parseRestartPolicy);
  return u;
}

export const update: Verb = {
  names: ['update', 'container update'],
  define(cmd: Command) {
    cmd.description('Update configuration of one or more containers').argument('<container...>');
    for (const [, flags, help] of FLAGS) cmd.option(flags, help);
  },
  async run(ctx, args, opts) {
    if (!FLAGS.some(([attr]) => opts[attr] !== undefined)) throw clientError('you must provide one or more flags when using this command');
    const request = requestFromFlags(opts);
    const env = ctx.containerEnv();
    // a container whose monitor died is recorded as stopped first, as ps would show it
    await reconcile(env);
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const ref of args) {
      try {
        const result = await updateContainer(env, env.containers.find(ref), request);
        warnings.push(...result.warnings);
        write(ref);
      } catch (e) {
        errors.push(`Error response from daemon: ${(e as Error).message}`);
      }
    }
    if (warnings.length) process.stderr.write(`${warnings.join('\n')}\n`);
    if (errors.length) {
      process.stderr.write(`${errors.join('\n')}\n`);
      throw new CliError('', 1);
    }
  },
};
