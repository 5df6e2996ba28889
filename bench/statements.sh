#!/usr/bin/env bash
# bench/statements.sh - how many SQL statements one request sends to the
# store: a package_create by a department's staff (CKAN's API) and an
# application submitted by a resident (/api/v1/applications) and an
# exchange lookup by a department system (/x/v1/person/{id}, the demo's
# 民政 key; a person's record, so it also writes the resident's use line). PostgreSQL
# logs every statement (log_statement=all); the script sends each request
# WARM times first (so first-use work is not counted), then N times back to
# back, and counts the statements the store logged for those, leaving out
# the node's own background statements (the health check, the job queue),
# BEGIN and COMMIT included. Prints statements a request; for the
# before/after of issue 17 point 3 and issue 19.
#
# Environment: DGOV_BIN (build/dgov), WARM (3), N (20). Needs PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DGOV_BIN:-build/dgov}
WARM=${WARM:-3}
N=${N:-20}
. bench/common.sh
bench_need curl
[[ -x $PGBIN/initdb ]] || { echo "bench: PostgreSQL 15 is needed" >&2; exit 1; }
mkdir -p "$TMP/pg" && chown postgres "$TMP/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
PGPORT=$((20000 + RANDOM % 30000))
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TMP/pg" -w -t 30 -l "$TMP/pg/server.log" \
	-o "-p $PGPORT -k $TMP/pg -h 127.0.0.1 -c log_statement=all -c log_line_prefix=%p:" start >/dev/null
createdb -h 127.0.0.1 -p "$PGPORT" -U postgres st
LOG=$TMP/pg/server.log
flags=(--db "postgresql://postgres@127.0.0.1:$PGPORT/st" --key-file "$TMP/key" --data "$TMP/data" --pwhash min --log-level warn)
"$BIN" demo --rows 1000 "${flags[@]}" >/dev/null 2>&1
"$BIN" user add --role staff --username pub0 --name "Publisher" --dept mz --password bench-password-0 "${flags[@]}" >/dev/null
staff=$("$BIN" user token pub0 harvest "${flags[@]}" 2>/dev/null | grep -o 'dgt_[0-9a-f]*' | head -n1)
resident=$("$BIN" user token lisi bench "${flags[@]}" 2>/dev/null | grep -o 'dgt_[0-9a-f]*' | head -n1)
bench_serve "${flags[@]}" --job-workers 0
n=0
create() {
	n=$((n + 1))
	curl -sf -o /dev/null -H "Authorization: $staff" -H 'Content-Type: application/json' \
		-d "{\"name\":\"mz-st-$n\",\"title\":\"统计年报 $n\",\"owner_org\":\"mz\",\"tags\":[{\"name\":\"统计\"},{\"name\":\"年报\"},{\"name\":\"h1\"}],\"resources\":[{\"url\":\"https://x.example/$n.csv\",\"format\":\"CSV\"},{\"url\":\"https://x.example/$n.json\",\"format\":\"JSON\"}]}" \
		"$URL/api/3/action/package_create"
}
submit() {
	curl -sf -o /dev/null -H "Authorization: Bearer $resident" -H 'Content-Type: application/json' \
		-d '{"item":"990100-MZ-004","answers":{"method":"social_card"}}' "$URL/api/v1/applications"
}
xn=0
lookup() {
	xn=$((xn + 1))
	curl -sf -o /dev/null -H 'X-Dgov-Client: mz/dibao' -H 'X-Dgov-Key: demo-mz-dibao-key-0001' \
		-H 'X-Dgov-Purpose: 990100-MZ-001' -H "X-Dgov-Request-Id: st-lookup-$xn" \
		"$URL/x/v1/person/990100198503120313?fields=name,birth_date"
}
# count WORK FN: the statements of N more FN after WARM of them, a request
count() {
	for _ in $(seq "$WARM"); do "$2"; done
	sleep 0.3
	local from
	from=$(wc -l <"$LOG")
	for _ in $(seq "$N"); do "$2"; done
	sleep 0.3
	local k
	k=$(tail -n +"$((from + 1))" "$LOG" | grep -E 'LOG:  (statement|execute [^:]*):' |
		grep -vcE 'schema_migrations|FROM jobs|UPDATE jobs' || true)
	printf '%-40s %s\n' "$1" "$(awk -v k="$k" -v n="$N" 'BEGIN {printf "%.1f", k / n}')"
}
count "package_create (3 tags, 2 resources)" create
count "application submitted (API)" submit
count "exchange lookup (/x/v1, one record)" lookup
