#!/usr/bin/env bash
# check-layers.sh - dgov's include rules, checked over every #include line
# under src/ (run by `make test`).
#
# 1. Arrows point down: a file may include headers of its own folder and of
#    folders in lower layers only. The layers, lowest first (one line each;
#    folders on one line are peers and may not include each other):
# 2. No folder includes another folder's internal header (internal.h,
#    *_int.h): those are for the files beside them.
# 3. A domain grown into sub-folders (listed in `sublayers`) is layered
#    inside the same way: a file of src/D/S may include the headers of S and
#    those of D's sub-folders in lower sub-layers, never one at or above its
#    own. Of a sub-folder, everything outside it sees only the public header,
#    the one named after it (opendata/datastore/datastore.h); its other
#    headers are its own files' (SQLite's btree.h and btreeInt.h). The files
#    at D's top (its module descriptor) sit above all of D's sub-folders.
# Prints every broken include as FILE:LINE: and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."

layers=(
	"core"                # arena, buffers, strings, errors, dates, keys, CSV: no HTTP, no SQL
	"store http rule"     # one store interface; the HTTP server; the pure rule library
	"search"              # the one search text: tokenizer, query grammar, indexes on either store
	"node"                # the environment and module descriptor every domain sees
	"web"                 # templates, messages, pages
	"jobs"                # the durable job queue
	"audit"               # the hash-chained audit log
	"auth"                # accounts, sessions, tokens
	"cal"                 # the holiday calendar
	"catalog"             # the service catalogue
	"notify"              # the inbox and its webhook
	"cert"                # e-certificates
	"cases"               # applications and their handling
	"opendata"            # the open-data catalogue, DataStore, access and pages
	"exchange"            # registries, grants and the exchange between departments
	"proactive"           # policies published, matching runs, the truth API, my benefits
	"app"                 # the ordered list of modules, the dispatcher
	"cmd"                 # command-line front ends
)

# Sub-folders of a domain, lowest first: sub-layers separated by ';',
# sub-folders on one sub-layer are peers.
declare -A sublayers=(
	# base: the catalogue's tables, who may write, a CKAN action's shape;
	# access: keys, quotas, grants, counters; datastore: tables, loads,
	# search, writes, dumps; catalog: datasets, search, DCAT, files;
	# api: the CKAN dispatcher and its one action table; pages: /data
	[opendata]="base; access; datastore; catalog; api pages"
)

declare -A rank subrank
for i in "${!layers[@]}"; do
	for d in ${layers[$i]}; do rank[$d]=$i; done
done
for d in "${!sublayers[@]}"; do
	IFS=';' read -ra subs <<<"${sublayers[$d]}"
	for i in "${!subs[@]}"; do
		for s in ${subs[$i]}; do subrank[$d/$s]=$i; done
	done
done

# sub_of VAR P: VAR = the sub-folder of D that path P (D/S/file or D/file) is
# in, or "." for D's top (set in place: a subshell per include is slow).
sub_of() {
	local rest=${2#*/}
	if [[ -n ${sublayers[${2%%/*}]+x} && $rest == */* ]]; then
		printf -v "$1" %s "${rest%%/*}"
	else
		printf -v "$1" %s .
	fi
}

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
	sub_of from_sub "$from"
	sub_of to_sub "$inc"
	for fs in "$from_dir/$from_sub" "$to_dir/$to_sub"; do
		if [[ $fs != */. && -z ${subrank[$fs]+x} ]]; then
			echo "$file:$line: sub-folder src/$fs is in no sub-layer (add it to scripts/check-layers.sh)"
			bad=1
			continue 2
		fi
	done
	if [[ $to_sub != . && ($to_dir != "$from_dir" || $to_sub != "$from_sub") && $base != "$to_sub.h" ]]; then
		echo "$file:$line: $inc is internal to src/$to_dir/$to_sub (its public header is $to_dir/$to_sub/$to_sub.h)"
		bad=1
	fi
	if [[ $to_dir == "$from_dir" && $from_sub != . && $to_sub != "$from_sub" ]]; then
		if [[ $to_sub == . ]] || ((subrank[$to_dir/$to_sub] >= subrank[$from_dir/$from_sub])); then
			echo "$file:$line: src/$from_dir/$from_sub may not include $inc (a sub-layer at or above its own)"
			bad=1
		fi
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
