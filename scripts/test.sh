#!/usr/bin/env bash
# The whole test suite from a fresh Debian/Ubuntu machine: installs what is missing,
# builds, runs `meson test`, then again under AddressSanitizer and UBSan (but for the VM
# test, suite vm: one boot is enough), then the end-to-end tests under valgrind memcheck,
# then each libFuzzer target for a minute (scripts/fuzz.sh); and the format and lint
# checks (scripts/format.sh, scripts/lint.sh).
# Usage: scripts/test.sh [--quick] [meson test arguments...]
#   --quick   skip the sanitizer build, valgrind, the fuzzers and lint
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi

need_build_tools
need pc:cmocka libcmocka-dev
need pc:openssl libssl-dev
need nc netcat-openbsd
need ip iproute2
need nft nftables
need ping iputils-ping
need script bsdutils
need tshark tshark
need groff groff-base
need_es_locale
# tests/lab/lab-vm.sh: the lab under real netem in a VM (Debian's kernel, fetched by
# scripts/hola-lab-vm with apt-get download into build/vm/).
need qemu-system-x86_64 qemu-system-x86
need busybox busybox-static
need xz xz-utils
if [ $quick -eq 0 ]; then
    # scripts/fuzz.sh: clang links -fsanitize=fuzzer only with libFuzzer's runtime, which
    # Debian/Ubuntu ship in libclang-rt-N-dev, merely recommended by clang.
    need clang clang
    need valgrind valgrind
    need clang-format clang-format
    need clang-tidy clang-tidy
    need cppcheck cppcheck
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' |
        clang -x c - -fsanitize=fuzzer -o /dev/null 2>/dev/null || need libFuzzer libclang-rt-dev
fi
install_missing
ensure_es_locale

total_ok=0 total_fail=0 total_skip=0
run_suite() {
    local dir=$1; shift
    local rc=0
    meson test -C "$dir" --print-errorlogs "$@" || rc=$?
    # meson prints its own summary; add up its counts for the closing line. The log is
    # the newest one: with --wrapper meson writes testlog-<wrapper>.txt instead.
    local log
    log=$(ls -t "$dir"/meson-logs/testlog*.txt 2>/dev/null | head -n 1)
    if [ -f "$log" ]; then
        local ok fail skip
        ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -n1)
        fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$log")
        skip=$(awk '/^Skipped:/ {print $2}' "$log" | tail -n1)
        total_ok=$((total_ok + ${ok:-0}))
        total_fail=$((total_fail + ${fail:-0}))
        total_skip=$((total_skip + ${skip:-0}))
    fi
    return $rc
}

status=0
configure_build build -Dtests=enabled
run_suite build "$@" || status=1

# One count each in the closing line: the tree is formatted, and lint finds nothing.
check() {
    if "$@"; then total_ok=$((total_ok + 1)); else total_fail=$((total_fail + 1)); status=1; fi
}
if [ $quick -eq 0 ]; then
    check bash scripts/format.sh --check
    check bash scripts/lint.sh build
fi

if [ $quick -eq 0 ]; then
    configure_build build-sanitize -Dtests=enabled -Db_sanitize=address,undefined -Db_lundef=false
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_suite build-sanitize --no-suite vm "$@" || status=1

    # valgrind memcheck over the end-to-end tests (about 5 minutes on 2 cores): the socket
    # driver's and the hostile network's test programs directly, the CLI scripts through
    # HOLA_WRAP (tests/hola/lib.sh runs every hola-server and hola-client under it and
    # fails on any report). Any error or definite leak fails. A smaller flood spread over
    # more time: valgrind's programs are some 20x slower.
    vg="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
    vg="$vg --show-leak-kinds=definite -q"
    HOSTILE_DATAGRAMS=20000 run_suite build --wrapper "$vg" --timeout-multiplier 3 \
        sock 'sock ipv6' hostile || status=1
    HOLA_WRAP="$vg" HOSTILE_DATAGRAMS=20000 HOSTILE_SPREAD_MS=10000 \
        run_suite build --timeout-multiplier 3 --num-processes 2 \
        'hola e2e tcp' 'hola e2e udp' 'hola e2e ipv6' 'hola e2e errors' 'hola e2e rudp' \
        'hola e2e rudp_dead' 'hola e2e rudp_many' 'hostile cli' 'hostile tcp' \
        'hostile many_fds' 'hostile reflection' 'hostile stalled_stdout' \
        'hostile forged icmp' 'hostile no-ack peer' || status=1

    # Every fuzz target for FUZZ_TIME seconds (default 60); one count per target.
    rm -f build-fuzz/fuzz-results
    fuzz_rc=0
    bash scripts/fuzz.sh || fuzz_rc=$?
    if [ $fuzz_rc -eq 77 ]; then
        total_skip=$((total_skip + 1))
    else
        read -r f_ok f_fail _ <build-fuzz/fuzz-results 2>/dev/null || f_ok=0 f_fail=0
        [ $fuzz_rc -eq 0 ] || { status=1; [ "$f_fail" -gt 0 ] || f_fail=1; }
        total_ok=$((total_ok + f_ok)) total_fail=$((total_fail + f_fail))
    fi
fi

echo "tests: $total_ok passed, $total_fail failed, $total_skip skipped"
exit $status
