#!/usr/bin/env bash
# Reel's HTTP benchmark (run by hand; figures go to docs/benchmarks.md).
#
# Starts `reel up` (its redis-server child included) pinned to CPU 0 on a catalog of $VIDEOS videos
# (seeded once into $BENCH_DIR and reused), and nginx pinned to CPU 0 serving byte-identical copies
# of the same pages and a 1 MB file; wrk runs pinned to CPU 1. Each measurement alternates reel and
# nginx (A B A B ...) so the machine's drift hits both alike, and reports the median of $REPS runs.
#
#   bench/run.sh                      # VIDEOS=1000000 REPS=3 WRK_D=10s WRK_C=64
#   VIDEOS=100000 REPS=1 bench/run.sh # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VIDEOS:=1000000}" "${REPS:=3}" "${WRK_D:=10s}" "${WRK_C:=64}" "${WRK_T:=1}"
: "${BENCH_DIR:=/tmp/reel-bench-$VIDEOS}" "${REEL_PORT:=8090}" "${NGINX_PORT:=8091}"
: "${SERVER_CPU:=0}" "${CLIENT_CPU:=1}"
source bench/lib.sh
command -v nginx >/dev/null || { echo "needs nginx (scripts/deps)" >&2; exit 1; }
seed_catalog

# 2. reel up (server + its redis child) on the server CPU.
start_reel_up
total=$(curl -s "$base/api/v1/videos" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
pages=$(( (total + 29) / 30 ))
deep=$(( pages * 9 / 10 ))
watch_id=$(curl -s "$base/api/v1/videos?sort=views" | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
# A signed-in visitor (registered once per data dir): its cookie makes pages carry the user bar in
# place (one session lookup more per page), as they do without a surrogate in front.
cookie=$(bench_viewer_cookie "$base")

# 3. nginx serving the same bytes.
mkdir -p "$run/www" "$run/nginx"
curl -s "$base/" >"$run/www/home.html"
curl -s "$base/videos?sort=newest&page=$deep" >"$run/www/listing.html"
curl -s "$base/watch/$watch_id" >"$run/www/watch.html"
head -c 1048576 /dev/urandom >"$run/www/1mb.bin"
cp "$run/www/1mb.bin" "$BENCH_DIR/media/1mb.bin"
cat >"$run/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $run/nginx/nginx.pid; error_log $run/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $run/nginx; proxy_temp_path $run/nginx; fastcgi_temp_path $run/nginx;
  uwsgi_temp_path $run/nginx; scgi_temp_path $run/nginx;
  types { text/html html; application/octet-stream bin; }
  server { listen 127.0.0.1:$NGINX_PORT; root $run/www; }
}
CONF
taskset -c "$SERVER_CPU" nginx -p "$run/nginx" -c "$run/nginx/nginx.conf" &
pids+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT/home.html"

results="$run/results.tsv"
row() {  # LABEL SERVER URL SCRIPT ARGS...
  local label=$1 server=$2; shift 2
  local out; out=$(measure "$@")
  echo -e "$label\t$server\t$out" >>"$results"
}

echo "reel: $total videos, $pages listing pages (deep page $deep), watch id $watch_id" >&2
for rep in $(seq 1 "$REPS"); do
  echo "repetition $rep/$REPS" >&2
  row "home /" reel "$base/" bench/wrk/report.lua
  row "home /" nginx "http://127.0.0.1:$NGINX_PORT/home.html" bench/wrk/report.lua
  row "listing page $deep" reel "$base/videos?sort=newest&page=$deep" bench/wrk/report.lua
  row "listing page $deep" nginx "http://127.0.0.1:$NGINX_PORT/listing.html" bench/wrk/report.lua
  WRK_HEADER="Cookie: $cookie" row "listing page $deep, signed in" reel "$base/videos?sort=newest&page=$deep" \
    bench/wrk/report.lua
  row "listing random pages 1..$pages" reel "$base" bench/wrk/pages.lua "/videos?sort=views&period=all&page=" "$pages"
  WRK_HEADER="Cookie: $cookie" row "listing random pages 1..$pages, signed in" reel "$base" bench/wrk/pages.lua \
    "/videos?sort=views&period=all&page=" "$pages"
  row "watch page" reel "$base/watch/$watch_id" bench/wrk/report.lua
  row "watch page" nginx "http://127.0.0.1:$NGINX_PORT/watch.html" bench/wrk/report.lua
  row "watch random ids" reel "$base" bench/wrk/pages.lua "/watch/" "$total"
  row "1 MB file" reel "$base/media/1mb.bin" bench/wrk/report.lua
  row "1 MB file" nginx "http://127.0.0.1:$NGINX_PORT/1mb.bin" bench/wrk/report.lua
done

echo
echo "| page | server | req/s (median of $REPS) | p50 ms | p99 ms | bytes/resp | errors |"
echo "|---|---|---:|---:|---:|---:|---:|"
median_rows "$results"
echo
machine
echo "redis: $(redis-cli -p "$redis_port" info memory | grep used_memory_human | tr -d '\r'), keys $(redis-cli -p "$redis_port" dbsize)"
