// `hull update [OPTIONS] CONTAINER...`: new limits and restart policy, docker's flags. A flag's bad
// syntax is docker's client error (exit 125); what the engine refuses is the daemon's (exit 1),
// per container, after the names of those that were updated.
import { reconcile } from '../../engine/containers/lifecycle.ts';
import type { Command } from 'commander';
import { updateContainer, type UpdateRequest } from '../../engine/containers/update.ts';
import { CliError, write } from '../context.ts';
import { goQuote, parseFlagInt, ramInBytes } from '../go-strconv.ts';
import { clientError } from './daemon-error.ts';
import { parseNanoCpus, parseRestartPolicy } from '../container-flags.ts';
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
