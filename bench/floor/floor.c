// The floor of a container start, for bench/scenarios/container-run.ts: the least work the kernel
// needs to run a program the way an engine does, with nothing else around it.
//
//   floor --ns mount,network,uts,pid,ipc[,time][,cgroup] --lower DIR[:DIR...] --dir BASE -- /bin/true
//
// One run: a fresh directory under BASE with upper/, work/ and merged/; new namespaces; an
// overlay of the image's layers (lowerdir) with the fresh upper and work; pivot_root into it;
// exec the program as pid 1 of the new pid namespace, and wait for it. Then the fresh
// directory is removed again (an engine's `run --rm` removes its container's layer too), and
// the program's exit status becomes the floor's.
//
// No cgroup, no /proc or /dev in the container, no capabilities or seccomp, no state on disk:
// what is left out is what an engine adds on top of this.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(125);
}

/** dir/name into out, or die: a path that does not fit must not be cut short. */
static void join_path(char *out, size_t size, const char *dir, const char *name) {
  if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size) {
    errno = ENAMETOOLONG;
    die(dir);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: floor --ns LIST --lower DIRS --dir BASE -- PROGRAM [ARG...]\n");
  exit(125);
}

/** The clone flag of a namespace named as in an OCI config.json's linux.namespaces. */
static int flag_of(const char *name) {
  static const struct { const char *name; int flag; } kinds[] = {
    { "mount", CLONE_NEWNS }, { "network", CLONE_NEWNET }, { "uts", CLONE_NEWUTS }, { "pid", CLONE_NEWPID },
    { "ipc", CLONE_NEWIPC }, { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].name, name) == 0) return kinds[i].flag;
  fprintf(stderr, "floor: unknown namespace %s (want mount, network, uts, pid, ipc, cgroup, time)\n", name);
  exit(125);
}

static int flags_of(char *list) {
  int flags = 0;
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) flags |= flag_of(name);
  return flags;
}

static void in_child(int flags, const char *lower, const char *dir, char **argv) {
  char upper[4096], work[4096], merged[4096], options[12288];
  join_path(upper, sizeof upper, dir, "upper");
  join_path(work, sizeof work, dir, "work");
  join_path(merged, sizeof merged, dir, "merged");
  if ((size_t)snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) >= sizeof options) {
    errno = ENAMETOOLONG;
    die("overlay options");
  }
  // The mount namespace is the child's own, so that it and the overlay in it end with the child.
  if (flags & CLONE_NEWNS) {
    if (unshare(CLONE_NEWNS) < 0) die("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("making / private");
  }
  if (mount("overlay", merged, "overlay", 0, options) < 0) die("mounting the overlay");
  if (chdir(merged) < 0) die("chdir to the rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die("detaching the old root");
  if (chdir("/") < 0) die("chdir /");
  execv(argv[0], argv);
  die(argv[0]);
}

int main(int argc, char **argv) {
  char *ns = NULL, *lower = NULL, *base = NULL;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--ns") == 0) ns = argv[++i];
    else if (strcmp(argv[i], "--lower") == 0) lower = argv[++i];
    else if (strcmp(argv[i], "--dir") == 0) base = argv[++i];
    else usage();
  }
  if (!ns || !lower || !base || i >= argc) usage();
  int flags = flags_of(ns);

  char dir[4096], path[4096];
  join_path(dir, sizeof dir, base, "floor-XXXXXX");
  if (!mkdtemp(dir)) die("making the container directory");
  static const char *const subdirs[] = { "upper", "work", "merged" };
  for (int k = 0; k < 3; k++) {
    join_path(path, sizeof path, dir, subdirs[k]);
    if (mkdir(path, 0755) < 0) die("making the layer directories");
  }

  // Every namespace but the mount one is made here: a new pid or time namespace takes effect in
  // the next child, which is then pid 1 of it.
  if (unshare(flags & ~CLONE_NEWNS) < 0) die("unshare");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) in_child(flags, lower, dir, argv + i);

  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");

  // overlayfs leaves work/work behind; the child's exit took the mount with it.
  static const char *const leftovers[] = { "work/work", "work", "upper", "merged" };
  for (int k = 0; k < 4; k++) {
    join_path(path, sizeof path, dir, leftovers[k]);
    if (rmdir(path) < 0 && errno != ENOENT) die("removing the layer directories");
  }
  if (rmdir(dir) < 0) die("removing the container directory");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
