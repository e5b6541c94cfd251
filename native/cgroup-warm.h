/*
 * The cgroup-lock warmer shared by the two native fronts (hull-runtime's front.c and hull's
 * hull-front.c). Header-only: each front is one static binary from one .c file.
 */
#ifndef HULL_CGROUP_WARM_H
#define HULL_CGROUP_WARM_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/*
 * Moving a process between cgroups takes a lock whose first writer waits a full RCU grace
 * period (~15 ms here); writers that follow within a grace period do not wait. The runtime's
 * create, run and exec, and the engine's run, start, restart and exec, join cgroups only after
 * Node has booted, so a child re-joins its own cgroup (a no-op move) every few ms meanwhile:
 * the wait overlaps Node's start-up instead of following it. It stops when its parent exits,
 * and after 300 ms at most.
 */
static void warm_cgroup_lock(void)
{
	pid_t parent = getpid();
	if (fork() != 0)
		return;
	/* gone the moment its parent is, holding none of its stdio, cwd or fds */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	syscall(SYS_close_range, 3, ~0U, 0);
	if (chdir("/") < 0)
		_exit(0);
	static char self[8192];
	int in = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t len = in >= 0 ? read(in, self, sizeof self - 1) : -1;
	if (len <= 0)
		_exit(0);
	self[len] = '\0';
	int fd = -1;
	for (char *save = NULL, *l = strtok_r(self, "\n", &save); l && fd < 0; l = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(l, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctrl++;
		char file[PATH_MAX];
		if (!*ctrl)
			snprintf(file, sizeof file, "/sys/fs/cgroup%s/cgroup.procs", path);
		else if (!strncmp(ctrl, "name=", 5))
			continue;
		else
			snprintf(file, sizeof file, "/sys/fs/cgroup/%s%s/cgroup.procs", ctrl, path);
		fd = open(file, O_WRONLY | O_CLOEXEC);
	}
	for (int i = 0; fd >= 0 && i < 100 && getppid() == parent; i++) {
		if (write(fd, "0", 1) != 1)
			break;
		nanosleep(&(struct timespec){ 0, 3000000L }, NULL);
	}
	_exit(0);
}

#endif
