/*
 * test_hardening.c - the HTTP server under a careless or hostile client,
 * over real sockets:
 *
 *   - one address cannot hold every connection: past its cap new ones are
 *     closed at once, another address still gets answers, and headers or
 *     bodies that trickle in are cut off at their deadline;
 *   - a request whose length is ambiguous (two different Content-Lengths,
 *     or one beside Transfer-Encoding) gets 400 and its connection is
 *     closed, so a request smuggled after a short body never runs;
 *   - every absolute link comes from the site URL, never from the Host
 *     header; an https site sends Secure cookies and HSTS; X-Forwarded-Proto
 *     is believed only from a trusted proxy.
 *
 * Servers with other settings are started on the shared app (its
 * configuration changed, then put back) with hardening.h's listen_with().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "core/config.h"
#include "http/server.h"
#include "node/demo.h"
#include "harness.h"
#include "hardening.h"

/* ---- one client cannot hold every connection ---- */

static void tight_limits(struct dg_config *c)
{
	c->conn_per_addr = 4;
	c->conn_reserve = 0;
	c->header_timeout = 2;
	c->min_body_rate = 1000;
}

static void connection_caps_and_deadlines(void **state)
{
	(void)state;
	struct dg_server *srv = listen_with(tight_limits);
	unsigned port = dg_server_port(srv);
	enum { N = 10 };
	int fds[N];
	/* a client opens ten connections and sends a little of its headers on each */
	for (int i = 0; i < N; i++) {
		fds[i] = dial("127.0.0.1", port);
		send_all(fds[i], "GET / HTTP/1.1\r\nHost: x\r\n");
		usleep(30000);
	}
	int refused = 0;
	for (int i = 0; i < N; i++)
		refused += closed_by_server(fds[i], 200);
	assert_int_equal(refused, N - 4);
	/* someone else is answered at once */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *reply = ask("127.0.0.2", port,
			  "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	free(reply);
	/* the four it holds are cut off once the header deadline passes, trickling or not */
	int trickle = -1;
	for (int i = 0; i < N; i++)
		if (trickle < 0 && !closed_by_server(fds[i], 0))
			trickle = i;
	assert_true(trickle >= 0);
	int cut = 0;
	for (int tick = 0; tick < 16; tick++) { /* a byte every 250 ms, for 4 s */
		send_all(fds[trickle], "X");
		usleep(250000);
	}
	for (int i = 0; i < N; i++) {
		cut += closed_by_server(fds[i], 100);
		close(fds[i]);
	}
	assert_int_equal(cut, N);
	/* a body that trickles is cut off too */
	int fd = dial("127.0.0.1", port);
	send_all(fd, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		     "application/x-www-form-urlencoded\r\n"
		     "Content-Length: 100000\r\n\r\nusername=");
	bool gone = false;
	for (int tick = 0; tick < 20 && !gone; tick++) {
		send_all(fd, "aaaaaaaaaa");
		gone = closed_by_server(fd, 250);
	}
	close(fd);
	assert_true(gone);
	struct dg_guard_stats st;
	dg_server_guard_stats(srv, &st);
	assert_true(st.refused_addr >= N - 4);
	assert_true(st.slow_headers >= 4);
	assert_true(st.slow_body >= 1);
	/* and the address is welcome again with a request sent at once */
	reply = ask("127.0.0.1", port,
		    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	free(reply);
	stop_and_restore(srv);
}

static void reserve_limits(struct dg_config *c)
{
	c->threads = 1; /* libmicrohttpd splits max_conn between its threads */
	c->max_conn = 16;
	c->conn_per_addr = 0; /* no cap per address: only the reserve stands in the way */
	c->conn_reserve = 6;
	c->header_timeout = 30;
}

static void reserve_for_newcomers(void **state)
{
	(void)state;
	struct dg_server *srv = listen_with(reserve_limits);
	unsigned port = dg_server_port(srv);
	enum { N = 14 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = dial("127.0.0.1", port);
		send_all(fds[i], "GET / HTTP/1.1\r\n");
		usleep(30000);
	}
	int refused = 0;
	for (int i = 0; i < N; i++)
		refused += closed_by_server(fds[i], 200);
	/* 16 - 6: the tenth and later found only the reserve, which is not theirs */
	assert_int_equal(refused, N - 10);
	char *reply = ask("127.0.0.3", port,
			  "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	free(reply);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	stop_and_restore(srv);
}

/* ---- a request whose length is ambiguous ---- */

static void ambiguous_length_refused_and_closed(void **state)
{
	(void)state;
	unsigned port = th_port(th_shared);
	static const char *const smuggle[] = {
		/* two lengths: the short one would leave the GET to run as a second request */
		"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/x-www-form-urlencoded\r\n"
		"Content-Length: 5\r\nContent-Length: 43\r\n\r\n"
		"abcdeGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/x-www-form-urlencoded\r\n"
		"Content-Length: 43\r\nContent-Length: 5\r\n\r\n"
		"abcdeGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		/* a length beside chunked encoding */
		"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/x-www-form-urlencoded\r\n"
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
		int fd = dial("127.0.0.1", port);
		bool closed = false;
		send_all(fd, smuggle[i]);
		char *reply = read_all(fd, 3000, &closed);
		close(fd);
		if (strncmp(reply, "HTTP/1.1 400", 12) != 0 || count_of(reply, "HTTP/1.1 ") != 1 ||
		    !closed)
			fail_msg("case %zu: closed=%d, reply: %.300s", i, closed, reply);
		free(reply);
	}
	/* the same length twice is only redundant: it is served */
	char *reply =
		ask("127.0.0.1", port,
		    "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\n"
		    "Content-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde");
	assert_null(strstr(reply, "HTTP/1.1 400"));
	free(reply);
}

/* ---- links from the site URL; TLS behind a proxy ---- */

static char *first_cert(void)
{
	struct dg_db *db = NULL;
	char *id = NULL;
	struct dg_arena *a = dg_arena_new();
	char *v = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_text(db, "SELECT id FROM certificates ORDER BY id LIMIT 1",
					  DG_NOARGS, a, &v),
			 DG_OK);
	id = strdup(v);
	dg_db_put(db);
	dg_arena_free(a);
	return id;
}

/* The certificate's links as a visitor sending `Host: evil.example` sees them, through server port.
 */
static void check_links(unsigned port, const char *id, const char *site)
{
	char req[512], want[512];
	snprintf(want, sizeof(want), "%s/certificates/%s", site, id);
	snprintf(req, sizeof(req),
		 "GET /api/v1/certificates/%s HTTP/1.1\r\nHost: evil.example\r\nConnection: "
		 "close\r\n\r\n",
		 id);
	char *reply = ask("127.0.0.1", port, req);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_null(strstr(reply, "evil.example"));
	assert_non_null(strstr(reply, want));
	free(reply);
	snprintf(req, sizeof(req),
		 "GET /certificates/%s HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
		 id);
	reply = ask("127.0.0.1", port, req);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_null(strstr(reply, "evil.example"));
	assert_non_null(strstr(reply, want));
	free(reply);
	reply = ask("127.0.0.1", port,
		    "GET /services/990100-MZ-007/print HTTP/1.1\r\nHost: "
		    "evil.example\r\nConnection: close\r\n\r\n");
	snprintf(want, sizeof(want), "%s/services/990100-MZ-007", site);
	assert_null(strstr(reply, "evil.example"));
	assert_non_null(strstr(reply, want));
	free(reply);
}

static void links_never_from_host(void **state)
{
	(void)state;
	char *id = first_cert();
	char site[64];
	/* no --site-url: the listen address */
	snprintf(site, sizeof(site), "http://127.0.0.1:%u", th_port(th_shared));
	check_links(th_port(th_shared), id, site);
	free(id);
}

static void https_site(struct dg_config *c)
{
	struct dg_err err = {0};
	const char *argv[] = {"--site-url", "https://portal.example.gov/", "--trusted-proxy",
			      "127.0.0.1"};
	assert_int_equal(dg_config_from_args(c, 4, (char **)argv, &err), DG_OK);
}

static void https_site_behind_proxy(void **state)
{
	(void)state;
	struct dg_server *srv = listen_with(https_site);
	unsigned port = dg_server_port(srv);
	char *id = first_cert();
	check_links(port, id, "https://portal.example.gov");
	free(id);
	/* cookies are Secure and HSTS is sent */
	char *reply = ask(
		"127.0.0.1", port,
		"GET /login HTTP/1.1\r\nHost: portal.example.gov\r\nX-Forwarded-Proto: https\r\n"
		"Connection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_non_null(strstr(reply, "Strict-Transport-Security: max-age="));
	const char *cookie = strstr(reply, "Set-Cookie: dg_csrf=");
	assert_non_null(cookie);
	assert_true(strstr(cookie, "; Secure") &&
		    strstr(cookie, "; Secure") < strchr(cookie, '\n'));
	free(reply);
	/* plain http said by the trusted proxy: sent to the https site, path and query kept */
	reply = ask("127.0.0.1", port,
		    "GET /services?q=%E5%8C%BB HTTP/1.1\r\nHost: "
		    "evil.example\r\nX-Forwarded-Proto: http\r\n"
		    "Connection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 308"));
	assert_non_null(
		strstr(reply, "Location: https://portal.example.gov/services?q=%E5%8C%BB\r\n"));
	free(reply);
	/* the same header from anyone else is not believed */
	reply = ask("127.0.0.2", port,
		    "GET /help HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: http\r\nConnection: "
		    "close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	free(reply);
	stop_and_restore(srv);
	/* the node's own server, no site URL: no HSTS, cookies not Secure */
	reply = ask("127.0.0.1", th_port(th_shared),
		    "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_null(strstr(reply, "Strict-Transport-Security"));
	assert_null(strstr(reply, "; Secure"));
	free(reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connection_caps_and_deadlines),
		cmocka_unit_test(reserve_for_newcomers),
		cmocka_unit_test(ambiguous_length_refused_and_closed),
		cmocka_unit_test(links_never_from_host),
		cmocka_unit_test(https_site_behind_proxy),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
