#!/usr/bin/env bash
# The lint lane:
#  1. every C++ file of the repository is laid out as .clang-format says (clang-format-14);
#  2. clang-tidy-14, with the checks in .clang-tidy (tests/.clang-tidy relaxes one for the
#     tests), finds nothing in the translation units of the lint preset: src/, tests/,
#     props/, fuzz/, examples/, exporters/ and one generated unit per public header. Every finding is
#     an error; a deliberate exception is a NOLINT(check) comment with its reason.
# The Relacy models are not linted: they compile against Relacy's replacement of std.
set -euo pipefail
cd "$(dirname "$0")/.."

format=clang-format-14
tidy=run-clang-tidy-14
for tool in "$format" "$tidy" clang-tidy-14; do
  command -v "$tool" >/dev/null || { echo "lint: $tool is missing (ci/setup.sh installs it)" >&2; exit 1; }
done

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.h')
else
  mapfile -t files < <(find include src tests testing props fuzz models examples exporters bench \
    -name '*.hpp' -o -name '*.cpp' -o -name '*.h')
fi
if ! "$format" --dry-run --Werror "${files[@]}" 2>/tmp/sigs-format.$$; then
  head -40 /tmp/sigs-format.$$
  rm -f /tmp/sigs-format.$$
  echo "lint: these files differ from .clang-format; run: $format -i <file>" >&2
  exit 1
fi
rm -f /tmp/sigs-format.$$
echo "lint: ${#files[@]} C++ files match .clang-format"

cmake --preset lint >/dev/null
units=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' build/lint/compile_commands.json)
log=build/lint/clang-tidy.log
if "$tidy" -p build/lint -j "${JOBS:-2}" -quiet >"$log" 2>&1; then
  echo "lint: clang-tidy found nothing in ${units} translation units"
else
  # Findings print once per unit that includes them; show each once.
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '(error|warning): .*\]$' | sort -u || tail -40 "$log"
  echo "lint: clang-tidy findings above (full log: $log)" >&2
  exit 1
fi
