// A container's life, as the engine runs it: create (a row, its layer and volumes), start (mount,
// spec, the runtime under a hull-shim), and the cleanup that the shim's exit command, a foreground
// run or the next command's reconcile performs once the container's process is gone.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { transaction } from '../../image/store/metadata.ts';
import { parseImageConfig } from '../../image/manifest.ts';
import type { ImageRecord, ImageStore } from '../../image/store/image-store.ts';
import { removeCgroups, resolveCgroupDirs } from '../../runtime/cgroups/manager.ts';
import { oomCounter } from '../../runtime/cgroups/oom.ts';
import { create as runtimeCreate, kill as runtimeKill, remove as runtimeRemove, resume as runtimeResume, start as runtimeStart } from '../../runtime/container.ts';
import { LaunchError } from '../../runtime/launch.ts';
import { NotFound, type Saved } from '../../runtime/state.ts';
import { runtimeStore } from './runtime-state.ts';
import { processStart, sameProcess } from '../../sys/proc.ts';
import { parseBytes } from '../units.ts';
import type { VolumeStore } from '../volumes.ts';
import { writeEtcFiles } from './etc-files.ts';
import { DEFAULT_SHM_SIZE } from './defaults.ts';
import { healthEnabled, healthTimer } from './health.ts';
import { checkCommand, mergeImageConfig } from './image-config.ts';
import { emptyState, type Container, type ContainerConfig, type HostConfig } from './model.ts';
import { isDirectory, resolveMounts, specMounts } from './mounts.ts';
import { ContainerPaths, type EngineRoots } from './paths.ts';
import { makeContainerLayers, mountRootfs, unmountRootfs } from './rootfs.ts';
import { hullBinary } from './self.ts';
import { AttachClient, consoleSocketPath, readExit, shimStarted, shimWrap, tiniBinary, type AttachOptions } from './shim.ts';
import { buildSpec, checkHostConfig } from './spec.ts';
import { resolveInRoot } from './user.ts';
import { ContainerStore, checkName, newContainerId } from './store.ts';
import type { EndpointSettings } from '../networks/model.ts';
import type { NetworkStore } from '../networks/store.ts';
import { etcNetwork, networksToJoin } from '../networks/join.ts';
import { setUpSandbox, tearDownSandbox } from '../networks/plumbing.ts';
import { checkPublishedPorts } from '../networks/ports.ts';

export interface ContainerEnv {
  images: ImageStore;
  containers: ContainerStore;
  volumes: VolumeStore;
  networks: NetworkStore;
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
  /** docker's NetworkingConfig: per network, the aliases, addresses and MAC asked for. */
  networking?: { EndpointsConfig?: Record<string, Partial<EndpointSettings> | null> | null };
}

const now = () => new Date().toISOString();

export function createContainer(env: ContainerEnv, req: CreateRequest): Container {
  const image = parseImageConfig(env.images.content.read(req.image.id));
  const config = mergeImageConfig(req.config, image.config ?? {});
  const id = newContainerId();
  const hc = req.hostConfig;
  // docker's client sends "default" and "" for the default bridge
  if (!hc.NetworkMode || hc.NetworkMode === 'default') hc.NetworkMode = 'bridge';
  const joins = networksToJoin(env, hc.NetworkMode, req.networking?.EndpointsConfig ?? {});
  if (!hc.LogConfig.Type) hc.LogConfig = { Type: 'json-file', Config: hc.LogConfig.Config ?? {} };
  if (!config.Hostname) {
    config.Hostname = hc.NetworkMode === 'host' || hc.NetworkMode.startsWith('container:') ? '' : id.slice(0, 12);
  }
  checkCommand(config);
  checkHostConfig(hc);
  checkPublishedPorts({ Config: config, HostConfig: hc });
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (hc.RestartPolicy.Name && hc.RestartPolicy.Name !== 'no' && hc.AutoRemove) throw new Error('conflicting options: cannot specify both --restart and --rm');
  // what inspect shows for values left unset, as docker fills them in
  if (hc.Memory > 0 && hc.MemorySwap === 0) hc.MemorySwap = hc.Memory * 2;
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM_SIZE;
  const c: Container = {
    Id: id,
    // a generated name is picked inside the insert's transaction, so two creates at once never pick the same
    Name: req.name ? checkName(req.name) : '',
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
    Ports: null,
  };
  const paths = new ContainerPaths(env.roots, id);
  const imageVolumes = Object.keys(image.config?.Volumes ?? {});
  const { points, created } = resolveMounts(c, env.volumes, imageVolumes);
  c.Mounts = points;
  try {
    transaction(env.containers.db, () => {
      if (!req.name) c.Name = env.containers.freshName();
      env.containers.insert(c);
      env.images.hold(`container:${id}`, req.image.id, req.image.topChain);
      for (const m of points) if (m.Type === 'volume') env.volumes.attach(id, m.Name!);
      for (const j of joins) env.networks.addEndpoint(j.network.Id, id, j.settings);
    });
  } catch (e) {
    for (const name of created) env.volumes.remove(name, true);
    throw e;
  }
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o710 });
    makeContainerLayers(paths);
    writeEtcFiles(c, paths, etcNetwork(env, c));
  } catch (e) {
    removeRecord(env, c, true);
    throw e;
  }
  return c;
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
  /** A restart by the restart policy: RestartCount goes on (a user's start resets it, as docker's does). */
  byPolicy?: boolean;
}

/**
 * Starts a created or exited container. Returns the attach client when asked for one.
 * Any failure leaves the container as it was (created or exited), with State.Error set.
 */
export async function startContainer(env: ContainerEnv, ref: Container, o: StartOptions = {}): Promise<AttachClient | undefined> {
  let c: Container | undefined;
  for (const deadline = Date.now() + 30_000; ;) {
    await reconcileOne(env, ref.Id);
    const now = env.containers.get(ref.Id);
    if (!now) throw new Error(`No such container: ${ref.Id}`);
    if (now.State.Paused) throw new Error('cannot start a paused container, try unpause instead');
    if (now.State.Status === 'removing') throw new Error('container is marked for removal and cannot be started');
    // docker counts a restarting container as running: starting it again does nothing
    if (now.State.Running || now.State.Restarting) return undefined;
    // a restart by the policy that a user's stop overtook between its backoff and this start
    if (o.byPolicy && now.StoppedByUser) return undefined;
    // Mark the start as ours: if this process dies half way, the next command sees a dead starter and tears down.
    c = env.containers.transition(now.Id, (x) => !x.State.Running && !x.State.Restarting && x.ShimPid === 0 && !(o.byPolicy && x.StoppedByUser), (x) => {
      x.ShimPid = process.pid;
      x.ShimStart = processStart(process.pid) ?? '';
    });
    if (c) break;
    // another command is starting (or removing) it: wait for that, as docker's container lock makes a second start wait
    if (Date.now() > deadline) throw new Error(`container ${now.Id} is already being started`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const paths = new ContainerPaths(env.roots, c.Id);
  const store = runtimeStore(env);
  let client: AttachClient | undefined;
  try {
    await runtimeRemove(store, c.Id, true).catch(() => {});
    rmSync(paths.runDir, { recursive: true, force: true });
    mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    // a create killed after its row was written leaves these half made (resolv.conf is written last)
    if (!existsSync(paths.resolvConf)) {
      mkdirSync(paths.dir, { recursive: true, mode: 0o710 });
      makeContainerLayers(paths);
      writeEtcFiles(c, paths, etcNetwork(env, c));
    }
    mountRootfs(paths, lowerDirs(env, c), { volatile: c.HostConfig.AutoRemove });
    const sandbox = await setUpSandbox(env, c);
    // /etc/hosts names the container's own addresses, which it has from now on
    if (sandbox) writeEtcFiles(c, paths, { ...etcNetwork(env, c), addresses: sandbox.addresses });
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
      namespacePaths: { ...namespacePaths(env, c), ...(sandbox ? { network: sandbox.netns } : {}) },
      ...(c.HostConfig.Init ? { tiniPath: tiniBinary() } : {}),
      cgroupsPath: cgroupsPath(c.Id),
    });
    writeFileSync(join(paths.dir, 'config.json'), JSON.stringify(spec));
    const log = c.HostConfig.LogConfig.Type === 'none' ? undefined : {
      path: paths.log,
      maxSize: c.HostConfig.LogConfig.Config['max-size'] ? parseBytes(c.HostConfig.LogConfig.Config['max-size']) : 0,
      maxFiles: Number(c.HostConfig.LogConfig.Config['max-file'] ?? 1),
    };
    const hull = [hullBinary(), '--root', env.roots.root, '--runroot', env.roots.runroot];
    const health = healthTimer(c, hull);
    const wrap = shimWrap({
      id: c.Id,
      dir: paths.runDir,
      terminal: c.Config.Tty,
      openStdin: c.Config.OpenStdin,
      stdinOnce: c.Config.StdinOnce,
      ...(log ? { log } : {}),
      exitCommand: [...hull, 'container', 'cleanup', c.Id],
      // health checks: the shim runs `hull container healthcheck` on a timer while the container runs
      ...(health ? { timer: health } : {}),
    });
    let created: { saved: Saved; launched: { childPid: number; control?: number } };
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
    shimStarted(created.launched, created.saved.pid);
    const shimPid = created.launched.childPid;
    if (o.attach) client = await AttachClient.connect(paths.runDir, o.attach);
    await runtimeStart(store, c.Id);
    // Only a started container is recorded as running: a starter killed before this line leaves a
    // dead starter, which the next command tears down (container included). A container that has
    // exited already meanwhile has its exit command wait for this (see cleanupContainer).
    env.containers.transition(c.Id, (x) => x.ShimPid === process.pid, (x) => {
      x.State = {
        ...x.State,
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: created.saved.pid, ExitCode: 0, Error: '', StartedAt: now(),
        // as docker: each start begins "starting" with no failures, keeping the last results
        ...(healthEnabled(x.Config.Healthcheck) ? { Health: { Status: 'starting' as const, FailingStreak: 0, Log: x.State.Health?.Log ?? [] } } : {}),
      };
      x.ShimPid = shimPid;
      x.ShimStart = processStart(shimPid) ?? '';
      x.StoppedByUser = false;
      if (!o.byPolicy) x.RestartCount = 0;
    });
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
    await monitorGone(c.Id);
    throw e;
  }
}

/**
 * Waits (a few seconds at most) until no hull-shim of this container and no exit command it ran
 * are left. A monitor whose create failed runs its exit command (which then finds nothing to do):
 * a failed start must not return while those are still about, nor should `rm` or `stop` while the
 * exit command of the run they ended is still finishing. Never call it while holding an attach
 * claim on that monitor (it waits for the claimer).
 */
export async function monitorGone(id: string, ms = 5000): Promise<void> {
  const marks = [`\0--id\0${id}\0`, `\0cleanup\0${id}\0`];
  // a restart runs inside the exit command of the previous monitor, which waits for it: not those
  const ours = ancestors();
  const deadline = Date.now() + ms;
  for (;;) {
    let left = false;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || ours.has(Number(pid))) continue;
      try {
        const cmd = '\0' + readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        if (marks.some((m) => cmd.includes(m)) && processStart(Number(pid)) !== undefined) left = true;
      } catch {
        // gone
      }
      if (left) break;
    }
    if (!left || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** This process and its parents, up to init. */
function ancestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1 && !out.has(pid);) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
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

function cgroupsPath(id: string): string {
  return `/hull/${id}`;
}

/** Undoes a start: the runtime's container and cgroups, the mounts and the shim's files. */
async function teardown(env: ContainerEnv, id: string): Promise<void> {
  const paths = new ContainerPaths(env.roots, id);
  const removed = await runtimeRemove(runtimeStore(env), id, true).catch(() => false);
  // a runtime create killed before it first saved its state has made the cgroups but cannot name them: they are empty
  if (!removed) {
    try {
      const leaves = resolveCgroupDirs(cgroupsPath(id), id);
      removeCgroups(leaves, leaves);
    } catch {
      // no usable hierarchy: nothing was made
    }
  }
  unmountRootfs(paths);
  tearDownSandbox(env, id);
  const c = env.containers.get(id);
  for (const m of c?.Mounts ?? []) if (m.Type === 'volume' && !volumeInUse(env, m.Name!, id)) env.volumes.deactivate(m.Name!);
  rmSync(paths.runDir, { recursive: true, force: true });
}

function volumeInUse(env: ContainerEnv, name: string, except: string): boolean {
  return env.volumes.usedBy(name).some((id) => id !== except && env.containers.get(id)?.State.Running);
}

/** Whether the OOM killer killed in the container's memory cgroup: one file, found from the layout. */
function oomKilled(saved: Saved | undefined): boolean {
  if (!saved) return false;
  try {
    return (oomCounter(saved.cgroupDirs)?.read() ?? 0n) > 0n;
  } catch {
    return false; // no usable hierarchy
  }
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
    if (c.State.Status === 'removing' && c.ShimPid > 0 && !shimAlive) {
      // a remover killed half way: finish its work (once, whoever takes it over)
      const mine = env.containers.transition(id, (x) => x.State.Status === 'removing' && x.ShimPid === c.ShimPid, (x) => {
        x.ShimPid = process.pid;
        x.ShimStart = processStart(process.pid) ?? '';
      });
      if (mine) {
        await teardown(env, id);
        removeRecord(env, mine, mine.HostConfig.AutoRemove);
      }
      return {};
    }
    if (c.ShimPid > 0 && shimAlive && c.ShimPid !== process.pid && !c.State.Restarting && c.State.Status !== 'removing' && readExit(paths.runDir)) {
      // the container ended before its live starter recorded it as running: wait for that, then clean up
      return (await starterDone(env, c)) ? cleanupContainer(env, id) : { container: c };
    }
    // a start that died half way, or a restart whose waiting process died: either way it is gone
    if (c.ShimPid > 0 && !shimAlive) {
      await teardown(env, id);
      env.containers.transition(id, (x) => !x.State.Running && x.ShimPid === c.ShimPid, (x) => {
        // nobody is left to restart it: without this it would show "Restarting" for ever
        if (x.State.Restarting) x.State = { ...x.State, Status: 'exited', Restarting: false };
        x.ShimPid = 0;
        x.ShimStart = '';
      });
      // a monitor the dead starter had spawned sees its control pipe end and runs its exit
      // command: the container is settled only once those are gone too
      await monitorGone(id);
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
    await removeContainer(env, done.Id, { force: true, volumes: true, tornDown: true });
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

/** Waits (10 s at most) until the process that holds c's row as its starter has moved on or died. */
async function starterDone(env: ContainerEnv, c: Container): Promise<boolean> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const now = env.containers.get(c.Id);
    if (!now || now.ShimPid !== c.ShimPid || now.ShimStart !== c.ShimStart || !sameProcess(c.ShimPid, c.ShimStart)) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
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
  // the backoff grows to a minute: a stop or rm meanwhile ends the wait, and this process with it
  const waiting = () => {
    const x = env.containers.get(id);
    return x?.State.Status === 'restarting' && x.ShimPid === process.pid;
  };
  for (const end = Date.now() + delay; Date.now() < end && waiting();) {
    await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
  }
  const c = env.containers.transition(id, (x) => x.State.Status === 'restarting' && x.ShimPid === process.pid, (x) => {
    x.State = { ...x.State, Status: 'exited', Restarting: false };
    x.RestartCount += 1;
    x.ShimPid = 0;
    x.ShimStart = '';
  });
  if (!c) return;
  await startContainer(env, c, { byPolicy: true }).catch(() => {});
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

/** Sends a signal to the container's process (docker kill); `ref` is the container as the user named it. */
export async function killContainer(env: ContainerEnv, c: Container, signal = 'SIGKILL', ref = c.Id): Promise<void> {
  if (!c.State.Running) throw new Error(`cannot kill container: ${ref}: container ${c.Id} is not running`);
  env.containers.transition(c.Id, () => true, (x) => (x.StoppedByUser = true));
  const sig = /^\d+$/.test(signal) ? signal : signal.toUpperCase().replace(/^(SIG)?/, 'SIG');
  await runtimeKill(runtimeStore(env), c.Id, sig, sig === 'SIGKILL');
}

/** Waits until the container is no longer running and its cleanup has finished (or the deadline). */
export async function waitStopped(env: ContainerEnv, id: string, ms = Infinity, run?: string): Promise<Container | undefined> {
  const deadline = Date.now() + ms;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const c = env.containers.get(id);
    if (!c) return undefined;
    // the run waited for is the one going now, or the one given (its StartedAt)
    run ??= c.State.StartedAt;
    if (!c.State.Running && !c.State.Restarting && c.ShimPid === 0) return c;
    // that run has ended: its restart is pending, or another command has started the container again
    if (c.State.Restarting || c.State.StartedAt !== run) return c;
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
  // the user's stop wins over a restart by the policy that is about to start it
  env.containers.transition(c.Id, () => true, (x) => (x.StoppedByUser = true));
  if (!c.State.Running && c.ShimPid > 0 && c.ShimPid !== process.pid && sameProcess(c.ShimPid, c.ShimStart)) {
    // a start under way (a restart, or another command's start): let it finish, then stop what it started
    await starterDone(env, c);
    const now = env.containers.get(c.Id);
    if (!now) return;
    if (now.State.Running) return stopContainer(env, now, timeout, signal);
    if (now.State.Restarting) return stopContainer(env, now, timeout, signal);
  }
  if (!c.State.Running) return;
  const secs = timeout ?? c.Config.StopTimeout ?? 10;
  const store = runtimeStore(env);
  if (c.State.Paused) runtimeResume(store, c.Id);
  // the run to stop: one that another command starts meanwhile (restart + restart) is not this stop's
  const run = c.State.StartedAt;
  if (secs !== 0) {
    const sig = (signal ?? c.Config.StopSignal ?? 'SIGTERM').toUpperCase().replace(/^(SIG)?/, 'SIG');
    await runtimeKill(store, c.Id, /^SIG\d+$/.test(sig) ? sig.slice(3) : sig, false).catch(() => {});
    const after = await waitStopped(env, c.Id, secs < 0 ? Infinity : secs * 1000, run);
    if (!after || !after.State.Running || after.State.StartedAt !== run) {
      await waitStopped(env, c.Id, Infinity, run);
      return;
    }
  }
  await runtimeKill(store, c.Id, 'SIGKILL', true).catch(() => {});
  await waitStopped(env, c.Id, Infinity, run);
}

export interface RemoveOptions {
  force?: boolean;
  /** Also remove the anonymous volumes the container used (rm -v, --rm). */
  volumes?: boolean;
  /** The caller has just torn it down (a cleanup applying --rm): unless it is started again meanwhile, once is enough. */
  tornDown?: boolean;
}

export async function removeContainer(env: ContainerEnv, id: string, o: RemoveOptions = {}): Promise<void> {
  let tornDown = !!o.tornDown;
  // a start or cleanup under way in another process owns the container for a moment: wait for it
  for (const deadline = Date.now() + 30_000; ; tornDown = false) {
    const c = env.containers.get(id);
    if (!c) return;
    const ownerAlive = c.ShimPid > 0 && sameProcess(c.ShimPid, c.ShimStart);
    if (c.State.Status === 'removing' && ownerAlive) throw new Error(`removal of container ${c.Id} is already in progress`);
    if (c.State.Running || c.State.Restarting) {
      if (!o.force) {
        throw new Error(`cannot remove container "/${c.Name}": container is ${c.State.Paused ? 'paused' : c.State.Restarting ? 'restarting' : 'running'}: stop the container before removing or force remove`);
      }
      await stopContainer(env, c, 0);
      continue;
    }
    // from here on nobody starts it, and a remover killed half way is finished by the next command (reconcile)
    const claimed = env.containers.transition(id, (x) => !x.State.Running && !x.State.Restarting && (x.ShimPid === 0 || x.ShimPid === c.ShimPid && !ownerAlive), (x) => {
      x.State = { ...x.State, Status: 'removing' };
      x.ShimPid = process.pid;
      x.ShimStart = processStart(process.pid) ?? '';
    });
    if (claimed) {
      // a start that died half way since (its starter's pid left on the row) may have mounted again
      if (!tornDown || c.ShimPid !== 0) await teardown(env, id);
      removeRecord(env, claimed, !!o.volumes);
      return;
    }
    if (Date.now() > deadline) throw new Error(`cannot remove container ${c.Id}: another hull command keeps it busy`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function removeRecord(env: ContainerEnv, c: Container, volumes: boolean): void {
  const paths = new ContainerPaths(env.roots, c.Id);
  const anonymous = c.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name!);
  // files first: a remover killed half way leaves the row ("removing"), which the next command finishes
  rmSync(paths.dir, { recursive: true, force: true });
  rmSync(paths.runDir, { recursive: true, force: true });
  transaction(env.containers.db, () => {
    env.containers.delete(c.Id);
    env.images.unhold(`container:${c.Id}`);
  });
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
