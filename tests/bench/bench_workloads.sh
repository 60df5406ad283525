#!/usr/bin/env bash
# bench_workloads.sh: hola's real-path workloads, rudp against TCP measured in the same
# run: lock-step 500 and pipelined 2000 names at 0% and 10% loss each way (rudp, and
# rudp --coalesce), one name without loss (the connection's setup), 100k names
# pipelined with --coalesce on loopback (names/s), and one-name connections at 10%
# loss (mean and p90). The rows of one workload take turns
# (hola-compare --repeat); each figure is a median, each ratio rudp/TCP of medians.
# Loss needs hola-lab (root or user namespaces, nftables or netem); without it the
# loopback rows run and the loss rows say they were skipped.
# Usage: bench_workloads.sh HOLA_COMPARE HOLA_LAB HOLA_CLIENT [--repeat K] [--one-name N] [--no-lab]
#   HOLA_CLIENT   hola-client, with hola-server beside it
#   --repeat K    runs per row, alternated (default 3; 5 for quotable figures)
#   --one-name N  one-name connections per protocol at 10% (default 20)
set -u
compare=$1 lab=$2 bindir=$(dirname "$3")
shift 3
repeat=3 one=20 use_lab=1
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --one-name) one=$2; shift 2 ;;
    --no-lab) use_lab=0; shift ;;
    *) echo "bench_workloads: unknown option $1" >&2; exit 2 ;;
    esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOLA_LAB=$lab

# rows CSV PATTERN IMPAIRMENT: "proto median max hs-retry-runs" per row of
# hola-compare's CSV (a lost handshake packet costs a whole initial timeout).
rows() {
    awk -F, -v pat="$2" -v imp="\"$3\"" 'NR > 1 && $2 == pat && $3 == imp {
        if ($17 != "ok") print $1, "FAILED", "-", 0; else print $1, $11, $21, $23 }' "$1"
}

# report NAME CSV PATTERN IMPAIRMENT: one line, each rudp row as a ratio to TCP's
# median, and the slowest run over its row's median.
report() {
    local name=$1 tcp line=""
    tcp=$(rows "$2" "$3" "$4" | awk '$1 == "tcp" { print $2 }')
    while read -r proto med max hs; do
        [ "$med" = FAILED ] && { line+=" $proto=FAILED"; continue; }
        line+=$(awk -v p="$proto" -v m="$med" -v x="$max" -v t="${tcp:-}" -v hs="$hs" 'BEGIN {
            r = (t != "" && t != "FAILED" && p != "tcp") ? sprintf(" %.2fx", m / t) : ""
            h = hs > 0 ? sprintf(", hs-retry in %d", hs) : ""
            printf " %s=%.1fms%s (max %.1fx median%s)", p, m, r, x / m, h }')
    done < <(rows "$2" "$3" "$4")
    echo "bench=workloads $name:$line"
}

# run NAME ARGS...: one hola-compare, CSV into $tmp/NAME.csv; 77 = no lab here.
run() {
    local name=$1
    shift
    "$compare" --bin-dir "$bindir" -q --csv --repeat "$repeat" -t 60 "$@" >"$tmp/$name.csv" 2>"$tmp/$name.err"
    local rc=$?
    [ $rc -eq 77 ] && return 77
    [ $rc -ne 0 ] && { echo "bench=workloads $name: hola-compare exit $rc:" \
        "$(tail -n 3 "$tmp/$name.err")"; }
    return 0
}

where=loopback
if [ $use_lab = 1 ]; then
    run lockstep --lab --names 500 --lockstep --impair none --impair loss=10 \
        --protos tcp,rudp --coalesce
    [ $? -eq 77 ] || where=lab
fi
echo "bench=workloads where=$where repeat=$repeat (medians of alternated runs; ratio: rudp/TCP)"
if [ $where = lab ]; then
    report "lock-step 500, 0%" "$tmp/lockstep.csv" lockstep none
    report "lock-step 500, 10%" "$tmp/lockstep.csv" lockstep loss=10
    run pipelined --lab --names 2000 --pipelined --impair none --impair loss=10 \
        --protos tcp,rudp --coalesce
    report "pipelined 2000, 0%" "$tmp/pipelined.csv" pipelined none
    report "pipelined 2000, 10%" "$tmp/pipelined.csv" pipelined loss=10
    # One name without loss: the connection's setup, which the 2000-name row includes
    # (docs/performance.md §17: without loss, that is where rudp's extra time is).
    run setup --lab --names 1 --pipelined --impair none --protos tcp,rudp --coalesce
    report "one name, 0% (setup)" "$tmp/setup.csv" pipelined none
else
    run lockstep --names 500 --lockstep --impair none --protos tcp,rudp --coalesce
    report "lock-step 500, 0%" "$tmp/lockstep.csv" lockstep none
    run pipelined --names 2000 --pipelined --impair none --protos tcp,rudp --coalesce
    report "pipelined 2000, 0%" "$tmp/pipelined.csv" pipelined none
    run setup --names 1 --pipelined --impair none --protos tcp,rudp --coalesce
    report "one name, 0% (setup)" "$tmp/setup.csv" pipelined none
    echo "bench=workloads skipped: TCP at 10% (no lab: TCP cannot be impaired on" \
        "loopback; run as root, or with unprivileged user namespaces). rudp at 10% with" \
        "the programs' built-in loss, no ratio:"
    run lockloss --names 500 --lockstep --impair loss=10 --protos rudp --coalesce
    report "lock-step 500, 10% built-in" "$tmp/lockloss.csv" lockstep loss=10
    run pipeloss --names 2000 --pipelined --impair loss=10 --protos rudp --coalesce
    report "pipelined 2000, 10% built-in" "$tmp/pipeloss.csv" pipelined loss=10
fi

# 100k names on loopback, TCP and rudp --coalesce: names per second.
run bulk --names 100000 --pipelined --impair none --protos tcp,rudp-coalesce
rows "$tmp/bulk.csv" pipelined none | awk '
    $2 == "FAILED" { print "bench=workloads 100k loopback: " $1 " FAILED"; next }
    { rate[$1] = 100000 / ($2 / 1000) }
    END { if ("tcp" in rate && "rudp-coalesce" in rate)
        printf "bench=workloads 100k names loopback: tcp=%.2fM names/s rudp-coalesce=%.2fM names/s (%.2fx)\n",
            rate["tcp"] / 1e6, rate["rudp-coalesce"] / 1e6, rate["rudp-coalesce"] / rate["tcp"] }'

# One-name connections at 10%: a fresh client per name (handshake included), the
# protocols taking turns, inside one lab: from the client's start to its reply
# (last_reply_us; connecting or the handshake included, the closing not).
if [ $where = lab ]; then
    cat >"$tmp/one.sh" <<'EOF'
set -u
bindir=$1 n=$2 out=$3 a=$HOLA_LAB_SERVER_ADDR
for p in tcp rudp; do
    lab-srv "$bindir/hola-server" -p $p -b "$a" -P 0 --port-file "$out.$p.port" >/dev/null 2>&1 &
done
for _ in $(seq 50); do [ -s "$out.tcp.port" ] && [ -s "$out.rudp.port" ] && break; sleep 0.1; done
for _ in $(seq "$n"); do
    for p in tcp rudp; do
        t=; [ $p = tcp ] && t="-t 20000"
        # shellcheck disable=SC2086
        timeout 30 lab-cli "$bindir/hola-client" -p $p -H "$a" -P "$(cat "$out.$p.port")" \
            $t --stats Ana 2>&1 >/dev/null |
            sed -n "s/.*\"last_reply_us\":\([0-9]*\).*/$p \1/p" >>"$out"
    done
done
EOF
    if timeout 300 "$lab" -q --loss 10 -- bash "$tmp/one.sh" "$bindir" "$one" "$tmp/one" \
        >"$tmp/one.err" 2>&1; then
        for p in tcp rudp; do
            awk -v p=$p '$1 == p { print $2 }' "$tmp/one" | sort -n |
                awk -v p=$p '{ v[NR] = $1 / 1000; s += $1 / 1000 } END { if (NR)
                    printf "%s %d %.1f %.1f\n", p, NR, s / NR, v[int(NR * 0.9 + 0.999)] }'
        done >"$tmp/one.sum"
        awk '{ n[$1] = $2; mean[$1] = $3; p90[$1] = $4 }
            END { printf "bench=workloads one-name connections, 10%%: tcp mean=%.1fms p90=%.1fms (n=%d)" \
                " rudp mean=%.1fms p90=%.1fms (n=%d) (mean %.2fx, p90 %.2fx)\n", mean["tcp"], p90["tcp"],
                n["tcp"], mean["rudp"], p90["rudp"], n["rudp"], mean["rudp"] / mean["tcp"],
                p90["rudp"] / p90["tcp"] }' "$tmp/one.sum"
    else
        echo "bench=workloads one-name connections: the lab failed: $(tail -n 3 "$tmp/one.err")"
    fi
else
    echo "bench=workloads skipped: one-name connections at 10% (no lab)"
fi
