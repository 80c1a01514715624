#!/usr/bin/env bash
# Installs the Debian packages sigs needs, if any is missing. Safe to run repeatedly.
#   ci/setup.sh            everything the test suite needs
#   ci/setup.sh --demo     only what building the examples needs
set -euo pipefail

demo_pkgs=(g++ cmake ninja-build)
test_pkgs=(g++ clang cmake ninja-build libgtest-dev libgmock-dev libbenchmark-dev
  libclang-rt-14-dev librapidcheck-dev relacy-dev gcovr libboost-dev libsigc++-3.0-dev python3 doxygen
  clang-tidy-14 clang-format-14 prometheus-cpp-dev prometheus)

pkgs=("${test_pkgs[@]}")
[[ "${1:-}" == "--demo" ]] && pkgs=("${demo_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "ci/setup.sh: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "ci/setup.sh: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
