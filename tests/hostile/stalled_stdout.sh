#!/usr/bin/env bash
# stalled_stdout.sh: hola-server's stdout is a pipe whose reader never reads (a fifo
# this script holds open and leaves alone, one per server). For each protocol, a client sends 1000
# names of 400 bytes, some 400 KB of "Hola" lines: more than the pipe and the server's
# queue hold together. Every client is still answered in full and in normal time;
# stderr says "standard output full" once; SIGTERM ends the server promptly with
# status 0, counting the lines it could not write.
# Usage: stalled_stdout.sh HOLA_SERVER HOLA_CLIENT
. "$(dirname "$0")/../hola/lib.sh"
hola_init "$@"

long=$(printf '%0400d' 0)
seq -f "%04g$long" 1000 >"$TMP/bulk.in"
sed 's/^/Hola /' "$TMP/bulk.in" >"$TMP/bulk.want"

for proto in tcp udp rudp; do
    # A reader that never reads: writes fill the pipe, then would wait.
    mkfifo "$TMP/$proto.fifo"
    exec {hold}<>"$TMP/$proto.fifo"
    SERVER_STDOUT=$TMP/$proto.fifo start_server "$proto" -p "$proto" -b 127.0.0.1 --stats
    rc=0
    start=$(date +%s%N)
    timeout 120 "$CLIENT" -p "$proto" -H 127.0.0.1 -P "$PORT" --lockstep <"$TMP/bulk.in" \
        >"$TMP/$proto-bulk.out" 2>"$TMP/$proto-bulk.err" || rc=$?
    bulk_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$rc" -eq 0 ] || fail "$proto: the bulk client exited with $rc after ${bulk_ms} ms"
    cmp -s "$TMP/$proto-bulk.out" "$TMP/bulk.want" || fail "$proto: the bulk client's replies differ"

    start=$(date +%s%N)
    "$CLIENT" -p "$proto" -H 127.0.0.1 -P "$PORT" "${NAMES[@]}" >"$TMP/$proto-after.out" \
        2>"$TMP/$proto-after.err" || fail "$proto: the client after the bulk exited with $?"
    after_ms=$((($(date +%s%N) - start) / 1000000))
    expect_eq "$proto: the client after the bulk" "$TMP/$proto-after.out" \
        "$(printf 'Hola %s\n' "${NAMES[@]}")"

    n=$(grep -c 'standard output full' "$TMP/$proto.err")
    [ "$n" -eq 1 ] || fail "$proto: 'standard output full' said $n times"
    start=$(date +%s%N)
    kill -TERM "$PID"
    wait_exit "$PID" 10
    stop_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$STATUS" -eq 0 ] || fail "$proto: server exit status $STATUS after SIGTERM"
    dropped=$(grep -Eo '"stdout_dropped":[0-9]+' "$TMP/$proto.err" | cut -d: -f2)
    [ "${dropped:-0}" -gt 0 ] || fail "$proto: no line counted as dropped"
    grep -q "^hola-server: $dropped lines not written to standard output" "$TMP/$proto.err" ||
        fail "$proto: no line saying how many lines were dropped"
    ok "$proto: 1000 names of 400 bytes in ${bulk_ms} ms, then ${#NAMES[@]} in ${after_ms} ms;" \
        "'standard output full' once; SIGTERM: exit 0 in ${stop_ms} ms, $dropped lines dropped"
    exec {hold}>&-
done
