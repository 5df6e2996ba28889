#!/usr/bin/env bash
# bench/exchange/verify.sh - `dgov audit verify` alone, over logs of
# several sizes, on PostgreSQL 15 (one of its own) and on SQLite: the part 2
# walk of bench/exchange/run.sh without its registry, lookups and appends,
# so the walk's slope can be measured at 1 M, 2 M ... 10 M records in
# minutes. Each size's chain is written by bench/exchange/audit.c `gen`
# (dg_audit_link, the log's own chaining code), loaded with COPY / .import,
# signed with one checkpoint, then walked BENCH_TURNS times (default 2) by
# each binary named: DGOV_BIN (build/dgov) and, when set, BENCH_BEFORE_BIN,
# in turns (before, after, before, after ...), so two builds meet the same
# load. Prints seconds (wall) and dgov's own CPU seconds per walk.
#
# Environment: DGOV_BIN, BENCH_BEFORE_BIN, BENCH_SIZES ("1000000 2000000"),
# BENCH_STORES ("postgresql sqlite"), BENCH_TURNS (2). Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
LIB=$(dirname "$BIN")/libdgov.a
SIZES=${BENCH_SIZES:-1000000 2000000}
STORES=${BENCH_STORES:-postgresql sqlite}
TURNS=${BENCH_TURNS:-2}
. bench/common.sh
bench_need psql sqlite3 cc pkg-config /usr/bin/time
[[ -f $LIB ]] || { echo "bench: $LIB is missing (make all)" >&2; exit 1; }

PKGS="jansson sqlite3 libpq libsodium libmicrohttpd libcurl yaml-0.1 libqrencode xlsxwriter"
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags $PKGS) -pthread \
	-o "$TMP/audit" bench/exchange/audit.c "$LIB" $(pkg-config --libs $PKGS) -lm -pthread
bench_pg_start verify || { echo "bench: PostgreSQL 15 is not installed here" >&2; exit 1; }
PGURL="postgresql://postgres@127.0.0.1:$PGPORT"
PQ=(psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -d verify)
COLS="seq, at_ms, kind, actor, subject, purpose, detail, hash"
mkdir -p "$TMP/data"

BINS=("$BIN")
NAMES=(after)
if [[ -n ${BENCH_BEFORE_BIN:-} ]]; then
	BINS=("$BENCH_BEFORE_BIN" "$BIN")
	NAMES=(before after)
fi

# walk NAME-OF-BIN BIN DB: one timed verify; prints "wall cpu"
walk() {
	local f=(--db "$2" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn)
	/usr/bin/time -f '%e %U %S' -o "$TMP/time" "$1" audit verify "${f[@]}" >"$TMP/verify.out" ||
		{ echo "bench: verify failed" >&2; cat "$TMP/verify.out" >&2; exit 1; }
	awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$TMP/time"
}

printf '# load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-11s %10s %-7s %8s %8s\n' store records binary wall_s cpu_s
for n in $SIZES; do
	read -r _ HEAD < <("$TMP/audit" gen "$n" "$TMP/audit.csv")
	chmod 644 "$TMP/audit.csv"
	for store in $STORES; do
		if [[ $store == postgresql ]]; then
			db="$PGURL/verify"
			"$BIN" audit verify --db "$db" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn >/dev/null
			"${PQ[@]}" -c "TRUNCATE audit_log, audit_checkpoints" \
				-c "\\copy audit_log ($COLS) FROM '$TMP/audit.csv' WITH (FORMAT csv)" \
				-c "UPDATE audit_head SET seq = $n, hash = '$HEAD' WHERE id = 1" -c "VACUUM ANALYZE audit_log"
		else
			db="$TMP/verify.db"
			rm -f "$db" "$db-wal" "$db-shm"
			"$BIN" audit verify --db "$db" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn >/dev/null
			sqlite3 "$db" ".import --csv '$TMP/audit.csv' audit_log" \
				"UPDATE audit_head SET seq = $n, hash = '$HEAD' WHERE id = 1"
		fi
		"$BIN" audit checkpoint --db "$db" --key-file "$TMP/node.key" --data "$TMP/data" --log-level warn >/dev/null
		for _ in $(seq 1 "$TURNS"); do
			for i in "${!BINS[@]}"; do
				read -r wall cpu < <(walk "${BINS[$i]}" "$db")
				printf '%-11s %10s %-7s %8s %8s\n' "$store" "$n" "${NAMES[$i]}" "$wall" "$cpu"
			done
		done
	done
	rm -f "$TMP/audit.csv"
done
printf '# load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
