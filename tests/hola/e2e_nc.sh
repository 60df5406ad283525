#!/usr/bin/env bash
# e2e_nc.sh: netcat (Debian's netcat-openbsd) as the client: the framing is plain lines
# for TCP and plain datagrams for UDP, so a stock tool gets "Hola <name>".
. "$(dirname "$0")/lib.sh"
hola_init "$@"

command -v nc >/dev/null 2>&1 || { echo "skip: nc not installed"; exit 77; }
nc -h 2>&1 | grep -q -- '-N' || { echo "skip: nc is not netcat-openbsd"; exit 77; }

start_server tcp -p tcp
printf 'Ana\n' | timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/nc1.out" || fail "nc -N"
expect_eq "nc tcp" "$TMP/nc1.out" "Hola Ana"

printf '%s\r\n' "${NAMES[@]}" | timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/nc2.out" ||
    fail "nc with CRLF"
expect_eq "nc tcp, CRLF, four names" "$TMP/nc2.out" "$(printf 'Hola %s\n' "${NAMES[@]}")"

# No newline after the last name: EOF ends it.
printf 'Ana\nBeto' | timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/nc3.out" || fail "nc no newline"
expect_eq "last line without newline" "$TMP/nc3.out" "Hola Ana
Hola Beto"

# Invalid UTF-8 gets an error line; the connection carries on.
printf 'Ju\xe1n\nJuan\n' | timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/nc4.out" || fail "nc bad utf-8"
expect_eq "invalid UTF-8 over nc" "$TMP/nc4.out" 'error: line 1: "Ju\xE1n": not valid UTF-8 (byte 3)
Hola Juan'

# A name over 512 bytes: error line, then the server closes that connection.
{ head -c 600 /dev/zero | tr '\0' n; printf '\nJuan\n'; } |
    timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/nc5.out" || fail "nc long name"
expect_eq "name too long over nc" "$TMP/nc5.out" \
    "error: line 1: name too long (600 bytes, at most 512)"
tail -n1 "$TMP/tcp.out" | grep -q '^Conectado a ' || fail "server kept reading after a too-long name"
ok "nc as a TCP client"

start_server udp -p udp
printf 'Ana\n' | timeout 10 nc -u -w1 127.0.0.1 "$PORT" >"$TMP/nu1.out" || fail "nc -u"
expect_eq "nc udp" "$TMP/nu1.out" "Hola Ana"
printf 'Ñandú' | timeout 10 nc -u -w1 127.0.0.1 "$PORT" >"$TMP/nu2.out" || fail "nc -u"
# The request had no newline, so neither has the reply.
[ "$(cat "$TMP/nu2.out")" = "Hola Ñandú" ] || fail "nc udp without newline"
ok "nc as a UDP client"
