// The engine's container model. Field names are those of the Docker Engine API (ContainerConfig,
// HostConfig, ContainerState), so that `hull inspect` and the API server render it unchanged.

import type { HealthConfig } from '../../image/manifest.ts';

// A container's health check has the shape an image's config carries.
export type { HealthConfig };

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild?: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  /** Seconds. */
  StopTimeout?: number;
}

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  /** "z" or "Z" (SELinux relabel), "" otherwise. */
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

export interface HostConfig {
  Binds: string[] | null;
  Mounts?: MountSpec[];
  Tmpfs?: Record<string, string>;
  ReadonlyRootfs: boolean;
  /** Bytes; 0 is unlimited. */
  Memory: number;
  /** Bytes of memory plus swap; -1 is unlimited swap, 0 is unset. */
  MemorySwap: number;
  MemoryReservation: number;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus: string;
  CpusetMems?: string;
  /** null or 0 is unlimited; -1 is unlimited. */
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
  ShmSize: number;
  OomScoreAdj: number;
  OomKillDisable?: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  SecurityOpt: string[] | null;
  Devices: DeviceMapping[] | null;
  /** --device-cgroup-rule: "c 1:3 rwm" rules added to the device cgroup. */
  DeviceCgroupRules?: string[] | null;
  GroupAdd: string[] | null;
  Sysctls?: Record<string, string>;
  UsernsMode: string;
  IpcMode: string;
  PidMode: string;
  UTSMode: string;
  /** "none", "host", "container:<id>", or a network name (issue 6). */
  NetworkMode: string;
  Init?: boolean | null;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  LogConfig: { Type: string; Config: Record<string, string> };
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  PublishAllPorts?: boolean;
  VolumesFrom?: string[] | null;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthLog {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log: HealthLog[] };
}

/** A mount as inspect's Mounts lists it: what the container sees, resolved. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** The engine's record of one container: a row of the containers table. */
export interface Container {
  Id: string;
  /** Without docker's leading "/". */
  Name: string;
  Created: string;
  /** The image's ID (sha256:...). */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  Mounts: MountPoint[];
  RestartCount: number;
  /** How the container's process was started, as inspect shows it. */
  Path: string;
  Args: string[];
  /** The shim watching the running container: pid and /proc start time, to tell it from a reused pid. */
  ShimPid: number;
  ShimStart: string;
  /** Set by `stop` and `kill` so that the restart policy knows the user stopped it. */
  StoppedByUser: boolean;
  /** While it runs on a bridge network: the host ports its ports got (docker's NetworkSettings.Ports). */
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
}

export function emptyState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z',
  };
}
