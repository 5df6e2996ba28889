#!/usr/bin/env bash
# bench/cases/run.sh - applications submitted over the API by 64 concurrent
# clients (wrk), on SQLite and on PostgreSQL in the same run: requests per
# second and p99, then a count in the store showing that every acknowledged
# (201) application is there once, none lost and none duplicated.
#
# Environment: DGOV_BIN (build/dgov), BENCH_SECONDS (10), BENCH_CONNECTIONS
# (64), BENCH_THREADS (2). Not a test: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${DGOV_BIN:-build/dgov}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PGBIN=/usr/lib/postgresql/15/bin
for tool in wrk curl sqlite3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/dgov-bench.XXXXXX)
chmod 755 "$TMP"
DGOV_PID=
PGPORT=
cleanup() {
	[[ -n $DGOV_PID ]] && kill "$DGOV_PID" 2>/dev/null && wait "$DGOV_PID" 2>/dev/null
	[[ -n $PGPORT ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# run STORE-NAME DB-URL COUNT-COMMAND...: serve the demo on DB, submit under
# wrk, then count the allowance applications with COUNT-COMMAND (it gets the SQL)
run() {
	local name=$1 db=$2
	shift 2
	local flags=(--db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --pwhash min --log-level warn)
	"$BIN" demo "${flags[@]}" >/dev/null 2>&1
	local token
	token=$("$BIN" user token lisi bench "${flags[@]}" 2>/dev/null | grep -o 'dgt_[A-Za-z0-9_-]*' | head -n1)
	[[ -n $token ]] || { echo "bench: no API token" >&2; exit 1; }
	local sql="SELECT COUNT(*) FROM cases c JOIN users u ON u.id = c.applicant_id WHERE u.username = 'lisi' AND c.item_code = '990100-MZ-004' AND c.status = 'submitted'"
	local before
	before=$("$@" "$sql")
	"$BIN" serve "${flags[@]}" --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
	DGOV_PID=$!
	local url=
	for _ in $(seq 1 100); do
		url=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1 || true)
		[[ -n $url ]] && break
		sleep 0.1
	done
	[[ -n $url ]] || { echo "bench: dgov did not start"; cat "$TMP/serve.err"; exit 1; }
	local out
	out=$(TOKEN=$token wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/cases/submit.lua "$url/api/v1/applications")
	kill "$DGOV_PID"
	wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
	local rps p99 acked other after
	rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	acked=$(awk '/^acknowledged/ {print $2}' <<<"$out")
	other=$(awk '/^acknowledged/ {print $4}' <<<"$out")
	after=$("$@" "$sql")
	local stored=$((after - before)) verdict=ok
	# wrk may cut requests in flight at the end: those were never acknowledged,
	# so the store may hold a few more than were acknowledged, never fewer
	((stored < acked)) && verdict=LOST
	((stored > acked + CONNS)) && verdict=DUPLICATED
	printf '%-11s %10s %9s %12s %8s %8s %9s\n' "$name" "$rps" "$p99" "$acked" "$other" "$stored" "$verdict"
}

echo "# applications submitted over the API: wrk -t$THREADS -c$CONNS -d${SECS}s, one resident's token, loopback"
printf '%-11s %10s %9s %12s %8s %8s %9s\n' store req/s p99 acknowledged errors stored check
run sqlite "$TMP/bench.db" sqlite3 "$TMP/bench.db"
if [[ -x $PGBIN/initdb ]] && id postgres >/dev/null 2>&1; then
	mkdir -p "$TMP/pg" && chown postgres "$TMP/pg"
	runuser -u postgres -- "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
	PGPORT=$((20000 + RANDOM % 30000))
	# durable like SQLite with synchronous=FULL: fsync stays on
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TMP/pg" -w -t 30 -l "$TMP/pg/server.log" \
		-o "-p $PGPORT -k $TMP/pg -h 127.0.0.1 -c max_connections=200" start >/dev/null
	createdb -h 127.0.0.1 -p "$PGPORT" -U postgres bench
	run postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc
else
	echo "# PostgreSQL 15 is not installed here: only SQLite measured"
fi
