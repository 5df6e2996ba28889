/*
 * hardening.h - helpers of the hardening tests (test_hardening*.c), beside
 * the harness: raw sockets from a chosen loopback address, and a second
 * server on the shared app with other settings. Header-only: each test
 * binary links the harness alone.
 */
#ifndef TH_HARDENING_H
#define TH_HARDENING_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/app.h"
#include "core/config.h"
#include "http/server.h"
#include "harness.h"

/* A TCP connection from local address `from` (127.0.0.x) to 127.0.0.1:port. */
__attribute__((unused)) static int dial(const char *from, unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in me = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, from, &me.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

__attribute__((unused)) static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return; /* the server may have closed it: the caller checks that */
		s += k;
		n -= (size_t)k;
	}
}

/* Whether the server has closed fd (or reset it) by now, waiting up to ms. */
__attribute__((unused)) static bool closed_by_server(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[4096];
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n <= 0)
			return false;
		ssize_t k = recv(fd, buf, sizeof(buf), 0);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return true;
		if (k < 0)
			return false;
		ms = 50; /* it answered something; is it closed after that? */
	}
}

/* Everything the server sends on fd until it closes (or ms pass); malloc'd. */
__attribute__((unused)) static char *read_all(int fd, int ms, bool *closed)
{
	size_t cap = 65536, len = 0;
	char *out = malloc(cap + 1);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	*closed = false;
	while (len < cap && poll(&p, 1, ms) > 0) {
		ssize_t k = recv(fd, out + len, cap - len, 0);
		if (k <= 0) {
			*closed = k == 0 || errno == ECONNRESET;
			break;
		}
		len += (size_t)k;
	}
	out[len] = '\0';
	return out;
}

__attribute__((unused)) static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One request on a new connection from `from`; the whole reply (malloc'd). */
__attribute__((unused)) static char *ask(const char *from, unsigned port, const char *request)
{
	int fd = dial(from, port);
	bool closed;
	send_all(fd, request);
	char *reply = read_all(fd, 3000, &closed);
	close(fd);
	return reply;
}

static struct dg_config saved;

/* Start another server on the shared app after tweak changed its configuration. */
__attribute__((unused)) static struct dg_server *listen_with(void (*tweak)(struct dg_config *c))
{
	struct dg_app *app = th_app(th_shared);
	struct dg_server *srv = NULL;
	struct dg_err err = {0};
	char upload[600];
	saved = app->cfg;
	tweak(&app->cfg);
	app->cfg.port = 0;
	snprintf(upload, sizeof(upload), "%s/tmp", app->cfg.data_dir);
	if (dg_app_listen(app, upload, &srv, &err))
		fail_msg("cannot start a second server: %s", err.msg);
	return srv;
}

__attribute__((unused)) static void stop_and_restore(struct dg_server *srv)
{
	dg_server_stop(srv, 0);
	th_app(th_shared)->cfg = saved;
}

#endif
