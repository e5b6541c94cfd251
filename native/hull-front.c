/*
 * dist/hull: the native front of the docker-style CLI. It decides nothing: for the verbs that
 * start a container's process it starts the cgroup-lock warmer (cgroup-warm.h) so that the wait
 * overlaps Node's start-up, then it becomes the Node CLI (hull.cjs beside it) with the same
 * arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-warm.h"

static int starts_a_process(int argc, char **argv)
{
	static const char *const with_value[] = { "--root", "--runroot", "--config" };
	static const char *const verbs[] = { "run", "start", "restart", "exec" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-') {
			for (size_t j = 0; j < sizeof with_value / sizeof with_value[0]; j++)
				if (!strcmp(a, with_value[j]))
					i++;
			continue;
		}
		/* "container run" names the same verb as "run" */
		if (!strcmp(a, "container") && i + 1 < argc)
			a = argv[i + 1];
		for (size_t j = 0; j < sizeof verbs / sizeof verbs[0]; j++)
			if (!strcmp(a, verbs[j]))
				return 1;
		return 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], js[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		perror("hull: /proc/self/exe");
		return 125;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(js, sizeof js, "%s/hull.cjs", self);
	if (starts_a_process(argc, argv))
		warm_cgroup_lock();
	execv(js, argv);
	fprintf(stderr, "hull: cannot run %s: %s\n", js, strerror(errno));
	return 125;
}
