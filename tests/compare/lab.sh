#!/usr/bin/env bash
# hola-compare --lab: nftables (or netem) loss of 10% each way, both patterns: tcp and
# rudp deliver all, tcp's counts come from the lab's namespaces, and no namespace is left.
# Skipped (77) where the lab cannot run.
. "$(dirname "$0")/lib.sh"
LAB=${HOLA_LAB:?HOLA_LAB must point to scripts/hola-lab}
PATH=$PATH:/usr/sbin:/sbin
out=$("$LAB" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $out"
[ $rc -eq 0 ] || fail "hola-lab --check exited $rc: $out"
[[ $out == *"netem: yes"* || $out == *"nftables: yes"* ]] ||
    skip "no way to drop packets here (no sch_netem, no nftables)"
before=$(ip netns list 2>/dev/null | grep -c '^hola-lab-')

# LeakSanitizer cannot stop the world inside the lab's PID namespace (it reports "does
# not work under ptrace" at exit, now and then, failing the program): no leak checks in
# here; the loopback tests keep them.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
n=50
"$COMPARE" --lab --lab-script "$LAB" --csv -n $n --impair none --impair loss=10 --seed 9 \
    --timeout 60 >"$TMP/out.csv" 2>"$TMP/err.txt"
rc=$?
[ $rc -eq 77 ] && skip "hola-compare: $(tail -1 "$TMP/err.txt")"
[ $rc -eq 0 ] || fail "hola-compare --lab exited with $rc"
check_csv "$TMP/out.csv" $n 2 2 4
# TCP's segments and retransmissions: the lab's own counters, and a lossy run retransmits.
csv_flat "$TMP/out.csv" | awk -F, 'NR > 1 && $1 == "tcp" {
        # Lock-step: at least a segment per name each way; pipelined, the names share
        # segments, but the handshake alone is three.
        min = $2 == "lockstep" ? 2 * '$n' : 4
        if ($14 != "netns" || $9 + 0 < min) { print "tcp row " NR ": counters " $14 " sent " $9; bad = 1 }
        if ($15 != "\"\"") { print "tcp row " NR ": unimpaired " $15; bad = 1 }
    } END { exit bad }' >"$TMP/check.txt" || fail "$(cat "$TMP/check.txt")"
# The backend is the lab's (netem or nftables) where it impaired, none where it did not.
csv_flat "$TMP/out.csv" | awk -F, 'NR > 1 {
        ok = $3 == "\"none\"" ? $24 == "\"none\"" : $24 == "\"netem\"" || $24 == "\"nftables\""
        if (!ok) { print "row " NR ": backend " $24 " for " $3; bad = 1 }
    } END { exit bad }' >"$TMP/check.txt" || fail "$(cat "$TMP/check.txt")"
csv_flat "$TMP/out.csv" | awk -F, 'NR > 1 && $3 == "\"loss=10\"" && $1 != "udp" { r += $10 }
    END { exit !(r > 0) }' || fail "no retransmission at 10% loss"
after=$(ip netns list 2>/dev/null | grep -c '^hola-lab-')
[ "$after" -le "$before" ] || fail "namespaces left behind: $(ip netns list)"
ok "lab: tcp and rudp deliver all $n at 10% loss each way; TCP counted in its namespaces"
