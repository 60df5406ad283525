#!/usr/bin/env bash
# e2e_rudp_dead.sh: how a rudp client ends when the server is not there: nothing
# listening (ICMP: "server not reachable"), the server killed mid-run (the dead-peer
# limit: "peer not answering for T s (limit: N retries / S s)", within that bound), and a server
# restarted on the same port serving a new client.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

free_port udp
rc=0
timeout 20 "$CLIENT" -p rudp -H 127.0.0.1 -P "$FREE_PORT" Ana Beto >"$TMP/un.out" 2>"$TMP/un.err" || rc=$?
[ "$rc" -eq 1 ] || fail "no server: exit status $rc, expected 1"
[ -s "$TMP/un.out" ] && fail "no server: output on stdout"
expect_one_line "no server" "$TMP/un.err" \
    '^hola-client: server not reachable at 127\.0\.0\.1:[0-9]+ \(rudp\): nothing listens on that port'
ok "rudp: no server: $(cat "$TMP/un.err")"

# The server dies (SIGKILL: no RESET, no FIN) while a slow client is half-way.
start_server victim -p rudp
OLD_PORT=$PORT
seq -f 'Nombre %g' 500 >"$TMP/many.in"
"$CLIENT" -p rudp -P "$PORT" --window 1 --lockstep --delay 2 --max-retries 4 --dead-timeout 1500 \
    <"$TMP/many.in" >"$TMP/dead.out" 2>"$TMP/dead.err" &
cpid=$!
HOLA_PIDS+=("$cpid")
for _ in $(seq 200); do
    [ "$(wc -l <"$TMP/dead.out")" -ge 5 ] && break
    sleep 0.05
done
[ "$(wc -l <"$TMP/dead.out")" -ge 5 ] || fail "the client got no replies before the kill"
kill -KILL "$PID"
start=$(date +%s%N)
wait_exit "$cpid" 20
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$STATUS" -eq 1 ] || fail "dead server: client exit status $STATUS, expected 1"
grep -Eq '^hola-client: peer not answering for [0-9]+\.[0-9] s \(limit: 4 retries / 1\.500 s\): gave localhost:[0-9]+ \(rudp\) up with [0-9]+ of 500 replies$' \
    "$TMP/dead.err" || fail "dead server: no dead-peer line"
# The limit is 1.5 s without progress (or 4 backed-off timeouts); allow scheduling slack.
[ "$elapsed_ms" -lt 4000 ] || fail "dead server: the client took ${elapsed_ms} ms to give up"
ok "rudp: server killed: the client gave up after ${elapsed_ms} ms: $(tail -n1 "$TMP/dead.err")"

# A new server on the same port serves a new client.
start_server again -p rudp -P "$OLD_PORT"
[ "$PORT" = "$OLD_PORT" ] || fail "restarted server is on $PORT, not $OLD_PORT"
timeout 20 "$CLIENT" -p rudp -P "$PORT" "${NAMES[@]}" >"$TMP/c-again.out" 2>"$TMP/c-again.err" ||
    fail "client of the restarted server exited with $?"
expect_eq "restarted server" "$TMP/c-again.out" "$(printf 'Hola %s\n' "${NAMES[@]}")"
ok "rudp: server restarted on the same port: a new client works"
