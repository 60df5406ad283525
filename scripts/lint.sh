#!/usr/bin/env bash
# lint.sh: the static checks over src/ and tools/: clang-tidy (checks in .clang-tidy)
# and cppcheck (warning, performance, portability), both reading the build's
# compile_commands.json so they see exactly the flags meson uses. Exits 1 on any finding.
# Usage: scripts/lint.sh [BUILDDIR] [FILE...]   (BUILDDIR default: build, or meson's when
#        run as `meson compile -C BUILDDIR lint`; FILE...: only these sources)
# A wrong finding is silenced on its own line with a reason: `// NOLINT(check): why` for
# clang-tidy, `// cppcheck-suppress id` on the line before for cppcheck.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

case "${1:-}" in -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
build=${1:-${MESON_BUILD_ROOT:-build}}
[ $# -gt 0 ] && shift
db=$build/compile_commands.json
[ -f "$db" ] || { echo "lint.sh: $db missing: run meson setup $build first" >&2; exit 1; }

tidy=${CLANG_TIDY:-clang-tidy}
command -v "$tidy" >/dev/null 2>&1 ||
    { echo "lint.sh: clang-tidy not found (apt-get install clang-tidy)" >&2; exit 1; }
command -v cppcheck >/dev/null 2>&1 ||
    { echo "lint.sh: cppcheck not found (apt-get install cppcheck)" >&2; exit 1; }

# The C sources under src/ and tools/ that the build compiles, each once (both_libraries lists the
# library's twice), relative to the source tree.
if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(python3 - "$db" "$root" <<'PY'
import json, os, sys
db, root = sys.argv[1], sys.argv[2]
seen = set()
for e in json.load(open(db)):
    p = os.path.relpath(os.path.normpath(os.path.join(e["directory"], e["file"])), root)
    if p.startswith(("src/", "tools/")) and p.endswith(".c") and p not in seen:
        seen.add(p)
        print(p)
PY
)
fi
[ ${#files[@]} -gt 0 ] || { echo "lint.sh: no sources under src/ or tools/ in $db" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hola-lint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

# clang-tidy: one process per file, one per CPU at once. A file's findings go to
# $tmp/N.out; a file with findings (or that does not compile) leaves $tmp/N.fail.
echo "lint.sh: clang-tidy on ${#files[@]} files" >&2
for i in "${!files[@]}"; do printf '%s\n%s\n' "$i" "${files[$i]}"; done |
    xargs -d '\n' -n 2 -P "$(nproc 2>/dev/null || echo 2)" \
        sh -c '"$0" -p "$1" --quiet "$4" >"$2/$3.out" 2>&1 || : >"$2/$3.fail"' \
        "$tidy" "$build" "$tmp"
for i in "${!files[@]}"; do
    grep -v -e '^[0-9]* warnings\? \(and [0-9]* errors\? \)\?generated\.$' \
        -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter' -e '^Error while processing' \
        "$tmp/$i.out" || true
    if [ -e "$tmp/$i.fail" ]; then status=1; fi
done

# cppcheck over the same compile commands. RUDP_LIB_VERSION is passed again because
# cppcheck drops the build's escaped-quote definition of it (version.c then hits #error).
echo "lint.sh: cppcheck" >&2
filters=()
for f in "${files[@]}"; do filters+=("--file-filter=*$f"); done
cppcheck --project="$db" "${filters[@]}" --enable=warning,performance,portability \
    --inline-suppr --error-exitcode=1 --quiet -j "$(nproc 2>/dev/null || echo 2)" \
    -DRUDP_LIB_VERSION='"0"' --suppress=missingIncludeSystem || status=1

if [ $status -eq 0 ]; then
    echo "lint.sh: clean" >&2
else
    echo "lint.sh: findings above" >&2
fi
exit $status
