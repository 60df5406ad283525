#!/usr/bin/env bash
# check.sh: every po/<lang>.po translates every message the sources mark with _() or N_(),
# with the same printf directives (msgfmt -c), and has no fuzzy or untranslated entry.
# Usage: check.sh SOURCEDIR
set -u
src=$1
for t in xgettext msgcmp msgfmt; do
    command -v $t >/dev/null || { echo "SKIP: $t missing (apt-get install gettext)"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hola-po.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1
# The same keywords and flags as po/meson.build.
xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 --flag=hola_err_set:2:c-format \
    --flag=_:1:pass-c-format -f po/POTFILES.in -o "$tmp/hola.pot" || exit 1
n=$(grep -c '^msgid ' "$tmp/hola.pot")
fail=0
for lang in $(grep -v '^#' po/LINGUAS); do
    po=po/$lang.po
    msgcmp "$po" "$tmp/hola.pot" || { echo "FAIL: $po lacks messages (ninja hola-update-po)"; fail=1; }
    stats=$(msgfmt -c --statistics -o /dev/null "$po" 2>&1) || { echo "FAIL: $po: $stats"; fail=1; }
    case $stats in
        *fuzzy* | *untranslated*) echo "FAIL: $po: $stats"; fail=1 ;;
    esac
    echo "ok: $po: $stats (the sources mark $((n - 1)))"
done
exit $fail
