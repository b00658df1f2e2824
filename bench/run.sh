#!/usr/bin/env bash
# Weft's benchmark, side by side with the peers of ../shared/bench (WORKLOADS.md W1-W4 so far):
# builds and starts the mock OpenAI server, runs Weft and each available peer in alternation,
# RUNS times each, under /usr/bin/time -v, and writes medians with Weft/peer ratios to
# BENCHMARKS.md.
#
#   bench/run.sh                       # weft + floor-rust (+ rig, maf-python when available)
#   RUNS=1 ONLY="W1 W2" bench/run.sh   # a quick look
#
# Env: RUNS (3), PORT (8089), ONLY (workloads), APIS ("chat responses"), PEERS
#      ("weft floor-rust rig maf-python"), VENV (/tmp/bench-venv: the incumbent, see README),
#      OUT (bench/results/<timestamp>), SHARED (../shared).
# The incumbent's environment, once:
#   python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install agent-framework-core agent-framework-openai mcp "tenacity>=9.1.4,<9.2.0"
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=$SHARED/bench
RUNS=${RUNS:-3}
PORT=${PORT:-8089}
APIS=${APIS:-"chat responses"}
VENV=${VENV:-/tmp/bench-venv}
PEERS=${PEERS:-"weft floor-rust rig maf-python"}
OUT=${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}
WORKLOADS=${ONLY:-"W1 W2 W3 W4 W5 M-sessions"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
PEER_TARGET=$HOME/.cache/weft/bench-peers
mkdir -p "$OUT"
export MOCK_URL="http://127.0.0.1:$PORT"

echo "== build" >&2
(cd "$ROOT" && cargo build -q --release -p weft-bench)
CARGO_TARGET_DIR=$HOME/.cache/weft/bench-target cargo build -q --release --locked --manifest-path "$BENCH/mockllm/Cargo.toml"
declare -A BIN=([weft]="$CARGO_TARGET_DIR/release/weft-bench")
BIN[mockllm]=$HOME/.cache/weft/bench-target/release/mockllm
available=()
for peer in $PEERS; do
  case $peer in
    weft) available+=(weft) ;;
    floor-rust | rig)
      bin=$([ "$peer" = rig ] && echo rig-bench || echo floor-rust)
      if CARGO_TARGET_DIR=$PEER_TARGET/$peer cargo build -q --release --locked --manifest-path "$BENCH/peers/$peer/Cargo.toml" 2>"$OUT/build-$peer.log"; then
        BIN[$peer]=$PEER_TARGET/$peer/release/$bin; available+=("$peer")
      else echo "   $peer did not build (see $OUT/build-$peer.log); skipped" >&2; fi ;;
    maf-python)
      if [ -x "$VENV/bin/python" ]; then available+=(maf-python)
      else echo "   maf-python skipped: no $VENV (see the one-liner at the top of this script)" >&2; fi ;;
  esac
done

"${BIN[mockllm]}" --port "$PORT" >"$OUT/mockllm.log" 2>&1 &
MOCK_PID=$!
trap 'kill $MOCK_PID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$MOCK_URL/health" >/dev/null && break; sleep 0.1; done

{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "mem: $(free -g | awk '/Mem:/{print $2" GiB"}')"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
  echo "weft: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  grep -A1 -E '^name = "(tokio|reqwest|hyper)"$' "$ROOT/Cargo.lock" | paste - - - | sed -E 's/name = "([^"]+)".*version = "([^"]+)".*/crate (weft): \1 \2/'
  [ -x "$VENV/bin/python" ] && "$VENV/bin/pip" list 2>/dev/null | grep -iE '^(agent-framework-core|agent-framework-openai|openai) ' | sed 's/^/pip: /'
  true
} >"$OUT/machine.txt"

cmd_for() {
  local peer=$1 w=$2 api=$3
  case $peer in
    maf-python) printf '%s' "$VENV/bin/python $BENCH/peers/maf-python/bench_maf.py $w" ;;
    *) printf '%s' "${BIN[$peer]} $w" ;;
  esac
  if [ "$api" != none ]; then printf ' --api %s' "$api"; fi
}

for r in $(seq "$RUNS"); do
  for w in $WORKLOADS; do
    apis=$APIS peers=("${available[@]}")
    # M-sessions (memory of 10,000 idle sessions) is Weft's own measurement: no API, no peer.
    if [ "$w" = M-sessions ]; then apis=none peers=(weft); fi
    # W5 (workflows, no model): Weft and the incumbent only (rig and the floor have no workflows).
    if [ "$w" = W5 ]; then
      apis=none peers=(weft)
      [[ " ${available[*]} " == *" maf-python "* ]] && peers+=(maf-python)
    fi
    for api in $apis; do
      for peer in "${peers[@]}"; do   # peers alternate within each round
        base="$OUT/$peer.$w-$api.$r"
        echo "-- run $r $w $api $peer" >&2
        # shellcheck disable=SC2046
        /usr/bin/time -v -o "$base.time" $(cmd_for "$peer" "$w" "$api") >"$base.out" 2>"$base.err" ||
          echo "   FAILED, see $base.err" >&2
        tf=$(awk -F': ' '/Maximum resident/ { m=$2/1024 } /User time/ { u=$2 } /System time/ { y=$2 }
          END { printf "proc_user_s=%.2f proc_sys_s=%.2f proc_maxrss_mb=%.1f", u, y, m }' "$base.time")
        grep '^RESULT ' "$base.out" | sed "s/\$/ run=$r stderr_lines=$(wc -l <"$base.err") $tf/" >>"$OUT/results.txt" || true
        grep '^RESULT ' "$base.out" | sed 's/^/   /' >&2 || true
      done
    done
  done
done

python3 "$ROOT/bench/summarize.py" "$OUT/results.txt" "$OUT/machine.txt" "$SHARED/bench/RESULTS.md" >"$OUT/summary.md"
cp "$OUT/summary.md" "$ROOT/BENCHMARKS.md"
cat "$OUT/summary.md"
echo "results in $OUT; table in BENCHMARKS.md" >&2
