# shellcheck shell=bash
# Installs Restate's server (npm `@restatedev/restate-server`, whose package carries the Linux
# binary), the durable-execution engine the weft-restate tests run agents on, into a cache outside
# the repo keyed by the pinned version, and exports the variable the tests read. The tests start
# their own server per test (a temporary base dir, free loopback ports, `--bind-ip 127.0.0.1`), so
# tests running at once never share journals, and a test can kill and restart its server.
# Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`. By hand:
#   source scripts/peers/restate.sh && cargo nextest run -p weft-restate --run-ignored all
# Exports WEFT_RESTATE_SERVER (the restate-server binary).

weft_restate_version="1.7.12"   # npm: @restatedev/restate-server

weft_restate_dir="${XDG_CACHE_HOME:-$HOME/.cache}/weft/restate-server/$weft_restate_version"
if [ ! -f "$weft_restate_dir/.complete" ]; then
  echo "restate-server: installing @restatedev/restate-server $weft_restate_version into $weft_restate_dir"
  rm -rf "$weft_restate_dir"
  mkdir -p "$weft_restate_dir"
  # Chained with && (not set -e, which `||` turns off inside the group): the cache is marked
  # complete only when every step worked, also when this file is sourced by hand.
  (
    cd "$weft_restate_dir" &&
      printf '{"name":"weft-restate-server","private":true}\n' > package.json &&
      npm install --no-audit --no-fund --loglevel=error \
        "@restatedev/restate-server@$weft_restate_version"
  ) || { echo "restate-server: installing @restatedev/restate-server failed" >&2; return 1; }
  touch "$weft_restate_dir/.complete"
else
  echo "restate-server: cached in $weft_restate_dir"
fi

export WEFT_RESTATE_SERVER="$weft_restate_dir/node_modules/@restatedev/restate-server-linux-x64/bin/restate-server"
"$WEFT_RESTATE_SERVER" --version
unset weft_restate_version weft_restate_dir
