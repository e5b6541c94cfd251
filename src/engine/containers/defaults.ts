// What a container gets when `run` says nothing else: docker's defaults, as dockerd writes them into
// config.json (moby's daemon/pkg/oci/defaults.go and caps/defaults.go), plus what runc adds on its
// own that hull-runtime does not (the "mknod anything" device rules).
import { existsSync, readFileSync } from 'node:fs';
import type { DeviceRule, Mount } from '../../runtime/spec/types.ts';

/** The 14 capabilities docker gives a container that is not privileged. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** PATH when neither the image nor the user gives one. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** docker's default --shm-size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The in-container path of the --init binary, as docker names it. */
export const INIT_PATH = '/sbin/docker-init';

/**
 * /proc and /sys entries hidden from the container (an empty file or tmpfs over them): they leak
 * host information (interrupt counts and thermal throttling are side channels, powercap exposes
 * energy counters) or let a process poke the host kernel.
 */
export function defaultMaskedPaths(exists: (path: string) => boolean = existsSync): string[] {
  const paths = [
    '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
    '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/devices/virtual/powercap',
    '/sys/firmware',
  ];
  for (const cpu of possibleCpus()) {
    const p = `/sys/devices/system/cpu/cpu${cpu}/thermal_throttle`;
    if (exists(p)) paths.push(p);
  }
  return paths;
}

/** /proc entries the container may read but never write (they are the host's knobs). */
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** "0-3,8" from /sys/devices/system/cpu/possible -> [0, 1, 2, 3, 8]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    // A bogus range must not make us loop for ever; no machine has a million CPUs.
    for (let i = lo; i <= hi && i - lo < 1 << 20; i++) out.push(i);
  }
  return out;
}

function possibleCpus(): number[] {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * The filesystems every container gets, in docker's order. /dev/shm's size and the read-only
 * flags that depend on --privileged and --read-only are decided by the spec builder.
 */
export function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ];
}

/**
 * Mounts --read-only leaves writable: the kernel's own filesystems a process needs to work
 * (docker's list). Everything else that is not the user's own mount is made read-only.
 */
export const WRITABLE_WITH_READONLY_ROOTFS: ReadonlySet<string> = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

function allow(type: string, major: number, minor: number): DeviceRule {
  return { allow: true, type, major, minor, access: 'rwm' };
}

/**
 * The devices cgroup rules of a container that is not privileged: deny everything, then let the
 * runtime-spec's default devices and the terminal through, and keep /dev/fuse closed (docker's
 * list). hull-runtime adds the default devices, ptys and /dev/net/tun itself, as runc does.
 */
export function defaultDeviceRules(): DeviceRule[] {
  return [
    { allow: false, access: 'rwm' },
    allow('c', 1, 5), // /dev/zero
    allow('c', 1, 3), // /dev/null
    allow('c', 1, 9), // /dev/urandom
    allow('c', 1, 8), // /dev/random
    allow('c', 5, 0), // /dev/tty
    allow('c', 5, 1), // /dev/console
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse
  ];
}

/**
 * runc appends "mknod any character or block device" to every container's rules, which
 * hull-runtime deliberately does not (a config must be able to deny mknod). A docker container
 * has it, and CAP_MKNOD by default, so the engine asks for it in the spec. Creating a node is
 * harmless on its own: opening it still needs an r or w rule.
 */
export function mknodRules(): DeviceRule[] {
  return [
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
  ];
}

/**
 * Sysctls docker sets in a container's own network namespace, so that ping works without
 * CAP_NET_RAW and any port can be bound without CAP_NET_BIND_SERVICE (both are granted by
 * default anyway). Only those this kernel has: runc refuses an unknown sysctl.
 */
export function defaultNetworkSysctls(exists: (path: string) => boolean = existsSync): Record<string, string> {
  const out: Record<string, string> = {};
  if (exists('/proc/sys/net/ipv4/ping_group_range')) out['net.ipv4.ping_group_range'] = '0 2147483647';
  if (exists('/proc/sys/net/ipv4/ip_unprivileged_port_start')) out['net.ipv4.ip_unprivileged_port_start'] = '0';
  return out;
}
