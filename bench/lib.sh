# What the HTTP benchmarks share (sourced by bench/run.sh and bench/people.sh, from the repository
# root, after they set VIDEOS and BENCH_DIR): the build's binaries, a scratch directory and the
# processes to stop on exit, waiting for an address, the seeded catalog, and wrk's result line.
REEL=build/reel
[[ -x $REEL ]] || { echo "build first: scripts/build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (scripts/deps)" >&2; exit 1; }

run=$(mktemp -d /tmp/reel-bench-run.XXXXXX)
chmod 755 "$run"  # nginx workers run as nobody
pids=()
cleanup() {
  local status=$?
  if ((status != 0)) && [[ -f $run/reel.log ]]; then
    echo "failed ($status); the end of reel's log:" >&2
    tail -n 30 "$run/reel.log" >&2
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'echo "failed at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR

wait_http() { for _ in $(seq 1 3000); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; return 1; }

# The catalog: seeded once per size, through SQL, then rebuilt into Redis.
seed_catalog() {
  [[ -f $BENCH_DIR/seeded ]] && return 0
  rm -rf "$BENCH_DIR"
  echo "seeding $VIDEOS videos into $BENCH_DIR ..." >&2
  /usr/bin/time -f "seed: %e s, max RSS %M KB" $REEL seed --data-dir "$BENCH_DIR" --videos "$VIDEOS" 2>&1 | tail -n 3 >&2
  touch "$BENCH_DIR/seeded"
}

# `reel up` (server + its redis child) on the server CPU, on the seeded catalog; sets base (its URL)
# and redis_port. Exits the bench, with reel's log, when it does not get ready.
start_reel_up() {
  taskset -c "$SERVER_CPU" $REEL up --data-dir "$BENCH_DIR" --listen "127.0.0.1:$REEL_PORT" >"$run/reel.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$REEL_PORT/readyz" || { cat "$run/reel.log"; exit 1; }
  redis_port=$(sed -n 's/^write = "127.0.0.1:\([0-9]*\)"/\1/p' "$BENCH_DIR/reel.toml")
  base="http://127.0.0.1:$REEL_PORT"
}

# URL SCRIPT [SCRIPT ARGS...] -> "rps p50 p99 bytes errors"; $WRK_HEADER: one more header.
# A wrk that fails leaves its output on stderr and an empty result, and the run goes on.
measure() {
  local url=$1 script=$2; shift 2
  local out="$run/wrk.out"
  if ! taskset -c "$CLIENT_CPU" wrk -t"$WRK_T" -c"$WRK_C" -d"$WRK_D" --latency ${WRK_HEADER:+-H "$WRK_HEADER"} \
    -s "$script" "$url" -- "$@" >"$out" 2>&1; then
    echo "wrk failed on $url ($script $*):" >&2
    tail -n 5 "$out" >&2
  fi
  sed -n 's/^RESULT rps=\([0-9.]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) bytes_per_req=\([0-9]*\) errors=\([0-9]*\)/\1 \2 \3 \4 \5/p' "$out"
}

# The session cookie ("reel_session=...") of the bench's signed-in visitor on BASE, registered
# once per data dir; exits the bench when signing in fails.
bench_viewer_cookie() {
  local base=$1 cookie
  local account='{"username": "benchviewer", "email": "bench@example.org", "password": "bench viewer pass"}'
  curl -s -o /dev/null -H 'Content-Type: application/json' -d "$account" "$base/api/v1/users" || true
  cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"username": "benchviewer", "password": "bench viewer pass"}' "$base/api/v1/session" |
    sed -n 's/^[Ss]et-[Cc]ookie: \(reel_session=[^;]*\).*/\1/p' | tr -d '\r')
  [[ -n $cookie ]] || { echo "signing in the bench viewer failed" >&2; exit 1; }
  echo "$cookie"
}

machine() {
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); servers on CPU $SERVER_CPU, wrk -t$WRK_T -c$WRK_C -d$WRK_D on CPU $CLIENT_CPU"
}

# RESULTS (lines "LABEL<TAB>SERVER<TAB>rps p50 p99 bytes errors [more]") -> for each LABEL and
# SERVER, in first-seen order, the line of the repetition with the median req/s, as
# "| LABEL | SERVER | rps | p50 | p99 | bytes | errors [| more] |".
median_rows() {
  local results=$1
  cut -f1,2 "$results" | awk '!seen[$0]++' | while IFS=$'\t' read -r label server; do
    local rows rps line
    rows=$(awk -F'\t' -v l="$label" -v s="$server" '$1==l && $2==s {print $3}' "$results")
    rps=$(echo "$rows" | awk '{print $1}' | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
    line=$(echo "$rows" | awk -v r="$rps" '$1==r {print; exit}')
    echo "| $label | $server | ${line// / | } |"
  done
}
