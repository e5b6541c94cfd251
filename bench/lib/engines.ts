// The container engines the container scenarios compare, each with state of its own under the
// scenario's work directory, and all with the same busybox image:
// - hull: its own --root/--runroot; busybox:latest made by `hull image base`;
// - podman: its own containers.conf, storage and run root; that image loaded from `hull save`;
// - docker: a dockerd 20.10 started by the bench (startDockerd), the same archive loaded.
// stop() removes every container, stops dockerd, and leaves no process or mount behind.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, describeError, findOnPath, runChecked, versionOf } from './command.ts';
import { startDockerd, type Dockerd } from './image-fixture.ts';
import { commOf, ppidOf } from './memory.ts';
import type { ScenarioContext, Skipped } from './scenario.ts';

export const IMAGE = 'busybox:latest';

export interface Engine {
  name: 'hull' | 'podman' | 'docker';
  version?: string;
  /** The per-container monitor's name as /proc/<pid>/comm shows it (15 characters at most). */
  monitor: string;
  /** The CLI and the global options that point it at this engine's own state. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Runs the CLI to completion and returns its stdout; throws with its stderr. */
  cli(args: string[], timeout?: number): string;
  /** The same, without blocking, for starts run side by side. */
  cliAsync(args: string[], timeout?: number): Promise<string>;
  /** The main process of a running container. */
  pidOf(id: string): number;
  /** The engine's processes that serve all containers (dockerd and its containerd), if any. */
  daemons(): number[];
  /** The ids of all its containers, running or not. */
  ids(): string[];
  /** Force-removes all its containers (one `rm -f` with every id, as a user's script does). */
  removeAll(): void;
}

const HYBRID_ERROR = 'cgroups in hybrid mode not supported';
const HUGETLB = '/sys/fs/cgroup/hugetlb';

function hugetlbMountedV1(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => {
    const after = line.split(' - ')[1];
    if (!after) return false;
    const [fstype, , superOptions] = after.split(' ');
    return fstype === 'cgroup' && (superOptions ?? '').split(',').includes('hugetlb');
  });
}

/** "crun version 1.8.1\ncommit: ..." -> "1.8.1": the first version number in a tool's output. */
function versionNumber(text: string | undefined): string {
  return /\d+\.\d+[\w.~+-]*/.exec(text ?? '')?.[0] ?? '?';
}

/** A command line for an error message: `rm -f` of 200 ids is shown with the first few. */
function shown(name: string, args: string[]): string {
  return [name, ...args.slice(0, 8), ...(args.length > 8 ? [`… (${args.length - 8} more)`] : [])].join(' ');
}

function makeEngine(name: Engine['name'], monitor: string, argv: string[], env: NodeJS.ProcessEnv, version: string | undefined,
  parts: { daemons?: () => number[]; removeArgs: string[]; listArgs: string[]; inspectPid: string[] }): Engine {
  const [file, ...global] = argv as [string, ...string[]];
  const cli = (args: string[], timeout = 120_000): string => {
    const r = spawnSync(file, [...global, ...args], { encoding: 'utf8', env, timeout, maxBuffer: 16 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw new CommandError(`\`${shown(name, args)}\` failed to run: ${r.error.message}`, r.stderr ?? '');
    if (r.status !== 0) throw new CommandError(`\`${shown(name, args)}\` exited with ${r.status ?? r.signal}`, (r.stderr ?? '').trim().slice(-2000));
    return r.stdout;
  };
  const engine: Engine = {
    name, monitor, argv, env, ...(version ? { version } : {}),
    cli,
    cliAsync(args, timeout = 300_000) {
      return new Promise((resolve, reject) => {
        execFile(file, [...global, ...args], { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          if (err) reject(new CommandError(`\`${shown(name, args)}\` failed: ${err.message.split('\n')[0]}`, String(stderr).trim().slice(-2000)));
          else resolve(String(stdout));
        });
      });
    },
    pidOf(id) {
      const pid = Number(cli([...parts.inspectPid, id]).trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${name}: container ${id} has no main process (pid ${pid})`);
      return pid;
    },
    daemons: parts.daemons ?? (() => []),
    ids: () => cli(parts.listArgs).split('\n').map((l) => l.trim()).filter(Boolean),
    removeAll() {
      const ids = engine.ids();
      if (ids.length) cli([...parts.removeArgs, ...ids], 600_000);
    },
  };
  return engine;
}

/** The monitor of a container: the parent of its main process, checked by name. */
export function monitorOf(engine: Engine, id: string): number {
  const pid = engine.pidOf(id);
  const parent = ppidOf(pid);
  const comm = commOf(parent);
  if (comm !== engine.monitor) throw new Error(`${engine.name}: the parent of container ${id}'s process ${pid} is ${comm} (${parent}), not ${engine.monitor}`);
  return parent;
}

/** Processes whose command line or working directory lies under one of dirs (ours: we made the dirs). */
function processesUnder(dirs: string[]): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a kernel thread, or gone
      }
      if (dirs.some((d) => cmd.includes(d + '/') || cwd === d || cwd.startsWith(d + '/'))) found.push({ pid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function unmountUnder(dirs: string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && dirs.some((d) => m === d || m.startsWith(d + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of points) spawnSync('umount', ['-l', m]);
  return points;
}

export class Engines {
  readonly list: Engine[] = [];
  readonly skipped: Skipped[] = [];
  readonly notes: string[] = [];
  /** The image's layers, as hull's `image inspect` gives them (the floor mounts them). */
  lowerDir = '';
  private readonly ctx: ScenarioContext;
  private dockerd: Dockerd | undefined;
  private podmanDir: string | undefined;

  constructor(ctx: ScenarioContext) {
    this.ctx = ctx;
  }

  get hull(): Engine {
    const h = this.list.find((e) => e.name === 'hull');
    if (!h) throw new Error('hull is not set up');
    return h;
  }

  /**
   * Sets up hull (a failure throws), then podman and docker (a failure skips them, with the
   * reason), each checked by one `run --rm --network none busybox true`.
   */
  async start(o: { dockerNetworking?: { bip: string } } = {}): Promise<void> {
    const { ctx } = this;
    if (process.getuid?.() !== 0) throw new Error('the container scenarios need root');
    const hullBin = join(ctx.repoRoot, 'dist/hull');
    if (!existsSync(hullBin)) throw new Error('dist/hull is not built yet (`npm run build`)');
    const hullRoot = join(ctx.workDir, 'hull');
    const hull = makeEngine('hull', 'hull-shim', [hullBin, '--root', join(hullRoot, 'root'), '--runroot', join(hullRoot, 'run')], process.env,
      versionOf(hullBin), {
        removeArgs: ['rm', '-f'], listArgs: ['ps', '-aq', '--no-trunc'], inspectPid: ['inspect', '-f', '{{.State.Pid}}'],
      });
    ctx.log('hull: making busybox with `hull image base`');
    hull.cli(['image', 'base', IMAGE]);
    this.list.push(hull);
    this.lowerDir = hull.cli(['image', 'inspect', '-f', '{{.GraphDriver.Data.LowerDir}}', IMAGE]).trim();
    hull.cli(['run', '--rm', '--network', 'none', IMAGE, 'true']);
    const archive = join(ctx.workDir, 'busybox.tar');
    hull.cli(['save', '-o', archive, IMAGE]);
    this.notes.push(`The image: busybox:latest made by \`hull image base\` from Debian's busybox-static, saved with \`hull save\` and loaded into podman and docker, so all run the same files.`);

    await this.startPodman(archive);
    await this.startDocker(archive, o.dockerNetworking);
  }

  private async startPodman(archive: string): Promise<void> {
    const podman = findOnPath('podman');
    if (!podman) {
      this.skipped.push({ name: 'podman', reason: 'podman is not installed (apt-get install podman)' });
      return;
    }
    // podman refuses a run root over 50 characters, which bench/work/<scenario>-XXXXXX/... can exceed.
    const dir = (this.podmanDir = mkdtempSync(join(tmpdir(), 'hull-bench-podman-')));
    const conf = join(dir, 'containers.conf');
    // Podman's default nofile ulimit (1048576) is above this host's hard limit, which root may not
    // raise here (MACHINE.md); there is no systemd, so cgroupfs and a file event log.
    writeFileSync(conf, [
      '[containers]', 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]', '',
      '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `tmp_dir = "${dir}/tmp"`, `volume_path = "${dir}/volumes"`, '',
      '[network]', `network_config_dir = "${dir}/networks"`, '',
    ].join('\n'));
    const storage = join(this.ctx.workDir, 'podman');
    mkdirSync(storage, { recursive: true });
    const env = { ...process.env, CONTAINERS_CONF: conf };
    const engine = makeEngine('podman', 'conmon', [podman, '--root', storage, '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'], env,
      versionOf(podman), {
        removeArgs: ['rm', '-f', '-t', '0'], listArgs: ['ps', '-aq', '--no-trunc'], inspectPid: ['inspect', '-f', '{{.State.Pid}}'],
      });
    try {
      engine.cli(['load', '-q', '-i', archive]);
      this.trial(engine);
    } catch (err) {
      this.skipped.push({ name: 'podman', reason: describeError(err) });
      return;
    }
    this.list.push(engine);
    const info = (() => {
      try {
        return JSON.parse(engine.cli(['info', '--format', 'json']));
      } catch {
        return undefined;
      }
    })();
    const runtime = info?.host?.ociRuntime;
    this.notes.push(`podman: its own storage (overlay) and run root, cgroupfs, its default OCI runtime (${runtime?.name ?? '?'} ${versionNumber(runtime?.version)}) ` +
      `under conmon ${versionNumber(info?.host?.conmon?.version)}; default_ulimits nofile=20000, because this host's hard limit is 20000.`);
  }

  /** One `run --rm` to see that the engine works; crun's refusal of the hybrid layout gets the peers' workaround. */
  private trial(engine: Engine): void {
    try {
      engine.cli(['run', '--rm', '--network', 'none', IMAGE, 'true']);
    } catch (err) {
      if (!describeError(err).includes(HYBRID_ERROR) || hugetlbMountedV1()) throw err;
      this.ctx.log(`crun refuses the hybrid cgroup layout; mounting hugetlb as v1 at ${HUGETLB} (the peers' workaround)`);
      runChecked('mkdir', ['-p', HUGETLB]);
      runChecked('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', HUGETLB]);
      this.notes.push(`crun refused the hybrid cgroup layout, so this run mounted hugetlb as a v1 hierarchy at ${HUGETLB} first (it stays until reboot).`);
      engine.cli(['run', '--rm', '--network', 'none', IMAGE, 'true']);
    }
  }

  private async startDocker(archive: string, networking?: { bip: string }): Promise<void> {
    const docker = findOnPath('docker');
    const started = docker ? await startDockerd(join(this.ctx.workDir, 'docker'), [], this.ctx.log, networking) : 'the docker CLI is not installed';
    if (typeof started === 'string') {
      this.skipped.push({ name: 'docker', reason: started });
      return;
    }
    this.dockerd = started;
    const daemons = () => {
      // dockerd starts its own containerd (there is no system one to use): both serve every container.
      const children = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
        try {
          return ppidOf(p) === started.pid && commOf(p) === 'containerd';
        } catch {
          return false;
        }
      });
      return [started.pid, ...children];
    };
    const engine = makeEngine('docker', 'containerd-shim', [docker!, '-H', started.host], process.env, versionNumber(versionOf('/usr/sbin/dockerd')), {
      daemons, removeArgs: ['rm', '-f'], listArgs: ['ps', '-aq', '--no-trunc'], inspectPid: ['inspect', '-f', '{{.State.Pid}}'],
    });
    try {
      engine.cli(['load', '-q', '-i', archive]);
      this.trial(engine);
    } catch (err) {
      this.skipped.push({ name: 'docker', reason: describeError(err) });
      return;
    }
    this.list.push(engine);
    const containerd = versionNumber(versionOf('/usr/bin/containerd'));
    this.notes.push(`docker: the docker CLI ${versionNumber(versionOf(docker!))} against a dockerd 20.10 the bench starts with its own data and exec roots ` +
      `(overlay2, ${networking ? `docker0 on ${networking.bip} with iptables and the userland proxy` : 'no bridge, no iptables'}), which starts its own containerd ${containerd}; one containerd-shim-runc-v2 and runc per container.`);
  }

  /** Removes every container, stops dockerd, waits for the monitors to go; nothing is left behind. */
  async stop(): Promise<void> {
    const problems: string[] = [];
    for (const engine of this.list) {
      try {
        engine.removeAll();
        // hull's networks leave a bridge and a firewall table on the host until reset
        if (engine.name === 'hull') engine.cli(['system', 'reset', '-f']);
      } catch (err) {
        problems.push(`${engine.name}: removing its containers: ${describeError(err)}`);
      }
    }
    await this.dockerd?.stop();
    const dirs = [this.ctx.workDir, ...(this.podmanDir ? [this.podmanDir] : [])];
    // Monitors and cleanup commands exit on their own once their containers are gone.
    for (let i = 0; i < 200 && processesUnder(dirs).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const left = processesUnder(dirs);
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (left.length) problems.push(`killed processes left after 20 s: ${left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`).join('; ')}`);
    unmountUnder(dirs);
    if (this.podmanDir) rmSync(this.podmanDir, { recursive: true, force: true });
    if (problems.length) throw new Error(problems.join('; '));
  }
}
