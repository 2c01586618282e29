#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/integration/test_fault_checkpoint_full.sh - a graceful stop on a
# full segment filesystem: shmetricsd serves a namespace whose directory
# (SHMETRICS_SHM_DIR) is a small tmpfs of its own, in a mount namespace of
# its own (unshare --mount); the tmpfs is then filled, and SIGTERM's
# checkpoint cannot be written. The daemon must say why ("No space left on
# device"), leave no temporary file behind, and still exit.
#
# Needs unshare(1) and the right to make mount namespaces (root); exits 77
# (skipped, saying why) when the kernel refuses.
set -euo pipefail

BIN=${SHMETRICS_BIN_DIR:?set SHMETRICS_BIN_DIR}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "skipped: cannot make a mount namespace here (unshare --mount needs root)"
    exit 77
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Inside the namespace: mount, serve, fill, stop. Prints the daemon's
# stderr, then "exit N" and what was left in the directory.
unshare --mount --propagation private bash -s "$BIN" "$TMP" <<'INNER' >"$TMP/out" 2>&1 || true
set -u
BIN=$1
TMP=$2
SHM=$TMP/shm
mkdir -p "$SHM"
mount -t tmpfs -o size=1m tmpfs "$SHM" || { echo "mount failed"; exit 0; }
export SHMETRICS_SHM_DIR=$SHM
"$BIN/shmetricsd" --ns t_full --listen 127.0.0.1:0 --slots 1 --ring-records 64 \
    --arena-bytes 4096 >"$TMP/stdout" 2>"$TMP/stderr" &
pid=$!
for _ in $(seq 1 100); do
    grep -q 'listening on' "$TMP/stdout" 2>/dev/null && break
    sleep 0.05
done
grep -q 'listening on' "$TMP/stdout" || { echo "shmetricsd did not start"; cat "$TMP/stderr"; exit 0; }
dd if=/dev/zero of="$SHM/fill" bs=4096 2>/dev/null || true # until the tmpfs is full
kill -TERM "$pid"
wait "$pid"
echo "exit $?"
cat "$TMP/stderr"
rm -f "$SHM/fill"
echo "left:" $(ls "$SHM")
INNER

out=$(cat "$TMP/out")
echo "$out"
grep -q 'mount failed' <<<"$out" && { echo "skipped: cannot mount a tmpfs here"; exit 77; }
grep -q 'cannot write checkpoint: No space left on device' <<<"$out" ||
    fail "the checkpoint failure does not say the filesystem is full"
grep -q '^exit ' <<<"$out" || fail "shmetricsd did not exit"
grep -q 'left:.*\.tmp' <<<"$out" && fail "a temporary checkpoint file was left behind"
grep -q 'left:.*shmetrics-state' <<<"$out" && fail "a checkpoint appeared although it could not be written"
echo "ok: a full filesystem is named, nothing half-written is left"
