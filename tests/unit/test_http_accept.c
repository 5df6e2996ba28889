/*
 * test_http_accept.c - the Accept header's negotiation (http/accept.h):
 * q-values, specificity (type/subtype over type/ * over * / *), ties to
 * the earlier offer, q=0 as a refusal, parameters and quoted values,
 * malformed ranges skipped, and the length and range caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/accept.h"

static const char *const offers[] = {"text/html", "text/turtle", "application/ld+json",
				     "application/rdf+xml"};
#define N (sizeof offers / sizeof offers[0])

static int pick(const char *h)
{
	return dg_accept_pick(h, offers, N);
}

static void plain(void **state)
{
	(void)state;
	assert_int_equal(pick(NULL), 0);
	assert_int_equal(pick(""), 0);
	assert_int_equal(pick("   "), 0);
	assert_int_equal(pick("*/*"), 0);
	assert_int_equal(pick("text/turtle"), 1);
	assert_int_equal(pick("application/ld+json"), 2);
	assert_int_equal(pick("APPLICATION/RDF+XML"), 3);
	assert_int_equal(pick("image/png"), -1);
	assert_int_equal(dg_accept_pick("text/turtle", offers, 0), -1);
}

static void quality(void **state)
{
	(void)state;
	/* a browser: HTML at 1, the rest at 0.8 */
	assert_int_equal(pick("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
			 0);
	assert_int_equal(pick("application/rdf+xml;q=0.5, text/turtle"), 1);
	assert_int_equal(pick("application/rdf+xml;q=0.9, text/turtle;q=0.1"), 3);
	assert_int_equal(pick("text/*;q=0.3, application/ld+json;q=0.2"), 0);
	/* the more specific range decides even with a lower q */
	assert_int_equal(pick("*/*;q=1, text/html;q=0, text/turtle;q=0.5"), 2);
	assert_int_equal(pick("text/html;q=0"), -1);
	assert_int_equal(pick("*/*;q=0"), -1);
	assert_int_equal(pick("text/turtle;q=1.000, application/ld+json;q=0.999"), 1);
}

static void params_and_junk(void **state)
{
	(void)state;
	assert_int_equal(pick("application/ld+json;profile=\"http://www.w3.org/ns/"
			      "json-ld#expanded,x\";q=0.9"),
			 2);
	assert_int_equal(pick("text/turtle;charset=utf-8"), 1);
	/* bad q-values and malformed ranges are skipped, not taken as q=1 */
	assert_int_equal(pick("text/turtle;q=2"), -1);
	assert_int_equal(pick("text/turtle;q=0.1234, application/rdf+xml"), 3);
	assert_int_equal(pick("text/turtle;q=abc"), -1);
	assert_int_equal(pick("texturtle, ,;,/x, text/"), -1);
	assert_int_equal(pick("text/turtle;q"), -1);
	assert_int_equal(pick("text/turtle;profile=\"unterminated"), -1);
	assert_int_equal(pick(",,,text/turtle,,,"), 1);
}

static void caps(void **state)
{
	(void)state;
	/* ranges past the DG_ACCEPT_RANGES-th are not read */
	char h[DG_ACCEPT_RANGES * 8 + 64];
	size_t at = 0;
	for (int i = 0; i < DG_ACCEPT_RANGES; i++)
		at += (size_t)snprintf(h + at, sizeof h - at, "a/b, ");
	snprintf(h + at, sizeof h - at, "text/turtle");
	assert_int_equal(pick(h), -1);
	/* nor is anything past DG_ACCEPT_MAX bytes */
	char *big = malloc(DG_ACCEPT_MAX + 32);
	memset(big, ' ', DG_ACCEPT_MAX);
	memcpy(big + DG_ACCEPT_MAX, "text/turtle", sizeof "text/turtle");
	assert_int_equal(pick(big), 0); /* only spaces were read: no header */
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain),
		cmocka_unit_test(quality),
		cmocka_unit_test(params_and_junk),
		cmocka_unit_test(caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
