#!/bin/sh
# bench/rule/run.sh - the rule engine next to DuckDB on the same synthetic
# registries, in the same run. Not a test: it prints figures and ratios.
#
#   bench/rule/run.sh [PERSONS]        default 10000000 (4M households, 1M enterprises)
#
# Needs DGOV_BIN (default build/dgov), a C compiler, node and npm (the
# DuckDB peer, @duckdb/node-api, is installed into bench/rule/node_modules).
# Generated data goes to bench/out/rule-PERSONS/ and is reused when present.
# BENCH_FUSED=1 also times DuckDB with all rules fused into one SELECT
# (slow: minutes at 10M). Under `make bench`, the two DuckDB/dgov ratios
# (one rule, 200 rules) go to its closing table too (bench/record.sh).
set -eu
cd "$(dirname "$0")/../.."
. bench/record.sh
N=${1:-10000000}
BIN=${DGOV_BIN:-build/dgov}
OUT=bench/out/rule-$N
REF=2025-07-01
mkdir -p "$OUT"

cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o "$OUT/gen" bench/rule/gen.c src/core/date.c src/core/mem.c
if [ ! -f "$OUT/.done" ]; then
	echo "generating $N persons into $OUT ..."
	"$OUT/gen" "$OUT" "$N" 200
	touch "$OUT/.done"
fi
if [ ! -d bench/rule/node_modules/@duckdb/node-api ]; then
	(cd bench/rule && npm install --no-audit --no-fund >/dev/null)
fi

echo "dgov: one rule"
"$BIN" rule run --rules "$OUT/single.rule" --data "$OUT" --ref-date $REF --json >"$OUT/dgov-single.json"
echo "dgov: 200 rules"
"$BIN" rule run --rules "$OUT/bench.rule" --data "$OUT" --ref-date $REF --json >"$OUT/dgov-all.json"
echo "dgov: explain one person against all rules"
"$BIN" rule explain --rules "$OUT/bench.rule" --data "$OUT" --ref-date $REF --id P00000123 --json \
	>/dev/null 2>"$OUT/explain.txt"
echo "dgov: what-if on one parameter"
"$BIN" rule whatif --rules "$OUT/bench.rule" --data "$OUT" --ref-date $REF \
	--set bench_income_line=2500.00 --json >"$OUT/whatif.json"
echo "duckdb: same rules as SQL, 2 threads"
node bench/rule/duckdb.mjs "$OUT" >"$OUT/duckdb.json"
echo "dgov: threshold sweep of 10 values in one pass"
"$BIN" rule whatif --rules "$OUT/bench.rule" --data "$OUT" --ref-date $REF \
	--sweep bench_income_line=1000.00..5500.00:500.00 >"$OUT/sweep.txt"
node bench/rule/summary.mjs "$OUT" "$N"
if [ -n "${BENCH_RESULTS:-}" ]; then
	# seconds, so the ratio is DuckDB's time over dgov's; no issue sets one
	d1=$(jq .eval_seconds "$OUT/dgov-single.json") k1=$(jq .single_seconds "$OUT/duckdb.json")
	d2=$(jq .eval_seconds "$OUT/dgov-all.json") k2=$(jq .all_seconds "$OUT/duckdb.json")
	r() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
	s3() { awk -v a="$1" 'BEGIN {printf "%.3f", a}'; } # seconds to the millisecond, as summary.mjs prints
	bench_record "rule engine, one rule, $N persons" "$(s3 "$d1")" "DuckDB, 2 threads" "$(s3 "$k1")" \
		"$(r "$k1" "$d1")" - s
	bench_record "rule engine, 200 rules, $N persons" "$(s3 "$d2")" "DuckDB, 200 queries" "$(s3 "$k2")" \
		"$(r "$k2" "$d2")" - s
fi
