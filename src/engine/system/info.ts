// `system info`: the engine and its host, in the Engine API's SystemInfo shape (GET /info) so that
// the CLI and the API server report the same: container and image counts, the storage, logging
// and cgroup drivers hull uses, the kernel, OS and machine, and hull's state root.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, hostname, machine, release, totalmem } from 'node:os';
import { layout } from '../../runtime/cgroups/manager.ts';
import { apparmorEnabled } from '../../runtime/security/lsm.ts';
import { HULL_VERSION } from '../../runtime/features.ts';
import type { EngineConfig } from '../config.ts';
import type { ContainerEnv } from '../containers/lifecycle.ts';

export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: [string, string][];
  Plugins: { Volume: string[]; Network: string[]; Authorization: null; Log: string[] };
  MemoryLimit: boolean;
  SwapLimit: boolean;
  CpuCfsPeriod: boolean;
  CpuCfsQuota: boolean;
  CPUShares: boolean;
  CPUSet: boolean;
  PidsLimit: boolean;
  OomKillDisable: boolean;
  IPv4Forwarding: boolean;
  Debug: boolean;
  SystemTime: string;
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  IndexServerAddress: string;
  RegistryConfig: { InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }>; Mirrors: string[] };
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Name: string;
  Labels: string[];
  ExperimentalBuild: boolean;
  ServerVersion: string;
  Runtimes: Record<string, { path: string }>;
  DefaultRuntime: string;
  Swarm: { LocalNodeState: string };
  LiveRestoreEnabled: boolean;
  InitBinary: string;
  SecurityOptions: string[];
  Warnings: string[] | null;
}

// statfs f_type values of the filesystems an overlay upper dir can sit on, by docker's names for them
const FILESYSTEMS: Record<number, string> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x2fc12fc1: 'zfs',
  0x794c7630: 'overlayfs', 0x65735546: 'fuseblk', 0xf2f52010: 'f2fs', 0x6969: 'nfs', 0x5346544e: 'ntfs',
};

/** The filesystem under hull's root (its nearest existing ancestor), as docker names it. */
export function backingFilesystem(root: string): string {
  let dir = root;
  while (!existsSync(dir) && dir !== '/') dir = dir.slice(0, dir.lastIndexOf('/')) || '/';
  try {
    const type = Number(statfsSync(dir).type);
    return FILESYSTEMS[type] ?? `<unknown (0x${type.toString(16)})>`;
  } catch {
    return '<unknown>';
  }
}

/** /etc/os-release's PRETTY_NAME and VERSION_ID (docker's "Operating System" and OSVersion). */
export function operatingSystem(text?: string): { name: string; version: string } {
  let body = text;
  if (body === undefined) {
    try {
      body = readFileSync('/etc/os-release', 'utf8');
    } catch {
      return { name: '<unknown>', version: '' };
    }
  }
  const field = (key: string) => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(body!);
    return m ? m[1]!.trim().replace(/^(["'])(.*)\1$/, '$2') : '';
  };
  return { name: field('PRETTY_NAME') || 'Linux', version: field('VERSION_ID') };
}

function readFlag(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** What the host's cgroups let hull limit, as docker's info flags say it. */
function cgroupFeatures(): Pick<SystemInfo, 'MemoryLimit' | 'SwapLimit' | 'CpuCfsPeriod' | 'CpuCfsQuota' | 'CPUShares' | 'CPUSet' | 'PidsLimit' | 'OomKillDisable' | 'CgroupVersion'> {
  const lay = layout();
  const v1 = lay.mode === 'v1';
  const mountOf = (ctrl: string) => lay.hierarchies.find((h) => h.controllers.includes(ctrl) && h.version === (v1 ? 1 : 2))?.mountpoint;
  const has = (ctrl: string) => mountOf(ctrl) !== undefined;
  const file = (ctrl: string, name: string) => {
    const m = mountOf(ctrl);
    return m !== undefined && existsSync(`${m}/${name}`);
  };
  return {
    CgroupVersion: v1 ? '1' : '2',
    MemoryLimit: has('memory'),
    // v1 needs swap accounting (memsw files); v2 has memory.swap.max below the root only: trust the controller
    SwapLimit: v1 ? file('memory', 'memory.memsw.limit_in_bytes') : has('memory'),
    CpuCfsPeriod: v1 ? file('cpu', 'cpu.cfs_period_us') : has('cpu'),
    CpuCfsQuota: v1 ? file('cpu', 'cpu.cfs_quota_us') : has('cpu'),
    CPUShares: has('cpu'),
    CPUSet: has('cpuset'),
    PidsLimit: has('pids'),
    OomKillDisable: v1 && file('memory', 'memory.oom_control'),
  };
}

export function systemInfo(env: ContainerEnv, config: EngineConfig): SystemInfo {
  const containers = env.containers.list();
  const running = containers.filter((c) => c.State.Running && !c.State.Paused).length;
  const paused = containers.filter((c) => c.State.Running && c.State.Paused).length;
  const os = operatingSystem();
  const mirrors = config.registryMirrors['docker.io'] ?? [];
  const indexConfigs: SystemInfo['RegistryConfig']['IndexConfigs'] = {
    'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true },
  };
  const cidrs = ['127.0.0.0/8'];
  for (const r of config.insecureRegistries) {
    if (/^[0-9a-f.:]+\/\d+$/i.test(r)) {
      if (!cidrs.includes(r)) cidrs.push(r);
    } else indexConfigs[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  const security = ['name=seccomp,profile=builtin'];
  if (apparmorEnabled()) security.unshift('name=apparmor');
  return {
    ID: '',
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: env.images.list().length,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', backingFilesystem(env.roots.root)],
      ['Supports d_type', 'true'],
      ['Native Overlay Diff', 'true'],
      ['userxattr', 'false'],
    ],
    Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file'] },
    ...cgroupFeatures(),
    IPv4Forwarding: readFlag('/proc/sys/net/ipv4/ip_forward'),
    Debug: false,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    KernelVersion: release(),
    OperatingSystem: os.name,
    OSVersion: os.version,
    OSType: 'linux',
    Architecture: machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { InsecureRegistryCIDRs: cidrs, IndexConfigs: indexConfigs, Mirrors: mirrors },
    NCPU: availableParallelism(),
    MemTotal: totalmem(),
    DockerRootDir: env.roots.root,
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: HULL_VERSION,
    Runtimes: { 'hull-runtime': { path: 'hull-runtime' } },
    DefaultRuntime: 'hull-runtime',
    Swarm: { LocalNodeState: 'inactive' },
    LiveRestoreEnabled: false,
    InitBinary: 'hull-tini',
    SecurityOptions: security,
    Warnings: null,
  };
}
