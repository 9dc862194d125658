#!/usr/bin/env bash
# Issue 12's benchmark (run by hand; figures go to docs/benchmarks.md, "Search and filtered
# listings"): side by side in one run on the seeded catalog of $VIDEOS videos,
#   1. listing pages read through RedisReadModel (build/bench/search/reel_list_bench, no HTTP): a
#      plain page beside combined-filter pages, cold (their result key dropped before each read)
#      and cached, at concurrency 1 (the latency of one read) and $CONC (throughput; cached only);
#   2. the same over HTTP with wrk, when `reel serve` takes the filters (/videos?duration=...):
#      a plain listing page, a filtered one (cached after its first read);
#   3. search queries over HTTP with wrk, when /api/v1/search exists: one-, two- and three-term
#      queries, cold (each request a query nobody asked in the last minute: the q:* result keys are
#      dropped before each run; the shared slices of common terms, qs:*, stay warm as under steady
#      traffic) and cached (one query), relevance and any sort; the cold two-term relevance query
#      again at a fixed rate of half its peak (build/bench/search/reel_open_loop, from each
#      request's due time), beside a cached JSON listing at the same rate through the same client; the cached
#      search page beside the listing page of the same format (JSON and HTML);
#   4. the search index's Redis memory per video (st:*, sx:*; ../shared/tools/redis_memory.py);
#   5. the time of `reel rebuild search`.
# `reel up` (its redis-server included) runs pinned to CPU 0, the clients to CPU 1, as bench/run.sh.
#
#   bench/search/run.sh                        # VIDEOS=1000000 WRK_D=10s WRK_C=64 CONC=8
#   VIDEOS=100000 WRK_D=5s bench/search/run.sh # quicker
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VIDEOS:=1000000}" "${WRK_D:=10s}" "${WRK_C:=64}" "${WRK_T:=1}" "${CONC:=8}"
: "${BENCH_DIR:=/tmp/reel-bench-$VIDEOS}" "${REEL_PORT:=8092}"
: "${SERVER_CPU:=0}" "${CLIENT_CPU:=1}"
: "${MEMORY_TOOL:=../shared/tools/redis_memory.py}"
source bench/lib.sh
LIST_BENCH=build/bench/search/reel_list_bench OPEN_LOOP=build/bench/search/reel_open_loop
[[ -x $LIST_BENCH && -x $OPEN_LOOP ]] || { echo "build first: scripts/build (needs $LIST_BENCH, $OPEN_LOOP)" >&2; exit 1; }
seconds=${WRK_D%s}
seed_catalog

start_reel_up
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $VIDEOS videos, $(machine)"

# 1. Through RedisReadModel: "LABEL<TAB>QUERY<TAB>FLAGS" rows.
filtered='category=*&duration=long&period=week'
echo
echo "| listing page (RedisReadModel, no HTTP) | concurrency | reads/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
while IFS=$'\t' read -r label query flags; do
  concurrencies=(1 "$CONC")
  # Cold reads of the same filters at once would rebuild one result key and share it: one at a time.
  [[ $flags == --cold ]] && concurrencies=(1)
  for conc in "${concurrencies[@]}"; do
    out=$(taskset -c "$CLIENT_CPU" $LIST_BENCH --port "$redis_port" --query "$query" $flags \
      --seconds "$seconds" --concurrency "$conc" | sed -n 's/^RESULT rps=\([0-9.]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) bytes_per_req=[0-9]* errors=\([0-9]*\)/\1 | \2 | \3 | \4/p')
    echo "| $label | $conc | $out |"
  done
done <<ROWS
plain: sort=views, page 2	sort=views&page=2	
plain: category=*, newest	category=*	
filtered cold: category=*&duration=long&period=week (newest)	$filtered	--cold
filtered cached: the same	$filtered	
filtered cold: duration=long&sort=views	duration=long&sort=views	--cold
filtered cached: duration=long&sort=views	duration=long&sort=views	
filtered cold: period=week&duration=short&sort=rating	period=week&duration=short&sort=rating	--cold
filtered cold: period=month&duration=medium&sort=rating	period=month&duration=medium&sort=rating	--cold
filtered cold: tag=T&duration=long (T: 8 tags)	tag=guitar,amazing,robot,ocean,amazing-tutorial,retro-review,piano,retro&duration=long	--cold
ROWS

# 2. Over HTTP, when the listing routes take the filters (their total differs from the plain one).
api_total() { curl -s "$base/api/v1/videos?$1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }
category=$(curl -s "$base/" | grep -o 'href="/category/[^"?]*' | head -n 1 | cut -d/ -f3 || true)
category=${category:-music}
echo
if [[ $(api_total "duration=long") != "$(api_total "")" ]]; then
  echo "| HTTP page (wrk -c$WRK_C) | req/s | p50 ms | p99 ms | bytes | errors |"
  echo "|---|---|---|---|---|---|"
  echo "| /videos?sort=views&page=N (N in 1..30) | $(measure "$base" bench/wrk/pages.lua "/videos?sort=views&page=" 30 | tr ' ' '|') |"
  filtered_pages=$(( ($(api_total "category=$category&duration=long&period=week") + 29) / 30 ))
  (( filtered_pages > 0 )) || filtered_pages=1
  echo "| /videos?category=$category&duration=long&period=week&page=N (N in 1..$filtered_pages) | $(measure "$base" bench/wrk/pages.lua "/videos?category=$category&duration=long&period=week&page=" "$filtered_pages" | tr ' ' '|') |"
else
  echo "(the listing routes do not take duration= yet: no HTTP figures for filtered listings)"
fi

# 3. Search over HTTP: cold = every request a different query (terms drawn from the seed's title
#    words), cached = the same query again.
echo
# Deletes the q:* result keys. SCAN with a large COUNT: Debian's redis-cli 7.0 --scan has no --count,
# and its 10 keys a call took ~30 s over the catalog's 4 million keys (this, ~5 s).
drop_results() {
  local cursor=0 reply
  while :; do
    reply=$(redis-cli -p "$redis_port" scan "$cursor" match 'q:*' count 50000)
    cursor=${reply%%$'\n'*}
    tail -n +2 <<<"$reply" | xargs -r -n 500 redis-cli -p "$redis_port" del >/dev/null
    [[ $cursor == 0 ]] && break
  done
}
if curl -sf -o /dev/null "$base/api/v1/search?q=amazing"; then
  # Warm the shared slices of the common terms (qs:*), as steady traffic keeps them.
  WRK_D=2s measure "$base" bench/wrk/search.lua "/api/v1/search?q=" 2 cold relevance >/dev/null
  echo "| search (wrk -c$WRK_C) | req/s | p50 ms | p99 ms | bytes | errors |"
  echo "|---|---|---|---|---|---|"
  for terms in 1 2 3; do
    for sort in relevance any; do
      drop_results
      # The 3,160 two-word queries last ~4 s at ~700/s: a longer run would ask them again, cached.
      duration=$WRK_D
      [[ $terms == 2 ]] && duration=3s
      row=$(WRK_D=$duration measure "$base" bench/wrk/search.lua "/api/v1/search?q=" "$terms" cold "$sort")
      echo "| $terms-term, cold, sort=$sort | $(tr ' ' '|' <<<"$row") |"
      [[ $terms == 2 && $sort == relevance ]] && peak=${row%% *}
    done
    echo "| $terms-term, cached | $(measure "$base" bench/wrk/search.lua "/api/v1/search?q=" "$terms" cached | tr ' ' '|') |"
  done
  echo
  half=$(( ${peak:-200} / 2 ))
  # As many seconds as the 3,160 two-word queries last at that rate (none asked twice), at most WRK_D,
  # after one second of warm-up at the same rate (sent, not counted: the server has been idle while
  # the keys were dropped, and steady traffic never starts from idle; §25).
  open_seconds=$(( 3000 / half - 1 < seconds ? 3000 / half - 1 : seconds ))
  echo "| at a fixed rate ($OPEN_LOOP, 1 s warm-up, ${open_seconds}s) | rate/s | p50 ms | p99 ms | bytes | errors |"
  echo "|---|---|---|---|---|---|"
  for attempt in 1 2 3; do
    drop_results
    out=$(taskset -c "$CLIENT_CPU" $OPEN_LOOP --port "$REEL_PORT" --rate "$half" --warmup 1 --seconds "$open_seconds" --terms 2 --sort relevance --seed "$attempt" |
      sed -n 's/^RESULT rps=\([0-9.]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) bytes_per_req=\([0-9]*\) errors=\([0-9]*\)/\1 | \2 | \3 | \4 | \5/p')
    echo "| 2-term cold search, relevance, half of its peak (run $attempt) | $out |"
  done
  out=$(taskset -c "$CLIENT_CPU" $OPEN_LOOP --port "$REEL_PORT" --rate "$half" --warmup 1 --seconds "$open_seconds" --terms 2 --sort newest --path /api/v1/videos |
    sed -n 's/^RESULT rps=\([0-9.]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) bytes_per_req=\([0-9]*\) errors=\([0-9]*\)/\1 | \2 | \3 | \4 | \5/p')
  echo "| the client's own cost: a cached JSON listing at the same rate | $out |"
  echo
  echo "| cached, same format side by side (wrk -c$WRK_C) | req/s | p50 ms | p99 ms | bytes | errors |"
  echo "|---|---|---|---|---|---|"
  echo "| JSON listing /api/v1/videos?sort=views&page=N | $(measure "$base" bench/wrk/pages.lua "/api/v1/videos?sort=views&page=" 30 | tr ' ' '|') |"
  echo "| JSON search /api/v1/search?q=amazing+guitar | $(measure "$base" bench/wrk/search.lua "/api/v1/search?q=" 2 cached | tr ' ' '|') |"
  echo "| HTML listing /videos?sort=views&page=N | $(measure "$base" bench/wrk/pages.lua "/videos?sort=views&page=" 30 | tr ' ' '|') |"
  echo "| HTML search /search?q=amazing+guitar | $(measure "$base" bench/wrk/search.lua "/search?q=" 2 cached | tr ' ' '|') |"
else
  echo "(no /api/v1/search yet: no search figures)"
fi

# 4. The index's memory per video.
echo
if [[ -f $MEMORY_TOOL ]]; then
  # The tool lists each term set as a shape of its own: sum them per prefix (--per 1: the last
  # column is bytes).
  python3 "$MEMORY_TOOL" --port "$redis_port" --per 1 --top 1000000 | awk -v n="$VIDEOS" '
    $1 ~ /^st:/ {st += $4; sets += $2} $1 ~ /^sx:/ {sx += $4} $1 == "total" {all = $4}
    END {printf "index memory: term sets %d B per video (%d sets), records %d B per video; all keys %d B per video\n",
         st / n, sets, sx / n, all / n}'
fi

# 5. The rebuild of the index (reel up keeps running: the rebuild swaps the keys under it).
echo
/usr/bin/time -f "reel rebuild search: %e s, max RSS %M KB" taskset -c "$CLIENT_CPU" $REEL rebuild --data-dir "$BENCH_DIR" search 2>&1 | tail -n 2
