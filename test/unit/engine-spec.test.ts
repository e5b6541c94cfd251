// The engine's config.json for a container: what dockerd writes for the same `docker run`.
// Every spec built here must also pass hull's validator and the official runtime-spec schema.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AjvModule from 'ajv-draft-04';
import { CAPABILITIES } from '../../src/runtime/capabilities.ts';
import { mobyToOci, type MobyProfile } from '../../src/runtime/seccomp/moby-profile.ts';
import type { Mount, Spec } from '../../src/runtime/spec/types.ts';
import { validateSpec } from '../../src/runtime/spec/validate.ts';
import { DEFAULT_CAPABILITIES } from '../../src/engine/containers/defaults.ts';
import type { ContainerConfig, HostConfig } from '../../src/engine/containers/model.ts';
import { defaultSeccomp } from '../../src/engine/containers/seccomp-default.ts';
import {
  ConfigError, buildSpec, capabilitiesFromMask, mergeTmpfsOptions, type ResolvedMount, type SpecHost, type SpecInput,
} from '../../src/engine/containers/spec.ts';

// ---- the official schema ----------------------------------------------------------------------

const SCHEMAS = new URL('../../../shared/specs/runtime-spec/', import.meta.url);

function loadConfigSchema() {
  const ajv = new AjvModule.default({ allErrors: true, strict: false });
  for (const file of ['defs.json', 'defs-linux.json', 'config-linux.json', 'config-schema.json']) {
    const url = new URL(file, SCHEMAS);
    ajv.addSchema(JSON.parse(readFileSync(url, 'utf8')), url.href);
  }
  for (const platform of ['solaris', 'windows', 'vm', 'zos', 'freebsd']) {
    ajv.addSchema({ [platform]: {} }, new URL(`config-${platform}.json`, SCHEMAS).href);
  }
  const validate = ajv.getSchema(new URL('config-schema.json', SCHEMAS).href);
  assert.ok(validate, 'config-schema.json compiles');
  return validate;
}

const schemaValidate = loadConfigSchema();

// ---- a container ------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'hull-engine-spec-'));
after(() => rmSync(work, { recursive: true, force: true }));

const rootfs = join(work, 'rootfs');
mkdirSync(join(rootfs, 'etc'), { recursive: true });
writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nfoo:x:1000:1000:Foo:/home/foo:/bin/sh\n');
writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nfoo:x:1000:\nextra:x:2000:foo\n');
const etcFiles = { hosts: join(work, 'hosts'), hostname: join(work, 'hostname'), resolvConf: join(work, 'resolv.conf') };
for (const f of Object.values(etcFiles)) writeFileSync(f, '');

const ID = 'c0ffee'.padEnd(64, '0');

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    Hostname: ID.slice(0, 12), Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh'], Image: 'busybox', Volumes: null, WorkingDir: '', Entrypoint: null, Labels: {}, ...over,
  };
}

function hostConfig(over: Partial<HostConfig> = {}): HostConfig {
  return {
    Binds: null, ReadonlyRootfs: false, Memory: 0, MemorySwap: 0, MemoryReservation: 0, NanoCpus: 0, CpuShares: 0,
    CpusetCpus: '', PidsLimit: null, Ulimits: null, ShmSize: 0, OomScoreAdj: 0, CapAdd: null, CapDrop: null,
    Privileged: false, SecurityOpt: null, Devices: null, GroupAdd: null, UsernsMode: '', IpcMode: 'private', PidMode: '',
    UTSMode: '', NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false,
    LogConfig: { Type: 'json-file', Config: {} }, Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, ...over,
  };
}

/** This machine as the tests see it: fixed, so that the expected specs do not depend on the host. */
const HOST: Partial<SpecHost> = {
  apparmor: false, cgroupV2: false, timeNamespace: true, kernel: '6.18.0', arch: 'amd64', capabilities: [...CAPABILITIES],
  cpuCount: 4, onlineCpus: '0-3',
  exists: (p) => p.startsWith('/proc/sys/net/ipv4/'),
  mountinfo: () => '',
};

interface Over {
  config?: Partial<ContainerConfig>;
  hostConfig?: Partial<HostConfig>;
  host?: Partial<SpecHost>;
  input?: Partial<SpecInput>;
}

function input(o: Over = {}): SpecInput {
  return {
    id: ID, config: config(o.config), hostConfig: hostConfig(o.hostConfig), rootfs, mounts: [], etcFiles,
    namespacePaths: {}, cgroupsPath: `/hull/${ID}`, host: { ...HOST, ...o.host }, ...o.input,
  };
}

/** Builds, and checks the result against hull's validator and the official schema. */
function build(o: Over = {}): Spec {
  const spec = buildSpec(input(o));
  const copy = JSON.parse(JSON.stringify(spec)) as Spec;
  assert.equal(schemaValidate(copy), true, `official schema: ${JSON.stringify(schemaValidate.errors)}`);
  validateSpec(copy);
  return spec;
}

function fails(o: Over, message: string | RegExp): void {
  assert.throws(() => buildSpec(input(o)), (e: Error) => {
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const mount = (s: Spec, dest: string): Mount | undefined => s.mounts?.find((m) => m.destination === dest);
const nsTypes = (s: Spec) => s.linux?.namespaces?.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

// ---- the defaults -----------------------------------------------------------------------------

test('a plain `run busybox sh`: docker 29\'s config.json', () => {
  const s = build();
  assert.equal(s.ociVersion, '1.3.0');
  assert.deepEqual(s.root, { path: rootfs, readonly: false });
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.equal(s.domainname, undefined);
  const p = s.process!;
  assert.deepEqual(p.args, ['sh']);
  assert.equal(p.cwd, '/');
  assert.equal(p.terminal, false);
  assert.deepEqual(p.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root']);
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(p.capabilities, { bounding: [...DEFAULT_CAPABILITIES], effective: [...DEFAULT_CAPABILITIES], permitted: [...DEFAULT_CAPABILITIES] });
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.equal(p.rlimits, undefined, "docker's default is the runtime's own limits");
  assert.equal(p.oomScoreAdj, 0);
  assert.equal(p.noNewPrivileges, undefined);
  assert.equal(p.apparmorProfile, undefined, 'no AppArmor on this host');

  assert.deepEqual(s.mounts, [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: etcFiles.hosts, options: ['rbind', 'rprivate'] },
  ]);

  const l = s.linux!;
  assert.deepEqual(nsTypes(s), ['mount', 'network', 'time', 'uts', 'pid', 'ipc'], 'cgroup v1: the host cgroup namespace, as docker');
  assert.equal(l.cgroupsPath, `/hull/${ID}`);
  assert.deepEqual(l.devices, []);
  assert.deepEqual(l.resources, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
      { allow: true, type: 'c', access: 'm' },
      { allow: true, type: 'b', access: 'm' },
    ],
  });
  assert.deepEqual(l.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' });
  assert.deepEqual(l.maskedPaths, [
    '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/sched_debug',
    '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/devices/virtual/powercap', '/sys/firmware',
  ]);
  assert.deepEqual(l.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.deepEqual(l.seccomp, defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.18.0' }));
  assert.equal(l.rootfsPropagation, undefined);
});

test('host differences: cgroup v2 adds a cgroup namespace, no time namespace before 5.6, thermal entries masked, AppArmor confines', () => {
  const s = build({ host: { cgroupV2: true, timeNamespace: false, apparmor: true, exists: (p) => p.includes('cpu1/thermal_throttle') } });
  assert.deepEqual(nsTypes(s), ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']);
  assert.equal(s.process!.apparmorProfile, 'docker-default');
  assert.equal(s.linux!.sysctl, undefined, 'sysctls this kernel lacks are left out');
  // Which CPUs exist comes from the real /sys here; only the ones the stub says exist are masked.
  const thermal = s.linux!.maskedPaths!.filter((p) => p.includes('thermal'));
  assert.ok(thermal.every((p) => p === '/sys/devices/system/cpu/cpu1/thermal_throttle'));
  assert.equal(build({ host: { apparmor: true }, hostConfig: { SecurityOpt: ['apparmor=my-profile'] } }).process!.apparmorProfile, 'my-profile');
  assert.equal(build({ host: { apparmor: true }, hostConfig: { SecurityOpt: ['apparmor=unconfined'] } }).process!.apparmorProfile, 'unconfined');
  assert.equal(build({ host: { apparmor: true }, hostConfig: { Privileged: true } }).process!.apparmorProfile, 'unconfined');
  assert.equal(build({ hostConfig: { SecurityOpt: ['apparmor=my-profile'] } }).process!.apparmorProfile, undefined, 'ignored without AppArmor, as docker does');
});

// ---- the process ------------------------------------------------------------------------------

test('command: entrypoint then cmd; none is an error; --init runs docker-init first', () => {
  assert.deepEqual(build({ config: { Entrypoint: ['/bin/app', '-x'], Cmd: ['a', 'b'] } }).process!.args, ['/bin/app', '-x', 'a', 'b']);
  assert.deepEqual(build({ config: { Entrypoint: ['/bin/app'], Cmd: null } }).process!.args, ['/bin/app']);
  fails({ config: { Entrypoint: null, Cmd: null } }, 'no command specified');
  fails({ config: { Entrypoint: [], Cmd: [] } }, 'no command specified');

  const init = build({ hostConfig: { Init: true }, input: { tiniPath: '/usr/lib/hull/hull-tini' } });
  assert.deepEqual(init.process!.args, ['/sbin/docker-init', '--', 'sh']);
  const bind = mount(init, '/sbin/docker-init');
  assert.deepEqual(bind, { destination: '/sbin/docker-init', type: 'bind', source: '/usr/lib/hull/hull-tini', options: ['bind', 'ro'] });
  assert.ok(init.mounts!.indexOf(bind!) < init.mounts!.findIndex((m) => m.destination === '/etc/resolv.conf'), 'after the defaults, before the user mounts');
  // In the host's or another container's pid namespace there is already an init.
  const hostPid = build({ hostConfig: { Init: true, PidMode: 'host' }, input: { tiniPath: '/x' } });
  assert.deepEqual(hostPid.process!.args, ['sh']);
  assert.equal(mount(hostPid, '/sbin/docker-init'), undefined);
  fails({ hostConfig: { Init: true } }, /hull-tini/);
});

test('environment: docker\'s PATH, HOSTNAME and TERM, replaced by the user\'s; HOME from passwd unless set', () => {
  const s = build({ config: { Tty: true, Env: ['FOO=1', 'PATH=/opt/bin', 'HOSTNAME=mine', 'TERM'] } });
  assert.deepEqual(s.process!.env, ['PATH=/opt/bin', 'HOSTNAME=mine', 'FOO=1', 'HOME=/root'], 'TERM alone unsets it');
  assert.equal(s.process!.terminal, true);
  assert.deepEqual(build({ config: { Tty: true, Env: [] } }).process!.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'TERM=xterm', 'HOME=/root',
  ]);
  assert.ok(build({ config: { Env: ['HOME=/data'] } }).process!.env!.includes('HOME=/data'));
  assert.ok(!build({ config: { Env: ['HOME=/data'] } }).process!.env!.includes('HOME=/root'));
  assert.ok(build({ config: { Env: ['HOME='] } }).process!.env!.includes('HOME=/root'), 'an empty HOME counts as none, as in runc');
  const foo = build({ config: { User: 'foo' } });
  assert.ok(foo.process!.env!.includes('HOME=/home/foo'));
  assert.ok(build({ config: { User: '4242' } }).process!.env!.includes('HOME=/'), 'a uid without a passwd entry gets HOME=/');
});

test('cwd and user: WorkingDir or "/"; users and groups from the image\'s files', () => {
  assert.equal(build({ config: { WorkingDir: '/srv/app' } }).process!.cwd, '/srv/app');
  fails({ config: { WorkingDir: 'srv' } }, "the working directory 'srv' is invalid, it needs to be an absolute path");
  assert.deepEqual(build({ config: { User: 'foo' } }).process!.user, { uid: 1000, gid: 1000, additionalGids: [1000, 2000] });
  assert.deepEqual(build({ config: { User: 'foo:extra' }, hostConfig: { GroupAdd: ['5', 'root'] } }).process!.user, { uid: 1000, gid: 2000, additionalGids: [2000, 5, 0] });
  assert.deepEqual(build({ config: { User: '123:456' } }).process!.user, { uid: 123, gid: 456, additionalGids: [456] });
  fails({ config: { User: 'nobody' } }, 'unable to find user nobody: no matching entries in passwd file');
  fails({ config: { User: 'foo:nogroup' } }, 'unable to find group nogroup: no matching entries in group file');
  fails({ hostConfig: { GroupAdd: ['wheel'] } }, 'unable to find group wheel: no matching entries in group file');
});

test('capabilities: --cap-add/--cap-drop in any case, with or without CAP_, ALL; unknown ones refused', () => {
  const caps = (o: Partial<HostConfig>) => build({ hostConfig: o }).process!.capabilities!.bounding;
  assert.deepEqual(caps({ CapAdd: ['sys_admin', 'CAP_NET_ADMIN', 'Sys_Ptrace'], CapDrop: ['chown', 'CAP_KILL'] }), [
    ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'), 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE',
  ]);
  assert.deepEqual(caps({ CapDrop: ['ALL'], CapAdd: ['net_bind_service'] }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(caps({ CapDrop: ['all'] }), []);
  assert.deepEqual(caps({ CapAdd: ['ALL'], CapDrop: ['sys_admin'] }), CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(caps({ CapAdd: ['chown'] }), [...DEFAULT_CAPABILITIES], 'adding one it has is no change');
  fails({ hostConfig: { CapAdd: ['foo'] } }, 'unknown capability: "CAP_FOO"');
  fails({ hostConfig: { CapDrop: ['CAP_BAR'] } }, 'unknown capability: "CAP_BAR"');
  // What this process lacks cannot be given (this machine's own CapEff, for example, may lack CAP_SYS_RESOURCE).
  const lacking = { capabilities: CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE') };
  fails({ host: lacking, hostConfig: { CapAdd: ['SYS_RESOURCE'] } }, 'capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"');
  assert.deepEqual(build({ host: lacking, hostConfig: { Privileged: true } }).process!.capabilities!.effective, lacking.capabilities);
  // The seccomp profile follows the final capabilities.
  const admin = build({ hostConfig: { CapAdd: ['SYS_ADMIN'] } });
  assert.ok(admin.linux!.seccomp!.syscalls!.some((r) => r.names.includes('mount')));
  assert.deepEqual(capabilitiesFromMask('0000000000000021'), ['CAP_CHOWN', 'CAP_KILL']);
});

test('--privileged: every capability and host device, no seccomp, no masked paths, writable /sys and cgroups', () => {
  const s = build({ hostConfig: { Privileged: true, Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/other-null', CgroupPermissions: 'r' }] } });
  assert.deepEqual(s.process!.capabilities!.bounding, [...CAPABILITIES]);
  assert.equal(s.linux!.seccomp, undefined);
  assert.equal(s.linux!.maskedPaths, undefined);
  assert.equal(s.linux!.readonlyPaths, undefined);
  assert.deepEqual(mount(s, '/sys')!.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(mount(s, '/sys/fs/cgroup')!.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(s.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  const paths = s.linux!.devices!.map((d) => d.path);
  for (const p of ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom', '/dev/other-null']) assert.ok(paths.includes(p), p);
  assert.ok(!paths.includes('/dev/console') && !paths.includes('/dev/ptmx') && !paths.some((p) => p.startsWith('/dev/pts/')));
  const nul = statSync('/dev/null');
  assert.deepEqual(s.linux!.devices!.find((d) => d.path === '/dev/null'), { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: nul.mode & 0o777, uid: nul.uid, gid: nul.gid });
  // A profile asked for by name still applies.
  const file = join(work, 'privileged-profile.json');
  writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['reboot'], action: 'SCMP_ACT_ERRNO' }] }));
  assert.equal(build({ hostConfig: { Privileged: true, SecurityOpt: [`seccomp=${file}`] } }).linux!.seccomp!.defaultAction, 'SCMP_ACT_ALLOW');
});

test('--security-opt: no-new-privileges, seccomp=unconfined|builtin|<file>|<json>, writable-cgroups, systempaths; docker\'s errors', () => {
  assert.equal(build({ hostConfig: { SecurityOpt: ['no-new-privileges'] } }).process!.noNewPrivileges, true);
  assert.equal(build({ hostConfig: { SecurityOpt: ['no-new-privileges=true'] } }).process!.noNewPrivileges, true);
  assert.equal(build({ hostConfig: { SecurityOpt: ['no-new-privileges:false'] } }).process!.noNewPrivileges, undefined);
  assert.equal(build({ hostConfig: { SecurityOpt: ['seccomp=unconfined'] } }).linux!.seccomp, undefined);
  assert.deepEqual(build({ hostConfig: { SecurityOpt: ['seccomp=builtin'] } }).linux!.seccomp, build().linux!.seccomp);
  assert.deepEqual(mount(build({ hostConfig: { SecurityOpt: ['writable-cgroups=true'] } }), '/sys/fs/cgroup')!.options, ['nosuid', 'noexec', 'nodev']);
  const open = build({ hostConfig: { SecurityOpt: ['systempaths=unconfined', 'label=disable'] } });
  assert.equal(open.linux!.maskedPaths, undefined);
  assert.equal(open.linux!.readonlyPaths, undefined);

  // A user profile in docker's format, resolved for this container as dockerd does.
  const moby = readFileSync(new URL('../../../shared/specs/moby/seccomp-default.json', import.meta.url), 'utf8');
  const file = join(work, 'moby.json');
  writeFileSync(file, moby);
  const fromFile = build({ hostConfig: { SecurityOpt: [`seccomp=${file}`], CapAdd: ['SYS_PTRACE'] } }).linux!.seccomp;
  const caps = [...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'];
  assert.deepEqual(fromFile, mobyToOci(JSON.parse(moby) as MobyProfile, { capabilities: caps, goArch: 'amd64', kernel: '6.18.0' }));
  assert.deepEqual(build({ hostConfig: { SecurityOpt: [`seccomp=${moby}`] } }).linux!.seccomp!.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(build({ hostConfig: { SecurityOpt: ['seccomp={}'] } }).linux!.seccomp, undefined, 'an empty profile is no filter, as in docker');

  fails({ hostConfig: { SecurityOpt: ['bogus'] } }, 'invalid --security-opt 1: "bogus"');
  fails({ hostConfig: { SecurityOpt: ['foo=bar'] } }, 'invalid --security-opt 2: "foo=bar"');
  fails({ hostConfig: { SecurityOpt: ['no-new-privileges=maybe'] } }, 'invalid --security-opt 2: "no-new-privileges=maybe"');
  const missing = join(work, 'missing.json');
  fails({ hostConfig: { SecurityOpt: [`seccomp=${missing}`] } }, `opening seccomp profile (${missing}) failed: open ${missing}: no such file or directory`);
  const bad = join(work, 'bad.json');
  writeFileSync(bad, '{"defaultAction": ');
  fails({ hostConfig: { SecurityOpt: [`seccomp=${bad}`] } }, new RegExp(`^compacting json for seccomp profile \\(${bad}\\) failed: `));
  fails({ hostConfig: { SecurityOpt: ['seccomp={"defaultAction": '] } }, /^Decoding seccomp profile failed: /);
  writeFileSync(bad, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {"names": ["read"]}}');
  fails({ hostConfig: { SecurityOpt: [`seccomp=${bad}`] } }, `seccomp profile ${bad}: syscalls: must be an array`);
  writeFileSync(bad, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}');
  fails({ hostConfig: { SecurityOpt: [`seccomp=${bad}`] } }, /^invalid seccomp profile: syscalls\[0\]\.action: "SCMP_ACT_MAYBE" is not one of/);
  writeFileSync(bad, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}');
  fails({ hostConfig: { SecurityOpt: [`seccomp=${bad}`] } }, "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
});

test('rlimits and the OOM score', () => {
  const s = build({ hostConfig: { Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'core', Soft: -1, Hard: -1 }], OomScoreAdj: 500 } });
  assert.deepEqual(s.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_CORE', soft: 2 ** 64 - 1, hard: 2 ** 64 - 1 }]);
  assert.equal(s.process!.oomScoreAdj, 500);
  fails({ hostConfig: { Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] } }, 'invalid ulimit type: nofiles');
  fails({ hostConfig: { Ulimits: [{ Name: 'nproc', Soft: 10, Hard: 5 }] } }, 'ulimit soft limit must be less than or equal to hard limit: 10 > 5');
  fails({ hostConfig: { OomScoreAdj: 1001 } }, 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
});

// ---- linux ------------------------------------------------------------------------------------

test('resources: memory and swap, cpus as CFS quota, shares, cpuset, pids; docker\'s range checks', () => {
  const r = (o: Partial<HostConfig>) => build({ hostConfig: o }).linux!.resources!;
  assert.deepEqual(r({ Memory: 64 << 20 }).memory, { limit: 64 << 20, swap: 128 << 20 }, 'swap defaults to twice the limit');
  assert.deepEqual(r({ Memory: 64 << 20, MemorySwap: -1 }).memory, { limit: 64 << 20 }, '-1: unlimited swap');
  assert.deepEqual(r({ Memory: 64 << 20, MemorySwap: 100 << 20, MemoryReservation: 32 << 20, OomKillDisable: true }).memory, {
    limit: 64 << 20, reservation: 32 << 20, swap: 100 << 20, disableOOMKiller: true,
  });
  assert.deepEqual(r({ NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0' }).cpu, { shares: 512, cpus: '0-1', mems: '0', period: 100000, quota: 150000 });
  assert.deepEqual(r({ NanoCpus: 1e7 }).cpu, { period: 100000, quota: 1000 });
  assert.equal(r({}).pids, undefined);
  assert.deepEqual(r({ PidsLimit: 50 }).pids, { limit: 50 });
  assert.deepEqual(r({ PidsLimit: 0 }).pids, { limit: -1 });
  assert.deepEqual(r({ PidsLimit: -1 }).pids, { limit: -1 });

  fails({ hostConfig: { Memory: 1024 } }, 'Minimum memory limit allowed is 6MB');
  fails({ hostConfig: { Memory: 64 << 20, MemorySwap: 32 << 20 } }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
  fails({ hostConfig: { MemorySwap: 64 << 20 } }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  fails({ hostConfig: { Memory: 16 << 20, MemoryReservation: 32 << 20 } }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  fails({ hostConfig: { NanoCpus: 5e9 } }, 'Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available');
  fails({ hostConfig: { NanoCpus: 1e9, CpuPeriod: 50000 } }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  fails({ hostConfig: { CpuShares: -2 } }, 'invalid CPU shares (-2): value must be a positive integer');
  fails({ hostConfig: { CpusetCpus: '0-9' } }, 'Requested CPUs are not available - requested 0-9, available: 0-3');
  fails({ hostConfig: { CpusetCpus: 'a' } }, 'Invalid value a for cpuset cpus');
});

test('--device: nodes with their numbers from the host, cgroup rules with the permissions; docker\'s error', () => {
  const nul = statSync('/dev/null');
  const s = build({ hostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }, { PathOnHost: '/dev/zero', PathInContainer: '', CgroupPermissions: '' }] } });
  assert.deepEqual(s.linux!.devices, [
    { type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: nul.mode & 0o777, uid: nul.uid, gid: nul.gid },
    { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: statSync('/dev/zero').mode & 0o777, uid: statSync('/dev/zero').uid, gid: statSync('/dev/zero').gid },
  ]);
  const rules = s.linux!.resources!.devices!;
  assert.deepEqual(rules.slice(8), [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
  ]);
  fails({ hostConfig: { Devices: [{ PathOnHost: '/dev/x', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] } },
    'error gathering device information while adding custom device "/dev/x": no such file or directory');
  fails({ hostConfig: { Devices: [{ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] } },
    'error gathering device information while adding custom device "/etc/hostname": not a device node');
  fails({ hostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/x', CgroupPermissions: 'rwx' }] } }, 'invalid device mode: rwx');
});

test('namespaces: host modes leave one out, container:<id> joins by path, --userns only host', () => {
  assert.deepEqual(nsTypes(build({ hostConfig: { NetworkMode: 'host', IpcMode: 'host', PidMode: 'host', UTSMode: 'host' } })), ['mount', 'time']);
  const joined = build({
    hostConfig: { NetworkMode: 'container:abc', IpcMode: 'container:abc', PidMode: 'container:abc' },
    input: { namespacePaths: { network: '/proc/42/ns/net', ipc: '/proc/42/ns/ipc', pid: '/proc/42/ns/pid' } },
  });
  assert.deepEqual(nsTypes(joined), ['mount', 'network=/proc/42/ns/net', 'time', 'uts', 'pid=/proc/42/ns/pid', 'ipc=/proc/42/ns/ipc']);
  assert.equal(joined.linux!.sysctl, undefined, 'no network sysctls in a joined network namespace');
  assert.deepEqual(mount(joined, '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/proc/42/root/dev/shm', options: ['rbind', 'rprivate'] }, "the other container's /dev/shm");
  assert.deepEqual(mount(build({ hostConfig: { IpcMode: 'host' } }), '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  assert.equal(mount(build({ hostConfig: { IpcMode: 'none' } }), '/dev/shm'), undefined);
  assert.deepEqual(mount(build({ hostConfig: { IpcMode: 'shareable', ShmSize: 1 << 20 } }), '/dev/shm')!.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=1048576']);
  const hostUts = build({ hostConfig: { UTSMode: 'host' }, config: { Domainname: 'example.org' } });
  assert.equal(hostUts.hostname, undefined);
  assert.equal(hostUts.domainname, undefined);
  assert.equal(build({ config: { Domainname: 'example.org' } }).domainname, 'example.org');
  fails({ hostConfig: { UsernsMode: 'private' } }, /^invalid --userns mode "private"/);
  assert.deepEqual(nsTypes(build({ hostConfig: { UsernsMode: 'host' } })), nsTypes(build()));
  fails({ hostConfig: { IpcMode: 'bogus' } }, 'invalid IPC mode: bogus');
  fails({ hostConfig: { PidMode: 'container:' } }, 'invalid PID mode: container:');
  fails({ hostConfig: { UTSMode: 'private' } }, 'invalid UTS mode: private');
  assert.throws(() => buildSpec(input({ hostConfig: { PidMode: 'container:abc' } })), /pid namespace of container abc/);
});

test('sysctls: docker\'s defaults in a private network namespace; only namespaced ones, as runc checks', () => {
  const s = build({ hostConfig: { Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '65536', 'fs.mqueue.msg_max': '100', 'kernel.domainname': 'x', 'net.ipv4.ping_group_range': '1 0' } } });
  assert.deepEqual(s.linux!.sysctl, {
    'net.ipv4.ping_group_range': '1 0', 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ip_forward': '1',
    'kernel.msgmax': '65536', 'fs.mqueue.msg_max': '100', 'kernel.domainname': 'x',
  });
  assert.equal(build({ hostConfig: { NetworkMode: 'host' } }).linux!.sysctl, undefined);
  fails({ hostConfig: { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } } }, 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace');
  fails({ hostConfig: { IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } } }, 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace');
  fails({ hostConfig: { Sysctls: { 'kernel.panic': '1' } } }, 'sysctl "kernel.panic" is not in a separate kernel namespace');
  fails({ hostConfig: { Sysctls: { 'vm.swappiness': '1' } } }, 'sysctl "vm.swappiness" is not in a separate kernel namespace');
  fails({ hostConfig: { Sysctls: { 'kernel.hostname': 'x' } } }, 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
  fails({ hostConfig: { UTSMode: 'host', Sysctls: { 'kernel.domainname': 'x' } } }, 'sysctl "kernel.domainname" is not in a separate kernel namespace');
});

// ---- mounts -----------------------------------------------------------------------------------

const bind = (destination: string, source: string, options: string[]): ResolvedMount => ({ destination, type: 'bind', source, options });

test('user mounts: binds and volumes (recursive read-only where the kernel can), tmpfs over docker\'s defaults, parents first', () => {
  const s = build({
    input: {
      mounts: [
        bind('/data/sub', '/srv/sub', ['rbind', 'rw', 'rprivate']),
        bind('/data', '/srv/data', ['rbind', 'ro', 'rprivate', 'z']),
        { destination: '/vol', type: 'volume', source: '/var/lib/hull/volumes/v/_data', options: ['rbind', 'rw', 'nocopy'] },
        { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['size=10m', 'exec', 'nosuid', 'nodev'] },
        bind('/one', '/srv/one', ['bind', 'ro']),
      ],
    },
  });
  const user = s.mounts!.slice(s.mounts!.findIndex((m) => m.destination === '/dev/shm') + 1);
  assert.deepEqual(user.map((m) => m.destination), ['/data', '/vol', '/run', '/one', '/data/sub', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
  assert.deepEqual(mount(s, '/data'), { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rro', 'rprivate'] });
  assert.deepEqual(mount(s, '/data/sub')!.options, ['rbind', 'rprivate']);
  assert.deepEqual(mount(s, '/vol'), { destination: '/vol', type: 'bind', source: '/var/lib/hull/volumes/v/_data', options: ['rbind'] });
  assert.deepEqual(mount(s, '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rprivate', 'size=10m', 'exec', 'nosuid', 'nodev'] });
  assert.deepEqual(mount(s, '/one')!.options, ['bind', 'rro', 'rprivate'], "a bind's default propagation");
  // Before mount_setattr (5.12) only the top mount can be made read-only.
  assert.deepEqual(mount(build({ host: { kernel: '5.10.0' }, input: { mounts: [bind('/data', '/srv', ['rbind', 'ro'])] } }), '/data')!.options, ['rbind', 'ro', 'rprivate']);
  // The user's own mount replaces a default one and the etc file at the same place; a /dev of their own takes the /dev/* defaults away.
  const over = build({ input: { mounts: [bind('/etc/hosts', '/srv/hosts', ['rbind', 'ro']), bind('/dev', '/dev', ['rbind']), { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }] } });
  assert.equal(over.mounts!.filter((m) => m.destination === '/etc/hosts').length, 1);
  assert.equal(mount(over, '/etc/hosts')!.source, '/srv/hosts');
  assert.deepEqual(over.mounts!.filter((m) => m.destination.startsWith('/dev')).map((m) => `${m.destination}:${m.type}`), ['/dev:bind', '/dev/shm:tmpfs']);
  assert.throws(() => buildSpec(input({ input: { mounts: [bind('/x', '/srv', ['rbind', 'exec'])] } })), (e: Error) => e instanceof ConfigError && e.message === 'invalid mount option "exec" for /x');
  fails({ input: { mounts: [{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['color=blue'] }] } }, 'invalid tmpfs option "color"');
  fails({ input: { mounts: [bind('rel', '/srv', [])] } }, "invalid mount path: 'rel' mount path must be absolute");
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=1m', 'size=2m', 'ro', 'shared']), ['noexec', 'nosuid', 'nodev', 'size=2m', 'ro', 'shared']);
});

test('shared and slave binds: the source must propagate, and the rootfs follows', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:40 / /mnt/private rw,relatime - tmpfs tmpfs rw',
    '31 22 0:41 / /mnt/slave rw,relatime master:7 - tmpfs tmpfs rw',
  ].join('\n');
  const host = { mountinfo: () => mountinfo };
  assert.equal(build({ host, input: { mounts: [bind('/x', '/srv', ['rbind', 'rshared'])] } }).linux!.rootfsPropagation, 'shared');
  assert.equal(build({ host, input: { mounts: [bind('/x', '/mnt/slave/a', ['rbind', 'rslave'])] } }).linux!.rootfsPropagation, 'slave');
  fails({ host, input: { mounts: [bind('/x', '/mnt/private/a', ['rbind', 'shared'])] } }, 'path /mnt/private/a is mounted on /mnt/private but it is not a shared mount');
  fails({ host, input: { mounts: [bind('/x', '/mnt/private', ['rbind', 'slave'])] } }, 'path /mnt/private is mounted on /mnt/private but it is not a shared or slave mount');
  fails({ host, input: { mounts: [bind('/x', '/mnt/slave', ['rbind', 'rshared'])] } }, 'path /mnt/slave is mounted on /mnt/slave but it is not a shared mount');
});

test('--read-only: the rootfs and every mount but the kernel\'s own and the user\'s are read-only', () => {
  const s = build({ hostConfig: { ReadonlyRootfs: true }, input: { mounts: [bind('/data', '/srv', ['rbind', 'rw'])], tiniPath: '/x' } });
  assert.equal(s.root!.readonly, true);
  assert.deepEqual(mount(s, '/data')!.options, ['rbind', 'rprivate'], "the user's own mount keeps its mode");
  for (const dest of ['/etc/resolv.conf', '/etc/hostname', '/etc/hosts']) assert.deepEqual(mount(s, dest)!.options, ['rbind', 'rro', 'rprivate'], dest);
  for (const dest of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']) assert.ok(!mount(s, dest)!.options!.includes('ro'), dest);
  for (const dest of ['/sys', '/sys/fs/cgroup']) assert.ok(mount(s, dest)!.options!.includes('ro'), dest);
  // --privileged then makes /sys writable again, as in docker.
  const p = build({ hostConfig: { ReadonlyRootfs: true, Privileged: true } });
  assert.ok(!mount(p, '/sys')!.options!.includes('ro'));
});
