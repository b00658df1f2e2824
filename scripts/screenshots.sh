#!/usr/bin/env bash
# Regenerates the README's DevUI screenshots in docs/images/ with the browser tests' own scenarios:
# Debian's chromium driven by Playwright (scripts/peers/browser.sh installs both), against a
# `weft serve --ui` built from this tree (the scripted demo agent: deterministic output).
#   docs/images/devui-chat.png       the chat with a tool call, expanded, at 1280x800
#   docs/images/devui-trace.png      the trace view of that kind of answer: its spans as a waterfall
#   docs/images/devui-workflow.png   a workflow's graph mid-run (paused on its human-input form)
# `scripts/screenshots.sh chat` (chat and trace), `workflow` or `phoenix` regenerates only those; no argument
# makes them all. Each picture (or group) has its own function below: add yours beside them and
# to the `case` at the end. The scenarios' other screenshots go to $WEFT_SCREENSHOT_DIR
# (target/screenshots).
#   docs/images/phoenix-trace.png    a Weft trace in Arize Phoenix (`scripts/screenshots.sh phoenix`
#                                    makes only this one; WEFT=path/to/weft skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}

# --- Phoenix: a Weft trace, exported by `weft run --otlp` --------------------------------------
# Starts Phoenix (scripts/peers/phoenix.sh) on free loopback ports with a throwaway working dir,
# runs an agent that calls a function tool (get_weather) and an MCP tool (`echo`, the Python
# `mcp` test server on stdio, scripts/peers/mcp.sh) on the scripted model, exporting to it, and
# screenshots the trace with the agent span's attributes shown (PHOENIX_SPAN names another span).
phoenix_trace() (
  # shellcheck source=peers/phoenix.sh
  source scripts/peers/phoenix.sh
  # shellcheck source=peers/mcp.sh
  source scripts/peers/mcp.sh > /dev/null
  # shellcheck source=peers/browser.sh
  source scripts/peers/browser.sh > /dev/null
  local weft=${WEFT:-} dir port grpc_port phoenix
  if [ -z "$weft" ]; then   # WEFT=path/to/weft uses that binary instead of a debug build
    cargo build --quiet -p weft-cli
    weft="$CARGO_TARGET_DIR/debug/weft"
  fi
  dir=$(mktemp -d)
  read -r port grpc_port < <("$WEFT_PLAYWRIGHT_PYTHON" -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
  PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$port PHOENIX_GRPC_PORT=$grpc_port PHOENIX_WORKING_DIR=$dir \
    PHOENIX_TELEMETRY_ENABLED=false "$WEFT_PHOENIX" serve > "$dir/phoenix.log" 2>&1 &
  phoenix=$!
  trap 'kill "$phoenix" 2> /dev/null || true; wait "$phoenix" 2> /dev/null || true; rm -rf "$dir"' EXIT
  for _ in $(seq 450); do
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
    kill -0 "$phoenix" 2> /dev/null || { cat "$dir/phoenix.log" >&2; exit 1; }
    sleep 0.2
  done
  cat > "$dir/agent.yaml" << YAML
kind: Prompt
name: travel_assistant
description: Answers questions about the weather
instructions: You answer questions about the weather, and echo what you are asked to.
model:
  provider: scripted
tools:
  - kind: function
    name: get_weather
    description: Get the weather for a city
    parameters:
      - name: city
        kind: string
        description: The city to look up
  - kind: mcp
    name: tools
    command: $WEFT_MCP_PYTHON
    args: [$PWD/crates/weft-mcp/tests/servers/py_server.py, stdio]
    allowedTools: [echo]
    approvalMode: never
YAML
  OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=weft OTEL_SERVICE_NAME=weft-demo RUST_LOG= \
    "$weft" run -q --otlp "http://127.0.0.1:$port/v1/traces" -f "$dir/agent.yaml" \
    "What's the weather in Paris? Echo it back to me."
  mkdir -p docs/images
  "$WEFT_PLAYWRIGHT_PYTHON" scripts/phoenix_screenshot.py "http://127.0.0.1:$port" weft \
    "${PHOENIX_SPAN:-invoke_agent travel_assistant}" docs/images/phoenix-trace.png
)
if [ "${1:-}" = phoenix ]; then
  phoenix_trace
  exit
fi
# ------------------------------------------------------------------------------------------------
# shellcheck source=peers/browser.sh
source scripts/peers/browser.sh
cargo build --quiet -p weft-cli
weft="$CARGO_TARGET_DIR/debug/weft"
shots=${WEFT_SCREENSHOT_DIR:-$PWD/target/screenshots}
mkdir -p docs/images "$shots"

servers=()
cleanup() {
  for pid in "${servers[@]}"; do
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
  servers=()
}
trap cleanup EXIT

# Starts `weft serve --ui --port 0 ARGS…` (stopped by `cleanup`, at the latest at exit) and sets
# $base to its URL.
start_server() {
  local url_file
  url_file=$(mktemp)
  "$weft" serve --ui --port 0 "$@" > "$url_file" 2> /dev/null &
  servers+=("$!")
  for _ in $(seq 100); do
    [ -s "$url_file" ] && break
    sleep 0.1
  done
  base=$(head -n 1 "$url_file")
  rm -f "$url_file"
  base=${base%/v1}
  [ -n "$base" ] || { echo "weft serve did not print its URL" >&2; exit 1; }
}

# Runs scenario NAME of the browser tests against $base.
scenario() {
  "$WEFT_PLAYWRIGHT_PYTHON" crates/weft-cli/tests/devui/scenarios.py "$base" "$1" "$shots"
}

# The chat with a tool call, and the trace view of such an answer.
devui_chat_and_trace() {
  start_server
  WEFT_DEVUI_DOCS_SCREENSHOT="$PWD/docs/images/devui-chat.png" scenario tool_call
  echo "wrote docs/images/devui-chat.png"
  WEFT_DEVUI_DOCS_TRACE_SCREENSHOT="$PWD/docs/images/devui-trace.png" scenario traces
  echo "wrote docs/images/devui-trace.png"
  cleanup
}

# A workflow's graph, paused on its human-input form.
devui_workflow() {
  start_server examples/declarative/conditional.workflow.yaml examples/declarative/human_input.workflow.yaml
  "$WEFT_PLAYWRIGHT_PYTHON" crates/weft-cli/tests/devui/workflow_scenarios.py "$base" human_input "$shots" \
    "$PWD/docs/images/devui-workflow.png"
  echo "wrote docs/images/devui-workflow.png"
  cleanup
}

wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=(chat workflow phoenix)
for shot in "${wanted[@]}"; do
  case "$shot" in
    chat) devui_chat_and_trace ;;
    workflow) devui_workflow ;;
    phoenix) phoenix_trace ;;
    *) echo "unknown screenshot '$shot' (chat, workflow, phoenix)" >&2; exit 2 ;;
  esac
done
