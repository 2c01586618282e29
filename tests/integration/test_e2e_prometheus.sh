#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/integration/test_e2e_prometheus.sh - end to end with a real
# Prometheus server, all on loopback: shmetricsd, shmetrics-demo with 4
# workers, and prometheus scraping shmetricsd every second. Once the target
# is up, shmetrics-load sends exactly REQUESTS requests; then
# check_prometheus.py polls Prometheus' HTTP API until sum(http_requests_total)
# equals exactly what the load generator says the demo recorded, and checks
# every series, the histograms, the target's health and that the scrapes
# were parsed as OpenMetrics. Every process and file is cleaned up on exit.
# A missing tool is a failure, not a skip: tools/deps.sh installs them all.
#
# Environment: SHMETRICS_BIN_DIR (shmetricsd, shmetrics-demo,
# shmetrics-load, shmtool), CHECK_PROMETHEUS (check_prometheus.py).
set -euo pipefail

BIN=${SHMETRICS_BIN_DIR:?set SHMETRICS_BIN_DIR}
CHECK=${CHECK_PROMETHEUS:?set CHECK_PROMETHEUS}
PY=/usr/bin/python3
NS=t_prom_$$
JOB=shmetrics
REQUESTS=500
DEADLINE=60 # seconds, for each wait

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in prometheus curl "$PY"; do
    command -v "$tool" >/dev/null || fail "$tool not found (tools/deps.sh installs it)"
done

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    local rc=$? p f
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/*.err "$TMP"/load.out; do
            [ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
        done
    fi
    "$BIN/shmtool" rm --ns "$NS" >/dev/null 2>&1 || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

# wait_for FILE REGEX: poll until a line of FILE matches.
wait_for() {
    local end=$((SECONDS + DEADLINE))
    until grep -qE "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$end" ] || fail "no '$2' in $1 after $DEADLINE s"
        sleep 0.05
    done
}

port_of() {
    sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$1"
}

"$BIN/shmetricsd" --ns "$NS" --listen 127.0.0.1:0 >"$TMP/agg.out" 2>"$TMP/agg.err" &
PIDS+=($!)
wait_for "$TMP/agg.out" '^listening on '
AGG_PORT=$(port_of "$TMP/agg.out")

"$BIN/shmetrics-demo" --ns "$NS" --listen 127.0.0.1:0 --workers 4 \
    >"$TMP/demo.out" 2>"$TMP/demo.err" &
PIDS+=($!)
wait_for "$TMP/demo.out" '^listening on '
DEMO_PORT=$(port_of "$TMP/demo.out")

# Prometheus takes its port by number: pick a free one, and pick again if
# another process took it before Prometheus could.
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: $JOB
    static_configs:
      - targets: ['127.0.0.1:$AGG_PORT']
EOF
for attempt in 1 2 3; do
    PROM_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prom.err" 2>&1 &
    PROM_PID=$!
    PROM=http://127.0.0.1:$PROM_PORT
    end=$((SECONDS + DEADLINE))
    until curl -sf "$PROM/-/ready" >/dev/null 2>&1; do
        kill -0 "$PROM_PID" 2>/dev/null || break
        [ "$SECONDS" -lt "$end" ] || fail "prometheus not ready after $DEADLINE s"
        sleep 0.1
    done
    if kill -0 "$PROM_PID" 2>/dev/null; then
        PIDS+=("$PROM_PID")
        break
    fi
    wait "$PROM_PID" || true
    [ "$attempt" -lt 3 ] || fail "prometheus did not start"
done

# The target is up before the load: Prometheus scrapes it.
end=$((SECONDS + DEADLINE))
until curl -sf "$PROM/api/v1/targets" | grep -q '"health":"up"'; do
    [ "$SECONDS" -lt "$end" ] || fail "target not up after $DEADLINE s"
    sleep 0.2
done

"$BIN/shmetrics-load" --target "127.0.0.1:$DEMO_PORT" --requests "$REQUESTS" --connections 4 \
    --slow-max-ms 20 --seed 7 >"$TMP/load.out" 2>"$TMP/load.err" ||
    fail "shmetrics-load failed"
grep -qx "sent *$REQUESTS" "$TMP/load.out" || fail "shmetrics-load did not send $REQUESTS"

"$PY" "$CHECK" "$PROM" "$JOB" "$TMP/load.out" "$DEADLINE" || fail "check_prometheus.py"
echo "prometheus: ok"
