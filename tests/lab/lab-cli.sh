#!/usr/bin/env bash
# hola-lab's command line: --help, one clear line and exit 2 for nonsense, --check's
# report, --strict's refusal where a knob is unavailable, and the reason given when user
# namespaces are switched off. Needs no root for the parts that build nothing.
. "$(dirname "$0")/lib.sh"

out=$("$HOLA_LAB" --help) || fail "--help exited $?"
for section in SYNOPSIS DESCRIPTION IMPAIRMENT OPTIONS ENVIRONMENT "EXIT STATUS" EXAMPLES \
    HOLA_LAB_SERVER_ADDR HOLA_LAB_UNAPPLIED lab-srv lab-cli --loss-burst --cleanup; do
    [[ $out == *"$section"* ]] || fail "--help does not mention $section"
done

# Each nonsense value: exit 2, exactly one line, naming the option.
bad() {
    local what=$1; shift
    local err rc
    err=$("$HOLA_LAB" "$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2 ($err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
    [[ $err == *"$what"* ]] || fail "'$*' does not mention $what: $err"
}
bad --loss --loss 150 -- true
bad --loss --loss -3 -- true
bad --loss --loss ten -- true
bad "correlation" --loss 10,101 -- true
bad --loss-burst --loss-burst 5 -- true
bad --delay --delay 1e3 -- true
bad --dup --dup 100.5 -- true
bad --corrupt --corrupt 1.234 -- true
bad --rate --rate 0 -- true
bad --rate --rate 1.5 -- true
bad --seed --seed -1 -- true
bad --reorder --reorder 10 -- true
bad "give one" --loss 1 --loss-burst 1,10 -- true
bad "unknown option" --frobnicate -- true
bad "nothing to do" --loss 10
bad "needs a command" --loss 10 --
bad "needs a value" --loss
bad "takes no arguments" shell ls
say "usage errors: one line each, exit 2"

# --check: 0 where a lab can run, 77 with a reason where it cannot.
out=$("$HOLA_LAB" --check 2>&1)
rc=$?
[ $rc -eq 77 ] && skip "hola-lab cannot run here: $out"
[ $rc -eq 0 ] || fail "--check exited $rc: $out"
for line in "privileges:" "netem:" "nftables:" "tbf:"; do
    [[ $out == *"$line"* ]] || fail "--check does not report $line: $out"
done
say "--check: $(printf '%s' "$out" | tr '\n' ';')"

# Where netem is missing, --strict refuses netem-only knobs with 77 and says why;
# without --strict the lab runs and lists the knob as not applied.
if [[ $out == *"netem: no"* ]]; then
    err=$("$HOLA_LAB" --strict --delay 20 -- true 2>&1)
    rc=$?
    [ $rc -eq 77 ] || fail "--strict --delay without netem exited $rc"
    [[ $err == *"sch_netem not available"* ]] || fail "--strict did not say why: $err"
    err=$("$HOLA_LAB" --delay 20 --dup 1 -- sh -c 'echo "[$HOLA_LAB_BACKEND] [$HOLA_LAB_UNAPPLIED]"' 2>&1)
    rc=$?
    [ $rc -eq 0 ] || fail "--delay without netem exited $rc: $err"
    [[ $err == *"NOT applied by the kernel: delay 20 ms, duplication 1%"* ]] ||
        fail "the missing knobs were not named: $err"
    [[ $err == *"TCP did not get them"* ]] || fail "no word about TCP: $err"
    [[ $err == *"[nftables] [delay=20 dup=1]"* ]] || fail "HOLA_LAB_UNAPPLIED wrong: $err"
    say "without netem: --strict refuses, otherwise the missing knobs are named"
fi

# The reason when user namespaces are off: inside a user namespace of our own,
# user.max_user_namespaces can be set to 0; --userns then must refuse with that name.
if unshare --user --map-root-user true 2>/dev/null; then
    err=$(unshare --user --map-root-user sh -c \
        'echo 0 >/proc/sys/user/max_user_namespaces && exec "$0" --userns -- true' "$HOLA_LAB" 2>&1)
    rc=$?
    [ $rc -eq 77 ] || fail "--userns with user.max_user_namespaces=0 exited $rc: $err"
    [[ $err == *"user.max_user_namespaces=0"* ]] || fail "the reason was not named: $err"
    say "user namespaces off: $err"
fi
say PASS
