# Sourced by the hola-compare tests. Usage: . lib.sh "$@" (argument: hola-compare).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../show_file.sh"
COMPARE=${1:?usage: $0 HOLA_COMPARE}
TEST=${0##*/}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hola-compare-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C.UTF-8

say() { printf '%s: %s\n' "$TEST" "$*" >&2; }
fail() {
    say "FAIL: $*"
    local f
    for f in "$TMP"/*; do
        [ -s "$f" ] || continue
        show_file "$f" 2000 4000
    done
    exit 1
}
skip() { say "SKIP: $*"; exit 77; }
ok() { echo "ok: $*"; }

# csv_flat FILE: the CSV with the commas inside quoted fields turned into ';', so plain
# awk -F, splits it (hola-compare quotes every text field; no field holds a quote).
csv_flat() { sed -E ':a; s/^(([^"]*"[^"]*")*[^"]*"[^",]*),/\1;/; ta' "$1"; }

CSV_HEADER='protocol,pattern,impairment,names,delivered,lost,duplicated,out_of_order,sent,retransmissions,time_ms,lat_p50_us,lat_p99_us,counters,tcp_unimpaired,builtin,status,error,repeats,time_min_ms,time_max_ms,handshake_retry,handshake_retry_runs,backend,kernel'

# check_csv FILE N SETTINGS PATTERNS ROWS...: the header, one row per protocol × pattern ×
# setting, and the numbers every row must satisfy: tcp and rudp deliver all N with no
# duplicate and nothing out of order; every count adds up; times and latencies are
# numbers; the handshake-retry mark is 0 or 1, never on udp (no handshake), and a TCP
# row marked took at least the 1 s of a SYN retry; every row names the kernel it ran
# on. Prints "protocol,pattern,impairment,lost" lines of udp for the caller.
check_csv() {
    local file=$1 n=$2 settings=$3 patterns=$4 rows=$5
    [ "$(head -1 "$file")" = "$CSV_HEADER" ] || fail "CSV header: $(head -1 "$file")"
    local got
    got=$(tail -n +2 "$file" | wc -l)
    [ "$got" -eq $((settings * patterns * rows)) ] ||
        fail "CSV: $got rows, expected $settings settings x $patterns patterns x $rows rows"
    csv_flat "$file" | awk -F, -v n="$n" -v kernel="\"$(uname -r)\"" '
        NR == 1 { next }
        {
            p = $1; d = $5; l = $6; du = $7; oo = $8; t = $11; st = $17
            if ($4 != n) { print "row " NR ": names " $4 " != " n; bad = 1 }
            if (st != "ok") { print "row " NR " (" p " " $2 " " $3 "): status " st " " $18; bad = 1 }
            if (d + l != n) { print "row " NR ": delivered " d " + lost " l " != " n; bad = 1 }
            if (t !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || t + 0 <= 0) { print "row " NR ": time " t; bad = 1 }
            if ($12 !~ /^[0-9]+$/ || $13 !~ /^[0-9]+$/ || $12 + 0 > $13 + 0) { print "row " NR ": latency " $12 " " $13; bad = 1 }
            if (p != "udp" && (d != n || du != 0 || oo != 0)) {
                print "row " NR " (" p " " $2 " " $3 "): delivered " d " dup " du " ooo " oo; bad = 1
            }
            if (p ~ /^rudp/ && $9 + 0 < 2 * n) { print "row " NR ": rudp sent " $9 " < 2N"; bad = 1 }
            if ($19 !~ /^[1-9][0-9]*$/ || $20 + 0 > t + 0 || t + 0 > $21 + 0) {
                print "row " NR ": repeats " $19 ", time " $20 " <= " t " <= " $21 " does not hold"; bad = 1
            }
            if ($22 !~ /^[01]$/ || $23 !~ /^[0-9]+$/ || $23 + 0 > $19 + 0 || $22 > $23) {
                print "row " NR ": handshake_retry " $22 " in " $23 " of " $19 " runs"; bad = 1
            }
            if (p == "udp" && $23 != 0) { print "row " NR ": udp has no handshake to retry"; bad = 1 }
            if (p == "tcp" && $22 == 1 && t + 0 < 1000) { print "row " NR ": tcp SYN retry in " t " ms"; bad = 1 }
            if ($25 != kernel) { print "row " NR ": kernel " $25 " != " kernel; bad = 1 }
            key = p "," $2 "," $3
            if (key in seen) { print "row " NR ": " key " twice"; bad = 1 }
            seen[key] = 1
        }
        END { exit bad }' >"$TMP/check.txt" || fail "CSV rows: $(cat "$TMP/check.txt")"
}
