#!/usr/bin/env bash
# e2e_rudp_many.sh: 50 rudp clients at once against one server, 5% loss on every
# program: all complete, each gets its own replies in order, and the server greets every
# name exactly once (one socket, connections told apart by connection ID).
. "$(dirname "$0")/lib.sh"
hola_init "$@"

CLIENTS=50
PER=20
LOSS=(--loss 5)

start_server many -p rudp --count $((CLIENTS * PER)) --stats "${LOSS[@]}"
pids=()
for i in $(seq "$CLIENTS"); do
    seq -f "Cliente $i nombre %g" "$PER" >"$TMP/in$i"
    timeout 100 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 "${LOSS[@]}" <"$TMP/in$i" \
        >"$TMP/c$i.out" 2>"$TMP/c$i.err" &
    pids+=($!)
    HOLA_PIDS+=($!)
done
for i in $(seq "$CLIENTS"); do
    wait_exit "${pids[$((i - 1))]}" 100
    [ "$STATUS" -eq 0 ] || fail "client $i exited with $STATUS: $(head -c 300 "$TMP/c$i.err")"
    cmp -s "$TMP/c$i.out" <(sed 's/^/Hola /' "$TMP/in$i") || fail "client $i: replies differ"
done
ok "rudp: $CLIENTS clients at once at 5% loss all complete, replies in order"

wait_exit "$PID" 20
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"
[ "$(grep -c '^Conectado a ' "$TMP/many.out")" -eq "$CLIENTS" ] || fail "expected $CLIENTS Conectado lines"
grep '^Hola ' "$TMP/many.out" | sort >"$TMP/greeted"
cat "$TMP"/in* | sed 's/^/Hola /' | sort >"$TMP/want"
cmp -s "$TMP/greeted" "$TMP/want" || fail "server: every name greeted exactly once"
for i in 1 17 50; do
    grep "^Hola Cliente $i nombre " "$TMP/many.out" >"$TMP/order$i"
    cmp -s "$TMP/order$i" <(sed 's/^/Hola /' "$TMP/in$i") || fail "server: client $i's names out of order"
done
grep -Eq "^\\{\"proto\":\"rudp\",\"role\":\"server\",\"sent\":$((CLIENTS * PER)),\"received\":$((CLIENTS * PER)),.*\"clients\":$CLIENTS,.*\"accepted\":$CLIENTS,\"refused_full\":0," \
    "$TMP/many.err" || fail "server --stats"
ok "rudp: the server greeted each of $((CLIENTS * PER)) names once, per client in order"

# A server that is full refuses clearly instead of leaving the client waiting.
start_server full -p rudp --max-clients 1
"$CLIENT" -p rudp -P "$PORT" --window 1 --lockstep --delay 20 $(seq -f 'Lento %g' 50) \
    >"$TMP/slow.out" 2>"$TMP/slow.err" &
slow=$!
HOLA_PIDS+=("$slow")
for _ in $(seq 100); do
    [ -s "$TMP/slow.out" ] && break
    sleep 0.05
done
rc=0
timeout 30 "$CLIENT" -p rudp -P "$PORT" Ana >"$TMP/c-full.out" 2>"$TMP/c-full.err" || rc=$?
[ "$rc" -eq 1 ] || fail "client of a full server: exit $rc, expected 1"
expect_one_line "full server" "$TMP/c-full.err" '^hola-client: server full: connection refused by localhost:[0-9]+ \(rudp\)$'
wait_exit "$slow" 30
[ "$STATUS" -eq 0 ] || fail "the client holding the only slot exited with $STATUS"
ok "rudp: --max-clients 1: a second client is told the server is full"
