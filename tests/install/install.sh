#!/usr/bin/env bash
# install.sh: an outside program builds against the installed librudp. Installs the build
# into a temporary directory (meson install --destdir), checks the layout, compiles
# examples/echo_server.c, echo_client.c and engine_demo.c with nothing but
# `pkg-config --cflags --libs rudp` (no path into this source tree), runs them against the
# installed shared library, checks that the library exports only rudp_* symbols, and
# that OpenSSL is needed by the DTLS module alone (libdir/rudp/), on which --secure runs.
# Usage: install.sh MESON BUILDDIR SOURCEDIR [SANITIZE]
#   SANITIZE: the build's b_sanitize (a sanitized library needs its runtime in the program)
set -u
meson=$1 build=$2 src=$3 sanitize=${4:-none}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rudp-install.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config missing"; exit 77; }
cc=${CC:-cc}
san=()
[ "$sanitize" = none ] || san=("-fsanitize=$sanitize")

dest=$TMP/dest
# --no-rebuild: meson test has built everything already, and a rebuild from inside a test
# would race with the build that runs it.
"$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "meson install failed"; }

# ---- the layout
pc=$(find "$dest" -name rudp.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "no pkgconfig/rudp.pc installed"
libdir=$(dirname "$(dirname "$pc")")         # $dest/PREFIX/lib[/triplet]
prefix=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix rudp)
root=$dest$prefix
for f in bin/hola-server bin/hola-client bin/hola-compare bin/hola-lab bin/hola-lab-vm; do
    [ -x "$root/$f" ] || fail "$f not installed, or not executable"
done
for h in rudp.h conn.h dtls.h error.h export.h impair.h listen.h prng.h random.h sim.h sock.h wire.h; do
    [ -f "$root/include/rudp/$h" ] || fail "include/rudp/$h not installed"
done
for m in man1/hola-server.1 man1/hola-client.1 man1/hola-compare.1 man1/hola-lab.1 man3/rudp.3; do
    [ -f "$root/share/man/$m" ] || fail "share/man/$m not installed"
done
# The Spanish catalog and pages, when this build made a catalog (msgfmt was there). Under
# --destdir the programs cannot find their localedir: HOLA_LOCALEDIR points them to it.
if [ -f "$build/po/es/LC_MESSAGES/hola.mo" ]; then
    for f in locale/es/LC_MESSAGES/hola.mo man/es/man1/hola-server.1 man/es/man1/hola-client.1 man/es/man1/hola-compare.1; do
        [ -f "$root/share/$f" ] || fail "share/$f not installed"
    done
    if locale -a 2>/dev/null | grep -qix 'es_MX\.utf-\?8'; then es=(LANG=es_MX.UTF-8 LANGUAGE=)
    else es=(LANG=C.UTF-8 LANGUAGE=es); fi
    first=$(env LC_ALL= "${es[@]}" HOLA_LOCALEDIR="$root/share/locale" "$root/bin/hola-client" --help |
        head -n 1)
    [ "${first%% *}" = Uso: ] || fail "installed hola-client --help not in Spanish: $first"
fi
[ -f "$libdir/librudp.a" ] || fail "librudp.a not installed"
[ -L "$libdir/librudp.so" ] || fail "librudp.so (the link for -lrudp) not installed"
soname=$(readelf -d "$libdir/librudp.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = librudp.so.0 ] || fail "soname is '$soname', not librudp.so.0"
[ -e "$libdir/$soname" ] || fail "$soname not installed"
# DTLS: its module beside the library, the only installed binary that needs OpenSSL.
if [ -e "$build/src/rudp/dtls/rudp-dtls.so" ]; then
    module=$libdir/rudp/rudp-dtls.so
    [ -f "$module" ] || fail "the DTLS module is not installed as ${module#"$dest"}"
    readelf -d "$module" | grep -q 'NEEDED.*\[libssl\.so' || fail "rudp-dtls.so does not need libssl"
fi
for f in "$libdir/$soname" "$root/bin/hola-server" "$root/bin/hola-client" "$root/bin/hola-compare"; do
    if readelf -d "$f" | grep -Eq 'NEEDED.*\[lib(ssl|crypto)\.so'; then
        fail "${f#"$dest"} needs OpenSSL (only rudp-dtls.so should)"
    fi
done
echo "ok: layout under $prefix (soname $soname)"
(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)

# ---- only the public API is exported
nm -D --defined-only "$libdir/librudp.so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort >"$TMP/syms"
[ -s "$TMP/syms" ] || fail "the shared library exports nothing"
if grep -v '^rudp_' "$TMP/syms" >"$TMP/extra"; then
    fail "exported symbols outside rudp_*: $(tr '\n' ' ' <"$TMP/extra")"
fi
# Every exported function is declared in an installed header, and the reverse.
cat "$root"/include/rudp/*.h | grep -o 'RUDP_API[^(]*(' | grep -o 'rudp_[a-z0-9_]*($' |
    tr -d '(' | sort -u >"$TMP/declared"
diff "$TMP/declared" "$TMP/syms" >"$TMP/symdiff" ||
    fail "headers (<) and exported symbols (>) differ: $(cat "$TMP/symdiff")"
echo "ok: $(wc -l <"$TMP/syms") symbols exported, all rudp_* and all declared with RUDP_API"

# ---- pkg-config alone
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
unset PKG_CONFIG_LIBDIR
flags=$(pkg-config --cflags --libs rudp) || fail "pkg-config --cflags --libs rudp failed"
echo "ok: pkg-config --cflags --libs rudp: $flags"
case " $flags " in *"$src"*) fail "pkg-config points into the source tree" ;; esac

# Each public header compiles on its own, in strict C11 (and C++ where g++ exists).
for h in "$root"/include/rudp/*.h; do
    name=rudp/$(basename "$h")
    # shellcheck disable=SC2086
    printf '#include <%s>\nint main(void) { return 0; }\n' "$name" |
        "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -x c - $(pkg-config --cflags rudp) \
            -fsyntax-only || fail "$name does not compile alone"
    if command -v g++ >/dev/null; then
        # shellcheck disable=SC2086
        printf '#include <%s>\nint main() { return 0; }\n' "$name" |
            g++ -std=c++11 -Wall -Wextra -Werror -x c++ - $(pkg-config --cflags rudp) \
                -fsyntax-only || fail "$name does not compile as C++"
    fi
done
echo "ok: every header compiles alone (C11$(command -v g++ >/dev/null && echo ', C++11'))"

# The examples, from a copy outside both trees, with the pkg-config flags and nothing else.
mkdir -p "$TMP/app"
for ex in echo_server echo_client engine_demo; do
    cp "$src/examples/$ex.c" "$TMP/app/"
    # shellcheck disable=SC2086
    (cd "$TMP/app" && "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${san[@]}" -o "$ex" "$ex.c" $flags) ||
        fail "$ex.c does not build against the installed library"
    readelf -d "$TMP/app/$ex" | grep -q "NEEDED.*\[librudp.so.0\]" ||
        fail "$ex is not linked against librudp.so.0"
done
# shellcheck disable=SC2086
(cd "$TMP/app" && "$cc" -std=c11 "${san[@]}" -o engine_demo_static engine_demo.c \
    $(pkg-config --cflags rudp) "$libdir/librudp.a") || fail "engine_demo does not link statically"
echo "ok: examples built with pkg-config alone (shared) and against librudp.a"

# ---- run them on the installed shared library
export LD_LIBRARY_PATH=$libdir
"$TMP/app/engine_demo" 20 1 5 >"$TMP/demo.out" 2>&1 || fail "engine_demo exited $?: $(tail -3 "$TMP/demo.out")"
grep -q '^5 of 5 replies, in order: yes; client closed: cleanly' "$TMP/demo.out" ||
    fail "engine_demo: no clean summary"
"$TMP/app/engine_demo_static" 20 1 5 | cmp -s - "$TMP/demo.out" ||
    fail "engine_demo static and shared differ"
echo "ok: engine_demo runs on the installed library"

timeout 30 "$TMP/app/echo_server" 0 1 >"$TMP/server.out" 2>&1 &
spid=$!
pids+=("$spid")
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^echo_server listening on port \([0-9][0-9]*\)$/\1/p' "$TMP/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "echo_server did not print its port: $(cat "$TMP/server.out")"
timeout 20 "$TMP/app/echo_client" 127.0.0.1 "$port" uno dos tres >"$TMP/client.out" 2>&1 ||
    fail "echo_client exited $?: $(cat "$TMP/client.out")"
printf 'echo: uno\necho: dos\necho: tres\n3 of 3 messages echoed\n' | cmp -s - "$TMP/client.out" ||
    fail "echo_client output: $(cat "$TMP/client.out")"
wait "$spid" || fail "echo_server exited $?"
echo "ok: echo_server and echo_client run on the installed library"

# ---- --secure with the installed module (named outright: under --destdir the programs
# cannot find their libdir)
if [ -n "${module:-}" ]; then
    psk=00112233445566778899aabbccddeeff
    RUDP_DTLS_MODULE=$module timeout 30 "$root/bin/hola-server" -p udp --secure --psk "$psk" \
        -P 0 --port-file "$TMP/sec.port" --count 1 >"$TMP/sec-server.out" 2>&1 &
    spid=$!
    pids+=("$spid")
    for _ in $(seq 100); do
        [ -s "$TMP/sec.port" ] && break
        sleep 0.1
    done
    [ -s "$TMP/sec.port" ] || fail "installed hola-server --secure did not start: $(cat "$TMP/sec-server.out")"
    RUDP_DTLS_MODULE=$module timeout 20 "$root/bin/hola-client" -p udp --secure --psk "$psk" \
        -P "$(cat "$TMP/sec.port")" -H 127.0.0.1 ana >"$TMP/sec-client.out" 2>"$TMP/sec-client.err" ||
        fail "installed hola-client --secure exited $?: $(cat "$TMP/sec-client.err")"
    [ "$(cat "$TMP/sec-client.out")" = "Hola ana" ] ||
        fail "installed hola-client --secure: $(cat "$TMP/sec-client.out")"
    wait "$spid" || fail "installed hola-server --secure exited $?"
    echo "ok: --secure runs on the installed DTLS module"
fi

# ---- the man pages are found by man from the installed tree
if command -v man >/dev/null; then
    for p in hola-server hola-client hola-compare hola-lab rudp; do
        MANPATH=$root/share/man MANWIDTH=80 man "$p" 2>/dev/null | grep -q '^NAME' ||
            fail "man $p does not show the installed page"
    done
    echo "ok: man shows every installed page"
fi
