#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/test.sh - install what is missing, build, and run every test:
#   1. release build with -Werror (gcc): every suite
#   1b. the Python package: a venv (BUILD_ROOT/venv), pip install ./python
#      and the test requirements, ruff, then the pytest suites against
#      real shmetricsd, Sanic, gunicorn and uvicorn processes
#   2. ASan+UBSan build: every suite
#   3. TSan build: the concurrency suites (ctest label "tsan")
#   4. valgrind memcheck: the daemon suites (ctest label "valgrind") again on
#      the release build, every shmetricsd they start running under memcheck;
#      any memory error or definite/indirect leak in any of them fails
#   5. libFuzzer build (clang): every fuzz target for a bounded time
# Each stage prints how long it took.
#
# Usage: tools/test.sh [--quick] [--fuzz-seconds N] [--jobs N]
#   --quick           stages 1 and 1b only
#   --fuzz-seconds N  time per fuzz target (default 60)
#   --jobs N          parallel build and test jobs (default: number of CPUs)
# Environment: BUILD_ROOT (default ./build) holds one directory per stage
# (no spaces in it: the valgrind command line is split at spaces).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
QUICK=0
FUZZ_SECONDS=60
JOBS=$(nproc 2>/dev/null || echo 2)

usage() { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --fuzz-seconds) FUZZ_SECONDS=${2:?}; shift ;;
    --jobs) JOBS=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=tools/deps.sh
. "$ROOT/tools/deps.sh"
shmet_install_deps

STAGE_T0=$SECONDS
STAGE_NAME=""
# stage <name>: end the stage before (printing its time), start this one.
stage() {
    [ -n "$STAGE_NAME" ] && printf '==== %s: %ds ====\n' "$STAGE_NAME" $((SECONDS - STAGE_T0))
    STAGE_NAME=$*
    STAGE_T0=$SECONDS
    printf '\n==== %s ====\n' "$*"
}

# build <dir> <cmake args...>
build() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DSHMETRICS_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
}

run_ctest() {
    local dir=$1
    shift
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@"
}

stage "release build, all suites"
build "$BUILD_ROOT/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest "$BUILD_ROOT/release" -LE fuzz

stage "Python package: pip install ./python, ruff, pytest"
VENV=$BUILD_ROOT/venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r python/tests/requirements.txt
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./python
"$VENV/bin/ruff" check python examples tests tools bench
(cd python && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests)

if [ "$QUICK" = 1 ]; then
    stage "quick run passed (in ${SECONDS}s)"
    echo "test.sh: --quick: sanitizer, valgrind and fuzz stages skipped"
    exit 0
fi

stage "ASan+UBSan build, all suites"
build "$BUILD_ROOT/asan" -DCMAKE_BUILD_TYPE=Debug -DSHMETRICS_ASAN=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest "$BUILD_ROOT/asan" -LE fuzz

stage "TSan build, concurrency suites"
build "$BUILD_ROOT/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMETRICS_TSAN=ON
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_ctest "$BUILD_ROOT/tsan" -L tsan

# The logs of every daemon memcheck ran: each must end with no error (a
# leak of the kinds asked for counts as one); a daemon that never reached
# its summary (killed, or hung at exit) fails too.
vg_check_logs() {
    local dir=$1 n=0 bad=0 f
    for f in "$dir"/shmetricsd.*.log; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
            echo "valgrind: $f:" >&2
            cat "$f" >&2
            bad=1
        fi
    done
    if [ "$n" -eq 0 ]; then
        echo "valgrind: no shmetricsd ran under memcheck" >&2
        return 1
    fi
    echo "valgrind: $n shmetricsd runs under memcheck, $([ $bad = 0 ] && echo "no errors, no leaks" || echo "some FAILED")"
    return $bad
}

stage "valgrind memcheck: shmetricsd under the daemon suites"
VG_LOGS=$BUILD_ROOT/valgrind
rm -rf "$VG_LOGS"
mkdir -p "$VG_LOGS"
SHMETRICS_DAEMON_WRAPPER="valgrind --tool=memcheck --leak-check=full \
--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
--log-file=$VG_LOGS/shmetricsd.%p.log" run_ctest "$BUILD_ROOT/release" -L valgrind
vg_check_logs "$VG_LOGS"

stage "libFuzzer build, fuzz targets for ${FUZZ_SECONDS}s each"
CC=clang build "$BUILD_ROOT/fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMETRICS_FUZZ=ON \
    -DSHMETRICS_FUZZ_SECONDS="$FUZZ_SECONDS"
run_ctest "$BUILD_ROOT/fuzz" -L fuzz -j 1

stage "all stages passed (in ${SECONDS}s)"
