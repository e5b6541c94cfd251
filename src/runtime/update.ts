// `update`: new limits for a live container, merged into the ones it was created with and
// kept in its saved config, so that the next update builds on this one.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Limits, ThrottleDevice, WeightDevice } from './cgroups/limits.ts';
import { layout } from './cgroups/manager.ts';
import { applyResources } from './cgroups/resources.ts';
import { loadRdtGroup, resctrlMount, schemataLines, type IntelRdt } from './intel-rdt.ts';
import type { Resources } from './spec/types.ts';
import { status, type StateStore } from './state.ts';

export interface UpdateRequest {
  resources: Limits;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const defined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

function upsert<T extends { major: number; minor: number }>(base: T[] | undefined, patch: T[] | undefined, merge: (a: T, b: T) => T): T[] | undefined {
  if (!patch?.length) return base;
  const out = [...(base ?? [])];
  for (const d of patch) {
    const i = out.findLastIndex((x) => x.major === d.major && x.minor === d.minor);
    if (i >= 0) out[i] = merge(out[i]!, d);
    else out.push(d);
  }
  return out;
}

/**
 * The container's limits after an update, by runc's rules: a field the update gives replaces
 * the old one, one it leaves out keeps its value; device entries are matched by major:minor,
 * huge page limits by size, unified keys by name. Device rules cannot be changed by update
 * (runc ignores them too: containerd sends them back unchanged with every update).
 */
export function mergeLimits(base: Limits, patch: Limits): Limits {
  const out: Limits = structuredClone(base);
  delete (out as Resources).devices;
  const devices = (base as Resources).devices;
  if (patch.memory) {
    out.memory = { ...out.memory, ...defined(patch.memory) };
    // "no memory limit" with swap left out lifts the swap limit too, as runc's update does
    if (patch.memory.limit === -1 && patch.memory.swap === undefined) out.memory.swap = 0;
  }
  if (patch.cpu) {
    const cpu = defined(patch.cpu);
    // an empty cpuset list means "not given" (runc's flags cannot say "none")
    if (cpu.cpus === '') delete cpu.cpus;
    if (cpu.mems === '') delete cpu.mems;
    out.cpu = { ...out.cpu, ...cpu };
  }
  if (patch.pids) out.pids = { ...patch.pids };
  if (patch.blockIO) {
    const p = patch.blockIO;
    const b = (out.blockIO = { ...out.blockIO, ...defined({ weight: p.weight, leafWeight: p.leafWeight }) });
    const wd = upsert<WeightDevice>(b.weightDevice, p.weightDevice, (a, n) => ({ ...a, ...defined(n) }));
    if (wd) b.weightDevice = wd;
    for (const name of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      const td = upsert<ThrottleDevice>(b[name], p[name], (a, n) => ({ ...a, rate: n.rate }));
      if (td) b[name] = td;
    }
  }
  for (const h of patch.hugepageLimits ?? []) {
    const list = (out.hugepageLimits ??= []);
    const i = list.findIndex((x) => x.pageSize === h.pageSize);
    if (i >= 0) list[i] = { ...h };
    else list.push({ ...h });
  }
  if (patch.network) {
    const n = (out.network = { ...out.network, ...defined({ classID: patch.network.classID }) });
    for (const p of patch.network.priorities ?? []) {
      const list = (n.priorities ??= []);
      const i = list.findIndex((x) => x.name === p.name);
      if (i >= 0) list[i] = { ...p };
      else list.push({ ...p });
    }
  }
  if (patch.rdma) out.rdma = { ...out.rdma, ...patch.rdma };
  if (patch.unified) out.unified = { ...out.unified, ...patch.unified };
  if (devices) (out as Resources).devices = devices;
  return out;
}

export async function update(store: StateStore, id: string, req: UpdateRequest, warn: (msg: string) => void): Promise<void> {
  const saved = store.load(id);
  const st = status(store, saved);
  if (st === 'stopped') throw new Error(`cannot update container ${id}: it is stopped`);
  if (st === 'creating') throw new Error(`cannot update container ${id}: it is still being created`);
  const config = structuredClone(saved.config);
  const linux = (config.linux ??= {});
  const merged = mergeLimits((linux.resources ?? {}) as Limits, req.resources);
  linux.resources = merged as Resources;

  let rdtLines: string[] | undefined;
  if (req.l3CacheSchema || req.memBwSchema) {
    for (const [flag, v] of [['l3-cache-schema', req.l3CacheSchema], ['mem-bw-schema', req.memBwSchema]] as const) {
      if (v?.includes('\n')) throw new Error(`--${flag}: one schemata line, without a newline`);
    }
    // runc's order of complaints: what the host lacks, then what the container lacks
    const mount = resctrlMount();
    if (!mount) throw new Error('cannot update Intel RDT: this host has no resctrl filesystem mounted');
    if (req.l3CacheSchema && !isDir(join(mount, 'info', 'L3'))) throw new Error('Intel RDT/CAT: l3 cache schema is not enabled');
    if (req.memBwSchema && !isDir(join(mount, 'info', 'MB'))) throw new Error('Intel RDT/MBA: memory bandwidth schema is not enabled');
    const rdt = linux.intelRdt as IntelRdt | undefined;
    if (!rdt) throw new Error('updating a non-existent Intel RDT configuration is not supported');
    if (req.l3CacheSchema) rdt.l3CacheSchema = req.l3CacheSchema;
    if (req.memBwSchema) rdt.memBwSchema = req.memBwSchema;
    rdtLines = schemataLines(rdt);
  }

  await applyResources(config, { dirs: saved.cgroupDirs, layout: layout(), warn, update: true });
  if (rdtLines) {
    const group = loadRdtGroup(store.dir(id));
    if (!group) throw new Error(`cannot update Intel RDT: container ${id} has no resctrl group recorded`);
    try {
      writeFileSync(join(group.dir, 'schemata'), rdtLines.join('\n') + '\n');
    } catch (e) {
      throw new Error(`cannot write schemata to ${group.dir}: ${(e as Error).message}`);
    }
  }
  saved.config = config;
  store.save(saved);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
