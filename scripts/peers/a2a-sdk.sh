# shellcheck shell=bash
# Installs the official A2A Python SDK (`a2a-sdk` with its HTTP server extra, and httpx), the real
# client the weft-a2a tests drive Weft's A2A server with, into a venv in a cache outside the repo
# keyed by the pinned version, and exports the variable the tests read. Sourced by scripts/test
# (set -euo pipefail is active): no `exit`, no `set -x`. Source it by hand to run the client tests:
#   source scripts/peers/a2a-sdk.sh && cargo nextest run -p weft-a2a --run-ignored all
# Exports WEFT_A2A_PYTHON (a venv's python with the `a2a` package and uvicorn).

weft_a2a_sdk_version="1.3.0"   # PyPI: a2a-sdk
weft_a2a_uvicorn_version="0.54.0"   # PyPI: uvicorn, the ASGI server of the SDK-written test server (not in the extra)

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv a2a-sdk "a2a-sdk[http-server]" "$weft_a2a_sdk_version"

export WEFT_A2A_PYTHON="$WEFT_PIP_VENV/bin/python"
if ! "$WEFT_A2A_PYTHON" -c "import uvicorn, sys; sys.exit(uvicorn.__version__ != '$weft_a2a_uvicorn_version')" 2>/dev/null; then
  echo "a2a-sdk: installing uvicorn $weft_a2a_uvicorn_version"
  "$WEFT_A2A_PYTHON" -m pip install --quiet --disable-pip-version-check "uvicorn==$weft_a2a_uvicorn_version"
fi
"$WEFT_A2A_PYTHON" -c 'import a2a, httpx; from importlib.metadata import version; print("a2a-sdk", version("a2a-sdk"))'
unset weft_a2a_sdk_version weft_a2a_uvicorn_version WEFT_PIP_VENV
