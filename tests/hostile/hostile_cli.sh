#!/usr/bin/env bash
# hostile_cli.sh: hola-server (rudp) under a flood while a real hola-client sends its
# names. hostile_flood fires 100 000 bad datagrams (random, truncated, oversized,
# bad checksum, replays of the client's own datagrams read from its --pcap, valid ones
# for unknown or foreign connection IDs, forged and stolen cookies, unfinished
# handshakes) from 127.0.0.2-9. The client gets every greeting once and in order; the
# server's --stats show one connection ever, none left, and every drop by reason; no
# source gets back more than 3x what it sent; the server stays small; SIGTERM and
# SIGINT during a flood end it at once with status 0 and --stats.
# Usage: hostile_cli.sh HOLA_SERVER HOLA_CLIENT HOSTILE_FLOOD
# HOSTILE_DATAGRAMS overrides the flood's size, HOSTILE_SPREAD_MS the time it is spread
# over (the valgrind pass uses fewer datagrams over more time: its programs are slow).
. "$(dirname "$0")/../hola/lib.sh"
FLOOD=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT HOSTILE_FLOOD}
hola_init "$1" "$2"
COUNT=${HOSTILE_DATAGRAMS:-100000}
SPREAD_MS=${HOSTILE_SPREAD_MS:-2000}

# A loopback alias must be bindable (Linux routes all of 127.0.0.0/8 to lo).
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.2", 0))' \
    2>/dev/null || { echo "SKIP: cannot bind 127.0.0.2"; exit 77; }

# stat_field FILE NAME: a number from the server's --stats line.
stat_field() {
    grep '^{"proto":"rudp","role":"server"' "$1" | grep -Eo "\"$2\":[0-9]+" | head -n1 | cut -d: -f2
}

# The server's peak resident set, KiB (VmHWM), while it runs.
peak_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# 1. The flood starts, then a real client runs its 500 names through it. The server
# runs --always-retry, the stateless front door, so that nothing at all is held for an
# unvalidated sender (checked below); front_door.sh and tests/hostile's
# test_names_under_flood cover the default, where a few are accepted at once.
start_server main -p rudp --stats --handshake-rate 100 --always-retry
seq -f 'Nombre %g' 500 >"$TMP/names.in"
sed 's/^/Hola /' "$TMP/names.in" >"$TMP/names.want"
"$FLOOD" -p "$PORT" -n "$COUNT" -d "$SPREAD_MS" -r "$TMP/c.pcap" -t 120 >"$TMP/flood.out" 2>"$TMP/flood.err" &
fpid=$!
HOLA_PIDS+=("$fpid")
sleep 0.3
rc=0
timeout 120 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 --window 8 --delay 2 --pcap "$TMP/c.pcap" \
    --stats <"$TMP/names.in" >"$TMP/c.out" 2>"$TMP/c.err" || rc=$?
kill -0 "$fpid" 2>/dev/null && flood_overlapped=1 || flood_overlapped=0
[ "$rc" -eq 0 ] || fail "client under the flood exited with $rc"
cmp -s "$TMP/c.out" "$TMP/names.want" || fail "client replies differ: $(diff "$TMP/names.want" "$TMP/c.out" | head -5)"
ok "client: 500 greetings once, in order, during the flood"
wait_exit "$fpid" 150
[ "$STATUS" -eq 0 ] || fail "hostile_flood exited with $STATUS"
[ "$flood_overlapped" -eq 1 ] || fail "the flood ended before the client did: raise HOSTILE_SPREAD_MS"
grep -q "^total $COUNT$" "$TMP/flood.out" || fail "the flood sent $(grep '^total' "$TMP/flood.out")"

# 2. No source got more than 3x the bytes it sent.
while read -r _ src _ _ sent_b _ _ got_b; do
    [ "$got_b" -le $((3 * sent_b)) ] || fail "source $src got $got_b bytes back for $sent_b sent"
    echo "  source $src: sent $sent_b bytes, got $got_b back"
done < <(grep '^source ' "$TMP/flood.out")
ok "no source got more than 3x what it sent (worst $(awk '/^worst/ {print $2}' "$TMP/flood.out")x)"

# 3. Memory, then SIGTERM while a second flood runs: out at once, status 0, --stats.
hwm=$(peak_kb "$PID")
"$FLOOD" -p "$PORT" -n 100000000 -t 60 -S 2 >"$TMP/flood2.out" 2>"$TMP/flood2.err" &
f2=$!
HOLA_PIDS+=("$f2")
sleep 0.5
start=$(date +%s%N)
kill -TERM "$PID"
wait_exit "$PID" 10
took_ms=$((($(date +%s%N) - start) / 1000000))
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGTERM under a flood"
kill -TERM "$f2"
wait_exit "$f2" 10
ok "SIGTERM under a flood: exit 0 after ${took_ms} ms"

line=$(grep '^{"proto":"rudp","role":"server"' "$TMP/main.err") || fail "no server --stats after SIGTERM"
echo "  server --stats: $line"
[ "$(stat_field "$TMP/main.err" accepted)" = 1 ] || fail "accepted is not 1: state for an unvalidated sender?"
[ "$(stat_field "$TMP/main.err" active)" = 0 ] || fail "connections left at exit"
[ "$(stat_field "$TMP/main.err" refused_full)" = 0 ] || fail "refused_full"
for f in garbage checksum oversized wrong_address cookies_bad resets_sent retries_sent ignored rate_limited; do
    v=$(stat_field "$TMP/main.err" "$f")
    [ "${v:-0}" -gt 0 ] || fail "--stats: $f is ${v:-missing}"
done
ok "--stats: one connection ever, none left, drops counted by reason"

# The peak resident set (not under valgrind or a sanitizer, which change it).
echo "  server peak RSS during the flood: ${hwm} KiB"
if [ -z "${HOLA_WRAP:-}" ] && ! grep -q __asan_init "$SERVER" 2>/dev/null; then
    [ "${hwm:-0}" -lt 32768 ] || fail "server peak RSS ${hwm} KiB"
    ok "server stayed under 32 MiB resident"
fi

# 4. SIGINT under a flood, with a client held open: exit 0 promptly.
# Under valgrind, which checks every byte of the receive buffers on each receive, a
# server with UDP GRO (16 x 64 KiB of them) reads a flood of single datagrams some 20x
# slower than one without (64 x 2 KiB), too slow to let the slow client in within
# 10 s: there the server runs --no-gso. Natively this runs with GRO.
nogso=()
[ -n "${HOLA_WRAP:-}" ] && nogso=(--no-gso)
start_server second -p rudp --stats --max-clients 4 ${nogso[@]+"${nogso[@]}"}
"$FLOOD" -p "$PORT" -n 100000000 -t 60 -S 3 >"$TMP/flood3.out" 2>"$TMP/flood3.err" &
f3=$!
HOLA_PIDS+=("$f3")
"$CLIENT" -p rudp -P "$PORT" --window 1 --lockstep --delay 20 $(seq -f 'Lento %g' 200) \
    >"$TMP/slow.out" 2>"$TMP/slow.err" &
slow=$!
HOLA_PIDS+=("$slow")
for _ in $(seq 200); do
    [ -s "$TMP/slow.out" ] && break
    sleep 0.05
done
[ -s "$TMP/slow.out" ] || fail "the slow client got no reply under the flood"
kill -INT "$PID"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGINT under a flood"
grep -q '^{"proto":"rudp","role":"server"' "$TMP/second.err" || fail "no --stats after SIGINT"
kill -TERM "$f3"
wait_exit "$f3" 10
wait_exit "$slow" 30
ok "SIGINT under a flood with a client connected: exit 0, --stats"
