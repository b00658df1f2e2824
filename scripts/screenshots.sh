#!/usr/bin/env bash
# Regenerates the README's DevUI screenshots in docs/images/ with the browser tests' own scenarios:
# Debian's chromium driven by Playwright (scripts/peers/browser.sh installs both), against a
# `weft serve --ui` built from this tree (the scripted demo agent: deterministic output).
#   docs/images/devui-chat.png       the chat with a tool call, expanded, at 1280x800
#   docs/images/devui-workflow.png   a workflow's graph mid-run (paused on its human-input form)
# `scripts/screenshots.sh workflow` (or `chat`) regenerates only that one.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
# shellcheck source=peers/browser.sh
source scripts/peers/browser.sh
cargo build --quiet -p weft-cli
weft="$CARGO_TARGET_DIR/debug/weft"
shots=${WEFT_SCREENSHOT_DIR:-target/devui-screenshots}
mkdir -p docs/images "$shots"

server=""
url_file=$(mktemp)
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
    server=""
  fi
}
trap 'stop_server; rm -f "$url_file"' EXIT

# Starts `weft serve --ui --port 0 ARGS…` in the background; sets $base to its URL.
start_server() {
  : > "$url_file"
  "$weft" serve --ui --port 0 "$@" > "$url_file" 2> /dev/null &
  server=$!
  for _ in $(seq 100); do
    [ -s "$url_file" ] && break
    sleep 0.1
  done
  base=$(head -n 1 "$url_file")
  base=${base%/v1}
  [ -n "$base" ] || { echo "weft serve did not print its URL" >&2; exit 1; }
}

chat_screenshot() {
  start_server
  WEFT_DEVUI_DOCS_SCREENSHOT="$PWD/docs/images/devui-chat.png" \
    "$WEFT_PLAYWRIGHT_PYTHON" crates/weft-cli/tests/devui/scenarios.py "$base" tool_call "$shots"
  stop_server
  echo "wrote docs/images/devui-chat.png"
}

workflow_screenshot() {
  start_server examples/declarative/conditional.workflow.yaml examples/declarative/human_input.workflow.yaml
  "$WEFT_PLAYWRIGHT_PYTHON" crates/weft-cli/tests/devui/workflow_scenarios.py "$base" human_input "$shots" \
    "$PWD/docs/images/devui-workflow.png"
  stop_server
  echo "wrote docs/images/devui-workflow.png"
}

shots_wanted=("${@:-chat workflow}")
for shot in ${shots_wanted[*]}; do
  case "$shot" in
    chat) chat_screenshot ;;
    workflow) workflow_screenshot ;;
    *) echo "unknown screenshot '$shot' (chat, workflow)" >&2; exit 2 ;;
  esac
done
