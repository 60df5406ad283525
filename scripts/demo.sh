#!/usr/bin/env bash
# The demo from a fresh Debian/Ubuntu machine: installs what is missing, builds, then runs
# on free loopback ports: the examples' first step (tcp_server and tcp_client, the
# practice's greeting), then hola-server and hola-client with the practice's three names
# over TCP, UDP, and rudp with 30% of the client's datagrams lost on purpose and --trace,
# so a lost name, its retransmission and each name greeted once are on screen.
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

need_build_tools
install_missing

configure_build build
server=build/src/hola/hola-server
client=build/src/hola/hola-client

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hola-demo.XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

names=("Julián Alcibar Zubillaga" "Yanina De Luna Ocampo" "Jacob Salinas Velázquez")
# With this seed, the loss the demo shows is the first name's DATA: declared lost once
# three later packets are acknowledged, and sent again.
seed=19

# start_server PROTO [OPTIONS...]: hola-server on a kernel-chosen port; sets $port.
start_server() {
    local proto=$1 i
    shift
    # -P 0: the kernel picks a free port, written to the port file once listening.
    "$server" -p "$proto" -P 0 --port-file "$tmp/port" --count ${#names[@]} "$@" \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    for i in $(seq 100); do
        [ -s "$tmp/port" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -s "$tmp/port" ] || { cat "$tmp/server.err" >&2; echo "demo: the server did not start" >&2; exit 1; }
    port=$(cat "$tmp/port")
    rm -f "$tmp/port"
}

# show_server: waits (bounded) for the server to end after --count, shows what it printed.
show_server() {
    local i
    for i in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$server_pid" || true
    server_pid=
    echo "--- server (stdout):"
    sed 's/^/    /' "$tmp/server.out"
    echo "--- server (stderr):"
    sed 's/^/    /' "$tmp/server.err"
}

# run PROTO [CLIENT OPTIONS...]
run() {
    local proto=$1
    shift
    start_server "$proto"
    echo "\$ hola-server -p $proto -P 0 --port-file FILE --count ${#names[@]} &   # port $port"
    echo "\$ hola-client -p $proto -P $port${*:+ $*}$(printf ' "%s"' "${names[@]}")"
    echo "--- client (stdout and stderr, in the order written):"
    "$client" -p "$proto" -P "$port" "$@" "${names[@]}" 2>&1 | tee "$tmp/client.out" |
        sed 's/^/    /'
    show_server
}

echo "=== the examples' first step: tcp_server and tcp_client (examples/README.md) ==="
build/examples/tcp_server 0 >"$tmp/ex-server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    ex_port=$(sed -n 's/^Servidor escuchando en el puerto \([0-9][0-9]*\)$/\1/p' "$tmp/ex-server.out")
    [ -n "$ex_port" ] && break
    sleep 0.1
done
[ -n "$ex_port" ] || { cat "$tmp/ex-server.out" >&2; echo "demo: tcp_server did not start" >&2; exit 1; }
echo "\$ build/examples/tcp_server 0 &"
echo "\$ build/examples/tcp_client 127.0.0.1 $ex_port"
echo "--- client:"
timeout 10 build/examples/tcp_client 127.0.0.1 "$ex_port" 2>&1 | sed 's/^/    /'
for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
wait "$server_pid" || true
server_pid=
echo "--- server:"
sed 's/^/    /' "$tmp/ex-server.out"

echo
echo "=== tcp ==="
run tcp
echo
echo "=== udp: one datagram per name, nothing resent ==="
run udp
echo
echo "=== rudp through loss: the client loses 30% of the datagrams it sends (seed $seed) ==="
echo "    (the impairment drops them silently: in the trace, a lost DATA is one the server"
echo "    never acknowledges; the client declares it lost and sends it again)"
run rudp --loss 30 --seed "$seed" --trace
echo "--- lost and sent again (from the trace above):"
grep -E 'declared lost|RETRANSMIT' "$tmp/client.out" | sed 's/^ */    /' ||
    echo "    nothing: no datagram of the client was lost this time"
if printf 'Hola %s\n' "${names[@]}" | cmp -s - <(grep '^Hola ' "$tmp/server.out"); then
    echo "--- the server greeted each of the ${#names[@]} names exactly once, in order"
else
    echo "--- the server's greetings differ from the names sent: see its stdout above"
fi
echo
echo "Next: examples/README.md (the ladder up to stop-and-wait), docs/practica.md (the practice"
echo "step by step), scripts/test.sh (the tests), $client --help."
