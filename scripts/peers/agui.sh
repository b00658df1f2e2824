# shellcheck shell=bash
# Installs AG-UI's official TypeScript client (`@ag-ui/client`, whose `HttpAgent` checks the order
# of the events it reads), the real client the weft-host tests drive the AG-UI endpoint with, into a
# cache outside the repo keyed by the pinned version, and exports the variables the tests read. It
# runs on the Node 22 of scripts/peers/mcp.sh (sourced first when WEFT_MCP_NODE is not set). Sourced
# by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`. Source it by hand to run
# the AG-UI client tests of weft-host:
#   source scripts/peers/agui.sh && cargo nextest run -p weft-host --run-ignored all
# Exports WEFT_AGUI_CLIENT_DIR (a directory whose node_modules holds @ag-ui/client) and
# WEFT_AGUI_NODE (Node 22).

weft_agui_client_version="1.0.0"   # npm: @ag-ui/client

if [ -z "${WEFT_MCP_NODE:-}" ]; then
  # shellcheck source=mcp.sh
  source "$(dirname "${BASH_SOURCE[0]}")/mcp.sh"
fi

weft_agui_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/agui-client/$weft_agui_client_version"
if [ ! -f "$weft_agui_dir/.complete" ]; then
  echo "agui-client: installing @ag-ui/client $weft_agui_client_version into $weft_agui_dir"
  rm -rf "$weft_agui_dir"
  mkdir -p "$weft_agui_dir"
  # Chained with && (not set -e, which `||` turns off inside the group): the cache is marked
  # complete only when every step worked, also when this file is sourced by hand.
  (
    cd "$weft_agui_dir" &&
      printf '{"name":"weft-agui-client","private":true}\n' > package.json &&
      npm install --no-audit --no-fund --loglevel=error "@ag-ui/client@$weft_agui_client_version"
  ) || { echo "agui-client: installing @ag-ui/client failed" >&2; return 1; }
  touch "$weft_agui_dir/.complete"
else
  echo "agui-client: cached in $weft_agui_dir"
fi

export WEFT_AGUI_CLIENT_DIR="$weft_agui_dir"
export WEFT_AGUI_NODE="$WEFT_MCP_NODE"
(cd "$WEFT_AGUI_CLIENT_DIR" && "$WEFT_AGUI_NODE" -e \
  'console.log("@ag-ui/client", require("@ag-ui/client/package.json").version)')
unset weft_agui_client_version weft_agui_dir
