/*
 * hull-dns: the embedded DNS server of user-defined networks (src/network/dns/).
 *
 * hull has no daemon, so one of these serves every network on the host (as podman's
 * aardvark-dns does). The engine describes each network in a file of <dir>; the server listens
 * on each network's listen addresses (the bridge gateways), answers the names of that network's
 * containers from that network's records only, and forwards every other question to that
 * network's upstream resolvers.
 *
 * Usage: hull-dns [--port N] <dir>
 *
 * <dir>/<network> (every regular file whose name does not start with "."), one line each:
 *   listen <ip>                 an address to serve on (v4 or v6; may not exist yet: FREEBIND)
 *   forward <ip>[#port]         an upstream resolver, tried in order
 *   record <name> <ip>          A/AAAA for the name, PTR for the address (the first name wins)
 *   record <name> <ip> <client> the same, for queries from that client address only (the
 *                               names of a container's other networks)
 *   forward <ip>[#port] <client>  the upstreams of that client (a container's --dns), instead
 *                               of the network's
 * A line that is none of these is reported on stderr and ignored.
 *
 * Answers: A, AAAA (ANY: both) for a network's names, PTR for its addresses, NOERROR with no
 * answers for a known name without the type asked, all with TTL 60. Other names go to the
 * network's forwarders (over TCP when the client came over TCP), each try from a new socket
 * with a new random ID, 1.2 s a try, 4 s in all, then SERVFAIL. A network with no forwarder
 * (an internal one) answers NXDOMAIN for every name it does not have.
 *
 * <dir>/.pid holds our pid under an flock: a second instance exits 0 at once. SIGHUP re-reads
 * <dir>; when <dir> holds no network any more (checked on SIGHUP, and every 30 s in case the
 * engine died before its SIGHUP), the server unlinks .pid and exits 0, unless networks came
 * back meanwhile and no other instance took the new .pid. An engine checks that the pid in .pid
 * holds the lock before it signals it, else it starts a new server: neither side misses a file.
 *
 * Every packet is hostile input: everything read is bounds-checked, names are followed only
 * backwards (so compression cannot loop), responses are never answered, and a reply from
 * upstream is relayed only if it comes from the resolver asked (connected socket, random port),
 * with the random ID it was sent and the same question. One thread, one poll() loop, memory
 * allocated per query and freed with it: the idle server touches a few pages only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h> /* vsnprintf only: no stdio streams */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_FREEBIND
#define IP_FREEBIND 15
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

#define TTL 60                     /* containers come and go: short-lived answers */
#define MAX_NETS 256
#define MAX_LISTEN_PER_NET 16
#define MAX_FORWARDERS 8
#define MAX_RECORDS 16384          /* per network */
#define MAX_LINE 1024
#define MAX_FILE_BYTES (16 << 20)  /* a config file is read this far at most */
#define MAX_COMPLAINTS 10          /* per file per reload, then a count */
#define MAX_CONNS 32               /* TCP clients at once */
#define MAX_PENDING 128            /* forwarded questions at once */
#define UDP_QUERY_MAX 4096         /* a bigger UDP query is dropped */
#define UDP_REPLY_MAX 4096         /* what we answer over UDP, whatever EDNS asks */
#define MSG_MAX 65535
#define ATTEMPT_MS 1200            /* one try of one forwarder */
#define FORWARD_MS 4000            /* all tries: then SERVFAIL */
#define TCP_IDLE_MS 10000
#define RETRY_BIND_MS 2000         /* listeners whose bind failed */
#define CHECK_DIR_MS 30000         /* <dir> removed or emptied with no SIGHUP (an engine killed midway) */
#define MAX_POLL (1 + 2 * MAX_NETS * MAX_LISTEN_PER_NET + MAX_CONNS + MAX_PENDING)

enum { T_A = 1, T_PTR = 12, T_AAAA = 28, T_OPT = 41, T_ANY = 255, C_IN = 1 };
enum { RC_OK = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_NOTIMP = 4, RC_REFUSED = 5 };

typedef union {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
} addr_t;

/* ---- small helpers ------------------------------------------------------------------------ */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[600] = "hull-dns: ";
	size_t n = 10;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	n += (size_t)w < sizeof buf - n - 1 ? (size_t)w : sizeof buf - n - 2;
	buf[n++] = '\n';
	(void)!write(2, buf, n);
}

/* Text from a config file, made safe to print: printable ASCII, at most 80 characters. */
static const char *shown(const char *s)
{
	static char out[4 * 80 + 4];
	size_t o = 0;
	for (size_t i = 0; s[i] && o < sizeof out - 8; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == 80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return out;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t random_id(void)
{
	uint16_t v;
	if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v)
		return v;
	/* getrandom cannot fail on the kernels hull runs on; still, never hand out a fixed ID */
	static uint32_t x;
	x = x * 1664525u + 1013904223u + (uint32_t)now_ms() + (uint32_t)getpid();
	return (uint16_t)(x >> 16);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

/* Wire-format names, compared without regard to ASCII case (length bytes are < 64: unaffected). */
static int wire_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

static socklen_t addr_len(const addr_t *a)
{
	return a->sa.sa_family == AF_INET ? sizeof a->in4 : sizeof a->in6;
}

/* The same host: family and address, whatever the ports. */
static int same_host(const addr_t *a, const addr_t *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	return a->sa.sa_family == AF_INET6 && memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

static int addr_equal(const addr_t *a, const addr_t *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_port == b->in4.sin_port && a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port && a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
	       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* "1.2.3.4", "fd00::1" or "fe80::1%eth0" (a scope only for v6, only when scope_ok). */
static int parse_ip(const char *s, addr_t *out, uint16_t port, int scope_ok)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, &out->in4.sin_addr) == 1) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(port);
		return 0;
	}
	char ip[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t n = pct ? (size_t)(pct - s) : strlen(s);
	if (n >= sizeof ip || (pct && !scope_ok))
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	if (inet_pton(AF_INET6, ip, &out->in6.sin6_addr) != 1)
		return -1;
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = htons(port);
	if (pct) {
		const char *scope = pct + 1;
		unsigned long idx = 0;
		if (*scope >= '0' && *scope <= '9') {
			char *end;
			idx = strtoul(scope, &end, 10);
			if (*end || idx > 0xffffffffUL)
				return -1;
		} else if (*scope && strlen(scope) < IF_NAMESIZE) {
			idx = if_nametoindex(scope);
		}
		if (!idx)
			return -1;
		out->in6.sin6_scope_id = (uint32_t)idx;
	}
	return 0;
}

/* A name as written in a config file -> lowercase wire format. Returns its length, or 0. */
static size_t name_to_wire(const char *s, uint8_t w[255])
{
	size_t len = strlen(s);
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	size_t o = 1, label = 0; /* w[label] is the length byte of the label being written */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (o - label - 1 == 0)
				return 0;
			w[label] = (uint8_t)(o - label - 1);
			label = o++;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f || o - label - 1 == 63)
			return 0;
		w[o++] = lower(c);
	}
	if (o - label - 1 == 0)
		return 0;
	w[label] = (uint8_t)(o - label - 1);
	w[o++] = 0;
	return o;
}

/* ---- configuration ------------------------------------------------------------------------ */

struct record {
	uint8_t v6;
	uint8_t ip[16];
	addr_t client;                 /* AF_UNSPEC, or the only client this record answers */
	uint8_t wlen;
	uint32_t name;                 /* offset of the lowercase wire name in the network's names */
};

struct network {
	char id[256];
	addr_t listen[MAX_LISTEN_PER_NET];
	int nlisten;
	addr_t fwd[MAX_FORWARDERS];
	int nfwd;
	struct scoped_fwd { addr_t client, fwd; } *sfwd;
	int nsfwd;
	struct record *rec;
	int nrec, rcap;
	uint8_t *names;
	size_t nlen, ncap;
};

struct want {                      /* a listen address, and the network it answers for */
	addr_t addr;
	int net;
};

struct config {
	struct network *nets;
	int nnets;
	struct want *listen;
	int nlisten;
};

static uint16_t opt_port = 53;
static int dir_fd = -1;
static struct config cfg;

static void free_config(struct config *c)
{
	for (int i = 0; i < c->nnets; i++) {
		free(c->nets[i].rec);
		free(c->nets[i].names);
		free(c->nets[i].sfwd);
	}
	free(c->nets);
	free(c->listen);
	memset(c, 0, sizeof *c);
}

struct reader {                    /* complaints about one file */
	const char *file;
	unsigned line, complaints;
};

static void complain(struct reader *r, const char *why, const char *text)
{
	if (++r->complaints <= MAX_COMPLAINTS)
		say("%s:%u: %s, ignored: %s", r->file, r->line, why, shown(text));
}

static int add_record(struct network *n, const uint8_t *w, size_t wlen, const addr_t *ip, const addr_t *client)
{
	if (n->nrec == MAX_RECORDS)
		return -1;
	if (n->nrec == n->rcap) {
		int cap = n->rcap ? n->rcap * 2 : 16;
		struct record *r = realloc(n->rec, (size_t)cap * sizeof *r);
		if (!r)
			return -1;
		n->rec = r;
		n->rcap = cap;
	}
	if (n->nlen + wlen > n->ncap) {
		size_t cap = n->ncap ? n->ncap * 2 : 256;
		while (cap < n->nlen + wlen)
			cap *= 2;
		uint8_t *p = realloc(n->names, cap);
		if (!p)
			return -1;
		n->names = p;
		n->ncap = cap;
	}
	struct record *r = &n->rec[n->nrec++];
	memset(r, 0, sizeof *r);
	r->v6 = ip->sa.sa_family == AF_INET6;
	if (r->v6)
		memcpy(r->ip, &ip->in6.sin6_addr, 16);
	else
		memcpy(r->ip, &ip->in4.sin_addr, 4);
	r->client.sa.sa_family = AF_UNSPEC;
	if (client)
		r->client = *client;
	r->wlen = (uint8_t)wlen;
	r->name = (uint32_t)n->nlen;
	memcpy(n->names + n->nlen, w, wlen);
	n->nlen += wlen;
	return 0;
}

static void parse_line(struct network *n, struct reader *r, char *line)
{
	char orig[MAX_LINE + 1];
	snprintf(orig, sizeof orig, "%s", line);
	char *tok[4];
	int nt = 0;
	for (char *p = line; *p && nt < 4;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok[nt++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	if (nt == 0 || tok[0][0] == '#')
		return;
	addr_t a;
	if (strcmp(tok[0], "listen") == 0 && nt == 2) {
		if (parse_ip(tok[1], &a, opt_port, 1) < 0)
			return complain(r, "not an IP address", orig);
		if (n->nlisten == MAX_LISTEN_PER_NET)
			return complain(r, "too many listen addresses", orig);
		n->listen[n->nlisten++] = a;
	} else if (strcmp(tok[0], "forward") == 0 && (nt == 2 || nt == 3)) {
		unsigned long port = 53;
		char *hash = strchr(tok[1], '#');
		if (hash) {
			char *end;
			*hash = 0;
			port = hash[1] >= '0' && hash[1] <= '9' ? strtoul(hash + 1, &end, 10) : 0;
			if (port == 0 || port > 65535 || *end)
				return complain(r, "bad port", orig);
		}
		if (parse_ip(tok[1], &a, (uint16_t)port, 1) < 0)
			return complain(r, "not an IP address", orig);
		if (nt == 3) {
			addr_t client;
			if (parse_ip(tok[2], &client, 0, 0) < 0)
				return complain(r, "not a client IP address", orig);
			if (n->nsfwd == MAX_RECORDS)
				return complain(r, "too many forwarders", orig);
			struct scoped_fwd *f = realloc(n->sfwd, (size_t)(n->nsfwd + 1) * sizeof *f);
			if (!f)
				return complain(r, "out of memory", orig);
			n->sfwd = f;
			f[n->nsfwd].client = client;
			f[n->nsfwd++].fwd = a;
			return;
		}
		if (n->nfwd == MAX_FORWARDERS)
			return complain(r, "too many forwarders", orig);
		n->fwd[n->nfwd++] = a;
	} else if (strcmp(tok[0], "record") == 0 && (nt == 3 || nt == 4)) {
		uint8_t w[255];
		addr_t client;
		size_t wlen = name_to_wire(tok[1], w);
		if (!wlen)
			return complain(r, "not a DNS name", orig);
		if (parse_ip(tok[2], &a, 0, 0) < 0)
			return complain(r, "not an IP address", orig);
		if (nt == 4 && parse_ip(tok[3], &client, 0, 0) < 0)
			return complain(r, "not a client IP address", orig);
		if (add_record(n, w, wlen, &a, nt == 4 ? &client : NULL) < 0)
			return complain(r, "too many records", orig);
	} else {
		complain(r, "not a listen, forward or record line", orig);
	}
}

/* Reads one network's file, a line at a time through a fixed buffer: its size does not matter. */
static void parse_file(int fd, struct network *n)
{
	struct reader r = { n->id, 1, 0 };
	char buf[4096], line[MAX_LINE + 1];
	size_t len = 0, total = 0;
	int overlong = 0;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			say("%s: %s", n->id, strerror(errno));
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			char c = buf[i];
			if (c == '\n') {
				if (overlong) {
					line[len] = 0;
					complain(&r, "line too long", line);
				} else {
					line[len] = 0;
					if (len && line[len - 1] == '\r')
						line[len - 1] = 0;
					parse_line(n, &r, line);
				}
				len = 0;
				overlong = 0;
				r.line++;
			} else if (len < MAX_LINE) {
				line[len++] = c ? c : ' ';
			} else {
				overlong = 1;
			}
		}
		total += (size_t)got;
		if (total >= MAX_FILE_BYTES) {
			say("%s: longer than %d bytes: the rest is ignored", n->id, MAX_FILE_BYTES);
			len = 0;
			break;
		}
	}
	if (len && !overlong) {        /* a last line without its newline */
		line[len] = 0;
		parse_line(n, &r, line);
	} else if (overlong) {
		line[len] = 0;
		complain(&r, "line too long", line);
	}
	if (r.complaints > MAX_COMPLAINTS)
		say("%s: %u more bad lines ignored", n->id, r.complaints - MAX_COMPLAINTS);
}

static int is_network_name(const char *name)
{
	return name[0] && name[0] != '.';
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The network files in <dir>: returns how many there are (-1 if <dir> cannot be read), and, if
 * names is given, their names, sorted (at most MAX_NETS; the caller frees them).
 */
static int list_networks(char ***names)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		say("cannot read the directory: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char **out = names ? calloc(MAX_NETS, sizeof *out) : NULL;
	int count = 0, kept = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (!is_network_name(e->d_name))
			continue;
		if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		count++;
		if (out && kept < MAX_NETS && (out[kept] = strdup(e->d_name)) != NULL)
			kept++;
	}
	closedir(d);
	if (names) {
		if (count > MAX_NETS)
			say("more than %d networks: the rest are not served", MAX_NETS);
		if (out)
			qsort(out, (size_t)kept, sizeof *out, by_name);
		*names = out;
	}
	return count;
}

/* Reads <dir> into c. Returns how many network files there are (0: none; -1: unreadable). */
static int load_config(struct config *c)
{
	memset(c, 0, sizeof *c);
	char **names = NULL;
	int count = list_networks(&names);
	if (count <= 0 || !names) {
		free(names);
		return count;
	}
	c->nets = calloc(MAX_NETS, sizeof *c->nets);
	c->listen = calloc((size_t)MAX_NETS * MAX_LISTEN_PER_NET, sizeof *c->listen);
	for (int i = 0; i < MAX_NETS && names[i]; i++) {
		if (c->nets && c->listen) {
			int fd = openat(dir_fd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				if (fd >= 0)
					close(fd);
			} else {
				struct network *n = &c->nets[c->nnets++];
				snprintf(n->id, sizeof n->id, "%s", names[i]);
				parse_file(fd, n);
				close(fd);
			}
		}
		free(names[i]);
	}
	free(names);
	if (!c->nets || !c->listen) {
		say("out of memory reading the configuration");
		free_config(c);
		return count;
	}
	/* Each listen address answers for one network (the first, by file name). */
	for (int i = 0; i < c->nnets; i++) {
		struct network *n = &c->nets[i];
		for (int l = 0; l < n->nlisten; l++) {
			int dup = -1;
			for (int k = 0; k < c->nlisten && dup < 0; k++)
				if (addr_equal(&c->listen[k].addr, &n->listen[l]))
					dup = c->listen[k].net;
			if (dup == i)
				continue;
			if (dup >= 0) {
				say("%s: a listen address of %s too: it stays with %s", n->id, c->nets[dup].id, c->nets[dup].id);
				continue;
			}
			c->listen[c->nlisten].addr = n->listen[l];
			c->listen[c->nlisten++].net = i;
		}
	}
	return count;
}

/* ---- listeners, clients, forwarded questions ---------------------------------------------- */

struct listener {
	int used;
	addr_t addr;
	int net;                       /* index in cfg.nets */
	int udp, tcp;                  /* -1: not bound (yet) */
	unsigned serial;
	int complained;
};

struct conn {                      /* a TCP client */
	unsigned serial;
	int fd;
	int lis;
	unsigned lis_serial;
	int64_t deadline;
	uint8_t lenbuf[2];
	size_t got;                    /* bytes of the current message read, its 2 length bytes included */
	uint8_t *in;
	size_t inlen;
	uint8_t *out;                  /* a reply being written, length prefix included */
	size_t outlen, outoff;
	int pending;                   /* its forwarded question (index), or -1 */
};

enum { P_UDP, P_CONNECT, P_WRITE, P_READ };

struct question {
	uint8_t name[255];             /* wire format, as the client wrote it */
	size_t nlen;
	uint16_t type, cls;
	size_t end;                    /* offset just past the question section */
};

struct pending {                   /* a question sent upstream */
	unsigned serial;
	int fd;
	int state;
	int over_tcp;                  /* to upstream: as the client came */
	uint8_t *query;                /* the client's query; its ID is rewritten for each try */
	size_t qlen;
	uint16_t client_id, our_id;
	struct question q;
	int conn;                      /* TCP client: index and serial */
	unsigned conn_serial;
	int lis;                       /* UDP client: listener index and serial, and address */
	unsigned lis_serial;
	addr_t peer;
	addr_t fwd[MAX_FORWARDERS];
	int nfwd, next, tries, max_tries;
	int64_t try_deadline, deadline;
	size_t io;                     /* TCP upstream: bytes written, or read (length bytes included) */
	uint8_t lenbuf[2];
	uint8_t *resp;
	size_t resp_len;
};

static struct listener *lis;
static int nlis;
static struct conn *conns[MAX_CONNS];
static struct pending *pend[MAX_PENDING];
static unsigned serials;
static int64_t next_bind_retry;

static uint8_t msg_buf[MSG_MAX + 2];   /* a UDP query in, an upstream reply in, or a reply out */
static uint8_t reply_buf[MSG_MAX + 2];

static int make_socket(const addr_t *a, int type)
{
	int fd = socket(a->sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (a->sa.sa_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, &a->sa, addr_len(a)) < 0 || (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static const char *addr_text(const addr_t *a)
{
	static char s[INET6_ADDRSTRLEN + 16];
	char ip[INET6_ADDRSTRLEN];
	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof ip);
		snprintf(s, sizeof s, "%s:%u", ip, ntohs(a->in4.sin_port));
	} else {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof ip);
		snprintf(s, sizeof s, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
	}
	return s;
}

static void bind_listener(struct listener *l)
{
	int failed = 0, err = 0;
	if (l->udp < 0 && (l->udp = make_socket(&l->addr, SOCK_DGRAM)) < 0)
		failed = 1, err = errno;
	if (l->tcp < 0 && (l->tcp = make_socket(&l->addr, SOCK_STREAM)) < 0)
		failed = 1, err = errno;
	if (failed && !l->complained) {
		say("cannot listen on %s: %s (will retry)", addr_text(&l->addr), strerror(err));
		l->complained = 1;
	} else if (!failed && l->complained) {
		say("listening on %s", addr_text(&l->addr));
		l->complained = 0;
	}
}

static void free_pending(int i)
{
	struct pending *p = pend[i];
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->conn >= 0 && conns[p->conn] && conns[p->conn]->serial == p->conn_serial)
		conns[p->conn]->pending = -1;
	free(p->query);
	free(p->resp);
	free(p);
	pend[i] = NULL;
}

static void close_conn(int i)
{
	struct conn *c = conns[i];
	if (!c)
		return;
	if (c->pending >= 0) {
		pend[c->pending]->conn = -1; /* nobody to tell any more */
		free_pending(c->pending);
	}
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	conns[i] = NULL;
}

static void close_listener(int i)
{
	struct listener *l = &lis[i];
	for (int c = 0; c < MAX_CONNS; c++)
		if (conns[c] && conns[c]->lis == i && conns[c]->lis_serial == l->serial)
			close_conn(c);
	for (int p = 0; p < MAX_PENDING; p++)
		if (pend[p] && pend[p]->conn < 0 && pend[p]->lis == i && pend[p]->lis_serial == l->serial)
			free_pending(p);
	if (l->udp >= 0)
		close(l->udp);
	if (l->tcp >= 0)
		close(l->tcp);
	memset(l, 0, sizeof *l);
}

static void open_listener(const addr_t *a, int net)
{
	int slot = -1;
	for (int i = 0; i < nlis && slot < 0; i++)
		if (!lis[i].used)
			slot = i;
	if (slot < 0) {
		struct listener *more = realloc(lis, (size_t)(nlis + 1) * sizeof *lis);
		if (!more) {
			say("out of memory: cannot listen on %s", addr_text(a));
			return;
		}
		lis = more;
		slot = nlis++;
	}
	struct listener *l = &lis[slot];
	memset(l, 0, sizeof *l);
	l->used = 1;
	l->addr = *a;
	l->net = net;
	l->udp = l->tcp = -1;
	l->serial = ++serials;
	bind_listener(l);
}

/* Makes the listeners match c, keeping the sockets of addresses that stay, and installs c. */
static void apply_config(struct config *c)
{
	char *keep = calloc((size_t)nlis + 1, 1);
	for (int w = 0; w < c->nlisten; w++) {
		int found = -1;
		for (int i = 0; i < nlis && found < 0; i++)
			if (lis[i].used && addr_equal(&lis[i].addr, &c->listen[w].addr))
				found = i;
		if (found >= 0) {
			lis[found].net = c->listen[w].net;
			if (keep)
				keep[found] = 1;
		}
	}
	for (int i = 0; i < nlis; i++)
		if (lis[i].used && (!keep || !keep[i]))
			close_listener(i);
	free(keep);
	for (int w = 0; w < c->nlisten; w++) {
		int found = 0;
		for (int i = 0; i < nlis && !found; i++)
			found = lis[i].used && addr_equal(&lis[i].addr, &c->listen[w].addr);
		if (!found)
			open_listener(&c->listen[w].addr, c->listen[w].net);
	}
	free_config(&cfg);
	cfg = *c;
}

static void close_everything(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		close_conn(i);
	for (int i = 0; i < MAX_PENDING; i++)
		free_pending(i);
	for (int i = 0; i < nlis; i++)
		if (lis[i].used)
			close_listener(i);
	free_config(&cfg);
}

/* ---- answering ---------------------------------------------------------------------------- */

/*
 * Reads the name at off: wire format, original case, into w (at most 255 bytes). A compression
 * pointer must point before the start of the labels being read, so every jump goes strictly
 * backwards and the walk ends. Returns its length, or 0 if malformed; *end is where the name's
 * bytes end in m.
 */
static size_t read_name(const uint8_t *m, size_t len, size_t off, uint8_t w[255], size_t *end)
{
	size_t pos = off, run = off, o = 0;
	int jumped = 0;
	for (;;) {
		if (pos >= len)
			return 0;
		uint8_t c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return 0;
			size_t target = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			if (target >= run)
				return 0;
			if (!jumped)
				*end = pos + 2;
			jumped = 1;
			pos = run = target;
			continue;
		}
		if (c & 0xc0)              /* 0x40, 0x80: label types nobody uses */
			return 0;
		if (o + 1 + c > 255)
			return 0;
		if (c == 0) {
			w[o++] = 0;
			if (!jumped)
				*end = pos + 1;
			return o;
		}
		if (pos + 1 + c > len)
			return 0;
		memcpy(w + o, m + pos, (size_t)c + 1);
		o += (size_t)c + 1;
		pos += (size_t)c + 1;
	}
}

static int parse_question(const uint8_t *m, size_t len, struct question *q)
{
	size_t end = 0;
	if (len < 12 || get16(m + 4) != 1)
		return -1;
	if (!(q->nlen = read_name(m, len, 12, q->name, &end)) || end + 4 > len)
		return -1;
	q->type = get16(m + end);
	q->cls = get16(m + end + 2);
	q->end = end + 4;
	return 0;
}

/* The address a reverse name (x.x.x.x.in-addr.arpa, 32 nibbles .ip6.arpa) stands for. */
static int reverse_address(const uint8_t *w, size_t wlen, uint8_t ip[16], int *v6)
{
	const uint8_t *label[40];
	int n = 0;
	for (size_t p = 0; p < wlen && w[p]; p += (size_t)w[p] + 1) {
		if (n == 40)
			return -1;
		label[n++] = w + p;
	}
	if (n < 2 || !wire_equal(label[n - 1], 5, (const uint8_t *)"\4arpa", 5))
		return -1;
	if (n == 6 && wire_equal(label[n - 2], 8, (const uint8_t *)"\7in-addr", 8)) {
		for (int i = 0; i < 4; i++) {
			unsigned v = 0, len = label[i][0];
			if (len == 0 || len > 3)
				return -1;
			for (unsigned k = 1; k <= len; k++) {
				if (label[i][k] < '0' || label[i][k] > '9')
					return -1;
				v = v * 10 + (label[i][k] - '0');
			}
			if (v > 255)
				return -1;
			ip[3 - i] = (uint8_t)v;
		}
		*v6 = 0;
		return 0;
	}
	if (n == 34 && wire_equal(label[n - 2], 4, (const uint8_t *)"\3ip6", 4)) {
		memset(ip, 0, 16);
		for (int i = 0; i < 32; i++) {
			uint8_t c = lower(label[i][1]);
			unsigned v;
			if (label[i][0] != 1)
				return -1;
			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (c >= 'a' && c <= 'f')
				v = c - 'a' + 10;
			else
				return -1;
			ip[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
		}
		*v6 = 1;
		return 0;
	}
	return -1;
}

/* Header (and question) of a reply to query m. */
static size_t begin_reply(uint8_t *out, const uint8_t *m, const struct question *q, int rcode, int aa)
{
	memcpy(out, m, 2);
	out[2] = (uint8_t)(0x80 | (m[2] & 0x79) | (aa ? 0x04 : 0)); /* QR, opcode and RD as asked */
	out[3] = (uint8_t)(0x80 | rcode);                           /* RA */
	memset(out + 4, 0, 8);
	if (!q)
		return 12;
	put16(out + 4, 1);
	memcpy(out + 12, q->name, q->nlen);
	put16(out + 12 + q->nlen, q->type);
	put16(out + 14 + q->nlen, q->cls);
	return 16 + q->nlen;
}

/* One answer, named by a pointer to the question's name; 0 if it does not fit under limit. */
static int add_answer(uint8_t *out, size_t *pos, size_t limit, uint16_t type, const uint8_t *rdata, size_t rdlen)
{
	if (*pos + 12 + rdlen > limit)
		return 0;
	uint8_t *p = out + *pos;
	put16(p, 0xc00c);
	put16(p + 2, type);
	put16(p + 4, C_IN);
	put32(p + 6, TTL);
	put16(p + 10, (unsigned)rdlen);
	memcpy(p + 12, rdata, rdlen);
	*pos += 12 + rdlen;
	put16(out + 6, get16(out + 6) + 1u);
	return 1;
}

enum { DROP, REPLY, FORWARD };

/*
 * What to do with query m (len bytes) that came to network net: DROP it, REPLY with *outlen
 * bytes of out, or FORWARD it (q is then its question).
 */
/* A record answers every client, or (scoped) only the one it names. */
static int visible(const struct record *r, const addr_t *peer)
{
	return r->client.sa.sa_family == AF_UNSPEC || (peer && same_host(&r->client, peer));
}

static int answer(const struct network *net, const addr_t *peer, const uint8_t *m, size_t len, int tcp, uint8_t *out,
		  size_t *outlen, struct question *q)
{
	if (len < 12 || (m[2] & 0x80))     /* too short to answer, or itself a response */
		return DROP;
	if ((m[2] >> 3 & 15) != 0) {       /* only QUERY */
		*outlen = begin_reply(out, m, NULL, RC_NOTIMP, 0);
		return REPLY;
	}
	if (parse_question(m, len, q) < 0) {
		*outlen = begin_reply(out, m, NULL, RC_FORMERR, 0);
		return REPLY;
	}
	/* EDNS: an OPT record as the only additional one says how big a UDP reply may be */
	size_t limit = tcp ? MSG_MAX : 512;
	int edns = 0;
	if (get16(m + 6) == 0 && get16(m + 8) == 0 && get16(m + 10) == 1 && q->end + 11 <= len &&
	    m[q->end] == 0 && get16(m + q->end + 1) == T_OPT) {
		edns = 1;
		unsigned size = get16(m + q->end + 3);
		if (!tcp && size > 512)
			limit = size < UDP_REPLY_MAX ? size : UDP_REPLY_MAX;
	}
	if (!net)
		return DROP;
	uint8_t lname[255];
	for (size_t i = 0; i < q->nlen; i++)
		lname[i] = lower(q->name[i]);
	if (edns)
		limit -= 11;

	if (q->cls == C_IN || q->cls == T_ANY) {
		int found = 0, full = 0;
		size_t pos = begin_reply(out, m, q, RC_OK, 1);
		uint8_t ip[16];
		int v6;
		if (q->type == T_PTR && reverse_address(lname, q->nlen, ip, &v6) == 0) {
			for (int i = 0; i < net->nrec && !found; i++) {
				const struct record *r = &net->rec[i];
				if (visible(r, peer) && r->v6 == v6 && memcmp(r->ip, ip, v6 ? 16 : 4) == 0) {
					found = 1;
					full = !add_answer(out, &pos, limit, T_PTR, net->names + r->name, r->wlen);
				}
			}
		} else {
			for (int i = 0; i < net->nrec && !full; i++) {
				const struct record *r = &net->rec[i];
				if (!visible(r, peer) || !wire_equal(net->names + r->name, r->wlen, lname, q->nlen))
					continue;
				found = 1;
				uint16_t type = r->v6 ? T_AAAA : T_A;
				if (q->type == type || q->type == T_ANY)
					full = !add_answer(out, &pos, limit, type, r->ip, r->v6 ? 16 : 4);
			}
		}
		if (found) {
			if (full)
				out[2] |= 0x02;    /* TC: glibc asks again over TCP */
			if (edns) {            /* our OPT: no extended flags, the size we take */
				uint8_t *o = out + pos;
				o[0] = 0;
				put16(o + 1, T_OPT);
				put16(o + 3, UDP_REPLY_MAX);
				put32(o + 5, 0);
				put16(o + 9, 0);
				pos += 11;
				put16(out + 10, 1);
			}
			*outlen = pos;
			return REPLY;
		}
	}
	if (net->nfwd == 0) {              /* a network with no way out: nothing else exists */
		*outlen = begin_reply(out, m, q, RC_NXDOMAIN, 0);
		return REPLY;
	}
	return FORWARD;
}

/* ---- forwarding --------------------------------------------------------------------------- */

static void queue_tcp_reply(struct conn *c, const uint8_t *msg, size_t len)
{
	free(c->out);
	c->out = malloc(len + 2);
	c->outlen = c->outoff = 0;
	if (!c->out)
		return;
	put16(c->out, (unsigned)len);
	memcpy(c->out + 2, msg, len);
	c->outlen = len + 2;
	c->deadline = now_ms() + TCP_IDLE_MS;
}

/* Hands a reply (its ID already the client's) to whoever asked. */
static void deliver(struct pending *p, const uint8_t *msg, size_t len)
{
	if (p->conn >= 0) {
		struct conn *c = conns[p->conn];
		if (c && c->serial == p->conn_serial)
			queue_tcp_reply(c, msg, len);
		return;
	}
	struct listener *l = p->lis < nlis ? &lis[p->lis] : NULL;
	if (l && l->used && l->serial == p->lis_serial && l->udp >= 0)
		(void)!sendto(l->udp, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, &p->peer.sa, addr_len(&p->peer));
}

static void fail_pending(int i)
{
	struct pending *p = pend[i];
	put16(p->query, p->client_id);
	size_t n = begin_reply(reply_buf, p->query, &p->q, RC_SERVFAIL, 0);
	deliver(p, reply_buf, n);
	free_pending(i);
}

/* Sends the question to the next forwarder, on a fresh socket and with a fresh ID. */
static int start_try(struct pending *p)
{
	int64_t now = now_ms();
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	free(p->resp);
	p->resp = NULL;
	while (p->tries < p->max_tries && now < p->deadline) {
		const addr_t *f = &p->fwd[p->next++ % p->nfwd];
		p->tries++;
		p->our_id = random_id();
		put16(p->query, p->our_id);
		p->io = 0;
		p->fd = socket(f->sa.sa_family, (p->over_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (p->fd < 0)
			continue;
		int r = connect(p->fd, &f->sa, addr_len(f));
		if (p->over_tcp && r < 0 && errno == EINPROGRESS) {
			p->state = P_CONNECT;
		} else if (r == 0 && p->over_tcp) {
			p->state = P_WRITE;
		} else if (r == 0 && send(p->fd, p->query, p->qlen, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)p->qlen) {
			p->state = P_UDP;
		} else {
			close(p->fd);
			p->fd = -1;
			continue;
		}
		p->try_deadline = now + ATTEMPT_MS < p->deadline ? now + ATTEMPT_MS : p->deadline;
		return 0;
	}
	return -1;
}

static void next_try(int i)
{
	if (start_try(pend[i]) < 0)
		fail_pending(i);
}

static void forward(const struct network *net, const uint8_t *m, size_t len, const struct question *q, int conn,
		    int li, const addr_t *peer)
{
	int slot = -1;
	for (int i = 0; i < MAX_PENDING && slot < 0; i++)
		if (!pend[i])
			slot = i;
	struct pending *p = slot >= 0 ? calloc(1, sizeof *p) : NULL;
	uint8_t *copy = p ? malloc(len) : NULL;
	if (!p || !copy) {                 /* too busy: say so at once rather than go silent */
		free(p);
		size_t n = begin_reply(reply_buf, m, q, RC_SERVFAIL, 0);
		if (conn >= 0)
			queue_tcp_reply(conns[conn], reply_buf, n);
		else
			(void)!sendto(lis[li].udp, reply_buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, &peer->sa, addr_len(peer));
		return;
	}
	memcpy(copy, m, len);
	p->serial = ++serials;
	p->fd = -1;
	p->query = copy;
	p->qlen = len;
	p->client_id = get16(m);
	p->q = *q;
	p->over_tcp = conn >= 0;
	p->conn = conn;
	if (conn >= 0) {
		p->conn_serial = conns[conn]->serial;
		conns[conn]->pending = slot;
	} else {
		p->lis = li;
		p->lis_serial = lis[li].serial;
		p->peer = *peer;
	}
	/* a client with upstreams of its own (--dns) asks those */
	addr_t who;
	const addr_t *client = peer;
	if (conn >= 0) {
		socklen_t wl = sizeof who;
		memset(&who, 0, sizeof who);
		client = getpeername(conns[conn]->fd, &who.sa, &wl) == 0 ? &who : NULL;
	}
	p->nfwd = 0;
	for (int i = 0; client && i < net->nsfwd && p->nfwd < MAX_FORWARDERS; i++)
		if (same_host(&net->sfwd[i].client, client))
			p->fwd[p->nfwd++] = net->sfwd[i].fwd;
	if (p->nfwd == 0) {
		memcpy(p->fwd, net->fwd, sizeof p->fwd);
		p->nfwd = net->nfwd;
	}
	p->max_tries = p->nfwd < 3 ? 3 : p->nfwd;
	p->deadline = now_ms() + FORWARD_MS;
	pend[slot] = p;
	next_try(slot);
}

/* A reply from upstream: relayed only if it is the answer to what we asked. */
static int take_reply(int i, uint8_t *m, size_t len)
{
	struct pending *p = pend[i];
	struct question rq;
	if (len < 12 || !(m[2] & 0x80) || get16(m) != p->our_id || parse_question(m, len, &rq) < 0 ||
	    rq.type != p->q.type || rq.cls != p->q.cls || !wire_equal(rq.name, rq.nlen, p->q.name, p->q.nlen))
		return -1;
	int rcode = m[3] & 15;
	if ((rcode == RC_SERVFAIL || rcode == RC_REFUSED) && p->tries < p->nfwd) {
		next_try(i);               /* another forwarder may do better */
		return 0;
	}
	put16(m, p->client_id);
	deliver(p, m, len);
	free_pending(i);
	return 0;
}

static void on_pending(int i)
{
	struct pending *p = pend[i];
	if (p->state == P_UDP) {
		for (int k = 0; k < 16 && pend[i] == p; k++) {
			ssize_t n = recv(p->fd, msg_buf, sizeof msg_buf, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n < 0) {       /* ICMP unreachable and the like */
				next_try(i);
				return;
			}
			take_reply(i, msg_buf, (size_t)n);
		}
		return;
	}
	if (p->state == P_CONNECT) {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			next_try(i);
			return;
		}
		p->state = P_WRITE;
	}
	if (p->state == P_WRITE) {
		uint8_t lb[2];
		put16(lb, (unsigned)p->qlen);
		struct iovec v[2] = { { lb + (p->io < 2 ? p->io : 2), p->io < 2 ? 2 - p->io : 0 },
				      { p->query + (p->io > 2 ? p->io - 2 : 0), p->qlen - (p->io > 2 ? p->io - 2 : 0) } };
		ssize_t n = writev(p->fd, v, 2);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			next_try(i);
			return;
		}
		p->io += (size_t)n;
		if (p->io == p->qlen + 2) {
			p->state = P_READ;
			p->io = 0;
		}
		return;
	}
	if (p->state == P_READ) {
		ssize_t n;
		if (p->io < 2)
			n = read(p->fd, p->lenbuf + p->io, 2 - p->io);
		else
			n = read(p->fd, p->resp + p->io - 2, p->resp_len - (p->io - 2));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			next_try(i);
			return;
		}
		p->io += (size_t)n;
		if (p->io == 2) {
			p->resp_len = get16(p->lenbuf);
			if (p->resp_len < 12 || !(p->resp = malloc(p->resp_len))) {
				next_try(i);
				return;
			}
		}
		if (p->io > 2 && p->io == p->resp_len + 2 && take_reply(i, p->resp, p->resp_len) < 0)
			next_try(i);       /* not our answer: this stream is no good */
	}
}

/* ---- clients ------------------------------------------------------------------------------ */

static const struct network *network_of(int li)
{
	int n = lis[li].net;
	return n >= 0 && n < cfg.nnets ? &cfg.nets[n] : NULL;
}

static void on_udp(int li)
{
	for (int k = 0; k < 64 && lis[li].used && lis[li].udp >= 0; k++) {
		addr_t peer;
		socklen_t pl = sizeof peer;
		ssize_t n = recvfrom(lis[li].udp, msg_buf, UDP_QUERY_MAX, MSG_DONTWAIT | MSG_TRUNC, &peer.sa, &pl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (n > UDP_QUERY_MAX || (peer.sa.sa_family != AF_INET && peer.sa.sa_family != AF_INET6))
			continue;
		struct question q;
		size_t outlen = 0;
		const struct network *net = network_of(li);
		int what = answer(net, &peer, msg_buf, (size_t)n, 0, reply_buf, &outlen, &q);
		if (what == REPLY)
			(void)!sendto(lis[li].udp, reply_buf, outlen, MSG_DONTWAIT | MSG_NOSIGNAL, &peer.sa, pl);
		else if (what == FORWARD)
			forward(net, msg_buf, (size_t)n, &q, -1, li, &peer);
	}
}

static void on_accept(int li)
{
	for (int k = 0; k < 16; k++) {
		int fd = accept4(lis[li].tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int slot = -1;
		for (int i = 0; i < MAX_CONNS && slot < 0; i++)
			if (!conns[i])
				slot = i;
		struct conn *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
		if (!c) {                  /* full: the client may come back */
			close(fd);
			continue;
		}
		c->serial = ++serials;
		c->fd = fd;
		c->lis = li;
		c->lis_serial = lis[li].serial;
		c->deadline = now_ms() + TCP_IDLE_MS;
		c->pending = -1;
		conns[slot] = c;
	}
}

static void on_tcp_message(int ci)
{
	struct conn *c = conns[ci];
	struct question q;
	size_t outlen = 0;
	const struct network *net = network_of(c->lis);
	addr_t peer;
	socklen_t pl = sizeof peer;
	memset(&peer, 0, sizeof peer);
	if (getpeername(c->fd, &peer.sa, &pl) < 0)
		peer.sa.sa_family = AF_UNSPEC;
	int what = answer(net, &peer, c->in, c->inlen, 1, reply_buf, &outlen, &q);
	if (what == DROP) {
		close_conn(ci);
		return;
	}
	if (what == REPLY)
		queue_tcp_reply(c, reply_buf, outlen);
	else
		forward(net, c->in, c->inlen, &q, ci, c->lis, NULL);
	if (conns[ci]) {
		free(c->in);
		c->in = NULL;
		c->got = 0;
	}
}

static void on_conn(int ci, short revents)
{
	struct conn *c = conns[ci];
	if (c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			close_conn(ci);
			return;
		}
		c->outoff += (size_t)n;
		if (c->outoff == c->outlen) {
			free(c->out);
			c->out = NULL;
			c->outlen = c->outoff = 0;
			c->deadline = now_ms() + TCP_IDLE_MS;
		}
		return;
	}
	if (c->pending >= 0) {             /* waiting for upstream: only a hang-up matters */
		if (revents & (POLLHUP | POLLERR))
			close_conn(ci);
		return;
	}
	ssize_t n;
	if (c->got < 2)
		n = read(c->fd, c->lenbuf + c->got, 2 - c->got);
	else
		n = read(c->fd, c->in + c->got - 2, c->inlen - (c->got - 2));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(ci);
		return;
	}
	c->got += (size_t)n;
	c->deadline = now_ms() + TCP_IDLE_MS;
	if (c->got == 2) {
		c->inlen = get16(c->lenbuf);
		if (c->inlen < 12 || !(c->in = malloc(c->inlen))) {
			close_conn(ci);
			return;
		}
	}
	if (c->got > 2 && c->got == c->inlen + 2)
		on_tcp_message(ci);
}

/* ---- single instance, reloads ------------------------------------------------------------- */

static int same_file(int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dir_fd, ".pid", &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * Takes the lock on <dir>/.pid and writes our pid in it. Returns the locked fd, or -1 if
 * another instance holds it. The file may be unlinked by an instance that is leaving, so a lock
 * counts only on the file that is still at that path.
 */
static int take_lock(void)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = openat(dir_fd, ".pid", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			say("cannot open .pid: %s", strerror(errno));
			exit(1);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			int held = e == EWOULDBLOCK && same_file(fd);
			close(fd);
			if (held)
				return -1;
			if (e != EWOULDBLOCK) {
				say("cannot lock .pid: %s", strerror(e));
				exit(1);
			}
			continue;
		}
		if (!same_file(fd)) {
			close(fd);
			continue;
		}
		char s[24];
		int n = snprintf(s, sizeof s, "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, s, (size_t)n, 0) != n)
			say("cannot write .pid: %s", strerror(errno));
		return fd;
	}
	say("cannot take the lock on .pid: it keeps changing");
	exit(1);
}

static int lock_fd = -1;

/*
 * Re-reads <dir>. With no network left, gives up the pidfile and sockets and exits; unless
 * networks came back meanwhile and no other instance took over, in which case it goes on.
 */
static void reload(void)
{
	for (;;) {
		struct config c;
		int count = load_config(&c);
		if (count > 0 || count < 0) {
			if (count > 0)
				apply_config(&c);
			return;
		}
		/* An engine that adds a network after the unlink finds no live server and starts one. */
		close_everything();
		unlinkat(dir_fd, ".pid", 0);
		if (list_networks(NULL) <= 0)
			exit(0);
		int fd = take_lock();
		if (fd < 0)
			exit(0);
		close(lock_fd);
		lock_fd = fd;
	}
}

/* ---- main --------------------------------------------------------------------------------- */

static struct pollfd pfd[MAX_POLL];
static struct { int kind, idx; unsigned serial; } polled[MAX_POLL];
enum { K_SIG, K_UDP, K_TCP, K_CONN, K_PEND };

static int add_poll(int n, int fd, short events, int kind, int idx, unsigned serial)
{
	if (n == MAX_POLL)
		return n;
	pfd[n].fd = fd;
	pfd[n].events = events;
	pfd[n].revents = 0;
	polled[n].kind = kind;
	polled[n].idx = idx;
	polled[n].serial = serial;
	return n + 1;
}

static void usage(void)
{
	say("usage: hull-dns [--port N] <dir>");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end;
			unsigned long p = strtoul(argv[++i], &end, 10);
			if (*end || p == 0 || p > 65535 || argv[i][0] < '0' || argv[i][0] > '9')
				usage();
			opt_port = (uint16_t)p;
		} else if (argv[i][0] == '-' || dir) {
			usage();
		} else {
			dir = argv[i];
		}
	}
	if (!dir)
		usage();

	/* A long-lived process must not hold its starter's descriptors (a pipe someone waits on). */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);

	/* The SIGHUP an engine sends once it sees our lock must not be lost: block it first. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		say("signalfd: %s", strerror(errno));
		return 1;
	}
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		say("%s: %s", dir, strerror(errno));
		return 1;
	}
	if (chdir("/") < 0) {             /* hold no directory of whoever started us */
		say("chdir /: %s", strerror(errno));
		return 1;
	}
	lock_fd = take_lock();
	if (lock_fd < 0)
		return 0;                  /* another instance serves <dir> */
	reload();
	int64_t next_dir_check = now_ms() + CHECK_DIR_MS;

	for (;;) {
		int64_t now = now_ms(), wake = next_dir_check;
		int n = add_poll(0, sig_fd, POLLIN, K_SIG, 0, 0);
		int unbound = 0;
		for (int i = 0; i < nlis; i++) {
			if (!lis[i].used)
				continue;
			if (lis[i].udp >= 0)
				n = add_poll(n, lis[i].udp, POLLIN, K_UDP, i, lis[i].serial);
			if (lis[i].tcp >= 0)
				n = add_poll(n, lis[i].tcp, POLLIN, K_TCP, i, lis[i].serial);
			unbound |= lis[i].udp < 0 || lis[i].tcp < 0;
		}
		if (unbound) {
			if (!next_bind_retry)
				next_bind_retry = now + RETRY_BIND_MS;
			if (next_bind_retry < wake)
				wake = next_bind_retry;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = conns[i];
			if (!c)
				continue;
			short ev = c->outlen ? POLLOUT : c->pending >= 0 ? 0 : POLLIN;
			n = add_poll(n, c->fd, ev, K_CONN, i, c->serial);
			if (c->pending < 0 && c->deadline < wake)
				wake = c->deadline;
		}
		for (int i = 0; i < MAX_PENDING; i++) {
			struct pending *p = pend[i];
			if (!p)
				continue;
			short ev = p->state == P_CONNECT || p->state == P_WRITE ? POLLOUT : POLLIN;
			n = add_poll(n, p->fd, ev, K_PEND, i, p->serial);
			if (p->try_deadline < wake)
				wake = p->try_deadline;
		}
		int timeout = wake > now ? (int)(wake - now) : 0;
		int r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR) {
			say("poll: %s", strerror(errno));
			return 1;
		}
		int hup = 0;
		for (int k = 0; k < n && r > 0; k++) {
			short rev = pfd[k].revents;
			if (!rev)
				continue;
			int i = polled[k].idx;
			switch (polled[k].kind) {
			case K_SIG: {
				struct signalfd_siginfo si;
				while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
					if (si.ssi_signo == SIGHUP) {
						hup = 1;
					} else {
						close_everything();
						unlinkat(dir_fd, ".pid", 0);
						return 0;
					}
				}
				break;
			}
			case K_UDP:
				if (lis[i].used && lis[i].serial == polled[k].serial)
					on_udp(i);
				break;
			case K_TCP:
				if (lis[i].used && lis[i].serial == polled[k].serial && lis[i].tcp >= 0)
					on_accept(i);
				break;
			case K_CONN:
				if (conns[i] && conns[i]->serial == polled[k].serial)
					on_conn(i, rev);
				break;
			case K_PEND:
				if (pend[i] && pend[i]->serial == polled[k].serial)
					on_pending(i);
				break;
			}
		}
		now = now_ms();
		for (int i = 0; i < MAX_PENDING; i++)
			if (pend[i] && pend[i]->try_deadline <= now)
				next_try(i);
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i] && conns[i]->pending < 0 && conns[i]->deadline <= now)
				close_conn(i);
		if (next_bind_retry && next_bind_retry <= now) {
			next_bind_retry = 0;
			for (int i = 0; i < nlis; i++)
				if (lis[i].used && (lis[i].udp < 0 || lis[i].tcp < 0))
					bind_listener(&lis[i]);
		}
		if (now >= next_dir_check) {
			struct stat st;
			next_dir_check = now + CHECK_DIR_MS;
			if (fstat(dir_fd, &st) == 0 && (st.st_nlink == 0 || list_networks(NULL) == 0))
				hup = 1;   /* reload() finds nothing, and goes */
		}
		if (hup)
			reload();
	}
}
