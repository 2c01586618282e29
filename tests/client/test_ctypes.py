#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libshmetrics.so from ctypes, the way a program that cannot inline C uses
it (cffi, Go and Rust bind the same symbols): every recorder is an exported
symbol taking struct shmet_series by value, setup calls return negative
errno values and shmet_last_error() says why. A real shmetricsd drains the
namespace and /metrics must show exactly what was recorded.

    python3 test_ctypes.py --lib build/client/libshmetrics.so --bin-dir build/bin

Standard library only. Exit status 0 on success, 1 on any failure.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Optional

RECORDERS = ("shmet_inc", "shmet_add", "shmet_dec", "shmet_set", "shmet_observe")
EINVAL = 22
EEXIST = 17


class Series(ctypes.Structure):
    """struct shmet_series: 8 bytes, passed and returned by value."""

    _fields_ = [
        ("id", ctypes.c_uint32),
        ("client", ctypes.c_uint8),
        ("type", ctypes.c_uint8),
        ("gen", ctypes.c_uint16),
    ]


class Options(ctypes.Structure):
    """struct shmet_options."""

    _fields_ = [
        ("ns", ctypes.c_char_p),
        ("slots", ctypes.c_uint32),
        ("ring_records", ctypes.c_uint32),
        ("arena_bytes", ctypes.c_uint32),
    ]


def fail(msg: str) -> None:
    raise AssertionError(msg)


def check_exports(path: str, lib: ctypes.CDLL) -> None:
    """Every recorder resolves by name, in the dynamic symbol table too."""
    missing = []
    for name in (*RECORDERS, "shmet_last_error"):
        try:
            getattr(lib, name)
        except AttributeError:
            missing.append(name)
    if missing:
        fail(f"{path} does not export {', '.join(missing)}")
    nm = shutil.which("nm")
    if nm is None:
        return
    out = subprocess.run([nm, "-D", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    text = {f[2] for f in (line.split() for line in out.splitlines()) if len(f) == 3
            and f[1] == "T"}
    if not set(RECORDERS) <= text:
        fail(f"nm -D: not defined as text in {path}: {sorted(set(RECORDERS) - text)}")


def bind(lib: ctypes.CDLL) -> None:
    """The prototypes of include/shmetrics.h this test calls."""
    c_char_pp = ctypes.POINTER(ctypes.c_char_p)
    p = ctypes.c_void_p
    for name, res, args in (
        ("shmet_open", ctypes.c_int, [ctypes.POINTER(Options), ctypes.POINTER(p)]),
        ("shmet_close", None, [p]),
        ("shmet_counter", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p, c_char_pp,
                                         ctypes.POINTER(p)]),
        ("shmet_gauge", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p, c_char_pp,
                                       ctypes.c_int, ctypes.POINTER(p)]),
        ("shmet_histogram", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p, c_char_pp,
                                           ctypes.POINTER(ctypes.c_double), ctypes.c_size_t,
                                           ctypes.POINTER(p)]),
        ("shmet_series_get", ctypes.c_int, [p, c_char_pp, ctypes.POINTER(Series)]),
        ("shmet_aggregator_address", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_size_t]),
        ("shmet_last_error", ctypes.c_char_p, []),
        ("shmet_inc", None, [Series]),
        ("shmet_dec", None, [Series]),
        ("shmet_add", None, [Series, ctypes.c_double]),
        ("shmet_set", None, [Series, ctypes.c_double]),
        ("shmet_observe", None, [Series, ctypes.c_double]),
    ):
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def names(*items: Optional[str]):
    """A NULL-terminated const char *[] (or NULL for no items)."""
    if not items:
        return None
    return (ctypes.c_char_p * (len(items) + 1))(*(s.encode() for s in items), None)


def expect_error(rc: int, want_rc: int, want: str, lib: ctypes.CDLL) -> None:
    got = lib.shmet_last_error().decode()
    if rc != -want_rc or got != want:
        fail(f"expected {-want_rc} and {want!r}, got {rc} and {got!r}")


def scrape(addr: str) -> dict[str, float]:
    """/metrics as {sample name with its labels: value}."""
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=30) as r:
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def wait_address(lib: ctypes.CDLL, client: ctypes.c_void_p, daemon: subprocess.Popen) -> str:
    buf = ctypes.create_string_buffer(64)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        n = lib.shmet_aggregator_address(client, buf, len(buf))
        if n > 0:
            return buf.value.decode()
        if daemon.poll() is not None:
            fail(f"shmetricsd exited with status {daemon.returncode}")
        time.sleep(0.01)
    fail("shmetricsd published no address within 20 s")
    return ""


def run(lib: ctypes.CDLL, bin_dir: str, ns: str) -> None:
    client = ctypes.c_void_p()
    opt = Options(ns.encode(), 8, 1024, 65536)
    rc = lib.shmet_open(ctypes.byref(opt), ctypes.byref(client))
    if rc != 0:
        fail(f"shmet_open: {rc} {lib.shmet_last_error().decode()}")
    daemon = subprocess.Popen([os.path.join(bin_dir, "shmetricsd"), "--ns", ns,
                               "--listen", "127.0.0.1:0"], stdout=subprocess.DEVNULL)
    try:
        addr = wait_address(lib, client, daemon)
        record_and_check(lib, client, addr)
    finally:
        lib.shmet_close(client)
        daemon.send_signal(signal.SIGTERM)
        if daemon.wait(timeout=30) != 0:
            fail(f"shmetricsd stopped with status {daemon.returncode}")


def record_and_check(lib: ctypes.CDLL, client: ctypes.c_void_p, addr: str) -> None:
    fam = {k: ctypes.c_void_p() for k in ("req", "inflight", "lat", "bad")}
    bounds = (ctypes.c_double * 2)(0.1, 1.0)
    out = ctypes.byref
    if (lib.shmet_counter(client, b"ctypes_requests_total", b"Requests.", names("method"),
                          out(fam["req"])) != 0
            or lib.shmet_gauge(client, b"ctypes_inflight", b"In flight.", None, 0,
                               out(fam["inflight"])) != 0
            or lib.shmet_histogram(client, b"ctypes_latency_seconds", b"Latency.", None, bounds,
                                   2, out(fam["lat"])) != 0):
        fail(f"family: {lib.shmet_last_error().decode()}")
    get, post, gauge, hist = Series(), Series(), Series(), Series()
    for f, values, s in ((fam["req"], names("GET"), get), (fam["req"], names("POST"), post),
                         (fam["inflight"], None, gauge), (fam["lat"], None, hist)):
        if lib.shmet_series_get(f, values, out(s)) != 0:
            fail(f"shmet_series_get: {lib.shmet_last_error().decode()}")

    # Errors as an FFI caller sees them: -errno, and the detail.
    expect_error(lib.shmet_counter(client, b"9x", b"", None, out(fam["bad"])), EINVAL,
                 "metric name '9x' must match [a-zA-Z_:][a-zA-Z0-9_:]*", lib)
    expect_error(lib.shmet_gauge(client, b"ctypes_requests_total", b"", names("method"), 0,
                                 out(fam["bad"])), EEXIST,
                 "metric 'ctypes_requests_total' already exists as a counter, not a gauge", lib)
    expect_error(lib.shmet_series_get(fam["req"], names("__overflow__"), out(Series())), EINVAL,
                 "label value '__overflow__' is reserved (label 'method')", lib)

    # The exported recorders, struct shmet_series by value.
    lib.shmet_inc(get)
    lib.shmet_add(get, 2.5)
    lib.shmet_inc(post)
    lib.shmet_set(gauge, 5.0)
    lib.shmet_add(gauge, 2.0)
    lib.shmet_dec(gauge)
    for v in (0.0625, 0.5, 0.5, 3.0):
        lib.shmet_observe(hist, v)

    got = scrape(addr)
    want = {
        'ctypes_requests_total{method="GET"}': 3.5,
        'ctypes_requests_total{method="POST"}': 1.0,
        "ctypes_inflight": 6.0,
        'ctypes_latency_seconds_bucket{le="0.1"}': 1.0,
        'ctypes_latency_seconds_bucket{le="1"}': 3.0,
        'ctypes_latency_seconds_bucket{le="+Inf"}': 4.0,
        "ctypes_latency_seconds_sum": 4.0625,
        "ctypes_latency_seconds_count": 4.0,
    }
    wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
    if wrong:
        fail(f"/metrics differs (want, got): {wrong}")
    ours = {k for k in got if k.startswith("ctypes_")}
    if ours != set(want):
        fail(f"/metrics has other ctypes_ samples: {sorted(ours - set(want))}")


def remove_namespace(bin_dir: str, ns: str) -> None:
    shmtool = os.path.join(bin_dir, "shmtool")
    if os.access(shmtool, os.X_OK):
        subprocess.run([shmtool, "--ns", ns, "rm"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    shm_dir = os.environ.get("SHMETRICS_SHM_DIR") or "/dev/shm"
    for name in ("shmetrics." + ns, "shmetrics-state." + ns):
        try:
            os.unlink(os.path.join(shm_dir, name))
        except FileNotFoundError:
            pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True, help="path of libshmetrics.so")
    ap.add_argument("--bin-dir", default=os.environ.get("SHMETRICS_BIN_DIR"),
                    help="directory of shmetricsd and shmtool ($SHMETRICS_BIN_DIR)")
    args = ap.parse_args()
    if not args.bin_dir:
        ap.error("--bin-dir or $SHMETRICS_BIN_DIR is required")
    ns = f"t_ctypes_{os.getpid()}"
    remove_namespace(args.bin_dir, ns)
    try:
        lib = ctypes.CDLL(args.lib)
        check_exports(args.lib, lib)
        bind(lib)
        run(lib, args.bin_dir, ns)
    except AssertionError as e:
        print(f"test_ctypes: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        remove_namespace(args.bin_dir, ns)
    print("test_ctypes: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
