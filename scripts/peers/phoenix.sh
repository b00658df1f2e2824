# shellcheck shell=bash
# Installs Arize Phoenix, the OTLP trace backend the telemetry tests export to and read spans back
# from, into a cache outside the repo keyed by the pinned version, and exports the variable the
# tests read. Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`.
# Source it by hand to run the Phoenix tests:
#   source scripts/peers/phoenix.sh && cargo nextest run -p weft-telemetry --run-ignored all
# Exports WEFT_PHOENIX (the `phoenix` command of a venv with arize-phoenix). The tests start it
# themselves on free loopback ports with a temporary working dir, and stop it.
# First install: about a minute and 850 MB.

weft_phoenix_version="20.26.1"   # PyPI: arize-phoenix

weft_phoenix_key="$(printf 'arize-phoenix=%s v1' "$weft_phoenix_version" | sha256sum | cut -c1-16)"
weft_phoenix_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/phoenix/$weft_phoenix_key"

if [ ! -f "$weft_phoenix_dir/.complete" ]; then
  echo "phoenix: installing into $weft_phoenix_dir"
  rm -rf "$weft_phoenix_dir"
  mkdir -p "$weft_phoenix_dir"
  python3 -m venv "$weft_phoenix_dir/venv"
  "$weft_phoenix_dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "arize-phoenix==$weft_phoenix_version"
  touch "$weft_phoenix_dir/.complete"
else
  echo "phoenix: cached in $weft_phoenix_dir"
fi

export WEFT_PHOENIX="$weft_phoenix_dir/venv/bin/phoenix"
echo "phoenix: arize-phoenix $weft_phoenix_version"
unset weft_phoenix_version weft_phoenix_key weft_phoenix_dir
