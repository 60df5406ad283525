#!/usr/bin/env bash
# The lab under real netem, in hola-lab-vm's virtual machine (Debian's stock kernel under
# qemu): at 10% loss each way hola-compare's UDP loses names, TCP and rudp deliver them
# all; hola-client over rudp gets every name answered once, in order; and netem's own
# counters (tc -s qdisc) show it dropped packets on both sides. Skips (77) only when
# qemu, busybox or the kernel package cannot be had.
# Usage: lab-vm.sh HOLA_SERVER HOLA_CLIENT HOLA_COMPARE [VM_DIR]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../show_file.sh"
SERVER=${1:?usage: lab-vm.sh HOLA_SERVER HOLA_CLIENT HOLA_COMPARE [VM_DIR]}
CLIENT=${2:?usage: lab-vm.sh HOLA_SERVER HOLA_CLIENT HOLA_COMPARE [VM_DIR]}
COMPARE=${3:?usage: lab-vm.sh HOLA_SERVER HOLA_CLIENT HOLA_COMPARE [VM_DIR]}
VM_DIR=${4:-$work/vm}
VM=$(dirname "$HOLA_LAB")/hola-lab-vm
[ "$(dirname "$SERVER")" = "$(dirname "$CLIENT")" ] || fail "hola-server and hola-client in different folders"

# In the VM: hola-compare's table as CSV, a line, then one rudp client's replies and the
# server's greetings (the server's port from --port-file, inside the lab's /tmp). The
# VM's seq and timeout are busybox's.
n=100
inner=$(cat <<'EOF'
n=$1
hola-compare --lab --names "$n" --impair loss=10 --lockstep --protos tcp,udp,rudp --csv -q
echo "--- rudp"
hola-lab -q --loss 10 -- bash -c '
    n=$1
    # netem meets a GSO batch as one packet (HOLA_LAB_GSO=whole): one datagram per send.
    gso=(); [ "$HOLA_LAB_GSO" = whole ] && gso=(--no-gso)
    lab-srv timeout 60 hola-server -p rudp "${gso[@]}" -b "$HOLA_LAB_SERVER_ADDR" -P 0 --count "$n" \
        --port-file /tmp/port >/tmp/srv.out 2>/tmp/srv.err &
    for _ in $(seq 100); do [ -s /tmp/port ] && break; sleep 0.1; done
    lab-cli hola-client -p rudp "${gso[@]}" -H "$HOLA_LAB_SERVER_ADDR" -P "$(cat /tmp/port)" \
        $(printf "n%03d " $(seq 1 "$n")) || echo "client exit status $?"
    wait
    echo "--- server"
    cat /tmp/srv.out' _ "$n"
EOF
)
rc=0
HOLA_LAB_STATS=$work/stats timeout -k 10 420 "$VM" --timeout 300 --dir "$VM_DIR" \
    --bin-dir "$(dirname "$SERVER")" --add "$COMPARE" --banner stderr \
    -- bash -c "$inner" _ "$n" >"$work/out" 2>"$work/err" || rc=$?
[ $rc -eq 77 ] && skip "$(grep -m1 'cannot run' "$work/err")"
[ $rc -eq 0 ] || { show_file "$work/err" 4000 4000; show_file "$work/out" 4000 4000; fail "hola-lab-vm exited $rc"; }
banner=$(grep -m1 '^hola-lab --vm: netem ran in a virtual machine: Linux ' "$work/err") ||
    { show_file "$work/err" 4000 4000; fail "no line saying netem ran in the VM"; }
say "${banner#hola-lab --vm: }"

# hola-compare's rows: protocol,pattern,impairment,names,delivered,lost,duplicated,
# out_of_order,... builtin (16th): empty when the kernel, not the program, lost packets.
row() { awk -F, -v p="$1" '$1 == p && $2 == "lockstep"' "$work/out"; }
for p in tcp udp rudp; do
    [ -n "$(row $p)" ] || { show_file "$work/out" 4000 4000; fail "no $p row from hola-compare"; }
    IFS=, read -r _ _ _ names delivered lost dup ooo _ _ _ _ _ _ _ builtin status _ <<<"$(row $p)"
    [ "$status" = ok ] && [ "$names" = $n ] && [ "$builtin" = '""' ] ||
        fail "$p: status $status, names $names, built-in impairment $builtin: $(row $p)"
    case $p in
        udp) [ "$lost" -gt 0 ] && [ $((delivered + lost)) -eq $n ] || fail "udp lost nothing under netem: $(row $p)" ;;
        *) [ "$delivered" = $n ] && [ "$lost" = 0 ] && [ "$dup" = 0 ] && [ "$ooo" = 0 ] ||
            fail "$p did not deliver every name once, in order: $(row $p)" ;;
    esac
    say "$p: delivered $delivered of $n, lost $lost, dup $dup, ooo $ooo"
done

# The rudp client's replies and the server's greetings: each name exactly once.
printf 'Hola n%03d\n' $(seq 1 $n) >"$work/want"
sed -n '/^--- rudp$/,/^--- server$/p' "$work/out" | sed '1d;$d' >"$work/replies"
sed -n '/^--- server$/,$p' "$work/out" | sed 1d | grep '^Hola ' >"$work/greeted"
cmp -s "$work/want" "$work/replies" ||
    { show_file "$work/replies" 4000 4000; fail "rudp: the client's replies are not each name once, in order"; }
[ "$(sort "$work/greeted" | uniq | wc -l)" -eq $n ] && [ "$(wc -l <"$work/greeted")" -eq $n ] ||
    { show_file "$work/greeted" 4000 4000; fail "rudp: the server did not greet each name exactly once"; }
say "rudp client: $n names answered once each, in order; the server greeted each once"

# netem's counters: each lab's two sides, and together near 10% of the packets offered
# (some 900: 5 standard deviations either way stay inside 5..15%).
[ -s "$work/stats" ] || fail "no netem counters came back (HOLA_LAB_STATS)"
sed 's/^/    /' "$work/stats" >&2
labs=$(grep -c '^loss=10 [a-z]*: netem dropped ' "$work/stats")
[ "$labs" -eq 4 ] || fail "expected netem counters for 2 labs x 2 sides, got $labs lines"
read -r d o < <(awk '{ d += $5; o += $7 } END { print d + 0, o + 0 }' "$work/stats")
[ $((d * 100)) -ge $((o * 5)) ] && [ $((d * 100)) -le $((o * 15)) ] ||
    fail "netem dropped $d of $o packets, outside 5..15%"
say "netem dropped $d of the $o packets offered ($((d * 1000 / o / 10)).$((d * 1000 / o % 10))%)"
say PASS
