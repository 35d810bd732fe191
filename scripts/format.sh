#!/usr/bin/env bash
# Formats the C and C++ sources of src/, tests/ and bench/ with clang-format and
# the repository's .clang-format (Debian 12's clang-format 14: the same version
# everywhere, since another version may lay out the same code differently).
#
#   scripts/format.sh          # rewrite the files in place
#   scripts/format.sh --check  # change nothing; list the files that differ, exit 1 if any
#
# ctest runs the check (layout_format), so code that is not formatted fails the
# suite; run this, then commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

format="${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}"
if [ -z "$format" ]; then
  echo "format.sh: clang-format not found (apt-get install clang-format)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files -- 'src/*.cpp' 'src/*.hpp' 'src/*.c' 'src/*.h' \
  'tests/*.cpp' 'tests/*.hpp' 'tests/*.c' 'tests/*.h' 'bench/*.cpp' 'bench/*.hpp' 'bench/*.c' 'bench/*.h')

if [ "${1:-}" = --check ]; then
  differ=()
  for f in "${files[@]}"; do
    if ! "$format" --style=file "$f" | cmp -s - "$f"; then differ+=("$f"); fi
  done
  if [ "${#differ[@]}" -ne 0 ]; then
    echo "format.sh: ${#differ[@]} of ${#files[@]} files are not formatted (run scripts/format.sh):"
    printf '  %s\n' "${differ[@]}"
    exit 1
  fi
  echo "format.sh: ${#files[@]} files formatted"
  exit 0
fi
"$format" --style=file -i "${files[@]}"
