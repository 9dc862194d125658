#!/usr/bin/env bash
# How long views::maintain's ZUNIONSTOREs hold Redis at a large site's scale: a throwaway
# redis-server on a loopback port, 30 day lists of PER_DAY random view increments over a
# 1,000,000-video catalog (the z:views:day:{d} shape), then the upkeep's two unions (7 and 30 days),
# timed by SLOWLOG (Redis's own clock for each command). Run by hand (docs/benchmarks.md §25):
#   bench/views/upkeep_union.sh            # PER_DAY="100000 300000" PORT=6398
set -euo pipefail
: "${PER_DAY:=100000 300000}" "${PORT:=6398}"
dir=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
  --pidfile "$dir/redis.pid" >/dev/null
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done  # the server is starting
cli() { redis-cli -p "$PORT" "$@"; }
days() { for d in $(seq 1 "$1"); do echo -n "day:$d "; done; }
for per_day in $PER_DAY; do
  cli flushall >/dev/null
  for d in $(seq 1 30); do
    cli eval "math.randomseed($d) for i = 1, tonumber(ARGV[1]) do
      redis.call('ZINCRBY', KEYS[1], math.random(1, 50), math.random(1, 1000000)) end" 1 "day:$d" "$per_day" >/dev/null
  done
  cli config set slowlog-log-slower-than 0 >/dev/null
  cli slowlog reset >/dev/null
  # shellcheck disable=SC2046 # one argument per day key
  cli zunionstore week 7 $(days 7) aggregate sum >/dev/null
  # shellcheck disable=SC2046
  cli zunionstore month 30 $(days 30) aggregate sum >/dev/null
  timings=$(cli slowlog get 10 | awk '/^[0-9]+$/ && length($0) == 10 {getline d; getline c; getline k;
    if (c == "zunionstore") printf "%s %.0f ms  ", k, d / 1000}')
  echo "$per_day increments a day ($(cli zcard day:1) videos a day, $(cli zcard month) in the month): $timings"
done
