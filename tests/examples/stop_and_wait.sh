#!/usr/bin/env bash
# stop_and_wait.sh: the ladder's stop-and-wait pair (examples/rdt3_*.c) on loopback with
# 30% of the datagrams dropped on purpose on both sides (seeded): every name must reach
# the server exactly once and in order, and every reply the client; the losses must have
# forced retransmissions and duplicates. Then its errors: nobody listening, a silent
# server, a bad option. Every process is bounded and killed at exit.
# Arguments: rdt3_servidor rdt3_cliente
set -u
server=${1:?usage: $0 RDT3_SERVIDOR RDT3_CLIENTE} client=${2:?usage: $0 RDT3_SERVIDOR RDT3_CLIENTE}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hola-saw.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 60 "$TMP"/* >&2; exit 1; }

"$server" -v --perdida 30 --semilla 11 0 >"$TMP/server.out" 2>"$TMP/server.err" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^Servidor rdt3 escuchando en el puerto \([0-9][0-9]*\)$/\1/p' "$TMP/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "rdt3_servidor did not print its port"

mapfile -t names < <(seq -f 'Nombre %g' 40)
printf 'Hola %s\n' "${names[@]}" >"$TMP/want"
start=$(date +%s)
timeout 60 "$client" -v --perdida 30 --semilla 5 --espera 50 127.0.0.1 "$port" "${names[@]}" \
    >"$TMP/client.out" 2>"$TMP/client.err" || fail "rdt3_cliente exited with $?"
cmp -s "$TMP/want" "$TMP/client.out" || fail "client: not every reply once, in order"
# The server prints as it delivers; its last line may trail the client's exit by a moment.
for _ in $(seq 50); do
    [ "$(sed 1d "$TMP/server.out" | wc -l)" -ge 40 ] && break
    sleep 0.1
done
sed 1d "$TMP/server.out" | cmp -s "$TMP/want" - || fail "server: not every name once, in order"
# The link really was lossy and the protocol really repaired it, both ways.
grep -q '^   x perdido a propósito$' "$TMP/client.err" || fail "client lost nothing"
grep -q '(reenvío [0-9]*)$' "$TMP/client.err" || fail "client never retransmitted"
grep -q 'x perdido a propósito: A ' "$TMP/server.err" || fail "server lost no ACK"
grep -q 'duplicado de seq [0-9]*: no se entrega' "$TMP/server.err" || fail "server saw no duplicate"
echo "ok: 40 names through 30% loss both ways, each once and in order, in $(( $(date +%s) - start )) s" \
    "($(grep -c 'reenvío' "$TMP/client.err") retransmissions," \
    "$(grep -c 'duplicado' "$TMP/server.err") duplicates detected)"

# A server that is there but silent (stopped): the client gives up after 10 sends.
kill -STOP "$pid"
timeout 20 "$client" --espera 50 127.0.0.1 "$port" Ana >"$TMP/silent.out" 2>&1
rc=$?
kill -CONT "$pid"
[ $rc -eq 1 ] || fail "silent server: exit $rc, not 1"
grep -q 'sin ACK para "Ana" tras 10 envíos: el servidor no contesta' "$TMP/silent.out" ||
    fail "silent server: no clear message"
echo "ok: a silent server: the client gives up after 10 sends"

kill "$pid"; wait "$pid" 2>/dev/null; pid=
timeout 20 "$client" 127.0.0.1 "$port" Ana >"$TMP/refused.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'nadie escucha en ese puerto' "$TMP/refused.out" ||
    fail "nobody listening: exit $rc, $(cat "$TMP/refused.out")"
echo "ok: nobody listening: said so at once"

"$client" --perdida 150 127.0.0.1 "$port" Ana >"$TMP/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q -- '150: valor no válido (de 0 a 100)' "$TMP/bad.out" ||
    fail "--perdida 150: exit $rc"
"$server" --semilla x >"$TMP/bad2.out" 2>&1
[ $? -eq 2 ] || fail "rdt3_servidor --semilla x: not exit 2"
"$client" --help | grep -q '^Uso: rdt3_cliente ' || fail "rdt3_cliente --help"
echo "ok: bad options refused with exit 2"
