// The OCI lifecycle: create, start, kill, delete, exec. The CLI verbs are thin wrappers.
import { closeSync, constants, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freeze, freezerOf, thaw } from './cgroups/freezer.ts';
import { cgroupPids, createCgroups, layout, procsFiles, removeCgroups, resolveCgroupDirs } from './cgroups/manager.ts';
import { applyResources } from './cgroups/resources.ts';
import { signalAll } from './cgroups/signal.ts';
import { runHooks } from './hooks.ts';
import { checkIntelRdt, loadRdtGroup, rdtTasksFiles, setupIntelRdt, teardownIntelRdt, type RdtGroup } from './intel-rdt.ts';
import { launch, type Launched } from './launch.ts';
import { NS_PROC_NAME, compileCreatePlan, compileExecPlan, type HostFacts } from './plan/compile.ts';
import { SyncTag } from './plan/ops.ts';
import { seccompFilter } from './seccomp/cache.ts';
import { listenerState } from './seccomp/listener.ts';
import { checkSchedulerHost } from './plan/process-attrs.ts';
import { checkMountLabel, processAttrWrites } from './security/lsm.ts';
import type { NamespaceType, Process, Spec, State } from './spec/types.ts';
import { RLIMITS, parseSpecFile, sysctlNamespace } from './spec/validate.ts';
import { NotFound, alive, ociState, ownerOf, status, type Saved, type StateStore } from './state.ts';
import { processStart } from '../sys/proc.ts';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** Foreground run: hull-init stays as the container's parent and reports its exit. */
  wait?: boolean;
  /**
   * The engine's monitor: hull-init runs under it (see LaunchOptions.wrap), and the
   * monitor gets these fds 0-2 instead of ours; it makes the container's own stdio.
   */
  wrap?: { command: string; args: string[]; stdio: ('pipe' | 'ignore' | 'inherit' | number)[] };
}

const hostFacts = (cgroupDirs: string[]): HostFacts => ({
  stat(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  },
  cgroupDirs,
  cgroupMounts: cgroupMountsFor(cgroupDirs),
});

function cgroupMountsFor(dirs: string[]): { mountpoint: string; version: 1 | 2 }[] {
  const lay = layout();
  return dirs.map((d) => {
    const h = lay.hierarchies.find((x) => d === x.mountpoint || d.startsWith(x.mountpoint + '/'));
    return { mountpoint: h?.mountpoint ?? d, version: h?.version ?? 2 };
  });
}

function loadBundle(bundle: string): { spec: Spec; rootfs: string } {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const spec = parseSpecFile(text);
  const root = spec.root?.path;
  if (!root) throw new Error('config.json: root.path: required');
  const rootfs = resolve(bundle, root);
  let isDir = false;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new Error(`config.json: root.path: ${rootfs} is not a directory`);
  return { spec, rootfs };
}

/**
 * A sysctl written in a namespace that is joined by path and turns out to be the runtime's
 * own (the host's) would change the host: refuse it, as runc does for net.* sysctls.
 */
function refuseHostNamespaceSysctls(spec: Spec): void {
  const keys = Object.keys(spec.linux?.sysctl ?? {});
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    const key = keys.find((k) => sysctlNamespace(k) === ns.type);
    if (key === undefined) continue;
    let joined, own;
    try {
      joined = statSync(ns.path);
      own = statSync(`/proc/self/ns/${NS_PROC_NAME[ns.type]}`);
    } catch {
      continue; // a missing path is reported when the namespace is joined
    }
    if (joined.dev === own.dev && joined.ino === own.ino) {
      throw new Error(`config.json: linux.sysctl: ${key}: not allowed in the host's ${ns.type} namespace (${ns.path})`);
    }
  }
}

/**
 * A hard rlimit above the runtime's own can only be set with CAP_SYS_RESOURCE. Without it
 * (root on some hosts lacks it) setrlimit fails with a bare EPERM deep in hull-init, so say
 * why here, before anything is created.
 */
function checkRlimits(proc: Process | undefined, where: string): void {
  if (!proc?.rlimits?.length) return;
  let rows: string[];
  let capEff: bigint;
  try {
    rows = readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1);
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    capEff = m ? BigInt('0x' + m[1]) : 0n;
  } catch {
    return; // hull-init reports the failure, if there is one
  }
  if (capEff & (1n << 24n)) return; // CAP_SYS_RESOURCE
  proc.rlimits.forEach((r, i) => {
    // "Max open files            1024                 20000                files", in resource order
    const hardText = rows[RLIMITS.indexOf(r.type as (typeof RLIMITS)[number])]?.trim().split(/\s{2,}/)[2];
    if (!hardText || hardText === 'unlimited') return;
    const hard = Number(hardText);
    if (Number.isFinite(hard) && r.hard > hard) {
      throw new Error(
        `${where}: process.rlimits[${i}]: ${r.type} hard limit ${r.hard} is above this host's hard limit ${hard}, ` +
          'and raising a hard limit needs CAP_SYS_RESOURCE, which hull-runtime does not have',
      );
    }
  });
}

/** The number of fds handed over by socket activation (systemd's LISTEN_FDS protocol). */
function listenFdsFromEnv(): number {
  const n = Number(process.env.LISTEN_FDS ?? '0');
  if (!Number.isInteger(n) || n <= 0) return 0;
  // sd_listen_fds(3), and runc through go-systemd: the fds are ours only if LISTEN_PID names
  // this process; otherwise the variables were inherited from some ancestor that got them.
  return process.env.LISTEN_PID === String(process.pid) ? n : 0;
}

function namespaceTypes(spec: Spec): NamespaceType[] {
  return (spec.linux?.namespaces ?? []).map((n) => n.type);
}

function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${Date.now()}.${process.pid}.pid`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

export async function create(store: StateStore, o: CreateOptions): Promise<{ saved: Saved; launched: Launched }> {
  const bundle = resolve(o.bundle);
  const { spec, rootfs } = loadBundle(bundle);
  refuseHostNamespaceSysctls(spec);
  checkRlimits(spec.process, 'config.json');
  if (spec.process?.terminal && !o.consoleSocket) {
    throw new Error('cannot allocate a terminal without --console-socket (process.terminal is true)');
  }
  if (o.consoleSocket && !spec.process?.terminal) {
    // runc refuses this too: nothing would ever be sent to the socket's peer
    throw new Error('cannot use --console-socket: process.terminal is false');
  }
  // What this host cannot apply (AppArmor, SELinux, resctrl, deadline bounds) fails here, before anything exists.
  const lsmAttrs = spec.process ? processAttrWrites(spec.process, 'config.json', 'process') : [];
  checkMountLabel(spec);
  if (spec.process) checkSchedulerHost(spec.process, 'config.json', 'process');
  const rdtMount = checkIntelRdt(spec);
  const seccomp = spec.linux?.seccomp ? seccompFilter(store.root, spec.linux.seccomp, warn) : undefined;
  trace('create: config validated');
  const dir = store.claim(o.id);
  let saved: Saved | undefined;
  let cgroupCreated: string[] = [];
  let resolvedDirs: string[] = [];
  let launched: Launched | undefined;
  let pid = 0;
  let hooksRan = false;
  try {
    const cgroupDirs = resolveCgroupDirs(spec.linux?.cgroupsPath, o.id);
    resolvedDirs = cgroupDirs;
    cgroupCreated = createCgroups(cgroupDirs).created;
    await applyResources(spec, { dirs: cgroupDirs, layout: layout(), warn });
    trace('create: cgroups made');
    const rdt: RdtGroup | undefined = rdtMount ? setupIntelRdt(spec, o.id, rdtMount, dir) : undefined;
    saved = {
      id: o.id,
      pid: 0,
      pidStart: '',
      bundle,
      rootfs,
      created: new Date().toISOString(),
      owner: ownerOf(bundle),
      creating: true,
      cgroupDirs,
      cgroupCreated,
      config: spec,
    };
    store.save(saved);
    const listenFds = listenFdsFromEnv();
    const extraFds = listenFds + (o.preserveFds ?? 0);
    const plan = compileCreatePlan({
      spec,
      rootfs,
      fifo: join(dir, 'exec.fifo'),
      cgroupProcs: procsFiles(cgroupDirs),
      ...(o.consoleSocket ? { consoleSocket: resolve(o.consoleSocket) } : {}),
      noPivot: !!o.noPivot,
      extraFds,
      listenFds,
      wait: !!o.wait,
      host: hostFacts(cgroupDirs),
      lsmAttrs,
      rdtTasks: rdtTasksFiles(rdt),
      ...(seccomp ? { seccomp } : {}),
    });
    const stdio: ('pipe' | 'ignore' | 'inherit' | number)[] = o.wrap ? [...o.wrap.stdio] : ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < 3 + extraFds; fd++) stdio.push(fd);
    const current = saved;
    trace('create: plan compiled');
    launched = await launch({
      plan,
      stdio,
      ...(o.wrap ? { wrap: { command: o.wrap.command, args: o.wrap.args } } : {}),
      onPid(p) {
        trace('create: container process cloned');
        pid = p;
        current.pid = p;
        current.pidStart = processStart(p) ?? '';
        store.save(current);
      },
      async onSync(tag) {
        if (tag === SyncTag.SECCOMP_LISTENER) {
          return listenerState(spec.linux?.seccomp, { ...ociState(store, current), status: 'creating', pid }, pid);
        }
        if (tag !== SyncTag.CREATE_HOOKS) return;
        hooksRan = true;
        const state: State = { ...ociState(store, current), status: 'creating', pid };
        await runHooks('prestart', spec.hooks?.prestart, state);
        await runHooks('createRuntime', spec.hooks?.createRuntime, state);
        await runHooks('createContainer', spec.hooks?.createContainer, state, { pid, namespaces: namespaceTypes(spec) });
      },
    });
    trace('create: container ready');
    delete saved.creating;
    store.save(saved);
    trace('create: state saved');
    if (o.pidFile) writePidFile(o.pidFile, saved.pid);
    return { saved, launched };
  } catch (e) {
    // hull-init itself joined the cgroups too (and waits there in foreground mode)
    const left = await teardown(pid > 0 ? pid : undefined, resolvedDirs, cgroupCreated);
    if (hooksRan && saved) await runPoststop(store, saved).catch(() => {});
    removeIntelRdt(dir, true);
    store.remove(o.id);
    if (left.length > 0) warn(`could not remove cgroups ${left.join(', ')}`);
    throw e;
  }
}

export async function start(store: StateStore, id: string): Promise<void> {
  const saved = store.load(id);
  const st = status(store, saved);
  if (st !== 'created') {
    throw new Error(st === 'stopped' ? `cannot start a container that has stopped` : `cannot start a container in the ${st} state`);
  }
  const spec = saved.config;
  const state: State = { ...ociState(store, saved), status: 'created' };
  if (spec.hooks?.startContainer?.length) {
    try {
      await runHooks('startContainer', spec.hooks.startContainer, state, { pid: saved.pid, namespaces: namespaceTypes(spec) });
    } catch (e) {
      await killAndWait([saved.pid, ...cgroupPids(saved.cgroupDirs)]);
      throw e;
    }
  }
  const fifo = store.fifo(id);
  // poststart runs "after the user-specified process is executed": note what the blocked init
  // runs now (hull-init), so that we can tell when it has exec'd the user's program.
  const initExe = spec.hooks?.poststart?.length ? exeOf(saved.pid) : undefined;
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`cannot start container ${id}: its init process is gone (${(e as Error).message})`);
  }
  try {
    writeSync(fd, '0');
  } finally {
    closeSync(fd);
  }
  try {
    unlinkSync(fifo);
  } catch (e) {
    // a container that ran and exited at once may already have been deleted (its exit command did it)
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (initExe !== undefined) await waitForExec(saved.pid, initExe);
  for (const hook of spec.hooks?.poststart ?? []) {
    await runHooks('poststart', [hook], { ...state, status: 'running' }).catch((e: Error) => warn(e.message));
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Waits until pid runs something else than exe (it exec'd), or is gone. */
async function waitForExec(pid: number, exe: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    const now = exeOf(pid);
    if (now === undefined || now !== exe) return;
    await sleep(delay);
  }
}

function signalNumber(sig: string): number {
  const s = sig.toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new Error(`invalid signal ${sig}`);
    return n;
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (n === undefined) throw new Error(`unknown signal ${JSON.stringify(sig)}`);
  return n;
}

export async function kill(store: StateStore, id: string, signal: string, all: boolean): Promise<void> {
  const saved = store.load(id);
  const sig = signalNumber(signal);
  const st = status(store, saved);
  if (all) {
    // as runc: with --all, what is left in a stopped container's cgroup is signalled too
    await signalAll(saved.cgroupDirs, sig, warn);
    return;
  }
  if (st === 'stopped') throw new Error('container not running');
  try {
    process.kill(saved.pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
  // a task frozen by the v1 freezer acts on SIGKILL only once thawed; other signals wait for resume
  if (st === 'paused' && sig === osConstants.signals.SIGKILL) {
    const f = freezerOf(saved.cgroupDirs);
    if (f) thaw(f);
  }
}

/** Freezes every process of a created or running container (runc pauses created ones too). */
export async function pause(store: StateStore, id: string): Promise<void> {
  const saved = store.load(id);
  const st = status(store, saved);
  if (st !== 'running' && st !== 'created') throw new Error('container not running');
  const f = freezerOf(saved.cgroupDirs);
  if (!f) throw new Error(`cannot pause container ${id}: it has no freezer cgroup (neither the v1 freezer controller nor cgroup.freeze)`);
  await freeze(f);
}

export function resume(store: StateStore, id: string): void {
  const saved = store.load(id);
  if (status(store, saved) !== 'paused') throw new Error('container not paused');
  thaw(freezerOf(saved.cgroupDirs)!);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILL the given processes and wait until none is left (zombies count as gone). */
async function killAndWait(pids: number[], timeoutMs = 10_000): Promise<void> {
  const starts = pids.map((p) => processStart(p));
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 50)) {
    if (pids.every((p, i) => starts[i] === undefined || processStart(p) !== starts[i])) return;
    await sleep(delay);
  }
}

/**
 * Kills whatever is left of a container (its init and everything in its cgroups, hull-init
 * included) and removes the cgroups create made. Returns the cgroup directories still busy.
 */
async function teardown(pid: number | undefined, dirs: string[], created: string[]): Promise<string[]> {
  const pids = cgroupPids(dirs);
  if (pid !== undefined || pids.length > 0) {
    // the whole cgroup at once, so that nothing forks away meanwhile, and thawed if paused
    await signalAll(dirs, osConstants.signals.SIGKILL, warn).catch((e: Error) => warn(e.message));
    await killAndWait([...(pid !== undefined ? [pid] : []), ...new Set([...pids, ...cgroupPids(dirs)])]);
  }
  let left = removeCgroups(created, dirs);
  for (let i = 0; left.length > 0 && i < 100; i++) {
    // an exiting process leaves its cgroup a moment after it is reaped
    await sleep(10);
    left = removeCgroups(created, dirs);
  }
  return left;
}

async function runPoststop(store: StateStore, saved: Saved): Promise<void> {
  const state = { ...ociState(store, saved), status: 'stopped' as const };
  delete state.pid;
  for (const hook of saved.config.hooks?.poststop ?? []) {
    await runHooks('poststop', [hook], state).catch((e: Error) => warn(e.message));
  }
}

/** Returns whether the container had saved state, whose cgroups this has removed. */
export async function remove(store: StateStore, id: string, force: boolean): Promise<boolean> {
  let saved: Saved;
  try {
    saved = store.load(id);
  } catch (e) {
    if (e instanceof NotFound && store.exists(id)) {
      // A create that died before its first save, or native/front.c's delete handing over
      // the resctrl group it does not know: nothing else is left to clear.
      removeIntelRdt(store.dir(id), false);
      store.remove(id);
      return false;
    }
    if (e instanceof NotFound && force) return false;
    throw e;
  }
  const st = status(store, saved);
  if ((st === 'running' || st === 'paused') && !force) throw new Error(`cannot delete container ${id} that is not stopped: ${st}`);
  const left = await teardown(alive(saved) ? saved.pid : undefined, saved.cgroupDirs, saved.cgroupCreated);
  if (left.length > 0) throw new Error(`cannot remove cgroups of ${id}: ${left.join(', ')} still busy`);
  removeIntelRdt(store.dir(id), false);
  await runPoststop(store, saved);
  store.remove(id);
  return true;
}

/** A resctrl group that will not go is reported, not fatal: the container is gone either way. */
function removeIntelRdt(stateDir: string, failedCreate: boolean): void {
  try {
    teardownIntelRdt(stateDir, failedCreate);
  } catch (e) {
    warn(`could not remove the resctrl group: ${(e as Error).message}`);
  }
}

export interface ExecOptions {
  process: Process;
  consoleSocket?: string;
  pidFile?: string;
  detach?: boolean;
  preserveFds?: number;
}

export async function exec(store: StateStore, id: string, o: ExecOptions): Promise<number> {
  const saved = store.load(id);
  const st = status(store, saved);
  if (st === 'stopped') throw new Error('cannot exec in a stopped container');
  // the new process would join a frozen cgroup and freeze before it ran
  if (st === 'paused') throw new Error('cannot exec in a paused container (resume it first)');
  if (o.process.terminal && !o.consoleSocket) throw new Error('cannot allocate a terminal without --console-socket');
  if (o.consoleSocket && !o.process.terminal) throw new Error('cannot use --console-socket without a terminal (-t or process.terminal)');
  checkRlimits(o.process, 'exec');
  checkSchedulerHost(o.process, 'exec', 'process');
  const lsmAttrs = processAttrWrites(o.process, 'exec', 'process');
  const seccompSpec = saved.config.linux?.seccomp;
  const seccomp = seccompSpec ? seccompFilter(store.root, seccompSpec, warn) : undefined;
  const listenFds = listenFdsFromEnv();
  const extraFds = listenFds + (o.preserveFds ?? 0);
  const plan = compileExecPlan({
    process: o.process,
    pid: saved.pid,
    namespaces: namespaceTypes(saved.config),
    cgroupProcs: procsFiles(saved.cgroupDirs),
    ...(o.consoleSocket ? { consoleSocket: resolve(o.consoleSocket) } : {}),
    extraFds,
    listenFds,
    wait: !o.detach,
    lsmAttrs,
    // as runc: an exec'd process joins the container's resctrl group too
    rdtTasks: rdtTasksFiles(loadRdtGroup(store.dir(id))),
    ...(seccomp ? { seccomp } : {}),
  });
  const stdio: ('inherit' | number)[] = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < 3 + extraFds; fd++) stdio.push(fd);
  const launched = await launch({
    plan,
    stdio,
    async onSync(tag, pid) {
      // runc's container process state for an exec'd process: its pid, the container running
      if (tag === SyncTag.SECCOMP_LISTENER) return listenerState(seccompSpec, { ...ociState(store, saved), status: 'running' }, pid);
    },
  });
  if (o.pidFile) writePidFile(o.pidFile, launched.pid);
  if (o.detach) return 0;
  forwardSignals(launched);
  return launched.exited;
}

/** Passes the signals a user sends to the foreground runtime on to the container. */
export function forwardSignals(l: Launched): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
    process.on(sig, () => {
      l.kill(sig);
    });
  }
}

let debugSink: ((msg: string) => void) | undefined;
export function setDebugSink(f: (msg: string) => void): void {
  debugSink = f;
}

/** With --debug: how far into the process each step of create got, in ms. */
function trace(step: string): void {
  debugSink?.(`${step} at ${performance.now().toFixed(1)} ms`);
}

export function warn(msg: string): void {
  warnSink(msg);
}

let warnSink: (msg: string) => void = (msg) => process.stderr.write(`hull-runtime: warning: ${msg}\n`);
export function setWarnSink(f: (msg: string) => void): void {
  warnSink = f;
}
