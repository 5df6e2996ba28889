#!/usr/bin/env bash
# run.sh - the source's own rules, as a TAP suite that needs no store (run by
# `make test` through scripts/test.sh): include arrows point down
# (scripts/check-layers.sh), no banned calls (scripts/checksrc.sh), and every C
# file laid out as clang-format lays it (.clang-format), when clang-format is
# installed. Each failing check prints what broke it.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
n=0
bad=0
check() { # NAME COMMAND...: one TAP line, the command's output when it fails
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$out" | head -n 60
		bad=1
	fi
}
unformatted() { # every C file clang-format would change, named once each
	local out
	out=$(find src tests fuzz bench -name '*.[ch]' -print0 | sort -z |
		xargs -0 clang-format --dry-run --Werror 2>&1 >/dev/null) && return 0
	grep -oE '^[^:]+\.[ch]:' <<<"$out" | sort -u | sed 's/:$/: not laid out as .clang-format says (make format)/'
	return 1
}
echo "1..3"
check "include arrows point down" scripts/check-layers.sh
check "no banned calls" scripts/checksrc.sh
if command -v clang-format >/dev/null; then
	check "every C file is formatted" unformatted
else
	n=$((n + 1))
	echo "ok $n - every C file is formatted # SKIP clang-format is not installed"
fi
exit $bad
