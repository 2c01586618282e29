#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/test.sh - install what is missing, build, and run every test:
#   1. release build with -Werror (gcc): every suite
#   2. ASan+UBSan build: every suite
#   3. TSan build: the concurrency suites (ctest label "tsan")
#   4. libFuzzer build (clang): every fuzz target for a bounded time
#
# Usage: tools/test.sh [--quick] [--fuzz-seconds N] [--jobs N]
#   --quick           stage 1 only
#   --fuzz-seconds N  time per fuzz target (default 30)
#   --jobs N          parallel build and test jobs (default: number of CPUs)
# Environment: BUILD_ROOT (default ./build) holds one directory per stage.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
QUICK=0
FUZZ_SECONDS=30
JOBS=$(nproc 2>/dev/null || echo 2)

usage() { sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; }

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

stage() { printf '\n==== %s ====\n' "$*"; }

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

if [ "$QUICK" = 1 ]; then
    echo "test.sh: --quick: sanitizer and fuzz stages skipped"
    exit 0
fi

stage "ASan+UBSan build, all suites"
build "$BUILD_ROOT/asan" -DCMAKE_BUILD_TYPE=Debug -DSHMETRICS_ASAN=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest "$BUILD_ROOT/asan" -LE fuzz

stage "TSan build, concurrency suites"
build "$BUILD_ROOT/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMETRICS_TSAN=ON
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_ctest "$BUILD_ROOT/tsan" -L tsan

stage "libFuzzer build, fuzz targets for ${FUZZ_SECONDS}s each"
CC=clang build "$BUILD_ROOT/fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMETRICS_FUZZ=ON \
    -DSHMETRICS_FUZZ_SECONDS="$FUZZ_SECONDS"
run_ctest "$BUILD_ROOT/fuzz" -L fuzz -j 1

stage "all stages passed"
