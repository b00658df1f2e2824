#!/usr/bin/env bash
# Builds the static `weft` binary (x86_64-unknown-linux-musl, release), checks that it is static,
# and proves it runs with nothing around it: copied alone into an empty directory and chroot'ed
# into, `weft serve` answers /readiness and /v1/responses on the scripted model, then exits 0 on
# SIGTERM. Prints how long the build took and ends with "static build: passed".
#
#   scripts/static-build.sh [OUT]            build, check, run in the chroot; copy the binary to OUT
#   scripts/static-build.sh --build-only OUT build and copy only (the Dockerfile runs this, so the
#                                            image is built by the commands this script verifies)
#
# OUT defaults to $CARGO_TARGET_DIR/weft-static. Needs the musl target and musl-gcc (Debian's
# musl-tools, for the C parts of the TLS library): both are installed when missing. The chroot
# needs root. scripts/test runs it as a step.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
build_only=0
if [ "${1:-}" = "--build-only" ]; then
  build_only=1
  shift
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
out=${1:-$CARGO_TARGET_DIR/weft-static}
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi

# The toolchain: the musl target and musl-gcc.
if ! rustup target list --installed | grep -qx "$target"; then
  echo "static build: adding the rust target $target"
  rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null; then
  echo "static build: installing musl-tools with apt"
  $sudo apt-get install -y --no-install-recommends musl-tools >/dev/null ||
    { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends musl-tools >/dev/null; }
fi

# The build (the Dockerfile's too).
started=$(date +%s)
CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked -p weft-cli --target "$target"
echo "static build: cargo build took $(( $(date +%s) - started ))s"
mkdir -p "$(dirname "$out")"
cp "$CARGO_TARGET_DIR/$target/release/weft" "$out"
if [ "$build_only" = 1 ]; then
  echo "static build: $out"
  exit 0
fi

# Static: no interpreter, no shared library.
description=$(file -b "$out")
echo "static build: $description"
case "$description" in
  *"statically linked"* | *"static-pie linked"*) ;;
  *) echo "static build: FAILED: $out is not static" >&2; exit 1 ;;
esac
if ldd "$out" >/dev/null 2>&1 && ! ldd "$out" 2>&1 | grep -q "statically linked"; then
  echo "static build: FAILED: ldd lists libraries for $out:" >&2
  ldd "$out" >&2
  exit 1
fi

# Alone in an empty root: serve, answer, stop on SIGTERM with exit code 0.
root=$(mktemp -d)
log=$(mktemp)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$root" "$log"
}
trap cleanup EXIT
cp "$out" "$root/weft"
echo "static build: running weft serve alone in a chroot of $root ($(ls -A "$root"))"
$sudo chroot "$root" /weft serve --port 0 >"$log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "static build: FAILED: weft serve printed no URL in the chroot:" >&2
  cat "$log" >&2
  exit 1
fi
ready=$(curl -fsS --max-time 10 "$url/readiness")
echo "static build: /readiness: $ready"
answer=$(curl -fsS --max-time 20 "$url/v1/responses" -H 'content-type: application/json' \
  -d '{"model":"weft","input":"hello from a chroot"}')
case "$answer" in
  *'"status":"completed"'*'You said: hello from a chroot'* | *'You said: hello from a chroot'*'"status":"completed"'*) ;;
  *) echo "static build: FAILED: /v1/responses answered: $answer" >&2; exit 1 ;;
esac
echo "static build: /v1/responses answered on the scripted model"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if [ "$status" != 0 ]; then
  echo "static build: FAILED: weft serve exited $status on SIGTERM:" >&2
  cat "$log" >&2
  exit 1
fi
echo "static build: weft serve exited 0 on SIGTERM"
echo "static build: passed ($(du -h "$out" | cut -f1) binary at $out)"
