#!/usr/bin/env bash
# bench/catalog/create.sh - publishing through CKAN's API (issue 19's goal:
# >= 500 package_create/s with 8 clients, and a harvest created in full
# with no request refused), on SQLite and PostgreSQL in the same run.
#
# dgov: a demo catalogue of BENCH_BASE datasets, then 8 staff accounts of 8
# departments, each with an API token, publish datasets (three tags and two
# resources each) for BENCH_SECONDS under wrk (-t8 -c8, one client a
# thread: bench/catalog/create.lua). Every answer is counted by status; the
# store must then hold exactly the acknowledged datasets (LOST or
# DUPLICATED otherwise) and no request may be refused (429). The whole
# harvest of 190,000 at 500/s is BENCH_SECONDS=400.
#
# The peer: the same rows written straight to the store, one durable
# transaction a dataset (the dataset, its tags, its resources and its
# search document), by the sqlite3 CLI (one writer, as SQLite allows) and
# by pgbench with the same 8 clients. dgov does more in each transaction
# (the unfiltered facet counts, the name checks); the ratio dgov / store
# says what that and the API cost. Recorded for `make bench`'s table.
#
# Environment: DGOV_BIN (build/dgov), BENCH_SECONDS (20), BENCH_BASE (1000).
# Not a test: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
BASE=${BENCH_BASE:-1000}
SECS=${BENCH_SECONDS:-20}
CLIENTS=8
. bench/common.sh
bench_need wrk curl sqlite3

now() { date +%s.%N; }

# run STORE-NAME DB-URL SQL-COMMAND...: the demo, 8 publishers, the harvest under wrk
run() {
	local name=$1 db=$2
	shift 2
	local flags=(--db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --pwhash min --log-level warn)
	"$BIN" demo --datasets "$BASE" --rows 1000 "${flags[@]}" >/dev/null 2>&1
	local tokens="" i=0 d tok
	for d in $("$@" "SELECT code FROM departments ORDER BY id LIMIT $CLIENTS"); do
		"$BIN" user add --role staff --username "pub$i" --name "Publisher $i" --dept "$d" \
			--password "bench-password-$i" "${flags[@]}" >/dev/null
		tok=$("$BIN" user token "pub$i" harvest "${flags[@]}" 2>/dev/null | grep -o 'dgt_[0-9a-f]*' | head -n1)
		[[ -n $tok ]] || { echo "bench: no API token for $d" >&2; exit 1; }
		tokens+="$tok:$d "
		i=$((i + 1))
	done
	((i == CLIENTS)) || { echo "bench: $CLIENTS departments needed, the demo has $i" >&2; exit 1; }
	local before
	before=$("$@" "SELECT COUNT(*) FROM od_packages")
	bench_serve "${flags[@]}"
	local out
	out=$(TOKENS=$tokens wrk -t$CLIENTS -c$CLIENTS -d"${SECS}s" \
		--latency -s bench/catalog/create.lua "$URL/api/3/action/package_create")
	bench_unserve
	local rps p50 p99 acked refused other after
	rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	acked=$(awk '/^acknowledged/ {print $2}' <<<"$out")
	refused=$(awk '/^acknowledged/ {print $4}' <<<"$out")
	other=$(awk '/^acknowledged/ {print $6}' <<<"$out")
	after=$("$@" "SELECT COUNT(*) FROM od_packages")
	local stored=$((after - before)) verdict=ok
	# wrk may cut a request in flight at its end: that one was never acknowledged
	((stored < acked)) && verdict=LOST
	((stored > acked + CLIENTS)) && verdict=DUPLICATED
	((refused > 0)) && verdict="$verdict,REFUSED"
	local peer ratio
	peer=$(peer_"$name" "$db" "$@")
	ratio=$(awk -v a="$rps" -v b="$peer" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	printf '%-11s %9s %8s %8s %9s %8s %6s %8s %-10s %10s %6s\n' "$name" "$rps" "$p50" "$p99" \
		"$acked" "$refused" "$other" "$stored" "$verdict" "$peer" "$ratio"
	local peer_name="sqlite3 CLI, same rows"
	[[ $name == postgresql ]] && peer_name="pgbench, same rows"
	bench_record "package_create, 8 clients, $name" "$rps" "$peer_name" "$peer" "$ratio" - req/s
}

# One dataset's rows and its search document's text; %N% is an SQL
# expression of a unique number (a literal for sqlite3, :n for pgbench).
PKG_SQL="INSERT INTO od_packages (id, name, title, notes, license_id, metadata_created,
 metadata_modified, owner_dept) VALUES ('p-' || %N%, 'mz-p-' || %N%, '采集数据集 ' || %N% || ' 统计年报',
 '由区域平台采集：年度统计，按街道汇总。', 'cc-by', 0, 0, 'mz');
INSERT INTO od_tags (package_id, name) VALUES ('p-' || %N%, '统计'), ('p-' || %N%, '年报'), ('p-' || %N%, 'h1');
INSERT INTO od_resources (id, package_id, name, format, url, created, last_modified, position)
 VALUES ('r0-' || %N%, 'p-' || %N%, '数据表', 'CSV', 'https://data.example.gov.cn/' || %N% || '.csv', 0, 0, 0),
 ('r1-' || %N%, 'p-' || %N%, '接口', 'JSON', 'https://data.example.gov.cn/' || %N% || '.json', 0, 0, 1);"
DOC="'采集 数据 数据集 统计 年报 区域 平台 年度 街道 汇总 数据表 csv 接口 json h1'"

# datasets per second through the sqlite3 CLI, one durable transaction each (WAL, synchronous=FULL)
peer_sqlite() {
	local n=3000 f="$TMP/peer.sql" i
	{
		echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		for i in $(seq 1 $n); do
			echo "BEGIN;"
			echo "${PKG_SQL//%N%/$i}"
			echo "INSERT INTO od_search (rowid, title, tags, notes, res) SELECT search_id, $DOC, '', '', ''"
			echo " FROM od_packages WHERE id = 'p-' || $i;"
			echo "COMMIT;"
		done
	} >"$f"
	local t0 t1
	t0=$(now)
	sqlite3 "$1" <"$f" >/dev/null
	t1=$(now)
	awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", n / (b - a)}'
}

# the same with pgbench: 8 clients, 1000 transactions each, numbers from a sequence
peer_postgresql() {
	local f="$TMP/peer.pgbench"
	shift
	"$@" "CREATE SEQUENCE peer_n" >/dev/null
	{
		echo "SELECT nextval('peer_n') AS n \\gset"
		echo "BEGIN;"
		echo "${PKG_SQL//%N%/:n}"
		echo "INSERT INTO od_search (doc, tsv) SELECT search_id, to_tsvector('simple', $DOC)"
		echo " FROM od_packages WHERE id = 'p-' || :n;"
		echo "COMMIT;"
	} >"$f"
	PGPASSWORD= "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c $CLIENTS -j 2 -t 1000 -f "$f" bench 2>"$TMP/pgbench.err" |
		awk '/^tps = / {printf "%.2f", $3}'
}

echo "# package_create over CKAN's API: $CLIENTS publishers of $CLIENTS departments, wrk -t$CLIENTS -c$CLIENTS -d${SECS}s, over a catalogue of $BASE"
printf '%-11s %9s %8s %8s %9s %8s %6s %8s %-10s %10s %6s\n' store req/s p50 p99 acknowledged refused other stored check store_tx/s ratio
run sqlite "$TMP/bench.db" sqlite3 "$TMP/bench.db"
if bench_pg_start bench; then
	run postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc
else
	echo "# PostgreSQL 15 is not installed here: only SQLite measured"
fi
