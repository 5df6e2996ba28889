#!/usr/bin/env bash
# bench/http/run.sh - dgov's /healthz, home page, a service guide and a
# catalogue search under wrk, next to nginx serving the same bytes as static
# files, in the same run on the same machine. Prints requests per second, p99
# latency and the ratio dgov/nginx, and records each req/s ratio with its
# goal from issue 17 for `make bench`'s closing table (bench/record.sh).
#
# Environment: DGOV_BIN (build/dgov), BENCH_SECONDS (10), BENCH_CONNECTIONS
# (32), BENCH_THREADS (2). Not a test: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${DGOV_BIN:-build/dgov}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
. bench/record.sh
for tool in wrk nginx curl; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/dgov-bench.XXXXXX)
DGOV_PID=
NGINX_PID=
cleanup() {
	[[ -n $DGOV_PID ]] && kill "$DGOV_PID" 2>/dev/null && wait "$DGOV_PID" 2>/dev/null
	[[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

flags=(--db "$TMP/bench.db" --key-file "$TMP/key" --data "$TMP/data" --port 0 --log-level warn)
"$BIN" demo --rows 1000 "${flags[@]}" >/dev/null
"$BIN" serve "${flags[@]}" >"$TMP/serve.out" 2>"$TMP/serve.err" &
DGOV_PID=$!
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/serve.out" | head -n1 || true)
	[[ -n $url ]] && break
	sleep 0.1
done
[[ -n $url ]] || { echo "bench: dgov did not start"; cat "$TMP/serve.err"; exit 1; }

# nginx serves files of exactly the sizes dgov answers with
mkdir -p "$TMP/www"
curl -s "$url/healthz" >"$TMP/www/healthz.json"
curl -s "$url/" >"$TMP/www/index.html"
GUIDE=/services/990100-MZ-001
SEARCH='/services?q=%E7%A4%BE%E4%BF%9D'
curl -s "$url$GUIDE" >"$TMP/www/guide.html"
curl -s "$url$SEARCH" >"$TMP/www/search.html"
port=$((20000 + RANDOM % 30000))
cat >"$TMP/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  types { text/html html; application/json json; }
  server {
    listen 127.0.0.1:$port;
    root $TMP/www;
    location = /healthz { default_type application/json; try_files /healthz.json =404; }
    location = / { try_files /index.html =404; }
    location = $GUIDE { default_type text/html; try_files /guide.html =404; }
    location = /services { default_type text/html; try_files /search.html =404; }
  }
}
CONF
nginx -c "$TMP/nginx.conf" -p "$TMP" &
NGINX_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

# measure URL -> "req/s p99_ms"
measure() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1")
	local rps p99
	rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v=v*1000}; print v}' <<<"$out")
	echo "$rps $p99"
}

echo "# dgov vs nginx on the same machine: wrk -t$THREADS -c$CONNS -d${SECS}s, loopback"
echo "# body sizes: /healthz $(stat -c %s "$TMP/www/healthz.json") B, / $(stat -c %s "$TMP/www/index.html") B, guide $(stat -c %s "$TMP/www/guide.html") B, search $(stat -c %s "$TMP/www/search.html") B; dgov logs at warn, nginx access_log off"
printf '%-10s %14s %10s %14s %10s %10s %10s\n' page dgov_req/s dgov_p99 nginx_req/s nginx_p99 ratio_rps ratio_p99
# label, path, what the closing table calls it and issue 17's goal (dgov/nginx req/s)
for pair in "healthz /healthz /healthz 1.0" "home / home_page 1.0" "guide $GUIDE service_guide 0.5" \
	"search $SEARCH catalogue_search 0.3"; do
	read -r label path work goal <<<"$pair"
	read -r drps dp99 < <(measure "$url$path")
	read -r nrps np99 < <(measure "http://127.0.0.1:$port$path")
	ratio=$(awk -v a="$drps" -v b="$nrps" 'BEGIN {printf "%.2f", a / b}')
	pratio=$(awk -v a="$dp99" -v b="$np99" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	printf '%-10s %14s %9sms %14s %9sms %10s %10s\n' "$label" "$drps" "$dp99" "$nrps" "$np99" "$ratio" "$pratio"
	bench_record "${work//_/ }" "$drps" "nginx static" "$nrps" "$ratio" "$goal" req/s
done
