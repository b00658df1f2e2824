# shellcheck shell=bash
# Makes Redis 7 (Debian's redis-server) available to the history-store tests of weft-history,
# which start their own server per test (a free port, loopback only, no persistence).
# Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`. By hand:
#   source scripts/peers/redis.sh && cargo nextest run -p weft-history --all-features --run-ignored all
# Exports WEFT_REDIS_SERVER (the redis-server binary).

weft_redis_major="7"   # Debian: redis-server 7.0
if ! command -v redis-server >/dev/null \
  || ! redis-server --version | grep -q "v=$weft_redis_major\."; then
  echo "installing redis-server $weft_redis_major (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
WEFT_REDIS_SERVER="$(command -v redis-server)"
export WEFT_REDIS_SERVER
redis-server --version
unset weft_redis_major
