# Sourced by the lab tests. HOLA_LAB is the path of scripts/hola-lab (meson passes it).
# Each test: skips with exit 77 and one line saying why when the machine cannot run it,
# bounds every wait, and removes what it started on every exit path.
set -uo pipefail
PATH=$PATH:/usr/sbin:/sbin
HOLA_LAB=${HOLA_LAB:?HOLA_LAB must point to scripts/hola-lab}
TEST=${0##*/}

say() { printf '%s: %s\n' "$TEST" "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

# A scratch directory the lab's command can write to, even as user nobody.
work=$(mktemp -d "${TMPDIR:-/tmp}/hola-lab-test.XXXXXX") || fail "mktemp"
chmod 0777 "$work"
# A string unique to this test run: the processes it starts carry it so the test can
# tell whether any survived (sleep accepts fractional seconds).
MARK=3599.$$$RANDOM
bg_pids=()
lib_cleanup() {
    local p
    for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in $(marked_pids); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap lib_cleanup EXIT

# PIDs of processes whose command line contains MARK (processes this test started).
marked_pids() {
    local f
    for f in /proc/[0-9]*/cmdline; do
        # /proc entries vanish while we read: ignore errors.
        if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -- "$MARK"; then
            f=${f#/proc/}; echo "${f%%/*}"
        fi
    done
}

# as_user: a command prefix (an array, so timeout can run it) that, as root, runs what
# follows as user nobody (the unprivileged path); otherwise nothing.
as_user=()
[ "$(id -u)" -ne 0 ] || as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)

# lab_mode root|userns: how the test runs hola-lab; sets `run` (a command prefix) and `lab`
# (the hola-lab to run). root: the named-namespace path, as root (skips otherwise);
# userns: the unprivileged path, as user nobody when root, with a private copy of
# hola-lab that nobody can read wherever the source tree lives.
lab_mode() {
    lab=("$HOLA_LAB")
    case $1 in
        root)
            [ "$(id -u)" -eq 0 ] || skip "the root path needs root"
            run=() ;;
        userns)
            run=("${as_user[@]}")
            cp "$HOLA_LAB" "$work/hola-lab" && chmod 0755 "$work/hola-lab" || fail "copy hola-lab"
            lab=("$work/hola-lab") ;;
        *) fail "unknown mode $1" ;;
    esac
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
    local n=$(($1 * 10)); shift
    while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}

# wait_gone SECONDS PID: wait for a child to end; its status in $gone_rc.
wait_gone() {
    wait_for "$1" eval '! kill -0 '"$2"' 2>/dev/null' || return 1
    wait "$2"; gone_rc=$?
}

host_links() { ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' '; }

# check_no_leftovers NAME LINKS_BEFORE: no namespace of lab NAME, no process of this
# test, the same host interfaces as before, and the lab's temporary directory gone.
check_no_leftovers() {
    local name=$1 before=$2 left
    left=$(ip netns list 2>/dev/null | awk -v n="$name-" 'index($1, n) == 1 { print $1 }')
    [ -z "$left" ] || fail "namespaces left behind: $left"
    wait_for 3 test -z "$(marked_pids)" || fail "processes left behind: $(marked_pids | tr '\n' ' ')"
    [ "$(host_links)" = "$before" ] || fail "host interfaces changed: before [$before] after [$(host_links)]"
    if [ -f "$work/srv" ]; then
        [ ! -e "$(cat "$work/srv")" ] || fail "the lab's wrapper $(cat "$work/srv") is still there"
    fi
}
