// duckdb.mjs - the DuckDB peer for bench/rule: loads the generated CSV
// registries into in-memory tables (timed apart), then runs the same rules
// as SQL with 2 threads and prints JSON: load time, time for the single
// rule, time for all rules (one query each, as written in queries.sql) and
// for all rules fused into one SELECT, and every rule's eligible / unknown
// counts so run.sh can check that both engines agree.
//
//   node duckdb.mjs DATADIR
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const dir = process.argv[2];
const now = () => Number(process.hrtime.bigint()) / 1e9;
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();

const t0 = now();
await con.run(`CREATE TABLE persons AS SELECT * FROM read_csv('${dir}/persons.csv', header = true,
  columns = {'id': 'VARCHAR', 'birth_date': 'DATE', 'sex': 'VARCHAR', 'region': 'VARCHAR',
  'household': 'VARCHAR', 'role': 'VARCHAR', 'disability_grade': 'INTEGER',
  'is_veteran': 'BOOLEAN', 'degree': 'VARCHAR', 'income@2025-04': 'DECIMAL(15,2)',
  'income@2025-05': 'DECIMAL(15,2)', 'income@2025-06': 'DECIMAL(15,2)'})`);
const load = now() - t0;

const lines = (f) => readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter((l) => l.trim());
const run = async (qs) => {
	const out = [];
	const t = now();
	for (const q of qs) {
		const r = await con.runAndReadAll(q);
		const row = r.getRows()[0];
		out.push([Number(row[0]), Number(row[1])]);
	}
	return { secs: now() - t, counts: out };
};
// warm-up, then measure
await run(lines('single.sql'));
const single = await run(lines('single.sql'));
const all = await run(lines('queries.sql'));
// all rules fused: one scan with every rule's two filtered counts (BENCH_FUSED=1)
let fused = null;
const fusedCounts = [];
if (process.env.BENCH_FUSED === '1') {
	const parts = lines('queries.sql').map((q) => q.replace(/^SELECT /, '').replace(/ FROM persons$/, ''));
	const t = now();
	const fr = (await con.runAndReadAll(`SELECT ${parts.join(', ')} FROM persons`)).getRows()[0].map(Number);
	fused = now() - t;
	for (let i = 0; i < fr.length; i += 2) fusedCounts.push([fr[i], fr[i + 1]]);
}
console.log(JSON.stringify({ load_seconds: load, single_seconds: single.secs, single_counts: single.counts,
	all_seconds: all.secs, all_counts: all.counts, fused_seconds: fused, fused_counts: fusedCounts }));
