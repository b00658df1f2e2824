# shellcheck shell=bash
# Installs the real browser the DevUI tests drive: Debian's `chromium` package (through apt, when
# missing; never a browser download by Playwright) and Playwright for Python from PyPI, pinned, in
# a venv cached by version under ~/.cache/weft/playwright. Sourced by scripts/test
# (set -euo pipefail is active): no `exit`, no `set -x`. Source it by hand to run the browser tests:
#   source scripts/peers/browser.sh && cargo nextest run -p weft-cli --test devui_browser --run-ignored all
# Exports WEFT_PLAYWRIGHT_PYTHON (a venv's python with `playwright`) and WEFT_CHROMIUM (the
# browser's executable).

weft_playwright_version="1.65.2"   # PyPI: playwright

if [ ! -x /usr/bin/chromium ]; then
  echo "browser: installing Debian's chromium with apt"
  weft_sudo=""
  if [ "$(id -u)" != 0 ]; then weft_sudo="sudo -n"; fi
  # A fresh image has no package lists yet: update them when the first try fails.
  $weft_sudo apt-get install -y --no-install-recommends chromium >/dev/null ||
    { $weft_sudo apt-get update -qq && $weft_sudo apt-get install -y --no-install-recommends chromium >/dev/null; } ||
    { echo "browser: could not install chromium with apt-get" >&2; return 1; }
  unset weft_sudo
fi
export WEFT_CHROMIUM=/usr/bin/chromium

# shellcheck source=pip-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/pip-venv.sh"
weft_pip_venv playwright playwright "$weft_playwright_version"

export WEFT_PLAYWRIGHT_PYTHON="$WEFT_PIP_VENV/bin/python"
"$WEFT_PLAYWRIGHT_PYTHON" -c 'import importlib.metadata as m; print("playwright", m.version("playwright"))'
"$WEFT_CHROMIUM" --version 2> /dev/null
unset weft_playwright_version WEFT_PIP_VENV
