// hull's config.json validator against the official runtime-spec schemas: for every
// schema-level case, ajv and hull must agree on valid/invalid, and hull must name the
// field ajv names. The semantic cases are ones the schema lets through but runc (and so
// hull) refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv-draft-04';
import type { ErrorObject } from 'ajv-draft-04';
import { SpecError, parseSpecFile, validateProcess, validateSpec } from '../../src/runtime/spec/validate.ts';

// The schemas live beside the repository (../shared), never copied into it.
const SCHEMAS = new URL('../../../shared/specs/runtime-spec/', import.meta.url);

function loadConfigSchema() {
  // strict: false because the schema files keep their definitions under non-keyword
  // keys ("linux", "definitions" of sub-files), which ajv's strict mode refuses.
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  for (const file of ['defs.json', 'defs-linux.json', 'config-linux.json', 'config-schema.json']) {
    const url = new URL(file, SCHEMAS);
    ajv.addSchema(JSON.parse(readFileSync(url, 'utf8')), url.href);
  }
  // config-schema.json also refers to the other platforms' files, some of which are not
  // in ../shared (and config-vm.json refers to a missing defs-vm.json). hull runs Linux
  // only and never reads those sections, so they are stubbed to accept anything.
  for (const platform of ['solaris', 'windows', 'vm', 'zos', 'freebsd']) {
    ajv.addSchema({ [platform]: {} }, new URL(`config-${platform}.json`, SCHEMAS).href);
  }
  const validate = ajv.getSchema(new URL('config-schema.json', SCHEMAS).href);
  assert.ok(validate, 'config-schema.json compiles');
  return validate;
}

const schemaValidate = loadConfigSchema();

// ajv's JSON pointers, written the way hull writes field paths.
function fieldPath(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') parts.push((e.params as { missingProperty: string }).missingProperty);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

function ajvCheck(config: unknown): { valid: boolean; paths: string[] } {
  const valid = schemaValidate(config) as boolean;
  return { valid, paths: (schemaValidate.errors ?? []).map(fieldPath) };
}

function hullError(config: unknown): SpecError | undefined {
  try {
    validateSpec(structuredClone(config));
    return undefined;
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${String(e)}`);
    return e;
  }
}

// ---------------------------------------------------------------------------------------
// The corpus.

// What `runc spec` writes (runtime-spec 1.3.0), with runc's hostname.
const RUNC_DEFAULT = {
  ociVersion: '1.3.0',
  process: {
    terminal: true,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'runc',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
    maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};

const MINIMAL = { ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['true'] } };

const HOOK = { path: '/usr/bin/hook', args: ['hook', 'x'], env: ['A=1'], timeout: 5 };

// Every field hull reads, and then some, in a combination that is also meaningful.
const EVERYTHING = {
  ociVersion: '1.3.0',
  hooks: {
    prestart: [HOOK], createRuntime: [HOOK], createContainer: [{ path: '/bin/true' }],
    startContainer: [HOOK], poststart: [HOOK], poststop: [HOOK],
  },
  annotations: { 'org.example.key': 'value' },
  hostname: 'box',
  domainname: 'example.org',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: [] },
    { destination: '/data', source: '/srv/data', options: ['rbind', 'rprivate', 'ro', 'rro'] },
    {
      destination: '/mapped', type: 'none', source: '/srv/mapped', options: ['bind', 'idmap'],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    },
    { destination: '/borrowed', source: '/srv/b', options: ['rbind', 'ridmap'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup', 'size=1g'] },
  ],
  root: { path: '/var/lib/rootfs', readonly: false },
  process: {
    terminal: false,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 4294967295], username: 'me' },
    args: ['/bin/app', '--flag'],
    commandLine: 'app --flag',
    env: ['PATH=/bin', 'EMPTY='],
    cwd: '/home/me',
    capabilities: {
      bounding: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_CHOWN'], inheritable: [],
      permitted: ['CAP_CHOWN'], ambient: ['CAP_CHOWN'],
    },
    rlimits: [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
    ],
    noNewPrivileges: true,
    apparmorProfile: 'unconfined',
    oomScoreAdj: -500,
    selinuxLabel: '',
    ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
    scheduler: { policy: 'SCHED_OTHER', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
    execCPUAffinity: { initial: '0-3, 7', final: '1' },
  },
  linux: {
    devices: [
      { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
      { type: 'b', path: '/dev/loop9', major: 7, minor: 9 },
      { type: 'p', path: '/dev/fifo' },
    ],
    netDevices: { eth1: { name: 'eth0' } },
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    namespaces: [
      { type: 'pid' }, { type: 'network', path: '/var/run/netns/box' }, { type: 'mount' }, { type: 'ipc' },
      { type: 'uts' }, { type: 'user' }, { type: 'cgroup' }, { type: 'time', path: '' },
    ],
    resources: {
      unified: { 'memory.high': '1G' },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'a', major: -1, access: 'm' }],
      pids: { limit: -1 },
      blockIO: {
        weight: 500, leafWeight: 300,
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }],
      },
      cpu: { cpus: '0-1', mems: '0', period: 100000, quota: -1, burst: 0, realtimePeriod: 0, realtimeRuntime: 0, shares: 1024, idle: 0 },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      memory: {
        kernel: -1, kernelTCP: -1, limit: 9223372036854775807, reservation: 0, swap: -1, swappiness: 60,
        disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true,
      },
      network: { classID: 1, priorities: [{ name: 'eth0', priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
    },
    cgroupsPath: '/hull/box',
    rootfsPropagation: 'slave',
    seccomp: {
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, flags: ['SECCOMP_FILTER_FLAG_LOG'],
      listenerPath: '/run/seccomp.sock', listenerMetadata: 'x',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }, { names: ['personality'], action: 'SCMP_ACT_ALLOW', errnoRet: 1, args: [{ index: 0, value: 0, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }],
    },
    sysctl: { 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '10', 'net.ipv4.ip_forward': '1', 'net/ipv4/conf/eth0.100/rp_filter': '0', 'kernel.domainname': 'x', 'user.max_user_namespaces': '0' },
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    mountLabel: '',
    intelRdt: { closID: 'guaranteed', schemata: ['L3:0=ff'], l3CacheSchema: 'L3:0=ff', memBwSchema: 'MB:0=50', enableMonitoring: true },
    memoryPolicy: { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] },
    personality: { domain: 'LINUX32', flags: [] },
    timeOffsets: { boottime: { secs: -3600, nanosecs: 0 }, monotonic: { secs: 86400, nanosecs: 999999999 } },
  },
  // Unknown fields are allowed at every level; other platforms' sections are ignored.
  windows: { layerFolders: [] },
  'org.example.extension': { any: ['thing'] },
};

// Test edits reach deep into untyped JSON.
type J = any;

function change(base: object, edit: (c: J) => void): unknown {
  const c = structuredClone(base);
  edit(c);
  return c;
}

interface Case {
  name: string;
  config: unknown;
  /** The field hull must name; absent for a valid config. "" for the document itself. */
  field?: string;
}

const valid: Case[] = [
  { name: 'runc spec default', config: RUNC_DEFAULT },
  { name: 'minimal', config: MINIMAL },
  { name: 'process without user (runc reads uid 0, gid 0)', config: { ociVersion: '1', root: { path: 'r' }, process: { cwd: '/', args: ['sh'] } } },
  { name: 'every field', config: EVERYTHING },
  { name: 'unknown fields everywhere', config: change(RUNC_DEFAULT, (c) => { c.x = 1; c.process.x = [1]; c.process.user.x = null; c.linux.x = {}; c.mounts[0].x = 'y'; c.root.x = true; }) },
  { name: 'uint32 upper bound', config: change(MINIMAL, (c) => { c.process.user = { uid: 4294967295, gid: 4294967295 }; }) },
  { name: 'integral float is an integer', config: change(MINIMAL, (c) => { c.process.user = { uid: 1.0, gid: 0 }; }) },
  { name: 'new namespaces joined by path', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[1].path = '/proc/1234/ns/net'; }) },
  { name: 'user namespace by path without mappings', config: change(MINIMAL, (c) => { c.linux = { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }] }; }) },
  { name: 'empty hooks and mounts', config: change(MINIMAL, (c) => { c.hooks = {}; c.mounts = []; c.linux = {}; }) },
  { name: 'annotation key of only a newline is unconstrained', config: change(MINIMAL, (c) => { c.annotations = { '\n': 1 }; }) },
  { name: 'fifo device needs no numbers', config: change(MINIMAL, (c) => { c.linux = { devices: [{ type: 'p', path: '/dev/p' }] }; }) },
  { name: 'defaults option and propagation on a bind', config: change(MINIMAL, (c) => { c.mounts = [{ destination: '/x', source: '/y', options: ['defaults', 'bind', 'rslave'] }]; }) },
];

// Each breaks one schema rule; field is where both ajv and hull must point.
const schemaInvalid: Case[] = [
  { name: 'not an object', config: [], field: '' },
  { name: 'null document', config: null, field: '' },
  { name: 'missing ociVersion', config: change(MINIMAL, (c) => { delete c.ociVersion; }), field: 'ociVersion' },
  { name: 'ociVersion a number', config: change(MINIMAL, (c) => { c.ociVersion = 1; }), field: 'ociVersion' },
  { name: 'hostname a number', config: change(RUNC_DEFAULT, (c) => { c.hostname = 5; }), field: 'hostname' },
  { name: 'domainname null', config: change(RUNC_DEFAULT, (c) => { c.domainname = null; }), field: 'domainname' },
  { name: 'root not an object', config: change(MINIMAL, (c) => { c.root = 'rootfs'; }), field: 'root' },
  { name: 'root.path missing', config: change(MINIMAL, (c) => { c.root = { readonly: true }; }), field: 'root.path' },
  { name: 'root.readonly a string', config: change(MINIMAL, (c) => { c.root.readonly = 'true'; }), field: 'root.readonly' },
  { name: 'process an array', config: change(MINIMAL, (c) => { c.process = []; }), field: 'process' },
  { name: 'process.cwd missing', config: change(MINIMAL, (c) => { delete c.process.cwd; }), field: 'process.cwd' },
  { name: 'process.args a string', config: change(MINIMAL, (c) => { c.process.args = 'sh'; }), field: 'process.args' },
  { name: 'process.args item a number', config: change(MINIMAL, (c) => { c.process.args = ['sh', 1]; }), field: 'process.args[1]' },
  { name: 'process.env an object', config: change(MINIMAL, (c) => { c.process.env = { A: '1' }; }), field: 'process.env' },
  { name: 'process.terminal a number', config: change(MINIMAL, (c) => { c.process.terminal = 1; }), field: 'process.terminal' },
  { name: 'uid negative', config: change(MINIMAL, (c) => { c.process.user = { uid: -1, gid: 0 }; }), field: 'process.user.uid' },
  { name: 'uid fractional', config: change(MINIMAL, (c) => { c.process.user = { uid: 1.5, gid: 0 }; }), field: 'process.user.uid' },
  { name: 'uid too big', config: change(MINIMAL, (c) => { c.process.user = { uid: 4294967296, gid: 0 }; }), field: 'process.user.uid' },
  { name: 'gid a string', config: change(MINIMAL, (c) => { c.process.user = { uid: 0, gid: '0' }; }), field: 'process.user.gid' },
  { name: 'umask negative', config: change(MINIMAL, (c) => { c.process.user = { uid: 0, gid: 0, umask: -2 }; }), field: 'process.user.umask' },
  { name: 'additionalGids item negative', config: change(MINIMAL, (c) => { c.process.user = { uid: 0, gid: 0, additionalGids: [1, -1] }; }), field: 'process.user.additionalGids[1]' },
  { name: 'user an array', config: change(MINIMAL, (c) => { c.process.user = [0, 0]; }), field: 'process.user' },
  { name: 'consoleSize without width', config: change(MINIMAL, (c) => { c.process.consoleSize = { height: 1 }; }), field: 'process.consoleSize.width' },
  { name: 'consoleSize height negative', config: change(MINIMAL, (c) => { c.process.consoleSize = { height: -1, width: 1 }; }), field: 'process.consoleSize.height' },
  { name: 'capabilities set a string', config: change(RUNC_DEFAULT, (c) => { c.process.capabilities.bounding = 'CAP_KILL'; }), field: 'process.capabilities.bounding' },
  { name: 'capability a number', config: change(RUNC_DEFAULT, (c) => { c.process.capabilities.ambient = [5]; }), field: 'process.capabilities.ambient[0]' },
  { name: 'rlimit without hard', config: change(RUNC_DEFAULT, (c) => { delete c.process.rlimits[0].hard; }), field: 'process.rlimits[0].hard' },
  { name: 'rlimit soft a string', config: change(RUNC_DEFAULT, (c) => { c.process.rlimits[0].soft = '1024'; }), field: 'process.rlimits[0].soft' },
  { name: 'rlimit type off pattern', config: change(RUNC_DEFAULT, (c) => { c.process.rlimits[0].type = 'rlimit_nofile'; }), field: 'process.rlimits[0].type' },
  { name: 'rlimits an object', config: change(RUNC_DEFAULT, (c) => { c.process.rlimits = {}; }), field: 'process.rlimits' },
  { name: 'oomScoreAdj fractional', config: change(MINIMAL, (c) => { c.process.oomScoreAdj = 0.5; }), field: 'process.oomScoreAdj' },
  { name: 'ioPriority class unknown', config: change(MINIMAL, (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_NONE' }; }), field: 'process.ioPriority.class' },
  { name: 'ioPriority without class', config: change(MINIMAL, (c) => { c.process.ioPriority = { priority: 1 }; }), field: 'process.ioPriority.class' },
  { name: 'scheduler policy unknown', config: change(MINIMAL, (c) => { c.process.scheduler = { policy: 'SCHED_FAST' }; }), field: 'process.scheduler.policy' },
  { name: 'scheduler without policy', config: change(MINIMAL, (c) => { c.process.scheduler = { nice: 1 }; }), field: 'process.scheduler.policy' },
  { name: 'scheduler flag unknown', config: change(MINIMAL, (c) => { c.process.scheduler = { policy: 'SCHED_RR', flags: ['SCHED_FLAG_X'] }; }), field: 'process.scheduler.flags[0]' },
  { name: 'execCPUAffinity off pattern', config: change(MINIMAL, (c) => { c.process.execCPUAffinity = { initial: 'all' }; }), field: 'process.execCPUAffinity.initial' },
  { name: 'noNewPrivileges a number', config: change(MINIMAL, (c) => { c.process.noNewPrivileges = 1; }), field: 'process.noNewPrivileges' },
  { name: 'apparmorProfile a boolean', config: change(MINIMAL, (c) => { c.process.apparmorProfile = false; }), field: 'process.apparmorProfile' },
  { name: 'hooks an array', config: change(MINIMAL, (c) => { c.hooks = []; }), field: 'hooks' },
  { name: 'hook stage an object', config: change(MINIMAL, (c) => { c.hooks = { poststop: HOOK }; }), field: 'hooks.poststop' },
  { name: 'hook without path', config: change(MINIMAL, (c) => { c.hooks = { prestart: [{ args: [] }] }; }), field: 'hooks.prestart[0].path' },
  { name: 'hook timeout zero', config: change(MINIMAL, (c) => { c.hooks = { createRuntime: [{ path: '/x', timeout: 0 }] }; }), field: 'hooks.createRuntime[0].timeout' },
  { name: 'hook timeout fractional', config: change(MINIMAL, (c) => { c.hooks = { poststart: [{ path: '/x', timeout: 1.5 }] }; }), field: 'hooks.poststart[0].timeout' },
  { name: 'hook args a string', config: change(MINIMAL, (c) => { c.hooks = { startContainer: [{ path: '/x', args: 'x' }] }; }), field: 'hooks.startContainer[0].args' },
  { name: 'annotation value a number', config: change(MINIMAL, (c) => { c.annotations = { 'io.x': 1 }; }), field: 'annotations["io.x"]' },
  { name: 'annotations an array', config: change(MINIMAL, (c) => { c.annotations = ['a=b']; }), field: 'annotations' },
  { name: 'mounts an object', config: change(MINIMAL, (c) => { c.mounts = {}; }), field: 'mounts' },
  { name: 'mount without destination', config: change(RUNC_DEFAULT, (c) => { delete c.mounts[2].destination; }), field: 'mounts[2].destination' },
  { name: 'mount options a string', config: change(RUNC_DEFAULT, (c) => { c.mounts[1].options = 'nosuid'; }), field: 'mounts[1].options' },
  { name: 'mount type a number', config: change(RUNC_DEFAULT, (c) => { c.mounts[0].type = 0; }), field: 'mounts[0].type' },
  { name: 'mount mapping without size', config: change(EVERYTHING, (c) => { delete c.mounts[2].uidMappings[0].size; }), field: 'mounts[2].uidMappings[0].size' },
  { name: 'linux an array', config: change(MINIMAL, (c) => { c.linux = []; }), field: 'linux' },
  { name: 'namespace type unknown', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[2].type = 'foo'; }), field: 'linux.namespaces[2].type' },
  { name: 'namespace without type', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[0] = { path: '/proc/1/ns/pid' }; }), field: 'linux.namespaces[0].type' },
  { name: 'namespace a string', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[0] = 'pid'; }), field: 'linux.namespaces[0]' },
  { name: 'namespace path a number', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[0].path = 1; }), field: 'linux.namespaces[0].path' },
  { name: 'uidMappings hostID negative', config: change(EVERYTHING, (c) => { c.linux.uidMappings[0].hostID = -1; }), field: 'linux.uidMappings[0].hostID' },
  { name: 'device type unknown', config: change(EVERYTHING, (c) => { c.linux.devices[0].type = 'x'; }), field: 'linux.devices[0].type' },
  { name: 'device without path', config: change(EVERYTHING, (c) => { delete c.linux.devices[1].path; }), field: 'linux.devices[1].path' },
  { name: 'device fileMode over 0777', config: change(EVERYTHING, (c) => { c.linux.devices[0].fileMode = 512; }), field: 'linux.devices[0].fileMode' },
  { name: 'device major fractional', config: change(EVERYTHING, (c) => { c.linux.devices[0].major = 1.5; }), field: 'linux.devices[0].major' },
  { name: 'cgroup device rule without allow', config: change(RUNC_DEFAULT, (c) => { delete c.linux.resources.devices[0].allow; }), field: 'linux.resources.devices[0].allow' },
  { name: 'pids without limit', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.pids = {}; }), field: 'linux.resources.pids.limit' },
  { name: 'memory limit a string', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.memory = { limit: '1g' }; }), field: 'linux.resources.memory.limit' },
  { name: 'memory swappiness negative', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.memory = { swappiness: -1 }; }), field: 'linux.resources.memory.swappiness' },
  { name: 'cpu shares negative', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.cpu = { shares: -1 }; }), field: 'linux.resources.cpu.shares' },
  { name: 'cpu cpus a number', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.cpu = { cpus: 1 }; }), field: 'linux.resources.cpu.cpus' },
  { name: 'hugepage size off pattern', config: change(EVERYTHING, (c) => { c.linux.resources.hugepageLimits[0].pageSize = '2M'; }), field: 'linux.resources.hugepageLimits[0].pageSize' },
  { name: 'blockIO weight over uint16', config: change(EVERYTHING, (c) => { c.linux.resources.blockIO.weight = 70000; }), field: 'linux.resources.blockIO.weight' },
  { name: 'throttle without major', config: change(EVERYTHING, (c) => { delete c.linux.resources.blockIO.throttleReadBpsDevice[0].major; }), field: 'linux.resources.blockIO.throttleReadBpsDevice[0].major' },
  { name: 'throttle rate negative', config: change(EVERYTHING, (c) => { c.linux.resources.blockIO.throttleWriteIOPSDevice[0].rate = -1; }), field: 'linux.resources.blockIO.throttleWriteIOPSDevice[0].rate' },
  { name: 'weightDevice weight a string', config: change(EVERYTHING, (c) => { c.linux.resources.blockIO.weightDevice[0].weight = '1'; }), field: 'linux.resources.blockIO.weightDevice[0].weight' },
  { name: 'net priority without name', config: change(EVERYTHING, (c) => { delete c.linux.resources.network.priorities[0].name; }), field: 'linux.resources.network.priorities[0].name' },
  { name: 'rdma entry a number', config: change(EVERYTHING, (c) => { c.linux.resources.rdma.mlx5_1 = 3; }), field: 'linux.resources.rdma.mlx5_1' },
  { name: 'rdma hcaHandles negative', config: change(EVERYTHING, (c) => { c.linux.resources.rdma.mlx5_1.hcaHandles = -3; }), field: 'linux.resources.rdma.mlx5_1.hcaHandles' },
  { name: 'unified value a number', config: change(EVERYTHING, (c) => { c.linux.resources.unified['pids.max'] = 5; }), field: 'linux.resources.unified["pids.max"]' },
  { name: 'rootfsPropagation unknown', config: change(RUNC_DEFAULT, (c) => { c.linux.rootfsPropagation = 'bogus'; }), field: 'linux.rootfsPropagation' },
  { name: 'seccomp without defaultAction', config: change(EVERYTHING, (c) => { delete c.linux.seccomp.defaultAction; }), field: 'linux.seccomp.defaultAction' },
  { name: 'seccomp action unknown', config: change(EVERYTHING, (c) => { c.linux.seccomp.syscalls[0].action = 'SCMP_ACT_MAYBE'; }), field: 'linux.seccomp.syscalls[0].action' },
  { name: 'seccomp syscall without names', config: change(EVERYTHING, (c) => { c.linux.seccomp.syscalls[0].names = []; }), field: 'linux.seccomp.syscalls[0].names' },
  { name: 'seccomp arg op unknown', config: change(EVERYTHING, (c) => { c.linux.seccomp.syscalls[1].args[0].op = 'SCMP_CMP_XOR'; }), field: 'linux.seccomp.syscalls[1].args[0].op' },
  { name: 'seccomp arch unknown', config: change(EVERYTHING, (c) => { c.linux.seccomp.architectures = ['SCMP_ARCH_Z80']; }), field: 'linux.seccomp.architectures[0]' },
  { name: 'seccomp flag unknown', config: change(EVERYTHING, (c) => { c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_FAST']; }), field: 'linux.seccomp.flags[0]' },
  { name: 'sysctl value a number', config: change(EVERYTHING, (c) => { c.linux.sysctl['kernel.shmmax'] = 1000; }), field: 'linux.sysctl["kernel.shmmax"]' },
  { name: 'maskedPaths a string', config: change(RUNC_DEFAULT, (c) => { c.linux.maskedPaths = '/proc/kcore'; }), field: 'linux.maskedPaths' },
  { name: 'readonlyPaths item null', config: change(RUNC_DEFAULT, (c) => { c.linux.readonlyPaths = [null]; }), field: 'linux.readonlyPaths[0]' },
  { name: 'personality domain unknown', config: change(EVERYTHING, (c) => { c.linux.personality.domain = 'LINUX64'; }), field: 'linux.personality.domain' },
  { name: 'personality a string', config: change(EVERYTHING, (c) => { c.linux.personality = 'LINUX'; }), field: 'linux.personality' },
  { name: 'time offset secs fractional', config: change(EVERYTHING, (c) => { c.linux.timeOffsets.boottime.secs = 1.5; }), field: 'linux.timeOffsets.boottime.secs' },
  { name: 'time offset nanosecs negative', config: change(EVERYTHING, (c) => { c.linux.timeOffsets.monotonic.nanosecs = -1; }), field: 'linux.timeOffsets.monotonic.nanosecs' },
  { name: 'intelRdt memBwSchema off pattern', config: change(EVERYTHING, (c) => { c.linux.intelRdt.memBwSchema = 'L3:0=ff'; }), field: 'linux.intelRdt.memBwSchema' },
  { name: 'memoryPolicy mode unknown', config: change(EVERYTHING, (c) => { c.linux.memoryPolicy.mode = 'MPOL_ANY'; }), field: 'linux.memoryPolicy.mode' },
  { name: 'netDevice not an object', config: change(EVERYTHING, (c) => { c.linux.netDevices.eth1 = 'eth0'; }), field: 'linux.netDevices.eth1' },
  { name: 'mountLabel a number', config: change(EVERYTHING, (c) => { c.linux.mountLabel = 0; }), field: 'linux.mountLabel' },
  { name: 'cgroupsPath a number', config: change(EVERYTHING, (c) => { c.linux.cgroupsPath = 7; }), field: 'linux.cgroupsPath' },
];

// The schema allows these; runc refuses them before creating anything, and so does hull.
const semanticInvalid: (Case & { field: string; problem: RegExp })[] = [
  { name: 'no root', config: change(MINIMAL, (c) => { delete c.root; }), field: 'root', problem: /required/ },
  { name: 'empty root.path', config: change(MINIMAL, (c) => { c.root.path = ''; }), field: 'root.path', problem: /must not be empty/ },
  { name: 'no process', config: change(MINIMAL, (c) => { delete c.process; }), field: 'process', problem: /required/ },
  { name: 'relative cwd', config: change(MINIMAL, (c) => { c.process.cwd = 'home'; }), field: 'process.cwd', problem: /absolute/ },
  { name: 'empty cwd', config: change(MINIMAL, (c) => { c.process.cwd = ''; }), field: 'process.cwd', problem: /empty/ },
  { name: 'no args', config: change(MINIMAL, (c) => { delete c.process.args; }), field: 'process.args', problem: /required/ },
  { name: 'empty args', config: change(MINIMAL, (c) => { c.process.args = []; }), field: 'process.args', problem: /must not be empty/ },
  { name: 'env without =', config: change(MINIMAL, (c) => { c.process.env = ['A=1', 'B']; }), field: 'process.env[1]', problem: /NAME=value/ },
  { name: 'env with empty name', config: change(MINIMAL, (c) => { c.process.env = ['=1']; }), field: 'process.env[0]', problem: /empty name/ },
  { name: 'NUL in an arg', config: change(MINIMAL, (c) => { c.process.args = ['a\0b']; }), field: 'process.args[0]', problem: /NUL/ },
  { name: 'unknown capability', config: change(RUNC_DEFAULT, (c) => { c.process.capabilities.effective.push('CAP_FLY'); }), field: 'process.capabilities.effective[3]', problem: /"CAP_FLY" is not a known capability/ },
  { name: 'capability in lower case', config: change(RUNC_DEFAULT, (c) => { c.process.capabilities.bounding[0] = 'kill'; }), field: 'process.capabilities.bounding[0]', problem: /did you mean "CAP_KILL"/ },
  { name: 'unknown rlimit', config: change(RUNC_DEFAULT, (c) => { c.process.rlimits[0].type = 'RLIMIT_FOO'; }), field: 'process.rlimits[0].type', problem: /"RLIMIT_FOO" is not a known rlimit/ },
  { name: 'rlimit soft over hard', config: change(RUNC_DEFAULT, (c) => { c.process.rlimits[0].soft = 2048; }), field: 'process.rlimits[0].soft', problem: /hard/ },
  { name: 'oomScoreAdj out of range', config: change(MINIMAL, (c) => { c.process.oomScoreAdj = 1001; }), field: 'process.oomScoreAdj', problem: /-1000 to 1000/ },
  { name: 'ioPriority over 7', config: change(MINIMAL, (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 8 }; }), field: 'process.ioPriority.priority', problem: /0 to 7/ },
  { name: 'nice out of range', config: change(MINIMAL, (c) => { c.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 }; }), field: 'process.scheduler.nice', problem: /-20 to 19/ },
  { name: 'priority with SCHED_OTHER', config: change(MINIMAL, (c) => { c.process.scheduler = { policy: 'SCHED_OTHER', priority: 5 }; }), field: 'process.scheduler.priority', problem: /SCHED_FIFO/ },
  { name: 'deadline params with SCHED_RR', config: change(MINIMAL, (c) => { c.process.scheduler = { policy: 'SCHED_RR', runtime: 5 }; }), field: 'process.scheduler.runtime', problem: /SCHED_DEADLINE/ },
  { name: 'relative mount destination', config: change(RUNC_DEFAULT, (c) => { c.mounts[0].destination = 'proc'; }), field: 'mounts[0].destination', problem: /"proc" must be an absolute path/ },
  { name: 'bind mount with fs data', config: change(MINIMAL, (c) => { c.mounts = [{ destination: '/x', source: '/y', options: ['rbind', 'mode=755'] }]; }), field: 'mounts[0].options', problem: /mode=755/ },
  { name: 'type bind with fs data', config: change(MINIMAL, (c) => { c.mounts = [{ destination: '/x', source: '/y', type: 'bind', options: ['size=1k'] }]; }), field: 'mounts[0].options', problem: /size=1k/ },
  { name: 'id-mapped tmpfs', config: change(EVERYTHING, (c) => { c.mounts[2].options = ['idmap']; c.mounts[2].type = 'tmpfs'; }), field: 'mounts[2]', problem: /only bind mounts/ },
  { name: 'id-mapped mount with only uid mappings', config: change(EVERYTHING, (c) => { delete c.mounts[2].gidMappings; }), field: 'mounts[2].gidMappings', problem: /both/ },
  { name: 'idmap option with no user namespace', config: change(MINIMAL, (c) => { c.mounts = [{ destination: '/x', source: '/y', options: ['bind', 'idmap'] }]; }), field: 'mounts[0].options', problem: /user namespace/ },
  { name: 'duplicate namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.push({ type: 'ipc' }); }), field: 'linux.namespaces[6].type', problem: /duplicate namespace "ipc"/ },
  { name: 'relative namespace path', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces[1].path = 'netns/x'; }), field: 'linux.namespaces[1].path', problem: /absolute/ },
  { name: 'uidMappings without user namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }), field: 'linux.uidMappings', problem: /user namespace/ },
  { name: 'gidMappings without user namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.gidMappings = []; }), field: 'linux.gidMappings', problem: /user namespace/ },
  { name: 'new user namespace without mappings', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.push({ type: 'user' }); }), field: 'linux.uidMappings', problem: /required/ },
  { name: 'timeOffsets without time namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.timeOffsets = { boottime: { secs: 1 } }; }), field: 'linux.timeOffsets', problem: /time namespace/ },
  { name: 'timeOffsets when joining a time namespace', config: change(EVERYTHING, (c) => { c.linux.namespaces[7].path = '/proc/1/ns/time'; }), field: 'linux.timeOffsets', problem: /joining/ },
  { name: 'timeOffsets for an unknown clock', config: change(EVERYTHING, (c) => { c.linux.timeOffsets.realtime = { secs: 1 }; }), field: 'linux.timeOffsets.realtime', problem: /boottime, monotonic/ },
  { name: 'timeOffsets nanosecs a whole second', config: change(EVERYTHING, (c) => { c.linux.timeOffsets.boottime.nanosecs = 1e9; }), field: 'linux.timeOffsets.boottime.nanosecs', problem: /less than/ },
  { name: 'hostname without uts namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(3, 1); }), field: 'hostname', problem: /uts namespace/ },
  { name: 'maskedPaths without mount namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(4, 1); }), field: 'linux.maskedPaths', problem: /mount namespace/ },
  { name: 'relative masked path', config: change(RUNC_DEFAULT, (c) => { c.linux.maskedPaths[0] = 'proc/acpi'; }), field: 'linux.maskedPaths[0]', problem: /absolute/ },
  { name: 'ipc sysctl without ipc namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(2, 1); c.linux.sysctl = { 'kernel.shmmax': '1' }; }), field: 'linux.sysctl["kernel.shmmax"]', problem: /ipc namespace/ },
  { name: 'mqueue sysctl without ipc namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(2, 1); c.linux.sysctl = { 'fs.mqueue.queues_max': '1' }; }), field: 'linux.sysctl["fs.mqueue.queues_max"]', problem: /ipc namespace/ },
  { name: 'net sysctl in the host netns', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(1, 1); c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; }), field: 'linux.sysctl["net.ipv4.ip_forward"]', problem: /host's network namespace/ },
  { name: 'net sysctl with / separators in the host netns', config: change(RUNC_DEFAULT, (c) => { c.linux.namespaces.splice(1, 1); c.linux.sysctl = { 'net/ipv4/ip_forward': '1' }; }), field: 'linux.sysctl["net/ipv4/ip_forward"]', problem: /network namespace/ },
  { name: 'kernel.hostname sysctl', config: change(RUNC_DEFAULT, (c) => { c.linux.sysctl = { 'kernel.hostname': 'x' }; }), field: 'linux.sysctl["kernel.hostname"]', problem: /"hostname" field/ },
  { name: 'kernel.domainname without uts namespace', config: change(MINIMAL, (c) => { c.linux = { sysctl: { 'kernel.domainname': 'x' } }; }), field: 'linux.sysctl["kernel.domainname"]', problem: /uts namespace/ },
  { name: 'user sysctl without user namespace', config: change(RUNC_DEFAULT, (c) => { c.linux.sysctl = { 'user.max_user_namespaces': '0' }; }), field: 'linux.sysctl["user.max_user_namespaces"]', problem: /user namespace/ },
  { name: 'sysctl not namespaced', config: change(RUNC_DEFAULT, (c) => { c.linux.sysctl = { 'vm.swappiness': '10' }; }), field: 'linux.sysctl["vm.swappiness"]', problem: /not namespaced/ },
  { name: 'char device without major', config: change(EVERYTHING, (c) => { delete c.linux.devices[0].major; }), field: 'linux.devices[0].major', problem: /required for device type "c"/ },
  { name: 'unbuffered device without minor', config: change(EVERYTHING, (c) => { c.linux.devices[1] = { type: 'u', path: '/dev/u', major: 1 }; }), field: 'linux.devices[1].minor', problem: /required/ },
  { name: 'relative device path', config: change(EVERYTHING, (c) => { c.linux.devices[2].path = 'dev/fifo'; }), field: 'linux.devices[2].path', problem: /absolute/ },
  { name: 'cgroup device rule without access', config: change(RUNC_DEFAULT, (c) => { delete c.linux.resources.devices[0].access; }), field: 'linux.resources.devices[0].access', problem: /empty/ },
  { name: 'cgroup device rule with bad access', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.devices[0].access = 'rx'; }), field: 'linux.resources.devices[0].access', problem: /r, w and m/ },
  { name: 'cgroup device rule of type p', config: change(RUNC_DEFAULT, (c) => { c.linux.resources.devices[0].type = 'p'; }), field: 'linux.resources.devices[0].type', problem: /a, b, c/ },
  { name: 'personality without domain', config: change(EVERYTHING, (c) => { delete c.linux.personality.domain; }), field: 'linux.personality.domain', problem: /required/ },
  { name: 'netDevices without network namespace', config: change(EVERYTHING, (c) => { c.linux.namespaces.splice(1, 1); c.linux.sysctl = {}; }), field: 'linux.netDevices', problem: /network namespace/ },
  { name: 'netDevice with a bad name', config: change(EVERYTHING, (c) => { c.linux.netDevices.eth1.name = 'a/b'; }), field: 'linux.netDevices.eth1.name', problem: /network device name/ },
  { name: 'relative hook path', config: change(MINIMAL, (c) => { c.hooks = { poststop: [{ path: 'bin/cleanup' }] }; }), field: 'hooks.poststop[0].path', problem: /absolute/ },
];

// ---------------------------------------------------------------------------------------

test('the corpus is large enough to mean something', () => {
  assert.ok(valid.length + schemaInvalid.length >= 40);
  assert.ok(semanticInvalid.length >= 20);
});

for (const c of valid) {
  test(`valid: ${c.name}`, () => {
    const ajv = ajvCheck(c.config);
    assert.ok(ajv.valid, `ajv rejects: ${ajv.paths.join(', ')}`);
    const err = hullError(c.config);
    assert.equal(err, undefined, err?.message);
  });
}

for (const c of schemaInvalid) {
  test(`schema-invalid: ${c.name}`, () => {
    const ajv = ajvCheck(c.config);
    assert.equal(ajv.valid, false, 'ajv accepts it');
    assert.ok(ajv.paths.includes(c.field ?? ''), `ajv points at ${ajv.paths.join(', ')}, not ${c.field}`);
    const err = hullError(c.config);
    assert.ok(err, 'hull accepts it');
    assert.equal(err.field, c.field);
    assert.equal(err.kind, 'schema', err.message);
    const prefix = c.field === '' ? 'config.json: ' : `config.json: ${c.field}: `;
    assert.ok(err.message.startsWith(prefix), err.message);
  });
}

for (const c of semanticInvalid) {
  test(`semantic: ${c.name}`, () => {
    const ajv = ajvCheck(c.config);
    assert.ok(ajv.valid, `the schema should allow this one: ${ajv.paths.join(', ')}`);
    const err = hullError(c.config);
    assert.ok(err, 'hull accepts it');
    assert.equal(err.field, c.field, err.message);
    assert.equal(err.kind, 'semantic', err.message);
    assert.ok(err.message.startsWith(`config.json: ${c.field}: `), err.message);
    assert.match(err.message, c.problem);
  });
}

// Beyond the hand-picked cases: every node of the big configs, replaced by values of
// every JSON type, or removed. Wherever ajv and hull's schema phase disagree, or point
// at different fields, that is a bug in one of them.
const ODD_VALUES: unknown[] = [null, true, 0, -1, 1.5, 4294967296, '', 'x', [], [1], ['x'], {}, { x: 1 }];

function nodes(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = path.length ? [path] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...nodes(v, [...path, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...nodes(v, [...path, k]));
  }
  return out;
}

function mutated(base: unknown, path: (string | number)[], replacement: unknown | typeof REMOVE): unknown {
  const copy = structuredClone(base) as J;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1] as string | number;
  if (replacement === REMOVE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = replacement;
  }
  return copy;
}
const REMOVE = Symbol('remove');

for (const [name, base] of [['runc default', RUNC_DEFAULT], ['every field', EVERYTHING]] as const) {
  test(`mutation sweep agrees with the schema: ${name}`, () => {
    const problems: string[] = [];
    let checked = 0;
    for (const path of nodes(base)) {
      // rootfsPropagation is the known, deliberate difference.
      if (path.join('.') === 'linux.rootfsPropagation') continue;
      for (const replacement of [...ODD_VALUES, REMOVE]) {
        const config = mutated(base, path, replacement);
        const ajv = ajvCheck(config);
        const err = hullError(config);
        const hullSchemaValid = err === undefined || err.kind !== 'schema';
        checked++;
        const what = `${path.join('.')} = ${replacement === REMOVE ? '(removed)' : JSON.stringify(replacement)}`;
        if (ajv.valid !== hullSchemaValid) {
          problems.push(`${what}: ajv ${ajv.valid ? 'accepts' : 'rejects'}, hull says ${err?.message ?? 'valid'}`);
        } else if (!ajv.valid && !ajv.paths.includes(err?.field ?? '')) {
          problems.push(`${what}: hull names ${err?.field}, ajv ${ajv.paths.join(', ')}`);
        }
      }
    }
    assert.ok(checked > 1000, `only ${checked} mutations`);
    assert.deepEqual(problems, []);
  });
}

test('the one deliberate difference: rootfsPropagation takes the recursive forms', () => {
  for (const p of ['rshared', 'rslave', 'rprivate', 'runbindable']) {
    const config = change(RUNC_DEFAULT, (c) => { c.linux.rootfsPropagation = p; });
    assert.equal(ajvCheck(config).valid, false);
    assert.equal(hullError(config), undefined);
  }
});

test('messages read as the field, the rule and the value', () => {
  const ns = hullError(change(RUNC_DEFAULT, (c) => { c.linux.namespaces[2].type = 'foo'; }));
  assert.equal(ns?.message, 'config.json: linux.namespaces[2].type: "foo" is not one of pid, network, mount, ipc, uts, user, cgroup, time');
  const uid = hullError(change(MINIMAL, (c) => { c.process.user = { uid: -1, gid: 0 }; }));
  assert.equal(uid?.message, 'config.json: process.user.uid: must be an integer from 0 to 4294967295');
  const version = hullError(change(MINIMAL, (c) => { delete c.ociVersion; }));
  assert.equal(version?.message, 'config.json: ociVersion: required');
  const doc = hullError(5);
  assert.equal(doc?.message, 'config.json: must be an object');
});

test('validateSpec returns the config, with a missing user read as root', () => {
  const config = { ociVersion: '1.0.2', root: { path: 'r' }, process: { cwd: '/', args: ['sh'], user: { uid: 7 } } };
  const spec = validateSpec(config);
  assert.equal(spec, config);
  assert.deepEqual(spec.process?.user, { uid: 7, gid: 0 });
  const bare = validateSpec({ ociVersion: '1', root: { path: 'r' }, process: { cwd: '/', args: ['sh'] } });
  assert.deepEqual(bare.process?.user, { uid: 0, gid: 0 });
});

test('validateSpec treats undefined properties as absent, as JSON would', () => {
  assert.doesNotThrow(() => validateSpec({ ...structuredClone(MINIMAL), hostname: undefined, linux: { namespaces: undefined } }));
});

test('parseSpecFile reports bad JSON as such', () => {
  assert.throws(() => parseSpecFile('{"ociVersion": '), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.match(e.message, /^config\.json: invalid JSON: /);
    return true;
  });
  assert.equal(parseSpecFile(JSON.stringify(RUNC_DEFAULT)).hostname, 'runc');
  assert.throws(() => parseSpecFile('{"ociVersion": "1", "root": {"path": "r"}, "process": {"cwd": "/", "args": []}}'), /config\.json: process\.args: must not be empty/);
});

test('validateProcess checks an exec process.json on its own', () => {
  const proc = validateProcess({ cwd: '/srv', args: ['ls'], env: ['A=b'] }, 'process.json');
  assert.deepEqual(proc.user, { uid: 0, gid: 0 });
  assert.throws(() => validateProcess({ cwd: 'srv', args: ['ls'] }, 'process.json'), (e: unknown) => {
    assert.ok(e instanceof SpecError);
    assert.equal(e.message, 'process.json: cwd: "srv" must be an absolute path');
    assert.equal(e.field, 'cwd');
    return true;
  });
  assert.throws(() => validateProcess({ args: ['ls'] }), /process\.json: cwd: required/);
  assert.throws(() => validateProcess({ cwd: '/', args: [] }, 'exec'), /exec: args: must not be empty/);
  assert.throws(() => validateProcess({ cwd: '/', args: ['x'], user: { uid: 'root' } }), /process\.json: user\.uid: must be an integer/);
  assert.throws(() => validateProcess({ cwd: '/', args: ['x'], capabilities: { bounding: ['CAP_NOPE'] } }), /process\.json: capabilities\.bounding\[0\]: "CAP_NOPE"/);
  assert.throws(() => validateProcess('ls'), /process\.json: must be an object/);
});
