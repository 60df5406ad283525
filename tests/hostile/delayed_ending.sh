#!/usr/bin/env bash
# delayed_ending.sh: the end of an exchange with an impaired client. RUNS times, a
# hola-client with --delay 1 (every other run also --loss 20) against hola-server
# --count 1. The client must not exit before its last ACK has left its delay queue, and
# must answer the server's resend of a reply whose ACK its --loss dropped: the server's
# stderr then has no "timed out" / "not answering" line, and it exits within BOUND_MS of
# the client (it once logged a timeout after a successful exchange and took 3 s or more).
# Usage: delayed_ending.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$1" "$2"
RUNS=${DELAYED_ENDING_RUNS:-10}
BOUND_MS=1500
[ -n "${HOLA_WRAP:-}" ] && BOUND_MS=10000

bad=0
worst=0
for i in $(seq "$RUNS"); do
    impair=(--delay 1)
    [ $((i % 2)) -eq 0 ] && impair=(--loss 20 --delay 1)
    start_server "run$i" -p rudp -b 127.0.0.1 --count 1
    rc=0
    timeout 30 "$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" --seed "$i" "${impair[@]}" Ana \
        >"$TMP/c$i.out" 2>"$TMP/c$i.err" || rc=$?
    t_client=$(date +%s%N)
    [ "$rc" -eq 0 ] || fail "run $i (${impair[*]}): client exited with $rc: $(cat "$TMP/c$i.err")"
    wait_exit "$PID" 10
    ms=$((($(date +%s%N) - t_client) / 1000000))
    [ "$STATUS" -eq 0 ] || fail "run $i: server exit status $STATUS"
    [ "$ms" -gt "$worst" ] && worst=$ms
    if grep -Eq 'timed out|not answering' "$TMP/run$i.err" || [ "$ms" -gt "$BOUND_MS" ]; then
        bad=$((bad + 1))
        echo "  run $i (${impair[*]}, seed $i): server exited $ms ms after the client;" \
            "$(grep -E 'timed out|not answering' "$TMP/run$i.err")"
    fi
done
[ "$bad" -eq 0 ] || fail "$bad of $RUNS runs ended uncleanly on the server"
ok "$RUNS runs of a --delay client against --count 1: no timeout on the server, which exited at most $worst ms after the client"
