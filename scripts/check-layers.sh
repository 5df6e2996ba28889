#!/usr/bin/env bash
# check-layers.sh - dgov's include rules, checked over every #include line
# under src/ (run by `make test`).
#
# 1. Arrows point down: a file may include headers of its own folder and of
#    folders in lower layers only. The layers, lowest first (one line each;
#    folders on one line are peers and may not include each other):
# 2. No folder includes another folder's internal header (internal.h,
#    *_int.h): those are for the files beside them.
# Prints every broken include as FILE:LINE: and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."

layers=(
	"core"                # arena, buffers, strings, errors, dates, keys, CSV: no HTTP, no SQL
	"store http rule"     # one store interface; the HTTP server; the pure rule library
	"node"                # the environment and module descriptor every domain sees
	"web"                 # templates, messages, pages
	"jobs"                # the durable job queue
	"auth"                # accounts, sessions, tokens
	"cal"                 # the holiday calendar
	"catalog"             # the service catalogue
	"notify"              # the inbox and its webhook
	"cert"                # e-certificates
	"cases"               # applications and their handling
	"opendata"            # the open-data catalogue, DataStore, access and pages
	"app"                 # the ordered list of modules, the dispatcher
	"cmd"                 # command-line front ends
)

declare -A rank
for i in "${!layers[@]}"; do
	for d in ${layers[$i]}; do rank[$d]=$i; done
done
# main.c sits above everything
bad=0
while IFS=: read -r file line text; do
	inc=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$text")
	[[ -n $inc && $inc == */* ]] || continue
	from=${file#src/}
	from_dir=${from%%/*}
	[[ $from == */* ]] || continue # src/main.c may include anything
	to_dir=${inc%%/*}
	base=${inc##*/}
	if [[ -z ${rank[$from_dir]+x} ]]; then
		echo "$file:$line: folder src/$from_dir is in no layer (add it to scripts/check-layers.sh)"
		bad=1
		continue
	fi
	if [[ -z ${rank[$to_dir]+x} ]]; then
		echo "$file:$line: includes $inc from a folder in no layer"
		bad=1
		continue
	fi
	if [[ $to_dir != "$from_dir" ]]; then
		if ((rank[$to_dir] >= rank[$from_dir])); then
			echo "$file:$line: src/$from_dir may not include $inc (a layer at or above its own)"
			bad=1
		fi
		if [[ $base == internal.h || $base == *_int.h ]]; then
			echo "$file:$line: $inc is internal to src/$to_dir"
			bad=1
		fi
	fi
done < <(grep -rn --include='*.c' --include='*.h' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src)
if ((bad)); then
	echo "check-layers: includes that break dgov's layers (docs/architecture.md)" >&2
	exit 1
fi
echo "check-layers: every include points down"
