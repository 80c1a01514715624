#!/usr/bin/env bash
# bench/run.sh — build the benchmark suite in Release (-O2, g++ by default), run it with
# repetitions, keep the JSON and print a markdown table of medians.
#
#   bench/run.sh                                   # the whole suite
#   bench/run.sh --benchmark_filter='emit/.*/10/'  # extra flags go to sigs_bench
#
# Environment: CXX (compiler for a fresh build dir, default g++-12 / g++),
# BUILD_DIR (default build/bench), REPS (default 4), MIN_TIME (seconds per run, default 0.5),
# OUT (JSON path, default $BUILD_DIR/results.json), JOBS (default 2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build_dir="${BUILD_DIR:-build/bench}"
reps="${REPS:-4}"
min_time="${MIN_TIME:-0.5}"
out="${OUT:-$build_dir/results.json}"
jobs="${JOBS:-2}"
if [[ -z "${CXX:-}" ]]; then
  if command -v g++-12 >/dev/null; then export CXX=g++-12; else export CXX=g++; fi
fi

# The bench preset (CMakePresets.json): Release, but at -O2 rather than CMake's default -O3
# (the figures in docs/benchmarks.md are -O2), the benchmark alone.
# CXX only matters when the build dir is configured for the first time.
compiler=()
[[ -f "$build_dir/CMakeCache.txt" ]] || compiler=("-DCMAKE_CXX_COMPILER=$CXX")
cmake --preset bench -B "$build_dir" "${compiler[@]}"
cmake --build "$build_dir" --target sigs_bench -j "$jobs"

mkdir -p "$(dirname "$out")"
# Repetitions run in random interleaved order, so that a burst of load from elsewhere on
# this shared machine spreads over all implementations instead of hitting one of them.
echo "running sigs_bench ($reps repetitions, min_time ${min_time}s; about 2 minutes)..."
"$build_dir/bench/sigs_bench" \
  --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_format=json \
  --benchmark_out="$out" \
  --benchmark_out_format=json \
  "$@" >/dev/null

echo
echo "JSON: $out"
echo
python3 "$root/bench/summarize.py" "$out"
