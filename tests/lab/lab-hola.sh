#!/usr/bin/env bash
# hola-server and hola-client across the lab at 10% loss each way (the practice's point):
# UDP loses names and the client says which (exit 3), TCP and rudp deliver every one.
# Usage: HOLA_LAB=scripts/hola-lab lab-hola.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/lib.sh"
SERVER=${1:?usage: lab-hola.sh HOLA_SERVER HOLA_CLIENT}
CLIENT=${2:?usage: lab-hola.sh HOLA_SERVER HOLA_CLIENT}

out=$("$HOLA_LAB" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $out"
[ $rc -eq 0 ] || fail "--check exited $rc: $out"
[[ $out == *"netem: yes"* || $out == *"nftables: yes"* ]] ||
    skip "no way to drop packets here (no sch_netem, no nftables)"

# 120 names: the client names up to 50 lost ones, and at 19% round-trip loss the 5-sigma
# band for the lost count (22.8 +- 21.5) stays below that.
n=120
names=()
for i in $(seq -w 1 $n); do names+=("n$i"); done
printf '%s\n' "${names[@]}" >"$work/names"
read -r lo hi < <(awk -v n="$n" 'BEGIN { p = 1 - 0.9 * 0.9; s = sqrt(n * p * (1 - p));
    lo = int(n * p - 5 * s); hi = int(n * p + 5 * s + 1); if (lo < 1) lo = 1; print lo, hi }')
export W=$work SERVER CLIENT
links_before=$(host_links)

# One lab per protocol; inside: the server on the server side on a kernel-chosen port,
# the client on the client side; the client's status, stdout and stderr go to files.
run_proto() {
    local proto=$1 wait_ms=$2
    rm -f "$work/$proto".*
    timeout -k 5 90 "$HOLA_LAB" -q --loss 10 -- bash -c '
        proto=$1
        echo "$HOLA_LAB_NAME" >"$W/name"
        lab-srv "$SERVER" -p "$proto" -b "$HOLA_LAB_SERVER_ADDR" -P 0 \
            --port-file "$W/$proto.port" >"$W/$proto.srv.out" 2>"$W/$proto.srv.err" &
        for _ in $(seq 100); do [ -s "$W/$proto.port" ] && break; sleep 0.1; done
        [ -s "$W/$proto.port" ] || { echo "no port file from hola-server" >&2; exit 1; }
        rc=0
        # rudp has no --timeout: it retransmits until its dead-peer limit.
        wait_opt=()
        [ -n "$2" ] && wait_opt=(-t "$2")
        xargs -a "$W/names" -d "\n" lab-cli "$CLIENT" -p "$proto" -H "$HOLA_LAB_SERVER_ADDR" \
            -P "$(cat "$W/$proto.port")" "${wait_opt[@]}" --stats \
            >"$W/$proto.out" 2>"$W/$proto.err" || rc=$?
        echo "$rc" >"$W/$proto.rc"' _ "$proto" "$wait_ms"
    local rc=$?
    [ $rc -eq 0 ] || fail "$proto: the lab exited $rc; $(cat "$work/$proto".*err 2>/dev/null)"
    check_no_leftovers "$(cat "$work/name")" "$links_before"
}

# --- UDP: names are lost, and the client names exactly the ones it did not get. -------
run_proto udp 1000
# xargs reports a command's exit status 1-125 as 123.
rc=$(cat "$work/udp.rc")
report=$(grep '^hola-client: udp: sent' "$work/udp.err")
say "udp: $report"
[ "$rc" = 123 ] || fail "udp: client exit status (via xargs) $rc, expected 123 (the client's 3); $(cat "$work/udp.err")"
[[ $report =~ ^hola-client:\ udp:\ sent\ $n,\ answered\ ([0-9]+),\ lost\ ([0-9]+):\ (.*)$ ]] ||
    fail "udp: no report naming the lost names: $(cat "$work/udp.err")"
answered=${BASH_REMATCH[1]} lost=${BASH_REMATCH[2]} listed=${BASH_REMATCH[3]}
[ $((answered + lost)) -eq $n ] || fail "udp: answered $answered + lost $lost != $n"
[ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ] || fail "udp: lost $lost of $n, outside $lo..$hi"
[ "$(wc -l <"$work/udp.out")" -eq "$answered" ] || fail "udp: $answered answered but $(wc -l <"$work/udp.out") replies printed"
# Every name is either greeted on stdout or listed as lost, never both.
for name in "${names[@]}"; do
    greeted=0 missing=0
    grep -qx "Hola $name" "$work/udp.out" && greeted=1
    [[ $listed == *"\"$name\""* ]] && missing=1
    [ $((greeted + missing)) -eq 1 ] || fail "udp: $name greeted=$greeted listed-as-lost=$missing"
done
say "udp: lost $lost of $n (accepted $lo..$hi), each one named"

# --- TCP: every name, in order. ---------------------------------------------------------
# The timeout covers connecting: a lost SYN is sent again after 1 s, then 2 s more.
run_proto tcp 15000
rc=$(cat "$work/tcp.rc")
[ "$rc" = 0 ] || fail "tcp: client exit status $rc: $(cat "$work/tcp.err")"
diff <(sed 's/^/Hola /' "$work/names") "$work/tcp.out" >/dev/null ||
    fail "tcp: replies differ from the names: $(diff <(sed 's/^/Hola /' "$work/names") "$work/tcp.out" | head -5)"
say "tcp: all $n names answered, in order"

# --- rudp: every name, in order, once, although the kernel drops 10% each way. ---------
run_proto rudp ''
rc=$(cat "$work/rudp.rc")
[ "$rc" = 0 ] || fail "rudp: client exit status $rc: $(cat "$work/rudp.err")"
diff <(sed 's/^/Hola /' "$work/names") "$work/rudp.out" >/dev/null ||
    fail "rudp: replies differ from the names: $(diff <(sed 's/^/Hola /' "$work/names") "$work/rudp.out" | head -5)"
stats=$(grep '^{"proto":"rudp"' "$work/rudp.err")
[[ $stats =~ \"dup\":0,\"reply_out_of_order\":0,\"last_reply_us\":[0-9]+\}$ ]] ||
    fail "rudp: --stats: $stats"
# The loss was real, and rudp repaired it: 240 datagrams at 10% each lose some.
[[ $stats =~ \"retransmits_timeout\":([0-9]+),\"retransmits_fast\":([0-9]+) ]] ||
    fail "rudp: no retransmission counters in $stats"
retx=$((BASH_REMATCH[1] + BASH_REMATCH[2]))
srv_lines=$(grep -c '^Hola ' "$work/rudp.srv.out")
[ "$srv_lines" -eq $n ] || fail "rudp: the server greeted $srv_lines names, expected $n (each once)"
say "rudp: all $n names answered, in order, once ($retx retransmissions by the client)"
say PASS
