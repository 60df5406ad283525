#!/usr/bin/env bash
# The demo from a fresh Debian/Ubuntu machine: installs what is missing, builds, then runs
# hola-server and hola-client on a free loopback port, over TCP and then UDP, with the
# practice's three names, and shows what each side printed.
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

run() {
    local proto=$1 i
    echo
    echo "=== $proto ==="
    # -P 0: the kernel picks a free port, written to the port file once listening.
    "$server" -p "$proto" -P 0 --port-file "$tmp/port" --count ${#names[@]} \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    for i in $(seq 100); do
        [ -s "$tmp/port" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -s "$tmp/port" ] || { cat "$tmp/server.err" >&2; echo "demo: the server did not start" >&2; exit 1; }
    local port
    port=$(cat "$tmp/port")
    rm -f "$tmp/port"

    echo "\$ hola-server -p $proto -P 0 --port-file FILE --count ${#names[@]} &   # port $port"
    echo "\$ hola-client -p $proto -P $port$(printf ' "%s"' "${names[@]}")"
    echo "--- client (stdout and stderr):"
    "$client" -p "$proto" -P "$port" "${names[@]}" 2>&1 | sed 's/^/    /'
    # --count makes the server exit after the last name; wait for it, bounded.
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

run tcp
run udp
echo
echo "Next: scripts/test.sh runs the test suite; $server --help and $client --help."
