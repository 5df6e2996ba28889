/*
 * pii.c - personal identifiers in what a case stores: sealed at rest,
 * masked when shown, in full only where the route allows it.
 *
 * A case's answers are stored as one sealed JSON text (keys.h's secretbox),
 * so the ID number, phone and name copied from the account, and whatever
 * else the applicant typed, never reach the store in clear; a document's
 * file name is sealed the same way. Free text that people type (reasons,
 * notes, comments, a rectification's steps) is stored readable, but every
 * resident ID number and mobile number in it is replaced by a sealed token
 * "{pii:BASE64}". Shown, answers of the types id_number and phone are masked
 * (110101********1234, 138****5678) and so is every ID number or mobile
 * number found in any other text, unless the viewer asked for them in full
 * on a route that allows it (the department's staff, each time logged).
 *
 * An answer text that does not open (a store written before answers were
 * sealed) is read as the JSON it is.
 */
#include "cases/internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/keys.h"
#include "core/mem.h"

#define TOKEN_OPEN "{pii:"
#define TEXT_MAX   ((size_t)1 << 20) /* bytes of one free text, sealed tokens included */

char *case_seal_answers(const struct dg_keys *k, const json_t *answers)
{
	char *plain = json_dumps(answers, JSON_COMPACT);
	if (!plain)
		return NULL;
	struct dg_arena *a = dg_arena_new();
	char *sealed = strdup(dg_pii_seal(k, a, plain));
	dg_wipe(plain, strlen(plain));
	free(plain);
	dg_arena_free(a);
	return sealed;
}

json_t *case_open_answers(const struct dg_keys *k, const char *stored)
{
	struct dg_arena *a = dg_arena_new();
	char *plain = NULL;
	json_t *v = NULL;
	if (stored && dg_pii_open(k, a, stored, &plain) == DG_OK)
		v = json_loads(plain, 0, NULL);
	else if (stored && stored[0] == '{')
		v = json_loads(stored, 0, NULL); /* written before answers were sealed */
	if (plain)
		dg_wipe(plain, strlen(plain));
	dg_arena_free(a);
	return json_is_object(v) ? v : (json_decref(v), json_object());
}

/*
 * The identifier starting at s[i] (a digit not preceded by one): its length
 * and kind ('i' an ID number, 'p' a mobile number), or 0 when it is neither.
 * An ID number is 17 digits and a check character (GB 11643) that must be
 * right; a mobile number 11 digits from 13 to 19. Neither may run on into
 * more digits.
 */
static size_t find_at(const char *s, size_t i, size_t n, char *kind)
{
	size_t j = i;
	while (j < n && s[j] >= '0' && s[j] <= '9')
		j++;
	size_t run = j - i;
	if (run == 17 && j < n && (s[j] == 'X' || s[j] == 'x'))
		run = 18, j++;
	if (j < n && s[j] >= '0' && s[j] <= '9')
		return 0;
	if (run == 18) {
		char id[19];
		memcpy(id, s + i, 18);
		id[18] = '\0';
		if (id[17] == 'x')
			id[17] = 'X';
		if (dg_id_number_valid(id)) {
			*kind = 'i';
			return 18;
		}
	}
	if (run == 11 && s[i] == '1' && s[i + 1] >= '3' && s[i + 1] <= '9') {
		*kind = 'p';
		return 11;
	}
	return 0;
}

/* Each identifier in text (n bytes) replaced by fn's text for it; NULL past the cap. */
static char *replace_ids(struct dg_arena *a, const char *text, size_t n,
			 dg_rc (*fn)(struct dg_buf *b, const char *id, char kind, void *arg),
			 void *arg)
{
	struct dg_buf b;
	dg_buf_init(&b, TEXT_MAX);
	dg_rc rc = DG_OK;
	size_t i = 0, from = 0;
	while (!rc && i < n) {
		char kind = 0;
		size_t len = 0;
		if (text[i] >= '0' && text[i] <= '9' &&
		    (i == 0 || text[i - 1] < '0' || text[i - 1] > '9'))
			len = find_at(text, i, n, &kind);
		if (!len) {
			i++;
			continue;
		}
		char id[19];
		memcpy(id, text + i, len);
		id[len] = '\0';
		if (len == 18 && id[17] == 'x')
			id[17] = 'X';
		rc = dg_buf_add(&b, text + from, i - from);
		if (!rc)
			rc = fn(&b, id, kind, arg);
		i += len;
		from = i;
	}
	if (!rc)
		rc = dg_buf_add(&b, text + from, n - from);
	char *out = rc ? NULL : dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

struct seal_arg {
	const struct dg_keys *k;
	struct dg_arena *a;
};

static dg_rc seal_one(struct dg_buf *b, const char *id, char kind, void *arg)
{
	struct seal_arg *s = arg;
	dg_rc rc = dg_buf_adds(b, TOKEN_OPEN);
	if (!rc)
		rc = dg_buf_adds(b, kind == 'i' ? "i:" : "p:");
	if (!rc)
		rc = dg_buf_adds(b, dg_pii_seal(s->k, s->a, id));
	return rc ? rc : dg_buf_adds(b, "}");
}

char *case_seal_text(const struct dg_keys *k, struct dg_arena *a, const char *text)
{
	struct seal_arg s = {k, a};
	if (!text)
		return NULL;
	char *out = replace_ids(a, text, strlen(text), seal_one, &s);
	return out ? out : dg_arena_strdup(a, "");
}

static dg_rc show_one(struct dg_buf *b, const char *id, char kind, void *arg)
{
	struct dg_arena *a = arg;
	if (!a)
		return dg_buf_adds(b, id);
	return dg_buf_adds(b, kind == 'i' ? dg_mask_id(a, id) : dg_mask_phone(a, id));
}

char *case_show_text(const struct dg_keys *k, struct dg_arena *a, const char *text, int full)
{
	struct dg_buf b;
	if (!text)
		return dg_arena_strdup(a, "");
	/* first the sealed tokens back to their values, then every identifier masked */
	dg_buf_init(&b, TEXT_MAX);
	dg_rc rc = DG_OK;
	const char *p = text, *t;
	while (!rc && (t = strstr(p, TOKEN_OPEN))) {
		const char *end = strchr(t, '}');
		char *plain = NULL;
		rc = dg_buf_add(&b, p, (size_t)(t - p));
		if (rc || !end) {
			p = t;
			break;
		}
		char *sealed = dg_arena_strndup(a, t + strlen(TOKEN_OPEN) + 2,
						(size_t)(end - t) - strlen(TOKEN_OPEN) - 2);
		if ((size_t)(end - t) > strlen(TOKEN_OPEN) + 2 &&
		    dg_pii_open(k, a, sealed, &plain) == DG_OK)
			rc = dg_buf_adds(&b, plain);
		else
			rc = dg_buf_adds(&b,
					 "***"); /* not ours, or tampered with: nothing to show */
		p = end + 1;
	}
	if (!rc)
		rc = dg_buf_adds(&b, p);
	const char *opened = rc ? "" : dg_buf_str(&b);
	char *out = replace_ids(a, opened, strlen(opened), show_one, full ? NULL : a);
	dg_buf_release(&b);
	return out ? out : dg_arena_strdup(a, "");
}

/* o[key] (a string) shown: opened and masked (or in full). */
static void show_member(const struct dg_keys *k, struct dg_arena *a, json_t *o, const char *key,
			int full)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (v && *v)
		json_object_set_new(o, key, json_string(case_show_text(k, a, v, full)));
}

void case_show(const struct dg_keys *k, struct dg_arena *a, json_t *c, int full)
{
	json_t *answers = json_object_get(c, "answers"), *p, *f, *v;
	size_t i, j;
	const char *name;
	/* answers: by their type where the form says it, by their look everywhere */
	json_array_foreach (json_object_get(json_object_get(c, "form"), "pages"), i, p) {
		json_array_foreach (json_object_get(p, "fields"), j, f) {
			const char *type = json_string_value(json_object_get(f, "type"));
			const char *ans = json_string_value(json_object_get(
				answers, json_string_value(json_object_get(f, "name"))));
			if (full || !type || !ans || !*ans)
				continue;
			if (!strcmp(type, "id_number"))
				json_object_set_new(answers,
						    json_string_value(json_object_get(f, "name")),
						    json_string(dg_mask_id(a, ans)));
			else if (!strcmp(type, "phone"))
				json_object_set_new(answers,
						    json_string_value(json_object_get(f, "name")),
						    json_string(dg_mask_phone(a, ans)));
		}
	}
	json_object_foreach (answers, name, v)
		if (json_is_string(v))
			show_member(k, a, answers, name, full);
	show_member(k, a, c, "reason", full);
	json_array_foreach (json_object_get(c, "events"), i, v)
		show_member(k, a, v, "note", full);
	json_array_foreach (json_object_get(c, "files"), i, v)
		show_member(k, a, v, "filename", full);
	show_member(k, a, json_object_get(c, "rating"), "comment", full);
	case_show_rect(k, a, json_object_get(c, "rectification"), full);
}

void case_show_rect(const struct dg_keys *k, struct dg_arena *a, json_t *x, int full)
{
	static const char *const texts[] = {"finding", "action_taken", "reply", "review",
					    "comment"};
	if (!x)
		return;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		show_member(k, a, x, texts[i], full);
}
