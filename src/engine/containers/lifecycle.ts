// A container's life, as the engine runs it: create (a row, its layer and volumes), start (mount,
// spec, the runtime under a hull-shim), and the cleanup that the shim's exit command, a foreground
// run or the next command's reconcile performs once the container's process is gone.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { transaction } from '../../image/store/metadata.ts';
import { parseImageConfig } from '../../image/manifest.ts';
import type { ImageRecord, ImageStore } from '../../image/store/image-store.ts';
import { create as runtimeCreate, kill as runtimeKill, remove as runtimeRemove, resume as runtimeResume, start as runtimeStart } from '../../runtime/container.ts';
import { LaunchError } from '../../runtime/launch.ts';
import { NotFound, StateStore, type Saved } from '../../runtime/state.ts';
import { processStart, sameProcess } from '../../sys/proc.ts';
import { parseBytes } from '../units.ts';
import type { VolumeStore } from '../volumes.ts';
import { writeEtcFiles } from './etc-files.ts';
import { DEFAULT_SHM_SIZE } from './defaults.ts';
import { checkCommand, mergeImageConfig } from './image-config.ts';
import { emptyState, type Container, type ContainerConfig, type HostConfig } from './model.ts';
import { isDirectory, resolveMounts, specMounts } from './mounts.ts';
import { ContainerPaths, runtimeRoot, type EngineRoots } from './paths.ts';
import { makeInitLayer, mountRootfs, unmountRootfs } from './rootfs.ts';
import { hullBinary } from './self.ts';
import { AttachClient, consoleSocketPath, readExit, shimStarted, shimWrap, tiniBinary, type AttachOptions } from './shim.ts';
import { buildSpec, checkHostConfig } from './spec.ts';
import { resolveInRoot } from './user.ts';
import { ContainerStore, checkName, newContainerId } from './store.ts';

export interface ContainerEnv {
  images: ImageStore;
  containers: ContainerStore;
  volumes: VolumeStore;
  roots: EngineRoots;
}

/** An error of the container's command itself: docker's 126 (cannot invoke) and 127 (not found). */
export class CommandError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  image: ImageRecord;
}

const now = () => new Date().toISOString();

export function createContainer(env: ContainerEnv, req: CreateRequest): Container {
  const image = parseImageConfig(env.images.content.read(req.image.id));
  const config = mergeImageConfig(req.config, image.config ?? {});
  const id = newContainerId();
  const hc = req.hostConfig;
  // docker's client sends "default" and ""; until bridge networks exist, the default network is none
  if (!hc.NetworkMode || hc.NetworkMode === 'default') hc.NetworkMode = 'none';
  if (!hc.LogConfig.Type) hc.LogConfig = { Type: 'json-file', Config: hc.LogConfig.Config ?? {} };
  if (!config.Hostname) {
    config.Hostname = hc.NetworkMode === 'host' || hc.NetworkMode.startsWith('container:') ? '' : id.slice(0, 12);
  }
  checkCommand(config);
  checkHostConfig(hc);
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (hc.RestartPolicy.Name && hc.RestartPolicy.Name !== 'no' && hc.AutoRemove) throw new Error('conflicting options: cannot specify both --restart and --rm');
  // what inspect shows for values left unset, as docker fills them in
  if (hc.Memory > 0 && hc.MemorySwap === 0) hc.MemorySwap = hc.Memory * 2;
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM_SIZE;
  const c: Container = {
    Id: id,
    Name: req.name ? checkName(req.name) : env.containers.freshName(),
    Created: now(),
    Image: req.image.id,
    Config: config,
    HostConfig: hc,
    State: emptyState(),
    Mounts: [],
    RestartCount: 0,
    Path: command[0]!,
    Args: command.slice(1),
    ShimPid: 0,
    ShimStart: '',
    StoppedByUser: false,
  };
  const paths = new ContainerPaths(env.roots, id);
  const imageVolumes = Object.keys(image.config?.Volumes ?? {});
  const { points, created } = resolveMounts(c, env.volumes, imageVolumes);
  c.Mounts = points;
  try {
    transaction(env.containers.db, () => {
      env.containers.insert(c);
      env.images.hold(`container:${id}`, req.image.id, req.image.topChain);
      for (const m of points) if (m.Type === 'volume') env.volumes.attach(id, m.Name!);
    });
  } catch (e) {
    for (const name of created) env.volumes.remove(name, true);
    throw e;
  }
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o710 });
    makeInitLayer(paths);
    writeEtcFiles(c, paths);
  } catch (e) {
    removeRecord(env, c, true);
    throw e;
  }
  return c;
}

function runtimeStore(env: ContainerEnv): StateStore {
  return new StateStore(runtimeRoot(env.roots));
}

function lowerDirs(env: ContainerEnv, c: Container): string[] {
  const chain = env.images.get(c.Image)?.topChain ?? heldChain(env, c.Id);
  return chain ? env.images.snapshots.lowerDirs(chain) : [];
}

function heldChain(env: ContainerEnv, id: string): string | null {
  const row = env.images.db.prepare('SELECT chain_id FROM holds WHERE holder = ?').get(`container:${id}`) as { chain_id: string | null } | undefined;
  return row?.chain_id ?? null;
}

function translateLaunchError(e: unknown, c: Container): Error {
  if (!(e instanceof LaunchError) || !e.step.startsWith('find ')) return e as Error;
  const file = e.step.slice(5);
  if (e.errno === 2) return new CommandError(`exec: "${file}": ${file.includes('/') ? 'stat ' + file + ': no such file or directory' : 'executable file not found in $PATH'}`, 127);
  if (e.errno === 13) return new CommandError(`exec: "${file}": permission denied`, 126);
  return new CommandError(`exec: "${file}": ${e.message}`, 126);
}

export interface StartOptions {
  /** Attach before the process runs, so that no output is missed (run without -d, start -a). */
  attach?: AttachOptions;
}

/**
 * Starts a created or exited container. Returns the attach client when asked for one.
 * Any failure leaves the container as it was (created or exited), with State.Error set.
 */
export async function startContainer(env: ContainerEnv, ref: Container, o: StartOptions = {}): Promise<AttachClient | undefined> {
  await reconcileOne(env, ref.Id);
  const c = env.containers.get(ref.Id);
  if (!c) throw new Error(`No such container: ${ref.Id}`);
  if (c.State.Paused) throw new Error('cannot start a paused container, try unpause instead');
  if (c.State.Running) return undefined;
  const paths = new ContainerPaths(env.roots, c.Id);
  const store = runtimeStore(env);
  // Mark the start as ours: if this process dies half way, the next command sees a dead starter and tears down.
  const starter = env.containers.transition(c.Id, (x) => !x.State.Running && x.ShimPid === 0, (x) => {
    x.ShimPid = process.pid;
    x.ShimStart = processStart(process.pid) ?? '';
  });
  if (!starter) throw new Error(`container ${c.Id} is already being started`);
  let child: import('node:child_process').ChildProcess | undefined;
  let client: AttachClient | undefined;
  try {
    await runtimeRemove(store, c.Id, true).catch(() => {});
    rmSync(paths.runDir, { recursive: true, force: true });
    mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    mountRootfs(paths, lowerDirs(env, c));
    const volumePaths = new Map<string, string>();
    for (const m of c.Mounts) {
      if (m.Type !== 'volume') continue;
      const path = env.volumes.activate(m.Name!);
      volumePaths.set(m.Name!, path);
      // an image may make the path a link out of the rootfs: resolve it inside, as the runtime will
      const inImage = resolveInRoot(paths.merged, m.Destination);
      if (copiesUp(c, m.Destination) && isDirectory(inImage) && readdirSync(path).length === 0) {
        env.volumes.populate(m.Name!, inImage);
      }
    }
    const mounts = specMounts(c, (name) => volumePaths.get(name)!);
    const spec = buildSpec({
      id: c.Id,
      config: c.Config,
      hostConfig: c.HostConfig,
      rootfs: paths.merged,
      mounts,
      etcFiles: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
      namespacePaths: namespacePaths(env, c),
      ...(c.HostConfig.Init ? { tiniPath: tiniBinary() } : {}),
      cgroupsPath: `/hull/${c.Id}`,
    });
    writeFileSync(join(paths.dir, 'config.json'), JSON.stringify(spec));
    const log = c.HostConfig.LogConfig.Type === 'none' ? undefined : {
      path: paths.log,
      maxSize: c.HostConfig.LogConfig.Config['max-size'] ? parseBytes(c.HostConfig.LogConfig.Config['max-size']) : 0,
      maxFiles: Number(c.HostConfig.LogConfig.Config['max-file'] ?? 1),
    };
    const wrap = shimWrap({
      id: c.Id,
      dir: paths.runDir,
      terminal: c.Config.Tty,
      openStdin: c.Config.OpenStdin,
      stdinOnce: c.Config.StdinOnce,
      ...(log ? { log } : {}),
      exitCommand: [hullBinary(), '--root', env.roots.root, '--runroot', env.roots.runroot, 'container', 'cleanup', c.Id],
    });
    let created: { saved: Saved; launched: { child: import('node:child_process').ChildProcess } };
    try {
      created = await runtimeCreate(store, {
        id: c.Id,
        bundle: paths.dir,
        wrap,
        ...(c.Config.Tty ? { consoleSocket: consoleSocketPath(paths.runDir) } : {}),
      });
    } catch (e) {
      throw translateLaunchError(e, c);
    }
    child = created.launched.child;
    shimStarted(child, created.saved.pid);
    const shimPid = child.pid!;
    env.containers.transition(c.Id, (x) => x.ShimPid === process.pid, (x) => {
      x.State = {
        ...x.State,
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: created.saved.pid, ExitCode: 0, Error: '', StartedAt: now(),
        ...(x.Config.Healthcheck?.Test?.length && x.Config.Healthcheck.Test[0] !== 'NONE' ? { Health: { Status: 'starting', FailingStreak: 0, Log: [] } } : {}),
      };
      x.ShimPid = shimPid;
      x.ShimStart = processStart(shimPid) ?? '';
      x.StoppedByUser = false;
    });
    if (o.attach) client = await AttachClient.connect(paths.runDir, o.attach);
    await runtimeStart(store, c.Id);
    return client;
  } catch (e) {
    client?.close();
    await teardown(env, c.Id);
    env.containers.transition(c.Id, () => true, (x) => {
      x.State = { ...x.State, Status: x.State.StartedAt.startsWith('0001') ? 'created' : 'exited', Running: false, Pid: 0,
        ExitCode: e instanceof CommandError ? e.status : 128, Error: (e as Error).message };
      x.ShimPid = 0;
      x.ShimStart = '';
    });
    throw e;
  }
}

/** Docker copies the image's content into an empty volume unless the mount says nocopy. */
function copiesUp(c: Container, destination: string): boolean {
  const viaBind = (c.HostConfig.Binds ?? []).some((b) => {
    const [, dst, mode = ''] = b.split(':');
    return dst && normalize(dst) === destination && mode.split(',').includes('nocopy');
  });
  const viaMount = (c.HostConfig.Mounts ?? []).some((m) => m.Type === 'volume' && normalize(m.Target) === destination && m.VolumeOptions?.NoCopy);
  return !viaBind && !viaMount;
}

function namespacePaths(env: ContainerEnv, c: Container): Partial<Record<'network' | 'ipc' | 'pid' | 'uts', string>> {
  const out: Partial<Record<'network' | 'ipc' | 'pid' | 'uts', string>> = {};
  const modes = { network: c.HostConfig.NetworkMode, ipc: c.HostConfig.IpcMode, pid: c.HostConfig.PidMode, uts: c.HostConfig.UTSMode } as const;
  for (const [ns, mode] of Object.entries(modes) as ['network' | 'ipc' | 'pid' | 'uts', string][]) {
    if (!mode?.startsWith('container:')) continue;
    const other = env.containers.find(mode.slice('container:'.length));
    if (!other.State.Running) throw new Error(`cannot join ${ns} namespace of a non running container: container ${other.Id} is ${other.State.Status}`);
    if (other.Id === c.Id) throw new Error(`cannot join own ${ns} namespace`);
    out[ns] = `/proc/${other.State.Pid}/ns/${ns === 'network' ? 'net' : ns}`;
  }
  return out;
}

/** Undoes a start: the runtime's container and cgroups, the mounts and the shim's files. */
async function teardown(env: ContainerEnv, id: string): Promise<void> {
  const paths = new ContainerPaths(env.roots, id);
  await runtimeRemove(runtimeStore(env), id, true).catch(() => {});
  unmountRootfs(paths);
  const c = env.containers.get(id);
  for (const m of c?.Mounts ?? []) if (m.Type === 'volume' && !volumeInUse(env, m.Name!, id)) env.volumes.deactivate(m.Name!);
  rmSync(paths.runDir, { recursive: true, force: true });
}

function volumeInUse(env: ContainerEnv, name: string, except: string): boolean {
  return env.volumes.usedBy(name).some((id) => id !== except && env.containers.get(id)?.State.Running);
}

function oomKilled(saved: Saved | undefined): boolean {
  for (const dir of saved?.cgroupDirs ?? []) {
    for (const file of ['memory.events', 'memory.oom_control']) {
      try {
        const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
        if (m && Number(m[1]) > 0) return true;
      } catch {
        // not this controller
      }
    }
  }
  return false;
}

function loadSaved(env: ContainerEnv, id: string): Saved | undefined {
  try {
    return runtimeStore(env).load(id);
  } catch (e) {
    if (e instanceof NotFound) return undefined;
    throw e;
  }
}

export interface CleanupResult {
  container?: Container;
  /** Set when the restart policy asks for another run. */
  restartIn?: number;
}

/**
 * Runs after the container's process has gone: records how it ended, tears down what start made,
 * then removes the container (--rm) or says when to restart it. Safe to run twice or at once.
 */
export async function cleanupContainer(env: ContainerEnv, id: string): Promise<CleanupResult> {
  const c = env.containers.get(id);
  if (!c) return {};
  const shimAlive = c.ShimPid > 0 && sameProcess(c.ShimPid, c.ShimStart);
  const paths = new ContainerPaths(env.roots, id);
  if (!c.State.Running) {
    // a start that died half way: its starter is gone
    if (c.ShimPid > 0 && !shimAlive) {
      await teardown(env, id);
      env.containers.transition(id, (x) => !x.State.Running && x.ShimPid === c.ShimPid, (x) => {
        x.ShimPid = 0;
        x.ShimStart = '';
      });
    }
    return { container: env.containers.get(id)! };
  }
  const exit = readExit(paths.runDir);
  // the shim writes its exit record before anyone hears of the exit: without one, a live shim is still watching
  if (!exit && shimAlive) return { container: c };
  const saved = loadSaved(env, id);
  const oom = oomKilled(saved);
  await teardown(env, id);
  const done = env.containers.transition(id, (x) => x.State.Running && x.ShimPid === c.ShimPid, (x) => {
    x.State = {
      ...x.State,
      Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, OOMKilled: oom,
      ExitCode: exit ? exit.exitCode : 255,
      Error: exit ? '' : 'the container\'s monitor (hull-shim) exited unexpectedly',
      FinishedAt: exit?.exitedAt ?? now(),
      ...(x.State.Health ? { Health: { ...x.State.Health, Status: 'unhealthy' as const } } : {}),
    };
    x.ShimPid = 0;
    x.ShimStart = '';
  });
  if (!done) return { container: env.containers.get(id) };
  if (done.HostConfig.AutoRemove) {
    await removeContainer(env, done.Id, { force: true, volumes: true });
    return {};
  }
  const delay = restartDelay(done);
  if (delay === undefined) return { container: done };
  env.containers.transition(id, (x) => x.State.Status === 'exited', (x) => {
    x.State = { ...x.State, Status: 'restarting', Restarting: true };
    x.ShimPid = process.pid;
    x.ShimStart = processStart(process.pid) ?? '';
  });
  return { container: env.containers.get(id), restartIn: delay };
}

/** Docker's policy: when to run again, with a delay that doubles from 100 ms while runs stay short. */
function restartDelay(c: Container): number | undefined {
  const p = c.HostConfig.RestartPolicy;
  // docker ignores the policy of a container the user stopped or killed, until it is started again
  if (c.StoppedByUser) return undefined;
  if (p.Name === 'always' || p.Name === 'unless-stopped') return backoff(c);
  if (p.Name === 'on-failure' && c.State.ExitCode !== 0 && (p.MaximumRetryCount === 0 || c.RestartCount < p.MaximumRetryCount)) return backoff(c);
  return undefined;
}

function backoff(c: Container): number {
  const ran = Date.parse(c.State.FinishedAt) - Date.parse(c.State.StartedAt);
  if (ran >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.min(c.RestartCount, 10), 60_000);
}

/** After a cleanup asked for it: waits, then starts again unless someone stopped or removed the container meanwhile. */
export async function restartLater(env: ContainerEnv, id: string, delay: number): Promise<void> {
  await new Promise((r) => setTimeout(r, delay));
  const c = env.containers.transition(id, (x) => x.State.Status === 'restarting' && x.ShimPid === process.pid, (x) => {
    x.State = { ...x.State, Status: 'exited', Restarting: false };
    x.RestartCount += 1;
    x.ShimPid = 0;
    x.ShimStart = '';
  });
  if (!c) return;
  await startContainer(env, c).catch(() => {});
}

/** Finds containers whose shim or starter died (kill -9, reboot) and cleans them up. */
export async function reconcile(env: ContainerEnv): Promise<void> {
  const rows = env.containers.db.prepare("SELECT id, shim_pid, shim_start FROM containers WHERE shim_pid != 0").all() as { id: string; shim_pid: number; shim_start: string }[];
  for (const r of rows) {
    if (!sameProcess(r.shim_pid, r.shim_start)) await cleanupContainer(env, r.id);
  }
}

async function reconcileOne(env: ContainerEnv, id: string): Promise<void> {
  const c = env.containers.get(id);
  if (c && c.ShimPid > 0 && !sameProcess(c.ShimPid, c.ShimStart)) await cleanupContainer(env, id);
}

/** Sends a signal to the container's process (docker kill). */
export async function killContainer(env: ContainerEnv, c: Container, signal = 'SIGKILL'): Promise<void> {
  if (!c.State.Running) throw new Error(`cannot kill container: ${c.Id}: container ${c.Id} is not running`);
  env.containers.transition(c.Id, () => true, (x) => (x.StoppedByUser = true));
  const sig = /^\d+$/.test(signal) ? signal : signal.toUpperCase().replace(/^(SIG)?/, 'SIG');
  await runtimeKill(runtimeStore(env), c.Id, sig, sig === 'SIGKILL');
}

/** Waits until the container is no longer running and its cleanup has finished (or the deadline). */
export async function waitStopped(env: ContainerEnv, id: string, ms = Infinity): Promise<Container | undefined> {
  const deadline = Date.now() + ms;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const c = env.containers.get(id);
    if (!c) return undefined;
    if (!c.State.Running && !c.State.Restarting && c.ShimPid === 0) return c;
    if (c.ShimPid > 0 && !sameProcess(c.ShimPid, c.ShimStart)) await cleanupContainer(env, id);
    if (Date.now() >= deadline) return c;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** docker stop: the stop signal, then SIGKILL after the timeout (seconds; -1 waits for ever). */
export async function stopContainer(env: ContainerEnv, c: Container, timeout?: number, signal?: string): Promise<void> {
  if (c.State.Restarting) {
    env.containers.transition(c.Id, (x) => x.State.Restarting, (x) => {
      x.State = { ...x.State, Status: 'exited', Restarting: false };
      x.StoppedByUser = true;
      x.ShimPid = 0;
      x.ShimStart = '';
    });
    return;
  }
  if (!c.State.Running) return;
  env.containers.transition(c.Id, () => true, (x) => (x.StoppedByUser = true));
  const secs = timeout ?? c.Config.StopTimeout ?? 10;
  const store = runtimeStore(env);
  if (c.State.Paused) runtimeResume(store, c.Id);
  if (secs !== 0) {
    const sig = (signal ?? c.Config.StopSignal ?? 'SIGTERM').toUpperCase().replace(/^(SIG)?/, 'SIG');
    await runtimeKill(store, c.Id, /^SIG\d+$/.test(sig) ? sig.slice(3) : sig, false).catch(() => {});
    const after = await waitStopped(env, c.Id, secs < 0 ? Infinity : secs * 1000);
    if (!after || !after.State.Running) {
      await waitStopped(env, c.Id);
      return;
    }
  }
  await runtimeKill(store, c.Id, 'SIGKILL', true).catch(() => {});
  await waitStopped(env, c.Id);
}

export interface RemoveOptions {
  force?: boolean;
  /** Also remove the anonymous volumes the container used (rm -v, --rm). */
  volumes?: boolean;
}

export async function removeContainer(env: ContainerEnv, id: string, o: RemoveOptions = {}): Promise<void> {
  let c = env.containers.get(id);
  if (!c) return;
  if (c.State.Running || c.State.Restarting) {
    if (!o.force) {
      throw new Error(`cannot remove container "/${c.Name}": container is ${c.State.Paused ? 'paused' : c.State.Restarting ? 'restarting' : 'running'}: stop the container before removing or force remove`);
    }
    await stopContainer(env, c, 0);
    c = env.containers.get(id);
    if (!c) return;
  }
  await teardown(env, id);
  removeRecord(env, c, !!o.volumes);
}

function removeRecord(env: ContainerEnv, c: Container, volumes: boolean): void {
  const paths = new ContainerPaths(env.roots, c.Id);
  const anonymous = c.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name!);
  transaction(env.containers.db, () => {
    env.containers.delete(c.Id);
    env.images.unhold(`container:${c.Id}`);
  });
  rmSync(paths.dir, { recursive: true, force: true });
  rmSync(paths.runDir, { recursive: true, force: true });
  if (volumes) {
    for (const name of anonymous) {
      try {
        const v = env.volumes.get(name);
        if (v.Anonymous && env.volumes.usedBy(name).length === 0) env.volumes.remove(name);
      } catch {
        // gone already
      }
    }
  }
  if (!env.images.get(c.Image)) env.images.gc();
}
