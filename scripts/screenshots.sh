#!/usr/bin/env bash
# Regenerates the README's DevUI screenshots in docs/images/ with the browser tests' own scenarios:
# Debian's chromium driven by Playwright (scripts/peers/browser.sh installs both), against a
# `weft serve --ui` built from this tree (the scripted demo agent: deterministic output).
#   docs/images/devui-chat.png       the chat with a tool call, expanded, at 1280x800
#   docs/images/devui-trace.png      the trace view of that kind of answer: its spans as a waterfall
#   docs/images/devui-workflow.png   a workflow's graph mid-run (paused on its human-input form)
# `scripts/screenshots.sh chat` (chat and trace) or `workflow` regenerates only those; no argument
# makes them all. Each picture (or group) has its own function below: add yours beside them and
# to the `case` at the end. The scenarios' other screenshots go to $WEFT_SCREENSHOT_DIR
# (target/screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
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
[ "${#wanted[@]}" -gt 0 ] || wanted=(chat workflow)
for shot in "${wanted[@]}"; do
  case "$shot" in
    chat) devui_chat_and_trace ;;
    workflow) devui_workflow ;;
    *) echo "unknown screenshot '$shot' (chat, workflow)" >&2; exit 2 ;;
  esac
done
