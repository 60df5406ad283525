# lib.sh: helpers the end-to-end scripts source. Every server runs in the background
# with -P 0 --port-file (the kernel picks a free port: no two runs can fight over one),
# every wait is bounded, and the EXIT trap kills whatever is still running.
# Usage from a test: . lib.sh; hola_init "$@"   (arguments: hola-server hola-client)

set -u
. "$(dirname "${BASH_SOURCE[0]}")/../show_file.sh"

hola_init() {
    SERVER=${1:?usage: $0 HOLA_SERVER HOLA_CLIENT}
    CLIENT=${2:?usage: $0 HOLA_SERVER HOLA_CLIENT}
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/hola-test.XXXXXX")
    HOLA_PIDS=()
    trap hola_cleanup EXIT
    # English messages (the default) whatever the caller's locale; tests that check the
    # Spanish ones set hola_es_env's variables themselves.
    export LC_ALL= LC_MESSAGES= LANG=C.UTF-8 LANGUAGE=
    # HOLA_WRAP, a valgrind command line (scripts/test.sh): every server and client runs
    # under it, its report in $TMP/valgrind.PID.log, failed like a sanitizer's below.
    if [ -n "${HOLA_WRAP:-}" ]; then
        SERVER=$(hola_wrap "$SERVER") CLIENT=$(hola_wrap "$CLIENT")
    fi
}

# hola_wrap PROGRAM: writes a script that runs PROGRAM under $HOLA_WRAP; prints its path.
hola_wrap() {
    local w="$TMP/wrap/${1##*/}" # the same name: messages and tests quote it
    mkdir -p "$TMP/wrap"
    printf '#!/usr/bin/env bash\nexec %s --log-file=%q %q "$@"\n' \
        "$HOLA_WRAP" "$TMP/valgrind.%p.log" "$1" >"$w"
    chmod +x "$w"
    echo "$w"
}

hola_cleanup() {
    local p
    for p in "${HOLA_PIDS[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    for p in "${HOLA_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    # A sanitizer report in any program's stderr fails the test, even from a server that
    # was killed here and whose exit status nobody checks.
    local bad
    bad=$(grep -l -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' \
        "$TMP"/*.err 2>/dev/null)
    local f
    for f in "$TMP"/valgrind.*.log; do
        [ -s "$f" ] && bad="$bad $f"
    done
    if [ -n "$bad" ]; then
        echo "FAIL: sanitizer or valgrind report in ${bad//$TMP\//}" >&2
        cat $bad >&2
        rm -rf "$TMP"
        exit 1
    fi
    rm -rf "$TMP"
}

fail() {
    echo "FAIL: $*" >&2
    local f
    for f in "$TMP"/*.out "$TMP"/*.err; do
        [ -s "$f" ] || continue
        show_file "$f" 1000 3000
    done
    exit 1
}

ok() { echo "ok: $*"; }

# start_server TAG [OPTIONS...]: starts hola-server, waits (at most 10 s) for its port
# file; sets PORT and PID. Output goes to $TMP/TAG.out (or $SERVER_STDOUT when set) and
# $TMP/TAG.err.
start_server() {
    local tag=$1; shift
    rm -f "$TMP/$tag.port"
    "$SERVER" -P 0 --port-file "$TMP/$tag.port" "$@" >"${SERVER_STDOUT:-$TMP/$tag.out}" \
        2>"$TMP/$tag.err" &
    PID=$!
    HOLA_PIDS+=("$PID")
    local i
    for i in $(seq 100); do
        if [ -s "$TMP/$tag.port" ]; then
            PORT=$(cat "$TMP/$tag.port")
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || fail "$tag: server exited before listening"
        sleep 0.1
    done
    fail "$tag: server did not write its port file within 10 s"
}

# wait_exit PID [SECONDS]: waits (bounded) for a process to end; sets STATUS.
wait_exit() {
    local pid=$1 secs=${2:-10} i
    for i in $(seq $((secs * 20))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "process $pid still running after ${secs} s"
    fi
    STATUS=0
    wait "$pid" || STATUS=$?
}

# free_port PROTO: a port nothing listens on: a server is started on a kernel-chosen port
# and stopped again, so the port was free a moment ago and is free now.
free_port() {
    start_server "free-$1" -p "$1"
    local pid=$PID
    kill "$pid"
    wait_exit "$pid" 5
    FREE_PORT=$PORT
}

# expect_eq WHAT FILE EXPECTED_TEXT
expect_eq() {
    local what=$1 file=$2 want=$3
    if [ "$(cat "$file")" != "$want" ]; then
        echo "expected:" >&2; printf '%s\n' "$want" >&2
        echo "got:" >&2; cat "$file" >&2
        fail "$what"
    fi
}

# expect_one_line WHAT FILE PATTERN: FILE holds exactly one line, matching PATTERN (grep -E).
expect_one_line() {
    local what=$1 file=$2 pattern=$3
    [ "$(wc -l <"$file")" -eq 1 ] || fail "$what: expected one line on stderr"
    grep -Eq -- "$pattern" "$file" || fail "$what: stderr does not match /$pattern/"
}

# hola_es_env: sets HOLA_ES to the environment (for env(1)) that makes the programs speak
# Spanish: LANG=es_MX.UTF-8 where that locale exists (scripts/setup.sh makes it as root),
# else C.UTF-8 with LANGUAGE=es (glibc honours LANGUAGE in any locale but C/POSIX).
hola_es_env() {
    if locale -a 2>/dev/null | grep -qix 'es_MX\.utf-\?8'; then
        HOLA_ES=(LANG=es_MX.UTF-8 LANGUAGE=)
    else
        HOLA_ES=(LANG=C.UTF-8 LANGUAGE=es)
    fi
}

# The names the practice uses, plus one with the letter ñ twice over.
NAMES=("Julián Alcibar Zubillaga" "Yanina De Luna Ocampo" "Jacob Salinas Velázquez" "Ñandú")
