#!/usr/bin/env bash
# The views stream beside stdin (issue 11): the same events fed to `reel views --stdin` from a file
# and to `reel views --stream` from the Redis stream syslog-ng's redis() destination fills, each
# against its own fresh redis-server; prints events/s for each and Redis's cost of an XADD.
#   bench/views/stream.sh [EVENTS]      (default 1,000,000; needs scripts/build first)
# The machine is shared: run it alone, twice, and keep the median.
set -Eeuo pipefail
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
reel="$source_dir/build/reel"
events="${1:-1000000}"
work="$(mktemp -d)"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))

"$source_dir/build/bench/views/reel_views_generate" "$work/events.log" --events "$events" \
  --start "$(($(date +%s) - 86400))" >/dev/null  # the last day: every event within the age window
# The message part only, as central.conf hands it on ($MSG).
sed -E 's/^<[0-9]+>1 [^ ]+ [^ ]+ [^ ]+ - [^ ]+ - //' "$work/events.log" >"$work/messages.log"

start_redis() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$work" --pidfile "$work/redis.pid" >/dev/null
  until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
}
config() {
  cat >"$work/reel.toml" <<TOML
[redis]
write = "127.0.0.1:$port"
[sql]
url = "sqlite:$work/reel.db"
[paths]
media = "$work/media"
[views]
sink = "none"
TOML
  "$reel" migrate --config "$work/reel.toml" >/dev/null 2>&1
}
now() { date +%s.%N; }
config

start_redis
t0=$(now)
"$reel" views --stdin --config "$work/reel.toml" <"$work/messages.log" 2>"$work/stdin.log"
t1=$(now)
stdin_rate=$(echo "$events / ($t1 - $t0)" | bc)

start_redis
# XADD views:in MAXLEN ~ 5000000 * l <line>, as central.conf does, through redis-cli --pipe.
awk '{ printf "*8\r\n$4\r\nXADD\r\n$8\r\nviews:in\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$7\r\n5000000\r\n$1\r\n*\r\n$1\r\nl\r\n$%d\r\n%s\r\n", length($0), $0 }' \
  "$work/messages.log" | redis-cli -p "$port" --pipe >/dev/null
xadd_usec=$(redis-cli -p "$port" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_xadd:.*usec_per_call=\([0-9.]*\).*/\1/p')
stream_bytes=$(redis-cli -p "$port" memory usage views:in samples 0)
last=$(redis-cli -p "$port" xrevrange views:in + - count 1 | head -1)
t0=$(now)
"$reel" views --stream --config "$work/reel.toml" 2>"$work/stream.log" &
aggregator=$!
until [[ "$(redis-cli -p "$port" hget views:cursors 1/1)" == "$last" ]]; do sleep 0.05; done
t1=$(now)
kill -TERM "$aggregator"
wait "$aggregator"
stream_rate=$(echo "$events / ($t1 - $t0)" | bc)
left=$(redis-cli -p "$port" xlen views:in)

echo "events: $events (reel_views_generate: Zipf over 1,000,000 videos, 200,000 viewers)"
echo "reel views --stdin:  $stdin_rate events/s (read, counted, flushed to Redis, drained): $(grep -o '[0-9]* views counted' "$work/stdin.log")"
echo "reel views --stream: $stream_rate events/s (to the cursor at the last entry): $(grep -o '[0-9]* views counted' "$work/stream.log")"
echo "Redis: XADD $xadd_usec us per call; the stream held $stream_bytes bytes ($((stream_bytes / events)) per event); $left entries left after the trim"
