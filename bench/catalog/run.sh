#!/usr/bin/env bash
# bench/catalog/run.sh - the open-data catalogue at the size the report
# counts, on SQLite and PostgreSQL in the same run. For each size in
# BENCH_SIZES, `dgov demo --datasets N` writes a generated catalogue (about
# 2.1 resources a dataset), dgov serves it, and each request of issue 19's
# table is sent BENCH_REPS times by one client; the median is reported.
#
# The peer: package_search's q next to the store's own full-text query over
# the same rows, the count and the first page of ids that package_search
# also needs (FTS5 MATCH in the sqlite3 CLI; tsvector @@ in psql), the same
# number of times in one session. ratio = peer / dgov: 1.00 is as fast as
# the store alone, 0.50 twice its time. Those three ratios are recorded for
# `make bench`'s closing table (bench/record.sh) with issue 19's goal, >= 0.5.
#
# Each request is measured twice: "dgov" is the median with the catalogue's
# version raised before every request (what any write does, so nothing kept
# by the version answers: the path a harvester writing all the time sees),
# "kept" the median of the same request repeated with no write between.
#
# Environment: DGOV_BIN (build/dgov), BENCH_SIZES ("1000 190000"),
# BENCH_REPS (15), BENCH_STORES ("sqlite postgresql"), BENCH_KEEP (a folder: the generated SQLite catalogues
# are kept there as cat-N.db and used again by the next run, since
# generating 190,000 datasets takes minutes). Not a test: nothing here
# asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
SIZES=${BENCH_SIZES:-1000 190000}
REPS=${BENCH_REPS:-15}
. bench/common.sh
bench_need curl sqlite3

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {printf "%.1f", (b - a) * 1000 / n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/?=&:*,"))' "$1"; }

# The requests: a label, then the path and query string (before encoding).
REQS=(
	"q one common word, 4 facets|/api/3/action/package_search?q=统计&facet.field=[\"organization\",\"groups\",\"tags\",\"res_format\"]"
	"q two words|/api/3/action/package_search?q=养老 机构"
	"q a word in one dataset|/api/3/action/package_search?q=0123457"
	"q no match|/api/3/action/package_search?q=zzqqxx"
	"fq organisation, start near its end|/api/3/action/package_search?fq=organization:mz&start=20000&rows=10"
	"sort metadata_modified desc|/api/3/action/package_search?sort=metadata_modified desc"
	"tag_list|/api/3/action/tag_list"
	"organization_list all_fields|/api/3/action/organization_list?all_fields=true"
	"/data?q=养老 (search page)|/data?q=养老"
	"/data (browse, first page)|/data"
	"/data?org=mz (organisation page)|/data?org=mz"
	"group_list all_fields|/api/3/action/group_list?all_fields=true"
	"/catalog.ttl (DCAT, first page)|/catalog.ttl"
	"package_show|/api/3/action/package_show?id=dataset-0000042"
)
# The peer's statements for the three q requests: FTS5 and tsquery text of
# the search module for the same words, as dgov binds them.
PEER_FTS=("(\"统计\")" "((\"养老\") AND (\"机构\"))" "(\"0123457\"*)")
PEER_TSQ=("('统计')" "(('养老') & ('机构'))" "('0123457':*)")

# median_ms URL [STORE-COMMAND...]: the median of REPS requests' total time,
# in ms; with a command, the catalogue's version is raised through it before
# each request (as a write does), so each is counted afresh
median_ms() {
	local url=$1
	shift
	for _ in $(seq "$REPS"); do
		if (($#)); then
			"$@" "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1" >/dev/null
		fi
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$url"
	done | awk '$1 != 200 {bad++} {print $2 * 1000}
		END {if (bad) print "bench: " bad " answers were not 200" > "/dev/stderr"}' |
		sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)]}'
}

serve() {
	local name=$1 db=$2
	"$BIN" serve --db "$db" --key-file "$TMP/key-$name" --data "$TMP/data-$name" --log-level warn \
		--port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
	DGOV_PID=$!
	for _ in $(seq 600); do
		URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1 || true)
		[[ -n $URL ]] && curl -sf "$URL/readyz" >/dev/null && return 0
		sleep 0.1
	done
	echo "bench: dgov did not start" >&2
	cat "$TMP/serve.err" >&2
	exit 1
}

stop() {
	kill "$DGOV_PID" && wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
}

# run STORE N DB SQL-COMMAND...: generate, serve, measure; the peer through the command
run() {
	local store=$1 n=$2 db=$3
	shift 3
	local t0 t1
	t0=$(now)
	if [[ $store == sqlite && -n ${BENCH_KEEP:-} && -f $BENCH_KEEP/cat-$n.db ]]; then
		cp "$BENCH_KEEP/cat-$n.db" "$db"
		cp "$BENCH_KEEP/key-$n" "$TMP/key-$store-$n"
		cp -r "$BENCH_KEEP/data-$n" "$TMP/data-$store-$n"
	else
		"$BIN" demo --datasets "$n" --rows 1000 --db "$db" --key-file "$TMP/key-$store-$n" \
			--data "$TMP/data-$store-$n" --pwhash min --log-level warn >/dev/null
		if [[ $store == sqlite && -n ${BENCH_KEEP:-} ]]; then
			mkdir -p "$BENCH_KEEP"
			cp "$db" "$BENCH_KEEP/cat-$n.db"
			cp "$TMP/key-$store-$n" "$BENCH_KEEP/key-$n"
			cp -r "$TMP/data-$store-$n" "$BENCH_KEEP/data-$n"
		fi
	fi
	t1=$(now)
	# one anonymous client: lift the public daily quota for the measurement
	"$@" "UPDATE od_access_settings SET value = 0 WHERE key = 'anon_daily'" >/dev/null
	printf '# %s, %d datasets: generated in %.1f s\n' "$store" "$n" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
	cp "$TMP/key-$store-$n" "$TMP/key-$store"
	serve "$store" "$db"
	local i=0
	for req in "${REQS[@]}"; do
		local label=${req%%|*} path=${req#*|}
		local d k
		d=$(median_ms "$URL$(enc "$path")" "$@")
		k=$(median_ms "$URL$(enc "$path")")
		if ((i < 3)); then
			local q p t0p t1p
			if [[ $store == sqlite ]]; then
				q=${PEER_FTS[$i]}
				p="SELECT COUNT(*) FROM od_search WHERE od_search MATCH '$q'; SELECT rowid FROM od_search WHERE od_search MATCH '$q' LIMIT 10;"
			else
				q=${PEER_TSQ[$i]}
				q=${q//\'/\'\'} # a literal in SQL: its quotes doubled
				p="SELECT COUNT(*) FROM od_search WHERE tsv @@ CAST('$q' AS tsquery); SELECT doc FROM od_search WHERE tsv @@ CAST('$q' AS tsquery) LIMIT 10;"
			fi
			for _ in $(seq "$REPS"); do echo "$p"; done >"$TMP/peer.sql"
			t0p=$(now)
			"$@" "$(cat "$TMP/peer.sql")" >/dev/null
			t1p=$(now)
			local pm
			pm=$(ms "$t0p" "$t1p" "$REPS")
			printf '%-11s %7d  %-38s dgov %8s ms   peer %8s ms   ratio %s   kept %s ms\n' \
				"$store" "$n" "$label" "$d" "$pm" "$(ratio "$pm" "$d")" "$k"
			local peer_name="FTS5 MATCH"
			[[ $store == postgresql ]] && peer_name="tsvector @@"
			bench_record "package_search $label, $store $n" "$d" "$peer_name" "$pm" "$(ratio "$pm" "$d")" 0.5 ms
		else
			printf '%-11s %7d  %-38s dgov %8s ms   kept %s ms\n' "$store" "$n" "$label" "$d" "$k"
		fi
		i=$((i + 1))
	done
	stop
}

echo "# median of $REPS requests by one client, each after a write (kept: none between);"
echo "# peer = the store's own full-text query (count + first page)"
STORES=${BENCH_STORES:-sqlite postgresql}
for n in $SIZES; do
	[[ $STORES == *sqlite* ]] || break
	run sqlite "$n" "$TMP/cat-$n.db" sqlite3 "$TMP/cat-$n.db"
done
if [[ $STORES != *postgresql* ]]; then
	echo "# postgresql: not asked for (BENCH_STORES)"
elif bench_pg_start $(for n in $SIZES; do echo "cat$n"; done); then
	for n in $SIZES; do
		run postgresql "$n" "postgresql://postgres@127.0.0.1:$PGPORT/cat$n" \
			psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d "cat$n" -Atc
	done
else
	echo "# postgresql: PostgreSQL 15 is not installed here; skipped"
fi
