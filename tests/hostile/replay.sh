#!/usr/bin/env bash
# replay.sh: a replayed INITIAL opens no ghost connection. A server that always asks
# for a cookie (--always-retry) serves a client, which captures its own datagrams
# (--pcap) and leaves. Its INITIAL with the cookie is then sent again from the same
# address and port, within the cookie's lifetime, as an attacker who recorded it would:
# the listener has that cookie in its replay cache, so the copy is dropped and counted
# (cookies_replayed), nothing is announced, no connection is made and nothing is sent
# back. Before the cache, the copy printed a second "Conectado a" and held a slot ~30 s.
# Usage: replay.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"

stat_field() {
    grep '^{"proto":"rudp","role":"server"' "$1" | grep -Eo "\"$2\":[0-9]+" | head -n1 | cut -d: -f2
}

start_server replay -p rudp -b 127.0.0.1 --always-retry --stats
"$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" --pcap "$TMP/client.pcap" "Ana Pérez" \
    >"$TMP/client.out" 2>"$TMP/client.err" || fail "the client exited with $?: $(cat "$TMP/client.err")"

# From the capture (LINKTYPE_RAW: IPv4, UDP, rudp): the client's INITIAL that carries a
# cookie (type 1 with a payload) and the port it left from. Then the replay, twice,
# from that port; whatever comes back within 1.5 s is counted.
timeout 20 python3 - "$TMP/client.pcap" "$PORT" >"$TMP/replay.py.out" 2>&1 <<'PY' ||
import socket, struct, sys, time
data = open(sys.argv[1], "rb").read()
server_port = int(sys.argv[2])
off, found = 24, None
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if not pkt or pkt[0] >> 4 != 4:
        continue
    ihl = (pkt[0] & 15) * 4
    sport, dport = struct.unpack_from(">HH", pkt, ihl)
    rudp = pkt[ihl + 8:]
    if dport == server_port and len(rudp) > 40 and rudp[1] == 1:
        found = (sport, rudp)
        break
if found is None:
    sys.exit("no INITIAL with a cookie in the capture")
sport, initial = found
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", sport))
s.settimeout(0.05)
got = 0
for _ in range(2):
    s.sendto(initial, ("127.0.0.1", server_port))
    end = time.monotonic() + 0.75
    while time.monotonic() < end:
        try:
            got += len(s.recv(2048))
        except socket.timeout:
            pass
print(f"port {sport} len {len(initial)} got {got}")
PY
    fail "replayer: $(cat "$TMP/replay.py.out")"
read -r _ sport _ len _ got <"$TMP/replay.py.out"
kill -TERM "$PID"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exited with $STATUS"
n=$(grep -c "Conectado a" "$TMP/replay.out")
[ "$n" -eq 1 ] || fail "\"Conectado a\" printed $n times: $(cat "$TMP/replay.out")"
[ "$got" -eq 0 ] || fail "the replay got $got bytes back"
replayed=$(stat_field "$TMP/replay.err" cookies_replayed)
[ "${replayed:-0}" -ge 1 ] || fail "cookies_replayed is ${replayed:-missing}: $(cat "$TMP/replay.err")"
[ "$(stat_field "$TMP/replay.err" active)" = 0 ] || fail "a connection is left"
ok "the client's INITIAL with its cookie ($len bytes), replayed twice from port $sport:" \
    "no answer, one \"Conectado a\" in all, cookies_replayed=$replayed"
