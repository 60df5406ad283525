#!/usr/bin/env bash
# reflection.sh: the plain UDP server under 15 000 tiny datagrams from one source (1-byte
# garbage, a lone bad UTF-8 byte, ESC, the C1 CSI: 10 000 bad ones; a 1-byte name, an
# empty line). No
# error reply is larger than 3x its request, and no kind gets back more than 3x the
# bytes it sent; stderr stays a handful of lines with a summary of what was held back;
# a real client is answered right after; SIGTERM ends the server with status 0.
# Usage: reflection.sh HOLA_SERVER HOLA_CLIENT UDP_SPRAY
. "$(dirname "$0")/../hola/lib.sh"
SPRAY=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT UDP_SPRAY}
hola_init "$1" "$2"
COUNT=15000
# Under valgrind the server reads some 5x slower and its socket drops the rest; the
# bound on stderr's lines holds for whatever number it received.
min_bad=$((COUNT / 3))
[ -n "${HOLA_WRAP:-}" ] && min_bad=$((COUNT / 10))

start_server udp -p udp -b 127.0.0.1 --stats
start=$(date +%s%N)
"$SPRAY" -p "$PORT" -n "$COUNT" -t 60 01 ff 1b c29b 41 0a >"$TMP/spray.out" 2>"$TMP/spray.err" ||
    fail "udp_spray exited with $?"
took_ms=$((($(date +%s%N) - start) / 1000000))
cat "$TMP/spray.out"
[ "$(awk '{s += $6} END {print s}' "$TMP/spray.out")" -eq "$COUNT" ] || fail "not every datagram was sent"

# 1. Sizes: an error reply is at most 3x its request; no kind gets 3x the bytes it sent.
while read -r _ hex _ len _ sent _ got _ bytes _ max; do
    [ "$bytes" -le $((3 * len * sent)) ] || fail "kind $hex: $bytes bytes back for $((len * sent)) sent"
    case $hex in
    41) [ "$got" -lt $((sent / 2)) ] || fail "kind $hex: $got greetings of 6 bytes for $sent of 1" ;;
    *) [ "$max" -le $((3 * len)) ] || fail "kind $hex: a $max-byte reply to $len bytes" ;;
    esac
done <"$TMP/spray.out"
ok "$COUNT tiny datagrams in ${took_ms} ms: no error reply above 3x its request, no kind above 3x in all"

# 2. A real client is served at once: the limits are per kind of reply, not per server.
"$CLIENT" -p udp -H 127.0.0.1 -P "$PORT" "${NAMES[@]}" >"$TMP/client.out" 2>"$TMP/client.err" ||
    fail "client after the flood exited with $?"
expect_eq "client after the flood" "$TMP/client.out" "$(printf 'Hola %s\n' "${NAMES[@]}")"
ok "a client right after the flood got its ${#NAMES[@]} greetings"

# 3. The log: a few lines, then one summary at exit; --stats counts what was held back.
kill -TERM "$PID"
wait_exit "$PID" 20
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGTERM"
lines=$(wc -l <"$TMP/udp.err")
rejected=$(grep -Eo '"rejected":[0-9]+' "$TMP/udp.err" | cut -d: -f2)
echo "  server stderr: $lines lines for ${rejected:-?} bad datagrams received"
grep -E 'held back' "$TMP/udp.err" | sed 's/^/  /'
grep -E '"unlogged"|"replies_over' "$TMP/udp.err" | grep -Eo '"(rejected|unlogged|replies_over_[a-z]+)":[0-9]+' |
    tr '\n' ' ' | sed 's/^/  --stats: /;s/$/\n/'
[ "${rejected:-0}" -ge "$min_bad" ] || fail "the server received only ${rejected:-0} bad datagrams"
[ "$lines" -lt 20 ] || fail "$lines lines on stderr"
grep -Eq '^hola-server: bad datagrams held back in the last [0-9.]+ s: [1-9][0-9]* log lines' \
    "$TMP/udp.err" || fail "no summary of the lines held back"
ok "stderr: $lines lines for ${rejected} bad datagrams, with a summary"
