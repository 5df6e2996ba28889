#!/usr/bin/env bash
# test.sh - dgov's whole suite, on both stores.
#
# Runs, once with SQLite and once with a PostgreSQL 15 that it starts itself on
# loopback (in a private temporary folder): every unit test binary, every
# in-process HTTP test binary, and the browser tests against a real
# `dgov serve` with the demo region. Then the suites that need no store
# (tests/*/run.sh). Every part speaks TAP; the last line is the total:
# "N passed, N failed". Exit status is non-zero when anything failed.
#
# Environment: DGOV_BIN (build/dgov), DGOV_BUILD (build), TEST_STORES
# ("sqlite postgresql"), TEST_FILTER (run only test binaries whose name
# contains it), SKIP_E2E=1.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${DGOV_BIN:-build/dgov}
BUILD=${DGOV_BUILD:-build}
STORES=${TEST_STORES:-sqlite postgresql}
FILTER=${TEST_FILTER:-}
export DGOV_BIN="$ROOT/$BIN" DGOV_ROOT="$ROOT"
# leaks are bugs too; a sanitizer error fails the test binary it happens in
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}

T_START=$(date +%s.%N)
TMP=$(mktemp -d /tmp/dgov-test.XXXXXX)
chmod 755 "$TMP"
LOG="$TMP/log"
passed=0
failed=0
failures=()
PGBIN=/usr/lib/postgresql/15/bin
PGDATA="$TMP/pg"
PGPORT=
SERVER_PID=

cleanup() {
	[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	if [[ -n $PGPORT ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# part_add NAME SECONDS PASSED FAILED: one row of the closing table
PARTS="$TMP/parts"
: >"$PARTS"
[[ -n ${DGOV_BUILD_SECONDS:-} ]] && printf 'build\t%s\t-\t-\n' "$DGOV_BUILD_SECONDS" >>"$PARTS"
part_add() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$PARTS"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# run NAME CMD...: run one TAP-speaking program and add up its results
run() {
	local name=$1
	shift
	local out="$TMP/out.$$"
	local t0
	t0=$(now)
	"$@" >"$out" 2>"$out.err"
	local rc=$?
	local ok nok
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep -c '^not ok ' "$out")
	cat "$out"
	if ((rc != 0)) && ((nok == 0)); then
		# a crash or sanitizer report: count it, and show why
		nok=1
		echo "not ok - $name exited with status $rc"
	fi
	if ((nok > 0)); then
		failures+=("$name")
		echo "--- stderr of $name (last 60 lines) ---"
		tail -n 60 "$out.err"
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	part_add "$name" "$(since "$t0")" "$ok" "$nok"
	rm -f "$out" "$out.err"
}

start_pg() {
	command -v runuser >/dev/null || { echo "test.sh: runuser is needed to start PostgreSQL as its own user" >&2; return 1; }
	mkdir -p "$PGDATA" && chown postgres "$PGDATA"
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 || {
		cat "$TMP/initdb.log"; return 1; }
	for _ in 1 2 3 4 5; do
		PGPORT=$((20000 + RANDOM % 30000))
		if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -l "$PGDATA/server.log" \
			-o "-p $PGPORT -k $PGDATA -h 127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
			createdb -h 127.0.0.1 -p "$PGPORT" -U postgres dgov_test || return 1
			return 0
		fi
	done
	PGPORT=
	cat "$PGDATA/server.log"
	return 1
}

# the browser tests against a real server with the demo region
run_e2e() {
	local db=$1
	[[ ${SKIP_E2E:-} == 1 ]] && return 0
	[[ -d tests/e2e/node_modules ]] || { echo "not ok - e2e: npm packages missing (run scripts/deps.sh)"; failed=$((failed + 1)); return 0; }
	local dir="$TMP/e2e"
	rm -rf "$dir" && mkdir -p "$dir"
	local flags=(--db "$db" --key-file "$dir/key" --data "$dir/data" --pwhash min --port 0 --log-level warn)
	local t0
	t0=$(now)
	"$DGOV_BIN" demo --rows 20000 "${flags[@]}" >"$dir/demo.log" 2>&1 || { cat "$dir/demo.log"; failed=$((failed + 1)); failures+=("e2e demo"); return 0; }
	# job 1, so the job page has something to show (pages.json lists /jobs/1)
	"$DGOV_BIN" jobs add demo.tally '{"steps":3,"step_ms":10}' "${flags[@]}" >>"$dir/demo.log" 2>&1 || { cat "$dir/demo.log"; failed=$((failed + 1)); failures+=("e2e job"); return 0; }
	part_add "e2e demo ($2)" "$(since "$t0")" - -
	"$DGOV_BIN" serve "${flags[@]}" >"$dir/serve.out" 2>"$dir/serve.err" &
	SERVER_PID=$!
	local url=
	for _ in $(seq 1 100); do
		url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/serve.out" | head -n1)
		[[ -n $url ]] && break
		sleep 0.1
	done
	if [[ -z $url ]]; then
		echo "not ok - e2e: the server did not start"; cat "$dir/serve.err"
		failed=$((failed + 1)); failures+=("e2e server"); return 0
	fi
	local f
	for f in tests/e2e/*.test.mjs; do
		DGOV_URL=$url run "e2e $(basename "$f" .test.mjs) ($2)" node --test --test-reporter=tap "$f"
	done
	kill "$SERVER_PID"
	wait "$SERVER_PID"
	local rc=$?
	SERVER_PID=
	if ((rc != 0)); then
		echo "not ok - e2e server exited with status $rc"; tail -n 40 "$dir/serve.err"
		failed=$((failed + 1)); failures+=("e2e server exit")
	fi
}

for store in $STORES; do
	case $store in
	sqlite) unset DGOV_TEST_DB; e2e_db="$TMP/e2e.db" ;;
	postgresql)
		t0=$(now)
		if [[ -z $PGPORT ]] && ! start_pg; then
			echo "not ok - PostgreSQL could not be started"; failed=$((failed + 1)); failures+=("postgresql"); continue
		fi
		export DGOV_TEST_DB="postgresql://postgres@127.0.0.1:$PGPORT/dgov_test"
		e2e_db="postgresql://postgres@127.0.0.1:$PGPORT/dgov_e2e"
		createdb -h 127.0.0.1 -p "$PGPORT" -U postgres dgov_e2e 2>/dev/null
		part_add "postgresql start" "$(since "$t0")" - -
		;;
	*) echo "test.sh: unknown store $store" >&2; exit 2 ;;
	esac
	echo "# ---- store: $store ----"
	for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/http/test_*; do
		[[ -x $t && ! -d $t ]] || continue
		[[ -z $FILTER || $t == *"$FILTER"* ]] || continue
		echo "# $store: $(basename "$t")"
		CMOCKA_MESSAGE_OUTPUT=TAP run "$store $(basename "$t")" "$t"
	done
	[[ -z $FILTER ]] && run_e2e "$e2e_db" "$store"
done
unset DGOV_TEST_DB

# suites that need no store (the rule language's tests as data)
for s in tests/*/run.sh; do
	[[ -x $s ]] || continue
	[[ -z $FILTER || $s == *"$FILTER"* ]] || continue
	echo "# $s"
	run "$s" "$s"
done

# each part's time, then the total
{
	printf '%-44s %8s %7s %7s\n' part seconds passed failed
	while IFS=$'\t' read -r n sec ok nok; do
		printf '%-44s %8s %7s %7s\n' "$n" "$sec" "$ok" "$nok"
	done <"$PARTS"
	printf '%-44s %8s\n' "suite (wall clock)" "$(since "$T_START")"
} | sed 's/^/# /'
if ((${#failures[@]})); then
	echo "# failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
