#!/usr/bin/env bash
# no_ack_peer.sh: hola-server --count 1 against a peer that completes the handshake, sends
# its name and FIN, then answers every reply, FIN and probe with an ACK that acknowledges
# none of them (no_ack_peer.c). The server's engine takes such a peer for alive, so only
# the server's own grace after --count (HOLA_SERVER_GRACE_US, 5 s) can end the wait: the
# server must exit 0 within the grace plus a margin, say so in one line, and reset the
# peer.
# Usage: no_ack_peer.sh HOLA_SERVER HOLA_CLIENT NO_ACK_PEER
. "$(dirname "$0")/../hola/lib.sh"
PEER=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT NO_ACK_PEER}
hola_init "$1" "$2"
# The grace is 5 s; the rest is the drain and the slack of a shared machine (valgrind's
# programs are some 20x slower).
BOUND_S=9
[ -n "${HOLA_WRAP:-}" ] && BOUND_S=30

start_server noack -p rudp -b 127.0.0.1 --count 1
start=$(date +%s%N)
prc=0
"$PEER" -p "$PORT" -t $((BOUND_S + 6)) >"$TMP/peer.out" 2>"$TMP/peer.err" || prc=$?
cat "$TMP/peer.out"
wait_exit "$PID" 5
took_ms=$((($(date +%s%N) - start) / 1000000))
[ "$prc" -ne 2 ] || fail "no_ack_peer: no handshake ($(cat "$TMP/peer.err"))"
[ "$prc" -eq 0 ] || fail "the server still held the connection after $((BOUND_S + 6)) s"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"
[ "$took_ms" -le $((BOUND_S * 1000)) ] || fail "the server took $took_ms ms to exit (bound ${BOUND_S} s)"
answered=$(awk '{print $4}' "$TMP/peer.out")
[ "${answered:-0}" -ge 2 ] || fail "the peer answered only ${answered:-0} datagrams: not the case under test"
grep -Eq '^hola-server: 1 connection\(s\) still had replies unacknowledged [0-9.]+ s after --count: reset$' \
    "$TMP/noack.err" || { cat "$TMP/noack.err" >&2; fail "no line about the connection reset"; }
grep -q 'reset 1' "$TMP/peer.out" || fail "the peer got no RESET"
ok "--count 1 with a peer that never acknowledges: server exited 0 in $took_ms ms, peer reset"
