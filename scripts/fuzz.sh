#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan, UBSan, LeakSanitizer) in
# build-fuzz and runs each for a bounded time. Fails on any crash, failed check, leak,
# sanitizer report or slow input; a crashing input is left in build-fuzz/artifacts.
# Exits 77 (skipped) when clang or its libFuzzer runtime is missing, saying what to install.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--merge] [TARGET...]
#   --time S   seconds per target (default: $FUZZ_TIME, else 60)
#   --merge    afterwards, add the inputs that found new coverage to tests/fuzz/corpus
#   TARGET     wire, conn, listen, linebuf (default: all)
# Environment: FUZZ_TIME, FUZZ_BUILD (build directory, default build-fuzz),
#   FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2"), FUZZ_SEED (libFuzzer's
#   -seed, default 1: runs from the same corpus follow the same path).
# A crash is replayed with: build-fuzz/tests/fuzz/fuzz_TARGET build-fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

time_per=${FUZZ_TIME:-60}
merge=0
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        --time) time_per=$2; shift 2 ;;
        --time=*) time_per=${1#--time=}; shift ;;
        --merge) merge=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(wire conn listen linebuf)
case $time_per in ''|*[!0-9]*) echo "fuzz: --time takes whole seconds" >&2; exit 2 ;; esac
build=${FUZZ_BUILD:-build-fuzz}

# Debian and Ubuntu ship libFuzzer's runtime in libclang-rt-N-dev, which clang only
# recommends: a clang installed with --no-install-recommends cannot link -fsanitize=fuzzer.
skip() {
    echo "fuzz: skipped: $1" >&2
    echo "fuzz: install with: sudo apt-get install -y clang libclang-rt-dev" >&2
    exit 77
}
command -v clang >/dev/null 2>&1 || skip "clang is not installed"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$probe/probe.c"
clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>"$probe/err" ||
    skip "clang cannot link -fsanitize=fuzzer (no libFuzzer runtime): $(head -n1 "$probe/err")"

# Only the fuzz targets are compiled, so the rest of the tree may be mid-edit.
setup_args=(-Dtests=enabled -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false
            -Dbuildtype=debugoptimized)
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" "${setup_args[@]}" >/dev/null
else
    CC=clang meson setup "$build" "${setup_args[@]}" >/dev/null
fi || { echo "fuzz: meson setup $build failed" >&2; exit 1; }
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
ninja -C "$build" "${exes[@]}" >/dev/null || ninja -C "$build" "${exes[@]}" ||
    { echo "fuzz: build failed" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

ok=0 failed=0
summary=()
for t in "${targets[@]}"; do
    exe=$build/tests/fuzz/fuzz_$t
    seeds=tests/fuzz/corpus/$t
    work=$build/corpus/$t   # new inputs go here; the checked-in corpus is only read
    arts=$build/artifacts/$t
    log=$build/fuzz-$t.log
    mkdir -p "$work" "$arts"
    echo "fuzz: $t for ${time_per}s"
    rc=0
    # shellcheck disable=SC2086
    # A fixed seed (FUZZ_SEED, default 1) makes a run from the checked-in corpus on one
    # machine take the same path every time. Another machine may still go elsewhere (CI
    # once failed at run 44,183 where the same seed here passed 174,444 runs), so a
    # change to the engine deserves longer runs from other seeds before it lands.
    "$exe" -seed="${FUZZ_SEED:-1}" -max_total_time="$time_per" -detect_leaks=1 -timeout=30 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
        -artifact_prefix="$arts/" ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1 || rc=$?
    runs=$(awk -F: '/stat::number_of_executed_units/ {gsub(/ /, "", $NF); print $NF}' "$log" | tail -n1)
    rate=$(awk -F: '/stat::average_exec_per_sec/ {gsub(/ /, "", $NF); print $NF}' "$log" | tail -n1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n1 | grep -oE 'cov: [0-9]+' || true)
    if [ $rc -eq 0 ]; then
        ok=$((ok + 1))
        summary+=("fuzz: $t ok: ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-cov: ?}")
    else
        failed=$((failed + 1))
        summary+=("fuzz: $t FAILED (exit $rc) after ${runs:-?} runs: see $log and $arts/")
        # The report: the failed check or the sanitizer's, with its stack.
        grep -E 'invariant failed|ERROR: |runtime error|SUMMARY|Test unit written' "$log" | head -n 20 >&2 || true
        sed -n '/==ERROR\|invariant failed/,/^$/p' "$log" | head -n 40 >&2 || true
    fi
    if [ $merge -eq 1 ] && [ $rc -eq 0 ]; then
        before=$(find "$seeds" -type f | wc -l)
        "$exe" -merge=1 -max_len=4096 "$seeds" "$work" >>"$log" 2>&1 ||
            echo "fuzz: merge for $t failed, see $log" >&2
        echo "fuzz: $t corpus: $before -> $(find "$seeds" -type f | wc -l) files"
    fi
done

printf '%s\n' "${summary[@]}"
echo "fuzz: $ok passed, $failed failed"
echo "$ok $failed 0" >"$build/fuzz-results"
[ $failed -eq 0 ]
