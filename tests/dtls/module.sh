#!/usr/bin/env bash
# module.sh: OpenSSL only where DTLS is used. hola-server, hola-client, hola-compare and
# librudp.so need no libssl or libcrypto (ELF NEEDED; the DTLS module rudp-dtls.so does);
# a server and a client run without --secure never map them, with --secure they map
# the module and OpenSSL and still greet; a missing or broken module ends --secure with
# one clear line.
# Usage: module.sh HOLA_SERVER HOLA_CLIENT HOLA_COMPARE LIBRUDP_SO DTLS_MODULE
. "$(dirname "$0")/../hola/lib.sh"
COMPARE=${3:?usage: $0 HOLA_SERVER HOLA_CLIENT HOLA_COMPARE LIBRUDP_SO DTLS_MODULE}
LIBRUDP=${4:?} MODULE=${5:?}
unset HOLA_WRAP # /proc/PID/maps must be the program's own, not valgrind's
hola_init "$1" "$2"
export HOME="$TMP/home"
unset XDG_STATE_HOME
mkdir -p "$HOME"
command -v readelf >/dev/null || { echo "SKIP: readelf missing"; exit 77; }

ssl_re='lib(ssl|crypto)\.so'
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# 1. Linked: no OpenSSL but in the module.
for f in "$SERVER" "$CLIENT" "$COMPARE" "$LIBRUDP"; do
    needed "$f" >"$TMP/needed"
    [ -s "$TMP/needed" ] || fail "${f##*/}: readelf shows no NEEDED entry at all"
    if grep -Eq "$ssl_re" "$TMP/needed"; then
        fail "${f##*/} needs OpenSSL: $(tr '\n' ' ' <"$TMP/needed")"
    fi
done
needed "$MODULE" | grep -q '^libssl\.so' || fail "${MODULE##*/} does not need libssl"
nm -D --defined-only "$MODULE" | awk '$2 ~ /^[TDBR]$/ {print $3}' >"$TMP/modsyms"
[ "$(cat "$TMP/modsyms")" = rudp_dtls_module_v1 ] ||
    fail "${MODULE##*/} exports more than its table: $(tr '\n' ' ' <"$TMP/modsyms")"
ok "hola-server, hola-client, hola-compare, librudp.so need no OpenSSL; ${MODULE##*/} does, and exports its table alone"

# maps_of PID: the shared objects a running process has mapped.
maps_of() { awk '$6 ~ /\.so/ {print $6}' "/proc/$1/maps" | sort -u; }

# 2. Without --secure: nothing of DTLS in the server's or the client's process.
start_server plain -p udp
maps_of "$PID" >"$TMP/plain.maps"
grep -q 'libc\.so' "$TMP/plain.maps" || fail "the server's maps show no libc: $(cat "$TMP/plain.maps")"
if grep -Eq "$ssl_re|rudp-dtls" "$TMP/plain.maps"; then
    fail "hola-server without --secure maps: $(grep -E "$ssl_re|rudp-dtls" "$TMP/plain.maps")"
fi
LD_DEBUG=libs timeout 20 "$CLIENT" -p udp -P "$PORT" -H 127.0.0.1 ana >"$TMP/plain-c.out" \
    2>"$TMP/plain-c.debug" || fail "plain client exited with $?"
expect_eq "udp without --secure" "$TMP/plain-c.out" "Hola ana"
grep -q 'calling init' "$TMP/plain-c.debug" || fail "LD_DEBUG=libs printed nothing"
if grep -Eq "$ssl_re|rudp-dtls" "$TMP/plain-c.debug"; then
    fail "hola-client without --secure loads: $(grep -E "$ssl_re|rudp-dtls" "$TMP/plain-c.debug" | head -3)"
fi
kill -INT "$PID"
wait_exit "$PID" 10
ok "without --secure: neither server nor client loads the module or OpenSSL"

# 3. With --secure: the module and OpenSSL are loaded, and the greeting comes through.
psk=00112233445566778899aabbccddeeff
start_server sec -p udp --secure --psk "$psk"
maps_of "$PID" >"$TMP/sec.maps"
grep -q 'rudp-dtls\.so' "$TMP/sec.maps" || fail "hola-server --secure has not mapped the module"
grep -q 'libssl\.so' "$TMP/sec.maps" || fail "hola-server --secure has not mapped libssl"
LD_DEBUG=libs timeout 20 "$CLIENT" -p udp --secure --psk "$psk" -P "$PORT" -H 127.0.0.1 ana \
    >"$TMP/sec-c.out" 2>"$TMP/sec-c.debug" || fail "--secure client exited with $?"
expect_eq "udp --secure" "$TMP/sec-c.out" "Hola ana"
grep -q 'calling init: .*libssl\.so' "$TMP/sec-c.debug" || fail "hola-client --secure did not load libssl"
kill -INT "$PID"
wait_exit "$PID" 10
ok "with --secure: the module and OpenSSL are loaded, and the greeting comes back"

# 4. No module, or a file that is not one: one line, exit 2, before any socket.
rc=0
RUDP_DTLS_MODULE="$TMP/none.so" "$CLIENT" -p udp --secure --psk "$psk" -P 9 -H 127.0.0.1 ana \
    >"$TMP/none.out" 2>"$TMP/none.err" || rc=$?
[ "$rc" -eq 2 ] || fail "missing module: exit $rc, expected 2"
[ "$(wc -l <"$TMP/none.err")" -eq 1 ] || fail "missing module: more than one line"
grep -q "^hola-client: --secure needs the DTLS module (rudp-dtls.so, with OpenSSL 3): not found at $TMP/none.so" \
    "$TMP/none.err" || fail "missing module: message"
echo "not an ELF file" >"$TMP/bad.so"
rc=0
RUDP_DTLS_MODULE="$TMP/bad.so" "$SERVER" -p rudp --secure --psk "$psk" -P 0 \
    >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "broken module: exit $rc, expected 2"
grep -q "^hola-server: --secure needs the DTLS module (rudp-dtls.so, with OpenSSL 3): cannot load $TMP/bad.so: " \
    "$TMP/bad.err" || fail "broken module: message"
ok "a missing or broken module: one clear line, exit 2"
