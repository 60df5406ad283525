#!/usr/bin/env bash
# e2e_tcp.sh: hola-server and hola-client over TCP on loopback: the practice's names, both
# sides' output, pipelined and lockstep, names on stdin, several clients at once, an
# over-long line that closes only its own connection, --stats, SIGTERM.
. "$(dirname "$0")/lib.sh"
hola_init "$@"

greetings=$(printf 'Hola %s\n' "${NAMES[@]}")

# 1. The Done-when run: --count 4 ends the server after the four names.
start_server count -p tcp --count 4
timeout 20 "$CLIENT" -p tcp -P "$PORT" "${NAMES[@]}" >"$TMP/c1.out" 2>"$TMP/c1.err" ||
    fail "client exited with $?"
expect_eq "client prints the four replies in order" "$TMP/c1.out" "$greetings"
[ -s "$TMP/c1.err" ] && fail "client wrote to stderr"
wait_exit "$PID"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after --count"
grep -q '^Conectado a 127\.0\.0\.1:[0-9]\+$\|^Conectado a \[::1\]:[0-9]\+$' "$TMP/count.out" ||
    fail "server did not print Conectado a ADDR:PORT"
expect_eq "server stdout is Conectado + the greetings" "$TMP/count.out" \
    "$(head -n1 "$TMP/count.out")
$greetings"
grep -q 'listening on .*(tcp)' "$TMP/count.err" || fail "no listening line on stderr"
ok "tcp: four names, both sides, --count"

# 2. One long-running server for the rest; SIGTERM at the end.
start_server main -p tcp --stats
"$CLIENT" -P "$PORT" -H 127.0.0.1 --lockstep "${NAMES[@]}" >"$TMP/c2.out" 2>"$TMP/c2.err" ||
    fail "lockstep client exited with $?"
expect_eq "lockstep replies" "$TMP/c2.out" "$greetings"
ok "tcp: --lockstep"

printf '  %s \r\n\n\n' "${NAMES[@]}" | "$CLIENT" -P "$PORT" >"$TMP/c3.out" 2>"$TMP/c3.err" ||
    fail "stdin client exited with $?"
expect_eq "names from stdin (trimmed, CRLF, empty lines skipped)" "$TMP/c3.out" "$greetings"
ok "tcp: names from standard input"

"$CLIENT" -P "$PORT" --stats Ana Beto >"$TMP/c4.out" 2>"$TMP/c4.err" || fail "stats client"
expect_one_line "client --stats" "$TMP/c4.err" \
    '^\{"proto":"tcp","role":"client","sent":2,"received":2,"lost":0,"elapsed_ms":[0-9]+\.[0-9]{3},"lat_p50_us":[0-9]+,"lat_p99_us":[0-9]+,"dup":0,"out_of_order":0,"last_reply_us":[0-9]+\}$'
ok "tcp: --stats"

# Many names in one go (several per read on the server, many replies per read back).
seq -f 'Nombre %g' 2000 >"$TMP/many.in"
"$CLIENT" -P "$PORT" <"$TMP/many.in" >"$TMP/c5.out" 2>"$TMP/c5.err" || fail "2000-name client"
expect_eq "2000 replies in order" "$TMP/c5.out" "$(sed 's/^/Hola /' "$TMP/many.in")"
ok "tcp: 2000 pipelined names"

# Several clients at once: one holds its connection open (a slow typist) while others
# are served; an over-long line closes only its own connection.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot open a bash /dev/tcp connection"
printf 'Lent' >&3
pids=()
for i in 1 2 3 4; do
    "$CLIENT" -P "$PORT" "Cliente $i" "${NAMES[@]}" >"$TMP/par$i.out" 2>"$TMP/par$i.err" &
    pids+=($!)
    HOLA_PIDS+=($!)
done
head -c 3000 /dev/zero | tr '\0' x | timeout 10 nc -N 127.0.0.1 "$PORT" >"$TMP/long.out" ||
    fail "nc with an over-long line"
grep -q '^error: line 1: too long' "$TMP/long.out" || fail "no error line for an over-long line"
for i in 1 2 3 4; do
    wait_exit "${pids[$((i - 1))]}" 20
    [ "$STATUS" -eq 0 ] || fail "parallel client $i exited with $STATUS"
    expect_eq "parallel client $i" "$TMP/par$i.out" "Hola Cliente $i
$greetings"
done
printf 'o\n' >&3
IFS= read -r -t 10 reply <&3 || fail "no reply on the held connection"
[ "$reply" = "Hola Lento" ] || fail "held connection got '$reply'"
exec 3>&-
ok "tcp: concurrent clients, a slow one and an over-long line"

kill -TERM "$PID"
wait_exit "$PID"
[ "$STATUS" -eq 0 ] || fail "server exit status $STATUS after SIGTERM"
grep -Eq '^\{"proto":"tcp","role":"server","sent":[0-9]+,"received":[0-9]+,"lost":0,"rejected":1,"clients":10,' \
    "$TMP/main.err" || fail "server --stats line after SIGTERM"
ok "tcp: SIGTERM ends the server cleanly with --stats"

# 3. The interactive dialogue, when script(1) can give the client a terminal.
if command -v script >/dev/null 2>&1; then
    start_server ask -p tcp --count 2
    hola_es_env
    printf '2\nAna\nÑandú\n' | env "${HOLA_ES[@]}" timeout 20 script -qec \
        "'$CLIENT' -P $PORT" /dev/null >"$TMP/tty.out" 2>&1 || fail "interactive client"
    tr -d '\r' <"$TMP/tty.out" >"$TMP/tty.txt"
    grep -q '¿Cuántos nombres?' "$TMP/tty.txt" || fail "no Spanish prompt"
    grep -q 'Nombre 2:' "$TMP/tty.txt" || fail "no 'Nombre 2:' prompt"
    grep -q '^Hola Ñandú$' "$TMP/tty.txt" || fail "no reply in the interactive run"
    wait_exit "$PID"
    ok "tcp: interactive prompt in Spanish"
else
    echo "skip: script(1) not installed, interactive prompt not tested"
fi
