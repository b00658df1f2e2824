# shellcheck shell=bash
# Installs Microsoft Agent Framework's own Python packages (MAF, "the incumbent"), whose clients and
# agents the interop tests drive against Weft's servers and Weft's clients: the core, its OpenAI
# clients (Responses and Chat Completions), its AG-UI client and its A2A agent. Into a venv in a
# cache outside the repo keyed by the pinned versions, and exports the variable the tests read.
# Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`. By hand:
#   source scripts/peers/maf.sh && cargo nextest run -p weft-cli --run-ignored all -E 'test(maf)'
# Exports WEFT_MAF_PYTHON (a venv's python with the `agent_framework` packages).

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv_requirements maf \
  "agent-framework-core==1.23.0" \
  "agent-framework-openai==1.17.0" \
  "agent-framework-ag-ui==1.7.0" \
  "agent-framework-a2a==1.0.0b261022"
export WEFT_MAF_PYTHON="$WEFT_PIP_VENV/bin/python"
"$WEFT_MAF_PYTHON" -c 'from importlib.metadata import version as v; print("maf", *(p + " " + v(p) for p in ("agent-framework-core", "agent-framework-openai", "agent-framework-ag-ui", "agent-framework-a2a")))'
