/*
 * dcat.c - DCAT-AP 3 exports of the catalogue (see catalog_int.h). The graph is
 * built once as JSON-LD (jansson: nodes with prefixed property names,
 * values that are literals, {"@id"} IRIs or {"@value", "@type"} typed
 * literals) and written either as that JSON-LD or as Turtle by a small
 * writer that escapes literals and IRIs for Turtle's grammar. Mandatory
 * DCAT-AP 3 properties are always present: a catalogue's title,
 * description and publisher; a dataset's title and description; a
 * distribution's accessURL; an agent's name.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "web/page.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/str.h"
#include "opendata/catalog/solr.h"

#define PAGE_SIZE 100 /* ckanext-dcat's page size */
#define OUT_MAX   ((size_t)32 << 20)

static const char *const prefixes[][2] = {
	{"dcat", "http://www.w3.org/ns/dcat#"},       {"dct", "http://purl.org/dc/terms/"},
	{"foaf", "http://xmlns.com/foaf/0.1/"},       {"hydra", "http://www.w3.org/ns/hydra/core#"},
	{"xsd", "http://www.w3.org/2001/XMLSchema#"},
};

/* dgov's update frequencies -> the EU frequency authority. */
static const char *const frequencies[][2] = {
	{"realtime", "CONT"},   {"daily", "DAILY"},         {"weekly", "WEEKLY"},
	{"monthly", "MONTHLY"}, {"quarterly", "QUARTERLY"}, {"yearly", "ANNUAL"},
	{"irregular", "IRREG"},
};

/* The site's address (--site-url), never the Host header: IRIs must not move with who asks. */
static const char *base_url(struct dg_req *r)
{
	char buf[DG_SITE_URL_MAX];
	return dg_arena_strdup(r->arena, dg_config_site_url(r->env->cfg, buf));
}

static json_t *iri(const char *s)
{
	return json_pack("{s:s}", "@id", s);
}

static json_t *typed(const char *v, const char *type)
{
	return json_pack("{s:s, s:s}", "@value", v, "@type", type);
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static const char *extra(json_t *pkg, const char *key)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(pkg, "extras"), i, e) {
		if (strcmp(str_of(e, "key"), key) == 0)
			return str_of(e, "value");
	}
	return "";
}

/* Whether s is one word of A-Z 0-9 (a format name for the EU file-type authority). */
static bool format_word(const char *s)
{
	if (!s[0] || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static json_t *distribution(struct dg_arena *a, const char *ds_iri, json_t *res)
{
	const char *rid = str_of(res, "id"), *url = str_of(res, "url");
	json_t *d =
		json_pack("{s:s, s:s}", "@id", dg_arena_printf(a, "%s/resource/%s", ds_iri, rid),
			  "@type", "dcat:Distribution");
	json_object_set_new(d, "dct:identifier", json_string(rid));
	if (str_of(res, "name")[0])
		json_object_set_new(d, "dct:title", json_string(str_of(res, "name")));
	if (str_of(res, "description")[0])
		json_object_set_new(d, "dct:description", json_string(str_of(res, "description")));
	/* accessURL is mandatory: the dataset's own page when the link is empty */
	json_object_set_new(d, "dcat:accessURL", iri(url[0] ? url : ds_iri));
	if (url[0])
		json_object_set_new(d, "dcat:downloadURL", iri(url));
	const char *fmt = str_of(res, "format");
	if (format_word(fmt))
		json_object_set_new(
			d, "dct:format",
			iri(dg_arena_printf(
				a, "http://publications.europa.eu/resource/authority/file-type/%s",
				fmt)));
	const char *mt = str_of(res, "mimetype");
	if (mt[0] && strchr(mt, '/') && !strpbrk(mt, " <>\"{}|^`\\"))
		json_object_set_new(
			d, "dcat:mediaType",
			iri(dg_arena_printf(a, "https://www.iana.org/assignments/media-types/%s",
					    mt)));
	json_t *size = json_object_get(res, "size");
	if (json_is_integer(size))
		json_object_set_new(
			d, "dcat:byteSize",
			typed(dg_arena_printf(a, "%lld", (long long)json_integer_value(size)),
			      "xsd:nonNegativeInteger"));
	return d;
}

/* The nodes of one dataset (dataset, publisher, distributions) onto graph. */
static void dataset_nodes(struct dg_arena *a, const char *base, json_t *pkg, json_t *graph)
{
	const char *id = str_of(pkg, "id"), *org = str_of(pkg, "owner_org");
	const char *ds_iri = dg_arena_printf(a, "%s/dataset/%s", base, id);
	const char *org_iri = dg_arena_printf(a, "%s/organization/%s", base, org);
	const char *notes = str_of(pkg, "notes");
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@id", ds_iri, "@type", "dcat:Dataset",
			      "dct:identifier", id, "dct:title", str_of(pkg, "title"),
			      "dct:description", notes[0] ? notes : str_of(pkg, "title"));
	json_t *kw = json_array();
	size_t i;
	json_t *t;
	json_array_foreach (json_object_get(pkg, "tags"), i, t)
		json_array_append_new(kw, json_string(str_of(t, "name")));
	if (json_array_size(kw))
		json_object_set_new(d, "dcat:keyword", kw);
	else
		json_decref(kw);
	json_object_set_new(d, "dct:issued",
			    typed(str_of(pkg, "metadata_created"), "xsd:dateTime"));
	json_object_set_new(d, "dct:modified",
			    typed(str_of(pkg, "metadata_modified"), "xsd:dateTime"));
	json_object_set_new(d, "dct:publisher", iri(org_iri));
	const char *freq = extra(pkg, "update_frequency");
	for (size_t k = 0; k < sizeof frequencies / sizeof frequencies[0]; k++)
		if (strcmp(freq, frequencies[k][0]) == 0)
			json_object_set_new(d, "dct:accrualPeriodicity",
					    iri(dg_arena_printf(a,
								"http://publications.europa.eu/"
								"resource/authority/frequency/%s",
								frequencies[k][1])));
	const char *url = str_of(pkg, "url");
	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
		json_object_set_new(d, "dcat:landingPage", iri(url));
	if (str_of(pkg, "version")[0])
		json_object_set_new(d, "dcat:version", json_string(str_of(pkg, "version")));
	json_t *dists = json_array();
	json_t *res;
	json_array_foreach (json_object_get(pkg, "resources"), i, res) {
		json_t *dist = distribution(a, ds_iri, res);
		json_array_append_new(dists, iri(json_string_value(json_object_get(dist, "@id"))));
		json_array_append_new(graph, dist);
	}
	if (json_array_size(dists))
		json_object_set_new(d, "dcat:distribution", dists);
	else
		json_decref(dists);
	json_array_insert_new(graph, json_array_size(graph) - json_array_size(dists), d);
	json_t *org_dict = json_object_get(pkg, "organization");
	json_array_append_new(
		graph,
		json_pack("{s:s, s:s, s:s}", "@id", org_iri, "@type", "foaf:Agent", "foaf:name",
			  str_of(org_dict, "title")[0] ? str_of(org_dict, "title") : org));
}

/* ---- writers ---- */

static dg_rc ttl_iri(struct dg_buf *b, const char *s)
{
	/* IRIREF may not hold controls, space or <>"{}|^`\ : percent-encode them */
	dg_rc rc = dg_buf_addc(b, '<');
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if (*p <= 0x20 || strchr("<>\"{}|^`\\", *p))
			rc = dg_buf_addf(b, "%%%02X", *p);
		else
			rc = dg_buf_addc(b, (char)*p);
	}
	return rc ? rc : dg_buf_addc(b, '>');
}

static dg_rc ttl_string(struct dg_buf *b, const char *s)
{
	dg_rc rc = dg_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		switch (*p) {
		case '"': rc = dg_buf_adds(b, "\\\""); break;
		case '\\': rc = dg_buf_adds(b, "\\\\"); break;
		case '\n': rc = dg_buf_adds(b, "\\n"); break;
		case '\r': rc = dg_buf_adds(b, "\\r"); break;
		case '\t': rc = dg_buf_adds(b, "\\t"); break;
		default:
			rc = *p < 0x20 || *p == 0x7f ? dg_buf_addf(b, "\\u%04X", *p)
						     : dg_buf_addc(b, (char)*p);
		}
	}
	return rc ? rc : dg_buf_addc(b, '"');
}

static dg_rc ttl_value(struct dg_buf *b, json_t *v)
{
	if (json_is_string(v))
		return ttl_string(b, json_string_value(v));
	if (json_object_get(v, "@id"))
		return ttl_iri(b, str_of(v, "@id"));
	dg_rc rc = ttl_string(b, str_of(v, "@value"));
	if (!rc && json_object_get(v, "@type"))
		rc = dg_buf_addf(b, "^^%s", str_of(v, "@type")); /* our own prefixed names */
	return rc;
}

static dg_rc write_turtle(json_t *graph, struct dg_buf *b)
{
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < sizeof prefixes / sizeof prefixes[0]; i++)
		rc = dg_buf_addf(b, "@prefix %s: <%s> .\n", prefixes[i][0], prefixes[i][1]);
	size_t i;
	json_t *node;
	json_array_foreach (graph, i, node) {
		if (rc)
			break;
		rc = dg_buf_addc(b, '\n');
		rc = rc ? rc : ttl_iri(b, str_of(node, "@id"));
		rc = rc ? rc : dg_buf_addf(b, " a %s", str_of(node, "@type"));
		const char *key;
		json_t *v;
		json_object_foreach (node, key, v) {
			if (rc || key[0] == '@')
				continue;
			/* property names are this file's own prefixed names */
			rc = dg_buf_addf(b, " ;\n    %s ", key);
			if (json_is_array(v)) {
				for (size_t k = 0; !rc && k < json_array_size(v); k++) {
					rc = k ? dg_buf_adds(b, ", ") : DG_OK;
					rc = rc ? rc : ttl_value(b, json_array_get(v, k));
				}
			} else if (!rc) {
				rc = ttl_value(b, v);
			}
		}
		rc = rc ? rc : dg_buf_adds(b, " .\n");
	}
	return rc;
}

/* Reply with the graph as Turtle or JSON-LD (steals graph). */
static dg_rc reply_graph(struct dg_req *r, json_t *graph, bool turtle)
{
	if (!turtle) {
		json_t *ctx = json_object();
		for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
			json_object_set_new(ctx, prefixes[i][0], json_string(prefixes[i][1]));
		json_t *doc = json_pack("{s:o, s:o}", "@context", ctx, "@graph", graph);
		char *text = json_dumps(doc, JSON_INDENT(1));
		json_decref(doc);
		if (!text)
			return DG_EINTERNAL;
		dg_reply_bytes(r, 200, "application/ld+json", text, strlen(text));
		free(text);
		return DG_OK;
	}
	struct dg_buf b;
	dg_buf_init(&b, OUT_MAX);
	dg_rc rc = write_turtle(graph, &b);
	json_decref(graph);
	if (!rc)
		dg_reply_buf(r, 200, "text/turtle; charset=utf-8", &b);
	dg_buf_release(&b);
	return rc;
}

static bool ends_with(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), k = strlen(suffix);
	*stem = n - k;
	return n > k && strcmp(s + n - k, suffix) == 0;
}

dg_rc dg_dcat_dataset(struct dg_req *r)
{
	dg_od_cors(r);
	const char *file = dg_kvs_get(&r->params, "file");
	size_t stem = 0;
	bool turtle = ends_with(file, ".ttl", &stem);
	if (!turtle && !ends_with(file, ".jsonld", &stem))
		return dg_err_set(&r->err, DG_ENOTFOUND, "No such export: use .ttl or .jsonld");
	struct dg_db *db = NULL;
	json_t *pkg = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_package_show(db, dg_arena_strndup(r->arena, file, stem), &pkg);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "Dataset not found");
	if (rc)
		return rc;
	json_t *graph = json_array();
	dg_od_links_absolute(r, pkg); /* an uploaded file's IRI too */
	dataset_nodes(r->arena, base_url(r), pkg, graph);
	json_decref(pkg);
	return reply_graph(r, graph, turtle);
}

/* The catalogue node, its publisher and the Hydra page node onto graph. */
static void catalog_nodes(struct dg_req *r, const char *base, json_t *found, int64_t page,
			  int64_t last, const char *ext, json_t *graph)
{
	const char *cat = dg_arena_printf(r->arena, "%s/catalog", base);
	const char *pub = dg_arena_printf(r->arena, "%s/#publisher", base);
	const char *region = r->env->region.name_zh[0] ? r->env->region.name_zh : "dgov";
	json_t *c = json_pack(
		"{s:s, s:s, s:s, s:s, s:o}", "@id", cat, "@type", "dcat:Catalog", "dct:title",
		dg_arena_printf(r->arena, "%s 公共数据开放目录", region), "dct:description",
		dg_arena_printf(r->arena, "%s 政府开放数据目录 (open government data)", region),
		"dct:publisher", iri(pub));
	json_t *ids = json_array();
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(found, "results"), i, p)
		json_array_append_new(ids, iri(dg_arena_printf(r->arena, "%s/dataset/%s", base,
							       str_of(p, "id"))));
	if (json_array_size(ids))
		json_object_set_new(c, "dcat:dataset", ids);
	else
		json_decref(ids);
	json_array_append_new(graph, c);
	json_array_append_new(graph, json_pack("{s:s, s:s, s:s}", "@id", pub, "@type", "foaf:Agent",
					       "foaf:name", region));
	const char *self =
		dg_arena_printf(r->arena, "%s/catalog.%s?page=%lld", base, ext, (long long)page);
	json_t *h = json_pack("{s:s, s:s}", "@id", self, "@type", "hydra:PagedCollection");
	json_int_t total = json_integer_value(json_object_get(found, "count"));
	json_object_set_new(
		h, "hydra:totalItems",
		typed(dg_arena_printf(r->arena, "%lld", (long long)total), "xsd:integer"));
	json_object_set_new(h, "hydra:itemsPerPage", typed("100", "xsd:integer"));
	json_object_set_new(
		h, "hydra:firstPage",
		json_string(dg_arena_printf(r->arena, "%s/catalog.%s?page=1", base, ext)));
	json_object_set_new(h, "hydra:lastPage",
			    json_string(dg_arena_printf(r->arena, "%s/catalog.%s?page=%lld", base,
							ext, (long long)last)));
	if (page < last)
		json_object_set_new(h, "hydra:nextPage",
				    json_string(dg_arena_printf(r->arena, "%s/catalog.%s?page=%lld",
								base, ext, (long long)page + 1)));
	if (page > 1)
		json_object_set_new(h, "hydra:previousPage",
				    json_string(dg_arena_printf(r->arena, "%s/catalog.%s?page=%lld",
								base, ext, (long long)page - 1)));
	json_array_append_new(graph, h);
}

static dg_rc catalog(struct dg_req *r, bool turtle)
{
	dg_od_cors(r);
	int64_t page = 1, since = 0;
	const char *p = dg_kvs_get(&r->query, "page");
	if (p && (dg_str_to_i64(dg_str_of(p), &page) != DG_OK || page < 1 || page > 1000000))
		return dg_err_set(&r->err, DG_EINVAL, "page must be a whole number from 1");
	const char *fq[2];
	struct dg_od_search s = {.q = dg_kvs_get(&r->query, "q"),
				 .fq = fq,
				 .rows = PAGE_SIZE,
				 .start = (page - 1) * PAGE_SIZE,
				 .sort = "metadata_modified desc",
				 .now_ms = dg_now_ms()};
	if (dg_kvs_get(&r->query, "fq"))
		fq[s.nfq++] = dg_kvs_get(&r->query, "fq");
	const char *ms = dg_kvs_get(&r->query, "modified_since");
	if (ms) {
		if (dg_solr_date(ms, s.now_ms, &since) != DG_OK)
			return dg_err_set(
				&r->err, DG_EINVAL,
				"modified_since must be a date such as 2024-01-31T00:00:00Z");
		fq[s.nfq++] = dg_arena_printf(r->arena, "metadata_modified:[%s TO *]", ms);
	}
	struct dg_db *db = NULL;
	json_t *found = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_search_run(db, r->arena, &s, &found, &r->err);
	if (rc == DG_EINVAL) {
		char msg[sizeof r->err.msg];
		snprintf(msg, sizeof msg, "%s", r->err.msg);
		return dg_err_set(&r->err, rc, "Search Query is invalid: %s", msg);
	}
	if (rc)
		return rc;
	json_int_t total = json_integer_value(json_object_get(found, "count"));
	int64_t last = total ? (total + PAGE_SIZE - 1) / PAGE_SIZE : 1;
	if (page > last) {
		json_decref(found);
		return dg_err_set(&r->err, DG_ENOTFOUND, "The catalogue has %lld pages",
				  (long long)last);
	}
	const char *base = base_url(r);
	json_t *graph = json_array();
	dg_od_links_absolute(r, found);
	catalog_nodes(r, base, found, page, last, turtle ? "ttl" : "jsonld", graph);
	size_t i;
	json_t *pkg;
	json_array_foreach (json_object_get(found, "results"), i, pkg)
		dataset_nodes(r->arena, base, pkg, graph);
	json_decref(found);
	return reply_graph(r, graph, turtle);
}

dg_rc dg_dcat_catalog_ttl(struct dg_req *r)
{
	return catalog(r, true);
}

dg_rc dg_dcat_catalog_jsonld(struct dg_req *r)
{
	return catalog(r, false);
}
