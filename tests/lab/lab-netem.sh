#!/usr/bin/env bash
# The netem path: only where the kernel has sch_netem (skips otherwise).
# --delay 20 each way makes ping's round trip at least 40 ms; --dup 50 shows duplicates;
# --loss 10 each way loses about 19% of 400 round trips (5-sigma band).
. "$(dirname "$0")/lib.sh"
command -v ping >/dev/null 2>&1 || skip "ping is not installed (apt-get install iputils-ping)"

out=$("$HOLA_LAB" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $out"
[ $rc -eq 0 ] || fail "--check exited $rc: $out"
[[ $out == *"netem: yes"* ]] || skip "sch_netem not available in this kernel"
export W=$work
links_before=$(host_links)

timeout -k 5 60 "$HOLA_LAB" --strict --delay 20 --dup 50 -- sh -c '
    echo "$HOLA_LAB_NAME" >"$W/name"
    lab-cli ping -n -c 20 -i 0.05 -W 2 "$HOLA_LAB_SERVER_ADDR" >"$W/ping" 2>&1; exit 0'
rc=$?
[ $rc -eq 0 ] || fail "hola-lab --strict --delay 20 --dup 50 exited $rc"
cat "$work/ping" >&2
min=$(awk -F'[/ =]+' '/^rtt/ { print int($6) }' "$work/ping")
[ -n "$min" ] && [ "$min" -ge 39 ] || fail "minimum rtt ${min:-?} ms, expected at least 40 with 20 ms each way"
grep -q 'DUP!' "$work/ping" || fail "no duplicates seen with --dup 50"
check_no_leftovers "$(cat "$work/name")" "$links_before"

n=400
timeout -k 5 60 "$HOLA_LAB" --strict --loss 10 --seed 1 -- sh -c '
    echo "$HOLA_LAB_NAME" >"$W/name"
    lab-cli ping -n -q -c '"$n"' -i 0.002 -W 1 "$HOLA_LAB_SERVER_ADDR" >"$W/ping" 2>&1; exit 0'
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 77 ] || fail "hola-lab --strict --loss 10 --seed 1 exited $rc"
if [ $rc -eq 77 ]; then
    # An older tc without netem's seed option: run without it.
    timeout -k 5 60 "$HOLA_LAB" --strict --loss 10 -- sh -c '
        echo "$HOLA_LAB_NAME" >"$W/name"
        lab-cli ping -n -q -c '"$n"' -i 0.002 -W 1 "$HOLA_LAB_SERVER_ADDR" >"$W/ping" 2>&1; exit 0' ||
        fail "hola-lab --strict --loss 10 failed"
fi
received=$(awk '/packets transmitted/ { print $4 }' "$work/ping")
lost=$((n - ${received:-0}))
read -r lo hi < <(awk -v n="$n" 'BEGIN { p = 1 - 0.9 * 0.9; s = sqrt(n * p * (1 - p));
    lo = int(n * p - 5 * s); hi = int(n * p + 5 * s + 1); print lo, hi }')
say "netem round-trip loss $lost/$n, accepted $lo..$hi"
[ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ] || fail "loss $lost/$n outside $lo..$hi"
check_no_leftovers "$(cat "$work/name")" "$links_before"
say PASS
