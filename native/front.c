/*
 * hull-runtime's front door. Node's start-up alone costs ~20 ms, while start, state, kill and
 * delete are a few syscalls each; callers such as containerd and Podman run them as separate
 * processes, so they dominate a container's life cycle. This program executes those four verbs
 * from the facts the TypeScript runtime recorded at create time (<root>/<id>/fast and
 * state.tmpl). It decides nothing: any other verb, any flag it does not know, any hook to run,
 * and any state it does not expect goes to the TypeScript CLI (hull-runtime.cjs beside it),
 * which gives the same result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-warm.h"

#define MAX_DIRS 32

static char **orig_argv;
static const char *root = "/run/hull-runtime";
static const char *log_path;
static int log_json;

struct facts {
	int pid;
	char start[32];
	int start_hooks, stop_hooks;
	int nleaf, nmade;
	char *leaf[MAX_DIRS], *made[MAX_DIRS];
	/* where "paused" is read: 0 no freezer, 1 v1 freezer.state, 2 cgroup.freeze; -1 not recorded */
	int freezer;
	char *freezer_dir;
	/* the cgroup2 directory whose cgroup.kill kills the whole container, if it has one */
	char *cgkill;
};

/* dist/<name> beside this program */
static void sibling(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		perror("hull-runtime: readlink /proc/self/exe");
		_exit(1);
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(out, len, "%s/%s", self, name);
}

__attribute__((noreturn)) static void delegate(void)
{
	char js[PATH_MAX + 32];
	sibling("hull-runtime.cjs", js, sizeof js);
	execv(js, orig_argv);
	fprintf(stderr, "hull-runtime: cannot run %s: %s\n", js, strerror(errno));
	_exit(1);
}

/* Errors here carry fixed text and a validated id, so they need no JSON escaping. */
__attribute__((noreturn)) static void die(const char *msg, const char *id)
{
	char line[512];
	snprintf(line, sizeof line, msg, id);
	if (log_path) {
		FILE *f = fopen(log_path, "a");
		if (f) {
			char ts[64];
			time_t t = time(NULL);
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			if (log_json)
				fprintf(f, "{\"level\":\"error\",\"msg\":\"%s\",\"time\":\"%s\"}\n", line, ts);
			else
				fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", ts, line);
			fclose(f);
		}
	}
	fprintf(stderr, "hull-runtime: %s\n", line);
	exit(1);
}

static int valid_id(const char *id)
{
	/* a leading dot is hull-runtime's own (the seccomp cache lives in .seccomp) */
	if (!*id || *id == '.' || strlen(id) > 1024)
		return 0;
	for (const char *p = id; *p; p++)
		if (!(*p == '_' || *p == '+' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return 0;
	return 1;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int load_facts(const char *dir, struct facts *f)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/fast", dir);
	char *text = read_file(path, NULL);
	if (!text)
		return -1;
	memset(f, 0, sizeof *f);
	f->freezer = -1;
	int version = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			return -1;
		*sp++ = '\0';
		if (!strcmp(line, "v"))
			version = atoi(sp);
		else if (!strcmp(line, "pid"))
			f->pid = atoi(sp);
		else if (!strcmp(line, "start"))
			snprintf(f->start, sizeof f->start, "%s", sp);
		else if (!strcmp(line, "start_hooks"))
			f->start_hooks = atoi(sp);
		else if (!strcmp(line, "stop_hooks"))
			f->stop_hooks = atoi(sp);
		else if (!strcmp(line, "leaf") && f->nleaf < MAX_DIRS)
			f->leaf[f->nleaf++] = sp;
		else if (!strcmp(line, "made") && f->nmade < MAX_DIRS)
			f->made[f->nmade++] = sp;
		else if (!strcmp(line, "freezer") && !strcmp(sp, "none"))
			f->freezer = 0;
		else if (!strcmp(line, "freezer") && (sp[0] == '1' || sp[0] == '2') && sp[1] == ' ') {
			f->freezer = sp[0] - '0';
			f->freezer_dir = sp + 2;
		} else if (!strcmp(line, "cgkill"))
			f->cgkill = sp;
	}
	/* without the freezer fact (a container made before it existed) "paused" cannot be told */
	return version == 1 && f->pid > 0 && f->freezer >= 0 ? 0 : -1;
}

/* Field 22 of /proc/<pid>/stat; empty when the process is gone or a zombie. */
static void process_start(int pid, char *out, size_t len)
{
	char path[64];
	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	char *stat = read_file(path, NULL);
	if (!stat)
		return;
	char *p = strrchr(stat, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') {
		free(stat);
		return;
	}
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p) {
		size_t n = strcspn(p, " ");
		snprintf(out, len, "%.*s", (int)n, p);
	}
	free(stat);
}

static int alive(const struct facts *f)
{
	char now[32];
	process_start(f->pid, now, sizeof now);
	return now[0] && !strcmp(now, f->start);
}

/* <dir>/<name>'s first line, or "" when it cannot be read */
static void read_line(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *text = read_file(path, NULL);
	out[0] = '\0';
	if (!text)
		return;
	snprintf(out, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/*
 * The same rule as isFrozen() in src/runtime/cgroups/freezer.ts: the container's own cgroup
 * was asked to freeze (v1: not THAWED and self_freezing, v2: cgroup.freeze is 1).
 */
static int paused(const struct facts *f)
{
	char v[32];
	if (f->freezer == 2) {
		read_line(f->freezer_dir, "cgroup.freeze", v, sizeof v);
		return !strcmp(v, "1");
	}
	if (f->freezer != 1)
		return 0;
	read_line(f->freezer_dir, "freezer.state", v, sizeof v);
	if (!v[0] || !strcmp(v, "THAWED"))
		return 0;
	read_line(f->freezer_dir, "freezer.self_freezing", v, sizeof v);
	return !v[0] || !strcmp(v, "1");
}

static const char *status(const char *dir, const struct facts *f)
{
	char fifo[PATH_MAX];
	if (!alive(f))
		return "stopped";
	if (paused(f))
		return "paused";
	snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
	return access(fifo, F_OK) == 0 ? "created" : "running";
}

static int cgroup_pids(const struct facts *f, int *pids, int max)
{
	/* the pids or freezer hierarchy holds exactly the container's processes */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < f->nleaf; i++) {
			int preferred = strstr(f->leaf[i], "/pids/") || strstr(f->leaf[i], "/freezer/") || strstr(f->leaf[i], "/unified/");
			if (pass == 0 && !preferred)
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/cgroup.procs", f->leaf[i]);
			char *text = read_file(path, NULL);
			if (!text)
				continue;
			int n = 0;
			for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max; l = strtok_r(NULL, "\n", &save))
				pids[n++] = atoi(l);
			free(text);
			return n;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	int num;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

/* A signal this table cannot read goes to the TypeScript side, which has the full rules. */
static int parse_signal(const char *s)
{
	if (*s >= '0' && *s <= '9') {
		char *end;
		long n = strtol(s, &end, 10);
		return *end || n < 1 || n > 64 ? -1 : (int)n;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].num;
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int verb_state(const char *dir, const struct facts *f)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/state.tmpl", dir);
	char *tmpl = read_file(path, NULL);
	if (!tmpl)
		delegate();
	const char *st = status(dir, f);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", strcmp(st, "stopped") ? f->pid : 0);
	/* The template's only '@' characters are these placeholders: strings have them escaped. */
	for (char *p = tmpl; *p; p++) {
		if (!strncmp(p, "@STATUS@", 8)) {
			fputs(st, stdout);
			p += 7;
		} else if (!strncmp(p, "@PID@", 5)) {
			fputs(pid, stdout);
			p += 4;
		} else {
			putchar(*p);
		}
	}
	return 0;
}

static int verb_start(const char *id, const char *dir, const struct facts *f)
{
	if (f->start_hooks)
		delegate();
	const char *st = status(dir, f);
	if (!strcmp(st, "stopped"))
		die("cannot start a container that has stopped", id);
	if (!strcmp(st, "paused"))
		die("cannot start a container in the paused state", id);
	if (strcmp(st, "created"))
		die("cannot start a container in the running state", id);
	char fifo[PATH_MAX];
	snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		delegate();
	if (write(fd, "0", 1) != 1)
		delegate();
	close(fd);
	unlink(fifo);
	return 0;
}

/* SIGKILLs everything in the container's cgroup in the kernel; 0, or -1 when that cannot be done */
static int cgroup_kill(const struct facts *f)
{
	char path[PATH_MAX];
	if (!f->cgkill)
		return -1;
	snprintf(path, sizeof path, "%s/cgroup.kill", f->cgkill);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* the cgroup is gone, and with it every process */
	int ok = write(fd, "1", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Signalling a paused container (thawing after SIGKILL) and --all with any other signal than
 * SIGKILL (freeze, signal, thaw) are left to the TypeScript side.
 */
static int verb_kill(const char *id, const char *dir, const struct facts *f, const char *sigs, int all)
{
	int sig = parse_signal(sigs);
	if (sig < 0)
		delegate();
	/* frozen with a dead init ("stopped") counts too: whatever is left needs the thaw */
	if (paused(f))
		delegate();
	const char *st = status(dir, f);
	if (all) {
		if (sig != SIGKILL || cgroup_kill(f) < 0)
			delegate();
		return 0;
	}
	if (!strcmp(st, "stopped"))
		die("container not running", id);
	if (kill(f->pid, sig) < 0 && errno != ESRCH)
		die("cannot signal the container's processes", id);
	return 0;
}

static int verb_delete(const char *id, const char *dir, const struct facts *f, int force)
{
	if (f->stop_hooks)
		delegate();
	const char *st = status(dir, f);
	if (!strcmp(st, "running") && !force)
		die("cannot delete container %s that is not stopped: running", id);
	if (!strcmp(st, "paused") && !force)
		die("cannot delete container %s that is not stopped: paused", id);
	if (paused(f))
		delegate(); /* kill, then thaw so that the frozen processes can die */
	int pids[4096];
	int n = cgroup_pids(f, pids, 4096);
	if (strcmp(st, "stopped") || n > 0) {
		/* without cgroup.kill, the freeze-signal-thaw way that lets nothing fork away is TypeScript's */
		if (!f->cgkill)
			delegate();
		if (alive(f))
			kill(f->pid, SIGKILL);
		if (cgroup_kill(f) < 0)
			delegate();
		for (int waited = 0; (alive(f) || cgroup_pids(f, pids, 4096) > 0); waited++) {
			if (waited > 2000)
				delegate();
			sleep_ms(waited < 20 ? 1 : 5);
		}
	}
	/* deepest first; a parent another container still uses stays */
	for (int tries = 0;; tries++) {
		int busy = 0;
		for (int i = f->nmade - 1; i >= 0; i--) {
			if (rmdir(f->made[i]) == 0 || errno == ENOENT)
				continue;
			for (int j = 0; j < f->nleaf; j++)
				if (!strcmp(f->leaf[j], f->made[i]))
					busy = 1;
		}
		if (!busy)
			break;
		if (tries > 100)
			delegate();
		sleep_ms(10);
	}
	static const char *files[] = { "exec.fifo", "fast", "state.tmpl", "state.json" };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		delegate();
	return 0;
}

int main(int argc, char **argv)
{
	orig_argv = argv;
	int i = 1;
	/* global flags the TypeScript CLI also takes; anything else is its business */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "--root"))
			slot = &root;
		else if (!strcmp(a, "--log"))
			slot = &log_path;
		else if (!strcmp(a, "--log-format")) {
			if (i + 1 >= argc)
				delegate();
			log_json = !strcmp(argv[++i], "json");
			if (!log_json && strcmp(argv[i], "text"))
				delegate();
			continue;
		} else if (!strncmp(a, "--root=", 7)) {
			root = a + 7;
			continue;
		} else if (!strncmp(a, "--log=", 6)) {
			log_path = a + 6;
			continue;
		} else if (!strcmp(a, "--debug")) {
			continue;
		} else {
			delegate();
		}
		if (i + 1 >= argc)
			delegate();
		*slot = argv[++i];
	}
	if (i >= argc)
		delegate();
	const char *verb = argv[i++];
	if (!strcmp(verb, "create") || !strcmp(verb, "run") || !strcmp(verb, "exec")) {
		warm_cgroup_lock();
		delegate();
	}
	int all = 0, force = 0;
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1]) {
			if (!strcmp(verb, "kill") && (!strcmp(a, "-a") || !strcmp(a, "--all")))
				all = 1;
			else if (!strcmp(verb, "delete") && (!strcmp(a, "-f") || !strcmp(a, "--force")))
				force = 1;
			else
				delegate();
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			delegate();
		}
	}
	int is_kill = !strcmp(verb, "kill");
	if (!(!strcmp(verb, "state") || !strcmp(verb, "start") || !strcmp(verb, "delete") || is_kill))
		delegate();
	if (npos < 1 || (npos == 2 && !is_kill) || !valid_id(pos[0]))
		delegate();
	char dir[PATH_MAX];
	/* leaves room for the file names appended to dir below */
	if (strlen(root) + strlen(pos[0]) + 64 > sizeof dir)
		delegate();
	snprintf(dir, sizeof dir, "%s/%s", root, pos[0]);
	struct facts f;
	if (load_facts(dir, &f) < 0)
		delegate();
	if (!strcmp(verb, "state"))
		return verb_state(dir, &f);
	if (!strcmp(verb, "start"))
		return verb_start(pos[0], dir, &f);
	if (is_kill)
		return verb_kill(pos[0], dir, &f, npos == 2 ? pos[1] : "SIGTERM", all);
	return verb_delete(pos[0], dir, &f, force);
}
