#!/usr/bin/env bash
# examples.sh: runs librudp's examples: engine_demo (clean, lossy, repeatable), and
# echo_server with echo_client on loopback (a kernel-chosen port, one and then several
# clients, a client with nobody listening). Every process is bounded and cleaned up.
# Usage: examples.sh ECHO_SERVER ECHO_CLIENT ENGINE_DEMO
set -u
server=$1 client=$2 demo=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rudp-examples.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$TMP"/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done; exit 1; }

# ---- engine_demo: the engine and the simulated link in one process
timeout 20 "$demo" 0 1 5 >"$TMP/demo0.out" 2>&1 || fail "engine_demo without loss exited $?"
grep -qx '5 of 5 replies, in order: yes; client closed: cleanly; .*' "$TMP/demo0.out" ||
    fail "engine_demo without loss: no clean summary"
for i in 1 2 3 4 5; do
    grep -q "client got \"Hola mensaje $i\"" "$TMP/demo0.out" || fail "engine_demo: reply $i missing"
done
grep -q 'server listener: RETRY answered' "$TMP/demo0.out" || fail "engine_demo: no cookie challenge"
grep -q 'client state      -> ESTABLISHED' "$TMP/demo0.out" || fail "engine_demo: never established"
grep -q ' retransmit ' "$TMP/demo0.out" && fail "engine_demo: a retransmission on a perfect link"
echo "ok: engine_demo, perfect link"

timeout 20 "$demo" 30 3 40 >"$TMP/demo30.out" 2>&1 || fail "engine_demo at 30% loss exited $?"
grep -qx '40 of 40 replies, in order: yes; client closed: cleanly; .*' "$TMP/demo30.out" ||
    fail "engine_demo at 30% loss: no clean summary"
grep -q ' retransmit ' "$TMP/demo30.out" || fail "engine_demo at 30% loss: no retransmission shown"
timeout 20 "$demo" 30 3 40 >"$TMP/demo30b.out" 2>&1
cmp -s "$TMP/demo30.out" "$TMP/demo30b.out" || fail "engine_demo: the same seed gave another trace"
echo "ok: engine_demo, 30% loss, repeatable"

timeout 20 "$demo" 150 >"$TMP/demo-bad.out" 2>&1
[ $? -eq 2 ] || fail "engine_demo with a loss of 150% did not exit 2"
echo "ok: engine_demo refuses a bad argument"

# ---- echo_server and echo_client on loopback
# start_server CLIENTS: starts echo_server on a kernel-chosen port and sets $port.
start_server() {
    timeout 60 "$server" 0 "$1" >"$TMP/server.out" 2>&1 &
    spid=$!
    pids+=("$spid")
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^echo_server listening on port \([0-9][0-9]*\)$/\1/p' "$TMP/server.out")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    fail "echo_server did not print its port"
}
# wait_server: the server must exit 0 by itself once its CLIENTS have ended.
wait_server() {
    local rc
    wait "$spid"; rc=$?
    [ $rc -eq 0 ] || fail "echo_server exited $rc"
}

start_server 1
timeout 20 "$client" 127.0.0.1 "$port" hola "buenos días" 'a  b' >"$TMP/client.out" 2>&1 ||
    fail "echo_client exited $?"
printf 'echo: hola\necho: buenos días\necho: a  b\n3 of 3 messages echoed\n' >"$TMP/want"
cmp -s "$TMP/want" "$TMP/client.out" || fail "echo_client output differs: $(cat "$TMP/client.out")"
wait_server
grep -qx 'client connected' "$TMP/server.out" || fail "echo_server: no connection line"
grep -qx 'echo 12 bytes: buenos días' "$TMP/server.out" || fail "echo_server: no echo line"
grep -qx 'client gone: clean close' "$TMP/server.out" || fail "echo_server: no clean close"
echo "ok: echo pair, one client"

# Several clients at once, IPv6 loopback where it exists, 50 messages each.
host=127.0.0.1
if [ -e /proc/net/if_inet6 ] && ip -6 addr show lo 2>/dev/null | grep -q '::1'; then host=::1; fi
start_server 4
cpids=()
for c in 1 2 3 4; do
    mapfile -t msgs < <(seq -f "client $c message %g" 50)
    timeout 30 "$client" "$host" "$port" "${msgs[@]}" >"$TMP/client$c.out" 2>&1 &
    cpids+=("$!")
    pids+=("$!")
done
for c in 1 2 3 4; do
    wait "${cpids[$((c - 1))]}" || fail "echo_client $c exited $?"
    seq -f "echo: client $c message %g" 50 >"$TMP/want"
    echo "50 of 50 messages echoed" >>"$TMP/want"
    cmp -s "$TMP/want" "$TMP/client$c.out" || fail "echo_client $c: echoes missing or out of order"
done
wait_server
[ "$(grep -cx 'client gone: clean close' "$TMP/server.out")" -eq 4 ] || fail "echo_server: not 4 clean closes"
echo "ok: echo pair, 4 clients at once over $host"

# Nobody listening: the client says so and fails, well before its dead-peer limit.
start_server 1
kill "$spid"; wait "$spid" 2>/dev/null
start=$(date +%s)
timeout 20 "$client" 127.0.0.1 "$port" hola >"$TMP/client-none.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "echo_client with no server exited $rc, not 1"
grep -q '^echo_client: ' "$TMP/client-none.out" || fail "echo_client with no server: no message"
[ $(( $(date +%s) - start )) -le 8 ] || fail "echo_client with no server took too long"
echo "ok: echo_client with nobody listening: $(cat "$TMP/client-none.out")"
