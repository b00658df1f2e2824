#!/usr/bin/env bash
# W4 through each provider wire against the same real model server: starts llama.cpp's
# llama-server (scripts/peers/llama.sh builds it) with the tiny deterministic model and
# `--ignore-eos`, so that every run streams exactly W4_TOKENS tokens, one chunk each; then runs
# `weft-bench W4-llama` through OpenAI Chat Completions, OpenAI Responses and Anthropic Messages
# in alternation, RUNS times each, and prints the medians of the client's CPU per chunk (the
# RESULT lines' cpu_us_per_chunk). The server's own CPU is not the client's: only the weft-bench
# process is measured (getrusage).
#
#   source scripts/peers/llama.sh && bench/w4_llama.sh
#   RUNS=5 W4_TOKENS=2000 APIS="chat anthropic" bench/w4_llama.sh
#
# Env: RUNS (3), W4_TOKENS (5000), APIS ("chat responses anthropic"), WEFT_THREADS (as
# weft-bench), CARGO_TARGET_DIR, LLAMA_SERVER_BIN and LLAMA_MODEL (from scripts/peers/llama.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
export W4_TOKENS=${W4_TOKENS:-5000}
APIS=${APIS:-chat responses anthropic}
: "${LLAMA_SERVER_BIN:?source scripts/peers/llama.sh first}"
: "${LLAMA_MODEL:?source scripts/peers/llama.sh first}"

cargo build --release -p weft-bench --bin weft-bench --manifest-path "$ROOT/Cargo.toml" >&2
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/weft-bench

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp /tmp/w4-llama-server.XXXXXX.log)
"$LLAMA_SERVER_BIN" -m "$LLAMA_MODEL" --host 127.0.0.1 --port "$PORT" --alias tiny --jinja --no-webui \
  -t 2 -c 8192 -np 1 --ignore-eos >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; echo "llama-server exited" >&2; exit 1; }
  sleep 0.1
done
export LLAMA_URL="http://127.0.0.1:$PORT"

RESULTS=$(mktemp /tmp/w4-llama-results.XXXXXX)
for run in $(seq 1 "$RUNS"); do
  for api in $APIS; do
    "$BIN" W4-llama --api "$api" | tee -a "$RESULTS"
  done
done
python3 - "$RESULTS" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "):
        continue
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    rows.setdefault(fields["api"], []).append(fields)
print("\n| api | runs | text updates | wall s | client CPU s | client CPU µs per chunk | vs chat |")
print("|---|---|---|---|---|---|---|")
base = None
for api in ("chat", "responses", "anthropic"):
    if api not in rows:
        continue
    runs = rows[api]
    med = lambda key: statistics.median(float(r[key]) for r in runs)
    per_chunk = med("cpu_us_per_chunk")
    base = base or (per_chunk if api == "chat" else None)
    ratio = f"{per_chunk / base:.2f}x" if base else "-"
    ok = all(r["ok"] == r["n"] and r["n"] != "0" for r in runs)
    print(f"| {api} | {len(runs)}{'' if ok else ' (INVALID)'} | {med('text_updates'):.0f} | {med('wall_s'):.3f} | {med('cpu_s'):.3f} | {per_chunk:.2f} | {ratio} |")
PY
rm -f "$RESULTS"
