#!/usr/bin/env bash
# check.sh: the manual pages, English and Spanish (es/), render without a single groff
# warning, and each program's page names every --long-option its --help prints (the Spanish
# pages against the Spanish --help).
# Usage: check.sh MANDIR HOLA-SERVER HOLA-CLIENT HOLA-COMPARE HOLA-LAB
set -u
mandir=$1 server=$2 client=$3 compare=$4 lab=$5
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

command -v groff >/dev/null || { echo "SKIP: groff missing (apt-get install groff-base)"; exit 77; }

# Render: groff with every warning, at its default width and at the widths a terminal
# typically has (man's MANWIDTH), and with the man macros' own style checks. -k: the
# Spanish pages are UTF-8 (preconv, as man(1) does).
for page in "$mandir"/*.1 "$mandir"/*.3 "$mandir"/es/*.1; do
    name=${page#"$mandir"/}
    for ll in 78 80 100; do
        out=$(groff -k -man -rCHECKSTYLE=3 -rLL=${ll}n -Tutf8 -ww -z "$page" 2>&1)
        [ -z "$out" ] || bad "$name at ${ll} columns: $out"
    done
    if command -v man >/dev/null; then
        for w in 80 100; do
            out=$(MANWIDTH=$w MAN_KEEP_FORMATTING=0 man --warnings=w -l "$page" 2>&1 >/dev/null)
            [ -z "$out" ] || bad "$name: man -l at MANWIDTH=$w: $out"
        done
    fi
    # A page that renders to almost nothing is broken as surely as one with warnings.
    lines=$(groff -k -man -Tascii "$page" 2>/dev/null | wc -l)
    [ "$lines" -ge 40 ] || bad "$name renders to only $lines lines"
done

# Options: every --long-option of --help (hola-lab's internal --_inner aside) must
# appear in the rendered page (ASCII, so \- is a plain hyphen, without bold overstrikes).
check_opts() {
    local page=$1 help=$2 text opt n=0
    text=$(groff -k -man -Tascii -P-c -P-b -P-u "$mandir/$page" 2>/dev/null)
    for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        n=$((n + 1))
        grep -q -- "$opt\\b" <<<"$text" || bad "$page does not mention $opt (from --help)"
    done
    [ $n -ge 5 ] || bad "$page: only $n options found in --help: is the program right?"
    echo "ok: $page names all $n options of --help"
}
check_opts hola-server.1 "$("$server" --help)"
check_opts hola-client.1 "$("$client" --help)"
check_opts hola-compare.1 "$("$compare" --help)"
check_opts hola-lab.1 "$(bash "$lab" --help)"

# The Spanish pages, against the Spanish --help (es_MX.UTF-8, or C.UTF-8 with LANGUAGE=es
# where that locale is missing), which must really be Spanish.
if locale -a 2>/dev/null | grep -qix 'es_MX\.utf-\?8'; then es=(LANG=es_MX.UTF-8 LANGUAGE=)
else es=(LANG=C.UTF-8 LANGUAGE=es); fi
for prog in server client compare; do
    if [ -n "${HOLA_MAN_NO_CATALOG:-}" ]; then
        echo "skip: es/hola-$prog.1 options: built without msgfmt, so no Spanish --help"
        continue
    fi
    bin=$server; [ $prog = client ] && bin=$client; [ $prog = compare ] && bin=$compare
    help=$(env LC_ALL= "${es[@]}" "$bin" --help)
    if [ "${help%%:*}" = Uso ]; then
        check_opts es/hola-$prog.1 "$help"
    else
        bad "hola-$prog --help is not in Spanish under ${es[*]}: no catalog in the build?"
    fi
done

# The library page lists every error code of the header.
hdr=$mandir/../include/rudp/error.h
text=$(groff -man -Tascii -P-c -P-b -P-u "$mandir/rudp.3" 2>/dev/null)
for code in $(grep -o 'RUDP_E[A-Z]* = -' "$hdr" | cut -d' ' -f1); do
    grep -q "$code" <<<"$text" || bad "rudp.3 does not list $code"
done

[ $fail -eq 0 ] && echo "ok: every page renders without warnings"
exit $fail
