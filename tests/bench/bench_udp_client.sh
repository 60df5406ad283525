#!/usr/bin/env bash
# bench_udp_client.sh: the plain UDP client's CPU time for 25k and 100k names on
# loopback, with --loss 0 and --loss 50 (lost names never get a reply, so the client
# matches each reply among many names still waiting). Prints user+sys seconds per run
# size, the median of 3 alternated runs, and the 100k/25k ratio: about 4 when each
# reply costs the same however many names are waiting, 16 when it grows with them.
# Usage: bench_udp_client.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"

RUNS=3
SIZES=(25000 100000)
LOSSES=(0 50)
for n in "${SIZES[@]}"; do
    seq -f 'Nombre %g' "$n" >"$TMP/names.$n"
done
SERVER_STDOUT=/dev/null start_server bench -p udp -b 127.0.0.1

# cpu N LOSS: one client run; appends its user+sys seconds to $TMP/cpu.N.LOSS.
cpu() {
    local n=$1 loss=$2 t rc=0
    t=$({
        TIMEFORMAT='%U %S'
        time timeout 120 "$CLIENT" -p udp -H 127.0.0.1 -P "$PORT" -t 200 --loss "$loss" \
            --seed 1 <"$TMP/names.$n" >/dev/null 2>"$TMP/client.err"
    } 2>&1) || rc=$?
    # 3: some names were lost, the expected outcome here.
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "client exit status $rc (n=$n, loss $loss)"
    grep '^hola-client: udp: sent' "$TMP/client.err" | sed 's/lost \([0-9]*\).*/lost \1/' \
        >"$TMP/report.$n.$loss"
    echo "$t" | awk '{ printf "%.3f\n", $1 + $2 }' >>"$TMP/cpu.$n.$loss"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for r in $(seq "$RUNS"); do
    for n in "${SIZES[@]}"; do
        for loss in "${LOSSES[@]}"; do
            cpu "$n" "$loss"
        done
    done
done

echo "hola-client -p udp, loopback, -t 200, --seed 1: client CPU (user+sys), median of $RUNS"
printf '%-8s %-6s %10s %12s  %s\n' names loss cpu_s us_per_name "last run's report"
for loss in "${LOSSES[@]}"; do
    for n in "${SIZES[@]}"; do
        m=$(median "$TMP/cpu.$n.$loss")
        printf '%-8s %-6s %10s %12s  %s\n' "$n" "$loss%" "$m" \
            "$(awk -v c="$m" -v n="$n" 'BEGIN { printf "%.2f", c * 1e6 / n }')" \
            "$(cat "$TMP/report.$n.$loss")"
    done
    a=$(median "$TMP/cpu.${SIZES[0]}.$loss") b=$(median "$TMP/cpu.${SIZES[1]}.$loss")
    echo "loss $loss%: CPU ratio ${SIZES[1]}/${SIZES[0]} names:" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "n/a" }')"
done
