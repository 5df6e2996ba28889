#!/usr/bin/env bash
# bench/report.sh - the end of `make bench`: one table of every figure the
# benchmarks recorded with bench_record (bench/record.sh), each next to its
# peer and the goal its issue set, and the same as JSON in bench/last.json
# with what makes two runs comparable or not: the commit, the machine's
# cores and its load average when the benchmarks began and when they ended.
#
#   bench/report.sh RESULTS "LOAD1 LOAD5 LOAD15" [OUT]   OUT: bench/last.json
#
# RESULTS holds bench_record's tab-separated lines; the second argument is
# the first three fields of /proc/loadavg taken before the first benchmark.
# A ratio reads the same way on every line: higher is better for dgov, 1.00
# is the peer's speed (dgov/peer for rates, peer/dgov for times); "met" is
# ratio >= goal, blank where the issue set no goal. Not a test: it asserts
# nothing and exits 0 whether or not the goals are met.
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:?usage: bench/report.sh RESULTS "LOAD1 LOAD5 LOAD15" [OUT]}
LOAD0=${2:?usage: bench/report.sh RESULTS "LOAD1 LOAD5 LOAD15" [OUT]}
OUT=${3:-bench/last.json}
command -v jq >/dev/null || { echo "bench: jq is missing (scripts/deps.sh bench)" >&2; exit 1; }

load1=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# figures from a tree with changes not committed are not the commit's
git diff --quiet HEAD -- 2>/dev/null || commit+=-dirty

# the lines as objects; a number that did not come (an empty field, a
# failed parse) is null, and so is "met" where either side is missing
jq -R -n \
	--arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg git "$commit" --argjson cores "$(nproc)" \
	--arg load0 "$LOAD0" --arg load1 "$load1" '
	def num: (tonumber? // null);
	def loads: split(" ") | map(select(. != "") | tonumber);
	{
		when: $when, git: $git, cores: $cores,
		loadavg: {start: ($load0 | loads), end: ($load1 | loads)},
		ratio: "higher is better for dgov: dgov/peer for rates, peer/dgov for times",
		figures: [inputs | select(. != "") | split("\t") | {
			work: .[0], unit: .[6], dgov: (.[1] | num), peer_name: .[2], peer: (.[3] | num),
			ratio: (.[4] | num), goal: (.[5] | num)
		}
		# a peer that gave no figure gives no ratio (the scripts print 0.00 then)
		| .ratio = (if .dgov == null or .peer == null or .peer == 0 then null else .ratio end)
		| .met = (if .goal == null or .ratio == null then null else .ratio >= .goal end)]
	}' <"$RESULTS" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"

echo
echo "# every figure of this run: ratio > 1 means dgov is faster than its peer"
echo "# (dgov/peer for rates, peer/dgov for times); goal is the least ratio asked for"
jq -r '"# \(.when), \(.git), \(.cores) cores, load average \(.loadavg.start | join(" ")) at the start, \(.loadavg.end | join(" ")) at the end"' "$OUT"
# joined by tabs, not @tsv, which would double the backslash of "\copy";
# awk pads by bytes (the labels are ASCII), as wide as the longest work and peer
jq -r '.figures[] | [.work, (if .dgov == null then "-" else "\(.dgov) \(.unit)" end),
	(if .peer == null then .peer_name else "\(.peer_name) \(.peer)" end),
	(if .ratio == null then "-" else "\(.ratio)x" end),
	(if .goal == null then "-" else ">= \(.goal)x" end),
	(if .met == null then "" elif .met then "yes" else "NO" end)] | join("\t")' "$OUT" |
	awk -F '\t' '{line[NR] = $0; if (length($1) > w) w = length($1); if (length($3) > p) p = length($3)}
		END {
			f = "%-" w "s  %18s  %-" p "s  %7s  %8s  %s\n"
			printf f, "work", "dgov", "peer", "ratio", "goal", "met"
			for (i = 1; i <= NR; i++) {
				split(line[i], c, "\t")
				printf f, c[1], c[2], c[3], c[4], c[5], c[6]
			}
		}'
n=$(jq '.figures | length' "$OUT")
((n > 0)) || echo "# (no figures: the benchmarks run record none)"
echo "# written to $OUT"
