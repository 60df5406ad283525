#!/usr/bin/env bash
# e2e_udp.sh: hola-server and hola-client over UDP on loopback: one datagram per name, the
# closing report, lockstep, --stats, and the timeout with lost names (a stopped server).
. "$(dirname "$0")/lib.sh"
hola_init "$@"

greetings=$(printf 'Hola %s\n' "${NAMES[@]}")

start_server count -p udp --count 4
timeout 20 "$CLIENT" -p udp -t 5000 -P "$PORT" -H 127.0.0.1 "${NAMES[@]}" >"$TMP/c1.out" 2>"$TMP/c1.err" ||
    fail "client exited with $?"
expect_eq "client prints the four replies" "$TMP/c1.out" "$greetings"
expect_one_line "client report" "$TMP/c1.err" '^hola-client: udp: sent 4, answered 4, lost 0$'
wait_exit "$PID"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"
expect_eq "server stdout is the greetings (no Conectado for UDP)" "$TMP/count.out" "$greetings"
ok "udp: four names, both sides, --count"

# Both streams into one file, as a terminal or a pipe shows them: every reply first, the
# report last (stdout is buffered; it is written out before the report reaches stderr).
start_server shared -p udp --count 4
timeout 20 "$CLIENT" -p udp -t 5000 -P "$PORT" -H 127.0.0.1 "${NAMES[@]}" >"$TMP/both.out" 2>&1 ||
    fail "client (both streams in one file) exited with $?"
expect_eq "replies, then the report, in one stream" "$TMP/both.out" \
    "$greetings"$'\n''hola-client: udp: sent 4, answered 4, lost 0'
wait_exit "$PID"
ok "udp: in one stream the report comes after the last reply"

start_server main -p udp --stats
"$CLIENT" -p udp -t 5000 -P "$PORT" --lockstep --stats "${NAMES[@]}" >"$TMP/c2.out" 2>"$TMP/c2.err" ||
    fail "lockstep client exited with $?"
expect_eq "lockstep replies" "$TMP/c2.out" "$greetings"
[ "$(wc -l <"$TMP/c2.err")" -eq 2 ] || fail "expected the report and the stats line"
grep -Eq '^\{"proto":"udp","role":"client","sent":4,"received":4,"lost":0,"elapsed_ms":[0-9]+\.[0-9]{3},"lat_p50_us":[0-9]+,"lat_p99_us":[0-9]+,"dup":0,"out_of_order":0,"last_reply_us":[0-9]+\}$' \
    "$TMP/c2.err" || fail "client --stats line"
ok "udp: --lockstep and --stats"

printf '%s\n' "${NAMES[@]}" | "$CLIENT" -p udp -t 5000 -P "$PORT" >"$TMP/c3.out" 2>"$TMP/c3.err" ||
    fail "stdin client exited with $?"
expect_eq "names from stdin" "$TMP/c3.out" "$greetings"
ok "udp: names from standard input"

# A server that is alive but does not answer (stopped): every name is lost, the report
# names them, the exit status is 3, and the wait is bounded by --timeout.
kill -STOP "$PID"
start=$(date +%s%N)
rc=0
"$CLIENT" -p udp -P "$PORT" --timeout 300 --stats Ana "Ñandú" >"$TMP/c4.out" 2>"$TMP/c4.err" || rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$PID"
[ "$rc" -eq 3 ] || fail "lost replies: exit status $rc, expected 3"
[ -s "$TMP/c4.out" ] && fail "no replies expected on stdout"
grep -q '^hola-client: udp: sent 2, answered 0, lost 2: "Ana", "Ñandú"$' "$TMP/c4.err" ||
    fail "report does not name the lost names"
grep -q '"sent":2,"received":0,"lost":2' "$TMP/c4.err" || fail "stats with lost names"
[ "$elapsed_ms" -lt 5000 ] || fail "waited ${elapsed_ms} ms with --timeout 300"
ok "udp: lost replies are reported by name, exit 3"

# The stopped server then reads the two queued datagrams: still serving.
"$CLIENT" -p udp -t 5000 -P "$PORT" Beto >"$TMP/c5.out" 2>"$TMP/c5.err" || fail "client after resume"
expect_eq "served after SIGCONT" "$TMP/c5.out" "Hola Beto"

kill -INT "$PID"
wait_exit "$PID"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGINT"
grep -Eq '^\{"proto":"udp","role":"server","sent":11,"received":11,' "$TMP/main.err" ||
    fail "server --stats after SIGINT"
ok "udp: SIGINT ends the server cleanly with --stats"
