#!/usr/bin/env bash
# paused_server.sh: a stopped server (SIGSTOP: a debugger, swap, a VM migration) is not a
# dead one. A rudp client sends 50000 names one at a time; 0.4 s in, the server is
# stopped for 2.5 s, so the name in flight and its retransmissions meet silence. On a
# LAN the PTO is about a millisecond and max_retries timeouts pass in a fraction of a
# second: the client must also have heard nothing for min(--dead-timeout, 3 s) before it
# gives the server up. It keeps the connection, every name is greeted once, and nobody
# says "not answering". (The engine is the same on both sides: the cmocka test
# test_regression_paused_peer_is_not_dead covers a paused client as well.)
# Usage: paused_server.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"

PAUSE=2.5
N=50000
seq -f 'Nombre %g' "$N" >"$TMP/names"
sed 's/^/Hola /' "$TMP/names" >"$TMP/want"
start_server paused -p rudp -b 127.0.0.1 --count "$N"
"$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" --lockstep --stats <"$TMP/names" \
    >"$TMP/client.out" 2>"$TMP/client.err" &
CPID=$!
HOLA_PIDS+=("$CPID")
sleep 0.4
kill -0 "$CPID" 2>/dev/null || fail "the client ended before the pause: nothing was tested"
kill -STOP "$PID"
sleep "$PAUSE"
kill -0 "$CPID" 2>/dev/null || fail "the client gave up during the pause: $(cat "$TMP/client.err")"
kill -CONT "$PID"
wait_exit "$CPID" 60
[ "$STATUS" -eq 0 ] || fail "the client exited with $STATUS: $(cat "$TMP/client.err")"
wait_exit "$PID" 15
[ "$STATUS" -eq 0 ] || fail "the server exited with $STATUS: $(cat "$TMP/paused.err")"
cmp -s "$TMP/client.out" "$TMP/want" || fail "the client's replies differ from the names"
for side in client paused; do
    if grep -q 'not answering' "$TMP/$side.err"; then
        fail "$side gave its peer up: $(cat "$TMP/$side.err")"
    fi
done
# The pause really spent the retry count (--max-retries, 8): the count alone would
# have given the server up.
timeouts=$(grep -Eo '"timeouts":[0-9]+' "$TMP/client.err" | cut -d: -f2)
[ "${timeouts:-0}" -gt 8 ] || fail "only ${timeouts:-no} timeouts in the pause: it tested nothing"
ok "server stopped ${PAUSE} s mid-run: ${timeouts} timeouts met silence; all $N" \
    "names greeted once, both exit 0, nobody given up"
