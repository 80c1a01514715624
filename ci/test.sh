#!/usr/bin/env bash
# Runs every verification lane, one workflow preset each, and prints each lane's wall time.
# Fails if any lane fails (all lanes still run). Lanes can be chosen: ci/test.sh dev tsan
set -uo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh || exit 1

lanes=("$@")
((${#lanes[@]})) || lanes=(dev asan tsan fuzz models coverage bench scrape docs lint)

declare -A took result
failed=0
total_start=$(date +%s)
for lane in "${lanes[@]}"; do
  echo "=== lane ${lane} ==="
  start=$(date +%s)
  if [[ -x "ci/lane-${lane}.sh" ]]; then
    "ci/lane-${lane}.sh"
  else
    cmake --workflow --preset "${lane}"
  fi
  rc=$?
  took[$lane]=$(( $(date +%s) - start ))
  if ((rc == 0)); then result[$lane]=passed; else result[$lane]="FAILED (exit ${rc})"; failed=$((failed + 1)); fi
  echo "=== lane ${lane}: ${result[$lane]} in ${took[$lane]} s ==="
done

echo
echo "lane        result            seconds"
for lane in "${lanes[@]}"; do
  printf '%-11s %-17s %7s\n' "$lane" "${result[$lane]}" "${took[$lane]}"
done
echo "total: $(( $(date +%s) - total_start )) s"
echo "lanes: $(( ${#lanes[@]} - failed )) passed, ${failed} failed"
exit $((failed > 0))
