/*
 * form.c - an item's application form: its definition (checked on import and
 * edit) and the default form an item without its own gets.
 *
 * A form is {"pages": [{"id", "title_zh", "title_en", "fields": [field...]}]}
 * and a field {"name", "type", "label_zh", "label_en", "hint_zh", "hint_en",
 * "required", "min", "max", "options": [{"value", "zh", "en"}],
 * "when": {"field", "equals"}, "prefill"}. Types: text, textarea, number,
 * date, select, radio, phone, id_number, file. "when" makes a question
 * conditional on an earlier answer; "prefill" names the account datum that
 * fills it (name, phone, id_number, org_name, uscc).
 */
#include "catalog/catalog.h"

#include <string.h>

static const char *const field_types[] = {"text",  "textarea", "number",    "date", "select",
					  "radio", "phone",    "id_number", "file", NULL};
static const char *const prefills[] = {"name", "phone", "id_number", "org_name", "uscc", NULL};

static int in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* [a-z0-9_], 1..32 */
static int is_name(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= 32 ||
		    !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0;
}

static int text_ok(const json_t *o, const char *k, size_t max, int required)
{
	json_t *v = json_object_get(o, k);
	if (!v)
		return !required;
	return json_is_string(v) && json_string_length(v) <= max &&
	       (!required || json_string_length(v) > 0);
}

static dg_rc check_options(const json_t *f, const char *where, struct dg_err *err)
{
	json_t *opts = json_object_get(f, "options"), *o;
	size_t i;
	if (!json_is_array(opts) || json_array_size(opts) < 1 || json_array_size(opts) > 30)
		return dg_err_field(err, DG_EINVAL, "form", "%s: 1 to 30 options are required",
				    where);
	json_array_foreach (opts, i, o) {
		if (!is_name(json_string_value(json_object_get(o, "value"))) ||
		    !text_ok(o, "zh", 200, 1) || !text_ok(o, "en", 200, 1))
			return dg_err_field(err, DG_EINVAL, "form",
					    "%s: option %zu needs value, zh and en", where, i);
	}
	return DG_OK;
}

/* A field named name, defined before (in seen), with options holding value. */
static int when_ok(const json_t *when, const json_t *seen)
{
	const char *field = json_string_value(json_object_get(when, "field"));
	const char *equals = json_string_value(json_object_get(when, "equals"));
	json_t *f = field ? json_object_get(seen, field) : NULL, *o;
	size_t i;
	if (!f || !equals)
		return 0;
	json_array_foreach (json_object_get(f, "options"), i, o)
		if (!strcmp(json_string_value(json_object_get(o, "value")), equals))
			return 1;
	return 0;
}

static dg_rc check_field(const json_t *f, const char *where, json_t *seen, struct dg_err *err)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *type = json_string_value(json_object_get(f, "type"));
	json_t *v;
	if (!json_is_object(f) || !is_name(name))
		return dg_err_field(err, DG_EINVAL, "form",
				    "%s: name must be a-z, 0-9 or _, at most 32", where);
	if (json_object_get(seen, name))
		return dg_err_field(err, DG_EINVAL, "form", "%s: the name %s is used twice", where,
				    name);
	if (!in_list(type, field_types))
		return dg_err_field(err, DG_EINVAL, "form", "%s: unknown type", where);
	if (!text_ok(f, "label_zh", 300, 1) || !text_ok(f, "label_en", 300, 1) ||
	    !text_ok(f, "hint_zh", 1000, 0) || !text_ok(f, "hint_en", 1000, 0))
		return dg_err_field(err, DG_EINVAL, "form",
				    "%s: label_zh and label_en are required", where);
	if ((v = json_object_get(f, "required")) && !json_is_boolean(v))
		return dg_err_field(err, DG_EINVAL, "form", "%s: required is true or false", where);
	for (int k = 0; k < 2; k++) {
		v = json_object_get(f, k ? "max" : "min");
		if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
			  json_integer_value(v) > 1000000000))
			return dg_err_field(err, DG_EINVAL, "form",
					    "%s: min and max are whole numbers", where);
	}
	if ((!strcmp(type, "select") || !strcmp(type, "radio")) && check_options(f, where, err))
		return err->rc;
	if ((v = json_object_get(f, "when")) && !when_ok(v, seen))
		return dg_err_field(err, DG_EINVAL, "form",
				    "%s: when must name an earlier choice and one of its values",
				    where);
	if ((v = json_object_get(f, "prefill")) && !in_list(json_string_value(v), prefills))
		return dg_err_field(err, DG_EINVAL, "form", "%s: unknown prefill", where);
	json_object_set(seen, name, (json_t *)f);
	return DG_OK;
}

dg_rc dg_itemform_check(const json_t *form, struct dg_err *err)
{
	json_t *pages = json_object_get(form, "pages"), *p, *f;
	size_t i, j;
	if (!json_is_object(form) || !json_is_array(pages) || json_array_size(pages) < 1 ||
	    json_array_size(pages) > DG_ITEMFORM_MAX_PAGES)
		return dg_err_field(err, DG_EINVAL, "form", "form: 1 to %d pages are required",
				    DG_ITEMFORM_MAX_PAGES);
	json_t *seen = json_object(), *ids = json_object();
	dg_rc rc = DG_OK;
	json_array_foreach (pages, i, p) {
		char where[64];
		json_t *fields = json_object_get(p, "fields");
		const char *id = json_string_value(json_object_get(p, "id"));
		snprintf(where, sizeof(where), "form page %zu", i + 1);
		if (!is_name(id) || json_object_get(ids, id) || !text_ok(p, "title_zh", 200, 1) ||
		    !text_ok(p, "title_en", 300, 1) || !json_is_array(fields) ||
		    json_array_size(fields) < 1 ||
		    json_array_size(fields) > DG_ITEMFORM_MAX_FIELDS) {
			rc = dg_err_field(err, DG_EINVAL, "form",
					  "%s: a unique id, titles and 1 to %d fields are required",
					  where, DG_ITEMFORM_MAX_FIELDS);
			break;
		}
		json_object_set_new(ids, id, json_true());
		json_array_foreach (fields, j, f) {
			snprintf(where, sizeof(where), "form page %zu field %zu", i + 1, j + 1);
			if ((rc = check_field(f, where, seen, err)))
				break;
		}
		if (rc)
			break;
	}
	json_decref(seen);
	json_decref(ids);
	return rc;
}

static json_t *field(const char *name, const char *type, const char *zh, const char *en,
		     int required, const char *prefill)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", name, "type", type, "label_zh",
			      zh, "label_en", en, "required", required);
	if (prefill)
		json_object_set_new(f, "prefill", json_string(prefill));
	return f;
}

static json_t *page(const char *id, const char *zh, const char *en, json_t *fields)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "title_zh", zh, "title_en", en, "fields",
			 fields);
}

json_t *dg_itemform_of(const json_t *item)
{
	json_t *own = json_object_get(item, "form");
	if (json_is_object(own))
		return json_incref(own);
	const char *aud = json_string_value(json_object_get(item, "audience"));
	int ent = aud && !strcmp(aud, "enterprise");
	json_t *who = json_array();
	if (ent) {
		json_array_append_new(who, field("org_name", "text", "单位名称",
						 "Name of the enterprise", 1, "org_name"));
		json_array_append_new(who, field("uscc", "text", "统一社会信用代码",
						 "Unified social credit code", 1, "uscc"));
	}
	json_array_append_new(who, field("name", "text", ent ? "经办人姓名" : "申请人姓名",
					 ent ? "Name of the person applying" : "Your full name", 1,
					 "name"));
	json_array_append_new(who, field("phone", "phone", "联系电话", "Phone number", 1, "phone"));
	json_t *pages = json_array();
	json_array_append_new(pages, page("applicant", "申请人信息", "About you", who));
	json_t *purpose =
		field("purpose", "textarea", "申请事项说明", "What you are applying for", 1, NULL);
	json_object_set_new(purpose, "max", json_integer(2000));
	json_object_set_new(purpose, "hint_zh", json_string("请简要说明您的情况和申请的内容。"));
	json_object_set_new(purpose, "hint_en",
			    json_string("Briefly describe your situation and what you ask for."));
	json_array_append_new(
		pages, page("details", "申请内容", "Your application", json_pack("[o]", purpose)));
	json_t *files = json_array(), *m;
	size_t i;
	json_array_foreach (json_object_get(item, "materials"), i, m) {
		const char *src = json_string_value(json_object_get(m, "source"));
		if (!src || strcmp(src, "applicant") ||
		    json_array_size(files) >= DG_ITEMFORM_MAX_FIELDS)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "m%zu", i + 1);
		json_array_append_new(
			files, field(name, "file", json_string_value(json_object_get(m, "name_zh")),
				     json_string_value(json_object_get(m, "name_en")),
				     json_is_true(json_object_get(m, "required")), NULL));
	}
	if (json_array_size(files))
		json_array_append_new(pages,
				      page("materials", "上传材料", "Upload documents", files));
	else
		json_decref(files);
	return json_pack("{s:o}", "pages", pages);
}
