/*
 * hull-shim: the per-container monitor (DESIGN.md, "The C boundary"; src/engine/containers/shim.ts).
 *
 * The runtime spawns it detached in place of hull-init. It makes itself the child subreaper,
 * forks hull-init with the container's stdio, and then, for the container's whole life: holds
 * the stdio pipes or the pty master, writes the json-file log, serves attach.sock, records the
 * exit status and finally runs the engine's exit command. It outlives the engine process.
 *
 * Usage: hull-shim --init <hull-init> --sync-fd <n> --id <id> --dir <run dir> [--terminal]
 *                  [--stdin] [--stdin-once] [--log <file> [--log-max-size <bytes>]
 *                  [--log-max-file <n>]] [--every <ms> [--every-first <ms>] --every-arg <arg>...]
 *                  -- <exit command...>
 *
 * The timer (--every): while the container runs, the shim runs a command (one --every-arg per
 * argument, the first the program), never two at once: the first run --every-first ms after the
 * pid came, each next one --every ms after the last ended, or as many ms as that run printed on
 * its stdout. The container's exit kills a run under way (its whole process group). The engine's
 * health checks use it; what a run does and when the next should come is the command's business.
 *
 * Memory is the point of this program (an idle shim should stay well under 1 MiB RSS): one
 * thread, one poll() loop, fixed buffers, no stdio, and nothing on the idle path that touches
 * more than a few pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h> /* rename(2) only: no stdio streams here */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 8192                 /* one read of container output, one frame */
#define LOG_LINE (16 * 1024)       /* docker's copier: a longer line is logged in pieces */
#define STAGE 16384                /* log entries are encoded here, then written */
#define MAX_CLIENTS 32
#define HDR 8                      /* stdcopy frame header */
#define PEND_CAP (HDR + CHUNK + HDR + 16) /* one output frame, then the exit frame */
#define DRAIN_MS 2000              /* output still arriving after the init exited */
#define CLIENT_GRACE_MS 5000       /* for an attach client to take its last output */

enum { T_STDIN = 0, T_CLOSE_STDIN = 1, T_RESIZE = 2, T_CLAIM = 4, T_DONE = 5 };
enum { S_OUT = 1, S_ERR = 2, S_EXIT = 3 };
enum { RUNNING, DRAINING, FINISHING };

/* ---- options ------------------------------------------------------------------------------ */

static const char *opt_init, *opt_id, *opt_dir, *opt_log;
static int opt_sync_fd = -1, opt_terminal, opt_stdin, opt_stdin_once, opt_log_max_file = 1;
static long long opt_log_max_size;
static char **exit_argv;
#define TIMER_MAX_ARGS 64
#define TIMER_MAX_MS (100LL * 365 * 24 * 3600 * 1000)
static long long opt_every = -1, opt_every_first = -1;
static char *timer_argv[TIMER_MAX_ARGS + 1];
static int timer_argc;

/* ---- state -------------------------------------------------------------------------------- */

static int phase = RUNNING;
static int detached;               /* the pid came: fd 2 is no longer the engine's */
static int dir_fd = -1, devnull = -1, sig_fd = -1, ctl_fd = 0;
static int attach_listen = -1, console_listen = -1, console_conn = -1;
static int out_fd[2] = { -1, -1 }; /* stdout, stderr pipes; the pty master is out_fd[0] */
static int master_fd = -1;
static int stdin_fd = -1;          /* where attach stdin goes: a pipe, or the pty master */
static int stdin_close_wanted;
static unsigned char stdin_pend[CHUNK];
static size_t stdin_pend_len, stdin_pend_off;
static int stdin_owner_seen;
static unsigned short want_rows, want_cols;

static pid_t init_pid, ctr_pid;
static int init_alive, ctr_exited, ctr_code = -1;
static struct timespec ctr_exit_time;
static long long deadline_ms;      /* in DRAINING and FINISHING */

static pid_t timer_pid;            /* the run under way, also the id of its process group */
static int timer_out = -1;         /* the read end of its stdout */
static char timer_said[24];        /* what it printed: the delay it asks for */
static size_t timer_said_len;
static int timer_said_junk;        /* it printed more, or something else */
static long long timer_due_ms;     /* when the next run starts; 0: none to come */

static int log_fd = -1;
static long long log_size;
static unsigned char line_buf[2][LOG_LINE];
static size_t line_len[2];

static unsigned char io_buf[CHUNK];
static char ctl_buf[32];
static size_t ctl_len;

struct client {
	int fd;                        /* -1: free slot */
	size_t pend_len, pend_off;     /* output not yet taken */
	unsigned char hdr[HDR];
	size_t hdr_len;
	uint8_t type;
	uint32_t left;                 /* payload bytes still to read */
	unsigned char small[4];
	size_t small_len;
	unsigned claimed : 1, done : 1, stdin_owner : 1;
};
static struct client clients[MAX_CLIENTS];
static unsigned char pend_buf[MAX_CLIENTS][PEND_CAP];
static int claims_done, claims_abandoned;

/* ---- small helpers ------------------------------------------------------------------------ */

static size_t fmt_u(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/*
 * An error report. Until the pid comes, fd 2 is the engine's pipe; afterwards the engine may be
 * gone, so reports go to <dir>/shim.log.
 */
static void report(const char *what, int err)
{
	int fd = 2;
	if (detached) {
		fd = dir_fd >= 0 ? openat(dir_fd, "shim.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
		if (fd < 0)
			return;
	}
	struct iovec v[6] = {
		{ "hull-shim: ", 11 },
		{ (void *)(opt_id ? opt_id : ""), opt_id ? strlen(opt_id) : 0 },
		{ ": ", opt_id ? 2 : 0 },
		{ (void *)what, strlen(what) },
		{ err ? ": " : "", err ? 2 : 0 },
		{ err ? strerror(err) : "", err ? strlen(strerror(err)) : 0 },
	};
	(void)!writev(fd, v, 6);
	(void)!write(fd, "\n", 1);
	if (fd != 2)
		close(fd);
}

__attribute__((noreturn)) static void die(const char *what, int err)
{
	report(what, err);
	exit(1);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Children start with our signal set-up undone: the container must not inherit ignored signals. */
static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

/* ---- time: RFC 3339 with nanoseconds, trailing zeros dropped (Go's time.RFC3339Nano) ------- */

static size_t fmt_time(char *out, const struct timespec *ts)
{
	long long secs = ts->tv_sec;
	long long days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* days since 1970-01-01 to a civil date (the proleptic Gregorian calendar) */
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	long long year = yoe + era * 400 + (month <= 2);
	unsigned v[6] = { (unsigned)year, month, day, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60) };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };
	size_t n = 0;
	for (int i = 0; i < 6; i++) {
		unsigned width = i == 0 ? 4 : 2, x = v[i];
		for (unsigned k = width; k-- > 0; x /= 10)
			out[n + k] = (char)('0' + x % 10);
		n += width;
		if (sep[i])
			out[n++] = sep[i];
	}
	unsigned long ns = (unsigned long)ts->tv_nsec;
	if (ns) {
		char frac[9];
		for (int k = 8; k >= 0; k--, ns /= 10)
			frac[k] = (char)('0' + ns % 10);
		int len = 9;
		while (frac[len - 1] == '0')
			len--;
		out[n++] = '.';
		memcpy(out + n, frac, (size_t)len);
		n += (size_t)len;
	}
	out[n++] = 'Z';
	return n;
}

/* ---- the json-file log (docker's format, byte for byte) ----------------------------------- */

struct sink {
	int count_only;
	size_t total;
	size_t len;
};
static char stage[STAGE];

static void sink_flush(struct sink *s)
{
	if (!s->count_only && s->len) {
		write_all(log_fd, stage, s->len);
		s->len = 0;
	}
}

static void put(struct sink *s, const void *p, size_t n)
{
	s->total += n;
	if (s->count_only)
		return;
	const char *c = p;
	while (n) {
		if (s->len == STAGE)
			sink_flush(s);
		size_t k = STAGE - s->len < n ? STAGE - s->len : n;
		memcpy(stage + s->len, c, k);
		s->len += k;
		c += k;
		n -= k;
	}
}

/* The length of the valid UTF-8 sequence at p, or 0 where Go's utf8.DecodeRune sees an error. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char b = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		len = 2;
	else if (b >= 0xE0 && b <= 0xEF) {
		len = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	uint32_t c = b & (0xFF >> (len + 1));
	for (size_t i = 1; i < len; i++)
		c = (c << 6) | (p[i] & 0x3F);
	*cp = c;
	return len;
}

/* A JSON string body as docker's json-file writer escapes it (HTML-safe, \ufffd for bad UTF-8). */
static void put_escaped(struct sink *s, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0, i = 0;
	while (i < n) {
		unsigned char b = p[i];
		if (b < 0x80) {
			if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
				i++;
				continue;
			}
			put(s, p + start, i - start);
			char e[6] = { '\\', 'u', '0', '0', hex[b >> 4], hex[b & 15] };
			if (b == '\\' || b == '"') {
				e[1] = (char)b;
				put(s, e, 2);
			} else if (b == '\n')
				put(s, "\\n", 2);
			else if (b == '\r')
				put(s, "\\r", 2);
			else
				put(s, e, 6);
			start = ++i;
			continue;
		}
		uint32_t cp = 0;
		size_t len = utf8_seq(p + i, n - i, &cp);
		if (len == 0) {
			put(s, p + start, i - start);
			put(s, "\\ufffd", 6);
			start = ++i;
			continue;
		}
		if (cp == 0x2028 || cp == 0x2029) {
			put(s, p + start, i - start);
			put(s, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			start = i + len;
		}
		i += len;
	}
	put(s, p + start, n - start);
}

static void put_entry(struct sink *s, int stream, const unsigned char *p, size_t n, const char *ts, size_t tslen)
{
	put(s, "{\"log\":\"", 8);
	put_escaped(s, p, n);
	put(s, stream == S_ERR ? "\",\"stream\":\"stderr\",\"time\":\"" : "\",\"stream\":\"stdout\",\"time\":\"", 28);
	put(s, ts, tslen);
	put(s, "\"}\n", 3);
}

static char *log_name(char *buf, size_t cap, int n)
{
	size_t l = strlen(opt_log);
	if (l + 24 > cap)
		return NULL;
	memcpy(buf, opt_log, l);
	if (n > 0) {
		buf[l++] = '.';
		l += fmt_u(buf + l, (unsigned)n);
	}
	buf[l] = 0;
	return buf;
}

/* file.(N-2) -> file.(N-1) ... file -> file.1, then a fresh file; with one file, truncate it. */
static void rotate(void)
{
	if (opt_log_max_file <= 1) {
		if (ftruncate(log_fd, 0) < 0)
			report("truncate the log", errno);
		log_size = 0;
		return;
	}
	char from[4096 + 24], to[4096 + 24];
	for (int i = opt_log_max_file - 1; i >= 1; i--) {
		if (!log_name(from, sizeof from, i - 1) || !log_name(to, sizeof to, i))
			return;
		if (rename(from, to) < 0 && errno != ENOENT)
			report("rotate the log", errno);
	}
	int fd = open(opt_log, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		report("open the log after rotating it", errno);
		return; /* keep writing to the renamed file rather than lose output */
	}
	dup3(fd, log_fd, O_CLOEXEC);
	close(fd);
	log_size = 0;
}

static void log_entry(int idx, const unsigned char *p, size_t n, const char *ts, size_t tslen)
{
	int stream = opt_terminal ? S_OUT : idx + 1;
	struct sink count = { .count_only = 1 };
	put_entry(&count, stream, p, n, ts, tslen);
	if (opt_log_max_size > 0 && log_size > 0 && log_size + (long long)count.total > opt_log_max_size)
		rotate();
	struct sink s = { 0 };
	put_entry(&s, stream, p, n, ts, tslen);
	sink_flush(&s);
	log_size += (long long)count.total;
}

/* Splits output into lines as docker's copier does: a line is logged when complete, or at 16 KiB. */
static void log_output(int idx, const unsigned char *p, size_t n)
{
	if (log_fd < 0)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[40];
	size_t tslen = fmt_time(ts, &now);
	while (n) {
		const unsigned char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		size_t room = LOG_LINE - line_len[idx];
		int complete = nl != NULL;
		if (take > room) {
			take = room;
			complete = 0;
		}
		if (line_len[idx] == 0 && complete) {
			log_entry(idx, p, take, ts, tslen);
		} else {
			memcpy(line_buf[idx] + line_len[idx], p, take);
			line_len[idx] += take;
			if (complete || line_len[idx] == LOG_LINE) {
				log_entry(idx, line_buf[idx], line_len[idx], ts, tslen);
				line_len[idx] = 0;
			}
		}
		p += take;
		n -= take;
	}
}

/* At the end of a stream, what is left of a line is logged as it is. */
static void log_flush(int idx)
{
	if (log_fd < 0 || line_len[idx] == 0)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[40];
	size_t tslen = fmt_time(ts, &now);
	log_entry(idx, line_buf[idx], line_len[idx], ts, tslen);
	line_len[idx] = 0;
}

/* ---- attach clients ----------------------------------------------------------------------- */

static void frame_header(unsigned char *h, int stream, size_t len)
{
	h[0] = (unsigned char)stream;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(len >> 24);
	h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8);
	h[7] = (unsigned char)len;
}

static void drop_client(struct client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	if (phase == FINISHING && c->claimed) {
		if (c->done)
			claims_done++;
		else
			claims_abandoned++;
	}
	/* --stdin-once: the first client that gave stdin took it with it */
	if (c->stdin_owner && opt_stdin_once)
		stdin_close_wanted = 1;
}

static int client_pending(const struct client *c)
{
	return c->fd >= 0 && c->pend_len > c->pend_off;
}

/* Sends a frame, keeping what the client cannot take now (at most one frame plus the exit frame). */
static void client_send(struct client *c, int idx, int stream, const void *data, size_t len)
{
	unsigned char h[HDR];
	frame_header(h, stream, len);
	unsigned char *pend = pend_buf[idx];
	if (client_pending(c)) {
		if (c->pend_len + HDR + len > PEND_CAP) {
			drop_client(c); /* cannot happen: output stops while anything is pending */
			return;
		}
		memcpy(pend + c->pend_len, h, HDR);
		memcpy(pend + c->pend_len + HDR, data, len);
		c->pend_len += HDR + len;
		return;
	}
	struct iovec v[2] = { { h, HDR }, { (void *)data, len } };
	struct msghdr m = { .msg_iov = v, .msg_iovlen = len ? 2 : 1 };
	ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			drop_client(c);
			return;
		}
		n = 0;
	}
	size_t sent = (size_t)n, total = HDR + len;
	if (sent == total)
		return;
	c->pend_off = 0;
	c->pend_len = 0;
	if (sent < HDR) {
		memcpy(pend, h + sent, HDR - sent);
		c->pend_len = HDR - sent;
		sent = HDR;
	}
	memcpy(pend + c->pend_len, (const unsigned char *)data + (sent - HDR), total - sent);
	c->pend_len += total - sent;
}

static void client_flush(struct client *c, int idx)
{
	while (client_pending(c)) {
		ssize_t n = send(c->fd, pend_buf[idx] + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			drop_client(c);
			return;
		}
		c->pend_off += (size_t)n;
	}
	c->pend_len = c->pend_off = 0;
}

static int output_blocked(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (client_pending(&clients[i]))
			return 1;
	return 0;
}

static void broadcast(int stream, const void *data, size_t len)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_send(&clients[i], i, stream, data, len);
}

static void accept_client(void)
{
	int fd = accept4(attach_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd < 0) {
			memset(&clients[i], 0, sizeof clients[i]);
			clients[i].fd = fd;
			return;
		}
	}
	close(fd); /* full: the client sees the connection close at once */
}

/* ---- container stdin ---------------------------------------------------------------------- */

static void close_stdin_now(void)
{
	stdin_close_wanted = 0;
	stdin_pend_len = stdin_pend_off = 0;
	if (stdin_fd < 0)
		return;
	if (stdin_fd == master_fd) {
		/* A pty has no end of input to close: type the EOF character, as a user would. */
		struct termios t;
		if (tcgetattr(master_fd, &t) == 0 && (t.c_lflag & ICANON)) {
			unsigned char eof = t.c_cc[VEOF];
			(void)!write(master_fd, &eof, 1);
		}
	} else {
		close(stdin_fd);
	}
	stdin_fd = -1;
}

static void stdin_lost(void)
{
	if (stdin_fd >= 0 && stdin_fd != master_fd)
		close(stdin_fd);
	stdin_fd = -1;
	stdin_pend_len = stdin_pend_off = 0;
}

static void stdin_write(const unsigned char *p, size_t n)
{
	if (stdin_fd < 0 || n == 0)
		return;
	ssize_t w = write(stdin_fd, p, n);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			stdin_lost(); /* the container closed its stdin, or is gone */
			return;
		}
		w = 0;
	}
	if ((size_t)w < n) {
		memcpy(stdin_pend, p + w, n - (size_t)w);
		stdin_pend_len = n - (size_t)w;
		stdin_pend_off = 0;
	}
}

static void stdin_drain(void)
{
	while (stdin_fd >= 0 && stdin_pend_off < stdin_pend_len) {
		ssize_t w = write(stdin_fd, stdin_pend + stdin_pend_off, stdin_pend_len - stdin_pend_off);
		if (w < 0) {
			if (errno == EAGAIN)
				return;
			if (errno == EINTR)
				continue;
			stdin_lost();
			return;
		}
		stdin_pend_off += (size_t)w;
	}
	stdin_pend_len = stdin_pend_off = 0;
}

static void apply_size(void)
{
	if (master_fd < 0 || !want_rows || !want_cols)
		return;
	struct winsize ws = { want_rows, want_cols, 0, 0 };
	ioctl(master_fd, TIOCSWINSZ, &ws);
}

static void frame_done(struct client *c)
{
	switch (c->type) {
	case T_CLOSE_STDIN:
		stdin_close_wanted = 1;
		break;
	case T_RESIZE:
		if (c->small_len == 4) {
			want_rows = (unsigned short)(c->small[0] << 8 | c->small[1]);
			want_cols = (unsigned short)(c->small[2] << 8 | c->small[3]);
			apply_size();
		}
		break;
	case T_CLAIM:
		c->claimed = 1;
		break;
	case T_DONE:
		c->done = 1;
		break;
	}
}

/* Reads a client's frames; stdin that the container cannot take yet stops all clients' input. */
static void client_read(struct client *c)
{
	for (int round = 0; round < 16 && c->fd >= 0 && stdin_pend_len == 0; round++) {
		ssize_t n;
		if (c->hdr_len < HDR) {
			n = read(c->fd, c->hdr + c->hdr_len, HDR - c->hdr_len);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				drop_client(c);
				return;
			}
			if (n < 0)
				return;
			c->hdr_len += (size_t)n;
			if (c->hdr_len < HDR)
				continue;
			c->type = c->hdr[0];
			c->left = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 | (uint32_t)c->hdr[6] << 8 | c->hdr[7];
			c->small_len = 0;
			/* the first client to send stdin (even an empty frame) owns it, for --stdin-once */
			if (c->type == T_STDIN && !stdin_owner_seen) {
				stdin_owner_seen = 1;
				c->stdin_owner = 1;
			}
		} else {
			size_t want = c->left < CHUNK ? c->left : CHUNK;
			unsigned char *into = io_buf;
			if (c->type == T_RESIZE && c->small_len < 4) {
				into = c->small + c->small_len;
				if (want > 4 - c->small_len)
					want = 4 - c->small_len;
			}
			n = read(c->fd, into, want);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				drop_client(c);
				return;
			}
			if (n < 0)
				return;
			c->left -= (uint32_t)n;
			if (into != io_buf)
				c->small_len += (size_t)n;
			else if (c->type == T_STDIN)
				stdin_write(io_buf, (size_t)n);
		}
		if (c->left == 0) {
			frame_done(c);
			c->hdr_len = 0;
		}
	}
}

/* ---- the console socket: hull-init hands over the pty master ------------------------------ */

static void console_recv(void)
{
	char name[256];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec v = { name, sizeof name };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
	ssize_t n = recvmsg(console_conn, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof fd);
		if (master_fd >= 0) {
			close(fd);
			continue;
		}
		master_fd = fd;
		set_nonblock(master_fd);
		out_fd[0] = master_fd;
		if (opt_stdin)
			stdin_fd = master_fd;
		apply_size();
		/* one terminal per container: nobody else may connect */
		close(console_listen);
		console_listen = -1;
		unlinkat(dir_fd, "console.sock", 0);
	}
	if (n <= 0) {
		close(console_conn);
		console_conn = -1;
	}
}

/* ---- the timer ---------------------------------------------------------------------------- */

/* After exec failed in a child of ours, whose fd 2 is its log: say so there. */
static void exec_failed(const char *what, const char *prog)
{
	int e = errno;
	struct iovec v[6] = {
		{ "hull-shim: cannot run the ", 26 },
		{ (void *)what, strlen(what) },
		{ " ", 1 },
		{ (void *)prog, strlen(prog) },
		{ ": ", 2 },
		{ strerror(e), strlen(strerror(e)) },
	};
	(void)!writev(2, v, 6);
	(void)!write(2, "\n", 1);
}

static void timer_read(void)
{
	char buf[64];
	for (;;) {
		ssize_t n = read(timer_out, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(timer_out);
			timer_out = -1;
			return;
		}
		size_t room = sizeof timer_said - timer_said_len, k = (size_t)n < room ? (size_t)n : room;
		memcpy(timer_said + timer_said_len, buf, k);
		timer_said_len += k;
		if (k < (size_t)n)
			timer_said_junk = 1;
	}
}

/* The delay a run asked for: a decimal number of ms, perhaps with a newline; else --every. */
static long long timer_delay(void)
{
	size_t n = timer_said_len;
	if (n && timer_said[n - 1] == '\n')
		n--;
	if (timer_said_junk || n == 0 || n > 15)
		return opt_every;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (timer_said[i] < '0' || timer_said[i] > '9')
			return opt_every;
		v = v * 10 + (timer_said[i] - '0');
	}
	return v >= 1 ? v : opt_every;
}

static void timer_start(void)
{
	timer_due_ms = 0;
	int out[2];
	pid_t p = -1;
	if (pipe2(out, O_CLOEXEC) == 0) {
		p = fork();
		if (p < 0) {
			close(out[0]);
			close(out[1]);
		}
	}
	if (p < 0) {
		report("run the timer command", errno);
		timer_due_ms = now_ms() + opt_every;
		return;
	}
	if (p == 0) {
		reset_signals();
		/* its own process group, so that the container's end can stop all of a run at once */
		setpgid(0, 0);
		/* stderr: the last run's, for whoever wonders why runs fail */
		int err = openat(dir_fd, "timer.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err >= 0 ? err : devnull, 2);
		if (chdir("/") < 0)
			_exit(127);
		execvp(timer_argv[0], timer_argv);
		exec_failed("timer command", timer_argv[0]);
		_exit(127);
	}
	setpgid(p, p); /* as the child does itself: whichever comes first */
	close(out[1]);
	set_nonblock(out[0]);
	timer_pid = p;
	timer_out = out[0];
	timer_said_len = 0;
	timer_said_junk = 0;
}

static void timer_ended(void)
{
	if (timer_out >= 0)
		timer_read(); /* what it wrote before it exited is all in the pipe by now */
	if (timer_out >= 0)
		close(timer_out); /* something it started still holds the pipe: not ours to wait for */
	timer_out = -1;
	timer_pid = 0;
	if (phase == RUNNING && !ctr_exited)
		timer_due_ms = now_ms() + timer_delay();
}

/* The container has exited: no more runs, and the one under way goes with all it started. */
static void timer_stop(void)
{
	timer_due_ms = 0;
	if (timer_pid > 0) {
		kill(-timer_pid, SIGKILL);
		kill(timer_pid, SIGKILL);
	}
}

/* ---- children ----------------------------------------------------------------------------- */

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static void reap(void)
{
	int st;
	pid_t p;
	/* Until the pid is known only hull-init is reaped, so that the init's status is kept. */
	if (!ctr_pid) {
		if (init_alive && waitpid(init_pid, &st, WNOHANG) == init_pid)
			init_alive = 0;
		return;
	}
	if (!ctr_exited) {
		p = waitpid(ctr_pid, &st, WNOHANG);
		if (p == ctr_pid) {
			ctr_exited = 1;
			ctr_code = status_code(st);
			clock_gettime(CLOCK_REALTIME, &ctr_exit_time);
		} else if (p < 0 && errno == ECHILD && !init_alive) {
			/* not our child: nothing can tell us how it ends */
			report("the container init is not a child of the shim", ECHILD);
			ctr_exited = 1;
			ctr_code = -1;
		}
	}
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == init_pid)
			init_alive = 0;
		if (p == timer_pid)
			timer_ended();
		if (p == ctr_pid && !ctr_exited) {
			ctr_exited = 1;
			ctr_code = status_code(st);
			clock_gettime(CLOCK_REALTIME, &ctr_exit_time);
		}
	}
}

static void read_signals(void)
{
	struct signalfd_siginfo si[4];
	while (read(sig_fd, si, sizeof si) > 0)
		;
	reap();
}

/* "pid <N>\n" from the engine, then EOF. */
static void read_control(void)
{
	ssize_t n = read(ctl_fd, ctl_buf + ctl_len, sizeof ctl_buf - 1 - ctl_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		ctl_len += (size_t)n;
		ctl_buf[ctl_len] = 0;
		char *nl = memchr(ctl_buf, '\n', ctl_len);
		if (!nl && ctl_len < sizeof ctl_buf - 1)
			return;
		long v = 0;
		if (nl && strncmp(ctl_buf, "pid ", 4) == 0) {
			char *end;
			v = strtol(ctl_buf + 4, &end, 10);
			if (end != nl || v <= 0 || v > 0x3fffffff)
				v = 0;
		}
		if (v == 0)
			report("bad message on the control pipe", 0);
		else
			ctr_pid = (pid_t)v;
		if (ctr_pid && timer_argc)
			timer_due_ms = now_ms() + opt_every_first;
	}
	/* EOF, or the one message has come: the engine has nothing more to say */
	dup2(devnull, 0);
	ctl_fd = -1;
	if (ctr_pid) {
		dup2(devnull, 2);
		detached = 1;
		reap();
	}
}

/* ---- sockets ------------------------------------------------------------------------------ */

static int listen_at(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t dl = strlen(opt_dir), nl = strlen(name);
	unlinkat(dir_fd, name, 0);
	if (dl + 1 + nl < sizeof a.sun_path) {
		memcpy(a.sun_path, opt_dir, dl);
		a.sun_path[dl] = '/';
		memcpy(a.sun_path + dl + 1, name, nl + 1);
	} else {
		/* too long for sun_path: reach the directory through our fd for it */
		char *p = a.sun_path;
		memcpy(p, "/proc/self/fd/", 14);
		p += 14;
		p += fmt_u(p, (unsigned)dir_fd);
		*p++ = '/';
		memcpy(p, name, nl + 1);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket", errno);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0)
		die(name, errno);
	return fd;
}

/* ---- the end ------------------------------------------------------------------------------ */

static void write_exit_file(void)
{
	char buf[128], ts[40];
	size_t n = 0;
	memcpy(buf, "{\"exitCode\":", 12);
	n = 12;
	n += fmt_u(buf + n, (unsigned)ctr_code);
	memcpy(buf + n, ",\"exitedAt\":\"", 13);
	n += 13;
	size_t tl = fmt_time(ts, &ctr_exit_time);
	memcpy(buf + n, ts, tl);
	n += tl;
	memcpy(buf + n, "\"}\n", 3);
	n += 3;
	int fd = openat(dir_fd, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		report("write the exit file", errno);
		return;
	}
	write_all(fd, buf, n);
	close(fd);
	if (renameat(dir_fd, "exit.tmp", dir_fd, "exit") < 0)
		report("rename the exit file", errno);
}

static void close_io(void)
{
	for (int i = 0; i < 2; i++) {
		if (out_fd[i] >= 0 && out_fd[i] != master_fd)
			close(out_fd[i]);
		out_fd[i] = -1;
	}
	stdin_lost();
	if (master_fd >= 0)
		close(master_fd);
	master_fd = -1;
	if (attach_listen >= 0)
		close(attach_listen);
	attach_listen = -1;
	if (console_listen >= 0)
		close(console_listen);
	console_listen = -1;
	if (console_conn >= 0)
		close(console_conn);
	console_conn = -1;
	unlinkat(dir_fd, "attach.sock", 0);
	unlinkat(dir_fd, "console.sock", 0);
}

/* The init has exited and its output is in: record it, tell the clients, wait for claims. */
static void begin_finish(void)
{
	phase = FINISHING;
	log_flush(0);
	log_flush(1);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (ctr_code >= 0)
		write_exit_file();
	close_io();
	char code[16];
	size_t cl = ctr_code >= 0 ? fmt_u(code, (unsigned)ctr_code) : 0;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd < 0)
			continue;
		if (ctr_code >= 0)
			client_send(c, i, S_EXIT, code, cl);
	}
	deadline_ms = now_ms() + CLIENT_GRACE_MS;
}

static int any_client(void)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			return 1;
	return 0;
}

static void run_exit_command(void)
{
	if (!exit_argv || !exit_argv[0])
		return;
	pid_t p = fork();
	if (p < 0) {
		report("fork the exit command", errno);
		return;
	}
	if (p == 0) {
		reset_signals();
		int err = openat(dir_fd, "cleanup.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(err >= 0 ? err : devnull, 2);
		if (chdir("/") < 0)
			_exit(127);
		execvp(exit_argv[0], exit_argv);
		exec_failed("exit command", exit_argv[0]);
		_exit(127);
	}
	/* we are still the subreaper: reap whatever else ends meanwhile */
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w == p || (w < 0 && errno != EINTR))
			break;
	}
}

/* ---- start-up ----------------------------------------------------------------------------- */

__attribute__((noreturn)) static void usage(const char *flag, const char *why)
{
	static const char text[] =
		"usage: hull-shim --init <hull-init> --sync-fd <n> --id <id> --dir <run dir> [--terminal] "
		"[--stdin] [--stdin-once] [--log <file> [--log-max-size <bytes>] [--log-max-file <n>]] "
		"[--every <ms> [--every-first <ms>] --every-arg <arg>...] -- <exit command...>\n";
	char what[160];
	size_t n = 0, fl = flag ? strnlen(flag, 64) : 0, wl = strlen(why);
	if (fl) {
		memcpy(what, flag, fl);
		memcpy(what + fl, ": ", 2);
		n = fl + 2;
	}
	memcpy(what + n, why, wl + 1 < sizeof what - n ? wl + 1 : sizeof what - n);
	what[sizeof what - 1] = 0;
	report(what, 0);
	write_all(2, text, sizeof text - 1);
	exit(2);
}

static long long number(const char *flag, const char *v, long long min, long long max)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max)
		usage(flag, "not a number in range");
	return n;
}

static int is(const char *a, const char *flag)
{
	return strcmp(a, flag) == 0;
}

static void parse_args(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is(a, "--")) {
			i++;
			break;
		}
		if (is(a, "--terminal") || is(a, "--stdin") || is(a, "--stdin-once")) {
			*(is(a, "--terminal") ? &opt_terminal : is(a, "--stdin") ? &opt_stdin : &opt_stdin_once) = 1;
			continue;
		}
		if (!is(a, "--init") && !is(a, "--sync-fd") && !is(a, "--id") && !is(a, "--dir") && !is(a, "--log") &&
		    !is(a, "--log-max-size") && !is(a, "--log-max-file") && !is(a, "--every") && !is(a, "--every-first") &&
		    !is(a, "--every-arg"))
			usage(a, "unknown flag");
		if (i + 1 >= argc)
			usage(a, "missing its value");
		const char *v = argv[++i];
		if (is(a, "--init"))
			opt_init = v;
		else if (is(a, "--sync-fd"))
			opt_sync_fd = (int)number(a, v, 3, 1 << 20);
		else if (is(a, "--id"))
			opt_id = v;
		else if (is(a, "--dir"))
			opt_dir = v;
		else if (is(a, "--log"))
			opt_log = v;
		else if (is(a, "--log-max-size"))
			opt_log_max_size = number(a, v, 0, (long long)1 << 62);
		else if (is(a, "--every"))
			opt_every = number(a, v, 1, TIMER_MAX_MS);
		else if (is(a, "--every-first"))
			opt_every_first = number(a, v, 1, TIMER_MAX_MS);
		else if (is(a, "--every-arg")) {
			if (timer_argc == TIMER_MAX_ARGS)
				usage(a, "too many arguments");
			timer_argv[timer_argc++] = (char *)v;
		} else
			opt_log_max_file = (int)number(a, v, 1, 1000);
	}
	exit_argv = argv + i;
	if ((opt_every > 0) != (timer_argc > 0) || (opt_every_first > 0 && opt_every < 0))
		usage("--every", "needs --every-arg, and --every-arg and --every-first need --every");
	if (opt_every_first < 0)
		opt_every_first = opt_every;
	if (!opt_init || opt_sync_fd < 0 || !opt_dir)
		usage(NULL, "--init, --sync-fd and --dir are required");
	if (opt_dir[0] != '/' || opt_init[0] != '/' || (opt_log && opt_log[0] != '/'))
		usage(NULL, "--init, --dir and --log must be absolute paths");
	if (opt_log && strlen(opt_log) > 4000)
		usage("--log", "path too long");
}

/* Moves an fd of ours above the sync fd, so that fds 3..n stay the ones the runtime passed. */
static int high(int fd)
{
	if (fd < 0 || fd > opt_sync_fd)
		return fd;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, opt_sync_fd + 1);
	close(fd);
	return h;
}

static void start_init(void)
{
	int child_fd[3] = { devnull, devnull, devnull };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (!opt_terminal) {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			die("pipe", errno);
		if (opt_stdin && pipe2(in, O_CLOEXEC) < 0)
			die("pipe", errno);
		for (int i = 0; i < 2; i++) {
			out[i] = high(out[i]);
			err[i] = high(err[i]);
			in[i] = high(in[i]);
		}
		if (out[0] < 0 || out[1] < 0 || err[0] < 0 || err[1] < 0 || (opt_stdin && (in[0] < 0 || in[1] < 0)))
			die("pipe", errno);
		child_fd[1] = out[1];
		child_fd[2] = err[1];
		if (opt_stdin)
			child_fd[0] = in[0];
	}
	char fdnum[16];
	fdnum[fmt_u(fdnum, (unsigned)opt_sync_fd)] = 0;
	init_pid = fork();
	if (init_pid < 0)
		die("fork hull-init", errno);
	if (init_pid == 0) {
		reset_signals();
		/* every fd of ours is close-on-exec; the sync socket and fds 3..n-1 are passed on */
		for (int i = 0; i < 3; i++)
			if (dup2(child_fd[i], i) < 0)
				_exit(126);
		char *args[] = { (char *)opt_init, "init", fdnum, NULL };
		execv(opt_init, args);
		report("exec hull-init", errno);
		_exit(errno == ENOENT ? 127 : 126);
	}
	init_alive = 1;
	/*
	 * The runtime must see the sync socket close when hull-init and the init are done with it,
	 * and the fds passed for the container (3..n-1) are not ours to hold. Ours are all above n.
	 */
	for (int fd = 3; fd <= opt_sync_fd; fd++)
		close(fd);
	if (!opt_terminal) {
		close(out[1]);
		close(err[1]);
		out_fd[0] = out[0];
		out_fd[1] = err[0];
		set_nonblock(out_fd[0]);
		set_nonblock(out_fd[1]);
		if (opt_stdin) {
			close(in[0]);
			stdin_fd = in[1];
			set_nonblock(stdin_fd);
		}
	}
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* The engine stops a container by signalling its init, never the shim. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("become the child subreaper", errno);
	sig_fd = high(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	dir_fd = high(open(opt_dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
	devnull = high(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (sig_fd < 0 || devnull < 0)
		die("set up", errno);
	if (dir_fd < 0)
		die(opt_dir, errno);
	if (opt_log) {
		log_fd = high(open(opt_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
		if (log_fd < 0)
			die(opt_log, errno);
		struct stat st;
		if (fstat(log_fd, &st) == 0)
			log_size = st.st_size;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	attach_listen = high(listen_at("attach.sock"));
	if (opt_terminal)
		console_listen = high(listen_at("console.sock"));
	/*
	 * cwd: the run dir, for us (the shim shows as the container's, and is found if it leaks) and
	 * for hull-init, which can then reach console.sock as /proc/self/cwd/console.sock when the
	 * full path is too long for a socket address (see consoleSocketPath in shim.ts).
	 */
	if (fchdir(dir_fd) < 0)
		die("chdir to the run dir", errno);
	start_init();
	set_nonblock(ctl_fd);

	struct pollfd p[9 + MAX_CLIENTS];
	int owner[9 + MAX_CLIENTS]; /* which thing each pollfd is */
	enum { W_SIG = -1, W_CTL = -2, W_LISTEN = -3, W_CONSOLE_LISTEN = -4, W_CONSOLE = -5, W_OUT0 = -6, W_OUT1 = -7, W_STDIN = -8, W_TIMER = -9 };
	int no_pid_end = 0;
	for (;;) {
		if (stdin_close_wanted && stdin_pend_len == 0)
			close_stdin_now();
		if (phase == RUNNING && ctr_exited) {
			phase = DRAINING;
			deadline_ms = now_ms() + DRAIN_MS;
			timer_stop();
		}
		if (phase == RUNNING && ctr_pid && !timer_pid && timer_due_ms && now_ms() >= timer_due_ms)
			timer_start();
		if (phase == DRAINING && ((out_fd[0] < 0 && out_fd[1] < 0) || now_ms() >= deadline_ms))
			begin_finish();
		if (phase == FINISHING) {
			/*
			 * A client leaves once it has its exit frame, unless it claimed the cleanup: then
			 * we wait for its "done", or for it to go away without one.
			 */
			for (int i = 0; i < MAX_CLIENTS; i++) {
				struct client *c = &clients[i];
				if (c->fd >= 0 && !client_pending(c) && (!c->claimed || c->done || ctr_code < 0))
					drop_client(c);
			}
			if (!any_client())
				break;
		}
		if (phase == RUNNING && ctl_fd < 0 && !ctr_pid) {
			no_pid_end = 1;
			break;
		}

		int n = 0;
		p[n] = (struct pollfd){ sig_fd, POLLIN, 0 }, owner[n++] = W_SIG;
		if (ctl_fd >= 0)
			p[n] = (struct pollfd){ ctl_fd, POLLIN, 0 }, owner[n++] = W_CTL;
		if (attach_listen >= 0)
			p[n] = (struct pollfd){ attach_listen, POLLIN, 0 }, owner[n++] = W_LISTEN;
		if (console_listen >= 0 && console_conn < 0)
			p[n] = (struct pollfd){ console_listen, POLLIN, 0 }, owner[n++] = W_CONSOLE_LISTEN;
		if (console_conn >= 0)
			p[n] = (struct pollfd){ console_conn, POLLIN, 0 }, owner[n++] = W_CONSOLE;
		if (phase != FINISHING && !output_blocked()) {
			if (out_fd[0] >= 0)
				p[n] = (struct pollfd){ out_fd[0], POLLIN, 0 }, owner[n++] = W_OUT0;
			if (out_fd[1] >= 0)
				p[n] = (struct pollfd){ out_fd[1], POLLIN, 0 }, owner[n++] = W_OUT1;
		}
		if (stdin_pend_len && stdin_fd >= 0)
			p[n] = (struct pollfd){ stdin_fd, POLLOUT, 0 }, owner[n++] = W_STDIN;
		if (timer_out >= 0)
			p[n] = (struct pollfd){ timer_out, POLLIN, 0 }, owner[n++] = W_TIMER;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0)
				continue;
			short ev = (short)((stdin_pend_len ? 0 : POLLIN) | (client_pending(c) ? POLLOUT : 0));
			if (ev)
				p[n] = (struct pollfd){ c->fd, ev, 0 }, owner[n++] = i;
		}
		int timeout = -1;
		if (phase != RUNNING || (timer_due_ms && !timer_pid)) {
			long long left = (phase != RUNNING ? deadline_ms : timer_due_ms) - now_ms();
			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		int r = poll(p, (nfds_t)n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			report("poll", errno);
			break;
		}
		if (r == 0 && phase == FINISHING) {
			/* whoever has not taken the end by now is not listening */
			for (int i = 0; i < MAX_CLIENTS; i++)
				if (clients[i].fd >= 0 && !clients[i].claimed)
					drop_client(&clients[i]);
			deadline_ms = now_ms() + 24LL * 3600 * 1000;
			continue;
		}
		for (int k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			int w = owner[k];
			switch (w) {
			case W_SIG:
				read_signals();
				break;
			case W_CTL:
				read_control();
				break;
			case W_LISTEN:
				accept_client();
				break;
			case W_CONSOLE_LISTEN:
				console_conn = accept4(console_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				break;
			case W_CONSOLE:
				if (console_conn >= 0)
					console_recv();
				break;
			case W_OUT0:
			case W_OUT1: {
				int idx = w == W_OUT0 ? 0 : 1;
				if (out_fd[idx] < 0)
					break;
				ssize_t got = read(out_fd[idx], io_buf, CHUNK);
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (got <= 0) {
					/* EOF on a pipe, EIO on a pty whose last slave fd closed */
					log_flush(idx);
					if (out_fd[idx] == master_fd) {
						if (stdin_fd == master_fd)
							stdin_fd = -1;
						close(master_fd);
						master_fd = -1;
					} else {
						close(out_fd[idx]);
					}
					out_fd[idx] = -1;
					break;
				}
				broadcast(opt_terminal ? S_OUT : idx + 1, io_buf, (size_t)got);
				log_output(idx, io_buf, (size_t)got);
				break;
			}
			case W_STDIN:
				stdin_drain();
				break;
			case W_TIMER:
				if (timer_out >= 0)
					timer_read();
				break;
			default: {
				struct client *c = &clients[w];
				if (c->fd < 0)
					break;
				if (p[k].revents & (POLLOUT | POLLHUP | POLLERR))
					client_flush(c, w); /* for one that is gone, the send tells so */
				if (c->fd >= 0 && (p[k].revents & (POLLIN | POLLHUP | POLLERR)) && !stdin_pend_len)
					client_read(c);
				break;
			}
			}
		}
	}

	if (no_pid_end) {
		/* The engine went away (or create failed) before telling us the pid: nothing to watch. */
		if (init_alive) {
			kill(init_pid, SIGKILL);
			while (waitpid(init_pid, NULL, 0) < 0 && errno == EINTR)
				;
			init_alive = 0;
		}
		detached = 1;
		dup2(devnull, 2);
		phase = FINISHING;
		log_flush(0);
		log_flush(1);
		close_io();
		for (int i = 0; i < MAX_CLIENTS; i++)
			drop_client(&clients[i]);
	}
	/* a run killed at the exit ends before the exit command begins */
	timer_stop();
	while (timer_pid > 0 && waitpid(timer_pid, NULL, 0) < 0 && errno == EINTR)
		;
	timer_pid = 0;
	if (timer_out >= 0)
		close(timer_out);
	timer_out = -1;
	/* a claimer that sent "done" cleaned up itself; one that left without it did not */
	if (no_pid_end || claims_done == 0 || claims_abandoned > 0)
		run_exit_command();
	return 0;
}
