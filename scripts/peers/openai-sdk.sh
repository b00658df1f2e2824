# shellcheck shell=bash
# Installs the official `openai` Python SDK, the real client the weft-host tests drive `weft serve`
# with, into a venv in a cache outside the repo keyed by the pinned version, and exports the variable
# the tests read. Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`.
# Source it by hand to run the client tests of weft-host:
#   source scripts/peers/openai-sdk.sh && cargo nextest run -p weft-host --run-ignored all
# Exports WEFT_OPENAI_PYTHON (a venv's python with the `openai` package).

weft_openai_sdk_version="3.57.0"   # PyPI: openai

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv openai-sdk openai "$weft_openai_sdk_version"

export WEFT_OPENAI_PYTHON="$WEFT_PIP_VENV/bin/python"
"$WEFT_OPENAI_PYTHON" -c 'import openai; print("openai", openai.__version__)'
unset weft_openai_sdk_version WEFT_PIP_VENV
