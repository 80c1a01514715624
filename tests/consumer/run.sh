#!/usr/bin/env bash
# Builds and runs tests/consumer three ways: find_package on an installed sigs,
# add_subdirectory on the source tree, and pkg-config. Args: <source dir> <work dir> <compiler>
set -euo pipefail
src=$1 work=$2 cxx=$3
rm -rf "$work" && mkdir -p "$work"
cmake -S "$src" -B "$work/lib" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
  -DSIGS_BUILD_TESTS=OFF -DSIGS_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/lib" >/dev/null
cmake --install "$work/lib" >/dev/null

cmake -S "$src/tests/consumer" -B "$work/find" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find" >/dev/null
"$work/find/consumer"
echo "find_package: ok"

cmake -S "$src/tests/consumer" -B "$work/sub" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DSIGS_CONSUME=subdirectory -DSIGS_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/sub" >/dev/null
"$work/sub/consumer"
[[ ! -e "$work/sub/sigs/tests" ]] || { echo "tests built for a subdirectory consumer"; exit 1; }
echo "add_subdirectory: ok"

libdir=$(find "$work/prefix" -name sigs.pc -printf '%h\n' | head -n1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs sigs)
# shellcheck disable=SC2086
"$cxx" "$src/tests/consumer/main.cpp" -o "$work/pc-consumer" $flags
"$work/pc-consumer"
echo "pkg-config: ok"
