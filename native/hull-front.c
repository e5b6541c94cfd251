/*
 * dist/hull: the native front of the docker-style CLI. It decides nothing: for the verbs that
 * start a container's process it starts the cgroup-lock warmer (cgroup-warm.h) so that the wait
 * overlaps Node's start-up, then it becomes the Node CLI (hull.cjs beside it) with the same
 * arguments, run by the Node of its shebang with the options its second line gives
 * ("// node-options: ..."), which a shebang cannot carry.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Returns only if js does not name its Node in the form bundle.ts writes. */
static void exec_node(char *js, int argc, char **argv)
{
	static const char prefix[] = "// node-options:";
	char head[1024];
	int fd = open(js, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n < 3 || head[0] != '#' || head[1] != '!')
		return;
	head[n] = '\0';
	char *node = head + 2, *end = strchr(node, '\n');
	if (!end)
		return;
	*end = '\0';
	char *space = strchr(node, ' ');
	if (space)
		*space = '\0';
	char *options = end + 1;
	if (strncmp(options, prefix, sizeof prefix - 1))
		return;
	options += sizeof prefix - 1;
	if (!(end = strchr(options, '\n')))
		return;
	*end = '\0';
	char *args[argc + 16];
	int k = 0;
	args[k++] = node;
	for (char *save, *o = strtok_r(options, " ", &save); o && k < 12; o = strtok_r(NULL, " ", &save))
		args[k++] = o;
	/* "--" ends Node's options: a user's `run --env-file x` is not Node's (nodejs/node#54232) */
	args[k++] = "--";
	args[k++] = js;
	for (int i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	execv(node, args);
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
	exec_node(js, argc, argv);
	execv(js, argv);
	fprintf(stderr, "hull: cannot run %s: %s\n", js, strerror(errno));
	return 125;
}
