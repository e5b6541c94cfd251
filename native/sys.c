// hull-sys.node: the syscalls Node's fs lacks, for src/sys/ (DESIGN.md, "The C boundary").
// Mechanism only: each function is one syscall (the namespace ones add the steps into and out
// of a network namespace around theirs, spawnDetached the two clones of a double fork), and
// errors are thrown the way Node's fs throws them (code, errno, syscall, path, and libuv's
// message), so callers treat both alike.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <node_api.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) goto fail;                                                    \
  } while (0)

// An Error shaped like Node's fs errors: "EPERM: operation not permitted, mknod '/x'", or NULL
// if even that could not be made.
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = uv_err_name(-err);
  const char *text = uv_strerror(-err);
  size_t len = strlen(code) + strlen(text) + strlen(syscall) + (path ? strlen(path) : 0) + 16;
  char *msg = malloc(len);
  if (!msg) return NULL;
  if (path)
    snprintf(msg, len, "%s: %s, %s '%s'", code, text, syscall, path);
  else
    snprintf(msg, len, "%s: %s, %s", code, text, syscall);
  napi_value jcode, jmsg, error, v;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, jcode, jmsg, &error) != napi_ok) {
    free(msg);
    return NULL;
  }
  free(msg);
  napi_set_named_property(env, error, "code", jcode);
  if (napi_create_int32(env, -err, &v) == napi_ok) napi_set_named_property(env, error, "errno", v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "syscall", v);
  if (path && napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "path", v);
  return error;
}

static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = errno_error(env, err, syscall, path);
  if (error)
    napi_throw(env, error);
  else
    napi_throw_error(env, uv_err_name(-err), uv_strerror(-err));
}

// A JS string as a malloc'd C string; null/undefined give NULL when optional.
static int get_string(napi_env env, napi_value value, int optional, char **out) {
  napi_valuetype type;
  size_t len;
  *out = NULL;
  if (napi_typeof(env, value, &type) != napi_ok) return -1;
  if (optional && (type == napi_null || type == napi_undefined)) return 0;
  if (type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a string argument");
    return -1;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return -1;
  char *s = malloc(len + 1);
  if (!s) return -1;
  if (napi_get_value_string_utf8(env, value, s, len + 1, &len) != napi_ok || strlen(s) != len) {
    free(s);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "string argument contains a NUL byte");
    return -1;
  }
  *out = s;
  return 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return -1;
  }
  return 0;
}

static napi_value undefined(napi_env env) {
  napi_value v = NULL;
  napi_get_undefined(env, &v);
  return v;
}

// mknod(path, mode, major, minor)
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char *path = NULL;
  uint32_t mode, major, minor;
  if (get_args(env, info, 4, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  CHECK(napi_get_value_uint32(env, argv[1], &mode));
  CHECK(napi_get_value_uint32(env, argv[2], &major));
  CHECK(napi_get_value_uint32(env, argv[3], &minor));
  if (mknod(path, mode, makedev(major, minor)) != 0) throw_errno(env, errno, "mknod", path);
fail:
  free(path);
  return undefined(env);
}

// lsetxattr(path, name, value: Buffer)
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char *path = NULL, *name = NULL;
  void *data;
  size_t size;
  if (get_args(env, info, 3, argv) || get_string(env, argv[0], 0, &path) ||
      get_string(env, argv[1], 0, &name))
    goto fail;
  CHECK(napi_get_buffer_info(env, argv[2], &data, &size));
  if (lsetxattr(path, name, data, size, 0) != 0) throw_errno(env, errno, "lsetxattr", path);
fail:
  free(path);
  free(name);
  return undefined(env);
}

// lgetxattr(path, name) -> Buffer | null when the attribute is absent
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  char *path = NULL, *name = NULL, *buf = NULL;
  if (get_args(env, info, 2, argv) || get_string(env, argv[0], 0, &path) ||
      get_string(env, argv[1], 0, &name))
    goto fail;
  for (;;) {  // the value may grow between the size query and the read
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) break;
    free(buf);
    buf = malloc(size ? size : 1);
    if (!buf) {
      errno = ENOMEM;
      break;
    }
    ssize_t got = lgetxattr(path, name, buf, size);
    if (got >= 0) {
      void *out;
      CHECK(napi_create_buffer_copy(env, got, buf, &out, &result));
      goto fail;
    }
    if (errno != ERANGE) break;
  }
  if (errno == ENODATA)
    napi_get_null(env, &result);
  else
    throw_errno(env, errno, "lgetxattr", path);
fail:
  free(path);
  free(name);
  free(buf);
  return result ? result : undefined(env);
}

// llistxattr(path) -> string[]
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1], result = NULL, item;
  char *path = NULL, *buf = NULL;
  if (get_args(env, info, 1, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) break;
    free(buf);
    buf = malloc(size ? size : 1);
    if (!buf) {
      errno = ENOMEM;
      break;
    }
    ssize_t got = llistxattr(path, buf, size);
    if (got >= 0) {
      uint32_t n = 0;
      CHECK(napi_create_array(env, &result));
      for (ssize_t i = 0; i < got; i += strlen(buf + i) + 1) {
        CHECK(napi_create_string_utf8(env, buf + i, NAPI_AUTO_LENGTH, &item));
        CHECK(napi_set_element(env, result, n++, item));
      }
      goto fail;
    }
    if (errno != ERANGE) break;
  }
  throw_errno(env, errno, "llistxattr", path);
fail:
  free(path);
  free(buf);
  return result ? result : undefined(env);
}

// lutimens(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): utimensat without following a final
// symlink, to the nanosecond (Node's utimes takes float seconds, which lose the last digits)
static napi_value js_lutimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char *path = NULL;
  int64_t asec, msec;
  uint32_t ansec, mnsec;
  if (get_args(env, info, 5, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  CHECK(napi_get_value_int64(env, argv[1], &asec));
  CHECK(napi_get_value_uint32(env, argv[2], &ansec));
  CHECK(napi_get_value_int64(env, argv[3], &msec));
  CHECK(napi_get_value_uint32(env, argv[4], &mnsec));
  struct timespec ts[2] = {{.tv_sec = asec, .tv_nsec = ansec}, {.tv_sec = msec, .tv_nsec = mnsec}};
  if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0) throw_errno(env, errno, "utimensat", path);
fail:
  free(path);
  return undefined(env);
}

// syncfs(path): flushes the whole filesystem that holds path
static napi_value js_syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (get_args(env, info, 1, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    throw_errno(env, errno, "open", path);
    goto fail;
  }
  if (syncfs(fd) != 0) throw_errno(env, errno, "syncfs", path);
  close(fd);
fail:
  free(path);
  return undefined(env);
}

// syncfsAsync(path): syncfs on libuv's threadpool; a Promise that settles when it is done.
struct syncfs_job {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  int err;
  const char *syscall;
};

static void syncfs_execute(napi_env env, void *data) {
  struct syncfs_job *job = data;
  int fd = open(job->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    job->err = errno;
    job->syscall = "open";
    return;
  }
  if (syncfs(fd) != 0) {
    job->err = errno;
    job->syscall = "syncfs";
  }
  close(fd);
}

static void syncfs_complete(napi_env env, napi_status status, void *data) {
  struct syncfs_job *job = data;
  napi_value value = NULL;
  if (status != napi_ok && !job->err) {
    job->err = ECANCELED;
    job->syscall = "syncfs";
  }
  if (job->err) {
    value = errno_error(env, job->err, job->syscall, job->path);
    if (!value) napi_create_string_utf8(env, "syncfs failed", NAPI_AUTO_LENGTH, &value);
    napi_reject_deferred(env, job->deferred, value);
  } else {
    napi_get_undefined(env, &value);
    napi_resolve_deferred(env, job->deferred, value);
  }
  napi_delete_async_work(env, job->work);
  free(job->path);
  free(job);
}

static napi_value js_syncfs_async(napi_env env, napi_callback_info info) {
  napi_value argv[1], promise, name;
  struct syncfs_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "cannot allocate a syncfs job");
    return NULL;
  }
  if (get_args(env, info, 1, argv) || get_string(env, argv[0], 0, &job->path)) goto fail;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "hull:syncfs", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, syncfs_execute, syncfs_complete, job, &job->work) != napi_ok)
    goto fail;
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    goto fail;
  }
  return promise;
fail:;
  // a promise already made is dropped unsettled, with an exception thrown in its place
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) napi_throw_error(env, NULL, "cannot queue syncfs");
  free(job->path);
  free(job);
  return NULL;
}

// mount(source | null, target, fstype | null, flags, data | null)
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  int64_t flags;
  if (get_args(env, info, 5, argv) || get_string(env, argv[0], 1, &source) ||
      get_string(env, argv[1], 0, &target) || get_string(env, argv[2], 1, &fstype) ||
      get_string(env, argv[4], 1, &data))
    goto fail;
  CHECK(napi_get_value_int64(env, argv[3], &flags));
  if (mount(source, target, fstype, (unsigned long)flags, data) != 0)
    throw_errno(env, errno, "mount", target);
fail:
  free(source);
  free(target);
  free(fstype);
  free(data);
  return undefined(env);
}

// umount2(target, flags)
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char *target = NULL;
  int32_t flags;
  if (get_args(env, info, 2, argv) || get_string(env, argv[0], 0, &target)) goto fail;
  CHECK(napi_get_value_int32(env, argv[1], &flags));
  if (umount2(target, flags) != 0) throw_errno(env, errno, "umount2", target);
fail:
  free(target);
  return undefined(env);
}

// ---- network namespaces and netlink sockets ----
//
// unshare(CLONE_NEWNET) and setns(CLONE_NEWNET) act on the calling thread only, so the JS
// thread may step into a network namespace for one call and step back out. It must always
// come back: a JS thread left in another netns would make every later socket of this process
// land there, so if the way back fails the process aborts instead.

#define THREAD_NETNS "/proc/thread-self/ns/net"

static void return_to_netns(int saved) {
  if (setns(saved, CLONE_NEWNET) != 0) {
    fprintf(stderr, "hull-sys: cannot return the thread to its network namespace: %s\n", strerror(errno));
    abort();
  }
  close(saved);
}

// netnsCreate(path): a new network namespace, pinned by a bind mount on path (an existing
// file). Nothing is left when it fails: the namespace dies with its last reference.
static napi_value js_netns_create(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (get_args(env, info, 1, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  int saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    throw_errno(env, errno, "open", THREAD_NETNS);
    goto fail;
  }
  if (unshare(CLONE_NEWNET) != 0) {
    int err = errno;
    close(saved);
    throw_errno(env, err, "unshare", path);
    goto fail;
  }
  int rc = mount(THREAD_NETNS, path, NULL, MS_BIND, NULL);
  int err = errno;
  return_to_netns(saved);
  if (rc != 0) throw_errno(env, err, "mount", path);
fail:
  free(path);
  return undefined(env);
}

// netlinkOpen(protocol, netnsPath | null) -> fd: a bound SOCK_RAW netlink socket that lives in
// the given network namespace (the thread's own when null) for the rest of its life.
static napi_value js_netlink_open(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  char *path = NULL;
  int32_t protocol;
  int fd = -1;
  if (get_args(env, info, 2, argv) || get_string(env, argv[1], 1, &path)) goto fail;
  CHECK(napi_get_value_int32(env, argv[0], &protocol));
  if (path) {
    int target = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (target < 0) {
      throw_errno(env, errno, "open", path);
      goto fail;
    }
    int saved = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);
    if (saved < 0) {
      int err = errno;
      close(target);
      throw_errno(env, err, "open", THREAD_NETNS);
      goto fail;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      int err = errno;
      close(target);
      close(saved);
      throw_errno(env, err, "setns", path);
      goto fail;
    }
    close(target);
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    int err = errno;
    return_to_netns(saved);
    if (fd < 0) {
      throw_errno(env, err, "socket", NULL);
      goto fail;
    }
  } else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw_errno(env, errno, "socket", NULL);
      goto fail;
    }
  }
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK};  // the kernel picks the port id
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    throw_errno(env, errno, "bind", NULL);
    goto fail;
  }
  // Extended acks carry the kernel's reason for an error; capped acks do not echo the request
  // back; strict checking lets dumps filter by link or table in the kernel. Older kernels
  // without them still work, only with plainer errors and filtering done by the caller.
  static const int options[] = {NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK};
  for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
    int one = 1;
    if (setsockopt(fd, SOL_NETLINK, options[i], &one, sizeof one) != 0 && errno != ENOPROTOOPT) {
      throw_errno(env, errno, "setsockopt", NULL);
      goto fail;
    }
  }
  CHECK(napi_create_int32(env, fd, &result));
  fd = -1;
fail:
  if (fd >= 0) close(fd);
  free(path);
  return result ? result : undefined(env);
}

// netlinkSend(fd, data: Buffer): one datagram to the kernel
static napi_value js_netlink_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t size;
  if (get_args(env, info, 2, argv)) goto fail;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_buffer_info(env, argv[1], &data, &size));
  ssize_t sent;
  do sent = send(fd, data, size, 0);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) throw_errno(env, errno, "send", NULL);
fail:
  return undefined(env);
}

// netlinkRecv(fd) -> Buffer: the next datagram from the kernel, whole. Its size is peeked
// first (MSG_TRUNC reports the real length), so nothing is ever cut; datagrams from other
// sockets (a process that knows our port id) are dropped.
static napi_value js_netlink_recv(napi_env env, napi_callback_info info) {
  napi_value argv[1], result = NULL;
  int32_t fd;
  if (get_args(env, info, 1, argv)) goto fail;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    char probe;
    ssize_t size = recvfrom(fd, &probe, 1, MSG_PEEK | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    if (size < 0) {
      if (errno == EINTR) continue;
      throw_errno(env, errno, "recvfrom", NULL);
      goto fail;
    }
    if (from.nl_pid != 0) {  // not from the kernel: drop it
      while (recv(fd, &probe, 1, 0) < 0 && errno == EINTR) {
      }
      continue;
    }
    void *data = NULL;
    CHECK(napi_create_buffer(env, size, &data, &result));
    ssize_t got;
    do got = recv(fd, data, size, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
      result = NULL;
      throw_errno(env, errno, "recv", NULL);
      goto fail;
    }
    break;
  }
fail:
  return result ? result : undefined(env);
}

// nsType(path) -> the CLONE_NEW* flag of the namespace file at path (ioctl NS_GET_NSTYPE);
// ENOTTY when path is not a namespace
static napi_value js_ns_type(napi_env env, napi_callback_info info) {
  napi_value argv[1], result = NULL;
  char *path = NULL;
  if (get_args(env, info, 1, argv) || get_string(env, argv[0], 0, &path)) goto fail;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    throw_errno(env, errno, "open", path);
    goto fail;
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  int err = errno;
  close(fd);
  if (type < 0) {
    throw_errno(env, err, "ioctl", path);
    goto fail;
  }
  CHECK(napi_create_int32(env, type, &result));
fail:
  free(path);
  return result ? result : undefined(env);
}

// Two fds as a JS array [a, b].
static napi_value fd_pair(napi_env env, const int fds[2]) {
  napi_value arr = NULL, v;
  if (napi_create_array_with_length(env, 2, &arr) != napi_ok) return NULL;
  for (uint32_t i = 0; i < 2; i++)
    if (napi_create_int32(env, fds[i], &v) != napi_ok || napi_set_element(env, arr, i, v) != napi_ok) return NULL;
  return arr;
}

// socketpair() -> [fd, fd]: a connected AF_UNIX stream pair, both close-on-exec
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw_errno(env, errno, "socketpair", NULL);
    return undefined(env);
  }
  napi_value r = fd_pair(env, fds);
  return r ? r : undefined(env);
}

// pipe(nonblockingRead) -> [read fd, write fd], both close-on-exec; O_NONBLOCK on the read end
// alone when asked (the writer, another process, keeps blocking writes)
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool nonblock = false;
  int fds[2];
  if (get_args(env, info, 1, argv) || napi_get_value_bool(env, argv[0], &nonblock) != napi_ok) return undefined(env);
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw_errno(env, errno, "pipe2", NULL);
    return undefined(env);
  }
  if (nonblock && fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    throw_errno(env, err, "fcntl", NULL);
    return undefined(env);
  }
  napi_value r = fd_pair(env, fds);
  return r ? r : undefined(env);
}

// What the two clones of spawnDetached share with the caller (CLONE_VM: one address space).
struct spawn_job {
  const char *file;
  char **argv;
  const int *fds; // the child's fd i is fds[i]; -1 is /dev/null
  int nfds;
  char *stack;     // the grandchild's
  size_t stack_size;
  pid_t pid;       // the grandchild
  int err;         // why it could not be started: errno of the failed step
  const char *step;
};

extern char **environ;

// The grandchild: its fds, a new session, default signal handling, then the program. It shares
// the caller's memory until execve, so it calls only async-signal-safe libc wrappers (their
// errno is that of the caller's thread, held in clone until the execve) and writes nothing but
// the job.
static int spawn_grandchild(void *arg) {
  struct spawn_job *job = arg;
  int high[64];
  // every source is first moved above the targets, so that placing fd i never overwrites the
  // source of a later one; the copies are close-on-exec and vanish at execve
  for (int i = 0; i < job->nfds; i++) {
    int src = job->fds[i];
    int own = src < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    high[i] = fcntl(own >= 0 ? own : src, F_DUPFD_CLOEXEC, job->nfds);
    if (high[i] < 0) {
      job->err = errno, job->step = src < 0 ? "open /dev/null" : "fcntl";
      _exit(127);
    }
    if (own >= 0) close(own);
  }
  for (int i = 0; i < job->nfds; i++)
    if (dup2(high[i], i) < 0) {
      job->err = errno, job->step = "dup2";
      _exit(127);
    }
  // a monitor outlives us: an fd we inherited without close-on-exec (a caller's pipe) must not
  // stay open in it, or whoever waits for that pipe's end waits as long as the container runs
  if (syscall(SYS_close_range, (unsigned)job->nfds, ~0U, 0) < 0 && errno != ENOSYS) {
    job->err = errno, job->step = "close_range";
    _exit(127);
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (setsid() < 0) {
    job->err = errno, job->step = "setsid";
    _exit(127);
  }
  execve(job->file, job->argv, environ);
  job->err = errno, job->step = "execve";
  _exit(127);
}

// The intermediate: starts the grandchild and exits as soon as that has exec'd, so that the
// grandchild is inherited by init (or the nearest subreaper) and is never the caller's zombie.
static int spawn_intermediate(void *arg) {
  struct spawn_job *job = arg;
  // CLONE_VFORK: this returns once the grandchild has exec'd or exited
  pid_t pid = clone(spawn_grandchild, job->stack + job->stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, job);
  if (pid < 0) job->err = errno, job->step = "clone";
  job->pid = pid;
  _exit(0);
}

// spawnDetached(file, argv: string[], fds: number[]) -> pid: runs file in a new session with
// fds[i] (or /dev/null for -1) as its fd i and no other, default signal handling and this
// process's environment, not as a child of this process: it outlives us and we never reap it. It costs
// two vfork-style clones (no copy of this process's memory) instead of child_process's fork.
static napi_value js_spawn_detached(napi_env env, napi_callback_info info) {
  napi_value argv[3], result = NULL;
  char *file = NULL, **args = NULL, *stacks = MAP_FAILED;
  uint32_t nargs = 0, nfds = 0;
  int fds[64];
  const size_t stack_size = 64 * 1024;
  if (get_args(env, info, 3, argv) || get_string(env, argv[0], 0, &file)) goto fail;
  CHECK(napi_get_array_length(env, argv[1], &nargs));
  CHECK(napi_get_array_length(env, argv[2], &nfds));
  if (nargs == 0 || nfds > 64) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "spawnDetached: argv must not be empty, and at most 64 fds");
    goto fail;
  }
  args = calloc(nargs + 1, sizeof *args);
  if (!args) goto fail;
  for (uint32_t i = 0; i < nargs; i++) {
    napi_value v;
    CHECK(napi_get_element(env, argv[1], i, &v));
    if (get_string(env, v, 0, &args[i])) goto fail;
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value v;
    CHECK(napi_get_element(env, argv[2], i, &v));
    CHECK(napi_get_value_int32(env, v, &fds[i]));
  }
  stacks = mmap(NULL, 2 * stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stacks == MAP_FAILED) {
    throw_errno(env, errno, "mmap", NULL);
    goto fail;
  }
  struct spawn_job job = {.file = file, .argv = args, .fds = fds, .nfds = (int)nfds, .stack = stacks + stack_size,
                          .stack_size = stack_size, .pid = -1, .err = 0, .step = NULL};
  // no signal handler of ours may run on the clones' stacks, in our memory: all are blocked
  // across the clones, and the grandchild sets every disposition to default before unblocking
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t mid = clone(spawn_intermediate, stacks + stack_size, CLONE_VM | CLONE_VFORK, &job);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (mid < 0) {
    throw_errno(env, clone_err, "clone", file);
    goto fail;
  }
  while (waitpid(mid, NULL, __WALL) < 0 && errno == EINTR)
    ;
  if (job.err) {
    throw_errno(env, job.err, job.step, file);
    goto fail;
  }
  CHECK(napi_create_int32(env, job.pid, &result));
fail:
  if (stacks != MAP_FAILED) munmap(stacks, 2 * stack_size);
  if (args)
    for (uint32_t i = 0; i < nargs; i++) free(args[i]);
  free(args);
  free(file);
  return result ? result : undefined(env);
}

// The keeper of holdAddressSpace shares the caller's memory, thread-local errno included, so it
// makes its syscalls without libc, which would write errno on a failure.
#if defined(__x86_64__)
#define HAVE_RAW_SYSCALL 1
static long raw_syscall4(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
#define HAVE_RAW_SYSCALL 1
static long raw_syscall4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
                x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#endif

#ifdef HAVE_RAW_SYSCALL
// Runs on its own stack with every signal blocked: drops its copy of the fds, then waits until
// the whole of the caller's process has exited, and exits itself.
static int keeper_main(void *arg) {
  raw_syscall4(SYS_close_range, 0, ~0L, 0, 0);
  long fd = raw_syscall4(SYS_pidfd_open, (long)(intptr_t)arg, 0, 0, 0);
  if (fd >= 0) {
    struct pollfd p = {.fd = (int)fd, .events = POLLIN};
    while (raw_syscall4(SYS_ppoll, (long)&p, 1, 0, 0) <= 0)
      ;
  }
  for (;;) raw_syscall4(SYS_exit, 0, 0, 0, 0);
  return 0;
}
#endif

// holdAddressSpace(): a process that exits does the kernel's teardown of its memory (~3 ms for
// a Node process here) before its parent is told that it exited. This starts a child that shares
// this process's memory (CLONE_VM) and exits only once this process is gone: the parent of a
// `hull` is told at once, and the memory is freed afterwards, by the child. It takes no fd, no
// signal and nothing of this process that outlives it but its memory for a moment. Best effort:
// where it cannot, the exit is as before.
static napi_value js_hold_address_space(napi_env env, napi_callback_info info) {
#ifdef HAVE_RAW_SYSCALL
  const size_t stack_size = 16 * 1024;
  char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return undefined(env);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // no exit signal: the child is never ours to reap, and whoever inherits it reaps it
  pid_t pid = clone(keeper_main, stack + stack_size, CLONE_VM | CLONE_UNTRACED, (void *)(intptr_t)getpid());
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) munmap(stack, stack_size);
#endif
  return undefined(env);
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"mknod", js_mknod},       {"lsetxattr", js_lsetxattr}, {"lgetxattr", js_lgetxattr},
      {"llistxattr", js_llistxattr}, {"lutimens", js_lutimens}, {"syncfs", js_syncfs},
      {"syncfsAsync", js_syncfs_async},
      {"mount", js_mount},       {"umount2", js_umount2},
      {"netnsCreate", js_netns_create}, {"netlinkOpen", js_netlink_open},
      {"netlinkSend", js_netlink_send}, {"netlinkRecv", js_netlink_recv},
      {"nsType", js_ns_type},    {"socketpair", js_socketpair}, {"pipe", js_pipe},
      {"spawnDetached", js_spawn_detached}, {"holdAddressSpace", js_hold_address_space},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}
