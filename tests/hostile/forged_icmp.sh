#!/usr/bin/env bash
# forged_icmp.sh: forged ICMP destination-unreachable messages quoting the 5-tuple of a
# running client's socket, over IPv4 (host unreachable, code 1; protocol unreachable, 2;
# port unreachable, 3, rudp only; communication prohibited, 13) and over IPv6 (ICMPv6: no
# route, 0; administratively prohibited, 1; address unreachable, 3; port unreachable, 4,
# rudp only). Neither an established rudp client nor a plain UDP client may end on them:
# each finishes every name and exits 0, and --stats counts the errors its socket reported
# (icmp_errors; without IP_RECVERR Linux reports only the "hard" codes: not IPv4's 1,
# not IPv6's 0 and 3). The servers, sent the same errors quoting their own socket, keep
# serving.
# Runs in a user+network namespace of its own (unshare -rn: a raw socket without real
# root, and no other traffic on its loopback); exit 77 where that is not allowed.
# Usage: forged_icmp.sh HOLA_SERVER HOLA_CLIENT ICMP_FORGE
if [ -z "${HOLA_IN_NETNS:-}" ]; then
    command -v unshare >/dev/null && command -v ip >/dev/null || {
        echo "SKIP: unshare or ip not available"
        exit 77
    }
    unshare -rn true 2>/dev/null || {
        echo "SKIP: unshare -rn is not allowed here (user namespaces off?)"
        exit 77
    }
    HOLA_IN_NETNS=1 exec unshare -rn bash "$0" "$@"
fi
ip link set lo up || { echo "SKIP: cannot bring lo up in the namespace"; exit 77; }

. "$(dirname "$0")/../hola/lib.sh"
FORGE=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT ICMP_FORGE}
hola_init "$1" "$2"

N=200      # names, in lockstep, each held 10 ms on the way out: some 2 s or more
FORGED=40  # ICMP messages, 40 ms apart, while the names go
CODES_rudp_4=1,2,3,13
CODES_udp_4=1,2,13 # port unreachable keeps ending a UDP client: its lesson (docs/cli.md)
CODES_rudp_6=0,1,3,4
CODES_udp_6=0,1,3

# client_port SERVER_PORT CLIENT_PID FAMILY: waits (at most 10 s) for a connected UDP socket
# to that port in /proc/net/udp or udp6 (the namespace holds only this test's sockets);
# sets CPORT.
client_port() {
    local want i table=/proc/net/udp
    want=$(printf '%04X' "$1")
    [ "$3" = 6 ] && table=/proc/net/udp6
    for i in $(seq 200); do
        CPORT=$(awk -v p=":$want" '$3 ~ p"$" && $3 !~ /^0+:/ {split($2, a, ":"); print a[2]; exit}' \
            "$table")
        if [ -n "$CPORT" ]; then
            CPORT=$((16#$CPORT))
            return 0
        fi
        kill -0 "$2" 2>/dev/null || fail "the client ended before its socket was seen"
        sleep 0.05
    done
    fail "no client socket connected to port $1 within 10 s"
}

# attack PROTO FAMILY: a server and a slow client of PROTO on 127.0.0.1 or ::1; forged
# ICMP (or ICMPv6) at the client meanwhile.
attack() {
    local proto=$1 fam=$2 codes addr=127.0.0.1
    codes=CODES_${proto}_$fam
    codes=${!codes}
    [ "$fam" = 6 ] && addr=::1
    start_server "$proto" -p "$proto" -b "$addr"
    local sport=$PORT spid=$PID
    seq -f "Nombre %g" "$N" >"$TMP/names"
    local opts=()
    [ "$proto" = udp ] && opts=(-t 3000) # rudp retransmits instead
    "$CLIENT" -p "$proto" -H "$addr" -P "$sport" --lockstep --delay 10 --seed 1 --stats \
        "${opts[@]}" <"$TMP/names" >"$TMP/$proto-client.out" 2>"$TMP/$proto-client.err" &
    local cpid=$!
    HOLA_PIDS+=("$cpid")
    client_port "$sport" "$cpid" "$fam"
    # The same errors quoting the server's socket (unconnected, no IP_RECVERR) meanwhile.
    "$FORGE" "$addr" "$sport" "$addr" "$CPORT" "$codes" "$FORGED" 40 >"$TMP/$proto-sforge.out" \
        2>"$TMP/$proto-sforge.err" &
    local fpid=$!
    HOLA_PIDS+=("$fpid")
    "$FORGE" "$addr" "$CPORT" "$addr" "$sport" "$codes" "$FORGED" 40 >"$TMP/$proto-forge.out" \
        2>"$TMP/$proto-forge.err" || fail "icmp_forge exited with $?"
    wait_exit "$fpid" 10
    [ "$STATUS" -eq 0 ] || fail "icmp_forge (at the server) exited with $STATUS"
    kill -0 "$cpid" 2>/dev/null || echo "  note: the $proto client ended before the last forged ICMP"
    wait_exit "$cpid" 60
    [ "$STATUS" -eq 0 ] || fail "$proto client exited with $STATUS under forged ICMP"
    [ "$(wc -l <"$TMP/$proto-client.out")" -eq "$N" ] || fail "$proto client printed $(wc -l <"$TMP/$proto-client.out") of $N replies"
    ICMP=$(grep -Eo '"icmp_errors":[0-9]+' "$TMP/$proto-client.err" | cut -d: -f2)
    [ -n "$ICMP" ] || fail "$proto client: no icmp_errors in --stats"
    [ "$ICMP" -ge 1 ] || fail "$proto client: icmp_errors=$ICMP after $FORGED forged ICMP messages"
    ok "$proto, IPv$fam: forged ICMP codes $codes x$FORGED during $N names: client exit 0, icmp_errors=$ICMP"

    # The server is unharmed: it answers another client, and ends cleanly.
    "$CLIENT" -p "$proto" -H "$addr" -P "$sport" Ana >"$TMP/$proto-after.out" 2>"$TMP/$proto-after.err" ||
        fail "$proto: a client after the attack exited with $?"
    expect_eq "$proto client after the attack" "$TMP/$proto-after.out" "Hola Ana"
    kill -TERM "$spid"
    wait_exit "$spid" 20
    [ "$STATUS" -eq 0 ] || fail "$proto server exit status $STATUS after SIGTERM"
}

for fam in 4 6; do
    attack rudp "$fam"
    attack udp "$fam"
    grep -E 'ICMP' "$TMP/udp-client.err" | sed 's/^/  /'
    grep -Eq 'ICMP errors? ignored' "$TMP/udp-client.err" ||
        fail "udp, IPv$fam: the summary does not report the ICMP errors"
    ok "udp, IPv$fam: the summary reports the ICMP errors"
done
