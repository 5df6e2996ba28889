#!/usr/bin/env bash
# bench/soak/run.sh - the soak: 64 connections of mixed reads and writes
# (wrk, bench/soak/soak.lua: one request in five an application over the
# API, the rest pages and API reads) for BENCH_SECONDS on each store, on the
# demo region. Reports, per store: requests, errors (4xx/5xx and socket
# errors), p99, the server's resident memory after a warm-up and at the end
# (and its peak), and the acknowledged writes (201) against the applications
# the store holds afterwards (none may be missing). Then, from the server's
# own request log, where the time goes: p50, p99 and the slowest request per
# route, slowest first.
#
# Goal: 0 errors, 0 lost, RSS flat. Not a test: nothing here asserts; read it.
#
# Environment: DGOV_BIN (build/dgov), BENCH_SECONDS (600), BENCH_CONNECTIONS
# (64), BENCH_THREADS (2), BENCH_STORES ("sqlite postgresql").
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
SECS=${BENCH_SECONDS:-600}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
STORES=${BENCH_STORES:-sqlite postgresql}
. bench/common.sh
bench_need wrk curl sqlite3

USERS=(zhangsan lisi wangwu zhaoliu)
SQL_COUNT="SELECT COUNT(*) FROM cases c JOIN users u ON u.id = c.applicant_id WHERE c.item_code = '990100-MZ-004' AND c.status = 'submitted' AND u.username IN ('zhangsan', 'lisi', 'wangwu', 'zhaoliu')"

rss_kb() {
	awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# routes NAME LOG: p50, p99 and max per route from the request log lines
# ("req=ID METHOD PATH STATUS N.NNms"), numbers in paths folded, slowest p99 first
routes() {
	grep -o 'req=[0-9a-f]* [A-Z]* [^ ]* [0-9]* [0-9.]*ms' "$2" |
		awk '{p=$3; sub(/\?.*/, "", p); gsub(/[0-9][0-9-]*/, "N", p); sub(/ms$/, "", $5); print $2" "p, $5}' |
		sort -k1,2 -k3,3g |
		awk -v name="$1" '
		function flush() {
			if (n) printf "%-11s %-40s %8d %9.1f %9.1f %9.1f\n", name, key, n, v[int((n - 1) * 0.5) + 1],
				v[int((n - 1) * 0.99) + 1], v[n]
		}
		{ k = $1" "$2; if (k != key) { flush(); key = k; n = 0 } v[++n] = $3 }
		END { flush() }' |
		sort -k6,6gr | head -n 8
}

# run NAME DB COUNT-COMMAND...: the demo on DB, served, soaked, counted
run() {
	local name=$1 db=$2
	shift 2
	# one load generator is one address: the cap per address is raised for it
	local flags=(--db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --pwhash min
		--conn-per-addr 1000 --log-level info)
	"$BIN" demo --rows 1000 "${flags[@]}" >/dev/null 2>&1
	local tokens="" u t
	for u in "${USERS[@]}"; do
		t=$("$BIN" user token "$u" soak "${flags[@]}" 2>/dev/null | grep -o 'dgt_[0-9a-f]*' | head -n1)
		[[ -n $t ]] || { echo "soak: no API token for $u" >&2; exit 1; }
		tokens+="${tokens:+,}$t"
	done
	local before
	before=$("$@" "$SQL_COUNT")
	"$BIN" serve "${flags[@]}" --port 0 >"$TMP/serve-$name.out" 2>"$TMP/serve-$name.log" &
	DGOV_PID=$!
	local url=
	for _ in $(seq 1 100); do
		url=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve-$name.out" | head -n1 || true)
		[[ -n $url ]] && break
		sleep 0.1
	done
	[[ -n $url ]] || { echo "soak: dgov did not start"; cat "$TMP/serve-$name.log"; exit 1; }
	TOKENS=$tokens wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency --timeout 10s \
		-s bench/soak/soak.lua "$url" >"$TMP/wrk-$name.out" &
	local wrk_pid=$! warm=$((SECS / 20 > 5 ? SECS / 20 : 5))
	sleep "$warm"
	local rss0
	rss0=$(rss_kb "$DGOV_PID" VmRSS)
	wait "$wrk_pid"
	local rss1 peak
	rss1=$(rss_kb "$DGOV_PID" VmRSS)
	peak=$(rss_kb "$DGOV_PID" VmHWM)
	kill "$DGOV_PID"
	wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
	local out reqs p99 acked errs sock after
	out=$(cat "$TMP/wrk-$name.out")
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	acked=$(awk '/^acknowledged/ {print $2}' <<<"$out")
	errs=$(awk '/^acknowledged/ {print $4}' <<<"$out")
	sock=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' <<<"$out")
	after=$("$@" "$SQL_COUNT")
	local stored=$((after - before)) lost=0
	# wrk cuts requests in flight at the end: the store may hold a few more
	# than were acknowledged (never acknowledged), but never fewer
	((stored < acked)) && lost=$((acked - stored))
	printf '%-11s %6ss %10s %7s %7s %9s %9s %9s %9s %8s %6s\n' "$name" "$SECS" "$reqs" "$((errs + ${sock:-0}))" \
		"$p99" "$((rss0 / 1024))MiB" "$((rss1 / 1024))MiB" "$((peak / 1024))MiB" "$acked" "$stored" "$lost"
	routes "$name" "$TMP/serve-$name.log" >"$TMP/routes-$name.txt"
}

echo "# soak: wrk -t$THREADS -c$CONNS -d${SECS}s, 1 in 5 an application over the API, the rest reads; loopback"
printf '%-11s %7s %10s %7s %7s %9s %9s %9s %9s %8s %6s\n' store time requests errors p99 rss_start rss_end rss_peak acked stored lost
for store in $STORES; do
	case $store in
	sqlite) run sqlite "$TMP/soak.db" sqlite3 "$TMP/soak.db" ;;
	postgresql)
		if bench_pg_start soak; then
			run postgresql "postgresql://postgres@127.0.0.1:$PGPORT/soak" \
				psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d soak -Atc
		else
			echo "# PostgreSQL 15 is not installed here: only SQLite measured"
		fi
		;;
	*) echo "soak: unknown store $store" >&2; exit 2 ;;
	esac
done
echo
echo "# where the time goes (the server's request log): the slowest routes by p99, in ms"
printf '%-11s %-40s %8s %9s %9s %9s\n' store route requests p50 p99 max
for store in $STORES; do
	[[ -f $TMP/routes-$store.txt ]] && cat "$TMP/routes-$store.txt"
done
