# shellcheck shell=bash
# llama.cpp's OpenAI-compatible `llama-server` and a tiny deterministic model, for the tests that
# talk to a real model server (crates/weft-openai/tests/llama_server.rs,
# crates/weft-openai/tests/llama_embeddings.rs with `--embeddings --pooling mean`,
# crates/weft-cli/tests/llama_cli.rs).
#
# Source it (from anywhere): `source scripts/peers/llama.sh`. It builds llama-server from the
# llama.cpp C++ sources carried by the PyPI sdist of llama-cpp-python (registries only; about
# 4.5 minutes cold on 2 cores), writes the model with make_tiny_gguf.py (under a second), caches
# both in a directory keyed by the pinned versions, and exports LLAMA_SERVER_BIN and LLAMA_MODEL.
# Warm, it takes about a second. Safe under `set -euo pipefail`: no `exit`, no `set -x`; the work
# runs in a subshell, and a failure returns non-zero.
#
# The model is a hand-set bigram table, so answers are byte-identical run to run: any chat answers
# "Howdy, pal!"; with tool_choice "required" it makes a real tool call (enum strings take a listed
# value, free strings "OK", integers 42, booleans true).

weft_llama_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
weft_llama_lcp_version="0.3.36"   # PyPI: llama-cpp-python (only its vendored llama.cpp sources are built)
weft_llama_key="$(printf 'llama-cpp-python=%s %s v1' "$weft_llama_lcp_version" \
  "$(cat "$weft_llama_here/llama-build.sh" "$weft_llama_here/make_tiny_gguf.py" | sha256sum | cut -c1-16)" \
  | sha256sum | cut -c1-16)"
weft_llama_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/llama-peer/$weft_llama_key"

if [ ! -f "$weft_llama_dir/.complete" ]; then
  echo "llama-peer: building llama-server (llama-cpp-python $weft_llama_lcp_version sources) into $weft_llama_dir; about 4.5 minutes on 2 cores" >&2
  # A separate bash, not a subshell: `set -e` is ignored inside a subshell tested with `||`.
  bash "$weft_llama_here/llama-build.sh" "$weft_llama_dir" "$weft_llama_lcp_version" || {
    echo "llama-peer: the build failed; logs in $weft_llama_dir" >&2
    unset weft_llama_here weft_llama_lcp_version weft_llama_key weft_llama_dir
    return 1
  }
fi

export LLAMA_SERVER_BIN="$weft_llama_dir/build/bin/llama-server"
export LLAMA_MODEL="$weft_llama_dir/tiny-bigram-llama.gguf"
echo "llama-peer: ready ($LLAMA_SERVER_BIN)" >&2
unset weft_llama_here weft_llama_lcp_version weft_llama_key weft_llama_dir
