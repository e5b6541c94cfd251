/*
 * hull-tini: the tiny init of `run --init` (docker's /sbin/docker-init).
 *
 * Usage: hull-tini [--] <command> [args...]
 *
 * As the container's pid 1 it runs the command as its one child, passes on every signal it
 * gets, reaps every process that ends up as its child, and exits with the command's status
 * (128+n when signal n killed it). A command that cannot be run exits 127 when it is not found
 * and 126 otherwise, as a shell does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Signals about our own faults stay ours; every other one goes to the child. */
static int synchronous(int sig)
{
	return sig == SIGFPE || sig == SIGILL || sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGTRAP ||
	       sig == SIGSYS;
}

static pid_t spawn(char **argv, const sigset_t *parent_mask)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/*
	 * Its own process group, in the foreground of the terminal if there is one: ^C then
	 * reaches the command (and its children) once, not us as well.
	 */
	setpgid(0, 0);
	signal(SIGTTOU, SIG_IGN);
	tcsetpgrp(STDIN_FILENO, getpgrp()); /* fails without a terminal, which is fine */
	signal(SIGTTOU, SIG_DFL);
	sigprocmask(SIG_SETMASK, parent_mask, NULL);
	execvp(argv[0], argv);
	int err = errno;
	fprintf(stderr, "hull-tini: exec %s failed: %s\n", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
	int first = 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: hull-tini [--] <command> [args...]\n");
		return 1;
	}
	/* Not pid 1 (a shared pid namespace): orphans would go past us, so claim them. */
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	sigset_t all, old;
	sigfillset(&all);
	for (int s = 1; s < NSIG; s++)
		if (synchronous(s))
			sigdelset(&all, s);
	/* Blocked signals are queued for us even as pid 1, where unhandled ones would be dropped. */
	sigprocmask(SIG_SETMASK, &all, &old);

	pid_t child = spawn(argv + first, &old);
	if (child < 0) {
		fprintf(stderr, "hull-tini: fork: %s\n", strerror(errno));
		return 126;
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != child)
				continue;
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			if (WIFSIGNALED(st))
				return 128 + WTERMSIG(st);
		}
	}
}
