#!/usr/bin/env bash
# Builds and runs tests/consumer three ways: find_package on an installed sigs,
# add_subdirectory on the source tree, and pkg-config. Args: <source dir> <work dir> <compiler>
# When the install has the Prometheus exporter (prometheus-cpp was found), the component is
# consumed too, by find_package(sigs COMPONENTS prometheus) and by add_subdirectory; an
# unknown component fails find_package when required and is not found when optional.
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

cfgdir=$(find "$work/prefix" -name sigs-config.cmake -printf '%h\n' | head -n1)
# The core's export set never names prometheus-cpp: find_package(sigs) works without it.
if grep -q prometheus "$cfgdir/sigs-targets.cmake"; then
  echo "sigs-targets.cmake depends on prometheus-cpp" >&2
  exit 1
fi
with_prometheus=0
[[ -e "$cfgdir/sigs-prometheus-targets.cmake" ]] && with_prometheus=1
if ((with_prometheus)); then
  cmake -S "$src/tests/consumer" -B "$work/find-prom" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DSIGS_CONSUMER_COMPONENTS=prometheus >/dev/null
  cmake --build "$work/find-prom" >/dev/null
  "$work/find-prom/prometheus_consumer"
  echo "find_package(sigs COMPONENTS prometheus): ok"
else
  echo "find_package(sigs COMPONENTS prometheus): skipped (installed without the exporter)"
fi

mkdir -p "$work/components"
# shellcheck disable=SC2016 # ${HOW} is for CMake, not the shell
printf '%s\n' 'cmake_minimum_required(VERSION 3.25)' 'project(sigs_components LANGUAGES CXX)' \
  'find_package(sigs REQUIRED CONFIG ${HOW} no_such_component)' \
  'if(sigs_no_such_component_FOUND)' '  message(FATAL_ERROR "an unknown component was found")' 'endif()' \
  >"$work/components/CMakeLists.txt"
if cmake -S "$work/components" -B "$work/components/required" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DHOW=COMPONENTS >/dev/null 2>&1; then
  echo "find_package(sigs COMPONENTS no_such_component) succeeded" >&2
  exit 1
fi
cmake -S "$work/components" -B "$work/components/optional" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DHOW=OPTIONAL_COMPONENTS >/dev/null
echo "unknown component: refused when required, not found when optional: ok"

prom_args=()
((with_prometheus)) && prom_args=(-DSIGS_BUILD_PROMETHEUS=ON -DSIGS_CONSUMER_COMPONENTS=prometheus)
cmake -S "$src/tests/consumer" -B "$work/sub" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DSIGS_CONSUME=subdirectory -DSIGS_SOURCE_DIR="$src" "${prom_args[@]}" >/dev/null
cmake --build "$work/sub" >/dev/null
"$work/sub/consumer"
if ((with_prometheus)); then "$work/sub/prometheus_consumer"; fi
[[ ! -e "$work/sub/sigs/tests" ]] || { echo "tests built for a subdirectory consumer"; exit 1; }
echo "add_subdirectory: ok"

libdir=$(find "$work/prefix" -name sigs.pc -printf '%h\n' | head -n1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs sigs)
# shellcheck disable=SC2086
"$cxx" "$src/tests/consumer/main.cpp" -o "$work/pc-consumer" $flags
"$work/pc-consumer"
echo "pkg-config: ok"
