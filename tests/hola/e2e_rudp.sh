#!/usr/bin/env bash
# e2e_rudp.sh: hola-server and hola-client over rudp on loopback: the practice's names on
# both sides; 500 names through a hostile link (loss, duplication, reordering, delay and
# corruption on both programs) pipelined, stop-and-wait and lockstep: every greeting
# once and in order on both sides; --trace, --trace=json, --stats, --pcap.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

greetings=$(printf 'Hola %s\n' "${NAMES[@]}")
HOSTILE=(--loss 20 --dup 5 --reorder 10 --delay 1 --corrupt 1)

# 1. Four names, --count: Conectado and the greetings on the server, the replies on the
#    client, nothing else on the client's stderr.
start_server count -p rudp --count 4
timeout 20 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 "${NAMES[@]}" >"$TMP/c1.out" 2>"$TMP/c1.err" ||
    fail "client exited with $?"
expect_eq "client prints the four replies in order" "$TMP/c1.out" "$greetings"
[ -s "$TMP/c1.err" ] && fail "client wrote to stderr"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"
expect_eq "server stdout is Conectado + the greetings" "$TMP/count.out" \
    "$(head -n1 "$TMP/count.out")
$greetings"
grep -Eq '^Conectado a 127\.0\.0\.1:[0-9]+$' "$TMP/count.out" || fail "no Conectado line"
grep -q 'listening on .*(rudp)' "$TMP/count.err" || fail "no listening line on stderr"
ok "rudp: four names, both sides, --count"

# Regression: --count once gave the replies 2 s to be delivered, then exited with the
# connection open; on a slow path (here every server datagram held 2.5 s) the client
# waited for its reply in vain and gave the server up. The server now stays until the
# connection has closed, as long as the peer answers.
start_server slow -p rudp --count 1 --delay 2500 --seed 5
rc=0
timeout 60 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 Ana >"$TMP/slow-c.out" 2>"$TMP/slow-c.err" || rc=$?
[ "$rc" -eq 0 ] || fail "slow path, --count 1: client exited with $rc"
expect_eq "slow path, --count 1: the reply" "$TMP/slow-c.out" "Hola Ana"
wait_exit "$PID" 30
[ "$STATUS" -eq 0 ] || fail "slow path: server exit status $STATUS after --count"
ok "rudp: --count on a slow path: the reply is delivered before the server exits"

# 2. 500 names over the hostile link, in three patterns.
seq -f 'Nombre %g' 500 >"$TMP/many.in"
sed 's/^/Hola /' "$TMP/many.in" >"$TMP/many.want"

# Fixed seeds: each datagram's fate then depends on its place in the sending order, not
# on chance, so the handshake's first datagrams are not lost five times in a row now and
# then (at 20% loss each way, 1 run in 135 here gave up before connecting).
hostile_run() {
    local tag=$1 seed=$2; shift 2
    start_server "$tag-srv" -p rudp --count 500 --stats "${HOSTILE[@]}" --seed "$seed"
    local rc=0
    timeout 100 "$CLIENT" -p rudp -P "$PORT" --stats "${HOSTILE[@]}" --seed $((seed + 1)) "$@" \
        <"$TMP/many.in" >"$TMP/$tag.out" 2>"$TMP/$tag.err" || rc=$?
    [ "$rc" -eq 0 ] || fail "$tag: client exited with $rc"
    cmp -s "$TMP/$tag.out" "$TMP/many.want" || fail "$tag: client replies differ (diff: $(diff "$TMP/many.want" "$TMP/$tag.out" | head -5))"
    wait_exit "$PID" 20
    [ "$STATUS" -eq 0 ] || fail "$tag: server exit status $STATUS"
    [ "$(grep -c '^Conectado a ' "$TMP/$tag-srv.out")" -eq 1 ] || fail "$tag: one Conectado line"
    grep -v '^Conectado a ' "$TMP/$tag-srv.out" >"$TMP/$tag-srv.greet"
    cmp -s "$TMP/$tag-srv.greet" "$TMP/many.want" || fail "$tag: server greetings differ (each once, in order)"
    # The link really was hostile, and the engine really repaired it.
    local line
    line=$(grep '^{"proto":"rudp","role":"client"' "$TMP/$tag.err") || fail "$tag: no client --stats"
    echo "$line" | grep -Eq '"sent":500,"received":500,"lost":0,' || fail "$tag: client counts"
    echo "$line" | grep -Eq '"impair_lost":[1-9]' || fail "$tag: client impairment lost nothing"
    echo "$line" | grep -Eq '"retransmits_(timeout|fast)":[1-9]' || fail "$tag: no retransmission"
    line=$(grep '^{"proto":"rudp","role":"server"' "$TMP/$tag-srv.err") || fail "$tag: no server --stats"
    echo "$line" | grep -Eq '"sent":500,"received":500,' || fail "$tag: server counts"
    echo "$line" | grep -Eq '"impair_lost":[1-9]' || fail "$tag: server impairment lost nothing"
    ok "rudp: 500 names, ${HOSTILE[*]} on both sides, ${*:-pipelined}"
}
hostile_run pipe 101
hostile_run saw 201 --window 1
hostile_run lock 301 --lockstep

# 3. One server for the rest; --trace under loss shows the retransmissions and why.
start_server main -p rudp --stats
seq -f 'Traza %g' 60 >"$TMP/trace.in"
timeout 60 "$CLIENT" -p rudp -P "$PORT" --trace --loss 30 --seed 42 <"$TMP/trace.in" \
    >"$TMP/trace.out" 2>"$TMP/trace.err" || fail "traced client exited with $?"
cmp -s "$TMP/trace.out" <(sed 's/^/Hola /' "$TMP/trace.in") || fail "traced client replies"
grep -Eq '^ +[0-9]+\.[0-9]{3} ms  client +→ DATA +seq=[0-9]+ ack=[0-9]+ len=[0-9]+  RETRANSMIT \((timeout, rto=[0-9]+\.[0-9]{3} ms|fast: 3 later packets acked|fast: 9/8 RTT passed)\)$' \
    "$TMP/trace.err" || fail "--trace: no RETRANSMIT line"
grep -Eq '^ +[0-9]+\.[0-9]{3} ms  client +← ACCEPT ' "$TMP/trace.err" || fail "--trace: no received ACCEPT"
grep -Eq '· STATE +ESTABLISHED$' "$TMP/trace.err" || fail "--trace: no state line"
grep -q 'impairing outgoing datagrams, seed 42' "$TMP/trace.err" || fail "--trace: seed not shown"
ok "rudp: --trace shows RETRANSMIT lines with their reason"

# The trace and the replies in one stream (a terminal, a pipe): each "Hola" line right
# after the event that handed its message over (stdout is written out before each trace line).
timeout 60 "$CLIENT" -p rudp -P "$PORT" --trace --loss 30 --seed 42 <"$TMP/trace.in" \
    >"$TMP/both.out" 2>&1 || fail "traced client (one stream) exited with $?"
awk '/^Hola /{ n++; if (prev !~ / DELIVER /) bad++ } { prev = $0 } END { exit !(n == 60 && bad == 0) }' \
    "$TMP/both.out" || fail "--trace in one stream: a Hola line not right after its DELIVER"
ok "rudp: --trace and replies in one stream, in the order they happened"

timeout 60 "$CLIENT" -p rudp -P "$PORT" --trace=json --loss 30 --seed 7 <"$TMP/trace.in" \
    >"$TMP/json.out" 2>"$TMP/json.err" || fail "json-traced client exited with $?"
grep '^{' "$TMP/json.err" >"$TMP/json.lines"
[ "$(wc -l <"$TMP/json.lines")" -gt 100 ] || fail "--trace=json: too few lines"
grep -Eq '^\{"t_ms":[0-9]+\.[0-9]{3},"side":"client","peer":"","cid":"[0-9a-f]{16}","event":"retransmit","dir":"sent","type":"DATA","seq":[0-9]+,"ack":[0-9]+,"len":[0-9]+,"reason":"(timeout|fast_3_acked|fast_9_8_rtt)","rto_ms":[0-9]+\.[0-9]{3},"cwnd":[0-9]+,"in_flight":[0-9]+\}$' \
    "$TMP/json.lines" || fail "--trace=json: no retransmit object"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$TMP/json.lines" || fail "--trace=json: not JSON"
fi
ok "rudp: --trace=json"

# --stats' handshake_retries counts the INITIALs the trace shows sent again. Seed 9 drops
# the client's first INITIAL and its two copies, so there is at least one, after the 250
# ms first timeout.
timeout 60 "$CLIENT" -p rudp -P "$PORT" --trace=json --stats --loss 50 --seed 9 Ana Beto \
    >"$TMP/hs.out" 2>"$TMP/hs.err" || fail "handshake-loss client exited with $?"
hs_trace=$(grep -c '"event":"retransmit","dir":"sent","type":"INITIAL"' "$TMP/hs.err")
hs_stats=$(sed -n 's/.*"handshake_retries":\([0-9]*\).*/\1/p' "$TMP/hs.err")
[ -n "$hs_stats" ] && [ "$hs_stats" -eq "$hs_trace" ] && [ "$hs_stats" -ge 1 ] ||
    fail "handshake_retries ${hs_stats:-missing}, INITIAL retransmissions in the trace $hs_trace"
first=$(grep -m1 '"event":"retransmit","dir":"sent","type":"INITIAL"' "$TMP/hs.err" |
    sed 's/^{"t_ms":\([0-9]*\)\..*/\1/')
[ "$first" -ge 250 ] || fail "the first INITIAL retry came after $first ms, not 250"
[ "$(grep -c '"event":"send","dir":"sent","type":"INITIAL","seq":[0-9]*,"ack":[0-9]*,"len":0,"reason":"copy"' "$TMP/hs.err")" -eq 2 ] ||
    fail "--trace=json: the first INITIAL's copies are not shown twice as copies"
ok "rudp: --stats handshake_retries matches the trace ($hs_stats)"

# 4. --stats: the practice's fields first, then the engine's and the socket's.
timeout 30 "$CLIENT" -p rudp -P "$PORT" --stats Ana Beto >"$TMP/st.out" 2>"$TMP/st.err" ||
    fail "stats client exited with $?"
expect_one_line "client --stats" "$TMP/st.err" \
    '^\{"proto":"rudp","role":"client","sent":2,"received":2,"lost":0,"elapsed_ms":[0-9]+\.[0-9]{3},"retransmits_timeout":[0-9]+,"retransmits_fast":[0-9]+,"spurious":[0-9]+,"duplicates":[0-9]+,"out_of_order":[0-9]+,"corrupt":[0-9]+,"srtt_us":[1-9][0-9]*,"rttvar_us":[0-9]+,"min_rtt_us":[1-9][0-9]*,"rto_us":[1-9][0-9]*,"cwnd":[0-9]+,.*"datagrams_in":[1-9][0-9]*,"datagrams_out":[1-9][0-9]*,.*\}$'
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); assert d["received"]==2 and d["srtt_us"]>0' \
        "$TMP/st.err" || fail "client --stats is not the expected JSON"
fi
ok "rudp: --stats"

# 5. --pcap: every datagram, with IP and UDP headers, readable by tshark.
timeout 30 "$CLIENT" -p rudp -P "$PORT" -H 127.0.0.1 --pcap "$TMP/c.pcap" Ana Beto Carla \
    >"$TMP/pcap.out" 2>"$TMP/pcap.err" || fail "pcap client exited with $?"
[ -s "$TMP/c.pcap" ] || fail "--pcap: no file"
[ "$(od -An -tx4 -N4 "$TMP/c.pcap" | tr -d ' ')" = a1b2c3d4 ] || fail "--pcap: not a pcap file (magic)"
size=$(stat -c %s "$TMP/c.pcap")
# Header, then at least INITIAL, RETRY, INITIAL, ACCEPT, 3 DATA each way, FINs.
[ "$size" -gt $((24 + 10 * (16 + 28 + 40))) ] || fail "--pcap: file too small ($size bytes)"
if command -v tshark >/dev/null 2>&1; then
    timeout 30 tshark -r "$TMP/c.pcap" -T fields -e udp.srcport -e udp.dstport \
        >"$TMP/tshark.out" 2>"$TMP/tshark.err" || fail "tshark cannot read the pcap"
    [ "$(wc -l <"$TMP/tshark.out")" -ge 10 ] || fail "tshark: too few packets"
    grep -Eq "^[0-9]+	$PORT$" "$TMP/tshark.out" || fail "tshark: no datagram to port $PORT"
    grep -Eq "^$PORT	[0-9]+$" "$TMP/tshark.out" || fail "tshark: no datagram from port $PORT"
    ok "rudp: --pcap read back by tshark"
else
    ok "rudp: --pcap written (tshark not installed: magic and size checked)"
fi

# 6. SIGINT on a client mid-run: one line, exit 1, --stats still printed; the server
#    hears of it (RESET) and keeps serving.
"$CLIENT" -p rudp -P "$PORT" --stats --window 1 --lockstep --delay 5 <"$TMP/many.in" \
    >"$TMP/int.out" 2>"$TMP/int.err" &
cpid=$!
HOLA_PIDS+=("$cpid")
for _ in $(seq 100); do
    [ "$(wc -l <"$TMP/int.out")" -ge 3 ] && break
    sleep 0.05
done
kill -INT "$cpid"
wait_exit "$cpid" 10
[ "$STATUS" -eq 1 ] || fail "interrupted client: exit status $STATUS, expected 1"
grep -Eq '^hola-client: interrupted after [0-9]+ of 500 replies$' "$TMP/int.err" ||
    fail "interrupted client: no 'interrupted' line"
grep -Eq '^\{"proto":"rudp","role":"client","sent":[0-9]+,"received":[0-9]+,' "$TMP/int.err" ||
    fail "interrupted client: no --stats"
timeout 30 "$CLIENT" -p rudp -P "$PORT" Zoe >"$TMP/after.out" 2>"$TMP/after.err" ||
    fail "client after an interrupted one"
expect_eq "served after an interrupted client" "$TMP/after.out" "Hola Zoe"
ok "rudp: SIGINT on the client: one line, exit 1, --stats"

# 7. SIGINT on the server: clean exit, --stats with the engine and socket counters.
kill -INT "$PID"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGINT"
grep -Eq '^\{"proto":"rudp","role":"server","sent":[0-9]+,"received":[0-9]+,"lost":0,"rejected":0,"clients":[0-9]+,"elapsed_ms":[0-9.]+,"retransmits_timeout":[0-9]+,.*"accepted":[0-9]+,"refused_full":0,.*"retries_sent":[0-9]+,.*\}$' \
    "$TMP/main.err" || fail "server --stats after SIGINT"
ok "rudp: SIGINT ends the server cleanly with --stats"
