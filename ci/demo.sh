#!/usr/bin/env bash
# Builds the examples (release, no tests), runs the quickstart and the async tour, then
# every example with its output checked (docs/patterns.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh --demo
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIGS_BUILD_TESTS=OFF -DSIGS_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo -j2
echo "== quickstart =="
./build/demo/examples/quickstart
echo
echo "== async tour =="
./build/demo/examples/async_tour
echo
echo "== every example, output checked =="
ctest --test-dir build/demo -L example --output-on-failure | grep -E 'tests passed|Failed|\*\*\*'
