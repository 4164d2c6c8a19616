#!/bin/sh
# Rebuilds the benchmark guests (commit the .wasm files beside their sources).
# Needs clang with the wasm32-wasi target and wasi-libc (Debian: clang lld wasi-libc).
set -eu
cd "$(dirname "$0")/../test/fixtures/bench"
CC="${CC:-clang}"
"$CC" --target=wasm32-wasi -O2 -Wl,--strip-all -o nullcall.wasm nullcall.c
"$CC" --target=wasm32-wasi -O2 -Wl,--strip-all -o fsops.wasm fsops.c
"$CC" --target=wasm32-wasi -O2 -Wl,--strip-all -o stattree.wasm stattree.c
"$CC" --target=wasm32-wasi -O2 -Wl,--strip-all -o fsstress.wasm fsstress.c
