#!/usr/bin/env bash
# e2e_errors.sh: every failure is one clear line on stderr and a non-zero exit: nobody
# listening (TCP refused, UDP port unreachable), names too long or not UTF-8, bad options.
# Also --help and --version.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

# run_fail WHAT STATUS PATTERN CMD...: CMD must exit with STATUS and print one line on
# stderr matching PATTERN, and nothing on stdout.
run_fail() {
    local what=$1 want=$2 pattern=$3; shift 3
    local rc=0
    timeout 20 "$@" >"$TMP/f.out" 2>"$TMP/f.err" </dev/null || rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit status $rc, expected $want"
    [ -s "$TMP/f.out" ] && fail "$what: unexpected output on stdout"
    expect_one_line "$what" "$TMP/f.err" "$pattern"
    ok "$what: $(cat "$TMP/f.err")"
}

free_port tcp
run_fail "tcp refused" 1 '^hola-client: server not reachable at 127\.0\.0\.1:[0-9]+ \(tcp\): Connection refused$' \
    "$CLIENT" -p tcp -H 127.0.0.1 -P "$FREE_PORT" Ana
free_port udp
run_fail "udp unreachable" 1 '^hola-client: server not reachable at 127\.0\.0\.1:[0-9]+ \(udp\): nothing listens' \
    "$CLIENT" -p udp -H 127.0.0.1 -P "$FREE_PORT" Ana Beto

long=$(head -c 513 /dev/zero | tr '\0' a)
run_fail "name too long" 2 '^hola-client: name 2 "a{40}\.\.\.": too long \(513 bytes, at most 512\)' \
    "$CLIENT" -P 1 Ana "$long"
run_fail "invalid UTF-8 (overlong)" 2 '^hola-client: name 1 "\\xC0\\xAF": not valid UTF-8 \(byte 1\)' \
    "$CLIENT" -P 1 "$(printf '\xc0\xaf')"
run_fail "invalid UTF-8 (surrogate)" 2 'not valid UTF-8' \
    "$CLIENT" -P 1 "$(printf 'x\xed\xa0\x80')"
run_fail "control character" 2 'contains a control character' \
    "$CLIENT" -P 1 "$(printf 'a\tb')"

printf 'Ana\nBeto\nJu\xe1n\n' >"$TMP/bad.in"
rc=0
"$CLIENT" -P 1 <"$TMP/bad.in" >"$TMP/f.out" 2>"$TMP/f.err" || rc=$?
[ "$rc" -eq 2 ] || fail "bad stdin line: exit $rc"
expect_one_line "bad stdin line" "$TMP/f.err" '^hola-client: line 3 of standard input: "Ju\\xE1n": not valid UTF-8'
ok "stdin: the bad line is named by number"

rc=0
"$CLIENT" -P 1 </dev/null >"$TMP/f.out" 2>"$TMP/f.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'no names to send' "$TMP/f.err" || fail "empty stdin"
ok "empty stdin: no names to send"

run_fail "unknown client option" 2 '^hola-client: unknown option --frobnicate' "$CLIENT" --frobnicate
run_fail "unknown server option" 2 '^hola-server: unknown option -z' "$SERVER" -z
run_fail "missing value" 2 'option --port needs a value' "$CLIENT" --port
run_fail "bad port" 2 "^hola-server: --port '70000': out of range" "$SERVER" -P 70000
run_fail "bad count" 2 "^hola-server: --count 'x'" "$SERVER" --count x
run_fail "bad timeout" 2 "^hola-client: --timeout '0'" "$CLIENT" --timeout 0 Ana
run_fail "unknown proto" 2 "unknown protocol; use tcp, udp or rudp" "$CLIENT" -p sctp Ana
# The rudp and impairment options: refused where the protocol cannot honour them, and
# every bad value named.
run_fail "loss with tcp (client)" 2 '^hola-client: --loss needs udp or rudp: TCP runs in the kernel; use scripts/hola-lab for kernel-level loss' \
    "$CLIENT" -p tcp --loss 10 Ana
run_fail "delay with tcp (server)" 2 '^hola-server: --delay needs udp or rudp: TCP runs in the kernel' \
    "$SERVER" --delay 5
run_fail "window with udp" 2 '^hola-client: --window needs --proto rudp' "$CLIENT" -p udp --window 4 Ana
run_fail "trace with tcp" 2 '^hola-server: --trace needs --proto rudp' "$SERVER" --trace
run_fail "max-clients on the client" 2 'unknown option --max-clients' "$CLIENT" -p rudp --max-clients 3 Ana
run_fail "bad window" 2 "^hola-client: --window '0': out of range \(1 to 1024\)" "$CLIENT" -p rudp --window 0 Ana
run_fail "bad window (big)" 2 "^hola-server: --window '1025': out of range" "$SERVER" -p rudp --window 1025
run_fail "bad cc" 2 "^hola-client: --cc 'cubic': use newreno or none" "$CLIENT" -p rudp --cc cubic Ana
run_fail "bad trace" 2 "^hola-client: --trace='xml'" "$CLIENT" -p rudp --trace=xml Ana
run_fail "bad loss" 2 "^hola-client: --loss '120': expected PCT or PCT,CORR" "$CLIENT" -p udp --loss 120 Ana
run_fail "bad delay" 2 "^hola-server: --delay 'soon': expected MS or MS,JITTER" "$SERVER" -p rudp --delay soon
run_fail "reorder without delay" 2 '^hola-client: --reorder needs --delay' "$CLIENT" -p udp --reorder 5 Ana
run_fail "bad max-clients" 2 "^hola-server: --max-clients '0': out of range" "$SERVER" -p rudp --max-clients 0
run_fail "timeout with rudp" 2 '^hola-client: --timeout does not apply to rudp' "$CLIENT" -p rudp -t 100 Ana
run_fail "pcap in a missing directory" 1 "^hola-client: --pcap $TMP/nodir/x.pcap: No such file or directory$" \
    "$CLIENT" -p rudp -P 1 --pcap "$TMP/nodir/x.pcap" Ana
run_fail "bad seed" 2 "^hola-client: --seed '0': out of range" "$CLIENT" -p udp --seed 0 Ana
run_fail "unresolvable host" 1 '^hola-client: cannot resolve no-such-host\.invalid' \
    "$CLIENT" -H no-such-host.invalid -P 7 Ana

# A port in use: the second server fails with one line.
start_server busy -p tcp
run_fail "port in use" 1 "^hola-server: cannot listen on .*:$PORT \(tcp\): Address already in use" \
    "$SERVER" -p tcp -P "$PORT"

# Standard output is the programs' record: lines are written out in bursts, before each
# wait, and a failure to write them is still one line naming the cause, exit status 1.
for p in tcp udp rudp; do
    SERVER_STDOUT=/dev/full start_server "full-srv-$p" -p "$p"
    timeout 20 "$CLIENT" -p "$p" -P "$PORT" Ana >/dev/null 2>&1 || true
    wait_exit "$PID" 10
    [ "$STATUS" -eq 1 ] || fail "server stdout full ($p): exit status $STATUS, expected 1"
    [ "$(grep -c '^hola-server: standard output: No space left on device$' "$TMP/full-srv-$p.err")" -eq 1 ] ||
        { cat "$TMP/full-srv-$p.err" >&2; fail "server stdout full ($p): no line naming the cause"; }
    ok "server stdout full ($p): $(tail -n 1 "$TMP/full-srv-$p.err")"

    start_server "full-$p" -p "$p"
    # 300 replies fill stdio's buffer several times: writes fail mid-run, not only at exit.
    rc=0
    seq -f 'Nombre Apellido %g' 300 |
        timeout 20 "$CLIENT" -p "$p" -P "$PORT" >/dev/full 2>"$TMP/f.err" || rc=$?
    [ "$rc" -eq 1 ] || fail "client stdout full ($p): exit status $rc, expected 1"
    # (udp's client also sums up on stderr what it sent and what came back)
    [ "$(tail -n 1 "$TMP/f.err")" = "hola-client: standard output: No space left on device" ] ||
        { cat "$TMP/f.err" >&2; fail "client stdout full ($p): the last line does not name the cause"; }
    ok "client stdout full ($p): $(tail -n 1 "$TMP/f.err")"
done

for prog in "$SERVER" "$CLIENT"; do
    name=${prog##*/}
    "$prog" --help >"$TMP/help.out" 2>&1 || fail "$name --help"
    grep -q "^Usage: $name" "$TMP/help.out" || fail "$name --help: no usage line"
    grep -q -- '--proto' "$TMP/help.out" || fail "$name --help: --proto not documented"
    grep -q 'Exit status' "$TMP/help.out" || fail "$name --help: exit status not documented"
    for opt in --window --cc --max-retries --dead-timeout --trace --pcap --loss --loss-burst \
        --delay --dup --reorder --corrupt --rate --seed --stats --lockstep --count \
        --max-clients; do
        case "$name:$opt" in hola-server:--lockstep | hola-client:--count | hola-client:--max-clients) continue ;; esac
        grep -q -- "$opt" "$TMP/help.out" || fail "$name --help: $opt not documented"
    done
    "$prog" --version >"$TMP/ver.out" 2>&1 || fail "$name --version"
    grep -Eq "^$name [0-9]+\.[0-9]+\.[0-9]+$" "$TMP/ver.out" || fail "$name --version"
done
ok "--help and --version"
