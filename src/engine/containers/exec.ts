// `docker exec`: a new process in a running container, described as docker describes it (the
// container's process from its config.json, with the exec's command, environment, user, working
// directory, terminal and privileges) and run through the runtime's exec plan.
//
// How the process is run depends on what the caller wants of it:
// - in the foreground without a terminal, hull-init stays its parent and reports its exit; the
//   process gets the caller's stdout and stderr (and stdin with -i), so nothing is copied;
// - with a terminal, it runs under a hull-shim of its own, which takes the pty master from the
//   console socket and serves it on an attach socket, as for a container (the caller attaches
//   before the process runs, so that none of its output is lost);
// - detached without a terminal, hull-init lets go of it at once, with /dev/null for stdio.
// In every case the process is in the container's cgroups and namespaces, so it ends with the
// container.
//
// The runtime's own exec (src/runtime/container.ts) always gives the process the runtime's
// stdio and runs no monitor, so the plan is launched here with the runtime's parts.
import { randomBytes } from '../../crypto.ts';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { procsFiles } from '../../runtime/cgroups/manager.ts';
import { describeErrno } from '../../runtime/errno.ts';
import { loadRdtGroup, rdtTasksFiles } from '../../runtime/intel-rdt.ts';
import { LaunchError, launch, type Launched } from '../../runtime/launch.ts';
import { compileExecPlan } from '../../runtime/plan/compile.ts';
import { Op, SyncTag, type PlanOp } from '../../runtime/plan/ops.ts';
import { checkSchedulerHost } from '../../runtime/plan/process-attrs.ts';
import { seccompFilter } from '../../runtime/seccomp/cache.ts';
import { listenerState } from '../../runtime/seccomp/listener.ts';
import { processAttrWrites } from '../../runtime/security/lsm.ts';
import type { Process } from '../../runtime/spec/types.ts';
import { SpecError, validateProcess } from '../../runtime/spec/validate.ts';
import { NotFound, alive, ociState, status, type Saved, type StateStore } from '../../runtime/state.ts';
import { DEFAULT_PATH } from './defaults.ts';
import { CommandError, type ContainerEnv } from './lifecycle.ts';
import type { Container } from './model.ts';
import { ContainerPaths } from './paths.ts';
import { runtimeStore } from './runtime-state.ts';
import { AttachClient, consoleSocketPath, shimStarted, shimWrap } from './shim.ts';
import { containerCapabilities, detectSpecHost } from './spec.ts';
import { resolveUser } from './user.ts';

/** What `docker exec` asks for, in the Engine API's field names (ExecConfig). */
export interface ExecConfig {
  Cmd: string[];
  /** KEY=VALUE overrides the container's; a KEY alone removes it. */
  Env?: string[];
  /** "" for the container's own user. */
  User?: string;
  /** "" for the container's working directory. */
  WorkingDir?: string;
  Privileged?: boolean;
  Tty?: boolean;
  /** The process reads the caller's stdin (docker exec -i). */
  AttachStdin?: boolean;
  /** Run in the background: nobody waits for the process or sees its output. */
  Detach?: boolean;
  /** [rows, columns] of the terminal. */
  ConsoleSize?: [number, number];
}

export interface ExecSession {
  /** The process, as the host sees it. */
  pid: number;
  /** Its exit status, when the caller waits without a terminal (128+n for signal n). */
  exited?: Promise<number>;
  /** With a terminal in the foreground: the attach client of the exec's shim. */
  client?: AttachClient;
  /** Removes what the exec left behind once the caller is done with it. */
  finish(): void;
}

/** docker's errors for a container an exec cannot enter. `ref` is the name the caller used. */
function checkEnterable(store: StateStore, c: Container, ref: string): Saved {
  if (c.State.Paused) throw new Error(`Container ${ref} is paused, unpause the container before exec`);
  if (c.State.Restarting) throw new Error(`Container ${c.Id} is restarting, wait until the container is running`);
  const notRunning = new Error(`container ${c.Id} is not running`);
  if (!c.State.Running) throw notRunning;
  let saved: Saved;
  try {
    saved = store.load(c.Id);
  } catch (e) {
    if (e instanceof NotFound) throw notRunning;
    throw e;
  }
  const st = status(store, saved);
  // frozen by someone else than the engine (hull-runtime pause): the process would freeze too
  if (st === 'paused') throw new Error(`Container ${ref} is paused, unpause the container before exec`);
  if (st !== 'running') throw notRunning;
  return saved;
}

/** docker's ReplaceOrAppendEnvValues: by name, replace or append; a name alone removes it. */
function replaceOrAppend(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e!.split('=', 1)[0]!, i));
  for (const value of overrides) {
    const eq = value.indexOf('=');
    const at = index.get(eq < 0 ? value : value.slice(0, eq));
    if (eq < 0) {
      if (at !== undefined) out[at] = undefined;
    } else if (at !== undefined) out[at] = value;
    else out.push(value);
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * The exec's environment as docker's daemon builds it (PATH, HOSTNAME, TERM for a terminal of
 * its own, then the container's Env, then the exec's), with HOME from the user's passwd entry
 * when none is set, as runc adds it.
 */
export function execEnvironment(c: Container, x: ExecConfig, home: string): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${c.Config.Hostname}`];
  if (x.Tty) base.push('TERM=xterm');
  const env = replaceOrAppend(replaceOrAppend(base, c.Config.Env ?? []), x.Env ?? []);
  const at = env.findIndex((e) => e.startsWith('HOME='));
  if (at < 0) env.push(`HOME=${home}`);
  else if (env[at] === 'HOME=') env[at] = `HOME=${home}`;
  return env;
}

/** The exec's process: the container's (config.json) with docker's overrides. */
export function execProcess(base: Process, c: Container, rootfs: string, x: ExecConfig): Process {
  if (x.Cmd.length === 0 || !x.Cmd[0]) throw new Error('No exec command specified');
  const cwd = x.WorkingDir || base.cwd || '/';
  if (!cwd.startsWith('/')) throw new CommandError('OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown', 126);
  // the user is looked up again, as docker does: the container may have changed its passwd
  let user;
  try {
    user = resolveUser(rootfs, x.User || c.Config.User || '', c.HostConfig.GroupAdd);
  } catch (e) {
    throw new CommandError((e as Error).message, 126);
  }
  const p: Process = structuredClone(base);
  delete p.commandLine;
  delete p.consoleSize;
  p.args = [...x.Cmd];
  p.env = execEnvironment(c, x, user.home);
  p.cwd = cwd;
  p.terminal = !!x.Tty;
  p.user = { ...p.user, uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  if (x.Tty && x.ConsoleSize) p.consoleSize = { height: x.ConsoleSize[0], width: x.ConsoleSize[1] };
  if (x.Privileged) {
    const all = containerCapabilities({ Privileged: true, CapAdd: null, CapDrop: null }, detectSpecHost().capabilities);
    p.capabilities = { ...p.capabilities, bounding: [...all], effective: [...all], permitted: [...all] };
  }
  try {
    return validateProcess(p, 'exec');
  } catch (e) {
    if (e instanceof SpecError) throw new CommandError(`OCI runtime exec failed: exec failed: ${e.message}: unknown`, 126);
    throw e;
  }
}

/**
 * Docker's words for a process that could not be started: 127 when not found, else 126. A
 * container that stopped meanwhile (its namespaces gone) is just not running.
 */
function translateLaunchError(e: unknown, c: Container, saved: Saved): Error {
  if (!alive(saved)) return new Error(`container ${c.Id} is not running`);
  const prefix = 'OCI runtime exec failed: exec failed: unable to start container process:';
  if (!(e instanceof LaunchError)) {
    if (e instanceof CommandError) return e;
    return new CommandError(`${prefix} ${(e as Error).message}: unknown`, 126);
  }
  if (e.step.startsWith('find ')) {
    const file = e.step.slice(5);
    if (e.errno === 2) {
      const why = file.includes('/') ? `stat ${file}: no such file or directory` : 'executable file not found in $PATH';
      return new CommandError(`${prefix} exec: "${file}": ${why}: unknown`, 127);
    }
    if (e.errno === 13) return new CommandError(`${prefix} exec: "${file}": permission denied: unknown`, 126);
    return new CommandError(`${prefix} exec: "${file}": ${describeErrno(e.errno)}: unknown`, 126);
  }
  if (e.step.startsWith('change to cwd ')) {
    const dir = e.step.slice('change to cwd '.length);
    return new CommandError(`${prefix} chdir to cwd ("${dir}") set in config.json failed: ${describeErrno(e.errno)}: unknown`, 126);
  }
  return new CommandError(`${prefix} ${e.message}: unknown`, 126);
}

/** The tag of the sync point at which a terminal exec waits for its caller to attach. */
const ATTACH_SYNC = 100;

/** Holds the process before it reports ready (and so before it runs) until onSync lets it go. */
function withAttachPoint(plan: PlanOp[]): PlanOp[] {
  const at = plan.findIndex((op) => op.op === Op.READY);
  if (at < 0) throw new Error('exec plan without a ready step');
  return [...plan.slice(0, at), { op: Op.SYNC, args: [ATTACH_SYNC], what: 'wait for the exec client to attach' }, ...plan.slice(at)];
}

function warn(msg: string): void {
  process.stderr.write(`hull: warning: ${msg}\n`);
}

/** sun_path holds 108 bytes; hull-init reaches a longer path through its cwd, the shim's dir. */
function consoleSocketFor(dir: string): string {
  const path = consoleSocketPath(dir);
  return Buffer.byteLength(path) < 108 ? path : '/proc/self/cwd/console.sock';
}

/**
 * Starts x in the running container c (`ref` is the name the caller gave it, for docker's
 * messages). Errors of the process itself (not found, cannot run, no such user, bad working
 * directory) are CommandErrors with docker's status 126 or 127.
 */
export async function execInContainer(env: ContainerEnv, c: Container, x: ExecConfig, ref: string = c.Id): Promise<ExecSession> {
  const store = runtimeStore(env);
  const saved = checkEnterable(store, c, ref);
  const paths = new ContainerPaths(env.roots, c.Id);
  const proc = execProcess(saved.config.process ?? { cwd: '/', user: { uid: 0, gid: 0 } }, c, saved.rootfs || paths.merged, x);
  checkSchedulerHost(proc, 'exec', 'process');
  const seccompSpec = saved.config.linux?.seccomp;
  const seccomp = seccompSpec ? seccompFilter(store.root, seccompSpec, warn) : undefined;
  const onSeccompSync = (pid: number) => listenerState(seccompSpec, { ...ociState(store, saved), status: 'running' }, pid);
  const tty = !!x.Tty;
  // a terminal needs a monitor to hold its pty master: the exec's own shim, in a dir of its own
  const dir = tty ? join(paths.runDir, 'exec', randomBytes(8).toString('hex')) : undefined;
  const compile = (consoleSocket?: string) => compileExecPlan({
    process: proc,
    pid: saved.pid,
    namespaces: (saved.config.linux?.namespaces ?? []).map((n) => n.type),
    cgroupProcs: procsFiles(saved.cgroupDirs),
    ...(consoleSocket ? { consoleSocket } : {}),
    extraFds: 0,
    listenFds: 0,
    // under a shim, hull-init lets go and the process becomes the shim's (its subreaper)
    wait: !x.Detach && !tty,
    lsmAttrs: processAttrWrites(proc, 'exec', 'process'),
    // as runc: an exec'd process joins the container's resctrl group too
    rdtTasks: rdtTasksFiles(loadRdtGroup(store.dir(c.Id))),
    ...(seccomp ? { seccomp } : {}),
  });

  if (!dir) {
    let launched: Launched;
    try {
      launched = await launch({
        plan: compile(),
        stdio: x.Detach ? ['ignore', 'ignore', 'ignore'] : [x.AttachStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
        async onSync(tag, pid) {
          if (tag === SyncTag.SECCOMP_LISTENER) return onSeccompSync(pid);
        },
      });
    } catch (e) {
      throw translateLaunchError(e, c, saved);
    }
    if (x.Detach) {
      launched.unref();
      return { pid: launched.pid, finish() {} };
    }
    return { pid: launched.pid, exited: launched.exited, finish() {} };
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let client: AttachClient | undefined;
  const attach = !x.Detach;
  try {
    const wrap = shimWrap({ id: c.Id, dir, terminal: true, openStdin: attach && !!x.AttachStdin, stdinOnce: false, exitCommand: [] });
    const plan = compile(consoleSocketFor(dir));
    const launched = await launch({
      plan: attach ? withAttachPoint(plan) : plan,
      stdio: wrap.stdio,
      wrap: { command: wrap.command, args: wrap.args },
      async onSync(tag, pid) {
        if (tag === SyncTag.SECCOMP_LISTENER) return onSeccompSync(pid);
        if (tag === ATTACH_SYNC) client = await AttachClient.connect(dir, { stdin: !!x.AttachStdin });
      },
    });
    shimStarted(launched, launched.pid);
    launched.unref();
    const remove = () => rmSync(dir, { recursive: true, force: true });
    // detached, the shim keeps its dir (and exit record) until the container's run dir goes
    return { pid: launched.pid, ...(client ? { client } : {}), finish: attach ? remove : () => {} };
  } catch (e) {
    client?.close();
    rmSync(dir, { recursive: true, force: true });
    throw translateLaunchError(e, c, saved);
  }
}
