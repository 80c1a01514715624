#!/usr/bin/env bash
# Soak: runs the concurrent tests and the fuzzers for much longer than the lanes do, to meet
# interleavings that a lane's single run rarely produces. Not part of ci/test.sh.
#   ci/soak.sh [minutes]     default 20
# Builds (incrementally) what it runs in the asan and tsan presets and the fuzz preset, then
# spends the time on three phases in turn: the stress tests and concurrent properties again
# and again under ASan+UBSan (30 %), the same under TSan (40 %: the concurrency checker), and
# every fuzzer, two at a time (30 %). Each test command runs once per round, on the read path
# the process picks or forced onto seq_cst (SIGS_ASYMMETRIC_FENCE=0), alternately, with its
# tests shuffled under a fresh seed. Every command runs at least once per phase, so a very
# short soak takes longer than asked. Build time is not counted.
# Stops at the first failure and prints the command to reproduce it; always ends with a table
# of what ran, how often, the failures and the seconds. Logs: build/soak/; fuzz inputs it finds
# go to build/fuzz/soak-corpus/, crash inputs to build/fuzz/artifacts/soak-*.
set -uo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-20}"
if ! [[ "${minutes}" =~ ^[0-9]+$ ]] || ((minutes == 0)); then
  echo "usage: ci/soak.sh [minutes]   (a whole number > 0; default 20)" >&2
  exit 2
fi
budget=$((minutes * 60))
asan_budget=$((budget * 30 / 100))
tsan_budget=$((budget * 40 / 100))
fuzz_budget=$((budget - asan_budget - tsan_budget))
test_timeout="${SOAK_TEST_TIMEOUT:-300}"  # one test command longer than this is a hang

# target|gtest filter: the tests that run threads against each other. Single-threaded unit
# tests are left to the lanes.
stress=(
  "sync_signal_stress_test|*"
  "async_signal_test|*Accounting*:*RemoveAndWait*"
  "async_signal_lifecycle_test|*Concurrent*"
  "thread_record_test|ThreadRecord.*"
  "removal_wait_test|*"
  "worker_pool_test|*Stress*:*Concurrent*"
  "mpmc_queue_test|*Stress*:*During*"
  "hazard_test|*Threads*"
  "concurrent_props|*"
  "async_signal_props|*"
  "async_signal_props_boxed|*"
)
# The sanitizer settings of the test presets (CMakePresets.json: _asan_env, used by the asan
# and fuzz test presets, _tsan_env, and RC_PARAMS from _test).
sanitizer_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
asan_env=("${sanitizer_env[@]}" RC_PARAMS=max_success=200)
tsan_env=(TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 RC_PARAMS=max_success=200)
fuzz_env=("${sanitizer_env[@]}")
# The fuzz targets, as fuzz/CMakeLists.txt lists them.
read -r -a fuzz_targets <<<"$(sed -n 's/^set(SIGS_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/CMakeLists.txt)"
if ((${#fuzz_targets[@]} == 0)); then
  echo "soak: no SIGS_FUZZ_TARGETS found in fuzz/CMakeLists.txt" >&2
  exit 2
fi

logs=build/soak
mkdir -p "${logs}"

# Milliseconds since the epoch (bash 5's EPOCHREALTIME, without the decimal point).
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

start_all=$(now_ms)

# The summary: one row per command, in the order first run. `runs` counts test-binary runs
# (of them `seq_cst`: forced onto the seq_cst read path) or fuzzer executions.
rows=()
declare -A runs seq_runs failures millis
note() {  # note <row> <runs> <of them seq_cst, or -> <failed 0/1> <milliseconds>
  if [[ ! -v "runs[$1]" ]]; then
    rows+=("$1")
    runs[$1]=0 seq_runs[$1]=0 failures[$1]=0 millis[$1]=0
    [[ $3 == - ]] && seq_runs[$1]=-
  fi
  runs[$1]=$((runs[$1] + $2))
  [[ $3 != - ]] && seq_runs[$1]=$((seq_runs[$1] + $3))
  failures[$1]=$((failures[$1] + $4))
  millis[$1]=$((millis[$1] + $5))
}
summary() {
  echo
  printf '%-42s %10s %8s %7s %8s\n' "what ran" "runs" "seq_cst" "failed" "seconds"
  local r
  for r in "${rows[@]}"; do
    printf '%-42s %10s %8s %7s %8s\n' "$r" "${runs[$r]}" "${seq_runs[$r]}" "${failures[$r]}" \
      "$((millis[$r] / 1000)).$((millis[$r] % 1000 / 100))"
  done
  echo "total: $((($(now_ms) - start_all) / 1000)) s with the builds; soak budget ${budget} s (asan ${asan_budget}, tsan ${tsan_budget}, fuzz ${fuzz_budget})"
}
fail() {  # fail <what> <command> <log>
  echo
  echo "soak: FAILED: $1"
  echo "soak: reproduce with: $2"
  [[ -n "$3" ]] && { echo "soak: log ${3}; its end:"; tail -n 60 "$3"; }
  summary
  echo "soak: FAILED"
  exit 1
}
trap 'echo; echo "soak: interrupted"; summary; exit 130' INT TERM

# ---- builds ------------------------------------------------------------------------------

ci/setup.sh || exit 1
build() {  # build <preset> [targets...]
  local preset=$1
  shift
  local t0
  t0=$(now_ms)
  echo "=== soak: building preset ${preset} ==="
  : >"${logs}/build-${preset}.log"
  # Always through the preset: it also resets a build tree an older preset configured.
  cmake --preset "${preset}" >>"${logs}/build-${preset}.log" 2>&1 ||
    fail "configuring preset ${preset}" "cmake --preset ${preset}" "${logs}/build-${preset}.log"
  local targets=()
  (($#)) && targets=(--target "$@")
  cmake --build --preset "${preset}" "${targets[@]}" >>"${logs}/build-${preset}.log" 2>&1 ||
    fail "building preset ${preset}" "cmake --build --preset ${preset} ${targets[*]}" "${logs}/build-${preset}.log"
  note "build ${preset}" 1 - 0 $(($(now_ms) - t0))
}
stress_targets=()
for s in "${stress[@]}"; do stress_targets+=("${s%%|*}"); done
build asan "${stress_targets[@]}"
build tsan "${stress_targets[@]}"
build fuzz

# ---- stress tests under a sanitizer --------------------------------------------------------

# Where each target's binary is: tests/ or props/ of the preset's build tree.
binary() {  # binary <preset> <target>
  local b
  for b in "build/$1/tests/$2" "build/$1/props/$2"; do
    [[ -x "$b" ]] && { echo "$b"; return; }
  done
  echo "build/$1/tests/$2"
}

soak_sanitizer() {  # soak_sanitizer <preset> <budget seconds> env...
  local preset=$1 phase_budget=$2
  shift 2
  local env=("$@")
  local phase_start round=0
  phase_start=$(date +%s)
  echo "=== soak: ${preset}, ${phase_budget} s ==="
  while :; do
    round=$((round + 1))
    local i
    for i in "${!stress[@]}"; do
      local s=${stress[$i]}
      local target=${s%%|*} filter=${s#*|}
      # Both read paths, the one the process picks and seq_cst, alternating from one command
      # to the next and from one round to the next.
      local fence=() name="${preset} ${target}" seq=0
      if (((round + i) % 2 == 0)); then
        fence=(SIGS_ASYMMETRIC_FENCE=0)
        seq=1
      fi
      # Round 1 runs everything once, whatever the budget.
      if ((round > 1 && $(date +%s) - phase_start >= phase_budget)); then
        return 0
      fi
      local seed=$((RANDOM * 32768 + RANDOM + 1))
      local bin
      bin=$(binary "${preset}" "${target}")
      local cmd=(env "${env[@]}" "${fence[@]}" timeout -k 10 "${test_timeout}" "${bin}"
        "--gtest_filter=${filter}" --gtest_shuffle "--gtest_random_seed=$((seed % 99999 + 1))")
      local log="${logs}/${preset}-${target}.log"
      local t0 rc
      t0=$(now_ms)
      "${cmd[@]}" >"${log}" 2>&1
      rc=$?
      local took=$(($(now_ms) - t0))
      local shown
      shown=$(printf '%q ' "${cmd[@]}")
      if ((rc != 0)); then
        note "${name}" 1 "${seq}" 1 "${took}"
        local why="exit ${rc}"
        ((rc == 124 || rc == 137)) && why="timed out after ${test_timeout} s (a hang?)"
        fail "${name} (${why})" "${shown}" "${log}"
      fi
      if ! grep -Eq '^\[  PASSED  \] [1-9]' "${log}"; then
        note "${name}" 1 "${seq}" 1 "${took}"
        fail "${name}: the filter '${filter}' ran no test" "${shown}" "${log}"
      fi
      note "${name}" 1 "${seq}" 0 "${took}"
    done
  done
}

soak_sanitizer asan "${asan_budget}" "${asan_env[@]}"
soak_sanitizer tsan "${tsan_budget}" "${tsan_env[@]}"

# ---- fuzzers -------------------------------------------------------------------------------

# Two at a time (CI has two cores), each for an equal share of the phase: new inputs into
# build/fuzz/soak-corpus/<target>, the lane's corpus and the committed one read too.
per_target=$((fuzz_budget * 2 / ${#fuzz_targets[@]}))
((per_target < 10)) && per_target=10
echo "=== soak: fuzz, ${per_target} s per target ==="
mkdir -p build/fuzz/artifacts
fuzz_cmd() {  # fuzz_cmd <target>: prints the command, one word per line
  local t=$1 base=$1
  [[ $t == async_boxed ]] && base=async  # async's encoding, dictionary and corpus (fuzz/CMakeLists.txt)
  mkdir -p "build/fuzz/soak-corpus/${t}"
  local dirs=("build/fuzz/soak-corpus/${t}")
  [[ -d "build/fuzz/lane-corpus/${t}" ]] && dirs+=("build/fuzz/lane-corpus/${t}")
  dirs+=("fuzz/corpus/${base}")
  printf '%s\n' env "${fuzz_env[@]}" "build/fuzz/fuzz/fuzz_${t}" "-max_total_time=${per_target}" -timeout=10 \
    -print_final_stats=1 "-dict=fuzz/${base}.dict" "-artifact_prefix=build/fuzz/artifacts/soak-${t}-" "${dirs[@]}"
}
declare -A fuzz_target=() fuzz_start=()  # by pid
finish_fuzz() {  # finish_fuzz: waits for whichever running fuzzer ends first (wait -p: bash 5.1)
  local pid rc
  wait -n -p pid "${!fuzz_target[@]}"
  rc=$?
  local t=${fuzz_target[$pid]}
  unset "fuzz_target[$pid]"
  local took=$(($(now_ms) - fuzz_start[$pid]))
  local log="${logs}/fuzz-${t}.log"
  local n
  n=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "${log}" | grep -Eo '[0-9]+$' | tail -1)
  if ((rc != 0)); then
    note "fuzz ${t}" "${n:-0}" - 1 "${took}"
    # Stop the other fuzzer, if one still runs: we started it; its pid is ours to end.
    local other
    for other in "${!fuzz_target[@]}"; do
      kill "${other}" 2>/dev/null
      wait "${other}" 2>/dev/null
    done
    local cmd
    mapfile -t cmd < <(fuzz_cmd "$t")
    fail "fuzz ${t} (exit ${rc}; crash inputs in build/fuzz/artifacts/soak-${t}-*)" \
      "$(printf '%q ' "${cmd[@]}")  # one input: build/fuzz/fuzz/fuzz_${t} <file>" "${log}"
  fi
  note "fuzz ${t}" "${n:-0}" - 0 "${took}"
}
for t in "${fuzz_targets[@]}"; do
  ((${#fuzz_target[@]} == 2)) && finish_fuzz
  mapfile -t cmd < <(fuzz_cmd "$t")
  "${cmd[@]}" >"${logs}/fuzz-${t}.log" 2>&1 &
  fuzz_target[$!]=$t
  fuzz_start[$!]=$(now_ms)
done
while ((${#fuzz_target[@]})); do finish_fuzz; done
for t in "${fuzz_targets[@]}"; do  # a fuzzer that never ran must not pass for one that did
  [[ -v "runs[fuzz ${t}]" ]] || fail "fuzz ${t} did not run" "$(printf '%q ' $(fuzz_cmd "$t"))" ""
done

summary
echo "soak: passed"
exit 0
