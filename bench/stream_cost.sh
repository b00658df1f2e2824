#!/usr/bin/env bash
# Instructions per chunk of each provider's stream path, counted by callgrind (independent of
# the machine's load): runs `examples/stream_cost` (crates/weft-bench) reading the 1,000-chunk
# answer of benches/stream_fixtures once and 1+EXTRA times, and prints
# (instructions(1+EXTRA) - instructions(1)) / (EXTRA * 1000) per provider, so that start-up and
# the first read's one-off costs cancel out.
#
#   bench/stream_cost.sh
#   EXTRA=4 PROVIDERS="chat gemini" bench/stream_cost.sh
#
# Env: PROVIDERS ("chat responses anthropic gemini ollama bedrock"), EXTRA (10), CARGO_TARGET_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROVIDERS=${PROVIDERS:-chat responses anthropic gemini ollama bedrock}
EXTRA=${EXTRA:-10}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

cargo build --release -p weft-bench --example stream_cost --manifest-path "$ROOT/Cargo.toml" >&2
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/stream_cost
OUT=$(mktemp -d /tmp/stream-cost.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# Total instructions of one run of `stream_cost PROVIDER N`.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$1.$2.out" "$BIN" "$1" "$2" 2>"$OUT/$1.$2.log" \
    || { cat "$OUT/$1.$2.log" >&2; exit 1; }
  grep -m1 '^summary:' "$OUT/$1.$2.out" | awk '{print $2}'
}

printf '%-10s %14s %14s %12s\n' provider "Ir(1 read)" "Ir(1+$EXTRA)" "Ir/chunk"
for provider in $PROVIDERS; do
  one=$(instructions "$provider" 1)
  many=$(instructions "$provider" $((1 + EXTRA)))
  printf '%-10s %14d %14d %12.0f\n' "$provider" "$one" "$many" "$(echo "($many - $one) / ($EXTRA * 1000)" | bc -l)"
done
