#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format (the repo's .clang-format) makes.
#   format_check.sh SOURCE_DIR
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "skipped: clang-format not installed"; exit 77; }
mapfile -t files < <(find shared chains observer cli tests bench generators locate measure tracing fuzz docs/examples -name '*.cpp' -o -name '*.hpp' 2>/dev/null | sort)
clang-format --dry-run --Werror "${files[@]}"
echo "${#files[@]} files formatted as .clang-format says"
