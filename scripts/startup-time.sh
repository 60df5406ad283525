#!/usr/bin/env bash
# startup-time.sh: how long two builds of a program take to start and exit, alternated
# (A then B, then B then A, ...) so that a busy machine slows both alike; prints each
# one's median in ms and their ratio. Used for docs/security.md's "OpenSSL only with
# --secure" figures.
# Usage: startup-time.sh PROGRAM_A PROGRAM_B [RUNS [ARGS...]]   (RUNS 50, ARGS --help)
# e.g.   startup-time.sh old/src/hola/hola-client build/src/hola/hola-client 50 --help
set -u
a=${1:?usage: $0 PROGRAM_A PROGRAM_B [RUNS [ARGS...]]} b=${2:?} n=${3:-50}
shift $(($# < 3 ? $# : 3))
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--help)
if [ "$n" -lt 1 ] || [ "$n" -gt 10000 ]; then echo "RUNS: 1..10000" >&2; exit 2; fi

# run PROGRAM: its start-to-exit time in µs (bash's clock: no extra process).
run() {
    local t0 t1
    t0=$EPOCHREALTIME
    "$1" "${args[@]}" >/dev/null 2>&1
    t1=$EPOCHREALTIME
    echo $((${t1/./} - ${t0/./}))
}
ta=() tb=()
for i in $(seq "$n"); do
    if ((i % 2)); then
        ta+=("$(run "$a")") tb+=("$(run "$b")")
    else
        tb+=("$(run "$b")") ta+=("$(run "$a")")
    fi
done
median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                                  printf "%.3f", m / 1000 }'
}
ma=$(median "${ta[@]}") mb=$(median "${tb[@]}")
echo "A: median $ma ms over $n runs: $a ${args[*]}"
echo "B: median $mb ms over $n runs: $b ${args[*]}"
awk -v a="$ma" -v b="$mb" 'BEGIN { printf "B/A %.2f (B takes %.3f ms less)\n", b / a, a - b }'
