#!/usr/bin/env bash
# The lab under random loss, and its cleanup.
# Usage: HOLA_LAB=scripts/hola-lab lab-loss.sh root|userns
#   root    the named-namespace path (needs root)
#   userns  the unprivileged path: as root the lab runs as user nobody, otherwise as the
#           calling user; skips where user namespaces are not allowed.
# 1. --loss 10 each way; 400 pings from the client to the server; the round-trip loss must
#    be within 5 standard deviations of 1 - 0.9^2 = 19%, and not 0.
# 2. Nothing is left (namespaces, processes, host interfaces, temporary files) after a
#    normal run, after a command that fails, and after SIGTERM to hola-lab mid-run;
#    after SIGKILL no process survives, and hola-lab --cleanup removes the rest.
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: lab-loss.sh root|userns}
command -v ping >/dev/null 2>&1 || skip "ping is not installed (apt-get install iputils-ping)"
lab_mode "$mode"

check_out=$("${run[@]}" "${lab[@]}" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $check_out"
[ $rc -eq 0 ] || fail "hola-lab --check exited $rc: $check_out"
say "$(printf '%s' "$check_out" | head -n 2 | tr '\n' ';')"
case $check_out in
    *"netem: yes"*|*"nftables: yes"*) ;;
    *) skip "no way to drop packets here (no sch_netem, no nftables): $check_out" ;;
esac

export W=$work
links_before=$(host_links)

# 1. Loss statistics -----------------------------------------------------------------
n=400
timeout -k 5 60 "${run[@]}" "${lab[@]}" --loss 10 -- sh -c '
    echo "$HOLA_LAB_NAME" >"$W/name"; echo "$HOLA_LAB_SRV" >"$W/srv"
    echo "$HOLA_LAB_BACKEND $HOLA_LAB_GSO $(lab-cli ip -d link show lab0 | grep -o "gso_max_segs [0-9]*")" >"$W/gso"
    lab-cli ping -n -q -c '"$n"' -i 0.002 -W 1 "$HOLA_LAB_SERVER_ADDR" >"$W/ping" 2>&1
    exit 0' 2>"$work/stderr"
rc=$?
cat "$work/stderr" >&2
[ $rc -eq 0 ] || fail "hola-lab --loss 10 exited $rc"
cat "$work/ping" >&2
received=$(awk '/packets transmitted/ { print $4 }' "$work/ping")
sent=$(awk '/packets transmitted/ { print $1 }' "$work/ping")
[ "$sent" = "$n" ] || fail "ping sent '${sent:-?}' of $n"
# Each exchange survives with probability 0.9 * 0.9; lost ~ Binomial(n, 0.19).
read -r lo hi < <(awk -v n="$n" 'BEGIN { p = 1 - 0.9 * 0.9; s = sqrt(n * p * (1 - p));
    lo = int(n * p - 5 * s); hi = int(n * p + 5 * s + 1); if (lo < 1) lo = 1; print lo, hi }')
lost=$((n - received))
say "round-trip loss $lost/$n ($((100 * lost / n))%), expected about $((19 * n / 100)), accepted $lo..$hi"
[ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ] || fail "loss $lost/$n is outside $lo..$hi"
case $(cat "$work/stderr") in
    *"loss 10%"*) ;;
    *) fail "hola-lab did not say that it applied loss 10%" ;;
esac
# The loss meets packets, not GSO batches: lab0 cuts them (or, where it cannot, says so).
say "backend, HOLA_LAB_GSO, lab0: $(cat "$work/gso")"
case $(cat "$work/gso") in
    "nftables cut gso_max_segs 1" | "netem whole gso_max_segs 1") ;;
    "nftables whole "*) grep -q "cannot set gso_max_segs" "$work/stderr" ||
        fail "lab0 passes GSO batches whole and hola-lab did not say so" ;;
    *) fail "unexpected cable under loss: $(cat "$work/gso")" ;;
esac
check_no_leftovers "$(cat "$work/name")" "$links_before"

# 2a. A command that fails: its status comes back, nothing stays ---------------------
rm -f "$work/name" "$work/srv"
timeout -k 5 30 "${run[@]}" "${lab[@]}" -q --loss 10 -- sh -c '
    echo "$HOLA_LAB_NAME" >"$W/name"; echo "$HOLA_LAB_SRV" >"$W/srv"
    lab-srv sleep '"$MARK"' & lab-cli sleep '"$MARK"' & sleep '"$MARK"' &
    exit 1'
rc=$?
[ $rc -eq 1 ] || fail "a command exiting 1 made hola-lab exit $rc"
[ -s "$work/name" ] || fail "the failing command did not run"
check_no_leftovers "$(cat "$work/name")" "$links_before"
say "after a failing command: nothing left"

# 2b. SIGTERM to hola-lab while servers run on both sides ------------------------------
rm -f "$work/name" "$work/srv"
"${run[@]}" "${lab[@]}" -q --loss 10 -- sh -c '
    lab-srv sleep '"$MARK"' & lab-cli sleep '"$MARK"' &
    echo "$HOLA_LAB_NAME" >"$W/name"; echo "$HOLA_LAB_SRV" >"$W/srv"
    sleep '"$MARK"'; echo "not reached" >"$W/reached"' &
pid=$!
bg_pids+=("$pid")
wait_for 20 test -s "$work/name" || fail "the lab did not start within 20 s"
wait_for 5 eval '[ "$(marked_pids | wc -l)" -ge 3 ]' || fail "the lab's sleeps did not start"
kill -TERM "$pid"
wait_gone 20 "$pid" || fail "hola-lab still running 20 s after SIGTERM"
[ "$gone_rc" -eq 143 ] || fail "hola-lab exited $gone_rc after SIGTERM, expected 143"
[ ! -e "$work/reached" ] || fail "the command went on after SIGTERM"
check_no_leftovers "$(cat "$work/name")" "$links_before"
say "after SIGTERM: nothing left"

# 2c. SIGKILL cannot be trapped: the processes still go (parent-death signal and PID
#     namespace); as root the named namespaces stay until hola-lab --cleanup. -----------
rm -f "$work/name" "$work/srv"
"${run[@]}" "${lab[@]}" -q -- sh -c '
    lab-srv sleep '"$MARK"' &
    echo "$HOLA_LAB_SRV" >"$W/srv"; echo "$HOLA_LAB_NAME" >"$W/name"; sleep '"$MARK"'' &
pid=$!
bg_pids+=("$pid")
wait_for 20 test -s "$work/name" || fail "the lab did not start within 20 s"
wait_for 5 eval '[ "$(marked_pids | wc -l)" -ge 2 ]' || fail "the lab's sleeps did not start"
kill -KILL "$pid"
wait_gone 10 "$pid" || fail "hola-lab survived SIGKILL"
name=$(cat "$work/name")
wait_for 3 test -z "$(marked_pids)" || fail "processes outlived SIGKILL of hola-lab: $(marked_pids | tr '\n' ' ')"
[ "$mode" = userns ] || ip netns list | grep -q "^$name-srv" ||
    fail "expected $name-srv to stay after SIGKILL"
[ -e "$(cat "$work/srv")" ] || fail "expected the wrappers' directory to stay after SIGKILL"
out=$("${run[@]}" "${lab[@]}" --cleanup 2>&1) || fail "hola-lab --cleanup failed: $out"
say "$(printf '%s' "$out" | tr '\n' ';')"
check_no_leftovers "$name" "$links_before"
say "after SIGKILL and hola-lab --cleanup: nothing left"
say "PASS ($mode)"
