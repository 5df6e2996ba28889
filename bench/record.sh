# bench/record.sh - the one way a benchmark hands a figure to `make bench`'s
# closing table (bench/report.sh). Sourced by bench/common.sh, and by the
# run.sh that do not source that (http, rule); plain sh, as rule's is.
#
# bench_record WORK DGOV PEER_NAME PEER RATIO GOAL UNIT
#   WORK       what was measured ("home page", "CSV load until readable, sqlite")
#   DGOV PEER  dgov's figure and the peer's, in UNIT (req/s, rows/s, ms, s)
#   RATIO      higher is better for dgov: dgov/peer for rates, peer/dgov for
#              times, so 1.00 is as fast as the peer either way
#   GOAL       the least ratio its issue asks for (0.5), or - when none
# appends one tab-separated line to the file named by BENCH_RESULTS, which
# the Makefile's bench target sets; a run.sh run by hand (BENCH_RESULTS
# unset) records nothing and prints its own table as before. An empty DGOV,
# PEER or RATIO (a figure the run could not take) reads as missing.
bench_record() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	[ $# -eq 7 ] || { echo "bench_record: 7 fields, got $#: $*" >&2; return 1; }
	# the fields are the scripts' own labels and numbers: never a tab or a newline
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_RESULTS"
}
