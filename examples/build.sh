#!/usr/bin/env bash
# Rebuilds the example programs. Needs: apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")"
for c in *.c; do clang --target=wasm32-wasi -O2 "$c" -o "${c%.c}.wasm"; done
