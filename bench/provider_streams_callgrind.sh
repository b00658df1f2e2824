#!/usr/bin/env bash
# Instructions per chunk of each provider's stream path, independent of the machine's load: runs
# the provider_streams bench binary (crates/weft-bench/benches/provider_streams.rs) under
# valgrind's callgrind in its drain mode, once with LOW and once with HIGH drains of a
# 1,000-chunk stream after a warm-up, and divides the difference of the two instruction counts
# by the chunks between them (setup, warm-up and exit cancel out). What is counted is the whole
# process: the client's path (HTTP, framing parser, stream state machine, Weft updates) and the
# local server sending the canned body (the same few copies for every provider).
#
#   bench/provider_streams_callgrind.sh
#   NAMES="openai_chat_completions anthropic_messages" LOW=2 HIGH=12 bench/provider_streams_callgrind.sh
#
# Env: NAMES (all six), LOW (2), HIGH (12), CARGO_TARGET_DIR. Needs valgrind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOW=${LOW:-2}
HIGH=${HIGH:-12}
NAMES=${NAMES:-openai_chat_completions openai_responses anthropic_messages gemini_stream_generate_content ollama_api_chat bedrock_converse_stream}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

BIN=$(cargo bench -p weft-bench --bench provider_streams --no-run --message-format json \
  --manifest-path "$ROOT/Cargo.toml" 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "provider_streams" and m.get("executable"):
        print(m["executable"])')
[ -x "$BIN" ] || { echo "could not build the provider_streams bench" >&2; exit 1; }

instructions() { # NAME DRAINS -> the instructions callgrind collected
  local out
  out=$(mktemp /tmp/provider-streams-callgrind.XXXXXX)
  PROVIDER_STREAMS_ONLY=$1 PROVIDER_STREAMS_DRAINS=$2 valgrind --tool=callgrind \
    --callgrind-out-file=/dev/null "$BIN" >/dev/null 2>"$out" || { cat "$out" >&2; rm -f "$out"; return 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out"
  rm -f "$out"
}

echo "| provider path | instructions per chunk | vs OpenAI Chat Completions |"
echo "|---|---|---|"
base=""
for name in $NAMES; do
  low=$(instructions "$name" "$LOW")
  high=$(instructions "$name" "$HIGH")
  per_chunk=$(( (high - low) / ((HIGH - LOW) * 1000) ))
  [ "$name" = openai_chat_completions ] && base=$per_chunk
  ratio=$(python3 -c "b = ${base:-0}; print(f'{$per_chunk / b:.2f}x' if b else '-')")
  echo "| $name | $per_chunk | $ratio |"
done
