/*
 * hull-init: executes a launch plan (see plan.h) between fork and exec.
 *
 * TypeScript computes every decision; this program only performs the operations in order and
 * reports the first failure as (op index, errno, detail) on the sync socket. It is static and
 * single threaded, which is what setns(user/mnt), unshare and pivot_root need.
 *
 * Usage: hull-init init <sync-fd>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "plan.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct arg {
	const char *p;
	uint32_t len;
};

struct op {
	uint16_t code;
	uint16_t argc;
	struct arg *args;
};

static int sync_fd = -1;
static int root_fd = -1;      /* the rootfs, for resolving paths inside it */
static int console_fd = -1;   /* connected --console-socket */
static int fifo_fd = -1;      /* exec fifo held open until start */
static int seccomp_listener_sock = -1; /* connected by OP_SECCOMP_CONNECT, used by the clone */
static int ns_fds[16];
static int ns_types[16];
static const char *ns_paths[16];
static int ns_count;
static char exec_path[4096];
static int cur_op = -1;
static pid_t child_pid;
static int ready_sent;         /* a plan with no process to exec ends after READY */

/* ---- reporting ---------------------------------------------------------------------------- */

static void send_msg(unsigned type, int a, int b, const void *payload, unsigned len)
{
	struct sync_msg m = { type, a, b, len };
	char buf[sizeof m + 1024];
	if (len > 1024)
		len = m.len = 1024;
	memcpy(buf, &m, sizeof m);
	if (len)
		memcpy(buf + sizeof m, payload, len);
	if (sync_fd < 0)
		return;
	ssize_t n = send(sync_fd, buf, sizeof m + len, MSG_NOSIGNAL);
	/* a seccomp profile loaded already may deny sendto; write(2) does the same on a socket */
	if (n < 0 && errno != EPIPE)
		n = write(sync_fd, buf, sizeof m + len);
	/*
	 * A message that cannot reach the runtime must not leave it waiting for ever (a lost READY
	 * would hang create): exit, so that the runtime sees the socket close.
	 */
	if (n < 0 && errno != EPIPE)
		_exit(126);
}

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int err, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof detail)
		n = sizeof detail - 1;
	send_msg(MSG_ERROR, cur_op, err, detail, (unsigned)n);
	if (sync_fd < 0)
		fprintf(stderr, "hull-init: op %d: %s: %s\n", cur_op, detail, strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* What the runtime sent with its last MSG_CONTINUE (the seccomp listener's state JSON). */
static char *continue_payload;
static size_t continue_len;

static void wait_continue(void)
{
	struct sync_msg m;
	ssize_t n;
	do
		n = recv(sync_fd, &m, sizeof m, MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof m || m.type != MSG_CONTINUE)
		_exit(1); /* the runtime went away or aborted: nothing to report to */
	free(continue_payload);
	continue_payload = NULL;
	continue_len = 0;
	if (!m.len)
		return;
	if (m.len > (16u << 20))
		fail(E2BIG, "sync payload of %u bytes", m.len);
	continue_payload = malloc(m.len);
	if (!continue_payload)
		fail(ENOMEM, "sync payload");
	do
		n = recv(sync_fd, continue_payload, m.len, MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)m.len)
		_exit(1);
	continue_len = m.len;
}

/* ---- plan decoding ------------------------------------------------------------------------ */

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static struct op *decode_plan(char *buf, size_t size, uint32_t *count)
{
	size_t off = 0;
	uint32_t hdr[3];
	if (size < sizeof hdr)
		return NULL;
	memcpy(hdr, buf, sizeof hdr);
	off = sizeof hdr;
	if (hdr[0] != PLAN_MAGIC || hdr[1] != PLAN_VERSION || hdr[2] > 100000)
		return NULL;
	struct op *ops = calloc(hdr[2] ? hdr[2] : 1, sizeof *ops);
	if (!ops)
		return NULL;
	for (uint32_t i = 0; i < hdr[2]; i++) {
		uint16_t h[2];
		if (size - off < sizeof h)
			return NULL;
		memcpy(h, buf + off, sizeof h);
		off += sizeof h;
		ops[i].code = h[0];
		ops[i].argc = h[1];
		ops[i].args = calloc(h[1] ? h[1] : 1, sizeof(struct arg));
		if (!ops[i].args)
			return NULL;
		for (uint16_t j = 0; j < h[1]; j++) {
			uint32_t len;
			if (size - off < sizeof len)
				return NULL;
			memcpy(&len, buf + off, sizeof len);
			off += sizeof len;
			if (size - off < (size_t)len + 1 || buf[off + len] != '\0')
				return NULL;
			ops[i].args[j].p = buf + off;
			ops[i].args[j].len = len;
			off += (size_t)len + 1;
		}
	}
	if (off != size)
		return NULL;
	*count = hdr[2];
	return ops;
}

static const char *S(const struct op *op, int i)
{
	if (i >= op->argc)
		fail(EINVAL, "plan op %u lacks argument %d", op->code, i);
	return op->args[i].p;
}

static uint64_t U(const struct op *op, int i)
{
	uint64_t v;
	if (i >= op->argc || op->args[i].len != 8)
		fail(EINVAL, "plan op %u argument %d is not an integer", op->code, i);
	memcpy(&v, op->args[i].p, 8);
	return v;
}

/* ---- paths inside the rootfs -------------------------------------------------------------- */

static int openat2_in_root(const char *path, uint64_t flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	/*
	 * openat2 gives EAGAIN when a mount or rename anywhere on the host raced the lookup
	 * (another container starting, say): the kernel asks for a retry, not a failure.
	 */
	long fd;
	int tries = 0;
	do
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN && ++tries < 1000);
	return (int)fd;
}

/*
 * Open path inside the rootfs, symlinks resolved as if the rootfs were "/". With kind 1 or 2
 * the missing components are created (directories, then a directory or an empty file last).
 */
static int open_in_root(const char *path, int kind)
{
	int fd = openat2_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT || !kind)
		return fd;
	char buf[4096];
	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	int parent = openat2_in_root("/", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return -1;
	char *save = NULL;
	char *name = strtok_r(buf, "/", &save);
	while (name) {
		char *next = strtok_r(NULL, "/", &save);
		int last = next == NULL;
		if (!strcmp(name, "..") || !strcmp(name, ".")) {
			/* the runtime sends clean paths; anything else is refused, not interpreted */
			close(parent);
			errno = EINVAL;
			return -1;
		}
		if (last && kind == 2) {
			int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (f >= 0)
				close(f);
			else if (errno != EEXIST)
				goto out_err;
		} else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
			goto out_err;
		}
		/* resolve what now exists through the safe resolver, in case it is a symlink */
		struct open_how how = {
			.flags = O_PATH | O_CLOEXEC | (last ? 0 : O_DIRECTORY),
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		char prefix[4096];
		size_t plen = (size_t)(name - buf) + strlen(name);
		memcpy(prefix, path, plen);
		prefix[plen] = '\0';
		const char *rel = prefix;
		while (*rel == '/')
			rel++;
		int nfd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
		if (nfd < 0)
			goto out_err;
		close(parent);
		parent = nfd;
		name = next;
	}
	return parent;
out_err:;
	int e = errno;
	close(parent);
	errno = e;
	return -1;
}

/* Split "a/b/c" into the parent (opened in the rootfs, created if missing) and "c". */
static int open_parent_in_root(const char *path, char *name, size_t nlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(name, nlen, "%s", path);
		return openat2_in_root("/", O_PATH | O_DIRECTORY);
	}
	if (!slash[1] || (size_t)(slash - path) >= sizeof dir || strlen(slash + 1) >= nlen) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	strcpy(name, slash + 1);
	if (!strcmp(name, "..") || !strcmp(name, ".")) {
		errno = EINVAL;
		return -1;
	}
	int fd = open_in_root(dir[0] ? dir : "/", 1);
	if (fd < 0)
		return -1;
	/* openat2 gave an O_PATH fd; *at() calls accept it as a directory anchor */
	return fd;
}

static void fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Resolve a mount target: inside the rootfs through a fd, or a plain path. */
static int target_path(const char *target, int inroot, int kind, char *buf, size_t len, int *fd)
{
	*fd = -1;
	if (!inroot) {
		snprintf(buf, len, "%s", target);
		return 0;
	}
	*fd = open_in_root(target, kind);
	if (*fd < 0)
		return -1;
	fd_path(*fd, buf, len);
	return 0;
}

/* Flags a remount must keep, or the kernel refuses it in a user namespace. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs st;
	unsigned long f = 0;
	if (statvfs(path, &st) < 0)
		return 0;
	if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV) f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
	if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
	return f;
}

static int remount(const char *path, unsigned long flags, const char *data)
{
	if (mount(NULL, path, NULL, flags | MS_REMOUNT, data) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	unsigned long want = flags | MS_REMOUNT | (locked_flags(path) & ~MS_RDONLY);
	return mount(NULL, path, NULL, want, data);
}

/* ---- operations --------------------------------------------------------------------------- */

static void write_file(const char *path, const char *data, size_t len, int ignore_enoent)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (ignore_enoent && errno == ENOENT)
			return;
		fail(errno, "open %s", path);
	}
	if (write(fd, data, len) != (ssize_t)len)
		fail(errno, "write %s", path);
	close(fd);
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static void op_clone(const struct op *op)
{
	unsigned long flags = U(op, 0);
	int wait_mode = (int)U(op, 1);
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		fail(errno, "pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		fail(errno, "clone");
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		close(go[0]);
		return;
	}
	close(go[0]);
	child_pid = pid;
	/* the agent sees the end of the state only when every copy of the socket is closed */
	if (seccomp_listener_sock >= 0) {
		close(seccomp_listener_sock);
		seccomp_listener_sock = -1;
	}
	char path[64];
	if (op->args[3].len || op->args[4].len) {
		snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, S(op, 2), op->args[2].len) != (ssize_t)op->args[2].len) {
			kill(pid, SIGKILL);
			fail(errno, "write uid_map");
		}
		close(fd);
		if (op->args[4].len) {
			snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, S(op, 4), op->args[4].len) != (ssize_t)op->args[4].len) {
				kill(pid, SIGKILL);
				fail(errno, "write setgroups");
			}
			close(fd);
		}
		snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, S(op, 3), op->args[3].len) != (ssize_t)op->args[3].len) {
			kill(pid, SIGKILL);
			fail(errno, "write gid_map");
		}
		close(fd);
	}
	send_msg(MSG_PID, pid, 0, NULL, 0);
	if (write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		fail(errno, "release child");
	}
	close(go[1]);
	if (!wait_mode) {
		close(sync_fd);
		_exit(0);
	}
	/* Wait mode: stay the process's parent, pass signals on, and report how it ended. */
	struct sigaction sa = { 0 };
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	for (;;) {
		int status, code;
		pid_t w = waitpid(pid, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			code = 255;
		else if (WIFEXITED(status))
			code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			code = 128 + WTERMSIG(status);
		else
			continue;
		send_msg(MSG_EXIT, code, 0, NULL, 0);
		_exit(code);
	}
}

static void op_mount(const struct op *op)
{
	const char *source = S(op, 0), *target = S(op, 1), *fstype = S(op, 2), *data = S(op, 4);
	unsigned long flags = U(op, 3);
	char path[64 + 4096];
	int fd;
	if (target_path(target, (int)U(op, 5), (int)U(op, 6), path, sizeof path, &fd) < 0)
		fail(errno, "resolve mount target %s", target);
	if (mount(*source ? source : NULL, path, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0)
		fail(errno, "mount %s on %s", source, target);
	if (fd >= 0)
		close(fd);
}

static void op_mount_prop(const struct op *op)
{
	char path[64 + 4096];
	int fd;
	if (target_path(S(op, 0), (int)U(op, 1), 0, path, sizeof path, &fd) < 0)
		fail(errno, "resolve %s", S(op, 0));
	if (mount(NULL, path, NULL, U(op, 2), NULL) < 0)
		fail(errno, "set propagation of %s", S(op, 0));
	if (fd >= 0)
		close(fd);
}

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* struct mount_attr (linux/mount.h), named apart from the libc one some headers declare */
struct hull_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

/* Mount attributes for a whole subtree at once (rro, rnosuid, ...): mount_setattr(2). */
static void op_mount_setattr(const struct op *op)
{
	char path[64 + 4096];
	int fd;
	if (target_path(S(op, 0), (int)U(op, 1), 0, path, sizeof path, &fd) < 0)
		fail(errno, "resolve %s", S(op, 0));
	struct hull_mount_attr attr = { .attr_set = U(op, 2), .attr_clr = U(op, 3) };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) < 0)
		fail(errno, "set recursive mount attributes of %s", S(op, 0));
	if (fd >= 0)
		close(fd);
}

static void op_remount(const struct op *op)
{
	char path[64 + 4096];
	int fd;
	if (target_path(S(op, 0), (int)U(op, 1), 0, path, sizeof path, &fd) < 0)
		fail(errno, "resolve %s", S(op, 0));
	const char *data = S(op, 3);
	if (remount(path, U(op, 2), *data ? data : NULL) < 0)
		fail(errno, "remount %s", S(op, 0));
	if (fd >= 0)
		close(fd);
}

static void op_mknod(const struct op *op)
{
	char name[256];
	int dir = open_parent_in_root(S(op, 0), name, sizeof name);
	if (dir < 0)
		fail(errno, "resolve %s", S(op, 0));
	dev_t dev = makedev((unsigned)U(op, 2), (unsigned)U(op, 3));
	if (mknodat(dir, name, (mode_t)U(op, 1), dev) < 0) {
		if (errno != EEXIST)
			fail(errno, "mknod %s", S(op, 0));
	}
	/* The mode argument is filtered by umask; the spec asks for the exact mode. */
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "stat %s", S(op, 0));
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode))
		fail(EEXIST, "%s exists and is not a device", S(op, 0));
	/* runtime-spec: a file already at the path that is not the requested device is an error */
	if ((st.st_mode & S_IFMT) != ((mode_t)U(op, 1) & S_IFMT) || (!S_ISFIFO(st.st_mode) && st.st_rdev != dev))
		fail(EEXIST, "%s exists and is a different device", S(op, 0));
	if (fchmodat(dir, name, (mode_t)U(op, 1) & 07777, 0) < 0)
		fail(errno, "chmod %s", S(op, 0));
	if (fchownat(dir, name, (uid_t)U(op, 4), (gid_t)U(op, 5), AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", S(op, 0));
	close(dir);
}

static void op_symlink(const struct op *op)
{
	char name[256];
	int dir = open_parent_in_root(S(op, 1), name, sizeof name);
	if (dir < 0)
		fail(errno, "resolve %s", S(op, 1));
	if (symlinkat(S(op, 0), dir, name) < 0 && errno != EEXIST)
		fail(errno, "symlink %s", S(op, 1));
	close(dir);
}

static void op_pivot_root(const struct op *op)
{
	const char *rootfs = S(op, 0);
	uint64_t mode = U(op, 1);
	if (mode == 2) {
		/* no mount namespace of our own: a bare chroot, as runc does */
		if (chdir(rootfs) < 0 || chroot(".") < 0)
			fail(errno, "chroot %s", rootfs);
	} else if (mode == 1) {
		if (chdir(rootfs) < 0)
			fail(errno, "chdir %s", rootfs);
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			fail(errno, "move %s to /", rootfs);
		if (chroot(".") < 0)
			fail(errno, "chroot");
	} else {
		int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (oldroot < 0 || newroot < 0)
			fail(errno, "open roots");
		if (fchdir(newroot) < 0)
			fail(errno, "fchdir rootfs");
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			fail(errno, "pivot_root");
		if (fchdir(oldroot) < 0)
			fail(errno, "fchdir old root");
		/* Keep our unmount from propagating to the host. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			fail(errno, "make old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			fail(errno, "unmount old root");
		close(oldroot);
		close(newroot);
	}
	if (chdir("/") < 0)
		fail(errno, "chdir /");
	if (root_fd >= 0)
		close(root_fd);
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		fail(errno, "open new root");
}

static void op_mask(const struct op *op)
{
	int fd = open_in_root(S(op, 0), 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "resolve masked path %s", S(op, 0));
	}
	struct stat st;
	char path[64];
	if (fstat(fd, &st) < 0)
		fail(errno, "stat %s", S(op, 0));
	fd_path(fd, path, sizeof path);
	if (S_ISDIR(st.st_mode)) {
		/* the plan may give the data, to add an SELinux context= */
		const char *data = op->argc > 1 ? S(op, 1) : "size=0k,nr_inodes=1";
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, data) < 0)
			fail(errno, "mask %s", S(op, 0));
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		fail(errno, "mask %s", S(op, 0));
	}
	close(fd);
}

static void op_readonly(const struct op *op)
{
	int fd = open_in_root(S(op, 0), 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "resolve read-only path %s", S(op, 0));
	}
	char path[64];
	fd_path(fd, path, sizeof path);
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, "bind %s", S(op, 0));
	close(fd);
	/* the bind is a new mount on top: reopen to reach it, not the one below */
	fd = open_in_root(S(op, 0), 0);
	if (fd < 0)
		fail(errno, "reopen %s", S(op, 0));
	fd_path(fd, path, sizeof path);
	if (remount(path, MS_BIND | MS_RDONLY | MS_REC, NULL) < 0)
		fail(errno, "make %s read-only", S(op, 0));
	close(fd);
}

/*
 * Sends data with fd as SCM_RIGHTS on its first part (the console's name, the seccomp
 * listener's state JSON). Returns 0 or an errno.
 */
static int send_with_fd(int sock, int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { (void *)(data + off), len - off };
		struct msghdr msg = { 0 };
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (off == 0) {
			msg.msg_control = cbuf;
			msg.msg_controllen = sizeof cbuf;
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof fd);
		}
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		off += (size_t)n;
	}
	return 0;
}

static void send_fd(int sock, int fd, const char *name)
{
	int err = send_with_fd(sock, fd, name, strlen(name));
	if (err)
		fail(err, "send fd over socket");
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void op_console_setup(const struct op *op)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, "open /dev/ptmx");
	int unlock = 0, ptn;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
		fail(errno, "unlock pty");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errno, "open pty peer");
	struct winsize ws = { (unsigned short)U(op, 0), (unsigned short)U(op, 1), 0, 0 };
	if (ws.ws_row && ws.ws_col)
		ioctl(slave, TIOCSWINSZ, &ws);
	char name[64];
	snprintf(name, sizeof name, "/dev/pts/%d", ptn);
	if (U(op, 2)) {
		int fd = open_in_root("/dev/console", 2);
		if (fd < 0)
			fail(errno, "create /dev/console");
		char path[64];
		fd_path(fd, path, sizeof path);
		/* after pivot_root, our own /proc may be absent: bind by name */
		close(fd);
		if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
			fail(errno, "bind %s on /dev/console", name);
	}
	if (console_fd < 0)
		fail(EBADF, "no console socket");
	send_fd(console_fd, master, name);
	close(master);
	close(console_fd);
	console_fd = -1;
	if (setsid() < 0 && errno != EPERM)
		fail(errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, "set controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			fail(errno, "dup pty to fd %d", i);
	if (slave > 2)
		close(slave);
}

static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	if (!(st.st_mode & 0111)) {
		errno = EACCES;
		return -1;
	}
	/*
	 * As the identity the program will run with (the plan resolves after OP_USER). A seccomp
	 * filter loaded before this (no no_new_privs) may deny faccessat2, which glibc uses for
	 * AT_EACCESS, or faccessat too: access(2) never gives EPERM for X_OK otherwise. Real and
	 * effective ids are equal here, so the older call answers the same question; if it is
	 * denied as well, the mode bits checked above stand (as Go's exec.LookPath decides).
	 */
	if (syscall(SYS_faccessat2, AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
		return 0;
	if (errno != EPERM && errno != ENOSYS)
		return -1;
	if (syscall(SYS_faccessat, AT_FDCWD, path, X_OK) == 0)
		return 0;
	return errno == EPERM || errno == ENOSYS ? 0 : -1;
}

static void op_exec_resolve(const struct op *op)
{
	const char *file = S(op, 0), *pathv = S(op, 1);
	if (!*file)
		fail(ENOENT, "empty executable name");
	if (strchr(file, '/')) {
		if (executable(file) < 0)
			fail(errno, "exec %s", file);
		snprintf(exec_path, sizeof exec_path, "%s", file);
		return;
	}
	int saw_eacces = 0;
	const char *p = pathv;
	while (p) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(exec_path, sizeof exec_path, "%.*s/%s", (int)dl, dl ? p : ".", file);
		if (executable(exec_path) == 0)
			return;
		if (errno == EACCES)
			saw_eacces = 1;
		p = colon ? colon + 1 : NULL;
	}
	fail(saw_eacces ? EACCES : ENOENT, "executable %s not found in $PATH", file);
}

static void caps_set(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};
	if (syscall(SYS_capset, &h, d) < 0)
		fail(errno, "capset");
}

static int last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16] = { 0 };
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0)
			return atoi(buf);
	}
	for (int c = 63; c >= 0; c--)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0)
			return c;
	return 40;
}

static int cap_last = -1;

static void op_caps_bounding(uint64_t keep)
{
	if (cap_last < 0)
		cap_last = last_cap();
	for (int c = 0; c <= cap_last && c < 64; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fail(errno, "drop bounding capability %d", c);
}

static void op_caps_ambient(uint64_t mask)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(errno, "clear ambient capabilities");
	for (int c = 0; c < 64; c++)
		if ((mask & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			fail(errno, "raise ambient capability %d", c);
}

static void op_user(const struct op *op)
{
	uid_t uid = (uid_t)U(op, 0);
	gid_t gid = (gid_t)U(op, 1);
	size_t n = op->args[2].len / 4;
	gid_t groups[1024];
	if (n > 1024)
		fail(E2BIG, "too many additional groups");
	memcpy(groups, S(op, 2), n * 4);
	if (U(op, 3) && setgroups(n, groups) < 0)
		fail(errno, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		fail(errno, "setgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		fail(errno, "setuid %u", uid);
}

static void op_ioprio(const struct op *op)
{
	/* linux/ioprio.h: IOPRIO_WHO_PROCESS = 1, the class above 13 bits of level */
	int value = (int)((U(op, 0) << 13) | U(op, 1));
	if (syscall(SYS_ioprio_set, 1, 0, value) < 0)
		fail(errno, "ioprio_set class %d level %d", (int)U(op, 0), (int)U(op, 1));
}

/* linux/sched/types.h, SCHED_ATTR_SIZE_VER1; named apart from libc's, which newer glibc has */
struct hull_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

static void op_sched(const struct op *op)
{
	struct hull_sched_attr attr = {
		.size = sizeof attr,
		.sched_policy = (uint32_t)U(op, 0),
		.sched_flags = U(op, 1),
		.sched_nice = (int32_t)U(op, 2),
		.sched_priority = (uint32_t)U(op, 3),
		.sched_runtime = U(op, 4),
		.sched_deadline = U(op, 5),
		.sched_period = U(op, 6),
	};
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		fail(errno, "sched_setattr policy %u", attr.sched_policy);
}

static void op_seccomp(const struct op *op)
{
	size_t len = op->args[0].len;
	unsigned flags = (unsigned)U(op, 1);
	if (len % sizeof(struct sock_filter) || len == 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		fail(EINVAL, "malformed seccomp program of %zu bytes", len);
	if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && (seccomp_listener_sock < 0 || !continue_len))
		fail(EINVAL, "a seccomp listener needs a connected socket and the state to send");
	/* the plan buffer is only byte aligned; copy to satisfy the kernel's struct access */
	struct sock_filter *copy = malloc(len);
	if (!copy)
		fail(ENOMEM, "seccomp");
	memcpy(copy, op->args[0].p, len);
	struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = copy };
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0)
		fail(errno, "load seccomp filter");
	free(copy);
	if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
		return;
	/* From here on every syscall is filtered: the fewer the better, and sendmsg must pass. */
	int err = send_with_fd(seccomp_listener_sock, (int)fd, continue_payload, continue_len);
	/* With no listener fd left open, a notifying syscall fails with ENOSYS instead of hanging. */
	close((int)fd);
	close(seccomp_listener_sock);
	seccomp_listener_sock = -1;
	if (err)
		fail(err, "send the seccomp listener fd");
}

static void split_nul(const struct arg *a, char **out, size_t max)
{
	size_t n = 0;
	const char *p = a->p, *end = a->p + a->len;
	while (p < end && n + 1 < max) {
		out[n++] = (char *)p;
		p += strlen(p) + 1;
	}
	out[n] = NULL;
}

static void op_exec(const struct op *op)
{
	static char *argv[4096], *envp[4096];
	split_nul(&op->args[0], argv, 4096);
	split_nul(&op->args[1], envp, 4095);
	char listen_pid[32];
	if (U(op, 2)) {
		size_t n = 0;
		while (envp[n])
			n++;
		snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", getpid());
		envp[n] = listen_pid;
		envp[n + 1] = NULL;
	}
	const char *path = exec_path[0] ? exec_path : argv[0];
	execve(path, argv, envp);
	fail(errno, "exec %s", path);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The ids of the device programs attached to the cgroup itself (not inherited ones). */
static uint32_t *attached_device_programs(int dir, const char *path, uint32_t *count)
{
	for (uint32_t cap = 64;; cap *= 2) {
		uint32_t *ids = calloc(cap, sizeof *ids);
		if (!ids)
			fail(ENOMEM, "query device programs of %s", path);
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.query.target_fd = (uint32_t)dir;
		a.query.attach_type = BPF_CGROUP_DEVICE;
		a.query.prog_ids = (uint64_t)(uintptr_t)ids;
		a.query.prog_cnt = cap;
		if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
			*count = a.query.prog_cnt;
			return ids;
		}
		free(ids);
		if (errno != ENOSPC || cap >= 65536)
			fail(errno, "query device programs of %s", path);
	}
}

/*
 * Load a BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to a cgroup2 directory with
 * BPF_F_ALLOW_MULTI, then detach what was attached there before: the cgroup is never left
 * without a filter, and ends with exactly the new one.
 */
static void op_bpf_devices(const struct op *op)
{
	const char *path = S(op, 0), *license = S(op, 2);
	uint32_t len = op->args[1].len;
	if (len == 0 || len % sizeof(struct bpf_insn))
		fail(EINVAL, "malformed device program (%u bytes)", len);
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		fail(errno, "open cgroup %s", path);
	uint32_t old_count = 0;
	uint32_t *old = attached_device_programs(dir, path, &old_count);

	/* the plan buffer is only byte aligned */
	struct bpf_insn *insns = malloc(len);
	if (!insns)
		fail(ENOMEM, "device program");
	memcpy(insns, op->args[1].p, len);
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = len / sizeof(struct bpf_insn);
	a.license = (uint64_t)(uintptr_t)license;
	memcpy(a.prog_name, "hull_devices", sizeof "hull_devices");
	int prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (prog < 0) {
		/* again with the verifier's log, only now: a log that does not fit fails a good load */
		int err = errno;
		static char log[1 << 16];
		a.log_level = 1;
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = sizeof log;
		log[0] = '\0';
		if (sys_bpf(BPF_PROG_LOAD, &a) >= 0 || !log[0])
			fail(err, "load the device program (%u instructions)", a.insn_cnt);
		size_t n = strnlen(log, sizeof log);
		while (n && log[n - 1] == '\n')
			log[--n] = '\0';
		/* the verifier's verdict is at the end of its log */
		const char *tail = n > 700 ? log + n - 700 : log;
		fail(err, "load the device program (%u instructions): verifier log: %s%s", a.insn_cnt, n > 700 ? "..." : "", tail);
	}
	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)dir;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		fail(errno, "attach the device program to %s", path);
	for (uint32_t i = 0; i < old_count; i++) {
		memset(&a, 0, sizeof a);
		a.prog_id = old[i];
		int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (fd < 0 && errno == ENOENT)
			continue; /* gone meanwhile */
		if (fd < 0)
			fail(errno, "open the old device program %u of %s", old[i], path);
		memset(&a, 0, sizeof a);
		a.target_fd = (uint32_t)dir;
		a.attach_bpf_fd = (uint32_t)fd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			fail(errno, "detach the old device program %u from %s", old[i], path);
		close(fd);
	}
	free(old);
	free(insns);
	close(prog);
	close(dir);
}

/* For messages only: the name of one CLONE_NEW* flag, as config.json spells it. */
static const char *ns_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	default: return "unknown";
	}
}

static void run(const struct op *op)
{
	switch (op->code) {
	case OP_NSOPEN: {
		if (ns_count >= 16)
			fail(E2BIG, "too many namespaces");
		int fd = open(S(op, 0), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail(errno, "open namespace %s", S(op, 0));
		ns_fds[ns_count] = fd;
		ns_paths[ns_count] = S(op, 0);
		ns_types[ns_count++] = (int)U(op, 1);
		break;
	}
	case OP_NSJOIN: {
		/*
		 * In the plan's order (user first), except that while we still have our own
		 * privileges we try the others before the user namespace: one owned by an
		 * ancestor user namespace (a time namespace made before the container's user
		 * namespace) cannot be joined from inside it. What fails with EPERM is tried
		 * again once the user namespace has given us its capabilities, as runc does.
		 */
		int done[16] = { 0 };
		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < ns_count; i++) {
				if (done[i] || (pass == 0 && ns_types[i] == CLONE_NEWUSER))
					continue;
				if (setns(ns_fds[i], ns_types[i]) < 0) {
					if (pass == 0 && errno == EPERM)
						continue;
					fail(errno, "join %s as a %s namespace", ns_paths[i], ns_name(ns_types[i]));
				}
				done[i] = 1;
				close(ns_fds[i]);
			}
		}
		ns_count = 0;
		break;
	}
	case OP_UNSHARE:
		if (unshare((int)U(op, 0)) < 0)
			fail(errno, "unshare 0x%lx", (unsigned long)U(op, 0));
		break;
	case OP_WRITE_FILE:
		write_file(S(op, 0), S(op, 1), op->args[1].len, (int)U(op, 2));
		break;
	case OP_CLONE:
		op_clone(op);
		break;
	case OP_SETID:
		if (setresgid((gid_t)U(op, 1), (gid_t)U(op, 1), (gid_t)U(op, 1)) < 0 ||
		    setresuid((uid_t)U(op, 0), (uid_t)U(op, 0), (uid_t)U(op, 0)) < 0)
			fail(errno, "become uid %lu", (unsigned long)U(op, 0));
		break;
	case OP_MOUNT:
		op_mount(op);
		break;
	case OP_MOUNT_PROP:
		op_mount_prop(op);
		break;
	case OP_REMOUNT:
		op_remount(op);
		break;
	case OP_ROOTFS:
		if (root_fd >= 0)
			close(root_fd);
		root_fd = open(S(op, 0), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0)
			fail(errno, "open rootfs %s", S(op, 0));
		break;
	case OP_MKNOD:
		op_mknod(op);
		break;
	case OP_SYMLINK:
		op_symlink(op);
		break;
	case OP_MKDIR: {
		int fd = open_in_root(S(op, 0), 1);
		if (fd < 0)
			fail(errno, "mkdir %s", S(op, 0));
		close(fd);
		break;
	}
	case OP_PIVOT_ROOT:
		op_pivot_root(op);
		break;
	case OP_MASK:
		op_mask(op);
		break;
	case OP_READONLY:
		op_readonly(op);
		break;
	case OP_SETHOSTNAME:
		if (sethostname(S(op, 0), op->args[0].len) < 0)
			fail(errno, "sethostname");
		break;
	case OP_SETDOMAINNAME:
		if (setdomainname(S(op, 0), op->args[0].len) < 0)
			fail(errno, "setdomainname");
		break;
	case OP_RLIMIT: {
		struct rlimit rl = { U(op, 1), U(op, 2) };
		if (setrlimit((int)U(op, 0), &rl) < 0)
			fail(errno, "setrlimit %d", (int)U(op, 0));
		break;
	}
	case OP_PERSONALITY:
		if (personality((unsigned long)U(op, 0)) < 0)
			fail(errno, "personality");
		break;
	case OP_CONSOLE_CONNECT:
		console_fd = connect_unix(S(op, 0));
		if (console_fd < 0)
			fail(errno, "connect to console socket %s", S(op, 0));
		break;
	case OP_CONSOLE_SETUP:
		op_console_setup(op);
		break;
	case OP_OPEN_FIFO:
		/* Held open read-write, a read blocks until start writes, and open never blocks. */
		if (mknod(S(op, 0), S_IFIFO | 0600, 0) < 0)
			fail(errno, "create exec fifo %s", S(op, 0));
		fifo_fd = open(S(op, 0), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fifo_fd < 0)
			fail(errno, "open exec fifo");
		break;
	case OP_CHDIR: {
		if (chdir(S(op, 0)) < 0)
			fail(errno, "chdir to cwd %s", S(op, 0));
		/* a cwd reached through a leaked host fd shows as unreachable (CVE-2024-21626) */
		char buf[4096];
		if (!getcwd(buf, sizeof buf) || buf[0] != '/')
			fail(EPERM, "cwd %s is outside the container root", S(op, 0));
		break;
	}
	case OP_EXEC_RESOLVE:
		op_exec_resolve(op);
		break;
	case OP_CAPS_BOUNDING:
		op_caps_bounding(U(op, 0));
		break;
	case OP_USER:
		op_user(op);
		break;
	case OP_CAPS_SET:
		caps_set(U(op, 0), U(op, 1), U(op, 2));
		break;
	case OP_CAPS_AMBIENT:
		op_caps_ambient(U(op, 0));
		break;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail(errno, "set no_new_privs");
		break;
	case OP_UMASK:
		umask((mode_t)U(op, 0));
		break;
	case OP_SECCOMP:
		op_seccomp(op);
		break;
	case OP_CLOSE_FDS:
		if (syscall(SYS_close_range, (unsigned)U(op, 0), ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
			/* a seccomp profile may deny close_range: fcntl on every possible fd does the same */
			if (errno != EPERM && errno != ENOSYS)
				fail(errno, "close fds");
			struct rlimit rl;
			rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 1u << 20;
			for (rlim_t fd = U(op, 0); fd < max; fd++)
				(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		}
		break;
	case OP_SYNC:
		send_msg(MSG_SYNC, (int)U(op, 0), 0, NULL, 0);
		wait_continue();
		break;
	case OP_READY:
		send_msg(MSG_READY, 0, 0, NULL, 0);
		ready_sent = 1;
		break;
	case OP_BPF_DEVICES:
		op_bpf_devices(op);
		break;
	case OP_WAIT_START: {
		char c;
		ssize_t n;
		do
			n = read(fifo_fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(1);
		close(fifo_fd);
		fifo_fd = -1;
		break;
	}
	case OP_EXEC:
		op_exec(op);
		break;
	case OP_SETSID:
		if (setsid() < 0)
			fail(errno, "setsid");
		break;
	case OP_KEEPCAPS:
		if (prctl(PR_SET_KEEPCAPS, (unsigned long)U(op, 0), 0, 0, 0) < 0)
			fail(errno, "keepcaps");
		break;
	case OP_MOUNT_SETATTR:
		op_mount_setattr(op);
		break;
	case OP_IOPRIO:
		op_ioprio(op);
		break;
	case OP_SCHED:
		op_sched(op);
		break;
	case OP_SECCOMP_CONNECT:
		/* before any namespace or pivot_root: the path is the host's, seen from the runtime */
		seccomp_listener_sock = connect_unix(S(op, 0));
		if (seccomp_listener_sock < 0)
			fail(errno, "connect to seccomp listener %s", S(op, 0));
		break;
	default:
		fail(EINVAL, "unknown plan op %u", op->code);
	}
}

/*
 * Run from a sealed in-memory copy of ourselves, so that a process in the container that
 * reaches /proc/<pid>/exe can never write to the binary on the host (CVE-2019-5736).
 */
static void reexec_sealed(char **argv)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return;
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & F_SEAL_WRITE)) {
		close(self);
		return;
	}
	struct stat st;
	int mem = memfd_create("hull-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0 || fstat(self, &st) < 0)
		goto fallback;
	off_t off = 0;
	while (off < st.st_size)
		if (sendfile(mem, self, &off, (size_t)(st.st_size - off)) <= 0)
			goto fallback;
	if (fcntl(mem, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		goto fallback;
	close(self);
	extern char **environ;
	syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
	fprintf(stderr, "hull-init: cannot re-exec sealed copy: %s\n", strerror(errno));
	_exit(126);
fallback:
	fprintf(stderr, "hull-init: cannot make a sealed copy of itself: %s\n", strerror(errno));
	_exit(126);
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "init") != 0) {
		fprintf(stderr, "usage: hull-init init <sync-fd>\n");
		return 2;
	}
	reexec_sealed(argv);
	/* Until exec, nothing else may open our /proc files or ptrace us. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sync_fd = atoi(argv[2]);
	if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "hull-init: bad sync fd %s\n", argv[2]);
		return 2;
	}
	uint32_t len;
	/* the runtime may go away without sending a plan: nothing to do, nothing to report */
	if (read_full(sync_fd, &len, sizeof len) < 0)
		_exit(0);
	if (len > (64u << 20))
		fail(EINVAL, "plan too large");
	char *buf = malloc(len ? len : 1);
	if (!buf || read_full(sync_fd, buf, len) < 0)
		fail(EINVAL, "cannot read plan");
	uint32_t count;
	struct op *ops = decode_plan(buf, len, &count);
	if (!ops)
		fail(EINVAL, "malformed plan");
	for (uint32_t i = 0; i < count; i++) {
		cur_op = (int)i;
		run(&ops[i]);
	}
	cur_op = -1;
	/* host-side work (a device filter) has no process to exec: done once READY went out */
	if (ready_sent)
		_exit(0);
	fail(EINVAL, "plan ended without exec");
}
