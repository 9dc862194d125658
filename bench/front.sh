#!/usr/bin/env bash
# The front's benchmark (issue 11; run by hand, figures go to docs/benchmarks.md §14): the same
# pages through HAProxy and Varnish (deploy/haproxy/haproxy.cfg, deploy/varnish/reel.vcl, Debian's
# packages) and from `reel up` alone, in one run, alternating, median of $REPS:
#   - a hit: a listing page Varnish holds;
#   - a miss: random watch pages over the whole catalog (nobody asked for them in the last 30 s);
#   - an ESI page signed in: the cached listing page with the visitor's own user bar, which
#     Varnish fetches from the app for every request (the fragment is private).
# HAProxy, Varnish, reel and its Redis share CPU 0; wrk runs on CPU 1. Each row also says what a
# request cost each side in CPU time (/proc: reel and its Redis; varnishd and HAProxy) and how many
# fetches from the app Varnish made per request (varnishstat: ESI fragments count).
#
#   bench/front.sh                       # VIDEOS=1000000 REPS=3 WRK_D=10s WRK_C=64
#   VIDEOS=100000 REPS=1 bench/front.sh  # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VIDEOS:=1000000}" "${REPS:=3}" "${WRK_D:=10s}" "${WRK_C:=64}" "${WRK_T:=1}"
: "${BENCH_DIR:=/tmp/reel-bench-$VIDEOS}" "${REEL_PORT:=8090}" "${FRONT_PORT:=8092}" "${VARNISH_PORT:=8093}"
: "${SERVER_CPU:=0}" "${CLIENT_CPU:=1}"
source bench/lib.sh
command -v varnishd >/dev/null && command -v haproxy >/dev/null || { echo "needs varnish and haproxy (scripts/deps)" >&2; exit 1; }
seed_catalog

REEL_VARNISH_PURGE_NODES="127.0.0.1:$VARNISH_PORT" taskset -c "$SERVER_CPU" $REEL up --data-dir "$BENCH_DIR" \
  --listen "127.0.0.1:$REEL_PORT" >"$run/reel.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$REEL_PORT/readyz" || { cat "$run/reel.log"; exit 1; }
base="http://127.0.0.1:$REEL_PORT"

# Varnish with the repository's VCL, its one backend the app pool's HAProxy frontend.
app_listen=$((FRONT_PORT + 10))
mkdir -p "$run/vcl"
cp deploy/varnish/reel.vcl "$run/vcl/"
cat >"$run/vcl/backends.vcl" <<VCL
backend app1 { .host = "127.0.0.1"; .port = "$app_listen"; .probe = { .url = "/readyz"; .interval = 1s; .timeout = 2s; .window = 3; .threshold = 1; } }
acl purgers { "127.0.0.1"; }
sub vcl_init { app.add_backend(app1); }
VCL
taskset -c "$SERVER_CPU" varnishd -F -n "$run/varnish" -a "127.0.0.1:$VARNISH_PORT" -f "$run/vcl/reel.vcl" \
  -p "vcl_path=$run/vcl" -s malloc,1g >"$run/varnish.log" 2>&1 &
pids+=($!)

# HAProxy with the repository's configuration: visitors -> Varnish -> HAProxy's app pool -> reel.
# The parts this bench does not run point at ports nothing listens on (their checks mark them down).
unused() { echo "127.0.0.1:$((FRONT_PORT + 20 + $1))"; }
env REEL_PUBLIC="127.0.0.1:$FRONT_PORT" REEL_VARNISH1="127.0.0.1:$VARNISH_PORT" REEL_VARNISH2="$(unused 1)" \
  REEL_APP_LISTEN="127.0.0.1:$app_listen" REEL_APP1="127.0.0.1:$REEL_PORT" REEL_APP2="$(unused 2)" \
  REEL_STATIC_ORIGIN="$(unused 3)" REEL_MEDIA_ORIGIN="$(unused 4)" \
  REEL_REDIS_WRITE="$(unused 5)" REEL_REDIS_READ="$(unused 6)" REEL_REDIS1="$(unused 7)" \
  REEL_REDIS2="$(unused 8)" REEL_REDIS3="$(unused 9)" REEL_SQL_WRITE="$(unused 10)" REEL_SQL_READ="$(unused 11)" \
  REEL_MARIADB1="$(unused 12)" REEL_MARIADB2="$(unused 13)" REEL_MARIADB3="$(unused 14)" \
  REEL_STATS="$(unused 15)" taskset -c "$SERVER_CPU" haproxy -db -f deploy/haproxy/haproxy.cfg >"$run/haproxy.log" 2>&1 &
pids+=($!)
front="http://127.0.0.1:$FRONT_PORT"
wait_http "$front/readyz" || { cat "$run/haproxy.log" "$run/varnish.log"; exit 1; }

total=$(curl -s "$base/api/v1/videos" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
pages=$(( (total + 29) / 30 ))
deep=$(( pages * 9 / 10 ))
listing="/videos?sort=newest&page=$deep"
cookie=$(bench_viewer_cookie "$base")
curl -s -o /dev/null "$front$listing"
[[ $(curl -s -D - -o /dev/null "$front$listing" | tr -d '\r' | sed -n 's/^X-Cache: //Ip') == hit ]] ||
  { echo "Varnish does not hold $listing" >&2; exit 1; }
signed_in_page=$(curl -s -H "Cookie: $cookie" "$front$listing")
[[ $signed_in_page == *'data-user="benchviewer"'* ]] ||
  { echo "the signed-in page through Varnish lacks the visitor's user bar" >&2; exit 1; }

counter() { varnishstat -n "$run/varnish" -1 -f "MAIN.$1" | awk '{print $2}'; }
# CPU time (clock ticks) of the processes named: utime + stime from /proc.
ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
app_pids=("${pids[0]}" "$(cat "$BENCH_DIR/redis/redis.pid")")            # reel up and its redis-server
front_pids=($(pgrep -f "varnishd -F -n $run/varnish") "${pids[2]}")     # varnishd (both) and haproxy
seconds=${WRK_D%s}
results="$run/results.tsv"
# LABEL SERVER URL SCRIPT ARGS... -> wrk's figures, then per request: the app's CPU (reel and its
# Redis, µs), the front's CPU (Varnish and HAProxy, µs) and Varnish's backend fetches.
row() {
  local label=$1 server=$2; shift 2
  local app front fetches requests out
  app=$(ticks "${app_pids[@]}") front=$(ticks "${front_pids[@]}")
  fetches=$(counter backend_req) requests=$(counter client_req)
  out=$(measure "$@")
  app=$(( $(ticks "${app_pids[@]}") - app )) front=$(( $(ticks "${front_pids[@]}") - front ))
  fetches=$(( $(counter backend_req) - fetches )) requests=$(( $(counter client_req) - requests ))
  local per
  per=$(awk -v out="$out" -v a=$app -v f=$front -v b=$fetches -v r=$requests -v s="$seconds" -v hz="$(getconf CLK_TCK)" -v srv="$server" 'BEGIN {
    split(out, o, " "); n = o[1] * s; if (n < 1) n = 1
    fetched = "-"; if (srv == "front" && r > 0) fetched = sprintf("%.2f", b / r)
    printf "%.0f %.0f %s", a * 1e6 / hz / n, f * 1e6 / hz / n, fetched }')
  echo -e "$label\t$server\t$out $per" >>"$results"
}

echo "reel: $total videos, listing page $deep" >&2
for rep in $(seq 1 "$REPS"); do
  echo "repetition $rep/$REPS" >&2
  row "hit: listing page $deep" front "$front$listing" bench/wrk/report.lua
  row "hit: listing page $deep" reel "$base$listing" bench/wrk/report.lua
  WRK_HEADER="Cookie: $cookie" row "ESI: listing page $deep signed in" front "$front$listing" bench/wrk/report.lua
  WRK_HEADER="Cookie: $cookie" row "ESI: listing page $deep signed in" reel "$base$listing" bench/wrk/report.lua
  # A fresh seed per repetition and server: ids nobody asked for yet (misses, cold reads).
  row "miss: random watch pages" front "$front" bench/wrk/pages.lua "/watch/" "$total" "" $((2 * rep))
  row "miss: random watch pages" reel "$base" bench/wrk/pages.lua "/watch/" "$total" "" $((2 * rep + 1))
done

echo
echo "| page | through | req/s (median of $REPS) | p50 ms | p99 ms | bytes/resp | errors | app CPU µs/req | front CPU µs/req | app fetches/req |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
median_rows "$results" | sed 's/| front |/| HAProxy + Varnish |/; s/| reel |/| reel up alone |/'
echo
machine
