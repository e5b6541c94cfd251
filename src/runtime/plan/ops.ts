// Opcodes and sync messages of the launch plan; native/plan.h is the other half of this contract.
export const Op = {
  NSOPEN: 1,
  NSJOIN: 2,
  UNSHARE: 3,
  WRITE_FILE: 4,
  CLONE: 5,
  SETID: 6,
  MOUNT: 7,
  MOUNT_PROP: 8,
  REMOUNT: 9,
  ROOTFS: 10,
  MKNOD: 11,
  SYMLINK: 12,
  MKDIR: 13,
  PIVOT_ROOT: 14,
  MASK: 15,
  READONLY: 16,
  SETHOSTNAME: 17,
  SETDOMAINNAME: 18,
  RLIMIT: 19,
  PERSONALITY: 20,
  CONSOLE_CONNECT: 21,
  CONSOLE_SETUP: 22,
  OPEN_FIFO: 23,
  CHDIR: 24,
  EXEC_RESOLVE: 25,
  CAPS_BOUNDING: 26,
  USER: 27,
  CAPS_SET: 28,
  CAPS_AMBIENT: 29,
  NO_NEW_PRIVS: 30,
  UMASK: 31,
  SECCOMP: 32,
  CLOSE_FDS: 33,
  SYNC: 34,
  READY: 35,
  WAIT_START: 36,
  EXEC: 37,
  SETSID: 38,
  KEEPCAPS: 39,
  MOUNT_SETATTR: 40,
  BPF_DEVICES: 41,
  IOPRIO: 42,
  SCHED: 43,
  SECCOMP_CONNECT: 44,
} as const;

export type OpCode = (typeof Op)[keyof typeof Op];

export const PLAN_MAGIC = 0x504c5548;
export const PLAN_VERSION = 1;

export const Msg = {
  PID: 1,
  SYNC: 2,
  READY: 3,
  ERROR: 4,
  EXIT: 5,
  CONTINUE: 101,
  ABORT: 102,
} as const;

/** Tags of OP_SYNC points, so the runtime knows which hooks to run. */
export const SyncTag = {
  CREATE_HOOKS: 1,
  /** The runtime answers with the container process state JSON for the seccomp listener. */
  SECCOMP_LISTENER: 2,
} as const;

/** clone(2)/unshare(2)/setns(2) namespace flags. */
export const CLONE = {
  NEWTIME: 0x80,
  NEWNS: 0x20000,
  NEWCGROUP: 0x2000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** A plan argument: a string, raw bytes, or a 64-bit integer. */
export type Arg = string | Uint8Array | bigint | number;

export interface PlanOp {
  op: OpCode;
  args: Arg[];
  /** What the operation is for, in words: error messages quote it. */
  what: string;
}
