#!/usr/bin/env bash
# The people's benchmark (issue 10; run by hand, figures go to docs/benchmarks.md §13), on the
# catalog of bench/run.sh ($VIDEOS videos in $BENCH_DIR, seeded once) with $USERS accounts
# ("benchu1".., made once through the write path by build/bench/people/reel_people_bench):
#   1. accounts, votes and comments through the write path alone (no HTTP): writes/s, latency;
#   2. over HTTP against `reel up` on CPU 0 (wrk on CPU 1; one trusted proxy hop so each client has
#      an address of its own): sign-ins/s ($SIGNIN_C at a time; Argon2id-bound: [auth] hash_threads
#      on one core), then votes/s and
#      comments/s signed in as the sessions those sign-ins made, then the subscription feed of a
#      user following $FOLLOWS channels (API and page), cached and not.
#
#   bench/people.sh                                   # VIDEOS=1000000 USERS=100000
#   VIDEOS=100000 USERS=10000 WRK_D=5s bench/people.sh  # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VIDEOS:=1000000}" "${USERS:=100000}" "${FOLLOWS:=1000}" "${WRITES:=20000}"
: "${WRK_D:=10s}" "${SIGNIN_D:=60s}" "${SIGNIN_C:=4}" "${COMMENT_D:=3s}" "${WRK_C:=32}" "${WRK_T:=1}"
: "${BENCH_DIR:=/tmp/reel-bench-$VIDEOS}" "${REEL_PORT:=8090}" "${SERVER_CPU:=0}" "${CLIENT_CPU:=1}"
source bench/lib.sh
TOOL=build/bench/people/reel_people_bench
[[ -x $TOOL ]] || { echo "build first: scripts/build" >&2; exit 1; }
seed_catalog

# 1. The write path alone (the tool starts the data dir's Redis for itself).
if [[ ! -f $BENCH_DIR/users-$USERS ]]; then
  echo "making $USERS accounts ..." >&2
  taskset -c "$SERVER_CPU" $TOOL users --data-dir "$BENCH_DIR" --count "$USERS" | tee "$BENCH_DIR/users-$USERS"
  taskset -c "$SERVER_CPU" $TOOL follow --data-dir "$BENCH_DIR" --user benchu1 --channels "$FOLLOWS" |
    tee -a "$BENCH_DIR/users-$USERS"
fi
direct="$run/direct.txt"
cat "$BENCH_DIR/users-$USERS" >"$direct"
for kind in vote comment; do
  taskset -c "$SERVER_CPU" $TOOL writes --data-dir "$BENCH_DIR" --kind $kind --threads 2 --count "$WRITES" \
    --users "$USERS" | tee -a "$direct"
done

# 2. Over HTTP.
REEL_SERVER_TRUSTED_PROXY_HOPS=1 taskset -c "$SERVER_CPU" $REEL up --data-dir "$BENCH_DIR" \
  --listen "127.0.0.1:$REEL_PORT" >"$run/reel.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$REEL_PORT/readyz" || { cat "$run/reel.log"; exit 1; }
redis_port=$(sed -n 's/^write = "127.0.0.1:\([0-9]*\)"/\1/p' "$BENCH_DIR/reel.toml")
base="http://127.0.0.1:$REEL_PORT"
sessions="$run/sessions.txt"
results="$run/results.tsv"
row() {  # LABEL URL SCRIPT ARGS...
  local label=$1; shift
  echo -e "$label\t$(measure "$@")" >>"$results"
}
WRK_D=$SIGNIN_D WRK_C=$SIGNIN_C row "sign-ins (POST /api/v1/session)" "$base" bench/wrk/signin.lua "$USERS" "$sessions"
echo "$(wc -l <"$sessions") sessions for the writes" >&2
row "votes (PUT /api/v1/videos/{id}/vote)" "$base" bench/wrk/people_writes.lua vote "$sessions" "$VIDEOS"
# A session may comment 10 times a minute (auth::limits): a short run keeps within what they allow.
WRK_D=$COMMENT_D row "comments (POST /api/v1/videos/{id}/comments)" "$base" bench/wrk/people_writes.lua comment "$sessions" "$VIDEOS"

cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -H 'X-Forwarded-For: 10.255.0.1' \
  -d '{"username": "benchu1", "password": "bench password"}' "$base/api/v1/session" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(reel_session=[^;]*\).*/\1/p' | tr -d '\r')
[[ -n $cookie ]] || { echo "signing in benchu1 failed" >&2; exit 1; }
redis-cli -p "$redis_port" --scan --pattern 'feed:*' | xargs -r redis-cli -p "$redis_port" unlink >/dev/null
WRK_HEADER="Cookie: $cookie" row "feed of $FOLLOWS channels, API pages 1..10 (first read merges)" "$base" \
  bench/wrk/pages.lua "/api/v1/me/feed?page=" 10
WRK_HEADER="Cookie: $cookie" row "feed of $FOLLOWS channels, /subscriptions pages 1..10" "$base" \
  bench/wrk/pages.lua "/subscriptions?page=" 10
# Cold: the merged feed's cache dropped before every request is what the feed bench measures
# (docs/benchmarks.md §11); here one merge per 30 s per user is what the site pays.

echo
echo "write path alone:"
cat "$direct"
echo
echo "| over HTTP | req/s | p50 ms | p99 ms | bytes/resp | non-2xx or failed |"
echo "|---|---:|---:|---:|---:|---:|"
while IFS=$'\t' read -r label out; do
  read -r rps p50 p99 bytes errors <<<"$out"
  echo "| $label | $rps | $p50 | $p99 | $bytes | $errors |"
done <"$results"
echo
machine
echo "redis: $(redis-cli -p "$redis_port" info memory | grep used_memory_human | tr -d '\r'), keys $(redis-cli -p "$redis_port" dbsize)"
