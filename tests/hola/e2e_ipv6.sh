#!/usr/bin/env bash
# e2e_ipv6.sh: the same exchange over ::1, TCP and UDP, and a dual-stack server reached
# over both families. Skipped (77) where loopback has no IPv6.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

if ! { ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; }; then
    echo "skip: no IPv6 on loopback"
    exit 77
fi

greetings=$(printf 'Hola %s\n' "${NAMES[@]}")

for proto in tcp udp; do
    start_server "v6$proto" -p "$proto" -b ::1 --count 4
    grep -q "listening on \[::1\]:$PORT ($proto)" "$TMP/v6$proto.err" ||
        fail "$proto: listening line does not show [::1]:$PORT"
    timeout 20 "$CLIENT" -p "$proto" -t 5000 -H ::1 -P "$PORT" "${NAMES[@]}" \
        >"$TMP/v6$proto-c.out" 2>"$TMP/v6$proto-c.err" || fail "$proto client over ::1"
    expect_eq "$proto over ::1" "$TMP/v6$proto-c.out" "$greetings"
    wait_exit "$PID"
    [ "$STATUS" -eq 0 ] || fail "$proto server over ::1 exited with $STATUS"
    ok "$proto over ::1"
done
grep -q '^Conectado a \[::1\]:[0-9]\+$' "$TMP/v6tcp.out" || fail "Conectado a [::1]:PORT"

# Without --bind the server is dual stack: IPv4, IPv6 and "localhost" all reach it.
start_server dual -p tcp --count 3
for host in 127.0.0.1 ::1 localhost; do
    "$CLIENT" -H "$host" -P "$PORT" "desde $host" >"$TMP/dual.c.out" 2>&1 ||
        fail "dual-stack server not reachable from $host"
    expect_eq "dual stack via $host" "$TMP/dual.c.out" "Hola desde $host"
done
wait_exit "$PID"
grep -q '^Conectado a 127\.0\.0\.1:' "$TMP/dual.out" || fail "IPv4 peer not shown as a.b.c.d"
ok "dual-stack server: 127.0.0.1, ::1 and localhost"
