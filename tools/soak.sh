#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/soak.sh - a soak run: shmetricsd on a namespace of its own, and for
# the given time the churn driver (tests/integration/it_churn) forking
# short-lived workers that record, exit, linger and get SIGKILLed (some
# while recording), while it scrapes /metrics every 100 ms. Then it prints
# the aggregator's memory at the start and the end, the samples recorded
# against those counted, and the drops; and it fails on any mismatch, or
# when shmetricsd crashed or did not stop cleanly.
#
# Usage: tools/soak.sh [--seconds N] [--places N] [--no-build]
#   --seconds N  how long workers are started (default 60)
#   --places N   workers at a time (default 4)
#   --no-build   use built binaries: shmetricsd and shmtool from
#                $SHMETRICS_BIN_DIR, the driver from $IT_CHURN
#   -h, --help   this text
# Environment: BUILD_ROOT (default ./build); the build goes to
# $BUILD_ROOT/soak. Exit status: 0 when every check held, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
SECONDS_ARG=60
PLACES=4
BUILD_IT=1

usage() { sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "soak.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_ARG=${2:?}; shift ;;
    --places) PLACES=${2:?}; shift ;;
    --no-build) BUILD_IT=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$SECONDS_ARG$PLACES" in *[!0-9]*) die "--seconds and --places take whole numbers" ;; esac

# ---- build ------------------------------------------------------------------

if [ "$BUILD_IT" = 1 ]; then
    # shellcheck source=tools/deps.sh
    . "$ROOT/tools/deps.sh"
    shmet_install_deps
    BUILD=$BUILD_ROOT/soak
    echo "building in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" \
        --target shmetricsd shmtool it_churn >/dev/null
    BIN=$BUILD/bin
    CHURN=$BUILD/tests/integration/it_churn
else
    BIN=${SHMETRICS_BIN_DIR:?--no-build needs SHMETRICS_BIN_DIR}
    CHURN=${IT_CHURN:?--no-build needs IT_CHURN}
fi
for b in "$BIN/shmetricsd" "$BIN/shmtool" "$CHURN"; do
    [ -x "$b" ] || die "$b is missing"
done

# ---- start ------------------------------------------------------------------

NS=soak_$$
TMP=$(mktemp -d)
AGG_PID=""

# shellcheck disable=SC2317
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$AGG_PID" ] && kill -0 "$AGG_PID" 2>/dev/null; then
        kill -KILL "$AGG_PID" 2>/dev/null || true
        wait "$AGG_PID" 2>/dev/null || true
    fi
    "$BIN/shmtool" rm --ns "$NS" >/dev/null 2>&1 || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# kB of a field of /proc/PID/status ("VmRSS", "RssAnon").
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# 16 slots of 2^18 records (4 MiB): a mortal worker records at most what its
# ring holds, so no sample may be dropped.
"$BIN/shmetricsd" --ns "$NS" --listen 127.0.0.1:0 --slots 16 --ring-records 262144 \
    >"$TMP/agg.out" 2>"$TMP/agg.err" &
AGG_PID=$!
PORT=""
for _ in $(seq 1 100); do
    if line=$(grep -m1 '^listening on ' "$TMP/agg.out" 2>/dev/null); then
        PORT=${line##*:}
        break
    fi
    kill -0 "$AGG_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$TMP/agg.err" >&2; die "shmetricsd did not start"; }
RSS0=$(status_kb "$AGG_PID" VmRSS)
ANON0=$(status_kb "$AGG_PID" RssAnon)
echo "shmetricsd pid $AGG_PID on 127.0.0.1:$PORT, namespace $NS"
echo "churning for $SECONDS_ARG s, $PLACES workers at a time"

# ---- churn ------------------------------------------------------------------

START=$(date +%s)
set +e
"$CHURN" --ns "$NS" --port "$PORT" --seconds "$SECONDS_ARG" --places "$PLACES" \
    >"$TMP/churn.out" 2>"$TMP/churn.err"
CHURN_RC=$?
set -e
ELAPSED=$(($(date +%s) - START))
fig() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/churn.out"; }

FAIL=0
if kill -0 "$AGG_PID" 2>/dev/null; then
    RSS1=$(status_kb "$AGG_PID" VmRSS)
    ANON1=$(status_kb "$AGG_PID" RssAnon)
    kill -TERM "$AGG_PID"
    set +e
    wait "$AGG_PID"
    AGG_RC=$?
    set -e
    AGG_PID=""
    [ "$AGG_RC" = 0 ] || { echo "soak.sh: shmetricsd exited with status $AGG_RC" >&2; FAIL=1; }
else
    RSS1="?" ANON1="?"
    echo "soak.sh: shmetricsd died during the run; its messages:" >&2
    sed 's/^/    /' "$TMP/agg.err" >&2
    FAIL=1
fi

# ---- report -----------------------------------------------------------------

cat <<EOF

soak: $ELAPSED s
  workers               $(fig workers) ($(fig exited) exited, $(fig killed_after_finishing) killed after finishing, $(fig killed_while_recording) killed while recording)
  scrapes               $(fig scrapes) ($(fig regressions) went back)
  steady: recorded      $(fig steady_recorded), counted $(fig steady_counted), observed $(fig steady_observed)
  mortal: recorded (S)  $(fig mortal_recorded), counted (C) $(fig mortal_counted), observed $(fig mortal_observed); S <= C <= S + $(fig killed_while_recording)
  dropped               $(fig dropped), invalid records $(fig invalid)
  slots given back      $(fig claims_reclaimed) (their claimer was killed in the middle of the claim)
  shmetricsd VmRSS      $RSS0 kB at start, $RSS1 kB at end (RssAnon $ANON0 kB -> $ANON1 kB)
EOF
if [ "$CHURN_RC" != 0 ]; then
    echo "soak.sh: the counts do not add up (it_churn exit status $CHURN_RC)" >&2
    sed 's/^/    /' "$TMP/churn.err" >&2
    FAIL=1
fi
[ "$FAIL" = 0 ] && echo "soak: ok" || echo "soak: FAILED"
exit "$FAIL"
