#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/python-load.sh - the Python server benchmarks of shmetrics:
#   sanic:    a 2-worker Sanic app under wrk with no metrics, an empty
#             request/response middleware pair, shmetrics.sanic.instrument,
#             and prometheus_client multiprocess middleware (the same seven
#             metrics, labels() per call, /metrics through
#             MultiProcessCollector); interleaved runs, median requests/s and
#             the servers' CPU per request from /proc
#   restarts: scrape time after 10 and after N gunicorn worker restarts
#             (--max-requests 1 churn), prometheus_client multiprocess against
#             shmetrics
# Installs what it needs (wrk from Debian, a venv with the package, Sanic,
# gunicorn, prometheus_client) and prints BENCH <name> <value> <unit> lines.
# Nothing here passes or fails on speed.
#
# Usage: bench/python-load.sh [--quick] [--seconds S] [--rounds N]
#                                   [--restarts N] [--only sanic|restarts]
#                                   [--no-install] [--help]
#   --quick       2 s runs, 3 rounds, 200 restarts (about a minute and a half)
#   --seconds S   seconds per wrk run (default 10)
#   --rounds N    interleaved rounds over the four servers (default 5)
#   --restarts N  the second restart count (default 1000)
#   --only WHAT   run one of the two benchmarks
#   --no-install  use the venv and wrk as they are
# Environment: BUILD_ROOT (default ./build); the venv is $BUILD_ROOT/bench-venv.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
VENV=$BUILD_ROOT/bench-venv
SECONDS_PER_RUN=10
ROUNDS=5
RESTARTS=1000
ONLY=""
INSTALL=1

usage() { sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) SECONDS_PER_RUN=2; ROUNDS=3; RESTARTS=200 ;;
    --seconds) SECONDS_PER_RUN=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --restarts) RESTARTS=${2:?}; shift ;;
    --only)
        ONLY=${2:?}; shift
        case "$ONLY" in sanic | restarts) ;; *) usage >&2; exit 2 ;; esac
        ;;
    --no-install) INSTALL=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-python-load.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$INSTALL" = 1 ]; then
    # shellcheck source=tools/deps.sh
    . "$ROOT/tools/deps.sh"
    shmet_install_deps wrk python3-venv
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check sanic gunicorn prometheus-client
    "$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./python
fi
[ -x "$VENV/bin/python" ] || { echo "bench-python-load.sh: no venv at $VENV" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-python-load.sh: wrk is missing" >&2; exit 1; }

PY=$VENV/bin/python
# Run from outside the source tree, so that the installed package is imported.
RUN_DIR=$(mktemp -d)
trap 'rm -rf "$RUN_DIR"' EXIT
cd "$RUN_DIR"
echo "# $("$PY" -c 'import sys; print("python", sys.version.split()[0])'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(nproc) CPUs"
if [ -z "$ONLY" ] || [ "$ONLY" = sanic ]; then
    echo "# $PY -m shmetrics._bench_load sanic --seconds $SECONDS_PER_RUN --rounds $ROUNDS"
    "$PY" -m shmetrics._bench_load sanic --seconds "$SECONDS_PER_RUN" --rounds "$ROUNDS"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = restarts ]; then
    echo "# $PY -m shmetrics._bench_load restarts --restarts $RESTARTS"
    "$PY" -m shmetrics._bench_load restarts --restarts "$RESTARTS"
fi
