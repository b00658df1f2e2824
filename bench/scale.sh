#!/usr/bin/env bash
# Scale workloads (crates/weft-bench/src/scale.rs, long_conversation.rs), Weft alone:
#   S-sessions         100,000 idle sessions of three turns each (scripted model), RSS they add;
#   S-sessions-sqlite  the same turns kept in weft-history's SQLite store (a file under $OUT);
#   S-concurrent       10,000 agent runs in flight at once on the mock (echo+slow-$S_SLOW_MS),
#                      the process's peak RSS and the mock's max_in_flight;
#   S-concurrent-h2    the same over HTTP/2 (h2c, prior knowledge: the runs share a connection),
#                      against mockllm-h2 on PORT_H2: a copy of the mock written by
#                      bench/scale/mockllm_h2.py (axum's http2 feature, up to 100,000 streams on
#                      a connection instead of hyper's 200), built next to the mock;
#   S-long-*           a 1,000-turn conversation without compaction, with KeepLastTurns(10) and
#                      with TokenBudget(1,000): request bytes and CPU per turn.
# Each workload is one process under /usr/bin/time -v; RESULT lines go to $OUT/results.txt.
#
#   bench/scale.sh
#   RUNS=3 ONLY="S-concurrent" bench/scale.sh
#
# Env: RUNS (1), ONLY (all of the above), PORT (mock, 8089), PORT_H2 (mockllm-h2, PORT+1),
#      S_SESSIONS (100000), S_RUNS (10000),
#      S_SLOW_MS (10000), OUT (bench/results/scale-<timestamp>), SHARED (../shared: the mock's
#      sources), BUILD (1; 0 uses the release binaries already built).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
RUNS=${RUNS:-1}
PORT=${PORT:-8089}
PORT_H2=${PORT_H2:-$((PORT + 1))}
ONLY=${ONLY:-"S-sessions S-sessions-sqlite S-concurrent S-concurrent-h2 S-long"}
OUT=${OUT:-$ROOT/bench/results/scale-$(date +%Y%m%d-%H%M%S)}
MOCK_TARGET=${MOCK_TARGET:-$HOME/.cache/weft/bench-target}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
mkdir -p "$OUT"
: >>"$OUT/results.txt"

if [ "${BUILD:-1}" = 1 ]; then
  echo "== build" >&2
  (cd "$ROOT" && cargo build -q --release -p weft-bench)
  CARGO_TARGET_DIR=$MOCK_TARGET cargo build -q --release --locked --manifest-path "$SHARED/bench/mockllm/Cargo.toml"
  case " $ONLY " in
    *" S-concurrent-h2 "*)
      # A temporary copy of the mock that speaks h2c (never an edit of ../shared); its lockfile
      # starts from the mock's, so the versions they share stay the mock's.
      H2_SRC=$(mktemp -d /tmp/mockllm-h2.XXXXXX)
      python3 "$ROOT/bench/scale/mockllm_h2.py" "$SHARED/bench/mockllm" "$H2_SRC/mockllm-h2"
      CARGO_TARGET_DIR=$MOCK_TARGET cargo build -q --release --manifest-path "$H2_SRC/mockllm-h2/Cargo.toml"
      rm -rf "$H2_SRC" ;;
  esac
fi
MOCK=$MOCK_TARGET/release/mockllm
MOCK_H2=$MOCK_TARGET/release/mockllm-h2
BENCH=$CARGO_TARGET_DIR/release/weft-bench

# 10,000 connections at once: the mock and the bench each need more than 10,000 open files
# (the bench raises its own soft limit to the hard one; the mock inherits this shell's).
ulimit -n "$(ulimit -Hn)"
export MOCK_URL="http://127.0.0.1:$PORT" S_SQLITE_DIR=$OUT
MOCK_PID= MOCK_H2_PID=
cleanup() {
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null || true
  [ -n "$MOCK_H2_PID" ] && kill "$MOCK_H2_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$MOCK" --port "$PORT" >"$OUT/mockllm.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do curl -sf "$MOCK_URL/health" >/dev/null && break; sleep 0.1; done
case " $ONLY " in
  *" S-concurrent-h2 "*)
    "$MOCK_H2" --port "$PORT_H2" >"$OUT/mockllm-h2.log" 2>&1 &
    MOCK_H2_PID=$!
    for _ in $(seq 100); do curl -sf --http2-prior-knowledge "http://127.0.0.1:$PORT_H2/health" >/dev/null && break; sleep 0.1; done ;;
esac

{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "mem: $(free -g | awk '/Mem:/{print $2" GiB"}')"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
  echo "weft: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nofile: $(ulimit -n)"
} >"$OUT/machine.txt"

one() {
  local run=$1 label=$2; shift 2
  local base="$OUT/$label.$run"
  echo "-- run $run $label (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  /usr/bin/time -v -o "$base.time" "$BENCH" "$@" >"$base.out" 2>"$base.err" || echo "   FAILED, see $base.err" >&2
  local tf
  tf=$(awk -F': ' '/Maximum resident/ { m=$2/1024 } /User time/ { u=$2 } /System time/ { y=$2 }
    END { printf "proc_user_s=%.2f proc_sys_s=%.2f proc_maxrss_mb=%.1f", u, y, m }' "$base.time")
  grep '^RESULT ' "$base.out" |
    sed "s/\$/ run=$run load1=$(cut -d' ' -f1 /proc/loadavg) $tf/" | tee -a "$OUT/results.txt" | sed 's/^/   /' >&2 || true
  grep -v '^RESULT ' "$base.out" | sed 's/^/   /' >&2 || true
}

for r in $(seq "$RUNS"); do
  for w in $ONLY; do
    case $w in
      S-long)
        for c in none keep-last-turns token-budget; do one "$r" "S-long-$c" S-long --compaction "$c"; done ;;
      S-concurrent-h2) MOCK_URL="http://127.0.0.1:$PORT_H2" one "$r" "$w" "$w" ;;
      *) one "$r" "$w" "$w" ;;
    esac
  done
done
echo "results in $OUT/results.txt" >&2
