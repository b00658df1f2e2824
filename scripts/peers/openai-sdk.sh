# shellcheck shell=bash
# Installs the official `openai` Python SDK, the real client the weft-host tests drive `weft serve`
# with, into a venv in a cache outside the repo keyed by the pinned version, and exports the variable
# the tests read. Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`.
# Source it by hand to run the client tests of weft-host:
#   source scripts/peers/openai-sdk.sh && cargo nextest run -p weft-host --run-ignored all
# Exports WEFT_OPENAI_PYTHON (a venv's python with the `openai` package).

weft_openai_sdk_version="3.57.0"   # PyPI: openai

weft_openai_sdk_key="$(printf 'openai=%s v1' "$weft_openai_sdk_version" | sha256sum | cut -c1-16)"
weft_openai_sdk_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/openai-sdk/$weft_openai_sdk_key"

if [ ! -f "$weft_openai_sdk_dir/.complete" ]; then
  echo "openai-sdk: installing into $weft_openai_sdk_dir"
  rm -rf "$weft_openai_sdk_dir"
  mkdir -p "$weft_openai_sdk_dir"
  python3 -m venv "$weft_openai_sdk_dir/venv"
  "$weft_openai_sdk_dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openai==$weft_openai_sdk_version"
  touch "$weft_openai_sdk_dir/.complete"
else
  echo "openai-sdk: cached in $weft_openai_sdk_dir"
fi

export WEFT_OPENAI_PYTHON="$weft_openai_sdk_dir/venv/bin/python"
"$WEFT_OPENAI_PYTHON" -c 'import openai; print("openai", openai.__version__)'
unset weft_openai_sdk_version weft_openai_sdk_key weft_openai_sdk_dir
