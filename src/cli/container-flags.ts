// The flags of `hull run` and `hull create`: docker's names, short forms and help, parsed into
// the engine's container model (Docker API field names) as docker's CLI builds its create
// request, and checked as docker's daemon checks that request. Every refusal is a CliError
// with docker's message and exit status 125.
import type { Command, Option } from 'commander';
import { posix } from 'node:path';
import type { ContainerConfig, HealthConfig, HostConfig, RestartPolicy, Ulimit } from '../engine/containers/model.ts';
import type { EndpointSettings } from '../engine/networks/model.ts';
import { CliError } from './context.ts';
import { collect } from './commands/verb.ts';
import { parseDuration } from './duration.ts';
import { goQuote, parseBool, parseFlagInt, parseInt64, ramInBytes, atoi } from './go-strconv.ts';
import {
  isUserDefinedNetwork, networkAttachment, parseNetworkOpt, parsePorts, validateDnsSearch, validateExtraHost, validateIPAddress, validateMacAddress,
  type NetworkAttachment,
} from './container-network-flags.ts';
import { checkDeviceCgroupRule, parseDevice, parseMountFlag, parseTmpfsFlags, parseVolumeFlags } from './container-storage-flags.ts';
import { checkContainerName, validateContainerSettings } from './container-settings.ts';
import { readKvFile } from './kv-file.ts';
import { seccompOptionFromFile } from './seccomp-file.ts';

export interface ParsedContainer {
  name?: string;
  pull: 'missing' | 'always' | 'never';
  platform?: string;
  /** Config.Image is the image reference as typed. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** docker's NetworkingConfig: per network, the aliases, addresses and MAC asked for. */
  networking: { EndpointsConfig: Record<string, Partial<EndpointSettings>> };
  /** -q: no pull progress. */
  quiet: boolean;
  /** For `run` only. */
  detach: boolean;
  detachKeys?: string;
  sigProxy: boolean;
}

type Kind = 'bool' | 'value' | 'list';

interface FlagDef {
  flags: string;
  help: string;
  kind: Kind;
  hidden?: boolean;
  /** Only `run` has it. */
  runOnly?: boolean;
  defaultValue?: string | boolean;
}

// docker's flags, in the order of `docker run --help`, with its descriptions.
const FLAGS: FlagDef[] = [
  { flags: '--add-host <list>', help: 'Add a custom host-to-IP mapping (host:ip)', kind: 'list' },
  { flags: '-a, --attach <list>', help: 'Attach to STDIN, STDOUT or STDERR', kind: 'list' },
  { flags: '--cap-add <list>', help: 'Add Linux capabilities', kind: 'list' },
  { flags: '--cap-drop <list>', help: 'Drop Linux capabilities', kind: 'list' },
  { flags: '--cpu-period <int>', help: 'Limit CPU CFS (Completely Fair Scheduler) period', kind: 'value' },
  { flags: '--cpu-quota <int>', help: 'Limit CPU CFS (Completely Fair Scheduler) quota', kind: 'value' },
  { flags: '-c, --cpu-shares <int>', help: 'CPU shares (relative weight)', kind: 'value' },
  { flags: '--cpus <decimal>', help: 'Number of CPUs', kind: 'value' },
  { flags: '--cpuset-cpus <string>', help: 'CPUs in which to allow execution (0-3, 0,1)', kind: 'value' },
  { flags: '--cpuset-mems <string>', help: 'MEMs in which to allow execution (0-3, 0,1)', kind: 'value' },
  { flags: '-d, --detach', help: 'Run container in background and print container ID', kind: 'bool', runOnly: true },
  { flags: '--detach-keys <string>', help: 'Override the key sequence for detaching a container', kind: 'value', runOnly: true },
  { flags: '--device <list>', help: 'Add a host device to the container', kind: 'list' },
  { flags: '--device-cgroup-rule <list>', help: 'Add a rule to the cgroup allowed devices list', kind: 'list' },
  { flags: '--dns <list>', help: 'Set custom DNS servers', kind: 'list' },
  { flags: '--dns-opt <list>', help: 'Set DNS options', kind: 'list', hidden: true },
  { flags: '--dns-option <list>', help: 'Set DNS options', kind: 'list' },
  { flags: '--dns-search <list>', help: 'Set custom DNS search domains', kind: 'list' },
  { flags: '--domainname <string>', help: 'Container NIS domain name', kind: 'value' },
  { flags: '--entrypoint <string>', help: 'Overwrite the default ENTRYPOINT of the image', kind: 'value' },
  { flags: '-e, --env <list>', help: 'Set environment variables', kind: 'list' },
  { flags: '--env-file <list>', help: 'Read in a file of environment variables', kind: 'list' },
  { flags: '--expose <list>', help: 'Expose a port or a range of ports', kind: 'list' },
  { flags: '--group-add <list>', help: 'Add additional groups to join', kind: 'list' },
  { flags: '--health-cmd <string>', help: 'Command to run to check health', kind: 'value' },
  { flags: '--health-interval <duration>', help: 'Time between running the check (ms|s|m|h) (default 0s)', kind: 'value' },
  { flags: '--health-retries <int>', help: 'Consecutive failures needed to report unhealthy', kind: 'value' },
  { flags: '--health-start-interval <duration>', help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)', kind: 'value' },
  { flags: '--health-start-period <duration>', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', kind: 'value' },
  { flags: '--health-timeout <duration>', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', kind: 'value' },
  { flags: '-h, --hostname <string>', help: 'Container host name', kind: 'value' },
  { flags: '--init', help: 'Run an init inside the container that forwards signals and reaps processes', kind: 'bool' },
  { flags: '-i, --interactive', help: 'Keep STDIN open even if not attached', kind: 'bool' },
  { flags: '--ip <string>', help: 'IPv4 address (e.g., 172.30.100.104)', kind: 'value' },
  { flags: '--ip6 <string>', help: 'IPv6 address (e.g., 2001:db8::33)', kind: 'value' },
  { flags: '--ipc <string>', help: 'IPC mode to use', kind: 'value' },
  { flags: '-l, --label <list>', help: 'Set meta data on a container', kind: 'list' },
  { flags: '--label-file <list>', help: 'Read in a line delimited file of labels', kind: 'list' },
  { flags: '--link-local-ip <list>', help: 'Container IPv4/IPv6 link-local addresses', kind: 'list' },
  { flags: '--log-driver <string>', help: 'Logging driver for the container', kind: 'value' },
  { flags: '--log-opt <list>', help: 'Log driver options', kind: 'list' },
  { flags: '--mac-address <string>', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)', kind: 'value' },
  { flags: '-m, --memory <bytes>', help: 'Memory limit', kind: 'value' },
  { flags: '--memory-reservation <bytes>', help: 'Memory soft limit', kind: 'value' },
  { flags: '--memory-swap <bytes>', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", kind: 'value' },
  { flags: '--mount <mount>', help: 'Attach a filesystem mount to the container', kind: 'list' },
  { flags: '--name <string>', help: 'Assign a name to the container', kind: 'value' },
  { flags: '--net <network>', help: 'Connect a container to a network', kind: 'list', hidden: true },
  { flags: '--net-alias <list>', help: 'Add network-scoped alias for the container', kind: 'list', hidden: true },
  { flags: '--network <network>', help: 'Connect a container to a network', kind: 'list' },
  { flags: '--network-alias <list>', help: 'Add network-scoped alias for the container', kind: 'list' },
  { flags: '--no-healthcheck', help: 'Disable any container-specified HEALTHCHECK', kind: 'bool' },
  { flags: '--oom-kill-disable', help: 'Disable OOM Killer', kind: 'bool' },
  { flags: '--oom-score-adj <int>', help: "Tune host's OOM preferences (-1000 to 1000)", kind: 'value' },
  { flags: '--pid <string>', help: 'PID namespace to use', kind: 'value' },
  { flags: '--pids-limit <int>', help: 'Tune container pids limit (set -1 for unlimited)', kind: 'value' },
  { flags: '--platform <string>', help: 'Set platform if server is multi-platform capable', kind: 'value' },
  { flags: '--privileged', help: 'Give extended privileges to this container', kind: 'bool' },
  { flags: '-p, --publish <list>', help: "Publish a container's port(s) to the host", kind: 'list' },
  { flags: '-P, --publish-all', help: 'Publish all exposed ports to random ports', kind: 'bool' },
  { flags: '--pull <string>', help: 'Pull image before running ("always", "missing", "never")', kind: 'value', defaultValue: 'missing' },
  { flags: '-q, --quiet', help: 'Suppress the pull output', kind: 'bool' },
  { flags: '--read-only', help: "Mount the container's root filesystem as read only", kind: 'bool' },
  { flags: '--restart <string>', help: 'Restart policy to apply when a container exits', kind: 'value', defaultValue: 'no' },
  { flags: '--rm', help: 'Automatically remove the container and its associated anonymous volumes when it exits', kind: 'bool' },
  { flags: '--security-opt <list>', help: 'Security Options', kind: 'list' },
  { flags: '--shm-size <bytes>', help: 'Size of /dev/shm', kind: 'value' },
  { flags: '--sig-proxy', help: 'Proxy received signals to the process', kind: 'bool', runOnly: true, defaultValue: true },
  { flags: '--stop-signal <string>', help: 'Signal to stop the container', kind: 'value' },
  { flags: '--stop-timeout <int>', help: 'Timeout (in seconds) to stop a container', kind: 'value' },
  { flags: '--sysctl <map>', help: 'Sysctl options', kind: 'list' },
  { flags: '--tmpfs <list>', help: 'Mount a tmpfs directory', kind: 'list' },
  { flags: '-t, --tty', help: 'Allocate a pseudo-TTY', kind: 'bool' },
  { flags: '--ulimit <ulimit>', help: 'Ulimit options', kind: 'list' },
  { flags: '-u, --user <string>', help: 'Username or UID (format: <name|uid>[:<group|gid>])', kind: 'value' },
  { flags: '--userns <string>', help: 'User namespace to use', kind: 'value' },
  { flags: '--uts <string>', help: 'UTS namespace to use', kind: 'value' },
  { flags: '-v, --volume <list>', help: 'Bind mount a volume', kind: 'list' },
  { flags: '--volumes-from <list>', help: 'Mount volumes from the specified container(s)', kind: 'list' },
  { flags: '-w, --workdir <string>', help: 'Working directory inside the container', kind: 'value' },
];

/** "--cpu-shares <int>" -> { short: "-c", long: "--cpu-shares" }. */
function names(def: FlagDef): { short?: string; long: string } {
  const short = /^(-\w),/.exec(def.flags)?.[1];
  const long = /(--[\w-]+)/.exec(def.flags)![1]!;
  return short ? { short, long } : { long };
}

/** commander's attribute name for a long flag: "--cpu-shares" -> "cpuShares". */
function attribute(long: string): string {
  return long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

// pflag's name for a flag in its error messages: "-m, --memory" or "--cpus". Made at the first
// error, not at every start.
let labels: Map<string, string> | undefined;
function flagLabel(key: string): string | undefined {
  labels ??= new Map(FLAGS.map((d) => {
    const n = names(d);
    return [attribute(n.long), n.short ? `${n.short}, ${n.long}` : n.long];
  }));
  return labels.get(key);
}

/**
 * Flags that docker binds to one value, so that their values form one list in command-line
 * order: `--net a --network b` makes a the first network. Both attributes then hold the same
 * list of { flag, value }.
 */
const MERGED: Record<string, string> = { net: 'network', network: 'network', netAlias: 'networkAlias', networkAlias: 'networkAlias' };

export interface FlagValue {
  /** The flag as typed, for pflag's error message: "--net" or "--network". */
  flag: string;
  value: string;
}

/** Adds every `run`/`create` flag to `cmd`; `verb` defaults from the command's name. */
export function defineContainerFlags(cmd: Command, verb: 'run' | 'create' = cmd.name() === 'create' ? 'create' : 'run'): void {
  // docker's -h is --hostname, so help is --help only; options after the image belong to the command
  cmd.helpOption('--help', 'Print usage');
  cmd.passThroughOptions();
  let merged = new Map<string, FlagValue[]>();
  for (const def of FLAGS) {
    if (def.runOnly && verb !== 'run') continue;
    const help = verb === 'create' && def.flags.startsWith('--pull ') ? 'Pull image before creating ("always", "missing", "never")' : def.help;
    // createOption, not `new Option`: this module then needs commander's types only, and
    // `run`'s quick path (quick-args.ts) never loads commander
    const option = cmd.createOption(def.flags, help);
    const shared = MERGED[attribute(names(def).long)];
    if (shared) {
      const flag = names(def).long;
      option.argParser((value: string) => {
        const list = merged.get(shared) ?? [];
        merged.set(shared, list);
        list.push({ flag, value });
        return list;
      });
    } else if (def.kind === 'list') option.argParser(collect);
    if (def.defaultValue !== undefined) option.default(def.defaultValue);
    if (def.hidden) option.hideHelp();
    cmd.addOption(option);
    const { long } = names(def);
    // pflag reads --rm=false and -d=false; hidden --no-<flag> options carry the false
    if (def.kind === 'bool' && !long.startsWith('--no-')) cmd.addOption(cmd.createOption(`--no-${long.slice(2)}`).hideHelp());
  }
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => {
    merged = new Map();
    return parseOptions(pflagToCommander(cmd, args));
  };
}

/** A flag as commander holds it once defineContainerFlags has added it: for quick-args.ts. */
export interface FlagSpec {
  short?: string;
  long: string;
  kind: Kind;
  /** Where commander puts its value: "--cpu-shares" -> cpuShares, "--no-healthcheck" -> healthcheck. */
  attr: string;
  /** The list that this flag shares with another (see MERGED). */
  shared?: string;
  defaultValue?: string | boolean;
}

/** The flags of `verb`, as defineContainerFlags gives them to commander (its hidden --no-<flag> aside). */
export function containerFlagSpecs(verb: 'run' | 'create'): FlagSpec[] {
  return FLAGS.filter((def) => !def.runOnly || verb === 'run').map((def) => {
    const { short, long } = names(def);
    const shared = MERGED[attribute(long)];
    return {
      ...(short ? { short } : {}),
      long,
      kind: def.kind,
      attr: long.startsWith('--no-') ? attribute(`--${long.slice(5)}`) : attribute(long),
      ...(shared ? { shared } : {}),
      ...(def.defaultValue !== undefined ? { defaultValue: def.defaultValue } : {}),
    };
  });
}

function boolTokens(long: string, label: string, value: string): string[] {
  let on: boolean;
  try {
    on = parseBool(value);
  } catch (err) {
    throw new CliError(`invalid argument ${goQuote(value)} for ${goQuote(label)} flag: ${(err as Error).message}`, 125);
  }
  if (long.startsWith('--no-')) return on ? [long] : [];
  return [on ? long : `--no-${long.slice(2)}`];
}

/**
 * Rewrites pflag's spellings that commander lacks, up to the first operand (the image): a value
 * after "=" for booleans (--rm=false, -d=true, -it=false) and for short flags (-e=A=1).
 * Everything else passes unchanged, so commander reports what it does not know.
 */
function pflagToCommander(cmd: Command, args: string[]): string[] {
  const find = (flag: string) => cmd.options.find((o) => (o.long === flag || o.short === flag) && !o.negate)
    ?? cmd.options.find((o) => o.long === flag);
  const labelOf = (o: Option) => (o.short ? `${o.short}, ${o.long}` : o.long!);
  // commander's isBoolean() is false for a --no-<flag>, which takes no value all the same
  const flagOnly = (o: Option) => o.isBoolean() || o.negate;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) {
      out.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const option = find(eq < 0 ? arg : arg.slice(0, eq));
      if (!option) {
        out.push(...args.slice(i));
        break;
      }
      if (flagOnly(option) && eq >= 0) out.push(...boolTokens(option.long!, labelOf(option), arg.slice(eq + 1)));
      else if (flagOnly(option)) out.push(option.long!);
      else if (eq >= 0) out.push(option.long!, arg.slice(eq + 1));
      else {
        out.push(option.long!);
        if (i + 1 < args.length) out.push(args[++i]!);
      }
      continue;
    }
    let rest = -1;
    for (let k = 1; k < arg.length; k++) {
      const option = find(`-${arg[k]}`);
      if (!option) {
        rest = k;
        break;
      }
      if (option.isBoolean()) {
        if (arg[k + 1] === '=') {
          out.push(...boolTokens(option.long!, labelOf(option), arg.slice(k + 2)));
          break;
        }
        out.push(option.long!);
        continue;
      }
      out.push(option.long!);
      if (arg[k + 1] === '=') out.push(arg.slice(k + 2));
      else if (k + 1 < arg.length) out.push(arg.slice(k + 1));
      else if (i + 1 < args.length) out.push(args[++i]!);
      break;
    }
    if (rest >= 0) {
      out.push(`-${arg.slice(rest)}`, ...args.slice(i + 1));
      break;
    }
  }
  return out;
}

// ---- reading the parsed options ----

class Options {
  private readonly opts: Record<string, unknown>;
  constructor(opts: Record<string, unknown>) {
    this.opts = opts;
  }

  str(key: string): string | undefined {
    const v = this.opts[key];
    return typeof v === 'string' ? v : undefined;
  }

  list(key: string): string[] {
    const v = this.opts[key];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    return typeof v === 'string' ? [v] : [];
  }

  /** A merged list (see MERGED): the values of both its flags, in command-line order. */
  merged(...keys: string[]): FlagValue[] {
    for (const key of keys) {
      const v = this.opts[key];
      if (Array.isArray(v)) return v.filter((x): x is FlagValue => typeof x === 'object' && x !== null && 'flag' in x);
    }
    return [];
  }

  /** true, false, or undefined when the flag was not given. */
  bool(key: string): boolean | undefined {
    const v = this.opts[key];
    return typeof v === 'boolean' ? v : undefined;
  }
}

/** A flag value parsed as docker's flag type does, with pflag's "invalid argument" error. */
function flagValue<T>(key: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    throw new CliError(`invalid argument ${goQuote(value)} for ${goQuote(flagLabel(key) ?? `--${key}`)} flag: ${(err as Error).message}`, 125);
  }
}

function validateAttach(value: string): 'stdin' | 'stdout' | 'stderr' {
  const s = value.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

function validateLabel(value: string): string {
  const key = value.split('=')[0]!.replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

// Sysctls docker lets a container set: namespaced ones only.
const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function validateSysctl(value: string): [string, string] {
  const eq = value.indexOf('=');
  const key = eq < 0 ? '' : value.slice(0, eq);
  if (key !== '' && (SYSCTLS.has(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.'))) return [key, value.slice(eq + 1)];
  throw new Error(`sysctl '${value}' is not allowed`);
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** name=soft[:hard], as go-units reads it. */
function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const limits = value.slice(eq + 1).split(':');
  if (limits.length > 2) throw new Error(`too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const hard = limits.length === 2 ? Number(parseInt64(limits[1]!, 10)) : undefined;
  const soft = Number(parseInt64(limits[0]!, 10));
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    if (soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { Name: name, Soft: soft, Hard: h };
}

/** --cpus: an exact decimal ("1.5", "2e-1") or fraction ("3/2") times 1e9, which must be whole. */
export function parseNanoCpus(value: string): number {
  let num: bigint;
  let den: bigint;
  const fraction = /^([+-]?\d+)\/(\d+)$/.exec(value);
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
  if (fraction && BigInt(fraction[2]!) !== 0n) {
    num = BigInt(fraction[1]!);
    den = BigInt(fraction[2]!);
  } else if (decimal && (decimal[2] || decimal[3]) && Math.abs(Number(decimal[4] ?? 0)) < 10_000) {
    const [, sign, int = '', frac = '', exp = '0'] = decimal;
    num = BigInt(`${sign}${int}${frac}` || '0');
    den = 10n ** BigInt(frac.length);
    const e = Number(exp);
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    throw new Error(`failed to parse ${value} as a rational number`);
  }
  const scaled = num * 1_000_000_000n;
  if (scaled % den !== 0n) throw new Error('value is too precise');
  const nano = scaled / den;
  if (nano >= 1n << 63n || nano < -(1n << 63n)) throw new Error('value out of range');
  return Number(nano);
}

export function parseRestartPolicy(policy: string): RestartPolicy {
  // an empty policy is docker's "unset", which the daemon records as "no"
  if (policy === '') return { Name: 'no', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const name = colon < 0 ? policy : policy.slice(0, colon);
  const count = colon < 0 ? '' : policy.slice(colon + 1);
  if (colon >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let retries = 0;
  if (count !== '') {
    try {
      retries = atoi(count);
    } catch {
      throw new Error('invalid restart policy format: maximum retry count must be an integer');
    }
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: retries };
}

/** "k=v" pairs into a map; a bare "k" maps to "". */
function keyValues(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

/** docker's CLI check of --security-opt; a seccomp profile file is read and sent inline. */
function parseSecurityOpts(values: string[]): string[] {
  return values.map((opt) => {
    let sep = opt.indexOf('=');
    if (sep < 0 && opt !== 'no-new-privileges') sep = opt.indexOf(':');
    const key = sep < 0 ? opt : opt.slice(0, sep);
    const value = sep < 0 ? '' : opt.slice(sep + 1);
    if (key === 'no-new-privileges' && sep < 0) return opt;
    if (sep < 0 || value === '') throw new Error(`Invalid --security-opt: ${goQuote(opt)}`);
    if (key === 'seccomp' && value !== 'builtin' && value !== 'unconfined') return seccompOptionFromFile(value);
    // the deprecated "key:value" spelling is stored as "key=value"
    return `${key}=${value}`;
  });
}

function durationNs(key: string, o: Options): bigint {
  const v = o.str(key);
  return v === undefined ? 0n : flagValue(key, v, parseDuration);
}

/** What --network, --network-alias, --ip, --ip6, --mac-address and --link-local-ip ask for. */
interface NetworkFlags {
  attachments: NetworkAttachment[];
  aliases: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  linkLocalIps: string[];
}

/**
 * The network mode and docker's NetworkingConfig.EndpointsConfig, built as docker's CLI builds
 * them (API 1.44 and later): the first --network is the mode, and the options without a network
 * of their own apply to it; with no --network they apply to the default bridge.
 */
export function networkConfig(f: NetworkFlags): { mode: string; endpoints: Record<string, Partial<EndpointSettings>> } {
  const endpoints: Record<string, Partial<EndpointSettings>> = {};
  const attachments = f.attachments.length ? f.attachments : [networkAttachment('default')];
  let userDefined = false;
  let builtIn = false;
  attachments.forEach((given, i) => {
    const n = { ...given, aliases: [...given.aliases], linkLocalIps: [...given.linkLocalIps] };
    if (f.attachments.length) {
      if (isUserDefinedNetwork(n.target)) userDefined = true;
      else builtIn = true;
    }
    if (i === 0) applyContainerOptions(n, f);
    const ep = endpointSettings(n);
    // the engine knows the default network by its name
    const key = n.target === 'default' ? 'bridge' : n.target;
    if (Object.hasOwn(endpoints, key) && f.attachments.length) throw new Error(`network ${goQuote(n.target)} is specified multiple times`);
    // one network without options sends no endpoint, as docker's CLI (the engine makes one anyway)
    if (attachments.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[key] = ep;
  });
  if (userDefined && builtIn) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return { mode: attachments[0]!.target, endpoints };
}

/** docker's applyContainerOptions: the flags without a network name go to the first network. */
function applyContainerOptions(n: NetworkAttachment, f: NetworkFlags): void {
  if (n.aliases.length && f.aliases.length) throw new Error('conflicting options: cannot specify both --network-alias and per-network alias');
  if (n.ipv4 && f.ipv4) throw new Error('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (n.ipv6 && f.ipv6) throw new Error('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
  if (n.mac && f.mac) throw new Error('conflicting options: cannot specify both --mac-address and per-network MAC address');
  if (n.linkLocalIps.length && f.linkLocalIps.length) throw new Error('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
  if (f.aliases.length) n.aliases = [...f.aliases];
  if (f.ipv4) n.ipv4 = f.ipv4;
  if (f.ipv6) n.ipv6 = f.ipv6;
  if (f.mac) n.mac = f.mac;
  if (f.linkLocalIps.length) n.linkLocalIps = [...f.linkLocalIps];
}

/** docker's parseNetworkAttachmentOpt: one network's EndpointSettings; empty when nothing was asked. */
function endpointSettings(n: NetworkAttachment): Partial<EndpointSettings> {
  if (n.target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefinedNetwork(n.target) && n.aliases.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
  // hull's bridge networks give no link-local addresses and pick the default route themselves
  if (n.linkLocalIps.length) throw new Error(`link-local IP addresses are not supported by hull: ${n.linkLocalIps.join(', ')}`);
  if (n.gwPriority !== 0) throw new Error(`gw-priority is not supported by hull: the first network that leads out gives the default route`);
  const ep: Partial<EndpointSettings> = {};
  if (n.aliases.length) ep.Aliases = [...n.aliases];
  if (Object.keys(n.driverOpts).length) ep.DriverOpts = { ...n.driverOpts };
  if (n.ipv4 || n.ipv6) ep.IPAMConfig = { ...(n.ipv4 ? { IPv4Address: n.ipv4 } : {}), ...(n.ipv6 ? { IPv6Address: n.ipv6 } : {}) };
  if (n.mac) ep.MacAddress = validateMacAddress(n.mac);
  return ep;
}

/** Go's path.Clean for an absolute path: no "." or ".." parts, no trailing slash. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * Turns the options commander parsed for `run`/`create` (see defineContainerFlags), the image
 * as typed and the command after it into the container the engine creates. `env` fills -e KEY
 * and env-file KEY lines. Throws CliError(docker's message, 125).
 */
export function parseContainerFlags(opts: Record<string, unknown>, image: string, cmd: string[], env: NodeJS.ProcessEnv = process.env): ParsedContainer {
  try {
    return parse(new Options(opts), image, cmd, env);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, 125);
  }
}

function parse(o: Options, image: string, cmd: string[], env: NodeJS.ProcessEnv): ParsedContainer {
  const lookup = (key: string) => env[key];

  // 1. Each value as docker's flag types read it (pflag's "invalid argument" errors).
  const attach = o.list('attach').map((v) => flagValue('attach', v, validateAttach));
  const deviceCgroupRules = o.list('deviceCgroupRule').map((v) => flagValue('deviceCgroupRule', v, (r) => (checkDeviceCgroupRule(r), r)));
  const envFlags = o.list('env').map((v) => flagValue('env', v, (e) => {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (key === '') throw new Error(`invalid environment variable: ${e}`);
    if (eq >= 0) return e;
    // KEY alone: its value here, or nothing when it is unset
    const value = lookup(key);
    return value === undefined ? null : `${key}=${value}`;
  })).filter((e): e is string => e !== null);
  const labelFlags = o.list('label').map((v) => flagValue('label', v, validateLabel));
  const extraHosts = o.list('addHost').map((v) => flagValue('addHost', v, validateExtraHost));
  const dns = o.list('dns').map((v) => flagValue('dns', v, validateIPAddress));
  const dnsSearch = o.list('dnsSearch').map((v) => flagValue('dnsSearch', v, validateDnsSearch));
  const networks = o.merged('network', 'net').map((v) => flagValue(attribute(v.flag), v.value, parseNetworkOpt));
  const cwd = process.cwd();
  const mounts = o.list('mount').map((v) => flagValue('mount', v, (m) => parseMountFlag(m, cwd)));
  const sysctls = Object.fromEntries(o.list('sysctl').map((v) => flagValue('sysctl', v, validateSysctl)));
  const ulimits = new Map<string, Ulimit>();
  for (const v of o.list('ulimit')) {
    const u = flagValue('ulimit', v, parseUlimit);
    ulimits.set(u.Name, u);
  }
  const bytes = (key: string) => {
    const v = o.str(key);
    return v === undefined ? 0 : flagValue(key, v, ramInBytes);
  };
  const int = (key: string) => {
    const v = o.str(key);
    return v === undefined ? undefined : flagValue(key, v, parseFlagInt);
  };
  const memory = bytes('memory');
  const memoryReservation = bytes('memoryReservation');
  const shmSize = bytes('shmSize');
  const swapText = o.str('memorySwap');
  const memorySwap = swapText === undefined ? 0 : swapText === '-1' ? -1 : flagValue('memorySwap', swapText, ramInBytes);
  const cpusText = o.str('cpus');
  const nanoCpus = cpusText === undefined ? 0 : flagValue('cpus', cpusText, parseNanoCpus);
  const cpuShares = int('cpuShares') ?? 0;
  const cpuPeriod = int('cpuPeriod') ?? 0;
  const cpuQuota = int('cpuQuota') ?? 0;
  const pidsLimit = int('pidsLimit') ?? 0;
  const oomScoreAdj = int('oomScoreAdj') ?? 0;
  const stopTimeout = int('stopTimeout');
  const healthRetries = int('healthRetries') ?? 0;
  const healthInterval = durationNs('healthInterval', o);
  const healthTimeout = durationNs('healthTimeout', o);
  const healthStartPeriod = durationNs('healthStartPeriod', o);
  const healthStartInterval = durationNs('healthStartInterval', o);

  // 2. What docker's CLI checks while building the request.
  const pull = o.str('pull') ?? 'missing';
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  const interactive = o.bool('interactive') === true;
  const attachStdin = attach.includes('stdin') || interactive;
  const attachStdout = attach.length === 0 || attach.includes('stdout');
  const attachStderr = attach.length === 0 || attach.includes('stderr');
  const volumes = parseVolumeFlags(o.list('volume'), cwd);
  const tmpfs = parseTmpfsFlags(o.list('tmpfs'));
  const entrypointText = o.str('entrypoint');
  const ports = parsePorts(o.list('publish'), o.list('expose'));
  const devices = o.list('device').map(parseDevice);
  const envs = [...o.list('envFile').flatMap((f) => readKvFile(f, lookup)), ...envFlags];
  const labels = keyValues([...o.list('labelFile').flatMap((f) => readKvFile(f, null)), ...labelFlags]);
  const pidMode = o.str('pid') ?? '';
  if (!(pidMode === '' || pidMode === 'host' || (pidMode.startsWith('container:') && pidMode.length > 10))) throw new Error('--pid: invalid PID mode');
  const utsMode = o.str('uts') ?? '';
  if (!['', 'host'].includes(utsMode)) throw new Error('--uts: invalid UTS mode');
  const usernsMode = o.str('userns') ?? '';
  if (!['', 'host'].includes(usernsMode)) throw new Error('--userns: invalid USER mode');
  const restartPolicy = parseRestartPolicy(o.str('restart') ?? 'no');
  const logDriver = o.str('logDriver') ?? '';
  const logOpts = o.list('logOpt');
  if (logDriver === 'none' && logOpts.length > 0) throw new Error(`invalid logging opts for driver ${logDriver}`);
  const securityOpt = parseSecurityOpts(o.list('securityOpt'));

  let healthcheck: HealthConfig | undefined;
  const healthCmd = o.str('healthCmd') ?? '';
  const haveHealth = healthCmd !== '' || healthInterval !== 0n || healthTimeout !== 0n || healthStartPeriod !== 0n
    || healthRetries !== 0 || healthStartInterval !== 0n;
  if (o.bool('healthcheck') === false) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (healthInterval < 0n) throw new Error('--health-interval cannot be negative');
    if (healthTimeout < 0n) throw new Error('--health-timeout cannot be negative');
    if (healthRetries < 0) throw new Error('--health-retries cannot be negative');
    if (healthStartPeriod < 0n) throw new Error('--health-start-period cannot be negative');
    if (healthStartInterval < 0n) throw new Error('--health-start-interval cannot be negative');
    // docker's JSON leaves out what is zero, and so does inspect
    healthcheck = {
      ...(healthCmd !== '' ? { Test: ['CMD-SHELL', healthCmd] } : {}),
      ...(healthInterval ? { Interval: Number(healthInterval) } : {}),
      ...(healthTimeout ? { Timeout: Number(healthTimeout) } : {}),
      ...(healthStartPeriod ? { StartPeriod: Number(healthStartPeriod) } : {}),
      ...(healthStartInterval ? { StartInterval: Number(healthStartInterval) } : {}),
      ...(healthRetries ? { Retries: healthRetries } : {}),
    };
  }

  const autoRemove = o.bool('rm') === true;
  if (autoRemove && !['', 'no'].includes(restartPolicy.Name)) throw new Error('conflicting options: cannot specify both --restart and --rm');
  const macAddress = o.str('macAddress');
  const networking = networkConfig({
    attachments: networks,
    aliases: o.merged('networkAlias', 'netAlias').map((v) => v.value),
    ipv4: o.str('ip') ?? '',
    ipv6: o.str('ip6') ?? '',
    mac: macAddress === undefined || macAddress === '' ? '' : validateMacAddress(macAddress),
    linkLocalIps: o.list('linkLocalIp'),
  });

  const openStdin = interactive;
  const config: ContainerConfig = {
    Hostname: o.str('hostname') ?? '',
    Domainname: o.str('domainname') ?? '',
    User: o.str('user') ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(ports.exposed).length > 0 ? { ExposedPorts: ports.exposed } : {}),
    Tty: o.bool('tty') === true,
    OpenStdin: openStdin,
    // attached stdin closes when the client lets go of it
    StdinOnce: openStdin && attachStdin,
    Env: envs,
    Cmd: cmd.length > 0 ? [...cmd] : null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes.anonymous.length > 0 ? Object.fromEntries(volumes.anonymous.map((v) => [v, {}])) : null,
    WorkingDir: o.str('workdir') ?? '',
    // docker sends [""] for --entrypoint "": it clears the image's entrypoint
    Entrypoint: entrypointText === undefined ? null : [entrypointText],
    Labels: labels,
    ...(o.str('stopSignal') ? { StopSignal: o.str('stopSignal') } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
  };

  const init = o.bool('init');
  const nonEmpty = (list: string[]) => (list.length > 0 ? list : null);
  const hostConfig: HostConfig = {
    Binds: nonEmpty(volumes.binds),
    ...(mounts.length > 0 ? { Mounts: mounts } : {}),
    ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
    ReadonlyRootfs: o.bool('readOnly') === true,
    Memory: memory,
    MemorySwap: memorySwap,
    MemoryReservation: memoryReservation,
    NanoCpus: nanoCpus,
    CpuShares: cpuShares,
    CpuPeriod: cpuPeriod,
    CpuQuota: cpuQuota,
    CpusetCpus: o.str('cpusetCpus') ?? '',
    CpusetMems: o.str('cpusetMems') ?? '',
    // 0 and negative both mean unlimited, which docker records as null
    PidsLimit: pidsLimit > 0 ? pidsLimit : null,
    Ulimits: [...ulimits.values()].sort((a, b) => (a.Name < b.Name ? -1 : 1)),
    ShmSize: shmSize,
    OomScoreAdj: oomScoreAdj,
    OomKillDisable: o.bool('oomKillDisable') === true,
    CapAdd: nonEmpty(o.list('capAdd')),
    CapDrop: nonEmpty(o.list('capDrop')),
    Privileged: o.bool('privileged') === true,
    SecurityOpt: nonEmpty(securityOpt),
    Devices: devices,
    DeviceCgroupRules: nonEmpty(deviceCgroupRules),
    GroupAdd: nonEmpty(o.list('groupAdd')),
    ...(Object.keys(sysctls).length > 0 ? { Sysctls: sysctls } : {}),
    UsernsMode: usernsMode,
    IpcMode: o.str('ipc') ?? '',
    PidMode: pidMode,
    UTSMode: utsMode,
    NetworkMode: networking.mode,
    ...(init !== undefined ? { Init: init } : {}),
    RestartPolicy: restartPolicy,
    AutoRemove: autoRemove,
    LogConfig: { Type: logDriver, Config: keyValues(logOpts) },
    Dns: dns,
    DnsOptions: [...o.list('dnsOption'), ...o.list('dnsOpt')],
    DnsSearch: dnsSearch,
    ExtraHosts: nonEmpty(extraHosts),
    PortBindings: ports.bindings,
    PublishAllPorts: o.bool('publishAll') === true,
    VolumesFrom: nonEmpty(o.list('volumesFrom')),
  };

  // 3. What `docker run` checks before it creates.
  const detach = o.bool('detach') === true;
  if (detach) {
    if (attach.length > 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }

  // 4. What docker's daemon refuses at create.
  const name = o.str('name');
  if (name !== undefined && name !== '') checkContainerName(name);
  validateContainerSettings(config, hostConfig);
  if (config.WorkingDir !== '') config.WorkingDir = cleanPath(config.WorkingDir);

  const platform = o.str('platform');
  const detachKeys = o.str('detachKeys');
  return {
    ...(name ? { name: name.replace(/^\//, '') } : {}),
    pull: (pull || 'missing') as ParsedContainer['pull'],
    ...(platform ? { platform } : {}),
    config,
    hostConfig,
    networking: { EndpointsConfig: networking.endpoints },
    quiet: o.bool('quiet') === true,
    detach,
    ...(detachKeys ? { detachKeys } : {}),
    sigProxy: o.bool('sigProxy') !== false,
  };
}
