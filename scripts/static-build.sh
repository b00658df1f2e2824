#!/usr/bin/env bash
# Builds a static `weft` binary (x86_64-unknown-linux-musl, release) and copies it to $1
# (default target/weft-static). The Dockerfile runs this; so does the test of the static binary.
# Needs the musl target (`rustup target add x86_64-unknown-linux-musl`) and musl-gcc (Debian's
# musl-tools) for the C parts of the TLS library.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/weft-static}
target=x86_64-unknown-linux-musl
export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc}
cargo build --release --locked -p weft-cli --target "$target"
dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$(dirname "$out")"
cp "$dir/$target/release/weft" "$out"
echo "static weft: $out"
