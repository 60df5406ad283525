#!/usr/bin/env bash
# front_door.sh: hola-server's rudp front door from outside. A forged INITIAL (its
# "client" never answers) to a server that is not under load gets at most 3x its bytes
# back, prints no "Conectado a", and is dropped (--stats unproven_dropped) within 5 s;
# the same INITIAL replayed keeps within 3x and is dropped all the same. With
# --max-per-source 2, a third client from 127.0.0.1 prints one clear line
# ("too many connections from this address") while a client from ::1 is served.
# Usage: front_door.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$1" "$2"

python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.2", 0))' \
    2>/dev/null || { echo "SKIP: cannot bind 127.0.0.2"; exit 77; }

stat_field() {
    grep '^{"proto":"rudp","role":"server"' "$1" | grep -Eo "\"$2\":[0-9]+" | head -n1 | cut -d: -f2
}

# 1. A forged INITIAL from 127.0.0.2, sent again every 0.5 s for 3 s; its socket reads
#    what comes back for 6.5 s in all (bounded), and never answers.
start_server forged -p rudp --stats
timeout 20 python3 - "$PORT" >"$TMP/forged.py.out" 2>&1 <<'PY' || fail "forged sender: $(cat "$TMP/forged.py.out")"
import socket, sys, time
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xffffffff
# An INITIAL without a cookie (docs/protocol.md §14's vector, another connection ID).
h = bytearray.fromhex("01010000" "5ca1ab1e0badf00d" "00001000" "00000000" "000f4240"
                      "00000000" "00000000" "00400000")
d = bytes(h) + crc32c(h).to_bytes(4, "big")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
s.settimeout(0.05)
to = ("127.0.0.1", int(sys.argv[1]))
sent = got = 0
start = time.monotonic()
last = -1.0
while time.monotonic() - start < 6.5:
    t = time.monotonic() - start
    if t < 3.0 and t - last >= 0.5:
        s.sendto(d, to)
        sent += len(d)
        last = t
    try:
        got += len(s.recv(2048))
    except socket.timeout:
        pass
print(f"sent {sent} got {got}")
PY
read -r _ sent _ got <"$TMP/forged.py.out"
echo "  forged source: sent $sent bytes, got $got back"
[ "$got" -gt 0 ] || fail "no ACCEPT came back: was the INITIAL not accepted at once?"
[ "$got" -le $((3 * sent)) ] || fail "the forged source got $got bytes back for $sent"
ok "a forged INITIAL, replayed, gets at most 3x its bytes back"
kill -TERM "$PID"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exited with $STATUS"
grep -q "Conectado a" "$TMP/forged.out" && fail "a forged INITIAL printed: $(cat "$TMP/forged.out")"
[ "$(stat_field "$TMP/forged.err" accepted_unproven)" = 1 ] || fail "accepted_unproven is not 1"
[ "$(stat_field "$TMP/forged.err" unproven_dropped)" = 1 ] || fail "unproven_dropped is not 1"
[ "$(stat_field "$TMP/forged.err" active)" = 0 ] || fail "a connection is left"
ok "never announced (no \"Conectado a\"), dropped within 6.5 s"

# 2. --max-per-source 2: two clients from 127.0.0.1 hold their connections (each
#    datagram delayed 1.5 s on its way out), a third from there is refused at once.
start_server cap -p rudp --stats --max-per-source 2
for i in 1 2; do
    timeout 30 "$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" --delay 1500 "held $i" \
        >"$TMP/held$i.out" 2>"$TMP/held$i.err" &
    HOLA_PIDS+=("$!")
    eval "held$i=\$!"
done
sleep 2.2 # both INITIALs arrived (1.5 s), their names not yet (3 s)
rc=0
timeout 20 "$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" third >"$TMP/third.out" 2>"$TMP/third.err" ||
    rc=$?
[ "$rc" -ne 0 ] || fail "the third client from 127.0.0.1 was served"
expect_one_line "third client" "$TMP/third.err" "too many connections from this address: refused by 127.0.0.1"
ok "the third client from one address: $(cat "$TMP/third.err")"
if python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' \
    2>/dev/null; then
    timeout 20 "$CLIENT" -p rudp -H ::1 -P "$PORT" other >"$TMP/other.out" 2>"$TMP/other.err" ||
        fail "the client from ::1 failed"
    expect_eq "client from ::1" "$TMP/other.out" "Hola other"
    ok "a client from another address (::1) is served meanwhile"
else
    echo "  (no IPv6 loopback: the client from another address is skipped)"
fi
for i in 1 2; do
    eval "wait_exit \$held$i 30"
    [ "$STATUS" -eq 0 ] || fail "held client $i exited with $STATUS: $(cat "$TMP/held$i.err")"
    expect_eq "held client $i" "$TMP/held$i.out" "Hola held $i"
done
kill -TERM "$PID"
wait_exit "$PID" 10
# The third client's INITIAL and its copies (docs/protocol.md, section 7.3): three refusals.
[ "$(stat_field "$TMP/cap.err" refused_source)" = 3 ] || fail "refused_source is not 3"
ok "both held clients served; refused_source 3 (the INITIAL and its copies)"
