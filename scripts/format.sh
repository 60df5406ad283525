#!/usr/bin/env bash
# format.sh: formats hola's C sources with the checked-in .clang-format.
# Usage: scripts/format.sh [--check] [FILE...]
#   (no option)  rewrite the files in place
#   --check      change nothing; list the files that are not formatted and exit 1 if any
# Without FILE arguments: every tracked *.c and *.h under include/, src/, tools/,
# examples/ and tests/ (git ls-files), except the fuzz corpora. CLANG_FORMAT picks the
# binary.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;; -*) echo "format.sh: unknown option $1" >&2; exit 2 ;; esac

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
    for c in clang-format clang-format-{19,18,17,16,15,14}; do
        if command -v "$c" >/dev/null 2>&1; then cf=$c; break; fi
    done
fi
[ -n "$cf" ] || { echo "format.sh: clang-format not found (apt-get install clang-format)" >&2; exit 1; }

if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(git ls-files -- 'include/*.[ch]' 'src/*.[ch]' 'tools/*.[ch]' \
        'examples/*.[ch]' 'tests/*.[ch]' ':!tests/fuzz/corpus/*')
fi
[ ${#files[@]} -gt 0 ] || exit 0

if [ $check -eq 0 ]; then
    "$cf" -i --style=file "${files[@]}"
    exit 0
fi

bad=()
for f in "${files[@]}"; do
    if ! "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "format.sh: ${#bad[@]} file(s) not formatted (run scripts/format.sh):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "format.sh: all ${#files[@]} files formatted"
