// hull's default seccomp profile: what a container that is not privileged may ask of the kernel.
//
// It is an allow list: anything not named here fails with EPERM. It is written in hull's own
// form, grouped by why a call is allowed (always, only with a capability, only on an
// architecture, only with harmless arguments), and resolved for one container into an OCI
// linux.seccomp. In effect it equals Docker's default profile (moby's profiles/seccomp), so that
// a program that runs under docker runs under hull; test/unit/engine-seccomp-default.test.ts
// checks that for several capability sets, architectures and kernels.
import { release } from 'node:os';
import type { Seccomp } from '../../runtime/spec/types.ts';

type SyscallRule = NonNullable<Seccomp['syscalls']>[number];
type Arg = NonNullable<SyscallRule['args']>[number];

// ---------------------------------------------------------------------------------------------
// Allowed for every container, whatever its capabilities: the calls ordinary programs make.
// A call that needs a privilege the container lacks still fails, in the kernel's own check.

const ALWAYS: Readonly<Record<string, readonly string[]>> = {
  'files, directories and links': [
    'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
    'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'umask',
    'creat', 'open', 'openat', 'openat2', 'name_to_handle_at', 'mkdir', 'mkdirat', 'rmdir', 'mknod', 'mknodat',
    'link', 'linkat', 'symlink', 'symlinkat', 'readlink', 'readlinkat', 'unlink', 'unlinkat',
    'rename', 'renameat', 'renameat2', 'truncate', 'truncate64', 'ftruncate', 'ftruncate64',
    'getdents', 'getdents64', 'utime', 'utimes', 'futimesat', 'utimensat', 'utimensat_time64',
    'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx',
    'statfs', 'statfs64', 'fstatfs', 'fstatfs64',
  ],
  'mount information (read only)': ['listmount', 'statmount'],
  'extended attributes': [
    'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
    'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
  ],
  'file change notification': ['inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark'],
  'file descriptors and their I/O': [
    'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
    'lseek', '_llseek', 'close', 'close_range', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'flock', 'ioctl',
    'pipe', 'pipe2', 'splice', 'tee', 'vmsplice', 'sendfile', 'sendfile64', 'copy_file_range',
    'fadvise64', 'fadvise64_64', 'readahead', 'fallocate', 'cachestat',
    'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range',
  ],
  'asynchronous I/O (not io_uring)': [
    'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
  ],
  'waiting for events': [
    'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64',
    'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
    'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
    'timerfd_create', 'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64',
  ],
  memory: [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'remap_file_pages',
    'mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall', 'membarrier', 'memfd_create', 'memfd_secret',
    'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'mseal', 'map_shadow_stack',
  ],
  'processes and threads': [
    'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid',
    'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
    'set_tid_address', 'get_robust_list', 'set_robust_list', 'get_thread_area', 'set_thread_area', 'rseq',
    'futex', 'futex_time64', 'futex_wait', 'futex_wake', 'futex_requeue', 'futex_waitv',
    'prctl', 'capget', 'capset', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
    'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'restart_syscall', 'uretprobe',
  ],
  signals: [
    'kill', 'tkill', 'tgkill', 'alarm', 'pause', 'sigaltstack', 'sigprocmask', 'sigreturn',
    'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigsuspend',
    'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo',
  ],
  'user and group ids': [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
    'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
    'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
    'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
    'setgroups', 'setgroups32',
  ],
  'clocks and timers': [
    'time', 'times', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
    'getitimer', 'setitimer', 'timer_create', 'timer_delete', 'timer_getoverrun',
    'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  ],
  scheduling: [
    'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr',
    'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler',
    'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
    'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'getcpu',
  ],
  'limits and system information': [
    'getrlimit', 'ugetrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'sysinfo', 'uname', 'getrandom', 'riscv_hwprobe',
  ],
  'System V and POSIX IPC': [
    'ipc', 'msgget', 'msgctl', 'msgsnd', 'msgrcv', 'semget', 'semctl', 'semop', 'semtimedop', 'semtimedop_time64',
    'shmget', 'shmctl', 'shmat', 'shmdt',
    'mq_open', 'mq_unlink', 'mq_getsetattr', 'mq_notify', 'mq_timedsend', 'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
  ],
  'sockets (socket itself is argument-filtered below)': [
    'socketcall', 'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'shutdown',
    'getsockname', 'getpeername', 'getsockopt', 'setsockopt',
    'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
  ],
};

// ---------------------------------------------------------------------------------------------
// Allowed only when the container holds a capability (in its bounding set). Without it, the
// kernel would refuse most of these anyway; the filter makes the refusal certain and removes
// attack surface behind the kernel's own checks.

const WITH_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'mount', 'umount', 'umount2', 'mount_setattr', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
    'unshare', 'setns', 'clone', 'clone3', 'sethostname', 'setdomainname', 'quotactl', 'quotactl_fd',
    'bpf', 'perf_event_open', 'fanotify_init', 'lookup_dcookie', 'syslog',
    'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules',
  ],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['mbind', 'get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/**
 * Kernels before 4.8 let ptrace change a traced process's syscall after seccomp had checked it,
 * which defeats the filter; from 4.8 on ptrace is safe to allow within the container.
 */
const PTRACE_SAFE_SINCE: [number, number] = [4, 8];
const PTRACE_FAMILY: readonly string[] = ['ptrace', 'process_vm_readv', 'process_vm_writev'];

// ---------------------------------------------------------------------------------------------
// Calls that exist, or are needed, only on some architectures. The names are libseccomp's
// architecture names, as the rules of Docker's profile use them.

const ON_ARCHES: readonly { arches: readonly string[]; names: readonly string[] }[] = [
  { arches: ['amd64', 'x32'], names: ['arch_prctl'] },
  { arches: ['amd64', 'x32', 'x86'], names: ['modify_ldt'] },
  { arches: ['arm', 'arm64'], names: ['breakpoint', 'cacheflush', 'set_tls', 'arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2'] },
  { arches: ['ppc64le'], names: ['swapcontext', 'sync_file_range2'] },
  { arches: ['s390', 's390x'], names: ['s390_runtime_instr', 's390_pci_mmio_read', 's390_pci_mmio_write'] },
  { arches: ['riscv64'], names: ['riscv_flush_icache'] },
];

// ---------------------------------------------------------------------------------------------
// Allowed only with arguments that are harmless.

/** socket(2) families left out: AF_ALG (38, the kernel crypto API) and AF_VSOCK (40, the hypervisor's sockets). */
const AF_ALG = 38;
const AF_VSOCK = 40;

function socketRules(): SyscallRule[] {
  const family = (op: string, value: number): SyscallRule => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op }] });
  return [family('SCMP_CMP_LT', AF_ALG), family('SCMP_CMP_EQ', AF_ALG + 1), family('SCMP_CMP_GT', AF_VSOCK)];
}

/** personality(2) may only pick the ordinary Linux personalities, or query the current one. */
const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;
const UNAME26 = 0x0020000;
const PERSONALITY_QUERY = 0xffffffff;
const PERSONALITIES = [PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, PERSONALITY_QUERY];

/**
 * Without CAP_SYS_ADMIN, clone may not make namespaces (it could not anyway without privilege,
 * but a user namespace needs none, and is where many kernel bugs are reached from); clone3 hides
 * its flags in memory the filter cannot read, so it fails with ENOSYS and libc falls back to clone.
 */
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
const ENOSYS = 38;
/** s390 passes clone's stack first and its flags second. */
const FLAGS_SECOND: readonly string[] = ['s390', 's390x'];

// ---------------------------------------------------------------------------------------------
// Architectures: a filter for the native one also covers the compat modes a process on it may
// switch to (32-bit x86 and x32 on x86-64, 32-bit ARM on arm64...), so none of them is a way around.

const ARCH_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  mips64: ['SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'],
  mips64n32: ['SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'],
  mipsel64: ['SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'],
  mips3l64n32: ['SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
  riscv64: ['SCMP_ARCH_RISCV64'],
  loongarch64: ['SCMP_ARCH_LOONGARCH64'],
};

/** Go's GOARCH (what --platform and image configs say) -> libseccomp's name, as moby maps it. */
const GO_TO_LIBSECCOMP: Readonly<Record<string, string>> = {
  '386': 'x86', amd64: 'amd64', arm: 'arm', arm64: 'arm64', loong64: 'loongarch64', mips64: 'mips64',
  mips64p32: 'mips64n32', mips64le: 'mipsel64', mips64p32le: 'mips3l64n32', mipsle: 'mipsel', ppc: 'ppc',
  ppc64: 'ppc64', ppc64le: 'ppc64le', riscv64: 'riscv64', s390: 's390', s390x: 's390x',
};

/** Node's process.arch -> Go's GOARCH. */
const NODE_TO_GO: Readonly<Record<string, string>> = {
  x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', loong64: 'loong64',
};

export function hostGoArch(): string {
  return NODE_TO_GO[process.arch] ?? process.arch;
}

export interface SeccompContext {
  /** The container's bounding capabilities ("CAP_SYS_ADMIN", ...). */
  capabilities: readonly string[];
  /** Go's name of the architecture ("amd64", "arm64"); the host's by default. */
  arch?: string;
  /** The kernel release ("6.1.0-18-amd64", "5.10"); the running kernel's by default. */
  kernel?: string;
}

function kernelVersion(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`default seccomp profile: cannot read the kernel version ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function atLeast(have: [number, number], want: [number, number]): boolean {
  return have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
}

const allow = (names: readonly string[]): SyscallRule => ({ names: [...names], action: 'SCMP_ACT_ALLOW' });

/** Every name the profile allows unconditionally, for tests and for `hull info`. */
export function alwaysAllowed(): string[] {
  return Object.values(ALWAYS).flat();
}

/** hull's default profile, resolved for one container. */
export function defaultSeccomp(ctx: SeccompContext): Seccomp {
  const goArch = ctx.arch ?? hostGoArch();
  const arch = GO_TO_LIBSECCOMP[goArch] ?? goArch;
  const kernel = kernelVersion(ctx.kernel ?? release());
  const caps = new Set(ctx.capabilities);

  const rules: SyscallRule[] = [allow(alwaysAllowed())];
  if (atLeast(kernel, PTRACE_SAFE_SINCE)) rules.push(allow(PTRACE_FAMILY));
  rules.push(...socketRules());
  for (const p of PERSONALITIES) rules.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] });
  for (const group of ON_ARCHES) if (group.arches.includes(arch)) rules.push(allow(group.names));
  for (const [cap, names] of Object.entries(WITH_CAPABILITY)) if (caps.has(cap)) rules.push(allow(names));
  if (!caps.has('CAP_SYS_ADMIN')) {
    const flagsAt = FLAGS_SECOND.includes(arch) ? 1 : 0;
    const noNamespaces: Arg = { index: flagsAt, value: NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' };
    rules.push({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [noNamespaces] });
    rules.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }

  const out: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 };
  const family = ARCH_FAMILIES[arch];
  if (family) out.architectures = [...family];
  out.syscalls = rules;
  return out;
}
