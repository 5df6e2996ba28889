/*
 * test_proxy.c - the trusted-proxy list and the X-Forwarded-For walk
 * (core/proxy.h): addresses and networks of both families, refusal of bad
 * entries with a message, the right-most untrusted hop as the client, a
 * peer that is not trusted never believed, spoofed left-hand entries
 * ignored, ports and brackets, IPv4 written as IPv6, garbage and long
 * headers falling back to the peer, and the --trusted-proxy setting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/proxy.h"

static struct dg_proxies list(const char *s)
{
	struct dg_proxies p;
	struct dg_err err = {0};
	assert_int_equal(dg_proxies_parse(s, &p, &err), DG_OK);
	return p;
}

static void parse_lists(void **state)
{
	(void)state;
	struct dg_proxies p = list("127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,192.168.1.0/24,,");
	assert_int_equal(p.n, 5);
	assert_true(dg_proxies_trusted(&p, "127.0.0.1"));
	assert_false(dg_proxies_trusted(&p, "127.0.0.2"));
	assert_true(dg_proxies_trusted(&p, "10.200.3.4"));
	assert_false(dg_proxies_trusted(&p, "11.0.0.1"));
	assert_true(dg_proxies_trusted(&p, "192.168.1.77"));
	assert_false(dg_proxies_trusted(&p, "192.168.2.1"));
	assert_true(dg_proxies_trusted(&p, "::1"));
	assert_true(dg_proxies_trusted(&p, "0:0:0:0:0:0:0:1"));
	assert_true(dg_proxies_trusted(&p, "fd12:3456::9"));
	assert_false(dg_proxies_trusted(&p, "fe80::1"));
	/* IPv4 written as IPv6 is the IPv4 address */
	assert_true(dg_proxies_trusted(&p, "::ffff:10.1.1.1"));
	assert_false(dg_proxies_trusted(&p, "not an address"));
	assert_false(dg_proxies_trusted(&p, NULL));
	assert_false(dg_proxies_trusted(&p, ""));
	p = list("0.0.0.0/0");
	assert_true(dg_proxies_trusted(&p, "8.8.8.8"));
	assert_false(dg_proxies_trusted(&p, "2001:db8::1"));
	p = list("::ffff:10.0.0.0/104");
	assert_true(dg_proxies_trusted(&p, "10.9.9.9"));
	assert_false(dg_proxies_trusted(&p, "11.9.9.9"));
	p = list(NULL);
	assert_int_equal(p.n, 0);
	p = list("");
	assert_int_equal(p.n, 0);
	assert_false(dg_proxies_trusted(&p, "127.0.0.1"));
}

static void parse_refusals(void **state)
{
	(void)state;
	const char *bad[] = {"localhost",  "10.0.0.0/33", "10.0.0.0/-1",    "10.0.0.0/",
			     "10.0.0.1/8", "1.2.3",       "1.2.3.4.5",      "::1/129",
			     "fd00::1/8",  "10.0.0.0/8x", "127.0.0.1,nope", "[::1]",
			     "1.2.3.4:80", "256.1.1.1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dg_proxies p;
		struct dg_err err = {0};
		assert_int_equal(dg_proxies_parse(bad[i], &p, &err), DG_EINVAL);
		assert_int_equal(p.n, 0);
		assert_non_null(strstr(err.msg, "trusted proxy"));
	}
	/* too many */
	char many[40 * 12] = "";
	for (int i = 0; i < DG_PROXY_MAX + 1; i++) {
		size_t len = strlen(many);
		snprintf(many + len, sizeof many - len, "10.0.0.%d,", i);
	}
	struct dg_proxies p;
	struct dg_err err = {0};
	assert_int_equal(dg_proxies_parse(many, &p, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "at most"));
	assert_int_equal(dg_proxies_parse("x", &p, NULL), DG_EINVAL);
}

static const char *client(const struct dg_proxies *p, const char *peer, const char *xff)
{
	static char out[DG_ADDR_TEXT];
	return dg_proxies_client(p, peer, xff, out);
}

static void forwarded_for(void **state)
{
	(void)state;
	struct dg_proxies p = list("127.0.0.1,10.0.0.0/8,::1");
	/* a trusted peer: the right-most untrusted hop */
	assert_string_equal(client(&p, "127.0.0.1", "203.0.113.7"), "203.0.113.7");
	assert_string_equal(client(&p, "127.0.0.1", " 203.0.113.7 , 10.1.2.3"), "203.0.113.7");
	/* a spoofed entry on the left does not move the client */
	assert_string_equal(client(&p, "127.0.0.1", "1.1.1.1, 198.51.100.20"), "198.51.100.20");
	assert_string_equal(client(&p, "127.0.0.1", "1.1.1.1, 198.51.100.20, 10.0.0.5"),
			    "198.51.100.20");
	/* every hop trusted: the left-most */
	assert_string_equal(client(&p, "127.0.0.1", "10.0.0.9, 10.0.0.5"), "10.0.0.9");
	/* a peer that is not trusted is the client, whatever it says */
	assert_string_equal(client(&p, "192.0.2.1", "203.0.113.7"), "192.0.2.1");
	struct dg_proxies none = list("");
	assert_string_equal(client(&none, "127.0.0.1", "203.0.113.7"), "127.0.0.1");
	assert_string_equal(client(NULL, "127.0.0.1", "203.0.113.7"), "127.0.0.1");
	/* no header, an empty one, or only commas and spaces: the peer */
	assert_string_equal(client(&p, "127.0.0.1", NULL), "127.0.0.1");
	assert_string_equal(client(&p, "127.0.0.1", ""), "127.0.0.1");
	assert_string_equal(client(&p, "127.0.0.1", " , ,"), "127.0.0.1");
	/* ports, brackets and IPv6, in canonical text */
	assert_string_equal(client(&p, "127.0.0.1", "203.0.113.7:4711"), "203.0.113.7");
	assert_string_equal(client(&p, "::1", "[2001:DB8:0:0::1]:443"), "2001:db8::1");
	assert_string_equal(client(&p, "::1", "2001:db8::1"), "2001:db8::1");
	assert_string_equal(client(&p, "::ffff:127.0.0.1", "::ffff:203.0.113.9"), "203.0.113.9");
	/* garbage where the client should be: the peer */
	assert_string_equal(client(&p, "127.0.0.1", "unknown"), "127.0.0.1");
	assert_string_equal(client(&p, "127.0.0.1", "1.2.3.4, <script>"), "127.0.0.1");
	assert_string_equal(client(&p, "127.0.0.1", "[::1"), "127.0.0.1");
	assert_string_equal(client(&p, "127.0.0.1", "1.2.3.4:5:6"), "127.0.0.1");
	/* garbage left of the client does not matter */
	assert_string_equal(client(&p, "127.0.0.1", "<script>, 203.0.113.7"), "203.0.113.7");
	/* a peer that is not an address comes back as it was */
	assert_string_equal(client(&p, "", "203.0.113.7"), "");
	assert_string_equal(client(&p, NULL, "203.0.113.7"), "");
}

static void long_headers(void **state)
{
	(void)state;
	struct dg_proxies p = list("127.0.0.1,10.0.0.0/8");
	/* more trusted hops than are looked at: the peer */
	size_t n = 100 * 10;
	char *h = calloc(1, n + 1);
	for (int i = 0; i < 100; i++)
		memcpy(h + strlen(h), i ? ",10.0.0.1" : "10.0.0.1", i ? 9 : 8);
	assert_string_equal(client(&p, "127.0.0.1", h), "127.0.0.1");
	free(h);
	/* a long run of untrusted hops: the right-most, found at once */
	h = calloc(1, 20 * 100000 + 1);
	size_t len = 0;
	for (int i = 0; i < 100000; i++)
		len += (size_t)snprintf(h + len, 20 * 100000 + 1 - len, "%s198.51.100.%d",
					i ? "," : "", i % 250);
	assert_string_equal(client(&p, "127.0.0.1", h), "198.51.100.249");
	free(h);
	/* an entry longer than any address */
	char big[300];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_string_equal(client(&p, "127.0.0.1", big), "127.0.0.1");
}

static void the_setting(void **state)
{
	(void)state;
	struct dg_config c;
	struct dg_err err = {0};
	dg_config_defaults(&c);
	assert_int_equal(c.trusted_proxies.n, 0);
	const char *argv[] = {"--trusted-proxy", "127.0.0.1,10.0.0.0/8,::1"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)argv, &err), DG_OK);
	assert_int_equal(c.trusted_proxies.n, 3);
	const char *bad[] = {"--trusted-proxy=10.0.0.0/40"};
	assert_int_equal(dg_config_from_args(&c, 1, (char **)bad, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "10.0.0.0/40"));
	assert_true(dg_config_has_flag("trusted-proxy=1.2.3.4"));
	assert_non_null(strstr(dg_config_usage(), "--trusted-proxy"));
	setenv("DGOV_TRUSTED_PROXY", "fd00::/8", 1);
	dg_config_defaults(&c);
	assert_int_equal(dg_config_from_env(&c, &err), DG_OK);
	assert_true(dg_proxies_trusted(&c.trusted_proxies, "fd00::5"));
	setenv("DGOV_TRUSTED_PROXY", "fd00::/200", 1);
	assert_int_equal(dg_config_from_env(&c, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "DGOV_TRUSTED_PROXY"));
	unsetenv("DGOV_TRUSTED_PROXY");
}

static void address_keys(void **state)
{
	(void)state;
	char out[DG_ADDR_TEXT];
	assert_string_equal(dg_addr_key("203.0.113.7", out), "203.0.113.7");
	assert_string_equal(dg_addr_key("::ffff:203.0.113.7", out), "203.0.113.7");
	/* every address of one /64 is one client */
	assert_string_equal(dg_addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", out),
			    "2001:db8:1:2::/64");
	assert_string_equal(dg_addr_key("2001:db8:1:2::1", out), "2001:db8:1:2::/64");
	assert_string_equal(dg_addr_key("2001:db8:1:3::1", out), "2001:db8:1:3::/64");
	assert_string_equal(dg_addr_key("", out), "");
	assert_string_equal(dg_addr_key("not an address", out), "not an address");
	char same[DG_ADDR_TEXT] = "2001:db8::5";
	assert_string_equal(dg_addr_key(same, same), "2001:db8::/64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_lists),   cmocka_unit_test(parse_refusals),
		cmocka_unit_test(forwarded_for), cmocka_unit_test(long_headers),
		cmocka_unit_test(the_setting),   cmocka_unit_test(address_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
