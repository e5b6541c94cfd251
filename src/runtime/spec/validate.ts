// config.json validation: hull's own code for the OCI runtime-spec schemas, then the
// checks runc makes before it creates anything.
//
// It runs on every `create` and `exec`, so it is plain code with no schema library: a
// schema library would add a dependency, and a schema compile, to every CLI start.
// test/unit/spec-validate.test.ts keeps it honest against the official schemas in
// ../shared/specs/runtime-spec/, case by case and by a sweep of mutations.
//
// Two phases. The first is the JSON Schema (runtime-spec 1.3.0, config-schema.json and
// config-linux.json) as written, type for type, so a config the schema rejects is
// rejected here, naming the same field. The second is the meaning: what the schema lets
// through but the kernel or runc would refuse later, after namespaces exist and mounts
// are half made. Failing early keeps failure cheap and the message clear.
//
// The one place hull accepts more than the schema: linux.rootfsPropagation may be
// rshared, rslave, rprivate or runbindable too. runc takes them, and containerd's CRI
// writes "rslave" for pods with HostToContainer mounts, so rejecting them would break it.

import type { Process, Spec } from './types.ts';
import { CAPABILITIES } from '../capabilities.ts';
import { parseMountOptions } from './mount-options.ts';

/** A config.json or process.json that hull will not run; the message names the field. */
export class SpecError extends Error {
  /** The document: "config.json", "process.json". */
  readonly file: string;
  /** JSON path of the offending field, e.g. "linux.namespaces[2].type"; "" for the document. */
  readonly field: string;
  /**
   * Which rule failed: "json" (not JSON at all), "schema" (the official schema rejects
   * it too) or "semantic" (the schema allows it, but it cannot run).
   */
  readonly kind: 'json' | 'schema' | 'semantic';

  constructor(file: string, field: string, problem: string, kind: 'json' | 'schema' | 'semantic') {
    super(field === '' ? `${file}: ${problem}` : `${file}: ${field}: ${problem}`);
    this.name = 'SpecError';
    this.file = file;
    this.field = field;
    this.kind = kind;
  }
}

/** Rlimit names in kernel resource-number order (the index is the number). */
export const RLIMITS = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
  'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
] as const;

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

export const ROOTFS_PROPAGATIONS = [
  'shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable',
] as const;

/**
 * Validate a parsed config.json for `create`. Throws SpecError. Returns the same object,
 * with a missing process.user (or its uid/gid) filled in as 0, as runc reads it.
 */
export function validateSpec(value: unknown): Spec {
  const file = 'config.json';
  run(file, 'schema', () => SPEC(value, ''));
  const spec = value as Spec;
  run(file, 'semantic', () => checkSpecMeaning(spec));
  return spec;
}

/**
 * Validate a process object on its own: `exec --process process.json`. `where` names
 * the document in messages. Throws SpecError; returns the same object, user filled in
 * as for validateSpec.
 */
export function validateProcess(value: unknown, where = 'process.json'): Process {
  run(where, 'schema', () => PROCESS(value, ''));
  const process = value as Process;
  run(where, 'semantic', () => checkProcessMeaning(process, ''));
  return process;
}

/** Parse and validate config.json text. Throws SpecError for bad JSON too. */
export function parseSpecFile(text: string): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SpecError('config.json', '', `invalid JSON: ${(e as Error).message}`, 'json');
  }
  return validateSpec(value);
}

// Thrown inside, so the checks need not carry the document name; run() adds it.
class Invalid {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    this.path = path;
    this.problem = problem;
  }
}

function run(file: string, kind: 'schema' | 'semantic', body: () => void): void {
  try {
    body();
  } catch (e) {
    if (e instanceof Invalid) throw new SpecError(file, e.path, e.problem, kind);
    throw e;
  }
}

function invalid(path: string, problem: string): never {
  throw new Invalid(path, problem);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

// Map keys are data, not names: "net.ipv4.ip_forward" must not read as three fields.
function joinKey(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? join(path, key) : `${path}[${JSON.stringify(key)}]`;
}

// ---------------------------------------------------------------------------------------
// Phase 1: the schema. Each Check mirrors one schema definition.

type Check = (v: unknown, path: string) => void;
type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const STRING: Check = (v, p) => {
  if (typeof v !== 'string') invalid(p, 'must be a string');
};

const BOOLEAN: Check = (v, p) => {
  if (typeof v !== 'boolean') invalid(p, 'must be a boolean');
};

// Bounds are compared as doubles, as the schema's own 64-bit bounds are; so 2^64-1
// (RLIM_INFINITY) passes, which is what the schema means.
function integer(min: number, max: number, range: string): Check {
  const problem = range === '' ? 'must be an integer' : `must be an integer ${range}`;
  return (v, p) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(p, problem);
  };
}

const INT = integer(-Infinity, Infinity, '');
const INT32 = integer(-2147483648, 2147483647, 'from -2147483648 to 2147483647');
const INT64 = integer(-9223372036854775808, 9223372036854775807, 'from -9223372036854775808 to 9223372036854775807');
const UINT16 = integer(0, 65535, 'from 0 to 65535');
const UINT32 = integer(0, 4294967295, 'from 0 to 4294967295');
const UINT64 = integer(0, 18446744073709551615, 'from 0 to 18446744073709551615');
const FILE_MODE = integer(0, 511, 'from 0 to 511 (0777; JSON has no octal)');
const HOOK_TIMEOUT = integer(1, Infinity, 'of at least 1');

function oneOf(values: readonly string[]): Check {
  const list = values.join(', ');
  return (v, p) => {
    if (typeof v !== 'string') invalid(p, 'must be a string');
    if (!values.includes(v)) invalid(p, `${JSON.stringify(v)} is not one of ${list}`);
  };
}

function pattern(re: RegExp): Check {
  return (v, p) => {
    if (typeof v !== 'string') invalid(p, 'must be a string');
    if (!re.test(v)) invalid(p, `${JSON.stringify(v)} does not match ${re.source}`);
  };
}

function arrayOf(item: Check, minItems = 0): Check {
  return (v, p) => {
    if (!Array.isArray(v)) invalid(p, 'must be an array');
    if (v.length < minItems) invalid(p, `must have at least ${minItems} item${minItems === 1 ? '' : 's'}`);
    for (let i = 0; i < v.length; i++) item(v[i], `${p}[${i}]`);
  };
}

/**
 * An object with known properties. Unknown ones pass (the schemas allow them), unless
 * `rest` is given: then it checks every property, like additionalProperties. A property
 * whose value is undefined counts as absent, as in ajv, so JS-built specs check the same.
 */
function object(props: Record<string, Check>, required: readonly string[] = [], rest?: Check): Check {
  const entries = Object.entries(props);
  return (v, p) => {
    if (!isObject(v)) invalid(p, 'must be an object');
    for (const key of required) if (v[key] === undefined) invalid(join(p, key), 'required');
    for (const [key, check] of entries) {
      const x = v[key];
      if (x !== undefined) check(x, join(p, key));
    }
    if (rest) for (const key of Object.keys(v)) rest(v[key], joinKey(p, key));
  };
}

function allOf(...checks: Check[]): Check {
  return (v, p) => {
    for (const check of checks) check(v, p);
  };
}

// defs.json mapStringString: its patternProperties ".{1,}" covers any key holding a
// character other than a line terminator; such values must be strings. (So a key of ""
// is unconstrained; odd, but that is the schema.)
const STRING_MAP: Check = (v, p) => {
  if (!isObject(v)) invalid(p, 'must be an object');
  for (const key of Object.keys(v)) {
    if (typeof v[key] !== 'string' && /./u.test(key)) invalid(joinKey(p, key), 'must be a string');
  }
};

const STRINGS = arrayOf(STRING);

/** The hook stages of config.json, in the order a container meets them. */
export const HOOK_STAGES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

const HOOK = object({ path: STRING, args: STRINGS, env: STRINGS, timeout: HOOK_TIMEOUT }, ['path']);
const HOOKS = arrayOf(HOOK);

const ID_MAPPING = object({ containerID: UINT32, hostID: UINT32, size: UINT32 }, ['containerID', 'hostID', 'size']);
const ID_MAPPINGS = arrayOf(ID_MAPPING);

const MOUNT = object({
  source: STRING,
  destination: STRING,
  options: STRINGS,
  type: STRING,
  uidMappings: ID_MAPPINGS,
  gidMappings: ID_MAPPINGS,
}, ['destination']);

const SCHEDULER_POLICIES = [
  'SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE',
];
const SCHEDULER_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX',
];

const CPU_LIST = pattern(/^[0-9, -]*$/u);

const PROCESS = object({
  args: STRINGS,
  commandLine: STRING,
  consoleSize: object({ height: UINT64, width: UINT64 }, ['height', 'width']),
  cwd: STRING,
  env: STRINGS,
  terminal: BOOLEAN,
  user: object({
    uid: UINT32,
    gid: UINT32,
    umask: UINT32,
    additionalGids: arrayOf(UINT32),
    username: STRING,
  }),
  capabilities: object({
    bounding: STRINGS, permitted: STRINGS, effective: STRINGS, inheritable: STRINGS, ambient: STRINGS,
  }),
  apparmorProfile: STRING,
  oomScoreAdj: INT,
  selinuxLabel: STRING,
  ioPriority: object({
    class: oneOf(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']),
    priority: INT32,
  }, ['class']),
  noNewPrivileges: BOOLEAN,
  scheduler: object({
    policy: oneOf(SCHEDULER_POLICIES),
    nice: INT32,
    priority: INT32,
    flags: arrayOf(oneOf(SCHEDULER_FLAGS)),
    runtime: UINT64,
    deadline: UINT64,
    period: UINT64,
  }, ['policy']),
  // The schema's own pattern is ^RLIMIT_[A-Z]+$; the meaning phase narrows it to the
  // names the kernel has.
  rlimits: arrayOf(object({ hard: UINT64, soft: UINT64, type: pattern(/^RLIMIT_[A-Z]+$/u) }, ['type', 'soft', 'hard'])),
  execCPUAffinity: object({ initial: CPU_LIST, final: CPU_LIST }),
}, ['cwd']);

const DEVICE = object({
  type: pattern(/^[cbup]$/u),
  path: STRING,
  fileMode: FILE_MODE,
  major: INT64,
  minor: INT64,
  uid: UINT32,
  gid: UINT32,
}, ['type', 'path']);

const BLOCK_IO_DEVICE = object({ major: INT64, minor: INT64 }, ['major', 'minor']);
const BLOCK_IO_THROTTLES = arrayOf(allOf(BLOCK_IO_DEVICE, object({ rate: UINT64 })));

const RESOURCES = object({
  unified: STRING_MAP,
  devices: arrayOf(object({ allow: BOOLEAN, type: STRING, major: INT64, minor: INT64, access: STRING }, ['allow'])),
  pids: object({ limit: INT64 }, ['limit']),
  blockIO: object({
    weight: UINT16,
    leafWeight: UINT16,
    throttleReadBpsDevice: BLOCK_IO_THROTTLES,
    throttleWriteBpsDevice: BLOCK_IO_THROTTLES,
    throttleReadIOPSDevice: BLOCK_IO_THROTTLES,
    throttleWriteIOPSDevice: BLOCK_IO_THROTTLES,
    weightDevice: arrayOf(allOf(BLOCK_IO_DEVICE, object({ weight: UINT16, leafWeight: UINT16 }))),
  }),
  cpu: object({
    cpus: STRING,
    mems: STRING,
    period: UINT64,
    quota: INT64,
    burst: UINT64,
    realtimePeriod: UINT64,
    realtimeRuntime: INT64,
    shares: UINT64,
    idle: INT64,
  }),
  hugepageLimits: arrayOf(object({ pageSize: pattern(/^[1-9][0-9]*[KMG]B$/u), limit: UINT64 }, ['pageSize', 'limit'])),
  memory: object({
    kernel: INT64,
    kernelTCP: INT64,
    limit: INT64,
    reservation: INT64,
    swap: INT64,
    swappiness: UINT64,
    disableOOMKiller: BOOLEAN,
    useHierarchy: BOOLEAN,
    checkBeforeUpdate: BOOLEAN,
  }),
  network: object({
    classID: UINT32,
    priorities: arrayOf(object({ name: STRING, priority: UINT32 }, ['name', 'priority'])),
  }),
  rdma: object({}, [], object({ hcaHandles: UINT32, hcaObjects: UINT32 })),
});

const SECCOMP_ACTION = oneOf([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
]);

const SECCOMP = object({
  defaultAction: SECCOMP_ACTION,
  defaultErrnoRet: UINT32,
  flags: arrayOf(oneOf([
    'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
    'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  ])),
  listenerPath: STRING,
  listenerMetadata: STRING,
  architectures: arrayOf(oneOf([
    'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
    'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
    'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
    'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
    'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
  ])),
  syscalls: arrayOf(object({
    names: arrayOf(STRING, 1),
    action: SECCOMP_ACTION,
    errnoRet: UINT32,
    args: arrayOf(object({
      index: UINT32,
      value: UINT64,
      valueTwo: UINT64,
      op: oneOf([
        'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT',
        'SCMP_CMP_MASKED_EQ',
      ]),
    }, ['index', 'value', 'op'])),
  }, ['names', 'action'])),
}, ['defaultAction']);

const TIME_OFFSET = object({ secs: INT64, nanosecs: UINT32 });

const LINUX = object({
  devices: arrayOf(DEVICE),
  netDevices: object({}, [], object({ name: STRING })),
  uidMappings: ID_MAPPINGS,
  gidMappings: ID_MAPPINGS,
  namespaces: arrayOf(object({ type: oneOf(NAMESPACE_TYPES), path: STRING }, ['type'])),
  resources: RESOURCES,
  cgroupsPath: STRING,
  rootfsPropagation: oneOf(ROOTFS_PROPAGATIONS),
  seccomp: SECCOMP,
  sysctl: STRING_MAP,
  maskedPaths: STRINGS,
  readonlyPaths: STRINGS,
  mountLabel: STRING,
  intelRdt: object({
    closID: STRING,
    schemata: STRINGS,
    l3CacheSchema: STRING,
    memBwSchema: pattern(/^MB:[^\n]*$/u),
    enableMonitoring: BOOLEAN,
  }),
  memoryPolicy: object({
    mode: oneOf([
      'MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED',
      'MPOL_PREFERRED_MANY', 'MPOL_LOCAL',
    ]),
    nodes: STRING,
    flags: arrayOf(oneOf(['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'])),
  }),
  personality: object({ domain: oneOf(['LINUX', 'LINUX32']), flags: STRINGS }),
  timeOffsets: object({ boottime: TIME_OFFSET, monotonic: TIME_OFFSET }),
});

// The other platforms' sections (windows, solaris, vm, zos, freebsd) are not checked:
// hull runs Linux containers and never reads them.
const SPEC = object({
  ociVersion: STRING,
  hooks: object({
    prestart: HOOKS,
    createRuntime: HOOKS,
    createContainer: HOOKS,
    startContainer: HOOKS,
    poststart: HOOKS,
    poststop: HOOKS,
  }),
  annotations: STRING_MAP,
  hostname: STRING,
  domainname: STRING,
  mounts: arrayOf(MOUNT),
  root: object({ path: STRING, readonly: BOOLEAN }, ['path']),
  process: PROCESS,
  linux: LINUX,
}, ['ociVersion']);

// ---------------------------------------------------------------------------------------
// Phase 2: the meaning. Types are known good here.

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set(CAPABILITIES);
const KNOWN_RLIMITS: ReadonlySet<string> = new Set(RLIMITS);

function absolute(path: string, value: string): void {
  if (!value.startsWith('/')) invalid(path, `${JSON.stringify(value)} must be an absolute path`);
}

// Strings reach the kernel as C strings, through the launch plan: a NUL would silently
// cut them short, so a path could name something else than it says.
function noNul(path: string, value: string): void {
  if (value.includes('\0')) invalid(path, 'must not contain a NUL byte');
}

function checkProcessMeaning(process: Process, path: string): void {
  const cwd = join(path, 'cwd');
  if (process.cwd === '') invalid(cwd, 'must not be empty');
  absolute(cwd, process.cwd);
  noNul(cwd, process.cwd);

  if (process.args === undefined) invalid(join(path, 'args'), 'required');
  if (process.args.length === 0) invalid(join(path, 'args'), 'must not be empty');
  process.args.forEach((arg, i) => noNul(`${join(path, 'args')}[${i}]`, arg));

  // execve takes "NAME=value"; runc's init refuses anything else, so refuse it before
  // any namespace exists.
  process.env?.forEach((pair, i) => {
    const at = `${join(path, 'env')}[${i}]`;
    const eq = pair.indexOf('=');
    if (eq < 0) invalid(at, `${JSON.stringify(pair)} must be NAME=value`);
    if (eq === 0) invalid(at, `${JSON.stringify(pair)} has an empty name`);
    noNul(at, pair);
  });

  // The schema leaves user optional, but runc reads a missing one as uid 0, gid 0 (Go's
  // zero values), and the rest of hull wants the field there.
  process.user ??= { uid: 0, gid: 0 };
  process.user.uid ??= 0;
  process.user.gid ??= 0;

  const caps = process.capabilities;
  if (caps) {
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
      caps[set]?.forEach((name, i) => {
        if (KNOWN_CAPABILITIES.has(name)) return;
        const upper = name.toUpperCase();
        const near = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
        const hint = KNOWN_CAPABILITIES.has(near) ? ` (did you mean "${near}"?)` : '';
        invalid(`${join(path, `capabilities.${set}`)}[${i}]`, `${JSON.stringify(name)} is not a known capability${hint}`);
      });
    }
  }

  process.rlimits?.forEach((rlimit, i) => {
    const at = `${join(path, 'rlimits')}[${i}]`;
    if (!KNOWN_RLIMITS.has(rlimit.type)) invalid(`${at}.type`, `${JSON.stringify(rlimit.type)} is not a known rlimit`);
    if (rlimit.soft > rlimit.hard) invalid(`${at}.soft`, `must not exceed hard (${rlimit.hard})`);
  });

  // The kernel's range; writing anything else to oom_score_adj fails after the fact.
  if (process.oomScoreAdj !== undefined && (process.oomScoreAdj < -1000 || process.oomScoreAdj > 1000)) {
    invalid(join(path, 'oomScoreAdj'), 'must be from -1000 to 1000');
  }

  const io = process.ioPriority;
  if (io && io.priority !== undefined && (io.priority < 0 || io.priority > 7)) {
    invalid(join(path, 'ioPriority.priority'), 'must be from 0 to 7');
  }

  // sched_setattr(2)'s rules, as runc checks them.
  const sched = process.scheduler as
    | { policy: string; nice?: number; priority?: number; runtime?: number; deadline?: number; period?: number }
    | undefined;
  if (sched) {
    const at = join(path, 'scheduler');
    const nice = sched.nice ?? 0;
    const fair = sched.policy === 'SCHED_OTHER' || sched.policy === 'SCHED_BATCH' || sched.policy === 'SCHED_IDLE';
    if (fair && (nice < -20 || nice > 19)) {
      invalid(`${at}.nice`, `must be from -20 to 19 with ${sched.policy}`);
    }
    if ((sched.priority ?? 0) !== 0 && sched.policy !== 'SCHED_FIFO' && sched.policy !== 'SCHED_RR') {
      invalid(`${at}.priority`, 'is only for SCHED_FIFO and SCHED_RR');
    }
    if (sched.policy !== 'SCHED_DEADLINE') {
      for (const key of ['runtime', 'deadline', 'period'] as const) {
        if ((sched[key] ?? 0) !== 0) invalid(`${at}.${key}`, 'is only for SCHED_DEADLINE');
      }
    }
    // Beyond runc: what the kernel would refuse with a bare EINVAL once namespaces exist.
    if (sched.policy === 'SCHED_ISO') {
      invalid(`${at}.policy`, 'SCHED_ISO is not a policy of the Linux kernel (it came from the -ck patch set)');
    }
    if ((sched.policy === 'SCHED_FIFO' || sched.policy === 'SCHED_RR') && ((sched.priority ?? 0) < 1 || (sched.priority ?? 0) > 99)) {
      invalid(`${at}.priority`, `must be from 1 to 99 with ${sched.policy}`);
    }
    if (sched.policy === 'SCHED_DEADLINE') {
      const runtime = sched.runtime ?? 0;
      const deadline = sched.deadline ?? 0;
      const period = sched.period ?? 0;
      if (deadline === 0) invalid(`${at}.deadline`, 'required with SCHED_DEADLINE (nanoseconds, not 0)');
      if (deadline >= 2 ** 63) invalid(`${at}.deadline`, 'must be below 2^63');
      if (period >= 2 ** 63) invalid(`${at}.period`, 'must be below 2^63');
      // The kernel keeps runtime in units of 1024 ns.
      if (runtime < 1024) invalid(`${at}.runtime`, 'must be at least 1024 (nanoseconds) with SCHED_DEADLINE');
      if (runtime > deadline) invalid(`${at}.runtime`, `must not exceed deadline (${deadline}): runtime <= deadline <= period`);
      if (period !== 0 && deadline > period) invalid(`${at}.deadline`, `must not exceed period (${period}): runtime <= deadline <= period`);
    }
  }

  // Written to /proc/self/attr as one line; a newline would end the value early.
  for (const key of ['apparmorProfile', 'selinuxLabel'] as const) {
    const v = process[key];
    if (v !== undefined && /[\n\0]/.test(v)) invalid(join(path, key), 'must not contain a newline or NUL byte');
  }
}

// runc's list of sysctls that belong to the IPC namespace, besides fs.mqueue.*.
const IPC_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

// sysctl(8) also takes "/" as the separator ("net/ipv4/ip_forward"); if the first
// separator is a "/", the dots and slashes swap roles.
function sysctlName(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

// /proc/sys is only partly namespaced. A sysctl set in a namespace the container shares
// with the host would change the host, so only those of the container's own namespaces
// are allowed.
function checkSysctl(key: string, path: string, has: (type: string) => boolean): void {
  const name = sysctlName(key);
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) {
    if (!has('ipc')) invalid(path, 'needs an ipc namespace in linux.namespaces');
    return;
  }
  if (name.startsWith('net.')) {
    // runc also refuses a network namespace path that is the host's own; that needs a
    // stat, so the runtime checks it when it joins the namespace.
    if (!has('network')) invalid(path, "is not allowed in the host's network namespace (linux.namespaces has no network entry)");
    return;
  }
  if (name === 'kernel.hostname' || name === 'kernel.domainname') {
    if (!has('uts')) invalid(path, 'needs a uts namespace in linux.namespaces');
    // Two sources for one value would disagree; runc refuses this one, and so does hull.
    if (name === 'kernel.hostname') invalid(path, 'conflicts with the "hostname" field; set that instead');
    return;
  }
  if (name.startsWith('user.')) {
    // ucounts set outside a user namespace would be the host's limits.
    if (!has('user')) invalid(path, 'needs a user namespace in linux.namespaces');
    return;
  }
  invalid(path, 'is not namespaced, so a container may not set it');
}

/** The namespace a (namespaced) sysctl belongs to; undefined for one that is not namespaced. */
export function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | 'user' | undefined {
  const name = sysctlName(key);
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name.startsWith('net.')) return 'network';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  if (name.startsWith('user.')) return 'user';
  return undefined;
}

// The kernel's rule for network device names (dev_valid_name), with IFNAMSIZ 16.
function validNetDeviceName(name: string): boolean {
  return name.length > 0 && name.length <= 16 && name !== '.' && name !== '..' && !/[/: ]/.test(name);
}

function checkSpecMeaning(spec: Spec): void {
  if (spec.root === undefined) invalid('root', 'required');
  if (spec.root.path === '') invalid('root.path', 'must not be empty');
  noNul('root.path', spec.root.path);

  if (spec.process === undefined) invalid('process', 'required');
  checkProcessMeaning(spec.process, 'process');

  const linux = spec.linux ?? {};
  const namespaces = new Map<string, string | undefined>();
  linux.namespaces?.forEach((ns, i) => {
    if (namespaces.has(ns.type)) invalid(`linux.namespaces[${i}].type`, `duplicate namespace ${JSON.stringify(ns.type)}`);
    // An empty path means "make a new one", as in runc.
    const nsPath = ns.path === '' ? undefined : ns.path;
    if (nsPath !== undefined) absolute(`linux.namespaces[${i}].path`, nsPath);
    namespaces.set(ns.type, nsPath);
  });
  const has = (type: string) => namespaces.has(type);

  if (has('user')) {
    if (namespaces.get('user') === undefined && linux.uidMappings === undefined && linux.gidMappings === undefined) {
      invalid('linux.uidMappings', 'required to create a user namespace (or give linux.namespaces a user namespace path)');
    }
  } else {
    if (linux.uidMappings !== undefined) invalid('linux.uidMappings', 'needs a user namespace in linux.namespaces');
    if (linux.gidMappings !== undefined) invalid('linux.gidMappings', 'needs a user namespace in linux.namespaces');
  }

  if (linux.timeOffsets !== undefined) {
    if (!has('time')) invalid('linux.timeOffsets', 'needs a time namespace in linux.namespaces');
    // Offsets can only be written before the namespace has a process in it.
    if (namespaces.get('time') !== undefined) invalid('linux.timeOffsets', 'cannot be set when joining an existing time namespace');
    for (const [clock, offset] of Object.entries(linux.timeOffsets)) {
      const at = joinKey('linux.timeOffsets', clock);
      if (clock !== 'boottime' && clock !== 'monotonic') invalid(at, `${JSON.stringify(clock)} is not one of boottime, monotonic`);
      if ((offset.nanosecs ?? 0) >= 1e9) invalid(`${at}.nanosecs`, 'must be less than 1000000000');
    }
  }

  if (spec.hostname && !has('uts')) invalid('hostname', 'needs a uts namespace in linux.namespaces');
  if (spec.domainname && !has('uts')) invalid('domainname', 'needs a uts namespace in linux.namespaces');
  if (spec.hostname) noNul('hostname', spec.hostname);
  if (spec.domainname) noNul('domainname', spec.domainname);

  spec.mounts?.forEach((m, i) => {
    const at = `mounts[${i}]`;
    absolute(`${at}.destination`, m.destination);
    noNul(`${at}.destination`, m.destination);
    if (m.source !== undefined) noNul(`${at}.source`, m.source);
    if (m.type !== undefined) noNul(`${at}.type`, m.type);
    const opts = parseMountOptions(m.options);
    // The plan compiler treats type "bind" as a bind mount even without a bind option.
    const bind = opts.bind || m.type === 'bind';
    // The kernel ignores filesystem options on a bind mount without a word, so the
    // container would run without what the config asked for.
    if (bind && opts.data.length > 0) {
      invalid(`${at}.options`, `a bind mount cannot take filesystem options (${opts.data.join(', ')})`);
    }
    const mapped = m.uidMappings !== undefined || m.gidMappings !== undefined;
    if (mapped || opts.idmap) {
      if (!bind) invalid(at, 'only bind mounts can be id-mapped');
      if (mapped) {
        if (!m.uidMappings?.length) invalid(`${at}.uidMappings`, 'required with gidMappings: an id-mapped mount needs both');
        if (!m.gidMappings?.length) invalid(`${at}.gidMappings`, 'required with uidMappings: an id-mapped mount needs both');
      } else if (!has('user')) {
        // Without its own mappings the mount borrows the container's user namespace.
        invalid(`${at}.options`, 'an id-mapped mount without uidMappings/gidMappings needs a user namespace');
      }
    }
  });

  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    const paths = linux[key];
    if (!paths?.length) continue;
    if (!has('mount')) invalid(`linux.${key}`, 'needs a mount namespace in linux.namespaces');
    paths.forEach((p, i) => absolute(`linux.${key}[${i}]`, p));
  }

  if (linux.sysctl) {
    for (const key of Object.keys(linux.sysctl)) checkSysctl(key, joinKey('linux.sysctl', key), has);
  }

  linux.devices?.forEach((d, i) => {
    const at = `linux.devices[${i}]`;
    absolute(`${at}.path`, d.path);
    noNul(`${at}.path`, d.path);
    if (d.type !== 'p') {
      if (d.major === undefined) invalid(`${at}.major`, `required for device type ${JSON.stringify(d.type)}`);
      if (d.minor === undefined) invalid(`${at}.minor`, `required for device type ${JSON.stringify(d.type)}`);
    }
  });

  // The cgroup device rules become a BPF program (v2) or devices.allow lines (v1);
  // both know only these types and permissions.
  linux.resources?.devices?.forEach((rule, i) => {
    const at = `linux.resources.devices[${i}]`;
    if (rule.type !== undefined && rule.type !== '' && rule.type !== 'a' && rule.type !== 'b' && rule.type !== 'c') {
      invalid(`${at}.type`, `${JSON.stringify(rule.type)} is not one of a, b, c`);
    }
    if (rule.access === undefined || rule.access === '') invalid(`${at}.access`, 'must not be empty');
    if (!/^[rwm]+$/.test(rule.access)) invalid(`${at}.access`, `${JSON.stringify(rule.access)} may hold only r, w and m`);
  });

  if (linux.personality && linux.personality.domain === undefined) {
    invalid('linux.personality.domain', 'required');
  }

  // It goes into mount data as context="<label>": a quote or a line break would end it early.
  if (linux.mountLabel !== undefined && /["\n\0]/.test(linux.mountLabel)) {
    invalid('linux.mountLabel', 'must not contain a double quote, newline or NUL byte');
  }

  const rdt = linux.intelRdt as { closID?: string; schemata?: string[]; l3CacheSchema?: string } | undefined;
  if (rdt) {
    // The group is a directory right under the resctrl mount, beside the kernel's own entries.
    const clos = rdt.closID ?? '';
    if (clos === '.' || clos === '..' || /[/\n\0]/.test(clos)) {
      invalid('linux.intelRdt.closID', `${JSON.stringify(clos)} must be a plain directory name (no "/", not "." or "..")`);
    }
    if (clos === 'info' || clos === 'mon_groups' || clos === 'mon_data') {
      invalid('linux.intelRdt.closID', `${JSON.stringify(clos)} is a name the resctrl filesystem reserves`);
    }
    if (rdt.l3CacheSchema && !/^L3\w*:[^\n]*$/.test(rdt.l3CacheSchema)) {
      invalid('linux.intelRdt.l3CacheSchema', `${JSON.stringify(rdt.l3CacheSchema)} must be one line of the form L3:<cache id>=<bitmask>;...`);
    }
    rdt.schemata?.forEach((line, i) => {
      if (!/^\w+:[^\n]*$/.test(line)) {
        invalid(`linux.intelRdt.schemata[${i}]`, `${JSON.stringify(line)} must be one line of the form <resource>:<id>=<value>;...`);
      }
    });
  }

  const netDevices = (linux as { netDevices?: Record<string, { name?: string }> }).netDevices;
  if (netDevices && Object.keys(netDevices).length > 0) {
    if (!has('network')) invalid('linux.netDevices', 'needs a network namespace in linux.namespaces');
    for (const [name, dev] of Object.entries(netDevices)) {
      const at = joinKey('linux.netDevices', name);
      if (!validNetDeviceName(name)) invalid(at, `${JSON.stringify(name)} is not a valid network device name`);
      if (dev.name !== undefined && dev.name !== '' && !validNetDeviceName(dev.name)) {
        invalid(`${at}.name`, `${JSON.stringify(dev.name)} is not a valid network device name`);
      }
    }
  }

  if (spec.hooks) {
    // Only the stages the schema knows were type-checked; other keys are not hooks.
    for (const stage of HOOK_STAGES) {
      spec.hooks[stage]?.forEach((hook, i) => {
        absolute(`hooks.${stage}[${i}].path`, hook.path);
        noNul(`hooks.${stage}[${i}].path`, hook.path);
      });
    }
  }
}
