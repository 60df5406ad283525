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
run_fail "unknown proto" 2 "unknown protocol; use tcp or udp" "$CLIENT" -p sctp Ana
run_fail "rudp not built" 2 "rudp .* not available in this build" "$SERVER" --proto rudp
run_fail "unresolvable host" 1 '^hola-client: cannot resolve no-such-host\.invalid' \
    "$CLIENT" -H no-such-host.invalid -P 7 Ana

# A port in use: the second server fails with one line.
start_server busy -p tcp
run_fail "port in use" 1 "^hola-server: cannot listen on .*:$PORT \(tcp\): Address already in use" \
    "$SERVER" -p tcp -P "$PORT"

for prog in "$SERVER" "$CLIENT"; do
    name=${prog##*/}
    "$prog" --help >"$TMP/help.out" 2>&1 || fail "$name --help"
    grep -q "^Usage: $name" "$TMP/help.out" || fail "$name --help: no usage line"
    grep -q -- '--proto' "$TMP/help.out" || fail "$name --help: --proto not documented"
    grep -q 'Exit status' "$TMP/help.out" || fail "$name --help: exit status not documented"
    "$prog" --version >"$TMP/ver.out" 2>&1 || fail "$name --version"
    grep -Eq "^$name [0-9]+\.[0-9]+\.[0-9]+$" "$TMP/ver.out" || fail "$name --version"
done
ok "--help and --version"
