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

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv phoenix arize-phoenix "$weft_phoenix_version"

export WEFT_PHOENIX="$WEFT_PIP_VENV/bin/phoenix"
echo "phoenix: arize-phoenix $weft_phoenix_version"
unset weft_phoenix_version WEFT_PIP_VENV
