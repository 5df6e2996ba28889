#!/usr/bin/env bash
# checksrc.sh - calls dgov's C does not make (run by `make test`; curl's
# checksrc is the model). Each has a bounded or clearer replacement:
#
#   strcpy strcat strncpy strncat   snprintf, or a capped struct dg_buf (core/buf.h)
#   sprintf vsprintf                snprintf, dg_buf_addf, dg_arena_printf
#   gets                            fgets
#   atoi atol atoll atof            dg_str_to_i64 / strtod with the end checked
#   strtok                          dg_str views, or strtok_r where a copy is cut
#   alloca tmpnam mktemp            arena or heap; mkstemp / mkdtemp
#
# Scans src, tests, fuzz and bench; a line may opt out with a trailing
# "/* checksrc: allow NAME: why */" comment. Prints FILE:LINE: for each use
# and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|strncpy|strncat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|alloca|tmpnam|mktemp'
bad=0
while IFS= read -r hit; do
	file=${hit%%:*}
	rest=${hit#*:}
	line=${rest%%:*}
	text=${rest#*:}
	name=$(grep -oE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" <<<"$text" | head -n1 | grep -oE "$banned")
	# comment lines, and lines that say why they may
	[[ $text =~ ^[[:space:]]*(\*|/\*|//) ]] && continue
	[[ $text == *"checksrc: allow $name"* ]] && continue
	echo "$file:$line: $name() is not used in dgov (scripts/checksrc.sh says what to use instead)"
	bad=1
done < <(grep -rnE --include='*.c' --include='*.h' "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" src tests fuzz bench)
if ((bad)); then
	exit 1
fi
echo "checksrc: no banned calls"
