// The architectures (ABIs) the seccomp compiler has syscall tables for, by their libseccomp
// names, with the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch.
import { AARCH64, X32, X86, X86_64 } from './syscalls.ts';

export type ArchName = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32' | 'SCMP_ARCH_AARCH64';

const AUDIT_64BIT = 0x80000000;
const AUDIT_LE = 0x40000000;

/** x32 shares x86_64's AUDIT_ARCH and marks its syscall numbers with this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface Arch {
  name: ArchName;
  /** seccomp_data.arch for this ABI. */
  audit: number;
  /** Argument width: a 32-bit ABI compares only the low word of each argument. */
  bits: 32 | 64;
  syscalls: ReadonlyMap<string, number>;
  /**
   * i386 reaches socket and SysV IPC calls through socketcall(2) and ipc(2) too, with the
   * call in the first argument; libseccomp filters both ways in, and so does hull.
   */
  multiplexed?: { socketcall: number; ipc: number };
}

function parse(table: string): Map<string, number> {
  const words = table.split(' ');
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < words.length; i += 2) m.set(words[i]!, Number(words[i + 1]));
  return m;
}

// Syscalls newer than the headers the tables come from (6.1). Since 4.x new syscalls get one
// number on every architecture of the unified table; x32 adds its bit, as for every call.
const NEWER = 'statmount 457 listmount 458 lsm_get_self_attr 459 lsm_set_self_attr 460 lsm_list_modules 461 mseal 462 ' +
  'setxattrat 463 getxattrat 464 listxattrat 465 removexattrat 466 open_tree_attr 467 file_getattr 468 file_setattr 469';

/** Names hull knows beyond libseccomp 2.5's tables (the machine's runc would skip them). */
export const NEWER_THAN_TABLES: ReadonlySet<string> = new Set([...parse(NEWER).keys(), 'uretprobe']);

function withNewer(table: Map<string, number>, offset = 0, extra: [string, number][] = []): Map<string, number> {
  for (const [name, nr] of parse(NEWER)) if (!table.has(name)) table.set(name, nr + offset);
  for (const [name, nr] of extra) if (!table.has(name)) table.set(name, nr);
  return table;
}

const made = new Map<ArchName, Arch>();

export function arch(name: ArchName): Arch {
  let a = made.get(name);
  if (a) return a;
  switch (name) {
    case 'SCMP_ARCH_X86_64':
      a = { name, audit: (62 | AUDIT_64BIT | AUDIT_LE) >>> 0, bits: 64, syscalls: withNewer(parse(X86_64), 0, [['uretprobe', 335]]) };
      break;
    case 'SCMP_ARCH_X32':
      a = { name, audit: (62 | AUDIT_64BIT | AUDIT_LE) >>> 0, bits: 32, syscalls: withNewer(parse(X32), X32_SYSCALL_BIT) };
      break;
    case 'SCMP_ARCH_X86': {
      const syscalls = withNewer(parse(X86));
      a = { name, audit: (3 | AUDIT_LE) >>> 0, bits: 32, syscalls, multiplexed: { socketcall: syscalls.get('socketcall')!, ipc: syscalls.get('ipc')! } };
      break;
    }
    case 'SCMP_ARCH_AARCH64':
      a = { name, audit: (183 | AUDIT_64BIT | AUDIT_LE) >>> 0, bits: 64, syscalls: withNewer(parse(AARCH64)) };
      break;
  }
  made.set(name, a);
  return a;
}

export const SUPPORTED_ARCHES: readonly ArchName[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'];

/** The architecture this runtime runs on, which every filter includes, as libseccomp does. */
export function nativeArch(): ArchName | undefined {
  switch (process.arch) {
    case 'x64':
      return 'SCMP_ARCH_X86_64';
    case 'ia32':
      return 'SCMP_ARCH_X86';
    case 'arm64':
      return 'SCMP_ARCH_AARCH64';
    default:
      return undefined;
  }
}

/** The call numbers socketcall(2) takes (SYS_SOCKET... in linux/net.h). */
export const SOCKETCALL: Readonly<Record<string, number>> = {
  socket: 1, bind: 2, connect: 3, listen: 4, accept: 5, getsockname: 6, getpeername: 7,
  socketpair: 8, send: 9, recv: 10, sendto: 11, recvfrom: 12, shutdown: 13, setsockopt: 14,
  getsockopt: 15, sendmsg: 16, recvmsg: 17, accept4: 18, recvmmsg: 19, sendmmsg: 20,
};

/** The call numbers ipc(2) takes (SEMOP... in linux/ipc.h). */
export const IPC: Readonly<Record<string, number>> = {
  semop: 1, semget: 2, semctl: 3, semtimedop: 4, msgsnd: 11, msgrcv: 12, msgget: 13, msgctl: 14,
  shmat: 21, shmdt: 22, shmget: 23, shmctl: 24,
};

/** Whether any table (or i386's multiplexers) knows the name. */
// Real syscalls of architectures hull has no table for (docker's profile names them for all):
// skipping them is correct, not worth a warning.
const OTHER_ARCHES = new Set(['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'riscv_flush_icache', 'riscv_hwprobe',
  's390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr', 's390_guarded_storage', 's390_sthyi', 'set_tls', 'sync_file_range2',
  'spu_create', 'spu_run', 'subpage_prot', 'switch_endian', 'sys_debug_setcontext', 'usr26', 'usr32']);

export function knownSyscall(name: string): boolean {
  if (Object.hasOwn(SOCKETCALL, name) || Object.hasOwn(IPC, name)) return true;
  if (OTHER_ARCHES.has(name)) return true;
  return SUPPORTED_ARCHES.some((a) => arch(a).syscalls.has(name));
}
