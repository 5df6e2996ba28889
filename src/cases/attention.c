/*
 * attention.c - what needs the signed-in person, for the home and account
 * pages: the node's attention hook (node/env.h), set by the cases module.
 * The figures come from case_attention (case_query.c); here each becomes a
 * line of words with the link that deals with it, in the reader's language.
 */
#include "cases/internal.h"

#include <string.h>

#include "node/env.h"
#include "web/page.h"

/* One {href, text} line: text is the message key's words, then detail if any. */
static void line(struct dg_req *r, json_t *list, const char *href, const char *key,
		 const char *detail)
{
	const char *text = dg_t(r, key);
	if (detail && *detail)
		text = dg_arena_printf(r->arena, "%s%s", text, detail);
	json_array_append_new(list, json_pack("{s:s, s:s}", "href", href, "text", text));
}

static const char *count_text(struct dg_req *r, const json_t *o, const char *k)
{
	return dg_arena_printf(r->arena, "%lld",
			       (long long)json_integer_value(json_object_get(o, k)));
}

dg_rc case_attention_json(struct dg_req *r, json_t **out)
{
	struct dg_db *db = NULL;
	json_t *o = NULL;
	*out = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_attention(db, r->user, &o);
	if (rc)
		return rc;
	bool en = !strcmp(r->lang, "en");
	json_t *list = json_array(), *c;
	size_t i;
	if (r->user->role == DG_ROLE_STAFF) {
		if (json_integer_value(json_object_get(o, "new")))
			line(r, list, "/office?status=submitted", "cases.attention.new",
			     count_text(r, o, "new"));
		if (json_integer_value(json_object_get(o, "supplied")))
			line(r, list, "/office?status=open", "cases.attention.supplied",
			     count_text(r, o, "supplied"));
		if (json_integer_value(json_object_get(o, "overdue")))
			line(r, list, "/office?status=overdue", "cases.attention.overdue",
			     count_text(r, o, "overdue"));
	} else {
		json_array_foreach (json_object_get(o, "supplement"), i, c)
			line(r, list,
			     dg_arena_printf(r->arena, "/my/cases/%s",
					     json_string_value(json_object_get(c, "ref"))),
			     "cases.attention.supplement",
			     json_string_value(json_object_get(c, en ? "name_en" : "name_zh")));
		json_array_foreach (json_object_get(o, "drafts"), i, c)
			line(r, list,
			     dg_arena_printf(r->arena, "/my/cases/%s/resume",
					     json_string_value(json_object_get(c, "ref"))),
			     "cases.attention.draft",
			     json_string_value(json_object_get(c, en ? "name_en" : "name_zh")));
		if (json_integer_value(json_object_get(o, "unread")))
			line(r, list, "/inbox?unread=1", "cases.attention.unread",
			     count_text(r, o, "unread"));
		json_array_foreach (json_object_get(o, "certs"), i, c)
			line(r, list,
			     dg_arena_printf(r->arena, "/certificates/%s",
					     json_string_value(json_object_get(c, "cert_id"))),
			     "cases.attention.cert",
			     json_string_value(json_object_get(c, en ? "name_en" : "name_zh")));
	}
	json_decref(o);
	*out = json_pack("{s:o}", "items", list);
	return *out ? DG_OK : DG_EINTERNAL;
}
