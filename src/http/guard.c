/*
 * guard.c - per-address connection caps, a reserve, and deadlines for
 * slow headers and bodies (guard.h says what and why).
 *
 * One mutex guards a doubly linked list of the open connections. Counting
 * one address's connections walks the list: it holds at most max_conn
 * entries, and a walk of a thousand is cheaper than keeping a second index
 * right. The watch thread wakes four times a second, walks the list and
 * shuts down the connections past their deadline; libmicrohttpd calls
 * dg_guard_notify(CLOSED) before it closes a socket, and the entry leaves
 * the list under the same mutex, so the watch thread never touches a
 * descriptor that has been closed (and perhaps reused).
 */
#include "http/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"

#define WATCH_MS 250

enum phase {
	WAIT_HEADERS, /* since: the connection opened or the last request ended */
	BODY,         /* since: the headers were complete */
	BUSY,         /* the handler and the reply: no deadline here */
	CUT,          /* shut down by the guard, waiting for libmicrohttpd to close it */
};

struct gconn {
	struct gconn *prev, *next;
	int fd;
	enum phase phase;
	int64_t since_ms;
	uint64_t body; /* bytes of the current body */
	char addr[DG_ADDR_TEXT];
};

struct dg_guard {
	struct dg_guard_opts o;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
	struct gconn *head;
	unsigned long open, refused_addr, refused_reserve, slow_headers, slow_body;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The address as canonical text; IPv4 written as IPv6 becomes IPv4. "" when not IP. */
static void addr_text(const struct sockaddr *sa, char out[DG_ADDR_TEXT])
{
	out[0] = '\0';
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, out, DG_ADDR_TEXT);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, DG_ADDR_TEXT);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, out, DG_ADDR_TEXT);
	}
}

/* Connections open from addr; called with the mutex held. */
static unsigned count_from(const struct dg_guard *g, const char *addr)
{
	unsigned n = 0;
	for (const struct gconn *e = g->head; e; e = e->next)
		n += strcmp(e->addr, addr) == 0;
	return n;
}

enum MHD_Result dg_guard_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct dg_guard *g = cls;
	char addr[DG_ADDR_TEXT];
	(void)len;
	addr_text(sa, addr);
	if (g->o.trusted && dg_proxies_trusted(g->o.trusted, addr))
		return MHD_YES;
	dg_addr_key(addr, addr);
	enum MHD_Result ok = MHD_YES;
	pthread_mutex_lock(&g->mu);
	unsigned mine = count_from(g, addr);
	if (g->o.per_addr && mine >= g->o.per_addr) {
		g->refused_addr++;
		ok = MHD_NO;
	} else if (mine > 0 && g->open + g->o.reserve >= g->o.max_conn) {
		g->refused_reserve++;
		ok = MHD_NO;
	}
	pthread_mutex_unlock(&g->mu);
	return ok;
}

static void conn_started(struct dg_guard *g, struct MHD_Connection *c, void **ctx)
{
	struct gconn *e = dg_xcalloc(1, sizeof(*e));
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	addr_text(ci ? ci->client_addr : NULL, e->addr);
	dg_addr_key(e->addr, e->addr);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	e->fd = ci ? ci->connect_fd : -1;
	e->phase = WAIT_HEADERS;
	e->since_ms = now_ms();
	pthread_mutex_lock(&g->mu);
	e->next = g->head;
	if (g->head)
		g->head->prev = e;
	g->head = e;
	g->open++;
	pthread_mutex_unlock(&g->mu);
	*ctx = e;
}

static void conn_closed(struct dg_guard *g, void **ctx)
{
	struct gconn *e = *ctx;
	if (!e)
		return;
	pthread_mutex_lock(&g->mu);
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	g->open--;
	pthread_mutex_unlock(&g->mu);
	free(e);
	*ctx = NULL;
}

void dg_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conn_started(cls, c, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		conn_closed(cls, socket_context);
}

static struct gconn *entry_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	return ci ? ci->socket_context : NULL;
}

/* Move c's entry to phase (unless the guard has cut it), restarting its clock. */
static void set_phase(struct dg_guard *g, struct MHD_Connection *c, enum phase p)
{
	struct gconn *e = entry_of(c);
	if (!g || !e)
		return;
	pthread_mutex_lock(&g->mu);
	if (e->phase != CUT) {
		e->phase = p;
		e->since_ms = now_ms();
		e->body = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

void dg_guard_headers_done(struct dg_guard *g, struct MHD_Connection *c)
{
	set_phase(g, c, BODY);
}

void dg_guard_body(struct dg_guard *g, struct MHD_Connection *c, size_t n)
{
	struct gconn *e = entry_of(c);
	if (!g || !e)
		return;
	pthread_mutex_lock(&g->mu);
	e->body += n;
	pthread_mutex_unlock(&g->mu);
}

void dg_guard_body_done(struct dg_guard *g, struct MHD_Connection *c)
{
	set_phase(g, c, BUSY);
}

void dg_guard_request_done(struct dg_guard *g, struct MHD_Connection *c)
{
	set_phase(g, c, WAIT_HEADERS);
}

/* Whether e is past its deadline at now; which kind in *body. Mutex held. */
static bool overdue(const struct dg_guard *g, const struct gconn *e, int64_t now, bool *body)
{
	int64_t grace = (int64_t)g->o.header_timeout * 1000, age = now - e->since_ms;
	*body = e->phase == BODY;
	if (e->phase == WAIT_HEADERS)
		return age > grace;
	if (e->phase != BODY || !g->o.min_body_rate || age <= grace)
		return false;
	return e->body * 1000 < (uint64_t)age * g->o.min_body_rate;
}

static void *watch(void *arg)
{
	struct dg_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCH_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->mu, &until);
		if (g->stopping)
			break;
		int64_t now = now_ms();
		unsigned cut = 0;
		const char *first = NULL;
		for (struct gconn *e = g->head; e; e = e->next) {
			bool body = false;
			if (e->phase == CUT || e->fd < 0 || !overdue(g, e, now, &body))
				continue;
			/* the descriptor is open: its CLOSED notice needs this mutex */
			shutdown(e->fd, SHUT_RDWR);
			e->phase = CUT;
			if (body)
				g->slow_body++;
			else
				g->slow_headers++;
			if (!cut++)
				first = e->addr;
		}
		if (cut)
			dg_warn("http: closed %u connection(s) too slow to send their request "
				"(%s%s)",
				cut, first, cut > 1 ? " and others" : "");
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

dg_rc dg_guard_new(const struct dg_guard_opts *o, struct dg_guard **out)
{
	struct dg_guard *g = dg_xcalloc(1, sizeof(*g));
	g->o = *o;
	if (!g->o.header_timeout)
		g->o.header_timeout = 10;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (pthread_create(&g->thread, NULL, watch, g) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return DG_EIO;
	}
	g->running = true;
	*out = g;
	return DG_OK;
}

void dg_guard_stop(struct dg_guard *g)
{
	if (!g || !g->running)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	g->running = false;
}

void dg_guard_free(struct dg_guard *g)
{
	if (!g)
		return;
	dg_guard_stop(g);
	/* libmicrohttpd has closed every connection; anything left is freed */
	for (struct gconn *e = g->head, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void dg_guard_stats(struct dg_guard *g, struct dg_guard_stats *out)
{
	pthread_mutex_lock(&g->mu);
	*out = (struct dg_guard_stats){g->open, g->refused_addr, g->refused_reserve,
				       g->slow_headers, g->slow_body};
	pthread_mutex_unlock(&g->mu);
}
