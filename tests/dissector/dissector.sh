#!/usr/bin/env bash
# dissector.sh: tshark reads rudp captures through tools/wireshark/hola-rudp.lua and the
# decoded fields are compared exactly: first a pcap of known datagrams (gen_pcap, built on
# the real encoder), then the capture hola-server and hola-client write with --pcap.
# Usage: dissector.sh GEN_PCAP HOLA_RUDP_LUA HOLA_SERVER HOLA_CLIENT
# Exit 77 (skip) only when tshark is not installed; scripts/test.sh installs it.
GEN=${1:?usage: $0 GEN_PCAP HOLA_RUDP_LUA HOLA_SERVER HOLA_CLIENT}
LUA=${2:?usage: $0 GEN_PCAP HOLA_RUDP_LUA HOLA_SERVER HOLA_CLIENT}
shift 2
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"
# `... | expect` runs expect in this shell, so its `fail` ends the test.
shopt -s lastpipe

if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark not found; install it (apt-get install tshark, as scripts/test.sh does)"
    exit 77
fi

# tshark as root prints a warning on stderr and still runs -X lua_script because Wireshark
# 4.0's init.lua sets run_user_scripts_when_superuser = true; with false it would skip the
# script silently, hence the -G protocols check below (tools/wireshark/README.md). The
# stderr of every run is kept, so a Lua error in the script fails the test by name.
ts() {
    tshark -n -X lua_script:"$LUA" "$@" 2>>"$TMP/tshark.err"
}

check_stderr() {
    if grep -v -e 'Running as user "root"' "$TMP/tshark.err" | grep -q .; then
        fail "tshark wrote to stderr: $(grep -v 'Running as user' "$TMP/tshark.err" | head -5)"
    fi
}

# expect WHAT EXPECTED < ACTUAL
expect() {
    local what=$1 want=$2 got
    got=$(cat)
    if [ "$got" != "$want" ]; then
        echo "expected:" >&2; printf '%s\n' "$want" >&2
        echo "got:" >&2; printf '%s\n' "$got" >&2
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2
        fail "$what"
    fi
}

tshark -v 2>/dev/null | head -n1
tshark -G protocols -X lua_script:"$LUA" 2>>"$TMP/tshark.err" | grep -q '^hola rudp.*hola_rudp$' ||
    fail "tshark did not load $LUA: Lua is disabled, or this is root and init.lua sets run_user_scripts_when_superuser = false (tools/wireshark/README.md)"
check_stderr
ok "tshark loads the dissector"

"$GEN" "$TMP/gen.pcap" || fail "gen_pcap exited with $?"

# ---- 1. the known datagrams, found by the heuristic on ports 50001/50002 -------------

# The Info column: what a student sees first.
ts -r "$TMP/gen.pcap" -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info |
    expect "Info column" "$(printf '%s\n' \
        $'1\tRUDP\tINITIAL seq=1000 rwnd=64' \
        $'2\tRUDP\tRETRY cookie' \
        $'3\tRUDP\tINITIAL seq=1000 cookie rwnd=64' \
        $'4\tRUDP\tACCEPT seq=5000 ack=1000 rwnd=64' \
        $'5\tRUDP\tDATA seq=1000 ack=5000 len=25 [Julián Alcibar Zubillaga]' \
        $'6\tRUDP\tDATA seq=1001-1003 ack=5000 len=16 [Ana] [] [Ñandú]' \
        $'7\tRUDP\tACK ack=1002 sack=1004-1006,1013 rwnd=60' \
        $'8\tRUDP\tDATA seq=5000 ack=1002 len=30 sack=1003 [Hola Julián Alcibar Zubillaga]' \
        $'9\tRUDP\tFIN seq=1004 ack=5001' \
        $'10\tRUDP\tRESET reason=FULL' \
        $'11\tRUDP\tDATA seq=1005 ack=5001 len=21 [Yanina De Luna Ocampo] [BAD CRC]' \
        $'12\tUDP\t50001 → 50002 Len=48' \
        $'13\tRUDP\tDATA seq=1006 ack=5001 len=24 [Jacob Salinas Velázquez]' \
        $'14\tRUDP\tDATA [BAD LENGTH]' \
        $'15\tRUDP\ttype 9 (unknown) ack=5001 [BAD CRC]')"
ok "Info column of every type, SACK, coalesced DATA, UTF-8, bad CRC, plain UDP left alone"

# The fields, one column each; '|' joins repeated fields (records, SACKed numbers).
ts -r "$TMP/gen.pcap" -T fields -E aggregator='|' -e frame.number \
    -e hola_rudp.version -e hola_rudp.type -e hola_rudp.flags -e hola_rudp.flags.ack \
    -e hola_rudp.flags.coalesced -e hola_rudp.sack_len -e hola_rudp.cid -e hola_rudp.seq \
    -e hola_rudp.ack -e hola_rudp.ts -e hola_rudp.ts_echo -e hola_rudp.ack_delay \
    -e hola_rudp.rwnd -e hola_rudp.payload_len -e hola_rudp.crc.status -Y 'frame.number <= 13' |
    expect "header fields" "$(printf '%s\n' \
        $'1\t1\t1\t0x00\t0\t0\t0\t0x0123456789abcdef\t1000\t0\t1000000\t0\t0\t64\t0\t1' \
        $'2\t1\t2\t0x01\t1\t0\t0\t0x0123456789abcdef\t0\t0\t1000250\t1000000\t0\t0\t16\t1' \
        $'3\t1\t1\t0x00\t0\t0\t0\t0x0123456789abcdef\t1000\t0\t1000500\t0\t0\t64\t16\t1' \
        $'4\t1\t3\t0x01\t1\t0\t0\t0x0123456789abcdef\t5000\t1000\t1000750\t1000500\t0\t64\t0\t1' \
        $'5\t1\t4\t0x01\t1\t0\t0\t0x0123456789abcdef\t1000\t5000\t1001000\t1000750\t0\t64\t25\t1' \
        $'6\t1\t4\t0x03\t1\t1\t0\t0x0123456789abcdef\t1001\t5000\t1001100\t1000750\t0\t64\t16\t1' \
        $'7\t1\t5\t0x01\t1\t0\t2\t0x0123456789abcdef\t5000\t1002\t1001300\t1001100\t200\t60\t0\t1' \
        $'8\t1\t4\t0x01\t1\t0\t1\t0x0123456789abcdef\t5000\t1002\t1001400\t1001100\t300\t61\t30\t1' \
        $'9\t1\t6\t0x01\t1\t0\t0\t0x0123456789abcdef\t1004\t5001\t1002000\t1001400\t600\t64\t0\t1' \
        $'10\t1\t7\t0x00\t0\t0\t0\t0xfedcba9876543210\t0\t0\t2000000\t0\t0\t0\t1\t1' \
        $'11\t1\t4\t0x01\t1\t0\t0\t0x0123456789abcdef\t1005\t5001\t1002100\t1001400\t0\t64\t21\t0' \
        $'12\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t' \
        $'13\t1\t4\t0x01\t1\t0\t0\t0x0123456789abcdef\t1006\t5001\t1002200\t1001400\t0\t64\t24\t1')"
ok "header fields of every frame, CRC status good (1) and bad (0)"

# Payloads, SACK meaning, cookie, RESET reason, CRC values.
ts -r "$TMP/gen.pcap" -T fields -E aggregator='|' -e frame.number -e hola_rudp.message \
    -e hola_rudp.records -e hola_rudp.record.seq -e hola_rudp.record.len \
    -e hola_rudp.sack -e hola_rudp.sack.seq -e hola_rudp.sack.ranges \
    -e hola_rudp.sack.missing -e hola_rudp.cookie.issued -e hola_rudp.cookie.mac \
    -e hola_rudp.reset_reason -Y 'frame.number in {2,3,5,6,7,8,10,11}' |
    expect "payloads and SACK" "$(printf '%s\n' \
        $'2\t\t\t\t\t\t\t\t\t1000250\t0x38df9e55f684e055\t' \
        $'3\t\t\t\t\t\t\t\t\t1000250\t0x38df9e55f684e055\t' \
        $'5\tJulián Alcibar Zubillaga\t\t\t\t\t\t\t\t\t\t' \
        $'6\tAna||Ñandú\t3\t1001|1002|1003\t3|0|7\t\t\t\t\t\t\t' \
        $'7\t\t\t\t\t7020\t1004|1005|1006|1013\t1004-1006,1013\t1002-1003,1007-1012\t\t\t' \
        $'8\tHola Julián Alcibar Zubillaga\t\t\t\t80\t1003\t1003\t1002\t\t\t' \
        $'10\t\t\t\t\t\t\t\t\t\t\t1' \
        $'11\tYanina De Luna Ocampo\t\t\t\t\t\t\t\t\t\t')"
ok "DATA text (UTF-8), coalesced records with their seq, SACK list/ranges/gaps, cookie, RESET reason"

# The CRC: recomputed in Lua, equal to the trailer the C encoder wrote, except frame 11.
ts -r "$TMP/gen.pcap" -T fields -e frame.number -e hola_rudp.crc -e hola_rudp.crc.computed \
    -Y 'hola_rudp.crc != hola_rudp.crc.computed' |
    expect "only frames 11 and 15 have a bad CRC" "$(printf '%s\n' \
        $'11\t0x89f0c502\t0x89f0c503' \
        $'15\t0xaa672597\t0xf59f9f24')"
[ "$(ts -r "$TMP/gen.pcap" -Y 'hola_rudp.crc.status == 1' -T fields -e frame.number | wc -l)" -eq 11 ] ||
    fail "expected 11 frames with a good CRC"
ok "CRC32C computed in Lua matches the encoder's"

# Expert info: bad CRC, bad length, unknown type; the RESET is flagged too.
ts -r "$TMP/gen.pcap" -T fields -E aggregator='|' -e frame.number -e _ws.expert.message \
    -e _ws.expert.severity -Y '_ws.expert and hola_rudp' |
    expect "expert info" "$(printf '%s\n' \
        $'10\tConnection reset: FULL\t6291456' \
        $'11\tBad CRC32C: the receiver drops this datagram\t8388608' \
        $'14\tLength does not match 36 + sack_len + payload_len + 4\t8388608' \
        $'15\tUnknown packet type 9 (valid: 1..7)|Bad CRC32C: the receiver drops this datagram\t8388608|8388608')"
ok "expert info on a bad CRC, a bad length, an unknown type"

# The student's view (-V) of the SACK and the bad CRC reads as docs/protocol.md explains.
ts -r "$TMP/gen.pcap" -O hola_rudp -V -Y 'frame.number in {7,11}' >"$TMP/v.out"
for line in \
    'SACK bitmap: 7020 = 01110000 00100000 (acknowledges 1004-1006,1013)' \
    'Acknowledgment number (next expected): 1002' \
    'Sequence number: 5000 (next new number; informational)' \
    'CRC32C: 0x89f0c502 [incorrect, should be 0x89f0c503]' \
    '[CRC32C status: Bad (0)]' \
    '[CRC32C status: Good (1)]'; do
    grep -qF -- "$line" "$TMP/v.out" || fail "-V output lacks: $line"
done
if grep -q 'Lua Error' "$TMP/v.out"; then fail "Lua error in -V output"; fi
ok "-V shows the SACK bitmap in binary and the CRC verdict"

# ---- 2. without the heuristic: the port preference (7000) and Decode As -------------

ts -r "$TMP/gen.pcap" -o hola_rudp.heuristic:FALSE -Y hola_rudp -T fields -e frame.number |
    expect "port 7000 alone" "$(printf '%s\n' 13 14 15)"
ts -r "$TMP/gen.pcap" -o hola_rudp.heuristic:FALSE -o hola_rudp.port:0 -Y hola_rudp \
    -T fields -e frame.number | expect "no port, no heuristic" ""
ts -r "$TMP/gen.pcap" -o hola_rudp.heuristic:FALSE -o hola_rudp.port:0 \
    -d udp.port==50002,hola_rudp -Y 'frame.number in {5,12}' -T fields -e _ws.col.Info |
    expect "decode as" "$(printf '%s\n' 'DATA seq=1000 ack=5000 len=25 [Julián Alcibar Zubillaga]' \
        'rudp version 72 (unknown)')"
ok "port preference and -d udp.port==PORT,hola_rudp (Decode As)"
check_stderr

# ---- 3. a real exchange: hola-server and hola-client -p rudp --pcap on loopback --------

# --always-retry: the capture then holds every handshake type, RETRY included (a server
# not under load accepts the first INITIAL at once).
start_server live -p rudp --always-retry --pcap "$TMP/server.pcap" --count ${#NAMES[@]}
timeout 20 "$CLIENT" -p rudp -H 127.0.0.1 -P "$PORT" --pcap "$TMP/client.pcap" "${NAMES[@]}" \
    >"$TMP/client.out" 2>"$TMP/client.err" || fail "hola-client -p rudp exited with $?"
wait_exit "$PID"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"

greetings=$(printf 'Hola %s\n' "${NAMES[@]}")
names=$(printf '%s\n' "${NAMES[@]}")
for side in client server; do
    pcap="$TMP/$side.pcap"
    # Every datagram decoded, every CRC good.
    total=$(ts -r "$pcap" -T fields -e frame.number | wc -l)
    good=$(ts -r "$pcap" -Y 'hola_rudp.crc.status == 1' -T fields -e frame.number | wc -l)
    [ "$total" -gt 0 ] && [ "$total" -eq "$good" ] ||
        fail "$side.pcap: $good of $total frames decoded with a good CRC"
    # The handshake and the close are there.
    types=$(ts -r "$pcap" -T fields -e hola_rudp.type | sort -un | tr '\n' ' ')
    case $types in
        "1 2 3 4 "*6*) ;;
        *) fail "$side.pcap: packet types $types, expected INITIAL RETRY ACCEPT DATA ... FIN" ;;
    esac
    # The names going to the server and the greetings coming back, in order (messages
    # from the server's port are the greetings).
    # A retransmission (a slow machine can cause one) repeats a seq: keep first copies.
    ts -r "$pcap" -Y "hola_rudp.type == 4 && udp.dstport == $PORT" -T fields \
        -e hola_rudp.seq -e hola_rudp.message | awk -F '\t' '!seen[$1]++ { print $2 }' |
        expect "$side.pcap: names sent" "$names"
    ts -r "$pcap" -Y "hola_rudp.type == 4 && udp.srcport == $PORT" -T fields \
        -e hola_rudp.seq -e hola_rudp.message | awk -F '\t' '!seen[$1]++ { print $2 }' |
        expect "$side.pcap: greetings" "$greetings"
done
check_stderr
ok "hola --pcap captures (client and server): names, greetings, handshake, FIN, good CRCs"
