#!/usr/bin/env bash
# Builds the examples (release, no tests) and runs the quickstart and the async tour.
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
