# shellcheck shell=bash
# Sourced by .ci/run from the repo root (with `set -euo pipefail`): builds llama.cpp's
# llama-server and its tiny deterministic model with ../shared/llm-peer/setup.sh, cached outside
# the clone in $HOME/.cache/weft-llm-peer (about 4.5 minutes cold, about a second warm), and
# exports LLAMA_SERVER_BIN and LLAMA_MODEL for the tests
# (crates/weft-openai/tests/llama_server.rs, crates/weft-cli/tests/llama_cli.rs). No `exit`, no
# `set -x`. To run those tests locally:
#   source .ci/llm-peer.sh && cargo test -p weft-openai -p weft-cli

llm_peer_setup="$(pwd)/../shared/llm-peer/setup.sh"
llm_peer_dir="$HOME/.cache/weft-llm-peer"
llm_peer_started=$(date +%s)
# setup.sh prints `LLAMA_SERVER_BIN=…` and `LLAMA_MODEL=…` on stdout; its progress goes to stderr.
llm_peer_out=$(bash "$llm_peer_setup" "$llm_peer_dir")
llm_peer_seconds=$(( $(date +%s) - llm_peer_started ))
LLAMA_SERVER_BIN=$(printf '%s\n' "$llm_peer_out" | sed -n 's/^LLAMA_SERVER_BIN=//p' | tail -n 1)
LLAMA_MODEL=$(printf '%s\n' "$llm_peer_out" | sed -n 's/^LLAMA_MODEL=//p' | tail -n 1)
if [ ! -x "$LLAMA_SERVER_BIN" ] || [ ! -f "$LLAMA_MODEL" ]; then
  echo "llm-peer: setup.sh did not produce a server and a model; it printed:" >&2
  printf '%s\n' "$llm_peer_out" >&2
  return 1
fi
export LLAMA_SERVER_BIN LLAMA_MODEL
echo "llm-peer: llama-server and the tiny model ready in ${llm_peer_seconds}s ($LLAMA_SERVER_BIN)" >&2
unset llm_peer_setup llm_peer_dir llm_peer_started llm_peer_out llm_peer_seconds
