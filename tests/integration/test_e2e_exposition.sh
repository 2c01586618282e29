#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/integration/test_e2e_exposition.sh - real tools on real output:
# shmetricsd serves what it_record recorded (every metric type, tricky label
# values and help texts, a constant label with quotes and UTF-8); then
#   - promtool check metrics accepts the text format (exit 0: families well
#     named, with HELP, no lint problem),
#   - check_exposition.py parses the text 0.0.4 and the OpenMetrics output
#     (negotiated with the Accept header Prometheus sends) with the Python
#     Prometheus client's parsers, the OpenMetrics one strict, and finds
#     exactly what was recorded; gzip bodies decode to the identity body.
# A missing tool is a failure, not a skip: tools/deps.sh installs them all.
#
# Environment: SHMETRICS_BIN_DIR (shmetricsd, shmtool), IT_RECORD (the
# it_record helper), CHECK_EXPOSITION (check_exposition.py).
set -euo pipefail

BIN=${SHMETRICS_BIN_DIR:?set SHMETRICS_BIN_DIR}
RECORD=${IT_RECORD:?set IT_RECORD}
CHECK=${CHECK_EXPOSITION:?set CHECK_EXPOSITION}
PY=/usr/bin/python3
NS=t_expo_$$
CONST_NAME=site
CONST_VALUE='Zürich "HQ" \ north'
PROM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in promtool curl "$PY"; do
    command -v "$tool" >/dev/null || fail "$tool not found (tools/deps.sh installs it)"
done
"$PY" -c 'import prometheus_client.openmetrics.parser' ||
    fail "$PY cannot import prometheus_client (package python3-prometheus-client)"

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/*.err; do
            [ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
        done
    fi
    "$BIN/shmtool" rm --ns "$NS" >/dev/null 2>&1 || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

# wait_for FILE REGEX SECONDS: poll until a line of FILE matches.
wait_for() {
    local end=$((SECONDS + $3))
    until grep -qE "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$end" ] || fail "no '$2' in $1 after $3 s"
        sleep 0.05
    done
}

"$BIN/shmetricsd" --ns "$NS" --listen 127.0.0.1:0 --const-label "$CONST_NAME=$CONST_VALUE" \
    >"$TMP/agg.out" 2>"$TMP/agg.err" &
PIDS+=($!)
wait_for "$TMP/agg.out" '^listening on ' 30
PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/agg.out")
URL=http://127.0.0.1:$PORT/metrics

"$RECORD" --ns "$NS" --expect "$TMP/expect.json" >"$TMP/rec.out" 2>"$TMP/rec.err" &
PIDS+=($!)
wait_for "$TMP/rec.out" '^ready$' 30

# Every sample recorded before a request is in its response: no waiting.
curl -sSf -D "$TMP/text.hdr" -o "$TMP/text.txt" "$URL"
curl -sSf -D "$TMP/om.hdr" -o "$TMP/om.txt" -H "Accept: $PROM_ACCEPT" "$URL"
curl -sSf --compressed -D "$TMP/text_gz.hdr" -o "$TMP/text_gz.txt" "$URL"
curl -sSf --compressed -D "$TMP/om_gz.hdr" -o "$TMP/om_gz.txt" -H "Accept: $PROM_ACCEPT" "$URL"
curl -sSf -D "$TMP/raw.hdr" -o "$TMP/raw.gz" -H 'Accept-Encoding: gzip' "$URL"

grep -q '^app_requests_total{' "$TMP/text.txt" || fail "no app_ samples in the text output"
if ! promtool check metrics <"$TMP/text.txt" >"$TMP/promtool.err" 2>&1; then
    cat "$TMP/promtool.err" >&2
    fail "promtool check metrics refused the text output"
fi
echo "promtool check metrics: ok"

"$PY" "$CHECK" "$TMP" "$CONST_NAME" "$CONST_VALUE" || fail "check_exposition.py"
echo "exposition: ok"
