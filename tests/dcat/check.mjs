// check.mjs - dgov's DCAT-AP 3 exports against the SEMICeu DCAT-AP 3.0.0
// SHACL shapes (dcat-ap-SHACL.ttl beside this file), and the same graph in
// its three syntaxes. Prints TAP. Run by run.sh with a server started on a
// demo store: node check.mjs URL TOKEN, TOKEN an API token of the closed
// dataset's department (may see it; the public may not).
import fs from 'node:fs';
import { Parser, Store, DataFactory } from 'n3';
import SHACLValidator from 'rdf-validate-shacl';
import { RdfXmlParser } from 'rdfxml-streaming-parser';
import jsonld from 'jsonld';

const [base, token] = process.argv.slice(2);
const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const EU = 'http://publications.europa.eu/resource/authority/access-right/';
let n = 0, failed = 0;
const ok = (cond, name, detail) => {
	n++;
	if (cond) console.log(`ok ${n} - ${name}`);
	else {
		failed++;
		console.log(`not ok ${n} - ${name}`);
		if (detail) console.log(String(detail).split('\n').slice(0, 20).map((l) => '#   ' + l).join('\n'));
	}
};

async function get(path, headers = {}) {
	const res = await fetch(base + path, { headers, redirect: 'manual' });
	return { status: res.status, type: res.headers.get('content-type') || '', vary: res.headers.get('vary') || '', location: res.headers.get('location') || '', body: await res.text() };
}

const turtle = (text) => new Parser({ format: 'text/turtle' }).parse(text);
function rdfxml(text) {
	return new Promise((resolve, reject) => {
		const quads = [], p = new RdfXmlParser({ baseIRI: base + '/' });
		p.on('data', (q) => quads.push(q)).on('error', reject).on('end', () => resolve(quads));
		p.write(text);
		p.end();
	});
}
async function fromJsonld(text) {
	const nq = await jsonld.toRDF(JSON.parse(text), { format: 'application/n-quads' });
	return new Parser({ format: 'application/n-quads' }).parse(nq);
}
// the Hydra page node is named by the page's own URL (catalog.ttl?page=1, catalog.rdf?page=1)
const page = (v) => v.replace(/\/catalog\.(ttl|rdf|jsonld)\?/, '/catalog.FMT?');
const key = (t) => t.termType === 'Literal' ? `"${page(t.value)}"^^<${t.datatype.value}>@${t.language}` : `<${page(t.value)}>`;
const triples = (qs) => new Set(qs.map((q) => `${key(q.subject)} ${key(q.predicate)} ${key(q.object)}`));
function sameTriples(a, b) {
	const A = triples(a), B = triples(b);
	const onlyA = [...A].filter((t) => !B.has(t)), onlyB = [...B].filter((t) => !A.has(t));
	return { same: onlyA.length === 0 && onlyB.length === 0 && A.size > 0, detail: `only in Turtle:\n${onlyA.slice(0, 5).join('\n')}\nonly in the other:\n${onlyB.slice(0, 5).join('\n')}` };
}

const shapes = new Store(turtle(fs.readFileSync(new URL('./dcat-ap-SHACL.ttl', import.meta.url), 'utf8')));
async function conforms(quads) {
	const data = new Store(quads);
	// RDFS entailment rdfs4: every IRI is an rdfs:Resource (the shapes ask
	// sh:class rdfs:Resource of accessURL, endpointURL and the like)
	for (const q of quads)
		for (const t of [q.subject, q.object])
			if (t.termType === 'NamedNode')
				data.addQuad(t, DataFactory.namedNode(RDF + 'type'), DataFactory.namedNode('http://www.w3.org/2000/01/rdf-schema#Resource'));
	const report = await new SHACLValidator(shapes).validate(data);
	const msgs = report.results.map((r) => `${r.focusNode?.value} ${r.path?.value}: ${r.message.map((m) => m.value).join(' ')}`);
	return { conforms: report.conforms, detail: msgs.join('\n') };
}
const rightsOf = (quads, ds) => quads.filter((q) => q.subject.value === ds && q.predicate.value === 'http://purl.org/dc/terms/accessRights').map((q) => q.object.value);

const auth = { Authorization: token };
const cases = [
	['catalogue', '/catalog', {}],
	['open dataset', '/dataset/minimum-living-allowance', {}],
	['conditional dataset', '/dataset/food-safety-inspections', {}],
	['closed dataset (its department)', '/dataset/sj-internal-case-ledger', auth],
];
for (const [what, path, headers] of cases) {
	const ttl = await get(path + '.ttl', headers);
	ok(ttl.status === 200 && ttl.type.startsWith('text/turtle'), `${what}: ${path}.ttl answers Turtle`, `${ttl.status} ${ttl.type} ${ttl.body.slice(0, 200)}`);
	let quads = [];
	try { quads = turtle(ttl.body); } catch (e) { ok(false, `${what}: Turtle parses`, e.message); continue; }
	const v = await conforms(quads);
	ok(v.conforms, `${what}: conforms to the DCAT-AP 3.0.0 SHACL shapes (${quads.length} triples)`, v.detail);
	const rdf = await get(path + '.rdf', headers);
	try {
		const s = sameTriples(quads, await rdfxml(rdf.body));
		ok(rdf.status === 200 && rdf.type.startsWith('application/rdf+xml') && s.same, `${what}: .rdf holds the same triples as the Turtle`, s.detail);
	} catch (e) { ok(false, `${what}: .rdf parses`, e.message); }
	const jl = await get(path + '.jsonld', headers);
	try {
		const s = sameTriples(quads, await fromJsonld(jl.body));
		ok(jl.status === 200 && s.same, `${what}: .jsonld holds the same triples as the Turtle`, s.detail);
	} catch (e) { ok(false, `${what}: .jsonld parses`, e.message); }
	// the IRI itself answers the same RDF by Accept, with Vary
	const neg = await get(path, { ...headers, Accept: 'application/rdf+xml;q=0.5, text/turtle' });
	ok(neg.status === 200 && neg.type.startsWith('text/turtle') && /accept/i.test(neg.vary) && sameTriples(quads, turtle(neg.body)).same,
		`${what}: ${path} with Accept text/turtle answers the same Turtle, Vary: Accept`, `${neg.status} ${neg.type} vary=${neg.vary}`);
	if (what.includes('dataset')) {
		const id = quads.find((q) => q.predicate.value === RDF + 'type' && q.object.value === 'http://www.w3.org/ns/dcat#Dataset').subject.value;
		const want = what.startsWith('open') ? 'PUBLIC' : what.startsWith('conditional') ? 'RESTRICTED' : 'NON_PUBLIC';
		const got = rightsOf(quads, id);
		ok(got.length === 1 && got[0] === EU + want, `${what}: dct:accessRights is ${want}`, got.join(' '));
		// the shapes do catch a dataset without its mandatory title
		const v2 = await conforms(quads.filter((q) => !(q.subject.value === id && q.predicate.value === 'http://purl.org/dc/terms/title')));
		ok(!v2.conforms && /title/.test(v2.detail), `${what}: without dct:title it does not conform (the shapes are in force)`, v2.detail);
	}
}

// a browser gets the page; the closed dataset stays hidden from the public
const html = await get('/dataset/minimum-living-allowance', { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
ok(html.status === 303 && /^\/data\/datasets\/[0-9a-f-]+$/.test(html.location) && /accept/i.test(html.vary), 'a browser at /dataset/{name} is sent to the dataset page (303, Vary: Accept)', `${html.status} ${html.location}`);
for (const path of ['/dataset/sj-internal-case-ledger', '/dataset/sj-internal-case-ledger.ttl', '/dataset/sj-internal-case-ledger.rdf']) {
	const r = await get(path, { Accept: 'text/turtle' });
	ok(r.status === 404 && !r.body.includes('内部办件台账'), `the public gets 404 for the closed ${path}`, `${r.status}`);
}
const cat = await get('/catalog.ttl');
ok(cat.status === 200 && !cat.body.includes('8000-000000000012') && !cat.body.includes('内部办件台账'), 'the catalogue leaves the closed dataset out', '');

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
