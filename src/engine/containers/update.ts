// `update`: new resource limits and restart policy for a container. The row's HostConfig takes
// them (the next start builds its spec from it); a running container's cgroups change at once
// through the runtime's update. Checks and messages are docker's daemon's: the request's own
// values first (verifyPlatformContainerResources with update=true), then how they sit with the
// container's current ones (UpdateContainer), each prefixed "Cannot update container <id>:".
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Limits } from '../../runtime/cgroups/limits.ts';
import { NotFound } from '../../runtime/state.ts';
import { update as runtimeUpdate } from '../../runtime/update.ts';
import { transaction } from '../../image/store/metadata.ts';
import type { ContainerEnv } from './lifecycle.ts';
import type { Container, HostConfig, RestartPolicy } from './model.ts';
import { runtimeStore } from './runtime-state.ts';

/**
 * The Engine API's UpdateConfig: each resource field left out (or 0, as docker's client sends
 * for a flag not given) keeps its value. PidsLimit 0 or below lifts the limit.
 */
export interface UpdateRequest {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  RestartPolicy?: RestartPolicy;
}

export interface UpdateHost {
  cpuCount: number;
  onlineCpus: string;
  onlineMems: string;
}

const MIN_MEMORY = 6 * 1024 * 1024;

function readOnline(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

export function detectUpdateHost(): UpdateHost {
  return {
    cpuCount: availableParallelism(),
    onlineCpus: readOnline('/sys/devices/system/cpu/online', `0-${availableParallelism() - 1}`),
    onlineMems: readOnline('/sys/devices/system/node/online', '0'),
  };
}

/** docker's ParseUintList: "0-3,5" as a set (empty for ""). */
function parseUintList(value: string): Set<number> {
  const out = new Set<number>();
  if (value === '') return out;
  const invalid = () => new Error(`invalid format: ${value}`);
  for (const part of value.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw invalid();
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw invalid();
    if (hi > 8192) throw new Error('value of out range, maximum is 8192');
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function checkCpuset(value: string | undefined, what: 'cpus' | 'mems', available: string): void {
  if (!value) return;
  let want: Set<number>;
  try {
    want = parseUintList(value);
  } catch (e) {
    throw new Error(`Invalid value ${value} for cpuset ${what}: ${(e as Error).message}`);
  }
  const have = parseUintList(available);
  if ([...want].some((n) => !have.has(n))) {
    throw new Error(`Requested ${what === 'cpus' ? 'CPUs' : 'memory nodes'} are not available - requested ${value}, available: ${available}`);
  }
}

function checkRestartPolicy(p: RestartPolicy | undefined): void {
  if (!p) return;
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (p.MaximumRetryCount !== 0) {
        throw new Error(`invalid restart policy: maximum retry count can only be used with 'on-failure'${p.MaximumRetryCount < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw new Error('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw new Error(`invalid restart policy: unknown policy '${p.Name as string}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** The request's own values, as docker's daemon checks them before looking at the container. */
export function checkUpdate(u: UpdateRequest, host: UpdateHost = detectUpdateHost()): void {
  checkRestartPolicy(u.RestartPolicy);
  const memory = u.Memory ?? 0;
  const swap = u.MemorySwap ?? 0;
  const reservation = u.MemoryReservation ?? 0;
  const nano = u.NanoCpus ?? 0;
  const period = u.CpuPeriod ?? 0;
  const quota = u.CpuQuota ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw new Error('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw new Error('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation > 0 && reservation < MIN_MEMORY) throw new Error('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw new Error('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (nano > 0 && period > 0) throw new Error('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw new Error('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > host.cpuCount * 1e9) {
    throw new Error(`Range of CPUs is from 0.01 to ${host.cpuCount}.00, as there are only ${host.cpuCount} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw new Error('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw new Error('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  checkCpuset(u.CpusetCpus, 'cpus', host.onlineCpus);
  checkCpuset(u.CpusetMems, 'mems', host.onlineMems);
}

/** The container's HostConfig with the update applied, or docker's refusal given what it has now. */
export function mergeUpdate(current: HostConfig, u: UpdateRequest): HostConfig {
  const hc: HostConfig = structuredClone(current);
  const nano = u.NanoCpus ?? 0;
  const period = u.CpuPeriod ?? 0;
  const quota = u.CpuQuota ?? 0;
  // --cpus sets period and quota itself: the two ways of saying it cannot be mixed across updates
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw new Error('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw new Error('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (period > 0 && hc.NanoCpus > 0) throw new Error('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (quota > 0 && hc.NanoCpus > 0) throw new Error('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (u.CpuShares) hc.CpuShares = u.CpuShares;
  if (nano) hc.NanoCpus = nano;
  if (period) hc.CpuPeriod = period;
  if (quota) hc.CpuQuota = quota;
  if (u.CpusetCpus) hc.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) hc.CpusetMems = u.CpusetMems;
  if (u.Memory) {
    // the kernel (v1) keeps memory <= memory+swap: a higher limit needs the swap limit raised with it
    if (u.Memory > hc.MemorySwap && !u.MemorySwap) {
      throw new Error('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    hc.Memory = u.Memory;
  }
  if (u.MemorySwap) hc.MemorySwap = u.MemorySwap;
  if (u.MemoryReservation) hc.MemoryReservation = u.MemoryReservation;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) hc.PidsLimit = u.PidsLimit > 0 ? u.PidsLimit : 0;
  if (u.RestartPolicy?.Name) {
    if (u.RestartPolicy.Name !== 'no' && hc.AutoRemove) throw new Error('Restart policy cannot be updated because AutoRemove is enabled for the container');
    hc.RestartPolicy = { ...u.RestartPolicy };
  }
  return hc;
}

/** What the running container's cgroups get: only the fields the update names, as docker sends them. */
export function limitsOfUpdate(u: UpdateRequest): Limits {
  const out: Limits = {};
  const cpu: NonNullable<Limits['cpu']> = {};
  if (u.CpusetCpus) cpu.cpus = u.CpusetCpus;
  if (u.CpusetMems) cpu.mems = u.CpusetMems;
  if (u.CpuShares) cpu.shares = u.CpuShares;
  let period = 0;
  let quota = 0;
  if (u.NanoCpus) {
    period = 100_000;
    quota = Number((BigInt(u.NanoCpus) * 100_000n) / 1_000_000_000n);
  }
  if (quota === 0 && u.CpuQuota) quota = u.CpuQuota;
  if (period === 0 && u.CpuPeriod) period = u.CpuPeriod;
  if (period) cpu.period = period;
  if (quota) cpu.quota = quota;
  if (Object.keys(cpu).length) out.cpu = cpu;
  const memory: NonNullable<Limits['memory']> = {};
  if (u.Memory) memory.limit = u.Memory;
  if (u.MemoryReservation) memory.reservation = u.MemoryReservation;
  // -1 (unlimited swap) is said to the cgroup too, so the live limit matches the recorded one
  if (u.MemorySwap) memory.swap = u.MemorySwap;
  if (Object.keys(memory).length) out.memory = memory;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) out.pids = { limit: u.PidsLimit > 0 ? u.PidsLimit : -1 };
  return out;
}

/**
 * The cgroup values the container had for the fields an update touched, to put back when the
 * kernel refused part of it (a write before the refused one has already landed). Unset fields
 * go back to the kernel's defaults.
 */
export function restoreLimits(old: HostConfig, u: UpdateRequest, host: UpdateHost): Limits {
  const out: Limits = {};
  const cpu: NonNullable<Limits['cpu']> = {};
  if (u.CpuShares) cpu.shares = old.CpuShares || 1024;
  if (u.CpusetCpus) cpu.cpus = old.CpusetCpus || host.onlineCpus;
  if (u.CpusetMems) cpu.mems = old.CpusetMems || host.onlineMems;
  if (u.NanoCpus || u.CpuQuota || u.CpuPeriod) {
    if (old.NanoCpus) {
      cpu.period = 100_000;
      cpu.quota = Number((BigInt(old.NanoCpus) * 100_000n) / 1_000_000_000n);
    } else {
      cpu.period = old.CpuPeriod || 100_000;
      cpu.quota = old.CpuQuota || -1;
    }
  }
  if (Object.keys(cpu).length) out.cpu = cpu;
  const memory: NonNullable<Limits['memory']> = {};
  if (u.Memory || u.MemorySwap) {
    memory.limit = old.Memory || -1;
    memory.swap = old.MemorySwap > 0 ? old.MemorySwap : old.Memory > 0 && old.MemorySwap === 0 ? old.Memory * 2 : -1;
  }
  if (u.MemoryReservation) memory.reservation = old.MemoryReservation || -1;
  if (Object.keys(memory).length) out.memory = memory;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) out.pids = { limit: old.PidsLimit && old.PidsLimit > 0 ? old.PidsLimit : -1 };
  return out;
}

function isStopped(e: unknown): boolean {
  return e instanceof NotFound || /it is stopped/.test((e as Error).message);
}

export interface UpdateResult {
  warnings: string[];
}

/**
 * docker update for one container. The row changes in one transaction (two updates at once both
 * land); when the running container's cgroups refuse a value, the row goes back to what it was,
 * as docker's daemon restores its backup.
 */
export async function updateContainer(env: ContainerEnv, ref: Container, u: UpdateRequest, host?: UpdateHost): Promise<UpdateResult> {
  checkUpdate(u, host);
  const cannot = (e: unknown) => new Error(`Cannot update container ${ref.Id}: ${(e as Error).message}`);
  const { before, running } = transaction(env.containers.db, () => {
    const c = env.containers.get(ref.Id);
    if (!c) throw new Error(`No such container: ${ref.Id}`);
    if (c.State.Status === 'removing' || c.State.Status === 'dead') throw cannot(new Error('container is marked for removal and cannot be "update"'));
    let hc: HostConfig;
    try {
      hc = mergeUpdate(c.HostConfig, u);
    } catch (e) {
      throw cannot(e);
    }
    env.containers.setHostConfig(c.Id, hc);
    return { before: c.HostConfig, running: c.State.Running && !c.State.Restarting };
  });
  const warnings: string[] = [];
  const limits = limitsOfUpdate(u);
  if (running && Object.keys(limits).length > 0) {
    try {
      await runtimeUpdate(runtimeStore(env), ref.Id, { resources: limits }, (msg) => warnings.push(msg));
    } catch (e) {
      // stopped meanwhile: the record is all there is to change, as for a stopped container
      if (!isStopped(e)) {
        env.containers.setHostConfig(ref.Id, before);
        await runtimeUpdate(runtimeStore(env), ref.Id, { resources: restoreLimits(before, u, host ?? detectUpdateHost()) }, () => {}).catch(() => {});
        throw cannot(e);
      }
    }
  }
  return { warnings };
}
