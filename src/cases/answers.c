/*
 * answers.c - checking an applicant's answers against the item's form, the
 * same way for the question pages and for the API, and sniffing uploads.
 */
#include "cases/internal.h"

#include <string.h>

#include "core/keys.h"
#include "core/str.h"
#include "http/upload.h"
#include "web/page.h"

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int case_field_shown(const json_t *field, const json_t *answers)
{
	json_t *when = json_object_get(field, "when");
	if (!when)
		return 1;
	const char *v = json_string_value(json_object_get(answers, str_of(when, "field")));
	return v && !strcmp(v, str_of(when, "equals"));
}

int case_page_shown(const json_t *page, const json_t *answers)
{
	json_t *f;
	size_t i;
	json_array_foreach (json_object_get(page, "fields"), i, f)
		if (case_field_shown(f, answers))
			return 1;
	return 0;
}

static void fail(struct dg_req *r, json_t *errs, const json_t *f, const char *key);

int case_answer_fixed(const json_t *prefilled, const json_t *answers, const char *name)
{
	json_t *o;
	size_t i;
	const char *v = json_string_value(json_object_get(answers, name));
	if (!v || !*v)
		return 0; /* the account had nothing for it: the applicant answers */
	json_array_foreach (prefilled, i, o)
		if (json_is_string(o) && !strcmp(json_string_value(o), name))
			return 1;
	return 0;
}

const json_t *case_form_field(const json_t *form, const char *name)
{
	json_t *p, *f;
	size_t i, j;
	json_array_foreach (json_object_get(form, "pages"), i, p)
		json_array_foreach (json_object_get(p, "fields"), j, f)
			if (!strcmp(str_of(f, "name"), name))
				return f;
	return NULL;
}

void case_field_error(struct dg_req *r, json_t *errs, const json_t *f, const char *key)
{
	fail(r, errs, f, key);
}

static void fail(struct dg_req *r, json_t *errs, const json_t *f, const char *key)
{
	const char *label = str_of(f, strcmp(r->lang, "en") ? "label_zh" : "label_en");
	json_array_append_new(errs, json_pack("{s:s, s:s}", "field", str_of(f, "name"), "message",
					      dg_arena_printf(r->arena, "%s%s%s", label,
							      strcmp(r->lang, "en") ? "：" : ": ",
							      dg_t(r, key))));
}

static int option_ok(const json_t *f, const char *v)
{
	json_t *o;
	size_t i;
	json_array_foreach (json_object_get(f, "options"), i, o)
		if (!strcmp(str_of(o, "value"), v))
			return 1;
	return 0;
}

/* One answer; returns the i18n key of what is wrong, or NULL. */
static const char *check_value(const json_t *f, const char *type, const char *v)
{
	size_t n = strlen(v);
	json_t *min = json_object_get(f, "min"), *max = json_object_get(f, "max");
	if (!dg_utf8_valid(v, n))
		return "cases.err.text";
	if (!strcmp(type, "text") || !strcmp(type, "textarea")) {
		size_t cap = max                     ? (size_t)json_integer_value(max)
			     : !strcmp(type, "text") ? 200
						     : 2000;
		return dg_utf8_len(v, n) > cap ? "cases.err.too_long" : NULL;
	}
	if (!strcmp(type, "number")) {
		int64_t x = 0;
		if (dg_str_to_i64(dg_str_of(v), &x) != DG_OK)
			return "cases.err.number";
		if ((min && x < json_integer_value(min)) || (max && x > json_integer_value(max)))
			return "cases.err.range";
		return NULL;
	}
	if (!strcmp(type, "date")) {
		dg_day d;
		return dg_day_parse(v, &d) == DG_OK ? NULL : "cases.err.date";
	}
	if (!strcmp(type, "select") || !strcmp(type, "radio"))
		return option_ok(f, v) ? NULL : "cases.err.choice";
	if (!strcmp(type, "phone"))
		return dg_phone_valid(v) ? NULL : "cases.err.phone";
	if (!strcmp(type, "id_number"))
		return dg_id_number_valid(v) ? NULL : "cases.err.id_number";
	return NULL;
}

static void check_page(struct dg_req *r, const json_t *page, json_t *answers, json_t *errs,
		       bool missing_ok)
{
	json_t *f;
	size_t i;
	json_array_foreach (json_object_get(page, "fields"), i, f) {
		const char *name = str_of(f, "name"), *type = str_of(f, "type");
		json_t *a = json_object_get(answers, name);
		if (!case_field_shown(f, answers)) {
			json_object_del(answers, name); /* a question not asked keeps no answer */
			continue;
		}
		/* the API may send numbers as numbers; answers are kept as text */
		if (json_is_integer(a)) {
			json_object_set_new(
				answers, name,
				json_string(dg_arena_printf(r->arena, "%lld",
							    (long long)json_integer_value(a))));
			a = json_object_get(answers, name);
		}
		if (a && !json_is_string(a)) {
			fail(r, errs, f, "cases.err.text");
			continue;
		}
		const char *v = a ? json_string_value(a) : "";
		if (!*v) {
			json_object_del(answers, name);
			if (!missing_ok && json_is_true(json_object_get(f, "required")))
				fail(r, errs, f,
				     !strcmp(type, "file") ? "cases.err.file_required"
							   : "cases.err.required");
			continue;
		}
		const char *why = strcmp(type, "file") ? check_value(f, type, v) : NULL;
		if (why)
			fail(r, errs, f, why);
	}
}

void case_check_page(struct dg_req *r, const json_t *page, json_t *answers, json_t *errs)
{
	check_page(r, page, answers, errs, false);
}

void case_check_filled(struct dg_req *r, const json_t *page, json_t *answers, json_t *errs)
{
	check_page(r, page, answers, errs, true);
}

const char *case_sniff(const unsigned char *p, size_t n)
{
	/* of the types uploads can be, a case takes documents and photos only */
	const char *t = dg_upload_sniff(p, n);
	return t && (!strcmp(t, "application/pdf") || !strcmp(t, "image/jpeg") ||
		     !strcmp(t, "image/png"))
		       ? t
		       : NULL;
}
