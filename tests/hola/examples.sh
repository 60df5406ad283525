#!/usr/bin/env bash
# examples.sh: runs the practice's example pairs (examples/) on loopback: the server on a
# kernel-chosen port (it prints it first), the client against it, both outputs checked.
# Arguments: tcp_server tcp_client udp_server udp_client.
set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hola-examples.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n +1 "$TMP"/* >&2; exit 1; }

# pair KIND SERVER CLIENT
pair() {
    local kind=$1 server=$2 client=$3 port="" i
    "$server" 0 >"$TMP/$kind-server.out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for i in $(seq 100); do
        port=$(sed -n 's/.*escuchando en el puerto \([0-9][0-9]*\)$/\1/p' "$TMP/$kind-server.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "$kind server did not print its port"
    timeout 10 "$client" 127.0.0.1 "$port" >"$TMP/$kind-client.out" 2>&1 ||
        fail "$kind client failed"
    grep -qx 'Respuesta del servidor: Hola Cliente, soy el servidor' "$TMP/$kind-client.out" ||
        fail "$kind client did not print the answer"
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" || fail "$kind server exited with $?"
    grep -q 'Hola Servidor, soy el cliente$' "$TMP/$kind-server.out" ||
        fail "$kind server did not print the greeting"
    echo "ok: $kind example pair"
}

pair tcp "$1" "$2"
grep -Eq '^Conectado a 127\.0\.0\.1:[0-9]+$' "$TMP/tcp-server.out" || fail "tcp server: no Conectado line"
pair udp "$3" "$4"
