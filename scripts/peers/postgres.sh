# shellcheck shell=bash
# Makes PostgreSQL 15 (Debian's package) available to the history-store tests of weft-history,
# which start their own server per test (initdb in a temp dir, a free port, loopback only).
# Sourced by scripts/test (set -euo pipefail is active): no `exit`, no `set -x`. By hand:
#   source scripts/peers/postgres.sh && cargo nextest run -p weft-history --all-features --run-ignored all
# Exports WEFT_PG_BIN (the directory of initdb and pg_ctl) and WEFT_PG_USER (the user the tests
# run them as: `postgres` when running as root, since initdb refuses root; empty otherwise).

weft_pg_major="15"   # Debian: postgresql-15
weft_pg_bin="/usr/lib/postgresql/$weft_pg_major/bin"
if [ ! -x "$weft_pg_bin/initdb" ]; then
  echo "installing postgresql-$weft_pg_major (apt)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "postgresql-$weft_pg_major" >/dev/null
fi
export WEFT_PG_BIN="$weft_pg_bin"
if [ "$(id -u)" = 0 ]; then
  export WEFT_PG_USER=postgres
else
  export WEFT_PG_USER=
fi
"$WEFT_PG_BIN/initdb" --version
unset weft_pg_major weft_pg_bin
