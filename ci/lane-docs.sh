#!/usr/bin/env bash
# The docs lane: builds the API reference (Doxyfile, into build/docs/html) and fails on any
# doxygen warning, such as a public entity without a doc comment.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/docs
log=$( (cat Doxyfile; echo "WARN_AS_ERROR = FAIL_ON_WARNINGS") | doxygen - 2>&1) || {
  echo "${log}"
  echo "docs: doxygen reported the warnings above" >&2
  exit 1
}
[[ -z "${log}" ]] || echo "${log}"
echo "docs: API reference in build/docs/html/index.html ($(find build/docs/html -name '*.html' | wc -l) pages)"
