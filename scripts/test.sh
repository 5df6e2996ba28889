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
# The parts are independent and run TEST_JOBS at a time; each part's output is
# held until it ends and then printed whole, so every part reads as its own TAP
# stream, in the order the parts end. On PostgreSQL each running part gets a
# database of its own (dgov_test_N for slot N), because the harness drops and
# recreates the public schema of DGOV_TEST_DB. The browser tests of both stores
# share one Chromium (tests/e2e/browser.mjs), and the page audits are split
# into shards (E2E_SHARD) that run as parts of their own. Before the total,
# a table gives each part's wall-clock and CPU seconds (CPU: the part's own
# processes, not the shared browser or server) and its results.
#
# Environment: DGOV_BIN (build/dgov), DGOV_BUILD (build), TEST_STORES
# ("sqlite postgresql"), TEST_FILTER (run only test binaries whose name
# contains it), E2E_FILTER (run only the browser test files whose name contains
# it, and nothing else), SKIP_E2E=1, TEST_JOBS (parts at once, default 2),
# DGOV_BUILD_SECONDS (the build's time, for the table; the Makefile sets it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BIN=${DGOV_BIN:-build/dgov}
BUILD=${DGOV_BUILD:-build}
STORES=${TEST_STORES:-sqlite postgresql}
FILTER=${TEST_FILTER:-}
E2E_FILTER=${E2E_FILTER:-}
JOBS=${TEST_JOBS:-2}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "test.sh: TEST_JOBS must be a positive number" >&2; exit 2; }
export DGOV_BIN="$ROOT/$BIN" DGOV_ROOT="$ROOT"
# leaks are bugs too; a sanitizer error fails the test binary it happens in
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}

T_START=$(date +%s.%N)
TMP=$(mktemp -d /tmp/dgov-test.XXXXXX)
chmod 755 "$TMP"
passed=0
failed=0
failures=()
PGBIN=/usr/lib/postgresql/15/bin
PGDATA="$TMP/pg"
PGPORT=
BROWSER_PID=
declare -A SERVER_PID=() # store -> the e2e server's pid
declare -A SINK_PID=()   # store -> its notice gateway's pid (tests/e2e/sink.mjs)
declare -A JOB_PID=()    # pid -> job index, for the parts running now

cleanup() {
	local pid
	for pid in "${!JOB_PID[@]}"; do kill -- "-$pid" 2>/dev/null; done
	for pid in "${SERVER_PID[@]}" "${SINK_PID[@]}" $BROWSER_PID; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [[ -e $PGDATA/postmaster.pid ]]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the closing table: one row per part
PARTS="$TMP/parts"
: >"$PARTS"
[[ -n ${DGOV_BUILD_SECONDS:-} ]] && printf 'build\t%s\t-\t-\t-\n' "$DGOV_BUILD_SECONDS" >>"$PARTS"
part_add() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$PARTS"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { # NAME MESSAGE: a failure that is not a test's
	echo "not ok - $2"
	failed=$((failed + 1))
	failures+=("$1")
}

# ---- what a part does (in a subshell of its own) ----

start_pg() {
	command -v runuser >/dev/null || { echo "test.sh: runuser is needed to start PostgreSQL as its own user"; return 1; }
	mkdir -p "$PGDATA" && chown postgres "$PGDATA"
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 || {
		cat "$TMP/initdb.log"; return 1; }
	local port i
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 30000))
		if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 30 -l "$PGDATA/server.log" \
			-o "-p $port -k $PGDATA -h 127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null; then
			# one database per slot, and one per store's browser tests
			for ((i = 1; i <= JOBS; i++)); do
				createdb -h 127.0.0.1 -p "$port" -U postgres "dgov_test_$i" || return 1
			done
			createdb -h 127.0.0.1 -p "$port" -U postgres dgov_e2e || return 1
			echo "$port" >"$TMP/pg.port"
			return 0
		fi
	done
	cat "$PGDATA/server.log"
	return 1
}

# STORE [LEVEL]: the flags of demo, jobs and serve for the browser tests; the
# server logs each request (info), so a failed journey can show what it asked
e2e_flags() {
	local dir="$TMP/e2e-$1" db="$TMP/e2e-$1/e2e.db"
	[[ $1 == postgresql ]] && db="postgresql://postgres@127.0.0.1:$PGPORT/dgov_e2e"
	echo --db "$db" --key-file "$dir/key" --data "$dir/data" --pwhash min --port 0 \
		--log-level "${2:-warn}"
}

make_demo() { # STORE: the demo region for the browser tests
	local flags
	read -ra flags <<<"$(e2e_flags "$1")"
	mkdir -p "$TMP/e2e-$1"
	# --with-runs: a finished run, a proposed grant batch and a finished what-if
	# (/office/batches/1 and /office/whatifs/1 in pages.json), and a resident's
	# finished export, job 13 (/data/exports/13)
	"$DGOV_BIN" demo --rows 20000 --with-runs "${flags[@]}" || return 1
	# job 1, so the job page has something to show (pages.json lists /jobs/1)
	"$DGOV_BIN" jobs add demo.tally '{"steps":3,"step_ms":10}' "${flags[@]}"
}

job_body() { # KIND STORE ARG SLOT
	local kind=$1 store=$2 arg=$3 slot=$4
	if [[ $store == postgresql ]]; then
		export DGOV_TEST_DB="postgresql://postgres@127.0.0.1:$PGPORT/dgov_test_$slot"
	else
		unset DGOV_TEST_DB
	fi
	case $kind in
	pg) start_pg ;;
	demo) make_demo "$store" ;;
	bin) CMOCKA_MESSAGE_OUTPUT=TAP "$arg" ;;
	suite) "$arg" ;;
	e2e)
		local file=${arg%@*} shard=
		[[ $arg == *@* ]] && shard=${arg#*@}
		DGOV_URL=$(cat "$TMP/e2e-$store/url") E2E_SHARD=$shard \
			DGOV_TEXTS="$TMP/e2e-$store/texts.jsonl" \
			node --test --test-reporter=tap "$file"
		;;
	esac
}

# ---- the queue ----
# A job is "KIND STORE ARG NAME": KIND pg (start PostgreSQL), demo (the browser
# tests' region), bin (a test binary), suite (tests/*/run.sh) or e2e (one
# browser test file, ARG FILE[@K/N] for shard K of N). A job waits for what it
# needs: PostgreSQL for the PostgreSQL store, the store's server for e2e.

Q=()
add() { Q+=("$1 $2 $3 $4"); }
STARTED=()   # job index -> 1 once launched
declare -A READY=() # "pg", "e2e-STORE" -> 1 (up) or 0 (failed)

want_e2e=0
if [[ ${SKIP_E2E:-} != 1 && (-z $FILTER || -n $E2E_FILTER) ]]; then
	if [[ -d tests/e2e/node_modules ]]; then
		want_e2e=1
	else
		fail e2e "e2e: npm packages missing (run scripts/deps.sh)"
	fi
fi

# How many shards each browser test file is split into: the page audits are
# most of the browser tests' time, and shards let them use every slot.
shards() {
	case $(basename "$1") in
	a11y.test.mjs) echo 4 ;;
	*) echo 1 ;;
	esac
}

for store in $STORES; do
	case $store in
	sqlite) ;;
	postgresql) add pg postgresql - "postgresql start" ;;
	*) echo "test.sh: unknown store $store" >&2; exit 2 ;;
	esac
	if ((want_e2e)); then
		add demo "$store" - "e2e demo ($store)"
		for f in tests/e2e/*.test.mjs; do
			[[ -z $E2E_FILTER || $f == *"$E2E_FILTER"* ]] || continue
			n=$(shards "$f")
			for ((k = 1; k <= n; k++)); do
				arg=$f
				((n > 1)) && arg="$f@$k/$n"
				name="e2e $(basename "$f" .test.mjs)"
				((n > 1)) && name="$name $k/$n"
				add e2e "$store" "$arg" "$name ($store)"
			done
		done
	fi
done
for store in $STORES; do
	[[ -z $E2E_FILTER ]] || break
	for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/http/test_*; do
		[[ -x $t && ! -d $t ]] || continue
		[[ -z $FILTER || $t == *"$FILTER"* ]] || continue
		add bin "$store" "$t" "$store $(basename "$t")"
	done
done
# suites that need no store (the rule language's tests as data)
for s in tests/*/run.sh; do
	[[ -x $s && -z $E2E_FILTER ]] || continue
	[[ -z $FILTER || $s == *"$FILTER"* ]] || continue
	add suite - "$s" "$s"
done

# needs IDX: what job IDX waits for ("" for nothing)
needs() {
	local kind store
	read -r kind store _ <<<"${Q[$1]}"
	case $kind in
	e2e) echo "e2e-$store" ;;
	demo | bin) [[ $store == postgresql ]] && echo pg ;;
	esac
}

# ---- running jobs ----
declare -A J_START=() J_SLOT=() J_LOG=() # J_LOG: the e2e server log's size at start
FREE=()
for ((i = JOBS; i >= 1; i--)); do FREE+=("$i"); done

launch() { # IDX
	local idx=$1 kind store arg
	read -r kind store arg _ <<<"${Q[$idx]}"
	local slot=${FREE[-1]}
	unset 'FREE[-1]'
	local out="$TMP/job.$idx"
	J_START[$idx]=$(now)
	J_SLOT[$idx]=$slot
	STARTED[$idx]=1
	[[ $kind == e2e ]] && J_LOG[$idx]=$(stat -c %s "$TMP/e2e-$store/serve.err" 2>/dev/null || echo 0)
	# own process group (set -m), so an interrupted run can stop it whole
	set -m
	(
		TIMEFORMAT='%3U %3S'
		{ time job_body "$kind" "$store" "$arg" "$slot" >"$out.out" 2>"$out.err"; } 2>"$out.time"
	) &
	set +m
	JOB_PID[$!]=$idx
}

# the browser tests' server for STORE, started once its demo is made
start_server() {
	local store=$1 dir="$TMP/e2e-$1" flags url=
	read -ra flags <<<"$(e2e_flags "$store" info)"
	if [[ -z $BROWSER_PID ]]; then
		node tests/e2e/browser.mjs >"$TMP/browser.ws" 2>"$TMP/browser.err" &
		BROWSER_PID=$!
		for _ in $(seq 1 300); do
			[[ -s $TMP/browser.ws ]] && break
			kill -0 "$BROWSER_PID" 2>/dev/null || break
			sleep 0.1
		done
		export DGOV_BROWSER_WS
		DGOV_BROWSER_WS=$(head -n1 "$TMP/browser.ws")
		if [[ -z $DGOV_BROWSER_WS ]]; then
			fail "e2e browser" "e2e: Chromium did not start"
			cat "$TMP/browser.err"
			return 1
		fi
	fi
	# its notice gateway, where the text messages of sign-up and reset go
	local secret sink=
	secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	DGOV_WEBHOOK_SECRET=$secret node tests/e2e/sink.mjs "$dir/texts.jsonl" >"$dir/sink.url" \
		2>"$dir/sink.err" &
	SINK_PID[$store]=$!
	for _ in $(seq 1 300); do
		sink=$(head -n1 "$dir/sink.url")
		[[ -n $sink ]] && break
		sleep 0.1
	done
	if [[ -z $sink ]]; then
		fail "e2e gateway ($store)" "e2e: the notice gateway did not start ($store)"
		cat "$dir/sink.err"
		return 1
	fi
	DGOV_WEBHOOK_SECRET=$secret "$DGOV_BIN" serve "${flags[@]}" --webhook-url "$sink" \
		>"$dir/serve.out" 2>"$dir/serve.err" &
	SERVER_PID[$store]=$!
	for _ in $(seq 1 300); do
		url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/serve.out" | head -n1)
		[[ -n $url ]] && break
		sleep 0.1
	done
	if [[ -z $url ]]; then
		fail "e2e server ($store)" "e2e: the server did not start ($store)"
		cat "$dir/serve.err"
		return 1
	fi
	echo "$url" >"$dir/url"
}

# once no e2e job of STORE is left, stop its server: it must exit cleanly
stop_server_when_done() {
	local store=$1 i kind s
	[[ -n ${SERVER_PID[$store]:-} ]] || return 0
	for i in "${!Q[@]}"; do
		read -r kind s _ <<<"${Q[$i]}"
		[[ $kind == e2e && $s == "$store" && -z ${ENDED[$i]:-} ]] && return 0
	done
	local pid=${SERVER_PID[$store]}
	unset 'SERVER_PID[$store]'
	kill "$pid"
	wait "$pid"
	local rc=$?
	if [[ -n ${SINK_PID[$store]:-} ]]; then
		kill "${SINK_PID[$store]}" 2>/dev/null
		wait "${SINK_PID[$store]}" 2>/dev/null
		unset 'SINK_PID[$store]'
	fi
	if ((rc != 0)); then
		fail "e2e server exit ($store)" "e2e server ($store) exited with status $rc"
		tail -n 40 "$TMP/e2e-$store/serve.err"
	fi
}

# what STORE's e2e server logged from byte OFFSET on: its warnings, errors, the
# forms posted and the requests refused (other parts' requests are among them)
server_log_since() { # STORE OFFSET
	local log="$TMP/e2e-$1/serve.err"
	[[ -f $log ]] || return 0
	echo "--- the e2e server ($1) while it ran: posts, 4xx/5xx, warnings (last 80) ---"
	tail -c +$(($2 + 1)) "$log" |
		grep -E '^[^ ]+ (warn|error) |req=[^ ]+ POST | [45][0-9]{2} [0-9.]+ms$' | tail -n 80
}

ENDED=() # job index -> 1 once finished (or dropped)

# a part ended: print its output whole and add up its results
finish() { # IDX RC
	local idx=$1 rc=$2 kind store arg name
	read -r kind store arg name <<<"${Q[$idx]}"
	local out="$TMP/job.$idx" sec cpu
	sec=$(since "${J_START[$idx]}")
	cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$out.time" 2>/dev/null)
	FREE+=("${J_SLOT[$idx]}")
	ENDED[$idx]=1
	case $kind in
	pg | demo)
		local what=pg
		[[ $kind == demo ]] && what="e2e-$store"
		if ((rc == 0)); then
			[[ $kind == pg ]] && PGPORT=$(cat "$TMP/pg.port")
			part_add "$name" "$sec" "$cpu" - -
			if [[ $kind == demo ]] && ! start_server "$store"; then
				READY[$what]=0
			else
				READY[$what]=1
			fi
		else
			fail "$name" "$name failed (status $rc)"
			tail -n 60 "$out.out" "$out.err"
			part_add "$name" "$sec" "$cpu" - 1
			READY[$what]=0
		fi
		;;
	*)
		local ok nok
		ok=$(grep -c '^ok ' "$out.out")
		nok=$(grep -c '^not ok ' "$out.out")
		echo "# $name"
		cat "$out.out"
		if ((rc != 0)) && ((nok == 0)); then
			# a crash or sanitizer report: count it, and show why
			nok=1
			echo "not ok - $name exited with status $rc"
		fi
		if ((nok > 0)); then
			failures+=("$name")
			echo "--- stderr of $name (last 60 lines) ---"
			tail -n 60 "$out.err"
			[[ $kind == e2e ]] && server_log_since "$store" "${J_LOG[$idx]:-0}"
		fi
		passed=$((passed + ok))
		failed=$((failed + nok))
		part_add "$name" "$sec" "$cpu" "$ok" "$nok"
		[[ $kind == e2e ]] && stop_server_when_done "$store"
		;;
	esac
	rm -f "$out.out" "$out.err" "$out.time"
}

# drop the jobs whose need failed, once: they count as one failure each store
drop_unmet() {
	local i need
	for i in "${!Q[@]}"; do
		[[ -z ${STARTED[$i]:-} ]] || continue
		need=$(needs "$i")
		[[ -n $need && ${READY[$need]:-} == 0 ]] || continue
		STARTED[$i]=1
		ENDED[$i]=1
	done
}

while :; do
	# start what can start, in queue order
	for i in "${!Q[@]}"; do
		((${#FREE[@]})) || break
		[[ -z ${STARTED[$i]:-} ]] || continue
		need=$(needs "$i")
		[[ -z $need || ${READY[$need]:-} == 1 ]] || continue
		launch "$i"
	done
	((${#JOB_PID[@]})) || break
	wait -n -p pid "${!JOB_PID[@]}"
	rc=$?
	idx=${JOB_PID[$pid]}
	unset 'JOB_PID[$pid]'
	finish "$idx" "$rc"
	drop_unmet
done
for store in "${!SERVER_PID[@]}"; do stop_server_when_done "$store"; done
if [[ -n $BROWSER_PID ]]; then
	kill "$BROWSER_PID" 2>/dev/null
	wait "$BROWSER_PID" 2>/dev/null
	BROWSER_PID=
fi

# each part's time, then the total
{
	printf '%-44s %8s %8s %7s %7s\n' part seconds cpu passed failed
	while IFS=$'\t' read -r n sec cpu ok nok; do
		printf '%-44s %8s %8s %7s %7s\n' "$n" "$sec" "$cpu" "$ok" "$nok"
	done <"$PARTS"
	printf '%-44s %8s\n' "suite (wall clock, $JOBS at a time)" "$(since "$T_START")"
} | sed 's/^/# /'
if ((${#failures[@]})); then
	echo "# failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
