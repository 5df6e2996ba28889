#!/bin/sh
# tests/dcat/run.sh - dgov's DCAT-AP 3 exports validated against the
# SEMICeu DCAT-AP 3.0.0 SHACL shapes (dcat-ap-SHACL.ttl, CC-BY 4.0, (c)
# European Union, from the SEMICeu/DCAT-AP repository's releases/3.0.0/shacl)
# and compared across Turtle, RDF/XML and JSON-LD, on a demo store of its
# own (SQLite in a temporary folder). Prints TAP (check.mjs).
# Needs DGOV_BIN (scripts/test.sh sets it) and node with this folder's
# npm packages (scripts/deps.sh test installs them).
set -u
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
if [ ! -d tests/dcat/node_modules ]; then
	echo "1..0 # SKIP tests/dcat/node_modules missing (scripts/deps.sh test)"
	exit 0
fi
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
flags="--db $tmp/d.db --key-file $tmp/key --data $tmp/data --pwhash min --log-level warn"
# shellcheck disable=SC2086
if ! "$BIN" demo --rows 100 $flags >"$tmp/demo.out" 2>&1; then
	echo "not ok 1 - demo store"; sed 's/^/#   /' "$tmp/demo.out"; echo "1..1"; exit 1
fi
# shellcheck disable=SC2086
token=$("$BIN" user token sj_wu dcat-test $flags 2>/dev/null | tail -n1)
# shellcheck disable=SC2086
"$BIN" serve $flags --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'http://[0-9.]*:[0-9]*' "$tmp/serve.out" | head -n1)
	[ -n "$url" ] && break
	sleep 0.1
done
if [ -z "$url" ]; then
	echo "not ok 1 - the server starts"; sed 's/^/#   /' "$tmp/serve.err"; echo "1..1"; exit 1
fi
# the demo's tables are loaded by the server's job workers: the catalogue
# names a DataStore API for each loaded one, so every format is compared
# once they are all in (at most two minutes)
for _ in $(seq 1 1200); do
	# shellcheck disable=SC2086
	"$BIN" jobs list $flags 2>/dev/null | grep -Eq ' (queued|running) ' || break
	sleep 0.1
done
node tests/dcat/check.mjs "$url" "$token"
