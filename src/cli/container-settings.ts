// The checks docker's daemon makes of a container's Config and HostConfig when it creates one
// (verifyContainerSettings and friends), with the daemon's messages. They need nothing but the
// two objects, so the API server can run them on what a docker client sends, as the CLI does
// on what its flags build. Host-dependent limits (CPUs present, cpuset availability) are left
// to the engine.
import { capabilityNumber } from '../runtime/capabilities.ts';
import type { ContainerConfig, HostConfig } from '../engine/containers/model.ts';
import { checkMount, checkTmpfs, checkVolumes, checkVolumesFrom } from './container-storage-flags.ts';
import { atoi, fromHumanSize, goQuote, parseBool } from './go-strconv.ts';

const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_DURATION_NS = 1_000_000;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

// Signal names docker's daemon accepts for --stop-signal (moby/sys/signal's Linux table).
const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1',
  'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

/** docker's ParseSignal check: a number other than 0, or a name with or without SIG. */
export function checkSignal(raw: string): void {
  if (/^[+-]?\d+$/.test(raw)) {
    if (Number(raw) === 0) throw new Error(`invalid signal: ${raw}`);
    return;
  }
  if (!SIGNALS.has(raw.toUpperCase().replace(/^SIG/, ''))) throw new Error(`invalid signal: ${raw}`);
}

/** The container name rule (a leading "/" is docker's and allowed). */
export function checkContainerName(name: string): void {
  if (!CONTAINER_NAME.test(name.replace(/^\//, ''))) throw new Error(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}

function checkHealthcheck(config: ContainerConfig): void {
  const h = config.Healthcheck;
  if (!h) return;
  const tooShort = (v: number | undefined) => v !== undefined && v !== 0 && v < MIN_DURATION_NS;
  if (tooShort(h.Interval)) throw new Error('Interval in Healthcheck cannot be less than 1ms');
  if (tooShort(h.Timeout)) throw new Error('Timeout in Healthcheck cannot be less than 1ms');
  if ((h.Retries ?? 0) < 0) throw new Error('Retries in Healthcheck cannot be negative');
  if (tooShort(h.StartPeriod)) throw new Error('StartPeriod in Healthcheck cannot be less than 1ms');
  if (tooShort(h.StartInterval)) throw new Error('StartInterval in Healthcheck cannot be less than 1ms');
}

function checkRestartPolicy(hc: HostConfig): void {
  const { Name, MaximumRetryCount } = hc.RestartPolicy;
  switch (Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (MaximumRetryCount !== 0) {
        throw new Error(`invalid restart policy: maximum retry count can only be used with 'on-failure'${MaximumRetryCount < 0 ? ' and cannot be negative' : ''}`);
      }
      return;
    case 'on-failure':
      if (MaximumRetryCount < 0) throw new Error('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      return;
    default:
      throw new Error(`invalid restart policy: unknown policy '${Name as string}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

function checkCapabilities(field: 'CapAdd' | 'CapDrop', caps: string[] | null): void {
  for (const c of caps ?? []) {
    const upper = c.toUpperCase();
    if (upper === 'ALL') continue;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (capabilityNumber(name) === undefined) throw new Error(`invalid ${field}: unknown capability: ${goQuote(name)}`);
  }
}

/** "0-3,5": the cgroup list grammar, CPUs or memory nodes up to 8192. */
function checkCpuset(value: string | undefined, what: 'cpus' | 'mems'): void {
  if (!value) return;
  const invalid = () => new Error(`Invalid value ${value} for cpuset ${what}: invalid format: ${value}`);
  const int = (s: string) => {
    if (!/^[+-]?\d+$/.test(s)) throw invalid();
    return Number(s);
  };
  for (const part of value.split(',')) {
    const dash = part.indexOf('-');
    const max = dash < 0 ? int(part) : int(part.slice(dash + 1));
    if (dash >= 0 && max < int(part.slice(0, dash))) throw invalid();
    if (max > 8192) throw new Error(`Invalid value ${value} for cpuset ${what}: value of out range, maximum is 8192`);
  }
}

function checkResources(hc: HostConfig): void {
  if (hc.Memory !== 0 && hc.Memory < MIN_MEMORY) throw new Error('Minimum memory limit allowed is 6MB');
  if (hc.Memory > 0 && hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) throw new Error('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (hc.Memory === 0 && hc.MemorySwap > 0) throw new Error('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (hc.MemoryReservation > 0 && hc.MemoryReservation < MIN_MEMORY) throw new Error('Minimum memory reservation allowed is 6MB');
  if (hc.Memory > 0 && hc.MemoryReservation > 0 && hc.Memory < hc.MemoryReservation) {
    throw new Error('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const period = hc.CpuPeriod ?? 0;
  const quota = hc.CpuQuota ?? 0;
  if (hc.NanoCpus > 0 && period > 0) throw new Error('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (hc.NanoCpus > 0 && quota > 0) throw new Error('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw new Error('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw new Error('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  checkCpuset(hc.CpusetCpus, 'cpus');
  checkCpuset(hc.CpusetMems, 'mems');
}

function containerMode(mode: string): boolean {
  return mode.startsWith('container:');
}

function checkNamespaces(hc: HostConfig): void {
  const ipc = hc.IpcMode;
  if (!['', 'none', 'private', 'shareable', 'host'].includes(ipc) && !containerMode(ipc)) throw new Error(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode;
  if (!(pid === '' || pid === 'host' || (containerMode(pid) && pid.length > 'container:'.length))) throw new Error(`invalid PID mode: ${pid}`);
  if (hc.ShmSize < 0) throw new Error('SHM size can not be less than 0');
  if (!['', 'host'].includes(hc.UTSMode)) throw new Error(`invalid UTS mode: ${hc.UTSMode}`);
  if (!['', 'host'].includes(hc.UsernsMode)) throw new Error(`invalid USER mode: ${hc.UsernsMode}`);
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) throw new Error(`Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
}

// json-file's own options, and the two every driver takes.
const JSON_FILE_OPTIONS = new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

/** The log driver and its options; hull has json-file (the default) and none. */
function checkLogConfig(hc: HostConfig): void {
  const { Type, Config } = hc.LogConfig;
  if (Type === 'none') return;
  const mode = Config.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new Error(`logger: logging mode not supported: ${mode}`);
  if ('max-buffer-size' in Config) {
    if (mode !== 'non-blocking') throw new Error("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    try {
      fromHumanSize(Config['max-buffer-size']!);
    } catch (err) {
      throw new Error(`error parsing option max-buffer-size: ${(err as Error).message}`);
    }
  }
  if (Type !== '' && Type !== 'json-file') throw new Error(`logger: no log driver named '${Type}' is registered`);
  for (const key of Object.keys(Config)) {
    if (key === 'mode' || key === 'max-buffer-size') continue;
    if (!JSON_FILE_OPTIONS.has(key)) throw new Error(`unknown log opt '${key}' for json-file log driver`);
  }
  // docker checks these when the log file is opened, at start; they are as wrong at create
  let maxSize = -1;
  if ('max-size' in Config) {
    maxSize = fromHumanSize(Config['max-size']!);
    if (maxSize <= 0) throw new Error('max-size must be a positive number');
  }
  let maxFile = 1;
  if ('max-file' in Config) {
    maxFile = atoi(Config['max-file']!);
    if (maxFile < 1) throw new Error('max-file cannot be less than 1');
  }
  if ('compress' in Config && parseBool(Config.compress!) && (maxFile === 1 || maxSize === -1)) {
    throw new Error('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
}

/** The daemon's reading of --security-opt values (after the CLI's own check). */
function checkSecurityOpts(opts: string[] | null): void {
  for (const opt of opts ?? []) {
    if (['no-new-privileges', 'writable-cgroups', 'disable', 'systempaths=unconfined'].includes(opt)) continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw new Error(`invalid --security-opt 1: ${goQuote(opt)}`);
    const key = opt.slice(0, opt.indexOf(sep));
    const value = opt.slice(opt.indexOf(sep) + 1);
    if (key === 'label' || key === 'apparmor' || key === 'seccomp') continue;
    if (key === 'no-new-privileges' || key === 'writable-cgroups') {
      try {
        parseBool(value);
        continue;
      } catch {
        // reported below, as docker does
      }
    }
    throw new Error(`invalid --security-opt 2: ${goQuote(opt)}`);
  }
}

/**
 * Everything docker's daemon refuses in a create request, in the daemon's order, with its
 * messages. Throws the first problem found.
 */
export function validateContainerSettings(config: ContainerConfig, hc: HostConfig): void {
  if (config.WorkingDir !== '' && !config.WorkingDir.startsWith('/')) {
    throw new Error(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (config.StopSignal) checkSignal(config.StopSignal);
  for (const e of config.Env) {
    if (e === '' || e.startsWith('=')) throw new Error(`invalid environment variable: ${e}`);
  }
  checkHealthcheck(config);
  if (hc.AutoRemove && !['', 'no'].includes(hc.RestartPolicy.Name)) throw new Error("can't create 'AutoRemove' container with restart policy");
  for (const m of hc.Mounts ?? []) checkMount(m);
  checkRestartPolicy(hc);
  checkCapabilities('CapAdd', hc.CapAdd);
  checkCapabilities('CapDrop', hc.CapDrop);
  checkResources(hc);
  checkNamespaces(hc);
  if (hc.Tmpfs) checkTmpfs(hc.Tmpfs);
  checkLogConfig(hc);
  checkSecurityOpts(hc.SecurityOpt);
  checkVolumes(hc.Binds ?? [], Object.keys(config.Volumes ?? {}));
  for (const v of hc.VolumesFrom ?? []) checkVolumesFrom(v);
}
