# SPDX-License-Identifier: MIT
"""Recording cost of shmetrics against prometheus_client, measured in one run.

``python -m shmetrics.bench`` times, with :mod:`timeit`, four workloads on
three implementations and prints one ``BENCH <name> <value> <unit>`` line per
figure (medians over repeats), then the ratios between them:

- ``inc``: ``child.inc()`` on a labelled counter child bound once;
- ``observe``: ``child.observe(0.042)`` on a labelled histogram child;
- ``labels_inc``: ``counter.labels("GET", "200").inc()``, the lookup included;
- ``request``: the whole per-request metric work of an HTTP middleware, seven
  metrics with their label lookups (shmetrics:
  :meth:`shmetrics._http.HTTPMetrics.begin` and ``end``; prometheus_client:
  the same seven metrics written the way a typical Sanic middleware does it,
  ``labels()`` on every call);
- ``loop``: an empty statement, the cost of the timeit loop itself (it is
  included in every other figure);
- ``call_floor`` (shmetrics' process only): ``(12345).bit_length()``, the
  cheapest call of a C method CPython makes, the floor under any ``inc()``.

The implementations are shmetrics (recording into a private namespace that a
live ``shmetricsd`` drains, so no ring fills; the drops it saw are printed and
must be 0), prometheus_client in single-process mode, and prometheus_client in
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set to a temporary directory;
prometheus_client picks its value class at import, so each implementation runs
in a process of its own). Repeats are interleaved: each round times every
workload on every implementation, so a noisy neighbour slows all of them alike.

Example::

    $ python -m shmetrics.bench --smoke
    BENCH shmetrics_inc_ns ... ns
    ...
    BENCH ratio_inc_vs_multiprocess ... x
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import timeit
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Callable, Optional

IMPLS = ("shmetrics", "prometheus", "prometheus_mp")
WORKLOADS = ("loop", "call_floor", "inc", "observe", "labels_inc", "request", "request_labels")

# Records one call of each workload writes into the ring (an upper bound): the
# shmetrics worker times chunks of calls that fit in half a ring, and makes
# the aggregator drain (untimed) before each, as a server's rings are drained
# while it serves; so no sample is dropped with the default geometry.
RECORDS_PER_CALL = {"loop": 0, "call_floor": 0, "inc": 1, "observe": 1, "labels_inc": 1,
                    "request": 8, "request_labels": 8}
# The request workloads are some 10-40 times dearer: fewer calls per repeat.
NUMBER_DIVISOR = {"request": 5, "request_labels": 5}

ENDPOINT = "/users/<uid:int>"
DURATION_BUCKETS = (.01, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10)
SIZE_BUCKETS = (100, 500, 1e3, 5e3, 1e4, 5e4, 1e5, 1e6)


# ---- the workloads, run inside one worker process per implementation ---------

def _prometheus_env(pc) -> dict[str, object]:
    """The metrics a prometheus_client app defines, and its middleware's work."""
    reg = pc.CollectorRegistry()
    counter = pc.Counter("bench_requests_total", "Requests.", ["method", "status"],
                         registry=reg)
    hist = pc.Histogram("bench_latency_seconds", "Latency.", ["method"], registry=reg)
    env: dict[str, object] = {"c": counter.labels("GET", "200"), "h": hist.labels("GET"),
                              "counter": counter}
    env.update(_middleware_metrics(pc, reg))
    return env


def _middleware_metrics(mod, registry=None) -> dict[str, object]:
    """The seven request metrics, and the per-request function of a typical
    Sanic middleware over them (``labels()`` on every call), for any module with
    prometheus_client's API (prometheus_client itself, or shmetrics)."""
    kw = {} if registry is None else {"registry": registry}
    requests = mod.Counter("http_requests_total", "Requests.",
                           ["method", "endpoint", "status"], **kw)
    duration = mod.Histogram("http_request_duration_seconds", "Latency.", ["endpoint"],
                             buckets=DURATION_BUCKETS, **kw)
    in_progress = mod.Gauge("http_requests_in_progress", "In flight.", ["endpoint"],
                            multiprocess_mode="livesum", **kw)
    req_size = mod.Histogram("http_request_size_bytes", "Request size.", ["endpoint"],
                             buckets=SIZE_BUCKETS, **kw)
    resp_size = mod.Histogram("http_response_size_bytes", "Response size.", ["endpoint"],
                              buckets=SIZE_BUCKETS, **kw)
    c4xx = mod.Counter("http_requests_4xx_total", "4xx.", ["endpoint"], **kw)
    c5xx = mod.Counter("http_requests_5xx_total", "5xx.", ["endpoint"], **kw)

    def on_request(endpoint: str) -> None:
        in_progress.labels(endpoint).inc()

    def on_response(endpoint: str, method: str, status: int, seconds: float,
                    request_bytes: int, response_bytes: int) -> None:
        requests.labels(method, endpoint, str(status)).inc()
        duration.labels(endpoint).observe(seconds)
        in_progress.labels(endpoint).dec()
        req_size.labels(endpoint).observe(request_bytes)
        resp_size.labels(endpoint).observe(response_bytes)
        if 400 <= status < 500:
            c4xx.labels(endpoint).inc()
        elif status >= 500:
            c5xx.labels(endpoint).inc()

    return {"on_request": on_request, "on_response": on_response}


_PROM_STMTS = {
    "loop": "pass",
    "inc": "c.inc()",
    "observe": "h.observe(0.042)",
    "labels_inc": "counter.labels('GET', '200').inc()",
    "request": "on_request(E); on_response(E, 'GET', 200, 0.0042, 120, 512)",
}

_SHM_STMTS = dict(_PROM_STMTS)
_SHM_STMTS["request"] = "ep = m.begin(E); m.end(ep, 'GET', 200, 0.0042, 120, 512)"
_SHM_STMTS["request_labels"] = _PROM_STMTS["request"]
# The cheapest call of a C method there is (METH_NOARGS on an int): what
# CPython itself costs before a recorder runs at all.
_SHM_STMTS["call_floor"] = "i.bit_length()"


def _shmetrics_env() -> dict[str, object]:
    import shmetrics
    from shmetrics import _http

    shmetrics.open(os.environ["SHMETRICS_NS"])
    counter = shmetrics.Counter("bench_requests_total", "Requests.", ["method", "status"])
    hist = shmetrics.Histogram("bench_latency_seconds", "Latency.", ["method"])
    env: dict[str, object] = {"c": counter.labels("GET", "200"), "h": hist.labels("GET"),
                              "counter": counter, "m": _http.HTTPMetrics()}
    # The same middleware as the prometheus_client one, on shmetrics' classes
    # (what a port by import change gets), under names of its own.
    mw = _middleware_metrics(_Prefixed(shmetrics, "port_"))
    env.update(mw)
    return env


class _Prefixed:
    """prometheus_client-style module whose metric names get a prefix."""

    def __init__(self, mod, prefix: str) -> None:
        self._mod, self._prefix = mod, prefix

    def __getattr__(self, cls: str) -> Callable[..., object]:
        real = getattr(self._mod, cls)
        return lambda name, *a, **kw: real(self._prefix + name, *a, **kw)


def _drain(addr: str) -> None:
    """GET /metrics of the aggregator, which drains every ring before it
    answers (a bare socket: lighter on the caches than urllib)."""
    host, _, port = addr.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass


def _worker(impl: str) -> int:
    """Serve timing requests on stdin: ``run WORKLOAD NUMBER`` -> ``ok SECONDS``."""
    try:
        if impl == "shmetrics":
            env, stmts = _shmetrics_env(), _SHM_STMTS
        else:
            import prometheus_client as pc

            env, stmts = _prometheus_env(pc), _PROM_STMTS
        env["E"], env["i"] = ENDPOINT, 12345
        timers = {w: timeit.Timer(s, globals=env) for w, s in stmts.items()}
        for t in timers.values():  # warm up: first calls create children, files
            t.timeit(50)
    except Exception as e:  # reported to the parent, which stops
        print(f"err {type(e).__name__}: {e}", flush=True)
        return 1
    drain_addr = os.environ.get("SHMETRICS_BENCH_DRAIN_ADDR")
    half_ring = int(os.environ.get("SHMETRICS_BENCH_CHUNK_RECORDS", "0"))

    def run(workload: str, number: int) -> float:
        per = RECORDS_PER_CALL[workload]
        if drain_addr is None or per == 0:
            return timers[workload].timeit(number)
        # Untimed before each chunk: a drain, then a few calls that bring the
        # code back into the caches the drain request went through.
        warm = 32
        chunk, done, seconds = max(1, half_ring // per - warm), 0, 0.0
        while done < number:
            n = min(chunk, number - done)
            _drain(drain_addr)
            timers[workload].timeit(warm)
            seconds += timers[workload].timeit(n)
            done += n
        return seconds

    print(f"ready {' '.join(sorted(timers))}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "run" and words[1] in timers:
            print(f"ok {run(words[1], int(words[2])):.9f}", flush=True)
        else:
            print(f"err unknown request {line.strip()!r}", flush=True)
    return 0


# ---- the parent: processes, daemon, rounds, figures ---------------------------

class _Worker:
    """One implementation's worker process."""

    def __init__(self, impl: str, env: dict[str, str]) -> None:
        self.impl = impl
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shmetrics.bench", "--worker", impl],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1)
        words = self._read().split()
        if words[0] != "ready":
            raise RuntimeError(f"bench: the {impl} worker failed: {' '.join(words[1:])}")
        self.workloads = set(words[1:])

    def _read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench: the {self.impl} worker exited "
                               f"(status {self.proc.wait()})")
        return line

    def run(self, workload: str, number: int) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {workload} {number}\n")
        words = self._read().split()
        if words[0] != "ok":
            raise RuntimeError(f"bench: the {self.impl} worker: {' '.join(words[1:])}")
        return float(words[1])

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class _Daemon:
    """A private shmetricsd draining the shmetrics worker's namespace."""

    def __init__(self, ns: str) -> None:
        from shmetrics import _aggregator

        self.ns = ns
        self.proc = _aggregator.start(namespace=ns, wait=10.0)
        addr = _aggregator.find(ns)
        if addr is None:
            raise RuntimeError("bench: shmetricsd published no address")
        self.addr, self.url = addr, f"http://{addr}"
        self.ring_records = int(json.loads(self.get("/debug"))["segment"]["ring_records"])

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read()

    def dropped(self) -> int:
        self.get("/metrics")  # a scrape drains every ring first
        debug = json.loads(self.get("/debug"))
        in_slots = sum(int(p.get("dropped_total", 0)) for p in debug.get("producers", []))
        return max(int(debug["aggregator"]["dropped_total"]), in_slots)

    def stop(self) -> None:
        from shmetrics import _aggregator

        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        try:
            subprocess.run([_aggregator.shmtool_path(), "--ns", self.ns, "rm"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10,
                           check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        shm = os.environ.get("SHMETRICS_SHM_DIR", "/dev/shm")
        for name in (f"shmetrics.{self.ns}", f"shmetrics-state.{self.ns}"):
            try:
                os.unlink(os.path.join(shm, name))
            except OSError:
                pass


def _emit(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.1f} {unit}", flush=True)


def measure(number: int, repeats: int, impls: Sequence[str] = IMPLS,
            log: Callable[[str], None] = lambda s: None
            ) -> tuple[dict[tuple[str, str], float], int]:
    """Median ns per call of every (implementation, workload), and the drops.

    >>> figures, dropped = measure(2000, 3)            # doctest: +SKIP
    >>> figures["shmetrics", "inc"] < figures["prometheus_mp", "inc"]  # doctest: +SKIP
    True
    """
    numbers = {w: max(1, number // NUMBER_DIVISOR.get(w, 1)) for w in WORKLOADS}
    ns = f"bench{os.getpid()}x{uuid.uuid4().hex[:8]}"
    mpdir = tempfile.mkdtemp(prefix="shmetrics-bench-mp-")
    base = {k: v for k, v in os.environ.items()
            if k not in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")}
    envs = {"shmetrics": dict(base, SHMETRICS_NS=ns), "prometheus": dict(base),
            "prometheus_mp": dict(base, PROMETHEUS_MULTIPROC_DIR=mpdir)}
    daemon: Optional[_Daemon] = None
    workers: list[_Worker] = []
    times: dict[tuple[str, str], list[float]] = {}
    try:
        if "shmetrics" in impls:
            daemon = _Daemon(ns)
            envs["shmetrics"].update(SHMETRICS_BENCH_DRAIN_ADDR=daemon.addr,
                                     SHMETRICS_BENCH_CHUNK_RECORDS=str(daemon.ring_records // 2))
            log(f"# shmetricsd on {daemon.url}, namespace {ns}, "
                f"{daemon.ring_records} records per ring")
        workers = [_Worker(i, envs[i]) for i in impls]
        for r in range(repeats):
            for w in WORKLOADS:
                for wk in workers:
                    if w not in wk.workloads:
                        continue
                    t = wk.run(w, numbers[w])
                    times.setdefault((wk.impl, w), []).append(t / numbers[w] * 1e9)
            log(f"# round {r + 1}/{repeats} done")
        dropped = daemon.dropped() if daemon is not None else 0
    finally:
        for wk in workers:
            wk.close()
        if daemon is not None:
            daemon.stop()
        shutil.rmtree(mpdir, ignore_errors=True)
    return {k: statistics.median(v) for k, v in times.items()}, dropped


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m shmetrics.bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes, to check that it runs (seconds)")
    ap.add_argument("--repeats", type=int, default=11,
                    help="timeit repeats (rounds); figures are their medians (default 11)")
    ap.add_argument("--number", type=int, default=200000,
                    help="calls per repeat; the request workloads make a fifth of "
                         "that (default 200000)")
    ap.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.worker)
    if args.smoke:
        args.number, args.repeats = 2000, 3
    if args.number < 1 or args.repeats < 1:
        ap.error("--number and --repeats must be positive")

    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    print(f"# shmetrics {version('shmetrics')}, prometheus_client "
          f"{version('prometheus_client')}, python {sys.version.split()[0]}; "
          f"{args.repeats} interleaved repeats of {args.number} calls "
          f"({args.number // 5} for request workloads), median", flush=True)
    figures, dropped = measure(args.number, args.repeats,
                               log=lambda s: print(s, file=sys.stderr, flush=True))
    for impl in IMPLS:
        for w in WORKLOADS:
            if (impl, w) in figures:
                _emit(f"{impl}_{w}_ns", figures[impl, w], "ns")
    _emit("shmetrics_dropped", dropped, "records")
    for w in ("inc", "observe", "labels_inc", "request"):
        shm = figures["shmetrics", w]
        _emit(f"ratio_{w}_vs_multiprocess", figures["prometheus_mp", w] / shm, "x")
        _emit(f"ratio_{w}_vs_single", figures["prometheus", w] / shm, "x")
    return 0 if dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
