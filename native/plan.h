/*
 * The launch plan: the contract between TypeScript (which decides) and hull-init (which executes).
 * src/runtime/plan/ops.ts mirrors these numbers; test/unit/plan-ops.test.ts keeps them in step.
 *
 * Wire format (little endian):
 *   u32 magic PLAN_MAGIC, u32 version PLAN_VERSION, u32 op count
 *   per op: u16 opcode, u16 argc, then argc args of: u32 len, len bytes, one NUL byte
 * Integer arguments are 8-byte little-endian values.
 */
#ifndef HULL_PLAN_H
#define HULL_PLAN_H

#define PLAN_MAGIC 0x504c5548u /* "HULP" */
#define PLAN_VERSION 1u

enum plan_op {
	OP_NSOPEN = 1,        /* path, nstype */
	OP_NSJOIN = 2,        /* (joins every namespace opened so far, in order) */
	OP_UNSHARE = 3,       /* flags */
	OP_WRITE_FILE = 4,    /* path, data, ignore_enoent */
	OP_CLONE = 5,         /* flags, mode (0 detach, 1 wait), uid_map, gid_map, setgroups */
	OP_SETID = 6,         /* uid, gid */
	OP_MOUNT = 7,         /* source, target, fstype, flags, data, inroot, mkdir_kind */
	OP_MOUNT_PROP = 8,    /* target, inroot, flags */
	OP_REMOUNT = 9,       /* target, inroot, flags, data */
	OP_ROOTFS = 10,       /* path */
	OP_MKNOD = 11,        /* path, mode, major, minor, uid, gid */
	OP_SYMLINK = 12,      /* target, linkpath */
	OP_MKDIR = 13,        /* path, mode */
	OP_PIVOT_ROOT = 14,   /* rootfs path, mode: 0 pivot_root, 1 MS_MOVE + chroot, 2 chroot */
	OP_MASK = 15,         /* path, [tmpfs data for a masked directory] */
	OP_READONLY = 16,     /* path */
	OP_SETHOSTNAME = 17,  /* name */
	OP_SETDOMAINNAME = 18,/* name */
	OP_RLIMIT = 19,       /* resource, soft, hard */
	OP_PERSONALITY = 20,  /* domain */
	OP_CONSOLE_CONNECT = 21, /* socket path */
	OP_CONSOLE_SETUP = 22,   /* rows, cols, mount_console */
	OP_OPEN_FIFO = 23,    /* path */
	OP_CHDIR = 24,        /* path */
	OP_EXEC_RESOLVE = 25, /* file, PATH value */
	OP_CAPS_BOUNDING = 26,/* keep mask */
	OP_USER = 27,         /* uid, gid, groups (packed u32), set_groups */
	OP_CAPS_SET = 28,     /* effective, permitted, inheritable */
	OP_CAPS_AMBIENT = 29, /* mask */
	OP_NO_NEW_PRIVS = 30,
	OP_UMASK = 31,        /* mask */
	OP_SECCOMP = 32,      /* bpf program (struct sock_filter[]), seccomp(2) flags */
	OP_CLOSE_FDS = 33,    /* first fd to close on exec */
	OP_SYNC = 34,         /* tag: report to the parent and wait for it to continue */
	OP_READY = 35,
	OP_WAIT_START = 36,
	OP_EXEC = 37,         /* argv (NUL separated), envp (NUL separated), set_listen_pid */
	OP_SETSID = 38,
	OP_KEEPCAPS = 39,     /* on */
	OP_MOUNT_SETATTR = 40,/* target, inroot, attr_set, attr_clr: mount_setattr(AT_RECURSIVE) */
	OP_BPF_DEVICES = 41,  /* cgroup2 dir, program (struct bpf_insn[]), license: replaces the device filter */
	OP_IOPRIO = 42,       /* class, level: ioprio_set(IOPRIO_WHO_PROCESS, 0) */
	OP_SCHED = 43,        /* policy, flags, nice, priority, runtime, deadline, period: sched_setattr(0) */
	OP_SECCOMP_CONNECT = 44, /* listener socket path: connect now, hand the filter's listener over at OP_SECCOMP */
	OP_MAX
};

/* Messages on the sync socket: struct sync_msg, then len payload bytes. */
enum sync_type {
	MSG_PID = 1,      /* a = pid of the process the plan cloned */
	MSG_SYNC = 2,     /* a = tag; hull-init waits for MSG_CONTINUE */
	MSG_READY = 3,
	MSG_ERROR = 4,    /* a = op index, b = errno, payload = detail */
	MSG_EXIT = 5,     /* wait mode: a = the container process's exit status (128+n for signal n) */
	MSG_CONTINUE = 101,   /* payload, if any, is kept for the next op (the seccomp listener's state JSON) */
	MSG_ABORT = 102,
};

struct sync_msg {
	unsigned int type;
	int a;
	int b;
	unsigned int len;
};

#endif
