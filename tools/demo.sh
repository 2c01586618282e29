#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/demo.sh - the whole system in one command: install what is missing,
# build, start the aggregator (shmetricsd) and the pre-fork demo server
# (shmetrics-demo) on a namespace of their own, drive load with
# shmetrics-load, then show an excerpt of /metrics, request latencies per
# endpoint from /debug, and shmtool info. Then it keeps a trickle of load
# going until Ctrl-C; with --once it stops there, leaving nothing behind.
#
# Usage: tools/demo.sh [--once] [--requests N] [--connections C] [--workers N]
#   --once           run the load once, show the results, clean up and exit
#   --requests N     requests in the load run (default 5000)
#   --connections C  concurrent load connections (default 16)
#   --workers N      demo server worker processes (default 4)
#   -h, --help       this text
# Environment:
#   SHMETRICS_DEMO_PORT      aggregator port (default 9477; a free one if busy)
#   SHMETRICS_DEMO_APP_PORT  demo server port (default 8080; a free one if busy)
#   BUILD_ROOT               build root (default ./build); binaries in BUILD_ROOT/demo/bin
# Exit status: 0 on success (or after Ctrl-C), 1 when something failed to
# build or start, or the aggregator's count disagrees with the load's.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_ROOT=${BUILD_ROOT:-$ROOT/build}
BUILD=$BUILD_ROOT/demo
BIN=$BUILD/bin
AGG_PORT=${SHMETRICS_DEMO_PORT:-9477}
APP_PORT=${SHMETRICS_DEMO_APP_PORT:-8080}
ONCE=0
REQUESTS=5000
CONNECTIONS=16
WORKERS=4
NS=demo-$$
PY=/usr/bin/python3

# The comment block at the top of this file, from its second paragraph.
usage() { awk 'NR > 3 && /^#/ { sub(/^# ?/, ""); print; next } NR > 3 { exit }' "$0"; }

die() {
    echo "demo.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --once) ONCE=1 ;;
    --requests) REQUESTS=${2:?--requests needs a value}; shift ;;
    --connections) CONNECTIONS=${2:?--connections needs a value}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for v in "$REQUESTS" "$CONNECTIONS" "$WORKERS" "$AGG_PORT" "$APP_PORT"; do
    [[ "$v" =~ ^[0-9]+$ ]] || die "not a number: '$v'"
done

section() { printf '\n==== %s ====\n' "$*"; }

# ---- processes, and the cleanup that stops them all -------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmetrics-demo.XXXXXX")
LOAD_PID="" APP_PID="" AGG_PID=""

# stop PID NAME: SIGTERM, then SIGKILL if it is still there after 10 s.
# shellcheck disable=SC2317 # stop and cleanup run from the EXIT trap
stop() {
    local pid=$1 name=$2 _
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "demo.sh: $name did not stop within 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop "$LOAD_PID" shmetrics-load
    stop "$APP_PID" shmetrics-demo
    stop "$AGG_PID" shmetricsd
    if [ -x "$BIN/shmtool" ]; then
        "$BIN/shmtool" rm --ns "$NS" >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "demo.sh: stopping"; exit 0' INT TERM

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() {
    "$PY" - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
EOF
}

# pick_port PORT NAME: PORT if free, else 0 (the server picks one).
pick_port() {
    if [ "$1" != 0 ] && ! port_free "$1"; then
        echo "demo.sh: port $1 is busy; $2 takes a free one" >&2
        echo 0
    else
        echo "$1"
    fi
}

# wait_listening NAME PID OUT ERR: print the ADDR:PORT of its "listening on"
# line, or fail with what it said on stderr.
wait_listening() {
    local name=$1 pid=$2 out=$3 err=$4 _ line
    for _ in $(seq 1 100); do
        if line=$(grep -m1 '^listening on ' "$out" 2>/dev/null); then
            echo "${line#listening on }"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo.sh: $name exited before listening; its messages:" >&2
            sed 's/^/    /' "$err" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "demo.sh: $name did not report listening within 10 s; its messages:" >&2
    sed 's/^/    /' "$err" >&2
    return 1
}

# ---- install, build ---------------------------------------------------------

section "dependencies"
# shellcheck source=tools/deps.sh
. "$ROOT/tools/deps.sh"
shmet_install_build_deps # the build and run list: no test toolchain
echo "all present"

section "build ($BUILD)"
if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBUILD_TESTING=OFF && cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" \
    --target shmetricsd shmtool shmetrics-demo shmetrics-load; } >"$TMP/build.log" 2>&1; then
    tail -n 40 "$TMP/build.log" >&2
    die "build failed (the last lines are above)"
fi
for b in shmetricsd shmtool shmetrics-demo shmetrics-load; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing after the build"
done
echo "shmetricsd, shmtool, shmetrics-demo, shmetrics-load in $BIN"

# ---- start ------------------------------------------------------------------

section "start (namespace $NS)"
AGG_PORT=$(pick_port "$AGG_PORT" shmetricsd)
"$BIN/shmetricsd" --ns "$NS" --listen "127.0.0.1:$AGG_PORT" >"$TMP/agg.out" 2>"$TMP/agg.err" &
AGG_PID=$!
AGG=$(wait_listening shmetricsd "$AGG_PID" "$TMP/agg.out" "$TMP/agg.err") ||
    die "could not start shmetricsd"
echo "shmetricsd      pid $AGG_PID, http://$AGG"

APP_PORT=$(pick_port "$APP_PORT" shmetrics-demo)
"$BIN/shmetrics-demo" --ns "$NS" --listen "127.0.0.1:$APP_PORT" --workers "$WORKERS" \
    >"$TMP/app.out" 2>"$TMP/app.err" &
APP_PID=$!
APP=$(wait_listening shmetrics-demo "$APP_PID" "$TMP/app.out" "$TMP/app.err") ||
    die "could not start shmetrics-demo"
# workers PID: the children of the demo's master, on one line.
workers() { ps -o pid= --ppid "$1" | awk '{ printf " %s", $1 }'; }
sleep 0.2 # the workers are forked right after the listening line
echo "shmetrics-demo  pid $APP_PID, http://$APP, workers:$(workers "$APP_PID")"
curl -fsS "http://$AGG/healthz" >/dev/null || die "shmetricsd does not answer /healthz"

# ---- load -------------------------------------------------------------------

section "load: $REQUESTS requests over $CONNECTIONS connections"
if ! "$BIN/shmetrics-load" --target "$APP" --connections "$CONNECTIONS" \
    --requests "$REQUESTS" >"$TMP/load.out" 2>"$TMP/load.err"; then
    cat "$TMP/load.out" "$TMP/load.err" >&2
    die "the load run failed"
fi
cat "$TMP/load.out"
RECORDED=$(awk '$1 == "recorded" { print $2 }' "$TMP/load.out")

# ---- results ----------------------------------------------------------------

section "/metrics excerpt (http://$AGG/metrics)"
curl -fsS "http://$AGG/metrics" >"$TMP/metrics.txt" || die "GET /metrics failed"
SHOWN='http_requests_total|http_requests_in_progress|http_request_duration_seconds'
grep -E "^# (HELP|TYPE) ($SHOWN) |^($SHOWN)(_count|_sum)?\{" "$TMP/metrics.txt" |
    grep -v '__overflow__' || die "no http_* families in /metrics"
echo "# ...and the buckets of one series:"
grep -E '^http_request_duration_seconds_bucket\{' "$TMP/metrics.txt" |
    grep 'method="GET"' | grep 'endpoint="/users/{id}"' || true
echo "# ($(grep -c '^http_' "$TMP/metrics.txt") http_* samples in all, with the request and" \
    "response size histograms)"

section "latency per endpoint, from /debug (http://$AGG/debug)"
curl -fsS "http://$AGG/debug" >"$TMP/debug.json" || die "GET /debug failed"
"$PY" - "$TMP/debug.json" "$RECORDED" <<'EOF' ||
import json, sys

debug = json.load(open(sys.argv[1]))
expected = int(sys.argv[2])
fams = {f["name"]: f for f in debug.get("families", [])}

def ms_text(seconds):
    return "<0.001" if seconds < 1e-6 else "%.3f" % (seconds * 1000)

def ms(q, key):
    v = (q or {}).get(key)
    return "-" if v is None else ms_text(v)

rows = []
for s in fams.get("http_request_duration_seconds", {}).get("series", []):
    lab, n = s.get("labels", {}), s.get("count", 0)
    if n == 0 or "__overflow__" in lab.values():
        continue
    q = s.get("quantiles", {})
    mean = ms_text(s.get("sum", 0) / n)
    rows.append((lab.get("endpoint", "?"), lab.get("method", "?"), n,
                 ms(q, "0.5"), ms(q, "0.95"), ms(q, "0.99"), mean))
rows.sort(key=lambda r: -r[2])
fmt = "%-13s %-6s %8s %9s %9s %9s %9s"
print(fmt % ("endpoint", "method", "count", "p50 ms", "p95 ms", "p99 ms", "mean ms"))
for r in rows:
    print(fmt % r)

by_status, total = {}, 0
for s in fams.get("http_requests_total", {}).get("series", []):
    v = s.get("value", 0)
    st = s.get("labels", {}).get("status", "?")
    if st == "__overflow__" and v == 0:
        continue
    by_status[st] = by_status.get(st, 0) + v
    total += v
print()
print("requests by status: " +
      ", ".join("%s: %d" % (k, by_status[k]) for k in sorted(by_status)))
agg = debug.get("aggregator", {})
print("aggregator: %d samples, %d dropped, %d invalid; %d producers" % (
    agg.get("samples_total", 0), agg.get("dropped_total", 0),
    agg.get("invalid_records_total", 0), len(debug.get("producers", []))))
if int(total) == expected:
    print("check: http_requests_total sums to %d, exactly the responses the load "
          "tool counted as recorded" % total)
else:
    print("check FAILED: http_requests_total sums to %d, the load tool counted %d"
          % (total, expected))
    sys.exit(1)
EOF
    die "the summary of /debug failed, or its count disagrees with the load's"

section "shmtool info --ns $NS"
"$BIN/shmtool" info --ns "$NS" || die "shmtool info failed"

if [ "$ONCE" = 1 ]; then
    section "done (--once): stopping"
    exit 0
fi

# ---- keep running -----------------------------------------------------------

"$BIN/shmetrics-load" --target "$APP" --connections 2 --duration 0 --rate 20 \
    >"$TMP/trickle.out" 2>"$TMP/trickle.err" &
LOAD_PID=$!
section "running: 20 requests/s until Ctrl-C"
cat <<EOF
  curl -s http://$AGG/metrics | grep ^http_
  curl -s http://$AGG/debug | $PY -m json.tool | less
  curl -si http://$APP/users/42          (X-Worker names the worker)
  $BIN/shmtool watch --ns $NS
  kill -9 <a worker pid>                 (the master restarts it; counts stay)
workers of shmetrics-demo (pid $APP_PID):$(workers "$APP_PID")
EOF
wait "$LOAD_PID" || true
LOAD_PID=""
cat "$TMP/trickle.err" >&2
die "the background load stopped unexpectedly"
