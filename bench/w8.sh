#!/usr/bin/env bash
# W8: an agent hosted behind the OpenAI Responses protocol, under load (see crates/weft-bench/src/w8.rs).
# Starts the mock, then each server in turn (`weft serve bench/w8/agent.yaml`, and MAF's DevUI
# server serving the same agent, bench/w8/maf_devui.py), and runs against it:
#   W8 at concurrency 1, 50 and 500 (1,000 streamed requests each): requests/s, p50/p99 time to
#   first event, the server's CPU per request and peak RSS;
#   W8-open: 1,000 streams open at once on a slow model, the server's RSS while they are open;
#   W8-idle: 10,000 idle keep-alive connections, held for 10 s, then each asked again.
#
#   bench/w8.sh                       # both servers, RUNS=3
#   RUNS=1 SERVERS=weft bench/w8.sh
#
# Env: RUNS (3), SERVERS ("weft maf-devui"), CONCURRENCY ("1 50 500"), PORT (mock, 8089),
#      SERVER_PORT (8088), VENV_DEVUI (/tmp/bench-venv-devui, see bench/w8/maf_devui.py),
#      OUT (bench/results/w8-<timestamp>), SHARED (../shared: the mock's sources),
#      BUILD (1; 0 uses the release binaries already built), W8_DEADLINE_S (none: each row stops
#      at this many seconds and reports what it got by then, for a slow peer).
# Invoked by bench/run.sh when ONLY includes W8.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
RUNS=${RUNS:-3}
PORT=${PORT:-8089}
SERVER_PORT=${SERVER_PORT:-8088}
SERVERS=${SERVERS:-"weft maf-devui"}
CONCURRENCY=${CONCURRENCY:-"1 50 500"}
VENV_DEVUI=${VENV_DEVUI:-/tmp/bench-venv-devui}
OUT=${OUT:-$ROOT/bench/results/w8-$(date +%Y%m%d-%H%M%S)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
mkdir -p "$OUT"
: >>"$OUT/results.txt"

if [ "${BUILD:-1}" = 1 ]; then
  echo "== build" >&2
  (cd "$ROOT" && cargo build -q --release -p weft-bench -p weft-cli)
  CARGO_TARGET_DIR=$HOME/.cache/weft/bench-target cargo build -q --release --locked --manifest-path "$SHARED/bench/mockllm/Cargo.toml"
fi
MOCK=$HOME/.cache/weft/bench-target/release/mockllm
LOAD=$CARGO_TARGET_DIR/release/weft-bench
WEFT=$CARGO_TARGET_DIR/release/weft

export MOCK_URL="http://127.0.0.1:$PORT" W8_MOCK_V1="http://127.0.0.1:$PORT/v1"
export W8_ADDRESS="127.0.0.1:$SERVER_PORT"
MOCK_PID= SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$MOCK" --port "$PORT" >"$OUT/mockllm.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do curl -sf "$MOCK_URL/health" >/dev/null && break; sleep 0.1; done

# Starts server $1 whose model is $2 on SERVER_PORT; sets SERVER (its pid), W8_MODEL, W8_ENTITY_ID.
start_server() {
  local name=$1 model=$2
  case $name in
    weft)
      W8_MOCK_MODEL=$model "$WEFT" serve "$ROOT/bench/w8/agent.yaml" --port "$SERVER_PORT" \
        --max-runs 2000 --run-timeout 120 >"$OUT/server-weft.log" 2>&1 &
      SERVER=$!
      export W8_MODEL=bench W8_IDLE_PATH=/liveness ;;
    maf-devui)
      W8_MOCK_MODEL=$model "$VENV_DEVUI/bin/python" "$ROOT/bench/w8/maf_devui.py" "$SERVER_PORT" >"$OUT/server-maf-devui.log" 2>&1 &
      SERVER=$!
      export W8_MODEL=bench W8_IDLE_PATH=/health ;;
  esac
  for _ in $(seq 300); do curl -sf "http://$W8_ADDRESS$W8_IDLE_PATH" >/dev/null && break; sleep 0.1; done
  W8_ENTITY_ID=$(curl -sf "http://$W8_ADDRESS/v1/entities" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["entities"][0]["id"])' 2>/dev/null || true)
  export W8_ENTITY_ID SERVER_PID=$SERVER W8_PEER=$name
}
stop_server() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; }

available=()
for name in $SERVERS; do
  case $name in
    weft) available+=(weft) ;;
    maf-devui)
      if [ -x "$VENV_DEVUI/bin/python" ]; then available+=(maf-devui)
      else echo "   maf-devui skipped: no $VENV_DEVUI (see bench/w8/maf_devui.py)" >&2; fi ;;
  esac
done

# One workload on a fresh server (so peak RSS is the workload's own).
one() {
  local run=$1 name=$2 model=$3 label=$4; shift 4
  start_server "$name" "$model"
  echo "-- run $run $label $name" >&2
  "$LOAD" "$@" >"$OUT/$name.$label.$run.out" 2>"$OUT/$name.$label.$run.err" || echo "   FAILED, see $OUT/$name.$label.$run.err" >&2
  grep '^RESULT ' "$OUT/$name.$label.$run.out" | sed "s/\$/ run=$run/" | tee -a "$OUT/results.txt" | sed 's/^/   /' >&2 || true
  stop_server
}

for r in $(seq "$RUNS"); do
  for name in "${available[@]}"; do
    for c in $CONCURRENCY; do one "$r" "$name" echo "c$c" W8 --concurrency "$c"; done
    W8_SLOW_MS=10000 one "$r" "$name" echo+slow-10000 open W8-open
    one "$r" "$name" echo idle W8-idle
  done
done
python3 "$ROOT/bench/w8/summarize.py" "$OUT/results.txt" | tee "$OUT/summary.md"
