#!/usr/bin/env bash
# e2e_i18n.sh: the programs speak Spanish under an es locale (--help, errors, the UDP
# summary) through gettext and this build's catalog, English under C; the practice's
# protocol lines ("Conectado a", "Hola <name>") are the same in both. hola-compare (the
# third argument) too: its --help, errors and table in Spanish, its CSV unchanged.
. "$(dirname "$0")/lib.sh"
hola_init "$@"
COMPARE=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT HOLA_COMPARE}
hola_es_env
echo "Spanish environment: ${HOLA_ES[*]}"
es() { env "${HOLA_ES[@]}" "$@"; }

# --help: both programs, whole sections translated; the options keep their names.
es "$CLIENT" --help >"$TMP/help-es.out" || fail "hola-client --help (es)"
head -n 1 "$TMP/help-es.out" | grep -qx 'Uso: hola-client \[OPCIÓN\]\.\.\. \[NOMBRE\]\.\.\.' ||
    fail "hola-client --help is not in Spanish"
for want in '^Opciones:$' '^Opciones de rudp (--proto rudp):$' '^Seguridad (udp y rudp):$' \
    '^Estado de salida:$' '--dead-timeout MS'; do
    grep -q -- "$want" "$TMP/help-es.out" || fail "hola-client --help (es) lacks /$want/"
done
grep -q -e '^Options:' -e 'show this help' "$TMP/help-es.out" && fail "English left in the Spanish --help"
es "$SERVER" --help >"$TMP/shelp-es.out" || fail "hola-server --help (es)"
head -n 1 "$TMP/shelp-es.out" | grep -qx 'Uso: hola-server \[OPCIÓN\]\.\.\.' ||
    fail "hola-server --help is not in Spanish"
ok "es: --help of both programs in Spanish"

# Errors: a bad option (exit 2) and a server that is not there (exit 1).
rc=0
es "$CLIENT" --bogus >/dev/null 2>"$TMP/bad.err" || rc=$?
[ $rc -eq 2 ] || fail "bad option: exit status $rc, expected 2"
expect_one_line "es: bad option" "$TMP/bad.err" \
    '^hola-client: opción desconocida --bogus \(ver hola-client --help\)$'
free_port udp
rc=0
es "$CLIENT" -p udp -H 127.0.0.1 -P "$FREE_PORT" Ana >/dev/null 2>"$TMP/unreach.err" || rc=$?
[ $rc -eq 1 ] || fail "no server: exit status $rc, expected 1"
expect_one_line "es: no server" "$TMP/unreach.err" \
    '^hola-client: servidor inalcanzable en 127\.0\.0\.1:[0-9]+ \(udp\): nada escucha en ese puerto'
ok "es: errors in Spanish: $(cat "$TMP/bad.err"); $(cat "$TMP/unreach.err")"

# The UDP summary is translated; the replies and the server's lines are not.
SERVER_STDOUT=$TMP/srv.out
start_server srv -p udp -b 127.0.0.1 --count 2
unset SERVER_STDOUT
es "$CLIENT" -p udp -H 127.0.0.1 -P "$PORT" Ana Ñandú >"$TMP/udp.out" 2>"$TMP/udp.err" ||
    fail "udp client (es)"
expect_one_line "es: udp summary" "$TMP/udp.err" \
    '^hola-client: udp: enviados 2, respondidos 2, perdidos 0$'
expect_eq "es: replies untranslated" "$TMP/udp.out" $'Hola Ana\nHola Ñandú'
wait_exit "$PID"
sort "$TMP/srv.out" >"$TMP/srv.sorted"
expect_eq "es: server's greetings untranslated" "$TMP/srv.sorted" $'Hola Ana\nHola Ñandú'
ok "es: UDP summary in Spanish, \"Hola <name>\" unchanged"

# English stays the default: LANG=C, also with LANGUAGE=es (the C locale ignores it).
for envs in "LANG=C LANGUAGE=" "LANG=C LANGUAGE=es" "LANG=C.UTF-8 LANGUAGE="; do
    # shellcheck disable=SC2086 # the words are the assignments
    env $envs "$CLIENT" --help | head -n 1 | grep -qx 'Usage: hola-client \[OPTION\]\.\.\. \[NAME\]\.\.\.' ||
        fail "$envs: --help is not in English"
    rc=0
    # shellcheck disable=SC2086
    env $envs "$CLIENT" --bogus 2>"$TMP/bad-en.err" || rc=$?
    expect_one_line "$envs: bad option" "$TMP/bad-en.err" \
        '^hola-client: unknown option --bogus \(see hola-client --help\)$'
done
ok "C: --help and errors in English"

# hola-compare: --help and errors in Spanish; the table's header and notes too, while the
# rows keep the options' words (tcp, lockstep, none) and the CSV, which scripts read, its
# English field names.
es "$COMPARE" --help >"$TMP/chelp-es.out" || fail "hola-compare --help (es)"
head -n 1 "$TMP/chelp-es.out" | grep -qx 'Uso: hola-compare \[OPCIÓN\]\.\.\.' ||
    fail "hola-compare --help is not in Spanish"
for want in '^Opciones:$' '^Estado de salida:$' '^Ejemplos:$' '--impair AJUSTE'; do
    grep -q -- "$want" "$TMP/chelp-es.out" || fail "hola-compare --help (es) lacks /$want/"
done
grep -q -e '^Options:' -e 'show this help' "$TMP/chelp-es.out" &&
    fail "English left in hola-compare's Spanish --help"
rc=0
es "$COMPARE" --impair los=10 >/dev/null 2>"$TMP/cbad.err" || rc=$?
[ $rc -eq 2 ] || fail "hola-compare bad setting: exit status $rc, expected 2"
expect_one_line "es: hola-compare bad setting" "$TMP/cbad.err" \
    "^hola-compare: --impair 'los=10': clave desconocida 'los' .*\\(ver hola-compare --help\\)\$"
es "$COMPARE" -q -n 3 --impair none --protos udp --lockstep >"$TMP/ctable.out" ||
    fail "hola-compare table (es) exited with $?"
head -n 1 "$TMP/ctable.out" | grep -q '^hola-compare: 3 nombres por corrida, en loopback' ||
    fail "hola-compare's first line is not in Spanish: $(head -n 1 "$TMP/ctable.out")"
sed -n 2p "$TMP/ctable.out" | grep -q '^protocolo  patrón  *degradación  entregados ' ||
    fail "hola-compare's header is not in Spanish: $(sed -n 2p "$TMP/ctable.out")"
grep -q '^udp  *lockstep  *none  *3/3 ' "$TMP/ctable.out" || fail "hola-compare's udp row"
es "$COMPARE" -q -n 3 --impair none --protos udp --lockstep --csv >"$TMP/ctable.csv" ||
    fail "hola-compare --csv (es) exited with $?"
head -n 1 "$TMP/ctable.csv" | grep -q '^protocol,pattern,impairment,names,delivered,lost,' ||
    fail "hola-compare's CSV header changed with the language: $(head -n 1 "$TMP/ctable.csv")"
ok "es: hola-compare's --help, errors and table in Spanish, its CSV unchanged"
