/*
 * internal.h - what the cases module's files share.
 *
 * A case is one row of `cases`, from the applicant's first save (status
 * 'draft') to its end. Status and who may move it:
 *
 *   draft --submit(applicant)--> submitted --accept(intake)--> accepted
 *   submitted --withdraw(applicant, within 10 minutes)--> withdrawn
 *   submitted --refuse(intake, reason)--> refused
 *   submitted|accepted|reviewed --request_supplement(intake|review, what is needed)--> supplement
 *   supplement --supplement(applicant)--> the status it came from
 *   accepted --review(review, opinion)--> reviewed
 *   accepted|reviewed --approve(approve)--> approved (+ e-certificate)
 *   accepted|reviewed --deny(approve, reason)--> denied
 *   submitted|accepted|reviewed --transfer(intake, department, reason)--> same status, other
 * department
 *
 * The promised date (due_day) is set at acceptance: promised working days
 * after the day of acceptance, by the region's holiday calendar. While the
 * applicant is asked for more material after acceptance the clock stops: on
 * their answer the due date moves by the working days the case waited. A
 * supplement asked for before acceptance (补正) restarts nothing, as the clock
 * only starts when the case is accepted with complete material.
 *
 * Every change writes a case_events row (who, when, what, why) in the same
 * transaction, and the applicant gets an inbox message.
 */
#ifndef DG_CASES_INTERNAL_H
#define DG_CASES_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "http/req.h"
#include "store/store.h"

struct dg_env;
struct dg_keys;

#define CASE_WITHDRAW_MS                                                                           \
	(10 * 60 * 1000) /* an applicant may withdraw this long after submitting                   \
			  */
#define CASE_REF_MAX       32
#define CASE_TEXT_MAX      2000        /* reasons, notes, comments (bytes) */
#define CASE_FILE_MAX      (10u << 20) /* one uploaded document */
#define CASE_FILES_MAX     40          /* documents on one case */
#define CASE_DUE_SOON_DAYS 2 /* working days before the due date that count as "due soon" */
#define CASE_RECTIFY_DAYS  5 /* working days a department has to close a rectification */
#define CASE_PAGE          20

/* Who is acting. */
struct case_actor {
	int64_t user_id;
	enum dg_role role;
	int64_t dept_id;
	const char *staff_roles; /* "intake,review,approve" */
	const struct dg_keys
		*keys; /* the node's: to seal what the actor writes, open what they read */
};

void case_actor_of(const struct dg_req *r, struct case_actor *a);
/* Whether a comma list of staff roles holds role. */
int case_has_role(const char *roles, const char *role);

/* A staff action on a case. */
struct case_action {
	const char *action;  /* accept refuse review approve deny request_supplement transfer */
	const char *reason;  /* reason, opinion or what is needed */
	const char *to_dept; /* transfer: the department's code */
};

/*
 * Errors from the functions below carry an i18n key in err->msg
 * ("cases.err.not_yours") and the field in err->field; callers translate.
 * ENOTFOUND also for a case the actor may not see (nothing is revealed).
 */

/* NULL when who may apply for item online, else the i18n key of why not (counter only, wrong
 * audience). */
const char *case_may_apply(const struct case_actor *who, const json_t *item);

/* An open case's due state today by cal: "overdue", "due_soon", "ok", or "" when no clock runs. */
const char *case_due_state(const struct dg_calendar *cal, const char *status, int64_t due);

/* A known status name. */
int case_status_known(const char *s);

/* A draft for item (the JSON cat_get gives), answers pre-filled from me (dg_auth_me_json). */
dg_rc case_create(struct dg_db *db, const json_t *item, const struct case_actor *who,
		  const json_t *me, char ref[CASE_REF_MAX], struct dg_err *err) DG_MUST;

/*
 * A new draft's {"form", "answers" (not sealed), "prefilled"} for item, the
 * answers pre-filled from me (dg_auth_me_json); owned by the caller.
 */
json_t *case_draft_new(const json_t *item, const json_t *me);

/*
 * Write draft (case_draft_new's, its answers as the caller left them) as a
 * new case of who's, its reference in ref, and set its "id". With submit the
 * case is written submitted, with its event and the applicant's message,
 * as case_submit would leave it, in the statements a new row needs.
 */
dg_rc case_insert(struct dg_db *db, const json_t *item, const struct case_actor *who,
		  const json_t *me, json_t *draft, bool submit, char ref[CASE_REF_MAX],
		  struct dg_err *err) DG_MUST;

/*
 * The case with everything about it as JSON: columns, "form", "answers",
 * "prefilled", "events", "files", "rating", "rectification". ENOTFOUND unless
 * who may see it (the applicant, staff of its department, an administrator).
 * Answers and file names are opened (in full: for changing them); free
 * texts keep their sealed identifiers. Before showing any of it, case_show.
 */
dg_rc case_get(struct dg_db *db, const char *ref, const struct case_actor *who, json_t **out,
	       struct dg_err *err) DG_MUST;

/* Replace a draft's answers (the applicant's, status draft), sealed with keys. */
dg_rc case_save_answers(struct dg_db *db, const struct dg_keys *keys, int64_t case_id,
			const json_t *answers) DG_MUST;

/* Applicant transitions; each in the caller's transaction. */
dg_rc case_submit(struct dg_db *db, const char *ref, const struct case_actor *who,
		  struct dg_err *err) DG_MUST;
dg_rc case_withdraw(struct dg_db *db, const char *ref, const struct case_actor *who,
		    struct dg_err *err) DG_MUST;
dg_rc case_answer_supplement(struct dg_db *db, const char *ref, const struct case_actor *who,
			     const char *note, struct dg_err *err) DG_MUST;
dg_rc case_rate(struct dg_db *db, const char *ref, const struct case_actor *who, int level,
		const char *comment, struct dg_err *err) DG_MUST;

/*
 * Record that who (staff of the case's department) sees its personal
 * identifiers in full: a "reveal" event on its history, in the caller's
 * transaction. ENOTFOUND for anyone else.
 */
dg_rc case_reveal(struct dg_db *db, const char *ref, const struct case_actor *who,
		  struct dg_err *err) DG_MUST;

/* A staff action, in the caller's transaction (approval issues the certificate with keys). */
dg_rc case_act(struct dg_db *db, const struct dg_keys *keys, const char *ref,
	       const struct case_actor *who, const struct case_action *act,
	       struct dg_err *err) DG_MUST;

/* Record an uploaded document (already moved to stored) on a case; its name is sealed with keys. */
dg_rc case_add_file(struct dg_db *db, const struct dg_keys *keys, int64_t case_id,
		    const char *field, const char *filename, const char *mime, int64_t size,
		    const char *sha256, const char *stored, const char *stage,
		    int64_t *id_out) DG_MUST;

/* The queue filters; NULL or "" means any. */
struct case_filter {
	int64_t dept_id;    /* 0: every department (administrators) */
	int64_t applicant;  /* 0: anyone */
	const char *status; /* a status, "open" (not ended), "overdue" or "due_soon" */
	const char *item;   /* item code */
	dg_day due_before;  /* 0: any */
	int64_t page;       /* from 1 */
};
/* {"total", "cases": [summary...]} ordered by due date (staff) or last change (applicant). */
dg_rc case_list(struct dg_db *db, const struct case_filter *f, json_t **out) DG_MUST;

/* Rectification tasks of a department (0: all): list, one, and a step. */
dg_rc case_rectify_list(struct dg_db *db, int64_t dept_id, json_t **out) DG_MUST;
dg_rc case_rectify_get(struct dg_db *db, int64_t id, int64_t dept_id, json_t **out) DG_MUST;
/* The rectification of a case (ENOTFOUND when it has none). */
dg_rc case_rectify_of_case(struct dg_db *db, int64_t case_id, json_t **out) DG_MUST;
dg_rc case_rectify_step(struct dg_db *db, int64_t id, const struct case_actor *who,
			const char *text, struct dg_err *err) DG_MUST;

/* Satisfaction per item and per department: {"items": [...], "depts": [...], "total"}. */
dg_rc case_satisfaction(struct dg_db *db, json_t **out) DG_MUST;

/*
 * Check the answers of one form page (or of every page when page is NULL)
 * against its fields: adds {field, message} to errs in r's language and
 * drops answers to questions that are not asked (their condition is false).
 */
/*
 * What needs u (cases_attention in attention.c shows it): for an applicant
 * {supplement, drafts, certs: [{ref, name_zh, name_en, cert_id}], unread};
 * for staff {new, supplied, overdue} of their department. *out is owned.
 */
dg_rc case_attention(struct dg_db *db, const struct dg_user *u, json_t **out) DG_MUST;
/* The node's attention hook (node/env.h): {items: [{href, text}]} for r's user. */
dg_rc case_attention_json(struct dg_req *r, json_t **out) DG_MUST;
void case_check_page(struct dg_req *r, const json_t *page, json_t *answers, json_t *errs);
/* The same for "save and come back later": what was answered must be right; nothing has to be. */
void case_check_filled(struct dg_req *r, const json_t *page, json_t *answers, json_t *errs);
/*
 * Whether answer `name` came from the account (its ID number, name, phone;
 * an agent's enterprise): listed in the case's prefilled and holding a
 * value. Such answers are fixed: the pages show them, the API and the pages
 * refuse another value ("cases.err.fixed").
 */
int case_answer_fixed(const json_t *prefilled, const json_t *answers, const char *name);
/* The definition of field name in form, or NULL. */
const json_t *case_form_field(const json_t *form, const char *name);
/* Add {field, message} for form field f to errs: its label and the message of key. */
void case_field_error(struct dg_req *r, json_t *errs, const json_t *f, const char *key);
/* Whether a page asks anything given the answers so far. */
int case_page_shown(const json_t *page, const json_t *answers);
/* Whether a field is asked given the answers so far. */
int case_field_shown(const json_t *field, const json_t *answers);

/* One step of a request in a transaction on the request's connection. */
typedef dg_rc (*case_tx_fn)(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err);
/* Run fn in a transaction, committed when it returns OK; err gets "error.store" if nothing more
 * precise. */
dg_rc case_tx(struct dg_req *r, case_tx_fn fn, void *arg, struct dg_err *err) DG_MUST;

/*
 * A store that failed under a form (full, gone, busy) rather than its
 * input: the form is shown again with what was typed, the status of rc
 * and case_fault_message (nothing was saved, nothing was lost, try again).
 */
int case_store_fault(dg_rc rc);
const char *case_fault_message(struct dg_req *r, dg_rc rc);

/* Pages: r->err from err (its i18n key translated); returns rc. */
/*
 * A member of staff or an administrator is shown case c's applicant's
 * record (what: "case", "reveal", "api", "file"): env's record_viewed hook
 * audits it and lists it on the applicant's /my/data-use. DG_OK for anyone
 * else, or when no module set the hook.
 */
dg_rc case_staff_viewed(struct dg_req *r, struct dg_db *db, const json_t *c,
			const char *what) DG_MUST;
dg_rc case_fail(struct dg_req *r, dg_rc rc, const struct dg_err *err);
/* item_name, dept_name, status_label, due_label, event labels in r's language. */
void case_localise(struct dg_req *r, json_t *c);
/* "YYYY-MM-DD HH:MM" in the server's time zone, arena memory; "" for 0. */
const char *case_time(struct dg_req *r, int64_t ms);

/* The queue for the requester (their department; all for administrators) by the query's filters. */
dg_rc case_queue_json(struct dg_req *r, json_t **out) DG_MUST;
/* A staff action on {ref} in its own transaction. */
dg_rc case_run_action(struct dg_req *r, const struct case_action *act, struct dg_err *err) DG_MUST;

/*
 * Personal identifiers in what a case stores (pii.c). Answers are sealed as
 * one text (malloc'd; NULL only when out of memory) and opened back into an
 * object (a new reference; an empty object when they do not open). In free
 * text, each ID number and mobile number becomes a sealed token (arena).
 * Shown, tokens are opened, and ID numbers and mobile numbers masked unless
 * full; case_show does that to a whole case from case_get (answers by
 * their field's type and by their look, reason, notes, file names, the
 * rating, the rectification), case_show_rect to a rectification task.
 */
char *case_seal_answers(const struct dg_keys *k, const json_t *answers);
json_t *case_open_answers(const struct dg_keys *k, const char *stored);
char *case_seal_text(const struct dg_keys *k, struct dg_arena *a, const char *text);
char *case_show_text(const struct dg_keys *k, struct dg_arena *a, const char *text, int full);
void case_show(const struct dg_keys *k, struct dg_arena *a, json_t *c, int full);
void case_show_rect(const struct dg_keys *k, struct dg_arena *a, json_t *x, int full);

/* Sniff a document's type from its first bytes: "application/pdf", "image/jpeg", "image/png" or
 * NULL. */
const char *case_sniff(const unsigned char *p, size_t n);

#endif
