#!/usr/bin/env bash
# e2e_udp_impair.sh: plain UDP through the built-in impairment: names are lost and the
# client's report names them; the same seed loses the same names; delay holds datagrams
# without losing them; the counters are in --stats.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

seq -f 'Nombre %g' 200 >"$TMP/names.in"
start_server main -p udp --stats
MAINPID=$PID

run() {
    local tag=$1; shift
    local rc=0
    timeout 30 "$CLIENT" -p udp -P "$PORT" -t 500 --stats "$@" <"$TMP/names.in" \
        >"$TMP/$tag.out" 2>"$TMP/$tag.err" || rc=$?
    STATUS=$rc
}

run loss --loss 30 --seed 1234
[ "$STATUS" -eq 3 ] || fail "--loss 30: exit status $STATUS, expected 3"
report=$(grep '^hola-client: udp: sent 200, answered' "$TMP/loss.err") || fail "--loss 30: no report"
lost=$(echo "$report" | sed -E 's/.*lost ([0-9]+).*/\1/')
[ "$lost" -ge 30 ] && [ "$lost" -le 100 ] || fail "--loss 30 lost $lost of 200"
echo "$report" | grep -Eq 'lost [0-9]+: "Nombre [0-9]+"(, "Nombre [0-9]+")* and [0-9]+ more$' ||
    fail "--loss 30: the report does not name the lost names"
[ "$(wc -l <"$TMP/loss.out")" -eq $((200 - lost)) ] || fail "--loss 30: replies + lost != 200"
grep -q 'impairing outgoing datagrams, seed 1234' "$TMP/loss.err" || fail "seed not shown"
grep -Eq "^\\{\"proto\":\"udp\",\"role\":\"client\",\"sent\":200,\"received\":$((200 - lost)),\"lost\":$lost,\"elapsed_ms\":[0-9.]+,\"impair_in\":200,\"impair_lost\":$lost," \
    "$TMP/loss.err" || fail "--loss 30: --stats"
ok "udp: --loss 30 loses names and the report names them ($report)"

run again --loss 30 --seed 1234
cmp -s "$TMP/loss.out" "$TMP/again.out" || fail "the same seed lost different names"
ok "udp: the same --seed loses the same names"

run delay --delay 20,5 --dup 10 --reorder 10 --seed 9
[ "$STATUS" -eq 0 ] || fail "--delay --dup --reorder: exit status $STATUS (nothing is lost)"
sort "$TMP/delay.out" | cmp -s - <(sed 's/^/Hola /' "$TMP/names.in" | sort) || fail "--delay: replies"
grep -Eq '"impair_duplicated":[1-9]' "$TMP/delay.err" || fail "--dup: nothing duplicated"
ok "udp: --delay, --dup and --reorder lose nothing"

# The server's own replies impaired: a second server with --loss.
start_server lossy -p udp --loss 50 --seed 5 --stats
rc=0
timeout 30 "$CLIENT" -p udp -P "$PORT" -t 500 <"$TMP/names.in" >"$TMP/sl.out" 2>"$TMP/sl.err" || rc=$?
[ "$rc" -eq 3 ] || fail "server --loss 50: client exit status $rc, expected 3"
kill -INT "$PID"
wait_exit "$PID" 10
[ "$STATUS" -eq 0 ] || fail "lossy server exit status $STATUS"
grep -Eq '"received":200,.*"impair_in":200,"impair_lost":[1-9]' "$TMP/lossy.err" ||
    fail "server --stats with its impairment"
ok "udp: the server's --loss drops its replies"

# One signal, then wait: a second one (the cleanup's) landing during the sanitizer's
# exit-time leak check can hang it.
kill -INT "$MAINPID"
wait_exit "$MAINPID" 10
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGINT"
