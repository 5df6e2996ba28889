// summary.mjs - prints the benchmark's figures and ratios from the JSON that
// run.sh collected, and checks that dgov and DuckDB count the same people.
import { readFileSync } from 'node:fs';

const [dir, n] = process.argv.slice(2);
const j = (f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
const one = j('dgov-single.json'), all = j('dgov-all.json'), duck = j('duckdb.json'), wi = j('whatif.json');
const explain = readFileSync(`${dir}/explain.txt`, 'utf8').match(/in ([0-9.]+) ms/);
const agree = all.rules.filter((r, i) => r.eligible === duck.all_counts[i][0] && r.unknown === duck.all_counts[i][1]).length;
const f = (x) => x.toFixed(3);
console.log(`\nrule engine benchmark: ${n} persons, 2 threads, reference date ${all.ref_date}`);
console.log(`  load (CSV -> columns)       dgov ${f(all.load_seconds)} s    duckdb ${f(duck.load_seconds)} s (persons table only)`);
console.log(`  one rule                    dgov ${f(one.eval_seconds)} s    duckdb ${f(duck.single_seconds)} s    duckdb/dgov ${(duck.single_seconds / one.eval_seconds).toFixed(2)}x`);
console.log(`  200 rules                   dgov ${f(all.eval_seconds)} s    duckdb ${f(duck.all_seconds)} s (200 queries)    duckdb/dgov ${(duck.all_seconds / all.eval_seconds).toFixed(2)}x`);
if (duck.fused_seconds !== null)
	console.log(`                              duckdb fused into one SELECT: ${f(duck.fused_seconds)} s`);
console.log(`  person-rule evaluations/s   dgov ${(all.evaluations / all.eval_seconds).toExponential(2)}   (goal >= 4e8; 200 rules in <= 5 s)`);
console.log(`  explain 1 person x 200 rules  ${explain ? explain[1] : '?'} ms   (goal <= 10 ms)`);
console.log(`  what-if, one parameter      ${f(wi.seconds)} s for ${wi.affected_rules} affected rules, both versions   (goal <= 5 s)`);
const sweep = readFileSync(`${dir}/sweep.txt`, 'utf8').match(/(\d+) values in (\d+) pass\S* over the data, ([0-9.]+) s/);
if (sweep) console.log(`  threshold sweep             ${sweep[1]} values x ${wi.affected_rules} rules in ${sweep[2]} pass, ${sweep[3]} s (compile + run)`);
console.log(`  peak memory                 dgov ${all.peak_rss_mb} MB   (goal <= 4096 MB)`);
console.log(`  counts agree with duckdb    ${agree} / ${all.rules.length} rules`);
if (agree !== all.rules.length) process.exitCode = 1;
