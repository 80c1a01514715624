#!/usr/bin/env bash
# The fuzz lane: the fuzz workflow preset (clang libFuzzer + ASan + UBSan; its ctest replays
# the committed corpus and runs each target briefly), then each target for FUZZ_SECONDS
# (default 60), two at a time (CI has two cores). New inputs go to build/fuzz/lane-corpus/,
# never into fuzz/corpus/. Exits non-zero on any failure; every crash, leak or timeout input
# ends up in build/fuzz/artifacts/ (reproduce: build/fuzz/fuzz/fuzz_<target> <file>).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
# The fuzz targets, as fuzz/CMakeLists.txt lists them (ci/soak.sh reads the same line).
read -r -a targets <<<"$(sed -n 's/^set(SIGS_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)"
if ((${#targets[@]} == 0)); then
  echo "fuzz lane: no SIGS_FUZZ_TARGETS found in fuzz/CMakeLists.txt" >&2
  exit 2
fi
build=build/fuzz
artifacts="${build}/artifacts"
start=$(date +%s)

cmake --workflow --preset fuzz
workflow=$?
mkdir -p "${artifacts}"
if ((workflow != 0)); then
  echo "fuzz lane: the fuzz workflow failed (exit ${workflow})"
fi

fuzz_one() {
  local t=$1
  local base=$t
  [[ $t == async_boxed ]] && base=async  # async's encoding, dictionary and corpus (fuzz/CMakeLists.txt)
  local bin="${build}/fuzz/fuzz_${t}"
  local corpus="${build}/lane-corpus/${t}"
  local log="${build}/lane-${t}.log"
  mkdir -p "${corpus}"
  if [[ ! -x "${bin}" ]]; then
    echo "fuzz lane: ${bin} was not built" >"${log}"
    return 1
  fi
  # -timeout: one input running 10 s is a hang; TSan/ASan halt on the first error anyway.
  "${bin}" -max_total_time="${seconds}" -timeout=10 -print_final_stats=1 \
    -dict="fuzz/${base}.dict" -artifact_prefix="${artifacts}/${t}-" \
    "${corpus}" "fuzz/corpus/${base}" >"${log}" 2>&1
}

failed=0
declare -A rc
# Two at a time: when two run, wait for the older one (all run equally long) before the next.
pids=()
names=()
for t in "${targets[@]}"; do
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}"
    rc[${names[0]}]=$?
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
  fuzz_one "$t" &
  pids+=($!)
  names+=("$t")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  rc[${names[$i]}]=$?
done

for t in "${targets[@]}"; do
  runs=$(grep -Eo 'Done [0-9]+ runs' "${build}/lane-${t}.log" | tail -1)
  if ((rc[$t] != 0)); then
    failed=$((failed + 1))
    echo "fuzz lane: fuzz_${t} FAILED (exit ${rc[$t]}); log: ${build}/lane-${t}.log"
    tail -n 40 "${build}/lane-${t}.log"
  else
    echo "fuzz lane: fuzz_${t} ok (${runs:-no stats})"
  fi
done

# Crash inputs of the short ctest runs land in the same folder (fuzz/CMakeLists.txt); also
# collect any a target wrote elsewhere (libFuzzer's default is the working directory).
shopt -s nullglob
for f in crash-* leak-* timeout-* oom-* slow-unit-*; do mv -f "$f" "${artifacts}/"; done
found=("${artifacts}"/*)
if ((${#found[@]})); then
  echo "fuzz lane: artifacts in ${artifacts}:"
  ls -l "${artifacts}"
fi

echo "fuzz lane: $(($(date +%s) - start)) s"
if ((workflow != 0 || failed != 0)); then
  exit 1
fi
exit 0
