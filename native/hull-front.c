/*
 * dist/hull: the native front of the docker-style CLI. It decides nothing. The launcher beside it
 * (hull.cjs, written by scripts/bundle.ts) says in its header which Node runs it with which
 * options, which verbs start a container's process, and how to find the verb in argv. For those
 * verbs the front starts the cgroup-lock warmer (cgroup-warm.h), so that the wait overlaps Node's
 * start-up; then it becomes that Node running the launcher, with the same arguments.
 *
 * The header, after "#!<node> --" (a shebang carries one argument, so the options are below it):
 *   // node-options: <options for Node>
 *   // warm-cgroup-lock: <verbs>
 *   // options-with-value: <global options that take the next word>
 *   // groups: <words whose verb is the word after them>
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-warm.h"

#define MAX_WORDS 16

/* The words of the header line "// <name>: ...", split in place in buf; the count, or 0. */
static int header_words(const char *head, const char *name, char *buf, size_t len, char **words)
{
	char key[64];
	snprintf(key, sizeof key, "\n// %s:", name);
	const char *at = strstr(head, key);
	if (!at)
		return 0;
	at += strlen(key);
	size_t n = strcspn(at, "\n");
	if (n >= len)
		return 0;
	memcpy(buf, at, n);
	buf[n] = '\0';
	int count = 0;
	for (char *save, *w = strtok_r(buf, " ", &save); w && count < MAX_WORDS; w = strtok_r(NULL, " ", &save))
		words[count++] = w;
	return count;
}

static int listed(const char *word, char **list, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(word, list[i]))
			return 1;
	return 0;
}

static int starts_a_process(const char *head, int argc, char **argv)
{
	char wb[256], vb[256], gb[256];
	char *warm[MAX_WORDS], *with_value[MAX_WORDS], *groups[MAX_WORDS];
	int nwarm = header_words(head, "warm-cgroup-lock", wb, sizeof wb, warm);
	int nvalue = header_words(head, "options-with-value", vb, sizeof vb, with_value);
	int ngroups = header_words(head, "groups", gb, sizeof gb, groups);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-') {
			if (listed(a, with_value, nvalue))
				i++;
			continue;
		}
		/* "container run" names the same verb as "run" */
		if (listed(a, groups, ngroups) && i + 1 < argc)
			a = argv[i + 1];
		return listed(a, warm, nwarm);
	}
	return 0;
}

/* Returns only if js has no header in the form bundle.ts writes. */
static void exec_node(const char *head, char *js, int argc, char **argv)
{
	char nb[PATH_MAX], ob[256];
	char *options[MAX_WORDS];
	if (strncmp(head, "#!", 2))
		return;
	size_t n = strcspn(head + 2, " \n");
	if (n == 0 || n >= sizeof nb)
		return;
	memcpy(nb, head + 2, n);
	nb[n] = '\0';
	int nopts = header_words(head, "node-options", ob, sizeof ob, options);
	if (nopts == 0)
		return;
	char *args[argc + MAX_WORDS + 3];
	int k = 0;
	args[k++] = nb;
	for (int i = 0; i < nopts; i++)
		args[k++] = options[i];
	/* "--" ends Node's options: a user's `run --env-file x` is not Node's (nodejs/node#54232) */
	args[k++] = "--";
	args[k++] = js;
	for (int i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	execv(nb, args);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], js[PATH_MAX], head[2048] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		perror("hull: /proc/self/exe");
		return 125;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(js, sizeof js, "%s/hull.cjs", self);
	int fd = open(js, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, head, sizeof head - 1);
		head[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (starts_a_process(head, argc, argv))
		warm_cgroup_lock();
	exec_node(head, js, argc, argv);
	execv(js, argv);
	fprintf(stderr, "hull: cannot run %s: %s\n", js, strerror(errno));
	return 125;
}
