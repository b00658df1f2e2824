#!/usr/bin/env bash
# Builds llama-server and the tiny model into DIR (called by llama.sh; see there).
#   llama-build.sh DIR LLAMA_CPP_PYTHON_VERSION
# DIR/.complete is written last, only when both files exist.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$1"
version="$2"
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
python3 -m venv venv
venv/bin/pip install --quiet --disable-pip-version-check \
  "cmake==4.4.5" "ninja==1.13.2" "gguf==0.19.0" "numpy==2.4.6" >&2
venv/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
  "llama-cpp-python==$version" -d dl >&2
tar xzf "dl/llama_cpp_python-$version.tar.gz" -C dl
src="$dir/dl/llama_cpp_python-$version/vendor/llama.cpp"
export PATH="$dir/venv/bin:$PATH"
# LLAMA_USE_PREBUILT_UI=OFF: otherwise the configure step tries to download the web UI.
cmake -S "$src" -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_OPENSSL=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF > cmake-configure.log
cmake --build build --target llama-server -j"$(nproc)" > cmake-build.log
venv/bin/python "$here/make_tiny_gguf.py" tiny-bigram-llama.gguf \
  "$src/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja" >&2
test -x build/bin/llama-server
test -s tiny-bigram-llama.gguf
touch .complete
