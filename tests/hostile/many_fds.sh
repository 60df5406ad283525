#!/usr/bin/env bash
# many_fds.sh: hola-server and hola-client started with some 1100 inherited open
# descriptors, so every socket and pipe of theirs is numbered above FD_SETSIZE (1024):
# select()'s fd_set cannot hold them, poll() can. Each protocol exchanges names both
# ways, and the server stops cleanly on SIGTERM; a sanitizer or valgrind report fails.
# Usage: many_fds.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"

# Raising the soft limit to 4096 needs a hard limit at least that high.
(ulimit -n 4096) 2>/dev/null || { echo "SKIP: cannot raise the descriptor limit to 4096"; exit 77; }

# many_fds PROGRAM: a wrapper that fills descriptors 3..1109 with /dev/null, then runs
# PROGRAM (itself perhaps under valgrind); the program's own descriptors come after.
many_fds() {
    local w="$TMP/fds-${1##*/}"
    cat >"$w" <<WRAP
#!/usr/bin/env bash
ulimit -n 4096 || exit 125
exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null 8</dev/null 9</dev/null
for i in {10..1109}; do exec {fd}</dev/null; done
exec $(printf %q "$1") "\$@"
WRAP
    chmod +x "$w"
    echo "$w"
}
SERVER=$(many_fds "$SERVER") CLIENT=$(many_fds "$CLIENT")

# lowest_socket PID: the lowest descriptor number of a socket the process holds.
lowest_socket() {
    find "/proc/$1/fd" -lname 'socket:*' -printf '%f\n' 2>/dev/null | sort -n | head -n 1
}

for proto in rudp udp tcp; do
    start_server "$proto" -p "$proto" -b 127.0.0.1
    fd=$(lowest_socket "$PID")
    fd=${fd:-0}
    [ "$fd" -ge 1024 ] || fail "$proto: the server's socket is descriptor $fd, not above FD_SETSIZE"
    rc=0
    timeout 60 "$CLIENT" -p "$proto" -H 127.0.0.1 -P "$PORT" "${NAMES[@]}" \
        >"$TMP/$proto-client.out" 2>"$TMP/$proto-client.err" || rc=$?
    [ "$rc" -eq 0 ] || fail "$proto: client exited with $rc"
    expect_eq "$proto: client replies" "$TMP/$proto-client.out" "$(printf 'Hola %s\n' "${NAMES[@]}")"
    kill -TERM "$PID"
    wait_exit "$PID" 20
    [ "$STATUS" -eq 0 ] || fail "$proto: server exit status $STATUS after SIGTERM"
    n=$(grep -c '^Hola ' "$TMP/$proto.out")
    [ "$n" -eq "${#NAMES[@]}" ] || fail "$proto: the server greeted $n names"
    ok "$proto: server socket at descriptor $fd; ${#NAMES[@]} names greeted both ways, exit 0"
done
