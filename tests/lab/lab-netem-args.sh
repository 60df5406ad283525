#!/usr/bin/env bash
# The netem path's side of hola-lab, where it can run even without sch_netem: a stand-in
# tc(8) first in PATH takes every netem request (and records it) and hands the rest to
# the real tc. It checks what hola-lab asks netem for, for each knob of its vocabulary,
# what it tells COMMAND (backend, applied, unapplied, GSO), the drop report it reads
# back from `tc -s qdisc`, and --seed with a tc that has no seed option. Whether netem
# then impairs the cable as asked is lab-netem.sh's part, where the kernel has it.
# Usage: HOLA_LAB=scripts/hola-lab lab-netem-args.sh root|userns
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: lab-netem-args.sh root|userns}
lab_mode "$mode"
real_tc=$(command -v tc) || skip "tc is not installed (apt-get install iproute2)"

mkdir -p "$work/bin" && chmod 0755 "$work/bin" || fail "mkdir"
cat >"$work/bin/tc" <<EOF
#!/usr/bin/env bash
# Stand-in tc: netem requests succeed and go to \$FAKE_TC_LOG; the rest is the real tc.
case " \$* " in
    *" netem help "*)
        # iproute2 prints netem's usage on stderr and fails; the seed option is listed
        # only by versions that have it.
        if [ "\${FAKE_TC_SEED:-1}" = 1 ]; then
            echo 'Usage: ... netem [ limit PACKETS ] [ delay TIME [ JITTER ] ] [ seed SEED ]' >&2
        else
            echo 'Usage: ... netem [ limit PACKETS ] [ delay TIME [ JITTER ] ]' >&2
        fi
        exit 1 ;;
    *" qdisc add "*" netem "*)
        printf '%s\n' "\$*" >>"\$FAKE_TC_LOG"
        exit 0 ;;
    *" -s qdisc show "*)
        if grep -q 'netem limit' "\$FAKE_TC_LOG" 2>/dev/null; then
            printf '%s\n' 'qdisc netem 8001: root refcnt 2 limit 100000 delay 20ms  5ms' \\
                ' Sent 4200 bytes 50 pkt (dropped 5, overlimits 0 requeues 0)' \\
                ' backlog 0b 0p requeues 0'
            exit 0
        fi ;;
esac
exec $real_tc "\$@"
EOF
chmod 0755 "$work/bin/tc" || fail "chmod"
export PATH=$work/bin:$PATH W=$work FAKE_TC_LOG=$work/tc.log

# lab_run NAME OPTION...: runs hola-lab with OPTIONs around a command that saves its
# HOLA_LAB_ variables; the log of netem requests in $work/NAME.tc, hola-lab's stderr in
# $work/NAME.err, its status in $lab_rc.
lab_run() {
    local name=$1; shift
    : >"$FAKE_TC_LOG" && chmod 0666 "$FAKE_TC_LOG" || fail "$name: tc log"
    rm -f "$work/env"
    lab_rc=0
    timeout -k 5 60 "${run[@]}" "${lab[@]}" "$@" -- sh -c 'env | grep "^HOLA_LAB_" >"$W/env"' \
        2>"$work/$name.err" || lab_rc=$?
    cp "$FAKE_TC_LOG" "$work/$name.tc"
    [ -f "$work/env" ] && labs+=("$(sed -n 's/^HOLA_LAB_NAME=//p' "$work/env")")
}
labs=()

# expect_env NAME VAR VALUE: COMMAND saw VAR=VALUE.
expect_env() {
    grep -qx -- "$2=$3" "$work/env" ||
        fail "$1: expected $2=$3, COMMAND saw: $(grep "^$2=" "$work/env" || echo nothing)"
}

# expect_netem NAME ARGS: both sides, and only they, asked netem for exactly ARGS (the
# probe's bare "netem" on the server side aside).
expect_netem() {
    local name=$1 want="qdisc add dev lab0 root netem limit 100000 $2" n
    n=$(grep -c -x -F -- "$want" "$work/$name.tc")
    [ "$n" -eq 2 ] && [ "$(grep -c 'netem limit' "$work/$name.tc")" -eq 2 ] || {
        cat "$work/$name.tc" >&2
        fail "$name: expected two requests '$want'"
    }
}

check_out=$("${run[@]}" "${lab[@]}" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $check_out"
[ $rc -eq 0 ] || fail "--check exited $rc: $check_out"
[[ $check_out == *"netem: yes"* ]] || fail "--check does not see the stand-in netem: $check_out"
links_before=$(host_links)

# 1. Every knob at once, with decimals where the vocabulary allows them.
lab_run all --loss 10,25 --delay 20,5 --dup 1 --reorder 25 --corrupt 0.5 --rate 1000 --seed 7
[ "$lab_rc" -eq 0 ] || { cat "$work/all.err" >&2; fail "all knobs: hola-lab exited $lab_rc"; }
expect_netem all "delay 20ms 5ms loss random 10% 25% duplicate 1% reorder 25% corrupt 0.5% rate 1000kbit seed 7"
expect_env all HOLA_LAB_BACKEND netem
expect_env all HOLA_LAB_APPLIED "loss=10,25 delay=20,5 dup=1 reorder=25 corrupt=0.5 rate=1000 seed=7"
expect_env all HOLA_LAB_UNAPPLIED ""
# netem sits before the cut of GSO batches: programs are told to send one at a time.
expect_env all HOLA_LAB_GSO whole
grep -q 'leaving the srv side: 5 of 55 dropped; leaving the cli side: 5 of 55 dropped' \
    "$work/all.err" || { cat "$work/all.err" >&2; fail "all knobs: no drop report from tc -s"; }
say "every knob: $(grep -m1 'netem limit' "$work/all.tc")"

# The same counts for HOLA_LAB_STATS, one line per side, also with -q (hola-compare's way).
: >"$work/stats" && chmod 0666 "$work/stats" || fail "stats file"
HOLA_LAB_STATS=$work/stats lab_run stats -q --loss 10
[ "$lab_rc" -eq 0 ] || { cat "$work/stats.err" >&2; fail "HOLA_LAB_STATS: hola-lab exited $lab_rc"; }
for side in srv cli; do
    grep -qxF "loss=10 $side: netem dropped 5 of 55 packets leaving (tc -s qdisc: Sent 4200 bytes 50 pkt (dropped 5, overlimits 0 requeues 0))" \
        "$work/stats" || { cat "$work/stats" >&2; fail "HOLA_LAB_STATS: no line for the $side side"; }
done
[ "$(wc -l <"$work/stats")" -eq 2 ] || { cat "$work/stats" >&2; fail "HOLA_LAB_STATS: expected 2 lines"; }

# 2. Gilbert-Elliott loss, and loss without correlation.
lab_run burst --loss-burst 2,30
[ "$lab_rc" -eq 0 ] || { cat "$work/burst.err" >&2; fail "--loss-burst: hola-lab exited $lab_rc"; }
expect_netem burst "loss gemodel 2% 30%"
expect_env burst HOLA_LAB_APPLIED "loss-burst=2,30"
lab_run loss --loss 10
expect_netem loss "loss random 10%"

# 3. A tc without netem's seed option: everything else applies, --seed is reported
#    unapplied, and --strict refuses to run (77) rather than give unrepeatable numbers.
export FAKE_TC_SEED=0
lab_run noseed --loss 10 --seed 7
[ "$lab_rc" -eq 0 ] || { cat "$work/noseed.err" >&2; fail "no seed option: hola-lab exited $lab_rc"; }
expect_netem noseed "loss random 10%"
expect_env noseed HOLA_LAB_APPLIED "loss=10"
expect_env noseed HOLA_LAB_UNAPPLIED "seed=7"
grep -q 'seed' "$work/noseed.err" || fail "no seed option: not said on stderr"
lab_run strict --strict --loss 10 --seed 7
[ "$lab_rc" -eq 77 ] || { cat "$work/strict.err" >&2; fail "--strict without a seed option: exit $lab_rc, expected 77"; }
unset FAKE_TC_SEED

for name in "${labs[@]}"; do
    check_no_leftovers "$name" "$links_before"
done
say PASS
