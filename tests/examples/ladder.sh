#!/usr/bin/env bash
# ladder.sh: runs the practice's example pairs (examples/) on loopback: the greeting over
# TCP and UDP, then the names over TCP and UDP. Each server takes a kernel-chosen port and
# prints it first; both sides' outputs are checked; every wait is bounded.
# Arguments: tcp_server tcp_client udp_server udp_client nombres_servidor nombres_cliente
#            nombres_udp_servidor nombres_udp_cliente
set -u
[ $# -eq 8 ] || { echo "usage: $0 the eight programs in order" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hola-examples.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n +1 "$TMP"/* >&2; exit 1; }

# start SERVER OUT: starts SERVER on port 0, sets $pid and $port (read from its first line).
start() {
    local i
    port=""
    "$1" 0 >"$2" 2>&1 &
    pid=$!
    pids+=("$pid")
    for i in $(seq 100); do
        port=$(sed -n 's/.*escuchando en el puerto \([0-9][0-9]*\)$/\1/p' "$2")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    fail "$1 did not print its port"
}

# wait_exit: the server must end by itself (within 10 s) with status 0.
wait_exit() {
    local i
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    wait "$pid" || fail "server exited with $?"
}

# pair KIND SERVER CLIENT: the greeting, one exchange.
pair() {
    local kind=$1 server=$2 client=$3
    start "$server" "$TMP/$kind-server.out"
    timeout 10 "$client" 127.0.0.1 "$port" >"$TMP/$kind-client.out" 2>&1 ||
        fail "$kind client failed"
    grep -qx 'Respuesta del servidor: Hola Cliente, soy el servidor' "$TMP/$kind-client.out" ||
        fail "$kind client did not print the answer"
    wait_exit
    grep -q 'Hola Servidor, soy el cliente$' "$TMP/$kind-server.out" ||
        fail "$kind server did not print the greeting"
    echo "ok: $kind greeting pair"
}

pair tcp "$1" "$2"
grep -Eq '^Conectado a 127\.0\.0\.1:[0-9]+$' "$TMP/tcp-server.out" || fail "tcp server: no Conectado line"
pair udp "$3" "$4"

# The greeting's programs explain themselves and refuse a bad port (usage, exit 2).
for p in "$1" "$2" "$3" "$4"; do
    name=${p##*/}
    "$p" --help | grep -q "^Uso: $name " || fail "$name --help"
    case $name in
        *server) args=(70000) ;;
        *) args=(127.0.0.1 7x) ;;
    esac
    rc=0
    "$p" "${args[@]}" >"$TMP/bad.out" 2>&1 || rc=$?
    [ $rc -eq 2 ] && grep -q "^$name: puerto no válido: ${args[-1]} " "$TMP/bad.out" ||
        fail "$name ${args[*]}: exit $rc, $(cat "$TMP/bad.out")"
done
echo "ok: the greeting's programs: --help, a bad port refused"

names=("Julián Alcibar Zubillaga" "Yanina De Luna Ocampo" "Jacob Salinas Velázquez")
greetings=$(printf 'Hola %s\n' "${names[@]}")

# The names over TCP: "Conectado a", then each name greeted once, on both sides; the
# server ends when the client closes. Then the names from standard input.
start "$5" "$TMP/names-server.out"
timeout 10 "$6" 127.0.0.1 "$port" "${names[@]}" >"$TMP/names-client.out" 2>&1 ||
    fail "nombres_cliente exited with $?"
[ "$(cat "$TMP/names-client.out")" = "$greetings" ] || fail "nombres_cliente: wrong replies"
wait_exit
[ "$(sed 1d "$TMP/names-server.out" | sed 's/^Conectado a 127\.0\.0\.1:[0-9]*$/C/')" = \
    "C"$'\n'"$greetings" ] || fail "nombres_servidor: not Conectado then the greetings"
echo "ok: names over TCP, from the arguments"

start "$5" "$TMP/names-server2.out"
printf 'Ana\r\n\nÑandú\n' | timeout 10 "$6" 127.0.0.1 "$port" >"$TMP/names-client2.out" 2>&1 ||
    fail "nombres_cliente (stdin) exited with $?"
[ "$(cat "$TMP/names-client2.out")" = $'Hola Ana\nHola Ñandú' ] || fail "names from stdin"
wait_exit
echo "ok: names over TCP, from standard input (CRLF, an empty line skipped)"

# Nobody listening: a clear message and exit 1. A bad port: usage, exit 2.
timeout 10 "$6" 127.0.0.1 "$port" Ana >"$TMP/refused.out" 2>&1
[ $? -eq 1 ] || fail "nombres_cliente with nobody listening: not exit 1"
grep -q 'no me puedo conectar a 127.0.0.1:[0-9]*: Connection refused' "$TMP/refused.out" ||
    fail "nombres_cliente with nobody listening: no clear message"
timeout 10 "$6" 127.0.0.1 70000 Ana >"$TMP/badport.out" 2>&1
[ $? -eq 2 ] && grep -q 'puerto no válido: 70000' "$TMP/badport.out" || fail "bad port"
"$6" --help | grep -q '^Uso: nombres_cliente IPV4 PUERTO' || fail "nombres_cliente --help"
echo "ok: names over TCP, errors"

# The names over UDP: one datagram per name, each greeted; the server runs until killed.
start "$7" "$TMP/udp-names-server.out"
timeout 10 "$8" 127.0.0.1 "$port" "${names[@]}" >"$TMP/udp-names-client.out" 2>&1 ||
    fail "nombres_udp_cliente exited with $?"
[ "$(cat "$TMP/udp-names-client.out")" = "$greetings" ] || fail "nombres_udp_cliente: replies"
for _ in $(seq 50); do
    [ "$(sed 1d "$TMP/udp-names-server.out")" = "$greetings" ] && break
    sleep 0.1
done
[ "$(sed 1d "$TMP/udp-names-server.out")" = "$greetings" ] || fail "nombres_udp_servidor: greetings"
# A stopped server answers nothing: each name is reported lost, exit 3, in bounded time.
kill -STOP "$pid"
timeout 10 "$8" 127.0.0.1 "$port" Ana >"$TMP/udp-lost.out" 2>&1
rc=$?
kill -CONT "$pid"
[ $rc -eq 3 ] || fail "nombres_udp_cliente with a stopped server: exit $rc, not 3"
grep -q 'sin respuesta para "Ana" en 1000 ms: se perdió' "$TMP/udp-lost.out" ||
    fail "nombres_udp_cliente: no message for the lost name"
kill "$pid"
wait "$pid" 2>/dev/null
# Nobody listening at all: the ICMP "port unreachable" is reported, exit 1.
timeout 10 "$8" 127.0.0.1 "$port" Ana >"$TMP/udp-refused.out" 2>&1
[ $? -eq 1 ] && grep -q 'nadie escucha en ese puerto' "$TMP/udp-refused.out" ||
    fail "nombres_udp_cliente with nobody listening"
echo "ok: names over UDP: greeted, a lost reply reported, nobody listening"
