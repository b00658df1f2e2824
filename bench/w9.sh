#!/usr/bin/env bash
# W9: W5's workflows (the chain of 10 adders, the fan-out to 50 workers and back) on Restate,
# against the same workflows on the local runner (see crates/weft-bench/src/w9.rs). For each flow
# and each worker count N it starts its own restate-server (a fresh base dir under /tmp, its own
# ports), N worker processes serving the flow on one port (SO_REUSEPORT: the kernel spreads
# Restate's HTTP/2 connections among them), registers them, and runs W9_RUNS runs through the
# ingress at each concurrency; the local runner runs the same runs in one process. Records, per
# row: runs/s, p50/p99 latency of a run, restate-server's and each worker's CPU; per phase: the
# established connections of each worker (ss, after the load) and the executor invocations each
# worker ran (printed at its exit). Writes $OUT/results.txt and $OUT/summary.md.
#
#   bench/w9.sh                                   # RUNS=1, both flows, N = 1 2 4
#   RUNS=3 W9_RUNS=100 bench/w9.sh
#   FLOWS=chain WORKERS=1 CONCURRENCY=1 bench/w9.sh
#
# Env: RUNS (1: rounds, alternating restate and local), FLOWS ("chain fanout"), WORKERS ("1 2 4"),
#      CONCURRENCY ("1 16": runs in flight; concurrency 1, the latency and the cost of durability
#      per step, runs with the first worker count only), W9_RUNS (200 a row), W9_WARMUP (2x the
#      concurrency, untimed), INGRESS_PORT (28080), ADMIN_PORT (29070), NODE_PORT (25122),
#      WORKER_PORT (29180) (each must be free: the script refuses to start on a port in use),
#      STREAMS_PER_CONNECTION (1: restate-server's worker.invoker.http2-streams-per-connection-limit;
#      its default, 128, puts up to 128 invocations on one connection, so one worker of N gets
#      them all), OUT (bench/results/w9-<timestamp>), BUILD (1; 0 uses the release binary built),
#      WEFT_RESTATE_SERVER (else scripts/peers/restate.sh installs the pinned restate-server).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-1}
FLOWS=${FLOWS:-"chain fanout"}
WORKERS=${WORKERS:-"1 2 4"}
CONCURRENCY=${CONCURRENCY:-"1 16"}
export W9_RUNS=${W9_RUNS:-200}
INGRESS_PORT=${INGRESS_PORT:-28080}
ADMIN_PORT=${ADMIN_PORT:-29070}
NODE_PORT=${NODE_PORT:-25122}
WORKER_PORT=${WORKER_PORT:-29180}
STREAMS_PER_CONNECTION=${STREAMS_PER_CONNECTION:-1}
OUT=${OUT:-$ROOT/bench/results/w9-$(date +%Y%m%d-%H%M%S)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
mkdir -p "$OUT"
: >>"$OUT/results.txt"

if [ -z "${WEFT_RESTATE_SERVER:-}" ]; then
  # shellcheck source=../scripts/peers/restate.sh
  source "$ROOT/scripts/peers/restate.sh" >&2
fi
if [ "${BUILD:-1}" = 1 ]; then
  echo "== build" >&2
  (cd "$ROOT" && cargo build -q --release -p weft-bench --features restate)
fi
BIN=$CARGO_TARGET_DIR/release/weft-bench

for port in "$INGRESS_PORT" "$ADMIN_PORT" "$NODE_PORT" "$WORKER_PORT"; do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (someone else's?): pick free ones (INGRESS_PORT, ADMIN_PORT, NODE_PORT, WORKER_PORT)" >&2
    exit 1
  fi
done

SERVER= BASE= WORKER_PIDS=()
stop_workers() {
  [ "${#WORKER_PIDS[@]}" -gt 0 ] || return 0
  kill -TERM "${WORKER_PIDS[@]}" 2>/dev/null || true
  for pid in "${WORKER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  WORKER_PIDS=()
}
stop_server() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  SERVER=
  if [ -n "$BASE" ]; then rm -rf "$BASE"; fi
  BASE=
}
cleanup() { stop_workers; stop_server; }
trap cleanup EXIT

{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "mem: $(free -g | awk '/Mem:/{print $2" GiB"}')"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
  echo "weft: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "restate-server: $("$WEFT_RESTATE_SERVER" --version)"
  echo "streams per connection: $STREAMS_PER_CONNECTION"
  grep -A1 -E '^name = "restate-sdk"$' "$ROOT/Cargo.lock" | paste - - | sed -E 's/name = "([^"]+)".*version = "([^"]+)".*/crate: \1 \2/'
} >"$OUT/machine.txt"

# A fresh restate-server for phase $1; sets SERVER and BASE.
start_server() {
  local tag=$1
  BASE=$(mktemp -d /tmp/w9-restate-XXXXXX)
  RESTATE_INGRESS__BIND_ADDRESS=127.0.0.1:$INGRESS_PORT RESTATE_ADMIN__BIND_ADDRESS=127.0.0.1:$ADMIN_PORT \
    RESTATE_WORKER__INVOKER__HTTP2_STREAMS_PER_CONNECTION_LIMIT=$STREAMS_PER_CONNECTION \
    "$WEFT_RESTATE_SERVER" --base-dir "$BASE/base" --node-name n1 --bind-ip 127.0.0.1 --no-logo \
    --bind-port "$NODE_PORT" >"$OUT/restate-$tag.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$ADMIN_PORT/health" >/dev/null && break; sleep 0.1; done
  for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$INGRESS_PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "restate-server did not start (see $OUT/restate-$tag.log)" >&2
  return 1
}

# N workers serving flow $2 on WORKER_PORT, registered; sets WORKER_PIDS.
start_workers() {
  local n=$1 flow=$2 tag=$3 k log
  for k in $(seq "$n"); do
    W9_WORKER_ADDR=127.0.0.1:$WORKER_PORT "$BIN" W9-worker --flow "$flow" >"$OUT/worker-$tag-$k.log" 2>&1 &
    WORKER_PIDS+=($!)
  done
  for k in $(seq "$n"); do
    log=$OUT/worker-$tag-$k.log
    for _ in $(seq 300); do grep -q listening "$log" && break; sleep 0.1; done
    grep -q listening "$log" || { echo "worker $k did not listen (see $log)" >&2; return 1; }
  done
  curl -sf -X POST "http://127.0.0.1:$ADMIN_PORT/deployments" -H 'content-type: application/json' \
    -d "{\"uri\":\"http://127.0.0.1:$WORKER_PORT\",\"force\":true}" >"$OUT/register-$tag.json"
}

# Established connections to WORKER_PORT per worker pid: "pid=count ...".
connections() {
  ss -tnpH state established "( sport = :$WORKER_PORT )" 2>/dev/null |
    grep -o 'pid=[0-9]*' | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }'
}

record() {  # appends the RESULT lines of $1 with the round and the load average
  local out=$1 r=$2
  grep '^RESULT ' "$out" | sed "s/\$/ run=$r load=$(cut -d' ' -f1 /proc/loadavg)/" | tee -a "$OUT/results.txt" | sed 's/^/   /' >&2 || true
}

first_n=${WORKERS%% *}
for r in $(seq "$RUNS"); do
  for flow in $FLOWS; do
    for c in $CONCURRENCY; do
      echo "-- run $r $flow local c$c" >&2
      out=$OUT/local.$flow.c$c.$r.out
      "$BIN" W9-local --flow "$flow" --concurrency "$c" >"$out" 2>"${out%.out}.err" || echo "   FAILED, see ${out%.out}.err" >&2
      record "$out" "$r"
    done
    for n in $WORKERS; do
      tag=$flow-n$n-r$r
      start_server "$tag"
      start_workers "$n" "$flow" "$tag"
      for c in $CONCURRENCY; do
        if [ "$c" = 1 ] && [ "$n" != "$first_n" ]; then continue; fi
        echo "-- run $r $flow restate n$n c$c" >&2
        out=$OUT/restate.$flow.n$n.c$c.$r.out
        W9_INGRESS=http://127.0.0.1:$INGRESS_PORT W9_SERVER_PID=$SERVER \
          W9_WORKER_PIDS=$(IFS=,; echo "${WORKER_PIDS[*]}") W9_KEY_PREFIX=$tag-c$c \
          "$BIN" W9 --flow "$flow" --concurrency "$c" >"$out" 2>"${out%.out}.err" || echo "   FAILED, see ${out%.out}.err" >&2
        record "$out" "$r"
        echo "CONNECTIONS flow=$flow workers=$n concurrency=$c run=$r $(connections)" | tee -a "$OUT/results.txt" >&2
      done
      stop_workers
      echo "INVOCATIONS flow=$flow workers=$n run=$r $(cat "$OUT"/worker-"$tag"-*.log | grep -o 'pid=[0-9]* flow=[a-z]* invocations=[0-9]*' |
        sed -E 's/pid=([0-9]+) flow=[a-z]+ invocations=([0-9]+)/pid\1=\2/' | xargs)" | tee -a "$OUT/results.txt" >&2
      stop_server
    done
  done
done
python3 "$ROOT/bench/w9/summarize.py" "$OUT/results.txt" "$OUT/machine.txt" | tee "$OUT/summary.md"
