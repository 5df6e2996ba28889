#!/usr/bin/env bash
# bench/cases/run.sh - applications submitted over the API by 64 concurrent
# clients (wrk), on SQLite and on PostgreSQL in the same run: requests per
# second and p99, then a count in the store showing that every acknowledged
# (201) application is there once, none lost and none duplicated. The peer
# is the store itself doing the same writes without dgov: one transaction
# inserting the case, its history row and the applicant's message, run by
# the sqlite3 CLI (one writer, as SQLite allows) and by pgbench with the same
# 64 clients, both durable (fsync on); the ratio is dgov / store, recorded
# per store with issue 17's goal (>= 0.5) for `make bench`'s closing table.
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
. bench/common.sh
bench_need wrk curl sqlite3

# run STORE-NAME DB-URL COUNT-COMMAND...: serve the demo on DB, submit under
# wrk, then count the allowance applications with COUNT-COMMAND (it gets the SQL)
run() {
	local name=$1 db=$2
	shift 2
	local flags=(--db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --pwhash min --log-level warn)
	"$BIN" demo --rows 1000 "${flags[@]}" >/dev/null 2>&1
	local token
	token=$("$BIN" user token lisi bench "${flags[@]}" 2>/dev/null | grep -o 'dgt_[A-Za-z0-9_-]*' | head -n1)
	[[ -n $token ]] || { echo "bench: no API token" >&2; exit 1; }
	local sql="SELECT COUNT(*) FROM cases c JOIN users u ON u.id = c.applicant_id WHERE u.username = 'lisi' AND c.item_code = '990100-MZ-004' AND c.status = 'submitted'"
	local before
	before=$("$@" "$sql")
	# wrk's clients all come from one address, which a node caps at 32 open
	# connections (--conn-per-addr) and refuses past it at once: the cap is
	# lifted, as for the clients of many addresses (or a trusted proxy) this stands for
	"$BIN" serve "${flags[@]}" --port 0 --conn-per-addr 1000 >"$TMP/serve.out" 2>"$TMP/serve.err" &
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
	local peer
	peer=$(peer_"$name" "$db")
	local ratio
	ratio=$(awk -v a="$rps" -v b="$peer" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	printf '%-11s %10s %9s %12s %8s %8s %9s %12s %7s\n' "$name" "$rps" "$p99" "$acked" "$other" "$stored" "$verdict" "$peer" "$ratio"
	local peer_name="sqlite3 CLI, same writes"
	[[ $name == postgresql ]] && peer_name="pgbench, same writes"
	bench_record "application submitted, $name" "$rps" "$peer_name" "$peer" "$ratio" 0.5 req/s
}

# The writes of one submission, straight to the store. %N% is a unique number.
TX_SQL="INSERT INTO cases (ref, item_code, item_version, item_name_zh, item_name_en, promised_days, dept_id,
 applicant_id, on_behalf, status, form, answers, prefilled, created_ms, updated_ms, submitted_ms)
 SELECT 'P-%N%', item_code, item_version, item_name_zh, item_name_en, promised_days, dept_id, applicant_id,
 on_behalf, 'submitted', form, answers, prefilled, created_ms, updated_ms, submitted_ms FROM cases
 WHERE item_code = '990100-MZ-004' ORDER BY id LIMIT 1;
INSERT INTO case_events (case_id, at_ms, actor_id, action, from_status, to_status, note, dept_id)
 SELECT MAX(id), 0, 1, 'submit', 'draft', 'submitted', '', 1 FROM cases;
INSERT INTO notify_messages (user_id, kind, params, link, created_ms)
 VALUES (1, 'case.submitted', '{\"ref\":\"P-%N%\",\"service\":\"高龄津贴申领\"}', '/my/cases/P-%N%', 0);"

# transactions per second of the same writes with the sqlite3 CLI (synchronous=FULL, WAL)
peer_sqlite() {
	local n=2000 f="$TMP/peer.sql"
	{
		echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		for i in $(seq 1 $n); do echo "BEGIN;"; echo "${TX_SQL//%N%/$i}"; echo "COMMIT;"; done
	} >"$f"
	local t0 t1
	t0=$(date +%s.%N)
	sqlite3 "$1" <"$f" >/dev/null
	t1=$(date +%s.%N)
	awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", n / (b - a)}'
}

# the same with pgbench: 64 clients, the same seconds
peer_postgresql() {
	local f="$TMP/peer.pgbench"
	echo "\\set n random(1000000, 999999999)" >"$f"
	echo "BEGIN;" >>"$f"
	echo "${TX_SQL//%N%/:n}" | sed "s/'P-:n'/'P-' || :n || '-' || :client_id/; s/\\\"ref\\\":\\\"P-:n\\\"/\\\"ref\\\":\\\"P\\\"/; s|/my/cases/P-:n|/my/cases/P|" >>"$f"
	echo "COMMIT;" >>"$f"
	PGPASSWORD= "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$CONNS" -j "$THREADS" -T "$SECS" -f "$f" bench 2>/dev/null |
		awk '/^tps = / {printf "%.2f", $3}'
}

echo "# applications submitted over the API: wrk -t$THREADS -c$CONNS -d${SECS}s, one resident's token, loopback"
printf '%-11s %10s %9s %12s %8s %8s %9s %12s %7s\n' store req/s p99 acknowledged errors stored check store_tx/s ratio
run sqlite "$TMP/bench.db" sqlite3 "$TMP/bench.db"
if bench_pg_start bench; then
	run postgresql "postgresql://postgres@127.0.0.1:$PGPORT/bench" psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d bench -Atc
else
	echo "# PostgreSQL 15 is not installed here: only SQLite measured"
fi
