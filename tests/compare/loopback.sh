#!/usr/bin/env bash
# hola-compare --csv on loopback: 50 names, no impairment and 30% built-in loss, every
# row parsed: tcp and rudp deliver all, in order, once; udp loses names at 30%.
. "$(dirname "$0")/lib.sh"
n=50
"$COMPARE" --csv -n $n --impair none --impair loss=30 --seed 11 --timeout 60 \
    >"$TMP/out.csv" 2>"$TMP/err.txt" || fail "hola-compare exited with $?"
check_csv "$TMP/out.csv" $n 2 2 4
# udp at 30% each way loses names (P(no loss in 50 names) < 1e-15), and only there.
csv_flat "$TMP/out.csv" | awk -F, 'NR > 1 && $1 == "udp" { print $3, $6 }' >"$TMP/udp.txt"
while read -r setting lost; do
    case $setting in
        '"none"') [ "$lost" -eq 0 ] || fail "udp lost $lost names with no impairment" ;;
        '"loss=30"') [ "$lost" -gt 0 ] || fail "udp lost nothing at loss=30" ;;
        *) fail "unexpected setting $setting" ;;
    esac
done <"$TMP/udp.txt"
# TCP got no built-in impairment on loopback, and the CSV says so; its counters are the
# host's.
grep -q '^tcp,lockstep,"loss=30",.*,host,"loss=30",' "$TMP/out.csv" ||
    fail "tcp row does not say it got no loss=30 on loopback"
# The impairment's backend: the programs' own on loopback, none without a setting.
csv_flat "$TMP/out.csv" | awk -F, 'NR > 1 {
        want = $3 == "\"none\"" ? "\"none\"" : "\"built-in\""
        if ($24 != want) { print "row " NR ": backend " $24 ", expected " want; bad = 1 }
    } END { exit bad }' >"$TMP/check.txt" || fail "$(cat "$TMP/check.txt")"
# rudp's rows name the knobs they applied themselves.
grep -q '^rudp,pipelined,"loss=30",.*,program,"","loss=30",ok,' "$TMP/out.csv" ||
    fail "rudp row does not list its built-in loss=30"
# The progress line went to stderr, one per run (not a terminal here).
[ "$(grep -c '^\[[0-9]*/16\] ' "$TMP/err.txt")" -eq 16 ] || fail "progress lines: $(cat "$TMP/err.txt")"
ok "loopback CSV: 16 rows, tcp and rudp complete, udp loses names at loss=30"
