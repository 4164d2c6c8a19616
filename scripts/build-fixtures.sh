#!/usr/bin/env bash
# Rebuilds every WASI fixture and example (.c -> .wasm) with clang's wasm32-wasi target.
# The .wasm files are committed beside their sources, so a fresh checkout needs only Node;
# run this after editing a .c file (needs clang >= 14 and wasi-libc, e.g. Debian's
# clang + lld + wasi-libc packages).
#
#   scripts/build-fixtures.sh            rebuild everything
#   CLANG=clang-15 scripts/build-fixtures.sh
set -euo pipefail

cd "$(dirname "$0")/.."
CLANG="${CLANG:-clang}"
CFLAGS=(--target=wasm32-wasi -O2 -Wall -Wextra -Wno-unused-function -Wno-unused-parameter -Werror)

if ! command -v "$CLANG" >/dev/null; then
  echo "build-fixtures: $CLANG not found (install clang, lld and wasi-libc)" >&2
  exit 1
fi

built=0
for src in test/fixtures/wasi/*.c examples/*.c; do
  [ -e "$src" ] || continue
  out="${src%.c}.wasm"
  # -I so every fixture finds check.h; __FILE__ stays the repo-relative path in FAIL lines.
  "$CLANG" "${CFLAGS[@]}" -Itest/fixtures/wasi "$src" -o "$out"
  built=$((built + 1))
  echo "built $out"
done
echo "build-fixtures: $built modules"
