#!/usr/bin/env bash
# hostile_tcp.sh: nothing one TCP peer does keeps hola-server from the others. Idle
# connections (300 of them, and a full server), a client that never reads its replies,
# one source above its cap, and a server out of descriptors (EMFILE); each time a real
# client from another loopback address is answered, and the figures are printed.
# Usage: hostile_tcp.sh HOLA_SERVER HOLA_CLIENT TCP_PEERS
. "$(dirname "$0")/../hola/lib.sh"
PEERS=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT TCP_PEERS}
hola_init "$1" "$2"

# A loopback alias must be bindable (Linux routes all of 127.0.0.0/8 to lo).
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM).bind(("127.0.0.2", 0))' \
    2>/dev/null || { echo "SKIP: cannot bind 127.0.0.2"; exit 77; }
# Deadlines are for a native build; under valgrind (HOLA_WRAP) everything is slower.
# (How long the idle peers stay is not scaled: the server's deadlines are not.)
SLOW=1
[ -z "${HOLA_WRAP:-}" ] || SLOW=5

# field FILE KEY: the value of KEY=... in tcp_peers' output (reply=, always last on its
# line, to the end of the line: a reply has spaces).
field() {
    local v
    v=$(grep -Eo "(^| )$2=.*" "$1" | tail -n1 | sed -E "s/^ ?$2=//")
    [ "$2" = reply ] && echo "$v" || echo "${v%% *}"
}

# hold TAG SRC N MS: tcp_peers hold in the background; returns once it has connected.
hold() {
    "$PEERS" hold "$PORT" "$2" "$3" "$4" >"$TMP/hold-$1.out" 2>"$TMP/hold-$1.err" &
    HOLD_PID=$!
    HOLA_PIDS+=("$HOLD_PID")
    local i
    for i in $(seq 100); do
        grep -q '^connected=' "$TMP/hold-$1.out" && return 0
        sleep 0.05
    done
    fail "$1: tcp_peers did not connect within 5 s"
}

# 1. 300 idle connections from one address, with the defaults: the cap per source
# refuses those beyond it with "server full", and a client from elsewhere is answered.
start_server idle
hold idle 127.0.0.2 300 3000
sleep 0.3
"$PEERS" ask "$PORT" 127.0.0.1 Ana $((2000 * SLOW)) >"$TMP/ask1.out" ||
    fail "300 idle connections: no answer for a client from 127.0.0.1"
[ "$(field "$TMP/ask1.out" reply)" = "Hola Ana" ] || fail "300 idle: reply $(cat "$TMP/ask1.out")"
ms=$(field "$TMP/ask1.out" ms)
[ "$ms" -lt $((1000 * SLOW)) ] || fail "300 idle connections: answered only after $ms ms"
wait_exit "$HOLD_PID" $((10 * SLOW))
full=$(field "$TMP/hold-idle.out" full) open=$(field "$TMP/hold-idle.out" open)
[ "$full" -gt 0 ] && [ $((full + open)) -eq 300 ] ||
    fail "300 idle from one source: $(cat "$TMP/hold-idle.out")"
ok "300 idle connections from 127.0.0.2 ($open held, $full told \"server full\"): a client from 127.0.0.1 answered in $ms ms"
kill "$PID"
wait_exit "$PID" 5

# 2. A full server (every slot idle, from one source allowed them all): a new client is
# told "server full" at once, and is served once the idle deadline frees the slots.
start_server full --max-clients 50 --max-per-source 50 --idle-timeout 1000
t0=$(date +%s%N)
hold full 127.0.0.2 60 6000
sleep 0.2
"$PEERS" ask "$PORT" 127.0.0.1 Ana $((1000 * SLOW)) >"$TMP/ask2.out" || true
case $(field "$TMP/ask2.out" reply) in
    *"server full"*) ;;
    *) fail "full server: expected \"server full\", got: $(cat "$TMP/ask2.out")" ;;
esac
full_ms=$(field "$TMP/ask2.out" ms)
served=
for _ in $(seq $((40 * SLOW))); do
    if "$PEERS" ask "$PORT" 127.0.0.1 Ana 1000 >"$TMP/ask3.out" &&
        [ "$(field "$TMP/ask3.out" reply)" = "Hola Ana" ]; then
        served=$((($(date +%s%N) - t0) / 1000000))
        break
    fi
    sleep 0.2
done
[ -n "$served" ] || fail "full server: never served after the idle deadline: $(cat "$TMP/ask3.out")"
wait_exit "$HOLD_PID" $((10 * SLOW))
[ "$(field "$TMP/hold-full.out" full)" -eq 10 ] && [ "$(field "$TMP/hold-full.out" open)" -eq 0 ] ||
    fail "full server: the idle ones were not all closed: $(cat "$TMP/hold-full.out")"
grep -q 'idle' "$TMP/full.err" || fail "full server: no idle line in the log"
ok "50 idle connections fill the server: a new client told \"server full\" in $full_ms ms, served ${served} ms after they connected (--idle-timeout 1000)"
kill "$PID"
wait_exit "$PID" 5

# 3. A client that sends names and never reads the replies: dropped after the write
# deadline, while another client is served all along.
start_server noread --write-timeout 1000 --idle-timeout 60000
"$PEERS" noread "$PORT" 127.0.0.3 $((8000 * SLOW)) >"$TMP/nr.out" 2>"$TMP/nr.err" &
nr=$!
HOLA_PIDS+=("$nr")
sleep 0.5
"$PEERS" ask "$PORT" 127.0.0.1 Ana $((1000 * SLOW)) >"$TMP/ask4.out" &&
    [ "$(field "$TMP/ask4.out" reply)" = "Hola Ana" ] ||
    fail "a client that never reads: another one not served: $(cat "$TMP/ask4.out")"
wait_exit "$nr" $((12 * SLOW))
[ "$STATUS" -eq 0 ] || fail "a client that never reads was not dropped: $(cat "$TMP/nr.out")"
closed_ms=$(field "$TMP/nr.out" closed_ms)
[ "$closed_ms" -ge 1000 ] || fail "a client that never reads was dropped before the deadline"
grep -q 'not reading' "$TMP/noread.err" || fail "no 'not reading' line in the log"
ok "a client that never reads: dropped after $closed_ms ms (--write-timeout 1000; sent $(field "$TMP/nr.out" sent) bytes)"
kill "$PID"
wait_exit "$PID" 5

# 4. One source above its cap is told "server full"; another source is served.
start_server cap --max-clients 100 --max-per-source 4
hold cap 127.0.0.2 10 3000
sleep 0.3
"$PEERS" ask "$PORT" 127.0.0.2 Bob $((1000 * SLOW)) >"$TMP/ask5.out" || true
case $(field "$TMP/ask5.out" reply) in
    *"server full"*) ;;
    *) fail "per-source cap: the fifth connection got: $(cat "$TMP/ask5.out")" ;;
esac
"$PEERS" ask "$PORT" 127.0.0.1 Ana $((1000 * SLOW)) >"$TMP/ask6.out" &&
    [ "$(field "$TMP/ask6.out" reply)" = "Hola Ana" ] ||
    fail "per-source cap: another source not served: $(cat "$TMP/ask6.out")"
wait_exit "$HOLD_PID" $((10 * SLOW))
[ "$(field "$TMP/hold-cap.out" full)" -eq 6 ] && [ "$(field "$TMP/hold-cap.out" open)" -eq 4 ] ||
    fail "per-source cap: $(cat "$TMP/hold-cap.out")"
ok "--max-per-source 4: 127.0.0.2 held 4, told \"server full\" 7 times; 127.0.0.1 answered in $(field "$TMP/ask6.out" ms) ms"
kill "$PID"
wait_exit "$PID" 5

# 5. Out of descriptors: ulimit -n 40 with 17 of them inherited, and 60 connections.
# The server stops polling its listener for a while instead of spinning on EMFILE: CPU
# time over 2 s stays low, the log has a line when it starts and a summary when it ends,
# and once descriptors free up a client is served again.
cat >"$TMP/lowfd.sh" <<EOF
#!/usr/bin/env bash
ulimit -n 40
for fd in \$(seq 3 19); do eval "exec \$fd</dev/null"; done
exec $(printf '%q' "$SERVER") "\$@"
EOF
chmod +x "$TMP/lowfd.sh"
SERVER="$TMP/lowfd.sh" start_server emfile --max-per-source 100
hold emfile 127.0.0.1 60 4000
sleep 0.5
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
c0=$(ticks)
sleep 2
c1=$(ticks)
hz=$(getconf CLK_TCK)
cpu_ms=$(((c1 - c0) * 1000 / hz))
wait_exit "$HOLD_PID" $((10 * SLOW))
"$PEERS" ask "$PORT" 127.0.0.1 Ana $((2000 * SLOW)) >"$TMP/ask7.out" &&
    [ "$(field "$TMP/ask7.out" reply)" = "Hola Ana" ] ||
    fail "EMFILE: not served once descriptors were free: $(cat "$TMP/ask7.out")"
lines=$(grep -c 'accept' "$TMP/emfile.err")
grep -q 'Too many open files' "$TMP/emfile.err" || fail "EMFILE: never happened (test broken?)"
[ "$cpu_ms" -lt 200 ] || fail "EMFILE: the server used $cpu_ms ms of CPU in 2 s"
[ "$lines" -le 2 ] || fail "EMFILE: $lines log lines about accept, expected a start and a summary"
ok "EMFILE (ulimit -n 40, 60 connections): $cpu_ms ms of CPU in 2 s, $lines log lines: $(grep accept "$TMP/emfile.err" | tr '\n' ' ')"
kill "$PID"
wait_exit "$PID" 5
