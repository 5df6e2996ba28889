/*
 * routes.c - looking at one background job from the browser and the API.
 *
 * GET /jobs/{id} renders a page with the job's state and a <progress>
 * element (refreshed by a plain link: no script, no meta refresh, which
 * WCAG 2.2.1 and screen readers prefer); GET /api/v1/jobs/{id} returns the
 * same job as JSON. Only the job's creator and administrators may see a job;
 * anyone else gets the same 404 as for a job that does not exist.
 */
#include "jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "core/str.h"
#include "web/page.h"

/* The job named by the path, if the requester may see it; else ENOTFOUND. */
static dg_rc load_visible(struct dg_req *r, json_t **out)
{
	int64_t id = 0;
	struct dg_db *db = NULL;
	*out = NULL;
	const char *sid = dg_kvs_get(&r->params, "id");
	if (!sid || dg_str_to_i64(dg_str_of(sid), &id) != DG_OK || id <= 0)
		return DG_ENOTFOUND;
	dg_rc rc = dg_req_db(r, &db);
	if (rc != DG_OK)
		return rc;
	json_t *job = NULL;
	rc = dg_job_get_json(db, id, &job);
	if (rc != DG_OK)
		return rc;
	json_int_t creator = json_integer_value(json_object_get(job, "created_by"));
	bool admin = r->user && r->user->role == DG_ROLE_ADMIN;
	if (!r->user || (!admin && creator != r->user->id)) {
		json_decref(job);
		return DG_ENOTFOUND; /* do not reveal that it exists */
	}
	*out = job;
	return DG_OK;
}

static dg_rc api_job(struct dg_req *r)
{
	json_t *job = NULL;
	dg_rc rc = load_visible(r, &job);
	if (rc != DG_OK)
		return rc;
	dg_reply_json(r, 200, job);
	return DG_OK;
}

static dg_rc page_job(struct dg_req *r)
{
	json_t *job = NULL;
	dg_rc rc = load_visible(r, &job);
	if (rc != DG_OK)
		return rc;
	json_t *progress = json_object_get(job, "progress");
	json_int_t done = json_integer_value(json_object_get(progress, "done"));
	json_int_t total = json_integer_value(json_object_get(progress, "total"));
	const char *state = json_string_value(json_object_get(job, "state"));
	json_int_t percent = total > 0 ? done * 100 / total : 0;
	if (state && strcmp(state, "done") == 0)
		percent = 100;
	json_t *data = json_object();
	json_object_set_new(data, "percent", json_integer(percent));
	json_object_set_new(data, "has_total", json_boolean(total > 0));
	json_object_set_new(data, "title", json_string(dg_t(r, "jobs.title")));
	json_t *res = json_object_get(job, "result");
	if (res && !json_is_null(res)) {
		char *text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
		json_object_set_new(data, "result_text", json_string(text ? text : ""));
		free(text);
	}
	json_object_set_new(data, "job", job);
	return dg_page(r, 200, "jobs/show.html", data);
}

static const struct dg_route routes[] = {
	{"GET", "/jobs/{id}", page_job, DG_ROLE_USER, 0},
	{"GET", "/api/v1/jobs/{id}", api_job, DG_ROLE_USER, 0},
};

const struct dg_route *dg_jobs_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
