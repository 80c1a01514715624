#!/usr/bin/env bash
# The bench lane: builds the benchmarks with the bench workflow preset (g++ Release at -O2,
# build/bench, as bench/run.sh measures) and runs every benchmark binary once, each case for
# one short iteration: a smoke test that the suite builds, runs and checks its own results
# (a case whose listener tallies do not match reports an error), not a measurement. Fails if
# the build fails, a binary exits non-zero, or any case reports an error. Measure with
# bench/run.sh. Logs and JSON: build/bench/lane-<binary>.{log,json}.
set -uo pipefail
cd "$(dirname "$0")/.."

build=build/bench
start=$(date +%s)

cmake --workflow --preset bench || {
  echo "bench lane: the bench workflow failed"
  exit 1
}

# Every executable the preset builds in bench/ (today sigs_bench alone).
mapfile -t bins < <(find "${build}/bench" -maxdepth 1 -type f -perm -u+x | sort)
if ((${#bins[@]} == 0)); then
  echo "bench lane: no benchmark binary in ${build}/bench"
  exit 1
fi

failed=0
for bin in "${bins[@]}"; do
  name=$(basename "${bin}")
  log="${build}/lane-${name}.log"
  json="${build}/lane-${name}.json"
  rm -f "${json}"  # a crash must not leave the last run's JSON to be read
  t0=$(date +%s)
  # libbenchmark 1.7 (Debian 12): --benchmark_min_time is in seconds (a plain number).
  "${bin}" --benchmark_min_time=0.001 --benchmark_repetitions=1 \
    --benchmark_out="${json}" --benchmark_out_format=json >"${log}" 2>&1
  rc=$?
  took=$(($(date +%s) - t0))
  errors=$(python3 - "${json}" <<'EOF'
import json, sys
try:
    runs = json.load(open(sys.argv[1]))["benchmarks"]
except Exception as e:  # no JSON, or not whole: the binary did not finish
    print(f"unreadable JSON: {e}")
    sys.exit(0)
if not runs:
    print("no benchmark ran")
for r in runs:
    if r.get("error_occurred"):
        print(f"{r['name']}: {r.get('error_message', 'error')}")
EOF
  )
  if ((rc != 0)) || [[ -n "${errors}" ]]; then
    failed=$((failed + 1))
    echo "bench lane: ${name} FAILED (exit ${rc}) in ${took} s; log: ${log}"
    [[ -n "${errors}" ]] && echo "${errors}"
    tail -n 40 "${log}"
  else
    cases=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["benchmarks"]))' "${json}")
    echo "bench lane: ${name} ok (${cases} cases) in ${took} s"
  fi
done

echo "bench lane: $(($(date +%s) - start)) s"
exit $((failed > 0))
