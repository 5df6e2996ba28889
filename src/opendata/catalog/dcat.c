/*
 * dcat.c - DCAT-AP 3 exports of the catalogue (see catalog_int.h). The graph is
 * built once as JSON-LD (jansson: nodes with prefixed property names,
 * values that are literals, {"@id"} IRIs or {"@value", "@type"} typed
 * literals) and written as that JSON-LD, as Turtle or as RDF/XML by small
 * writers that escape literals and IRIs for each grammar; the three hold
 * the same triples. Mandatory DCAT-AP 3 properties are always present: a
 * catalogue's title, description and publisher; a dataset's title and
 * description; a distribution's accessURL; an agent's name; a data
 * service's title and endpointURL; a concept's prefLabel. Every node that a
 * DCAT-AP 3 shape expects to be of a class (licence, rights statement,
 * concept, location, language, period, contact, frequency, format, page)
 * is written with its rdf:type, once per graph.
 *
 * A dataset's dct:accessRights comes from its access tier and never says
 * more than the tier allows: open is PUBLIC, conditional RESTRICTED, and
 * closed, private or anything unknown NON_PUBLIC.
 *
 * The IRIs resolve (dg_dcat_negotiate): /dataset/{id}, /catalog,
 * /organization/{name} and /group/{name} answer a 303 to the page for
 * people or the RDF the Accept header asks for.
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
#include "http/accept.h"
#include "opendata/catalog/solr.h"

#define PAGE_SIZE 100 /* ckanext-dcat's page size */
#define OUT_MAX   ((size_t)32 << 20)
#define EU_AUTH   "http://publications.europa.eu/resource/authority/"

static const char *const prefixes[][2] = {
	{"dcat", "http://www.w3.org/ns/dcat#"},
	{"dct", "http://purl.org/dc/terms/"},
	{"dcatap", "http://data.europa.eu/r5r/"},
	{"foaf", "http://xmlns.com/foaf/0.1/"},
	{"hydra", "http://www.w3.org/ns/hydra/core#"},
	{"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
	{"skos", "http://www.w3.org/2004/02/skos/core#"},
	{"vcard", "http://www.w3.org/2006/vcard/ns#"},
	{"xsd", "http://www.w3.org/2001/XMLSchema#"},
};
#define NPREFIXES (sizeof prefixes / sizeof prefixes[0])

/* dgov's update frequencies -> the EU frequency authority. */
static const char *const frequencies[][2] = {
	{"realtime", "CONT"},   {"daily", "DAILY"},         {"weekly", "WEEKLY"},
	{"monthly", "MONTHLY"}, {"quarterly", "QUARTERLY"}, {"yearly", "ANNUAL"},
	{"irregular", "IRREG"},
};

/* CKAN's licence ids -> the EU licence authority (the rest get a catalogue IRI). */
static const char *const licences[][2] = {
	{"cc-by", "CC_BY_4_0"},   {"cc-by-sa", "CC_BYSA_4_0"}, {"cc-zero", "CC0"},
	{"cc-nc", "CC_BYNC_4_0"}, {"odc-by", "ODC_BY"},        {"odc-odbl", "ODC_BL"},
	{"odc-pddl", "ODC_PDDL"},
};

/* Access tiers -> the EU access-right authority; anything else is NON_PUBLIC. */
static const char *const rights[][3] = {
	{"open", "PUBLIC", "open: anyone may use the data"},
	{"conditional", "RESTRICTED", "conditional: the data is given to approved applications"},
};

/* The catalogue's own metadata licence (the records, not the data). */
#define CATALOG_LICENCE "cc-by"
/* Data and metadata are written in Chinese; a dataset's "language" extra may say otherwise. */
#define DEFAULT_LANGUAGE "ZHO"

/* A graph being built: its nodes and the IRIs of the nodes it has (each written once). */
struct graph {
	struct dg_arena *a;
	const char *base;
	json_t *nodes, *seen;
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

static bool is_http(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Add node to g unless a node of its @id is there (then node is dropped). */
static void add_node(struct graph *g, json_t *node)
{
	const char *id = str_of(node, "@id");
	if (json_object_get(g->seen, id)) {
		json_decref(node);
		return;
	}
	json_object_set_new(g->seen, id, json_true());
	json_array_append_new(g->nodes, node);
}

/* A node of one class with one literal property (a label or a name), as an IRI value. */
static json_t *labelled(struct graph *g, const char *id, const char *type, const char *prop,
			const char *label)
{
	json_t *n = json_pack("{s:s, s:s}", "@id", id, "@type", type);
	if (label && label[0])
		json_object_set_new(n, prop, json_string(label));
	add_node(g, n);
	return iri(id);
}

/* A skos:Concept (prefLabel is mandatory) of an EU authority table. */
static json_t *eu_concept(struct graph *g, const char *table, const char *code, const char *label)
{
	const char *id = dg_arena_printf(g->a, EU_AUTH "%s/%s", table, code);
	if (!json_object_get(g->seen, id)) {
		json_t *n = json_pack("{s:s, s:s, s:s, s:o}", "@id", id, "@type", "skos:Concept",
				      "skos:prefLabel", label, "skos:inScheme",
				      iri(dg_arena_printf(g->a, EU_AUTH "%s", table)));
		add_node(g, n);
	}
	return iri(id);
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

static const char *ckan_api(struct graph *g)
{
	return dg_arena_printf(g->a, "%s/catalog#ckan-api", g->base);
}

static const char *datastore_api(struct graph *g)
{
	return dg_arena_printf(g->a, "%s/catalog#datastore-api", g->base);
}

/* The two APIs as dcat:DataService nodes (once per graph). */
static void services(struct graph *g)
{
	json_t *n = json_pack(
		"{s:s, s:s, s:s, s:s, s:o, s:o}", "@id", ckan_api(g), "@type", "dcat:DataService",
		"dct:title", "CKAN Action API", "dct:description",
		"Read the catalogue's datasets and resources as CKAN's API serves them "
		"(package_search, package_show).",
		"dcat:endpointURL", iri(dg_arena_printf(g->a, "%s/api/3/action/", g->base)),
		"dcat:endpointDescription",
		iri(dg_arena_printf(g->a, "%s/api/3/action/help_show?name=package_show", g->base)));
	add_node(g, n);
	n = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "@id", datastore_api(g), "@type",
		      "dcat:DataService", "dct:title", "CKAN DataStore API", "dct:description",
		      "Query the rows of tabular resources: filters, full text, sorting and "
		      "paging (datastore_search).",
		      "dcat:endpointURL",
		      iri(dg_arena_printf(g->a, "%s/api/3/action/datastore_search", g->base)),
		      "dcat:endpointDescription",
		      iri(dg_arena_printf(g->a, "%s/api/3/action/help_show?name=datastore_search",
					  g->base)));
	add_node(g, n);
}

static json_t *distribution(struct graph *g, const char *ds_iri, json_t *res)
{
	struct dg_arena *a = g->a;
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
		json_object_set_new(d, "dct:format",
				    labelled(g, dg_arena_printf(a, EU_AUTH "file-type/%s", fmt),
					     "dct:MediaTypeOrExtent", "rdfs:label", fmt));
	const char *mt = str_of(res, "mimetype");
	if (mt[0] && strchr(mt, '/') && !strpbrk(mt, " <>\"{}|^`\\"))
		json_object_set_new(
			d, "dcat:mediaType",
			labelled(g,
				 dg_arena_printf(
					 a, "https://www.iana.org/assignments/media-types/%s", mt),
				 "dct:MediaType", "rdfs:label", mt));
	json_t *size = json_object_get(res, "size");
	if (json_is_integer(size) && json_integer_value(size) >= 0)
		json_object_set_new(
			d, "dcat:byteSize",
			typed(dg_arena_printf(a, "%lld", (long long)json_integer_value(size)),
			      "xsd:nonNegativeInteger"));
	/* a link kept by the catalogue is meant to stay (the EU's STABLE) */
	json_object_set_new(d, "dcatap:availability",
			    eu_concept(g, "planned-availability", "STABLE", "stable"));
	json_t *via = json_array();
	json_array_append_new(via, iri(ckan_api(g)));
	if (json_is_true(json_object_get(res, "datastore_active")))
		json_array_append_new(via, iri(datastore_api(g)));
	json_object_set_new(d, "dcat:accessService", via);
	return d;
}

/* dct:license of a dataset or the catalogue; NULL for "notspecified" or none. */
static json_t *licence(struct graph *g, const char *id)
{
	if (!id[0] || strcmp(id, "notspecified") == 0)
		return NULL;
	const char *title = id;
	for (size_t k = 0; k < dg_ckan_nlicenses; k++)
		if (strcmp(id, dg_ckan_licenses[k][0]) == 0)
			title = dg_ckan_licenses[k][1];
	for (size_t k = 0; k < sizeof licences / sizeof licences[0]; k++)
		if (strcmp(id, licences[k][0]) == 0)
			return labelled(g,
					dg_arena_printf(g->a, EU_AUTH "licence/%s", licences[k][1]),
					"dct:LicenseDocument", "rdfs:label", title);
	return labelled(g, dg_arena_printf(g->a, "%s/catalog#licence-%s", g->base, id),
			"dct:LicenseDocument", "rdfs:label", title);
}

/* dct:accessRights from the tier (and private): never more open than the tier. */
static json_t *access_rights(struct graph *g, const char *tier, bool private_)
{
	const char *code = "NON_PUBLIC", *label = "closed: the data is not published";
	for (size_t k = 0; !private_ && k < sizeof rights / sizeof rights[0]; k++)
		if (strcmp(tier, rights[k][0]) == 0) {
			code = rights[k][1];
			label = rights[k][2];
		}
	return labelled(g, dg_arena_printf(g->a, EU_AUTH "access-right/%s", code),
			"dct:RightsStatement", "rdfs:label", label);
}

/* A three-letter language code (the EU language authority's form). */
static bool lang_code(const char *s)
{
	if (strlen(s) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

static json_t *language(struct graph *g, const char *code)
{
	return labelled(g, dg_arena_printf(g->a, EU_AUTH "language/%s", code),
			"dct:LinguisticSystem", "rdfs:label", code);
}

/* The scheme of the catalogue's themes (its groups), dcat:themeTaxonomy. */
static const char *themes_iri(struct graph *g)
{
	const char *id = dg_arena_printf(g->a, "%s/catalog#themes", g->base);
	json_decref(labelled(g, id, "skos:ConceptScheme", "dct:title", "数据开放主题 (themes)"));
	return id;
}

/*
 * A group (a theme) as a skos:Concept of the catalogue's themes: its IRI
 * (which resolves) by its name, its label the theme itself (its id).
 */
static json_t *theme(struct graph *g, const char *name, const char *label)
{
	const char *id = dg_arena_printf(g->a, "%s/group/%s", g->base, name);
	if (!json_object_get(g->seen, id))
		add_node(g, json_pack("{s:s, s:s, s:s, s:o}", "@id", id, "@type", "skos:Concept",
				      "skos:prefLabel", label && label[0] ? label : name,
				      "skos:inScheme", iri(themes_iri(g))));
	return iri(id);
}

/* A date or date-time literal: xsd:date for YYYY-MM-DD, else xsd:dateTime; NULL otherwise. */
static json_t *when(const char *s)
{
	size_t n = strlen(s);
	if (n == 10 && s[4] == '-' && s[7] == '-')
		return typed(s, "xsd:date");
	if (n >= 19 && n <= 40 && s[4] == '-' && s[10] == 'T')
		return typed(s, "xsd:dateTime");
	return NULL;
}

/* dcat:contactPoint: the maintainer, else the author, with an email when known. */
static void contact(struct graph *g, const char *ds_iri, json_t *pkg, json_t *d)
{
	const char *fn = str_of(pkg, "maintainer"), *mail = str_of(pkg, "maintainer_email");
	if (!fn[0] && !mail[0]) {
		fn = str_of(pkg, "author");
		mail = str_of(pkg, "author_email");
	}
	if (!fn[0] && !mail[0])
		return;
	const char *id = dg_arena_printf(g->a, "%s#contact", ds_iri);
	json_t *k = json_pack("{s:s, s:s}", "@id", id, "@type", "vcard:Kind");
	json_object_set_new(k, "vcard:fn", json_string(fn[0] ? fn : mail));
	if (mail[0] && strchr(mail, '@') && !strpbrk(mail, " <>\"{}|^`\\:/?#"))
		json_object_set_new(k, "vcard:hasEmail",
				    iri(dg_arena_printf(g->a, "mailto:%s", mail)));
	add_node(g, k);
	json_object_set_new(d, "dcat:contactPoint", iri(id));
}

static void optional_props(struct graph *g, const char *ds_iri, json_t *pkg, json_t *d)
{
	json_t *lic = licence(g, str_of(pkg, "license_id"));
	if (lic)
		json_object_set_new(d, "dct:license", lic);
	json_object_set_new(d, "dct:accessRights",
			    access_rights(g, extra(pkg, "open_tier"),
					  json_is_true(json_object_get(pkg, "private"))));
	json_t *themes = json_array(), *grp;
	size_t i;
	json_array_foreach (json_object_get(pkg, "groups"), i, grp)
		if (str_of(grp, "name")[0])
			json_array_append_new(themes,
					      theme(g, str_of(grp, "name"), str_of(grp, "id")));
	if (json_array_size(themes))
		json_object_set_new(d, "dcat:theme", themes);
	else
		json_decref(themes);
	contact(g, ds_iri, pkg, d);
	const char *region = extra(pkg, "region");
	if (region[0])
		json_object_set_new(
			d, "dct:spatial",
			labelled(g, dg_arena_printf(g->a, "%s/catalog#region-%s", g->base, region),
				 "dct:Location", "rdfs:label", region));
	const char *lang = extra(pkg, "language");
	json_object_set_new(d, "dct:language",
			    language(g, lang_code(lang) ? lang : DEFAULT_LANGUAGE));
	json_t *from = when(extra(pkg, "temporal_start")), *to = when(extra(pkg, "temporal_end"));
	if (from || to) {
		const char *id = dg_arena_printf(g->a, "%s#period", ds_iri);
		json_t *p = json_pack("{s:s, s:s}", "@id", id, "@type", "dct:PeriodOfTime");
		if (from)
			json_object_set_new(p, "dcat:startDate", from);
		if (to)
			json_object_set_new(p, "dcat:endDate", to);
		add_node(g, p);
		json_object_set_new(d, "dct:temporal", iri(id));
	}
}

/* The nodes of one dataset (dataset, publisher, distributions, what they name) onto g. */
static void dataset_nodes(struct graph *g, json_t *pkg)
{
	struct dg_arena *a = g->a;
	const char *id = str_of(pkg, "id"), *org = str_of(pkg, "owner_org");
	const char *ds_iri = dg_arena_printf(a, "%s/dataset/%s", g->base, id);
	const char *org_iri = dg_arena_printf(a, "%s/organization/%s", g->base, org);
	const char *notes = str_of(pkg, "notes");
	if (json_object_get(g->seen, ds_iri))
		return; /* a dataset listed twice (a page of a catalogue that moved) */
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@id", ds_iri, "@type", "dcat:Dataset",
			      "dct:identifier", id, "dct:title", str_of(pkg, "title"),
			      "dct:description", notes[0] ? notes : str_of(pkg, "title"));
	add_node(g, d); /* first, before the nodes it names; still filled below */
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
					    labelled(g,
						     dg_arena_printf(a, EU_AUTH "frequency/%s",
								     frequencies[k][1]),
						     "dct:Frequency", "rdfs:label", freq));
	const char *url = str_of(pkg, "url");
	if (is_http(url))
		json_object_set_new(d, "dcat:landingPage",
				    labelled(g, url, "foaf:Document", "rdfs:label", NULL));
	if (str_of(pkg, "version")[0])
		json_object_set_new(d, "dcat:version", json_string(str_of(pkg, "version")));
	optional_props(g, ds_iri, pkg, d);
	json_t *dists = json_array();
	json_t *res;
	json_array_foreach (json_object_get(pkg, "resources"), i, res) {
		json_t *dist = distribution(g, ds_iri, res);
		json_array_append_new(dists, iri(str_of(dist, "@id")));
		add_node(g, dist);
	}
	if (json_array_size(dists)) {
		json_object_set_new(d, "dcat:distribution", dists);
		services(g);
	} else {
		json_decref(dists);
	}
	json_t *org_dict = json_object_get(pkg, "organization");
	add_node(g, json_pack("{s:s, s:s, s:s}", "@id", org_iri, "@type", "foaf:Agent", "foaf:name",
			      str_of(org_dict, "title")[0] ? str_of(org_dict, "title") : org));
}

/* ---- writers ---- */

/* The full IRI of one of this file's prefixed names (NULL when the prefix is not ours). */
static const char *expand(struct dg_arena *a, const char *name)
{
	const char *colon = strchr(name, ':');
	for (size_t i = 0; colon && i < NPREFIXES; i++)
		if (strlen(prefixes[i][0]) == (size_t)(colon - name) &&
		    strncmp(name, prefixes[i][0], (size_t)(colon - name)) == 0)
			return dg_arena_printf(a, "%s%s", prefixes[i][1], colon + 1);
	return NULL;
}

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
	for (size_t i = 0; !rc && i < NPREFIXES; i++)
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

/*
 * XML character data or an attribute value: & < > " escaped; CR as a
 * reference (a parser would turn a raw one into LF); tab and LF as
 * references in attributes (which normalise them to spaces); the other C0
 * controls, which XML 1.0 cannot hold at all, as U+FFFD. The catalogue's
 * own text never has them; a client's might.
 */
static dg_rc xml_text(struct dg_buf *b, const char *s)
{
	dg_rc rc = DG_OK;
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		switch (*p) {
		case '&': rc = dg_buf_adds(b, "&amp;"); break;
		case '<': rc = dg_buf_adds(b, "&lt;"); break;
		case '>': rc = dg_buf_adds(b, "&gt;"); break;
		case '"': rc = dg_buf_adds(b, "&quot;"); break;
		case '\r': rc = dg_buf_adds(b, "&#13;"); break;
		case '\n': rc = dg_buf_adds(b, "&#10;"); break;
		case '\t': rc = dg_buf_adds(b, "&#9;"); break;
		default: rc = *p < 0x20 ? dg_buf_adds(b, "\xEF\xBF\xBD") : dg_buf_addc(b, (char)*p);
		}
	}
	return rc;
}

/* An IRI as an attribute value, percent-encoded as Turtle's writer does, then XML-escaped. */
static dg_rc xml_iri(struct dg_buf *b, const char *s)
{
	dg_rc rc = DG_OK;
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if (*p <= 0x20 || strchr("<>\"{}|^`\\", *p))
			rc = dg_buf_addf(b, "%%%02X", *p);
		else if (*p == '&')
			rc = dg_buf_adds(b, "&amp;");
		else
			rc = dg_buf_addc(b, (char)*p);
	}
	return rc;
}

static dg_rc xml_value(struct dg_arena *a, struct dg_buf *b, const char *key, json_t *v)
{
	dg_rc rc = dg_buf_addf(b, "    <%s", key);
	if (rc)
		return rc;
	if (json_is_string(v)) {
		rc = dg_buf_addc(b, '>');
		rc = rc ? rc : xml_text(b, json_string_value(v));
	} else if (json_object_get(v, "@id")) {
		rc = dg_buf_adds(b, " rdf:resource=\"");
		rc = rc ? rc : xml_iri(b, str_of(v, "@id"));
		return rc ? rc : dg_buf_adds(b, "\"/>\n");
	} else {
		const char *dt = expand(a, str_of(v, "@type"));
		if (dt) {
			rc = dg_buf_adds(b, " rdf:datatype=\"");
			rc = rc ? rc : xml_iri(b, dt);
			rc = rc ? rc : dg_buf_addc(b, '"');
		}
		rc = rc ? rc : dg_buf_addc(b, '>');
		rc = rc ? rc : xml_text(b, str_of(v, "@value"));
	}
	return rc ? rc : dg_buf_addf(b, "</%s>\n", key);
}

/* RDF/XML: one rdf:Description per node, its type as rdf:type, properties as elements. */
static dg_rc write_rdfxml(struct dg_arena *a, json_t *graph, struct dg_buf *b)
{
	dg_rc rc = dg_buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF "
				  "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"");
	for (size_t i = 0; !rc && i < NPREFIXES; i++)
		rc = dg_buf_addf(b, "\n    xmlns:%s=\"%s\"", prefixes[i][0], prefixes[i][1]);
	rc = rc ? rc : dg_buf_adds(b, ">\n");
	size_t i;
	json_t *node;
	json_array_foreach (graph, i, node) {
		if (rc)
			break;
		rc = dg_buf_adds(b, "  <rdf:Description rdf:about=\"");
		rc = rc ? rc : xml_iri(b, str_of(node, "@id"));
		rc = rc ? rc : dg_buf_adds(b, "\">\n    <rdf:type rdf:resource=\"");
		rc = rc ? rc : xml_iri(b, expand(a, str_of(node, "@type")));
		rc = rc ? rc : dg_buf_adds(b, "\"/>\n");
		const char *key;
		json_t *v;
		json_object_foreach (node, key, v) {
			if (rc || key[0] == '@')
				continue;
			if (json_is_array(v)) {
				for (size_t k = 0; !rc && k < json_array_size(v); k++)
					rc = xml_value(a, b, key, json_array_get(v, k));
			} else {
				rc = xml_value(a, b, key, v);
			}
		}
		rc = rc ? rc : dg_buf_adds(b, "  </rdf:Description>\n");
	}
	return rc ? rc : dg_buf_adds(b, "</rdf:RDF>\n");
}

enum fmt { FMT_HTML, FMT_TURTLE, FMT_JSONLD, FMT_RDFXML };

/* What the Accept header asks of a DCAT IRI, in the order offered (HTML first). */
static const char *const offers[] = {"text/html", "text/turtle", "application/ld+json",
				     "application/rdf+xml"};
static const char *const exts[] = {"", "ttl", "jsonld", "rdf"};

static enum fmt negotiate(struct dg_req *r)
{
	dg_reply_header(r, "Vary", "Accept");
	int pick = dg_accept_pick(dg_req_header(r, "Accept"), offers,
				  sizeof offers / sizeof offers[0]);
	return pick < 0 ? FMT_HTML : (enum fmt)pick; /* nothing acceptable: the page */
}

/* Reply with the graph in fmt (steals graph). */
static dg_rc reply_graph(struct dg_req *r, json_t *graph, enum fmt fmt)
{
	if (fmt == FMT_JSONLD) {
		json_t *ctx = json_object();
		for (size_t i = 0; i < NPREFIXES; i++)
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
	dg_rc rc = fmt == FMT_RDFXML ? write_rdfxml(r->arena, graph, &b) : write_turtle(graph, &b);
	json_decref(graph);
	if (!rc)
		dg_reply_buf(r, 200,
			     fmt == FMT_RDFXML ? "application/rdf+xml; charset=utf-8"
					       : "text/turtle; charset=utf-8",
			     &b);
	dg_buf_release(&b);
	return rc;
}

static bool ends_with(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), k = strlen(suffix);
	*stem = n - k;
	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* A local path with one query value percent-encoded (for the 303s to the pages). */
static const char *page_with(struct dg_req *r, const char *path, const char *key, const char *v)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	dg_rc rc = dg_buf_addf(&b, "%s?%s=", path, key);
	rc = rc ? rc : dg_buf_add_url(&b, v, strlen(v));
	const char *out = rc ? path : dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

/*
 * GET /dataset/{id or name}[.ttl|.jsonld|.rdf|.xml]: one dataset's DCAT,
 * or without an extension the page or the RDF the Accept header asks for.
 * Seen as package_show sees it: closed and private datasets only by their
 * department's staff and administrators, to anyone else "not found".
 */
dg_rc dg_dcat_dataset(struct dg_req *r)
{
	dg_od_cors(r);
	const char *file = dg_kvs_get(&r->params, "file");
	size_t stem = strlen(file);
	enum fmt fmt;
	if (ends_with(file, ".ttl", &stem))
		fmt = FMT_TURTLE;
	else if (ends_with(file, ".jsonld", &stem))
		fmt = FMT_JSONLD;
	else if (ends_with(file, ".rdf", &stem) || ends_with(file, ".xml", &stem))
		fmt = FMT_RDFXML;
	else if (strchr(file, '.')) /* names and ids have no dot */
		return dg_err_set(&r->err, DG_ENOTFOUND,
				  "No such export: use .ttl, .jsonld or .rdf");
	else {
		stem = strlen(file);
		fmt = negotiate(r);
	}
	json_t *params = json_pack("{s:s%}", "id", file, stem), *pkg = NULL;
	dg_rc rc = dg_ckan_package_show(r, params, &pkg, &r->err);
	json_decref(params);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "Dataset not found");
	if (rc)
		return rc;
	if (fmt == FMT_HTML) {
		dg_reply_redirect(
			r, dg_arena_printf(r->arena, "/data/datasets/%s", str_of(pkg, "id")));
		json_decref(pkg);
		return DG_OK;
	}
	struct graph g = {r->arena, base_url(r), json_array(), json_object()};
	dg_od_links_absolute(r, pkg); /* an uploaded file's IRI too */
	dataset_nodes(&g, pkg);
	json_decref(pkg);
	json_decref(g.seen);
	return reply_graph(r, g.nodes, fmt);
}

/* The catalogue node, its publisher, services, themes and the Hydra page node onto g. */
/*
 * The catalogue, its publisher and the page's hydra view. page is 0 for a
 * page asked for by keyset (self is then its after=...); next is the
 * following page's query (after=..., NULL when this is the last).
 */
static void catalog_nodes(struct dg_req *r, struct graph *g, json_t *found, int64_t page,
			  int64_t last, const char *self_q, const char *next, const char *ext)
{
	const char *base = g->base;
	const char *cat = dg_arena_printf(r->arena, "%s/catalog", base);
	const char *pub = dg_arena_printf(r->arena, "%s/#publisher", base);
	const char *region = r->env->region.name_zh[0] ? r->env->region.name_zh : "dgov";
	json_t *c = json_pack(
		"{s:s, s:s, s:s, s:s, s:o}", "@id", cat, "@type", "dcat:Catalog", "dct:title",
		dg_arena_printf(r->arena, "%s 公共数据开放目录", region), "dct:description",
		dg_arena_printf(r->arena, "%s 政府开放数据目录 (open government data)", region),
		"dct:publisher", iri(pub));
	add_node(g, c);
	json_object_set_new(c, "foaf:homepage",
			    labelled(g, dg_arena_printf(r->arena, "%s/data", base), "foaf:Document",
				     "rdfs:label", NULL));
	json_object_set_new(c, "dct:language", language(g, DEFAULT_LANGUAGE));
	json_object_set_new(c, "dct:license", licence(g, CATALOG_LICENCE));
	json_object_set_new(c, "dcat:themeTaxonomy", iri(themes_iri(g)));
	int64_t first_ms = 0, last_ms = 0;
	struct dg_db *db = NULL;
	if (dg_req_db(r, &db) == DG_OK && dg_od_catalog_dates(db, &first_ms, &last_ms) == DG_OK &&
	    first_ms > 0) {
		char iso[64];
		dg_od_iso_time(first_ms, iso);
		json_object_set_new(c, "dct:issued", typed(iso, "xsd:dateTime"));
		dg_od_iso_time(last_ms, iso);
		json_object_set_new(c, "dct:modified", typed(iso, "xsd:dateTime"));
	}
	services(g);
	json_object_set_new(c, "dcat:service",
			    json_pack("[o, o]", iri(ckan_api(g)), iri(datastore_api(g))));
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
	add_node(g, json_pack("{s:s, s:s, s:s}", "@id", pub, "@type", "foaf:Agent", "foaf:name",
			      region));
	const char *self = dg_arena_printf(r->arena, "%s/catalog.%s?%s", base, ext, self_q);
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
	/* the next page by keyset: it starts where this one ends, whatever its depth */
	if (next)
		json_object_set_new(h, "hydra:nextPage",
				    json_string(dg_arena_printf(r->arena, "%s/catalog.%s?%s", base,
								ext, next)));
	if (page > 1)
		json_object_set_new(h, "hydra:previousPage",
				    json_string(dg_arena_printf(r->arena, "%s/catalog.%s?page=%lld",
								base, ext, (long long)page - 1)));
	add_node(g, h);
}

/*
 * The keyset of a catalogue page: "after=MS.NAME", the last dataset of the
 * page before, by its modification time (ms) and name (a name never has a
 * dot). NAME is URL-safe as CKAN's names are.
 */
static dg_rc after_of(const char *v, struct dg_arena *a, int64_t *ms, const char **name)
{
	const char *dot = strchr(v, '.');
	if (!dot || !dot[1] || strlen(dot + 1) > 200 ||
	    strspn(dot + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
		    strlen(dot + 1) ||
	    dg_str_to_i64((struct dg_str){v, (size_t)(dot - v)}, ms) != DG_OK || *ms < 0)
		return DG_EINVAL;
	*name = dg_arena_strdup(a, dot + 1);
	return DG_OK;
}

/* "after=MS.NAME" for the page after the one that ends with pkg, or NULL. */
static const char *next_of(struct dg_arena *a, json_t *pkg)
{
	int64_t ms = 0;
	const char *name = str_of(pkg, "name"), *iso = str_of(pkg, "metadata_modified");
	if (!name[0] || dg_solr_date(iso, 0, &ms) != DG_OK)
		return NULL;
	return dg_arena_printf(a, "after=%lld.%s", (long long)ms, name);
}

static dg_rc catalog(struct dg_req *r, enum fmt fmt)
{
	dg_od_cors(r);
	if (fmt == FMT_HTML) {
		dg_reply_redirect(r, "/data");
		return DG_OK;
	}
	int64_t page = 1, since = 0;
	const char *p = dg_kvs_get(&r->query, "page");
	if (p && (dg_str_to_i64(dg_str_of(p), &page) != DG_OK || page < 1 || page > 1000000))
		return dg_err_set(&r->err, DG_EINVAL, "page must be a whole number from 1");
	const char *after = dg_kvs_get(&r->query, "after");
	int64_t after_ms = 0;
	const char *after_name = NULL;
	if (after && (p || after_of(after, r->arena, &after_ms, &after_name) != DG_OK))
		return dg_err_set(&r->err, DG_EINVAL,
				  "after must be the nextPage link's value (and without page)");
	const char *fq[2];
	struct dg_od_search s = {.q = dg_kvs_get(&r->query, "q"),
				 .fq = fq,
				 .rows = PAGE_SIZE,
				 .start = (page - 1) * PAGE_SIZE,
				 .sort = "metadata_modified desc",
				 .now_ms = dg_now_ms(),
				 .memo = r->env->searches,
				 .after_name = after_name,
				 .after_modified = after_ms};
	if (after)
		page = 0; /* by keyset: its number is not known, nor needed */
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
	json_t *results = json_object_get(found, "results");
	const char *self_q = after ? dg_arena_printf(r->arena, "after=%s", after)
				   : dg_arena_printf(r->arena, "page=%lld", (long long)page);
	/* a full page that is not the last has a next one, from its last dataset */
	const char *next = NULL;
	if (json_array_size(results) == PAGE_SIZE && (after || page < last))
		next = next_of(r->arena, json_array_get(results, PAGE_SIZE - 1));
	struct graph g = {r->arena, base_url(r), json_array(), json_object()};
	dg_od_links_absolute(r, found);
	catalog_nodes(r, &g, found, page, last, self_q, next, exts[fmt]);
	size_t i;
	json_t *pkg;
	json_array_foreach (json_object_get(found, "results"), i, pkg)
		dataset_nodes(&g, pkg);
	json_decref(found);
	json_decref(g.seen);
	return reply_graph(r, g.nodes, fmt);
}

dg_rc dg_dcat_catalog_ttl(struct dg_req *r)
{
	return catalog(r, FMT_TURTLE);
}

dg_rc dg_dcat_catalog_jsonld(struct dg_req *r)
{
	return catalog(r, FMT_JSONLD);
}

dg_rc dg_dcat_catalog_rdf(struct dg_req *r)
{
	return catalog(r, FMT_RDFXML);
}

dg_rc dg_dcat_catalog(struct dg_req *r)
{
	return catalog(r, negotiate(r));
}

/*
 * GET /organization/{name} and /group/{name}: the publisher (foaf:Agent) or
 * the theme (skos:Concept) the datasets' DCAT names, as RDF, or a 303 to the
 * catalogue's page filtered by it. Only organizations and groups that
 * organization_show / group_show know answer; others are "not found". A
 * name it had before a rename, or its id when its name is another, answers
 * 301 to the IRI of its name now (names.c).
 */
static dg_rc agent_or_theme(struct dg_req *r, bool org)
{
	dg_od_cors(r);
	enum fmt fmt = negotiate(r);
	const char *name = dg_kvs_get(&r->params, "name");
	struct dg_db *db = NULL;
	json_t *found = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_group_show(db, org, name, &found);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, org ? "Organization not found" : "Group not found");
	if (rc)
		return rc;
	const char *now = dg_arena_strdup(r->arena, str_of(found, "name"));
	if (strcmp(now, name) != 0) {
		json_decref(found);
		dg_reply_bytes(r, 301, "text/plain; charset=utf-8", "", 0);
		dg_reply_header(
			r, "Location",
			dg_arena_printf(r->arena, "/%s/%s", org ? "organization" : "group", now));
		return DG_OK;
	}
	if (fmt == FMT_HTML) {
		json_decref(found);
		dg_reply_redirect(r, page_with(r, "/data", org ? "org" : "group", name));
		return DG_OK;
	}
	struct graph g = {r->arena, base_url(r), json_array(), json_object()};
	if (org) {
		const char *title = str_of(found, "title");
		json_t *n = json_pack("{s:s, s:s, s:s, s:s}", "@id",
				      dg_arena_printf(r->arena, "%s/organization/%s", g.base, name),
				      "@type", "foaf:Agent", "foaf:name", title[0] ? title : name,
				      "dct:identifier", name);
		add_node(&g, n);
	} else {
		json_decref(theme(&g, name, str_of(found, "id")));
	}
	json_decref(found);
	json_decref(g.seen);
	return reply_graph(r, g.nodes, fmt);
}

dg_rc dg_dcat_organization(struct dg_req *r)
{
	return agent_or_theme(r, true);
}

dg_rc dg_dcat_group(struct dg_req *r)
{
	return agent_or_theme(r, false);
}
