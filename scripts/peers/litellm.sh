# shellcheck shell=bash
# Installs the LiteLLM proxy (`litellm[proxy]`), a real translator the provider tests drive: it
# serves Anthropic's `POST /v1/messages` and Gemini's `POST /v1beta/models/M:generateContent` /
# `:streamGenerateContent?alt=sse`, translating both to an OpenAI-compatible backend (the tests
# start it in front of llama-server). Into a venv in a cache outside the repo keyed by the pinned
# version, and exports the variable the tests read. Sourced by scripts/test (set -euo pipefail is
# active): no `exit`, no `set -x`. By hand:
#   source scripts/peers/llama.sh && source scripts/peers/litellm.sh \
#     && cargo nextest run -p weft-gemini -p weft-anthropic --run-ignored all -E 'test(litellm)'
# Exports WEFT_LITELLM (the venv's `litellm` command).

weft_litellm_version="1.108.7"   # PyPI: litellm (1.110.2's `proxy` extra does not resolve)

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv litellm "litellm[proxy]" "$weft_litellm_version"

export WEFT_LITELLM="$WEFT_PIP_VENV/bin/litellm"
"$WEFT_PIP_VENV/bin/python" -c 'from importlib.metadata import version; print("litellm", version("litellm"))'
unset weft_litellm_version WEFT_PIP_VENV
