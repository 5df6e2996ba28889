/*
 * text.h - UTF-8 in the rule language: what a name may be made of, where a
 * character ends, how wide it is on a terminal.
 *
 * A name (field, condition, rule, parameter, definition, entity, group) is
 * ASCII letters, digits and '_', and Chinese characters (the CJK Unified
 * Ideographs with all their extensions, and 〇); it does not start with a
 * digit and has at most DG_NAME_MAX characters. Everything else people read
 * goes in "quotes", which take any UTF-8. Radicals and compatibility
 * ideographs, which look like ordinary characters but are other code points,
 * are refused so that two names that look alike are alike.
 *
 * None of these allocate or keep state; they read at most up to the end
 * pointer they are given.
 */
#ifndef DG_RULE_TEXT_H
#define DG_RULE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_NAME_MAX 64 /* characters */

/* The UTF-8 sequence at p (p < end): its code point in *cp and its length,
 * 1 to 4; 0 when the bytes there are not well-formed UTF-8 (overlong,
 * surrogate, past U+10FFFF, cut short) or are a NUL. */
int dg_text_utf8(const char *p, const char *end, uint32_t *cp);
/* Offset of the first byte in the n at t that is not UTF-8 text, -1 when none. */
long dg_text_bad_at(const char *t, size_t n);
/* Bytes of the name character at p, 0 when there is none; first: a digit is
 * not a name's first character. */
int dg_text_name_char(const char *p, const char *end, bool first);
/* True when the NUL-terminated s is a whole name. */
bool dg_text_name_ok(const char *s);
/* Why the character at p (not a name character, not ASCII) cannot stand outside
 * quotes, and what to write instead, into msg (at most n bytes). */
void dg_text_why_not(const char *p, const char *end, char *msg, size_t n);
/* Characters (code points) in the n bytes at s. */
int dg_text_chars(const char *s, size_t n);
/* Columns a terminal gives the n bytes at s: two for a Chinese character. */
int dg_text_width(const char *s, size_t n);
/* The longest prefix of the n bytes at s of at most max bytes that does not
 * end inside a UTF-8 sequence. */
size_t dg_text_cut(const char *s, size_t n, size_t max);
/* Cut a NUL-terminated s that snprintf may have cut inside a UTF-8 sequence
 * back to the last whole character. */
void dg_text_trim(char *s);

#endif
