#!/usr/bin/env bash
# e2e_dtls.sh: --secure (DTLS 1.2) for udp and rudp on loopback: the self-signed
# certificate made once and reused; names under --loss 10 on both sides (rudp: every
# greeting once and in order; udp: some may be lost, every reply that arrives is right);
# records tampered with in flight (a relay flips a byte of every 3rd one) dropped and
# counted, never delivered; a wrong PSK and a wrong fingerprint refused; a plaintext
# client and a --secure server (and the other way round) each end with one clear line.
# Usage: e2e_dtls.sh HOLA_SERVER HOLA_CLIENT RELAY HAVE_DTLS
. "$(dirname "$0")/../hola/lib.sh"
RELAY=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT RELAY HAVE_DTLS}
HAVE_DTLS=${4:?}
hola_init "$1" "$2"

# Every program's state (the self-signed certificate) in this test's own directory.
export HOME="$TMP/home"
unset XDG_STATE_HOME
mkdir -p "$HOME"

if [ "$HAVE_DTLS" != 1 ]; then
    # Built without OpenSSL: --secure says how to get it, and nothing else runs.
    rc=0
    "$SERVER" -p udp --secure -P 0 2>"$TMP/nodtls.err" || rc=$?
    [ "$rc" -eq 2 ] || fail "--secure without DTLS: exit $rc, expected 2"
    grep -q 'built without DTLS; install libssl-dev .*-Ddtls=enabled' "$TMP/nodtls.err" ||
        fail "--secure without DTLS: no hint on how to enable it"
    echo "skipped: hola built without DTLS (install libssl-dev and reconfigure with -Ddtls=enabled)"
    exit 77
fi

fp_of() { grep -o 'SHA256:[0-9A-F:]*' "$TMP/$1.err" | head -n1; }
stats_of() { grep '^{"proto"' "$TMP/$1.err" | tail -n1; }
# counter FILE-TAG KEY: the value of "KEY" in that program's --stats line.
counter() { stats_of "$1" | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }
stop_server() { kill -INT "$1" 2>/dev/null; wait_exit "$1" 10; }

seq -f 'Nombre %g' 100 >"$TMP/names.in"
sed 's/^/Hola /' "$TMP/names.in" >"$TMP/names.want"

# 1. The self-signed certificate: made on first use (key 0600), the same fingerprint
#    on the next start.
start_server cert1 -p rudp --secure --count 4
grep -q 'made a self-signed certificate' "$TMP/cert1.err" || fail "no certificate made"
FP=$(fp_of cert1)
[ -n "$FP" ] || fail "no fingerprint line"
grep -Eq '^hola-server: DTLS certificate fingerprint SHA256(:[0-9A-F]{2}){32}$' "$TMP/cert1.err" ||
    fail "fingerprint line format"
key="$HOME/.local/state/hola/dtls-key.pem"
[ "$(stat -c %a "$key")" = 600 ] || fail "key mode $(stat -c %a "$key"), expected 600"
timeout 20 "$CLIENT" -p rudp --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 "${NAMES[@]}" \
    >"$TMP/c1.out" 2>"$TMP/c1.err" || fail "client over DTLS exited with $?"
expect_eq "rudp --secure: the four replies" "$TMP/c1.out" "$(printf 'Hola %s\n' "${NAMES[@]}")"
[ -s "$TMP/c1.err" ] && fail "client wrote to stderr"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exit $STATUS"
start_server cert2 -p udp --secure
grep -q 'made a self-signed certificate' "$TMP/cert2.err" && fail "certificate made twice"
[ "$(fp_of cert2)" = "$FP" ] || fail "fingerprint changed: $(fp_of cert2) != $FP"
UDP_PID=$PID UDP_PORT=$PORT
ok "self-signed certificate made once (key 0600), same fingerprint on the next start"

# 2. rudp under --loss 10 both ways: every greeting once, in order, on both sides.
start_server loss -p rudp --secure --count 100 --loss 10 --stats
timeout 100 "$CLIENT" -p rudp --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 --loss 10 \
    --stats <"$TMP/names.in" >"$TMP/loss-c.out" 2>"$TMP/loss-c.err" || fail "lossy client exited with $?"
cmp -s "$TMP/loss-c.out" "$TMP/names.want" || fail "rudp --secure --loss 10: client replies differ"
wait_exit "$PID" 20
[ "$STATUS" -eq 0 ] || fail "lossy server exit $STATUS"
grep -v '^Conectado a ' "$TMP/loss.out" | cmp -s - "$TMP/names.want" || fail "server greetings"
[ "$(counter loss-c impair_lost)" -gt 0 ] || fail "the client's impairment lost nothing"
[ "$(counter loss dtls_handshakes)" -eq 1 ] || fail "server: one DTLS handshake expected"
ok "rudp --secure --loss 10 (both sides): 100 names, each once and in order"

# 3. udp under --loss 10 both ways: lost names are reported; each reply that arrives is
#    the right one, once.
start_server uloss -p udp --secure --loss 10 --stats
rc=0
timeout 60 "$CLIENT" -p udp --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 --loss 10 \
    <"$TMP/names.in" >"$TMP/uloss-c.out" 2>"$TMP/uloss-c.err" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "udp --secure client exited with $rc"
[ -s "$TMP/uloss-c.out" ] || fail "udp --secure: no reply at all"
grep -vxFf "$TMP/names.want" "$TMP/uloss-c.out" && fail "udp --secure: a reply that greets no name"
[ -z "$(sort "$TMP/uloss-c.out" | uniq -d)" ] || fail "udp --secure: a reply twice"
grep -q '^hola-client: udp: sent 100, answered' "$TMP/uloss-c.err" || fail "udp report"
stop_server "$PID"
ok "udp --secure --loss 10: $(wc -l <"$TMP/uloss-c.out") of 100 replies, all correct"

# 4. Tampering: a relay flips a byte of every 3rd application-data record from the
#    client. DTLS drops each (dtls_bad_records), rudp sends it again: every greeting
#    still arrives once and in order, and none is made of altered bytes.
start_server tamper -p rudp --secure --count 30 --stats
"$RELAY" "$TMP/relay.port" "$PORT" 3 60 >"$TMP/relay.out" 2>"$TMP/relay.err" &
RELAY_PID=$!
HOLA_PIDS+=("$RELAY_PID")
for _ in $(seq 50); do [ -s "$TMP/relay.port" ] && break; sleep 0.1; done
[ -s "$TMP/relay.port" ] || fail "relay did not start"
head -n 30 "$TMP/names.in" >"$TMP/t.in"
timeout 60 "$CLIENT" -p rudp --secure --fingerprint "$FP" -P "$(cat "$TMP/relay.port")" \
    -H 127.0.0.1 <"$TMP/t.in" >"$TMP/t.out" 2>"$TMP/t-c.err" || fail "client through the relay: $?"
cmp -s "$TMP/t.out" <(sed 's/^/Hola /' "$TMP/t.in") || fail "replies through the tampering relay"
wait_exit "$PID" 20
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
flipped=$(awk '$1 == "flipped" {print $2}' "$TMP/relay.out")
[ "${flipped:-0}" -gt 0 ] || fail "the relay flipped nothing"
# The server may leave before the client's last datagrams (the ACK of its last reply)
# arrive: a flip it never read cannot be counted. It reads the relay's datagrams in the
# order they were sent (one source, loopback), so it read the first datagrams_in of them.
read_in=$(counter tamper datagrams_in)
forwarded=$(awk '$1 == "forwarded" {print $2}' "$TMP/relay.out")
[ "$read_in" -le "$forwarded" ] && [ "$read_in" -ge $((forwarded - 3)) ] ||
    fail "the server read $read_in of the relay's $forwarded datagrams"
read_flips=$(awk -v n="$read_in" '$1 == "flipped_at" {
    for (i = 2; i <= NF; i++) { c++; if ($i <= n) r++ } } END { if (c != '"$flipped"') r = -1; print r + 0 }' \
    "$TMP/relay.out")
bad=$(counter tamper dtls_bad_records)
[ "$bad" -eq "$read_flips" ] && [ "$read_flips" -gt 0 ] ||
    fail "dtls_bad_records $bad; the relay flipped $flipped, $read_flips of them read by the server"
grep -v '^Conectado a ' "$TMP/tamper.out" | cmp -s - <(sed 's/^/Hola /' "$TMP/t.in") ||
    fail "server greetings through the relay"
ok "tampered records: $flipped flipped, $bad read by the server and counted in dtls_bad_records, none delivered"

# 5. Pre-shared key, the server's from --psk-file, the client's from HOLA_PSK: the right
#    one works, silently; a wrong one is refused within its bound and its Finished
#    counted as a bad record. --psk on the command line still works, says once that
#    every local user can read it, and hides it from ps as soon as it is read. The same
#    for udp, the other way round.
KEY=00112233445566778899aabbccddeeff
(umask 077 && printf '%s\n' "$KEY" >"$TMP/psk.key")
start_server psk -p rudp --secure --psk-file "$TMP/psk.key" --stats
HOLA_PSK=${KEY^^} timeout 20 "$CLIENT" -p rudp --secure -P "$PORT" \
    -H 127.0.0.1 Ana >"$TMP/psk-c.out" 2>"$TMP/psk-c.err" || fail "right PSK: exit $?"
expect_eq "right PSK" "$TMP/psk-c.out" "Hola Ana"
[ -s "$TMP/psk-c.err" ] && fail "right PSK from HOLA_PSK: stderr not empty"
timeout 20 "$CLIENT" -p rudp --secure --psk "$KEY" -P "$PORT" \
    -H 127.0.0.1 Bea >"$TMP/psk-a.out" 2>"$TMP/psk-a.err" || fail "--psk: exit $?"
expect_eq "--psk on the command line" "$TMP/psk-a.out" "Hola Bea"
expect_one_line "--psk on the command line" "$TMP/psk-a.err" \
    '^hola-client: warning: --psk on the command line can be read by every local user .*--psk-file'
rc=0
HOLA_PSK=0badc0de0badc0de0badc0de0badc0de timeout 20 "$CLIENT" -p rudp --secure \
    --dead-timeout 2000 -P "$PORT" -H 127.0.0.1 Ana >"$TMP/badpsk.out" 2>"$TMP/badpsk.err" || rc=$?
[ "$rc" -eq 1 ] || fail "wrong PSK: exit $rc"
[ -s "$TMP/badpsk.out" ] && fail "wrong PSK: a reply came"
expect_one_line "wrong PSK" "$TMP/badpsk.err" \
    'no DTLS handshake within 2000 ms: is the server running with --secure and the same --psk\?$'
stop_server "$PID"
[ "$(counter psk dtls_bad_records)" -ge 1 ] || fail "wrong PSK: no dtls_bad_records"
# The key given with --psk is overwritten in the program's argument list as soon as it
# is read: ps and /proc/PID/cmdline show x's in its place.
start_server pskarg -p udp --secure --psk "$KEY"
tr '\0' ' ' <"/proc/$PID/cmdline" >"$TMP/cmdline"
grep -q "$KEY" "$TMP/cmdline" && fail "--psk: the key still shows in /proc/PID/cmdline"
grep -q -- "--psk x\{${#KEY}\} " "$TMP/cmdline" || fail "--psk: cmdline $(cat "$TMP/cmdline")"
timeout 20 "$CLIENT" -p udp --secure --psk-file "$TMP/psk.key" -P "$PORT" -H 127.0.0.1 Ana \
    >"$TMP/pskarg.out" 2>"$TMP/pskarg-c.err" || fail "a server with --psk: exit $?"
expect_eq "a server with --psk" "$TMP/pskarg.out" "Hola Ana"
stop_server "$PID"
HOLA_PSK=$KEY start_server upsk -p udp --secure
timeout 20 "$CLIENT" -p udp --secure --psk-file "$TMP/psk.key" -P "$PORT" -H 127.0.0.1 Ana \
    >"$TMP/upsk.out" 2>"$TMP/upsk-c.err" || fail "udp, key from a file: exit $?"
expect_eq "udp, key from a file" "$TMP/upsk.out" "Hola Ana"
stop_server "$PID"
ok "PSK from a file, HOLA_PSK or --psk (with a warning, then hidden from ps): the right key greets, a wrong one is refused and counted"

# 5b. Keys the programs refuse before anything is sent, each with one clear line: too
#     short (saying the minimum and how to make a key), not hex, too long, a file that
#     is missing, readable by others, too large or not a file, and two keys at once.
refuse() { # refuse WHAT PATTERN [ENV=VALUE...] -- CLIENT ARGS...
    local what=$1 pattern=$2 rc=0
    shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$CLIENT" -p rudp --secure -P 9 "$@" Ana >/dev/null 2>"$TMP/refuse.err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
    grep -Eq -- "$pattern" "$TMP/refuse.err" || { cat "$TMP/refuse.err" >&2; fail "$what: message"; }
    echo "  $what: $(head -n1 "$TMP/refuse.err")"
}
short='the key is too short to be safe: at least 16 random bytes \(32 hex digits\) are needed, 1 given\. Make one with: head -c 32 /dev/urandom'
refuse "--psk 2a" "^hola-client: --psk: $short" -- --psk 2a
refuse "HOLA_PSK=2a" "^hola-client: HOLA_PSK: $short" HOLA_PSK=2a --
rc=0
"$SERVER" -p rudp --secure --psk 2a -P 0 2>"$TMP/srv-short.err" || rc=$?
[ "$rc" -eq 2 ] && grep -Eq -- "^hola-server: --psk: $short" "$TMP/srv-short.err" || fail "server --psk 2a"
refuse "--psk odd digits" 'not a key in hex' -- --psk 0011223344556677889
refuse "--psk 130 digits" 'the key has 130 hex digits; at most 128 \(64 bytes\)' -- --psk "$(printf 'ab%.0s' $(seq 65))"
refuse "--psk-file missing" "--psk-file $TMP/nokey: No such file or directory" -- --psk-file "$TMP/nokey"
(umask 077 && printf 'key: %s\n' "$KEY" >"$TMP/badhex.key")
refuse "--psk-file not hex" "--psk-file $TMP/badhex.key: not a key in hex" -- --psk-file "$TMP/badhex.key"
cp "$TMP/psk.key" "$TMP/open.key" && chmod 644 "$TMP/open.key"
refuse "--psk-file mode 644" 'other users can read it \(mode 0644\); make it private with: chmod 600' \
    -- --psk-file "$TMP/open.key"
(umask 077 && head -c 5000 /dev/zero | tr '\0' 'a' >"$TMP/big.key")
refuse "--psk-file 5000 bytes" '5000 bytes: too large for a key file \(at most 4096\)' -- --psk-file "$TMP/big.key"
refuse "--psk-file a directory" 'not a regular file' -- --psk-file "$TMP"
refuse "--psk and --psk-file" 'the key was given already \(--psk\)' -- --psk "$KEY" --psk-file "$TMP/psk.key"
ok "bad keys refused, each with one clear line"

# 5c. Sessions per source host (--max-per-source 1): while one client's session is up, a
#     second from the same host is refused at once with one clear line, for udp and rudp;
#     once the first has ended the next one gets in at once (udp: the client said
#     close_notify; rudp: the ended connection drains without holding the place). The
#     server delays its replies (--delay 100), so the first client's lock-step names take
#     a while.
for proto in udp rudp; do
    start_server "src-$proto" -p "$proto" --secure --max-per-source 1 --delay 100 --stats
    timeout 20 "$CLIENT" -p "$proto" --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 \
        --lockstep A B C D E F G H >"$TMP/src1.out" 2>"$TMP/src1-c.err" &
    C1=$!
    HOLA_PIDS+=("$C1")
    for _ in $(seq 100); do [ -s "$TMP/src1.out" ] && break; sleep 0.05; done
    [ -s "$TMP/src1.out" ] || fail "$proto: the first client got no reply within 5 s"
    rc=0
    timeout 20 "$CLIENT" -p "$proto" --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 Eva \
        >"$TMP/src2.out" 2>"$TMP/src2.err" || rc=$?
    [ "$rc" -eq 1 ] || fail "$proto: a second session from the host: exit $rc, expected 1"
    [ -s "$TMP/src2.out" ] && fail "$proto: the refused client got a reply"
    expect_one_line "$proto, a second session from the host" "$TMP/src2.err" \
        'the server has no room for another DTLS session .*: try again later$'
    wait "$C1" || fail "$proto: the first client exited with $?"
    expect_eq "$proto: the first client's replies" "$TMP/src1.out" "$(printf 'Hola %s\n' A B C D E F G H)"
    timeout 20 "$CLIENT" -p "$proto" --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 Eva \
        >"$TMP/src3.out" 2>"$TMP/src3.err" || fail "$proto: the next client: exit $?"
    expect_eq "$proto: the next client, at once" "$TMP/src3.out" "Hola Eva"
    stop_server "$PID"
    [ "$(counter "src-$proto" dtls_refused_source)" -ge 1 ] || fail "$proto: dtls_refused_source"
done
ok "--max-per-source 1 with --secure: a second session from one host refused with one line, the next one after it served at once (udp, rudp)"

# 6. A wrong fingerprint: refused by the client, which names the one it got.
rc=0
timeout 20 "$CLIENT" -p udp --secure --fingerprint "SHA256$(printf ':00%.0s' $(seq 32))" \
    -P "$UDP_PORT" -H 127.0.0.1 Ana >"$TMP/fp.out" 2>"$TMP/fp.err" || rc=$?
[ "$rc" -eq 1 ] || fail "wrong fingerprint: exit $rc"
expect_one_line "wrong fingerprint" "$TMP/fp.err" \
    "the server's certificate fingerprint is $FP, not the one given with --fingerprint"
ok "pinning: a wrong --fingerprint is refused"

# 7. Plaintext meets --secure, both ways and both protocols: one line, promptly.
start_server sec -p rudp --secure --stats
SEC_PID=$PID
rc=0
timeout 20 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 Ana >/dev/null 2>"$TMP/plain.err" || rc=$?
[ "$rc" -eq 1 ] || fail "plaintext rudp client: exit $rc"
expect_one_line "plaintext rudp client" "$TMP/plain.err" 'the server speaks DTLS: it requires --secure$'
rc=0
timeout 20 "$CLIENT" -p udp -P "$UDP_PORT" -H 127.0.0.1 "Julián Alcibar Zubillaga" >/dev/null \
    2>"$TMP/uplain.err" || rc=$?
[ "$rc" -eq 1 ] || fail "plaintext udp client: exit $rc"
expect_one_line "plaintext udp client" "$TMP/uplain.err" 'the server speaks DTLS: it requires --secure$'
stop_server "$SEC_PID"
[ "$(counter sec dtls_plaintext)" -ge 1 ] || fail "server: no dtls_plaintext"
[ "$(counter sec dtls_alerts_sent)" -ge 1 ] || fail "server: no dtls_alerts_sent"

start_server plain -p rudp
rc=0
timeout 20 "$CLIENT" -p rudp --secure --fingerprint "$FP" --dead-timeout 2000 -P "$PORT" \
    -H 127.0.0.1 Ana >/dev/null 2>"$TMP/sp.err" || rc=$?
[ "$rc" -eq 1 ] || fail "--secure rudp client, plaintext server: exit $rc"
expect_one_line "--secure rudp client, plaintext server" "$TMP/sp.err" \
    'no DTLS handshake within 2000 ms: is the server running with --secure\?$'
start_server uplain -p udp
rc=0
timeout 20 "$CLIENT" -p udp --secure --fingerprint "$FP" -P "$PORT" -H 127.0.0.1 Ana \
    >/dev/null 2>"$TMP/usp.err" || rc=$?
[ "$rc" -eq 1 ] || fail "--secure udp client, plaintext server: exit $rc"
expect_one_line "--secure udp client, plaintext server" "$TMP/usp.err" \
    'the server answered in plaintext: it does not run with --secure$'
ok "plaintext against --secure, both ways, udp and rudp: one clear line each"

# 8. Option checks: a client must know whom it talks to; --secure is not for TCP.
rc=0
"$CLIENT" -p rudp --secure -P "$UDP_PORT" Ana 2>"$TMP/o1.err" >/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "--secure with no way to check the server was accepted"
grep -q -- '--secure needs --fingerprint, --ca or --psk' "$TMP/o1.err" || fail "o1 message"
rc=0
"$SERVER" -p tcp --secure -P 0 2>"$TMP/o2.err" || rc=$?
[ "$rc" -eq 2 ] || fail "--secure with tcp: exit $rc"
grep -q -- '--secure needs udp or rudp' "$TMP/o2.err" || fail "o2 message"
rc=0
"$SERVER" -p udp --psk "$KEY" -P 0 2>"$TMP/o3.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--psk needs --secure' "$TMP/o3.err" || fail "--psk without --secure"
stop_server "$UDP_PID"
ok "option checks"
