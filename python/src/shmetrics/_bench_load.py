# SPDX-License-Identifier: MIT
"""Server-level benchmarks, run by ``bench/python-load.sh`` (not a public API).

``sanic``: a 2-worker Sanic app (:mod:`shmetrics._bench_apps`) under wrk load,
without metrics, with an empty request/response middleware pair, with
``shmetrics.sanic.instrument`` and with prometheus_client multiprocess
middleware; all four servers run at once and wrk runs are interleaved over them
(one round = one run against each). Figures: median requests/s, and the
servers' CPU per request (utime + stime from ``/proc`` of the server's whole
process tree, its aggregator included, before and after each run, divided by
the requests wrk completed).

``restarts``: gunicorn (2 sync workers, ``--max-requests 1``: every request
ends its worker) until 10 and then N worker restarts, for prometheus_client
multiprocess (``child_exit`` calls ``mark_process_dead``, as its docs say) and
for shmetrics (a live shmetricsd); after each, the median time of one scrape:
MultiProcessCollector + generate_latest over the directory, in this process,
for prometheus_client; ``GET /metrics`` of shmetricsd for shmetrics.

Example::

    python -m shmetrics._bench_load sanic --seconds 2 --rounds 3
    python -m shmetrics._bench_load restarts --restarts 100
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Optional

CLK_TCK = os.sysconf("SC_CLK_TCK")
SANIC_VARIANTS = ("none", "empty", "shmetrics", "prom_mp")


def emit(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.{3 if abs(value) < 10 else 1}f} {unit}", flush=True)


def log(msg: str) -> None:
    print(f"# {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    kids = _children()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pid: int) -> tuple[float, str]:
    """utime + stime of one process, and its command name."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return 0.0, ""
    comm = st[st.index("(") + 1:st.rindex(")")]
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, comm


def tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds of the whole tree, and of the shmetricsd processes in it."""
    total = agg = 0.0
    for p in tree(root):
        s, comm = cpu_seconds(p)
        total += s
        if comm == "shmetricsd":
            agg += s
    return total, agg


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_http(port: int, path: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            if http_get(port, path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} in {timeout} s")


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the server (its own process group), then SIGKILL what is left."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def remove_segment(ns: str) -> None:
    shm = os.environ.get("SHMETRICS_SHM_DIR", "/dev/shm")
    for name in (f"shmetrics.{ns}", f"shmetrics-state.{ns}"):
        try:
            os.unlink(os.path.join(shm, name))
        except OSError:
            pass


# ---- (a) Sanic under wrk ------------------------------------------------------

class SanicServer:
    def __init__(self, variant: str, workers: int) -> None:
        self.variant = variant
        self.port = free_port()
        self.ns = f"benchload{os.getpid()}{variant.replace('_', '')}{uuid.uuid4().hex[:6]}"
        self.mpdir = tempfile.mkdtemp(prefix="shmetrics-bench-sanic-")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")}
        env.update(BENCH_APP=variant, SHMETRICS_NS=self.ns, PYTHONUNBUFFERED="1")
        if variant == "prom_mp":
            env["PROMETHEUS_MULTIPROC_DIR"] = self.mpdir
        self.log = open(os.path.join(self.mpdir, "..", f"{os.path.basename(self.mpdir)}.log"),
                        "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sanic", "shmetrics._bench_apps:make_sanic", "--factory",
             "-H", "127.0.0.1", "-p", str(self.port), "-w", str(workers),
             "--no-access-logs", "--no-motd"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(self.port, "/", self.proc, 60)
        except RuntimeError:
            self.log.seek(0)
            sys.stderr.write(self.log.read().decode(errors="replace")[-4000:])
            self.close()
            raise

    def close(self) -> None:
        stop(self.proc)
        self.log.close()
        os.unlink(self.log.name)
        shutil.rmtree(self.mpdir, ignore_errors=True)
        remove_segment(self.ns)


_WRK_REQS = re.compile(r"(\d+) requests in ([\d.]+)(\w+)")
_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_ERRORS = re.compile(r"Socket errors:.*")


def wrk(port: int, path: str, seconds: float, connections: int, threads: int
        ) -> tuple[int, float, str]:
    """Requests completed, requests/s, and any error line of one wrk run."""
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
         f"http://127.0.0.1:{port}{path}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True,
        timeout=seconds + 60).stdout
    n, rps = _WRK_REQS.search(out), _WRK_RPS.search(out)
    if n is None or rps is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    bad = []
    m = _WRK_NON2XX.search(out)
    if m:
        bad.append(f"non-2xx {m.group(1)}")
    m = _WRK_ERRORS.search(out)
    if m:
        bad.append(m.group(0).strip())
    return int(n.group(1)), float(rps.group(1)), "; ".join(bad)


def bench_sanic(seconds: float, rounds: int, workers: int, connections: int,
                threads: int, variants: Sequence[str] = SANIC_VARIANTS) -> int:
    servers: list[SanicServer] = []
    rps: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    agg: dict[str, list[float]] = {v: [] for v in variants}
    served: dict[str, int] = {v: 0 for v in variants}
    path = "/users/42"
    try:
        for v in variants:
            servers.append(SanicServer(v, workers))
            log(f"sanic {v}: port {servers[-1].port}, {workers} workers")
        for s in servers:  # warm up: JIT-free, but caches, routes, children, files
            wrk(s.port, path, min(1.0, seconds), connections, threads)
        for r in range(rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for s in order:
                c0, a0 = tree_cpu(s.proc.pid)
                n, per_s, bad = wrk(s.port, path, seconds, connections, threads)
                c1, a1 = tree_cpu(s.proc.pid)
                if bad:
                    log(f"sanic {s.variant}: wrk reports {bad}")
                rps[s.variant].append(per_s)
                cpu[s.variant].append((c1 - c0) / n * 1e6)
                agg[s.variant].append((a1 - a0) / n * 1e6)
                served[s.variant] += n
            log(f"round {r + 1}/{rounds}: " + ", ".join(
                f"{v} {rps[v][-1]:.0f}/s {cpu[v][-1]:.1f} us" for v in variants))
        for s in servers:
            if s.variant in ("shmetrics", "prom_mp"):
                status, body = http_get(s.port, "/metrics")
                total = sum(float(m.group(1)) for m in re.finditer(
                    rb'^http_requests_total\{[^}]*endpoint="/users/<uid:int>"[^}]*\} (\S+)$',
                    body, re.M))
                log(f"sanic {s.variant}: /metrics {status}, {len(body)} bytes, "
                    f"http_requests_total for /users/<uid:int> {total:.0f}")
    finally:
        for s in servers:
            s.close()
    med = {v: statistics.median(rps[v]) for v in variants}
    for v in variants:
        emit(f"sanic_{v}_rps", med[v], "req/s")
        emit(f"sanic_{v}_cpu_us_per_req", statistics.median(cpu[v]), "us")
    if "shmetrics" in variants:
        emit("sanic_shmetrics_aggregator_cpu_us_per_req", statistics.median(agg["shmetrics"]),
             "us")
    if "none" in variants:
        base, base_cpu = med["none"], statistics.median(cpu["none"])
        for v in variants:
            if v == "none":
                continue
            emit(f"sanic_{v}_rps_cost_pct", (1 - med[v] / base) * 100, "pct")
            emit(f"sanic_{v}_cpu_cost_us_per_req", statistics.median(cpu[v]) - base_cpu, "us")
    return 0


# ---- (b) scrape time after gunicorn worker restarts ---------------------------

_GUNICORN_PROM_CONF = """\
from prometheus_client import multiprocess


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
"""


class Gunicorn:
    def __init__(self, variant: str, ns: str, mpdir: str, workers: int) -> None:
        self.variant, self.port = variant, free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")}
        env.update(BENCH_APP=variant, SHMETRICS_NS=ns)
        argv = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}",
                "-w", str(workers), "--max-requests", "1", "--preload",
                "--log-level", "warning"]
        if variant == "prom_mp":
            env["PROMETHEUS_MULTIPROC_DIR"] = mpdir
            conf = os.path.join(mpdir, "..", f"{os.path.basename(mpdir)}-conf.py")
            with open(conf, "w") as f:
                f.write(_GUNICORN_PROM_CONF)
            argv += ["-c", conf]
            self.conf: Optional[str] = conf
        else:
            self.conf = None
        argv.append("shmetrics._bench_apps:make_wsgi()")
        self.proc = subprocess.Popen(argv, env=env, start_new_session=True)
        wait_http(self.port, "/request", self.proc, 60)

    def close(self) -> None:
        stop(self.proc)
        if self.conf:
            os.unlink(self.conf)


def churn(port: int, pids: set[int], target: int, timeout: float) -> int:
    """Send requests (2 at a time) until ``target`` distinct worker pids have
    answered; returns the requests sent."""
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + timeout

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if len(pids) >= target:
                    return
                sent[0] += 1
            try:
                status, body = http_get(port, "/request", timeout=10)
            except OSError:
                continue
            if status == 200:
                with lock:
                    pids.add(int(body))

    ts = [threading.Thread(target=client) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if len(pids) < target:
        raise RuntimeError(f"only {len(pids)} of {target} workers within {timeout} s")
    return sent[0]


def median_ms(fn, repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        size = len(fn())
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), size


def bench_restarts(restarts: Sequence[int], workers: int, scrapes: int,
                   timeout: float) -> int:
    from shmetrics import _aggregator

    from . import _bench_apps

    for variant in ("prom_mp", "shmetrics"):
        ns = f"benchrs{os.getpid()}{uuid.uuid4().hex[:6]}"
        mpdir = tempfile.mkdtemp(prefix="shmetrics-bench-gunicorn-")
        daemon = None
        server = None
        try:
            if variant == "shmetrics":
                daemon = _aggregator.start(namespace=ns)
                deadline = time.monotonic() + 10
                addr = _aggregator.find(ns)
                while addr is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                    addr = _aggregator.find(ns)
                if addr is None:
                    raise RuntimeError("shmetricsd published no address")
                url = f"http://{addr}/metrics"

                def scrape(url: str = url) -> bytes:
                    with urllib.request.urlopen(url, timeout=10) as r:
                        return r.read()
            else:
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = mpdir

                def scrape(url: str = "") -> bytes:
                    return _bench_apps.prom_exposition()
            server = Gunicorn(variant, ns, mpdir, workers)
            pids: set[int] = set()
            t0 = time.monotonic()
            for n in restarts:
                churn(server.port, pids, n + workers, timeout)
                ms, size = median_ms(scrape, scrapes)
                files = len(os.listdir(mpdir)) if variant == "prom_mp" else 0
                log(f"{variant}: {len(pids)} workers served ({n} restarts) after "
                    f"{time.monotonic() - t0:.1f} s: scrape {ms:.2f} ms, {size} bytes"
                    + (f", {files} files" if variant == "prom_mp" else ""))
                emit(f"restarts_{variant}_scrape_after_{n}_ms", ms, "ms")
                emit(f"restarts_{variant}_scrape_after_{n}_bytes", size, "bytes")
        finally:
            if server is not None:
                server.close()
            if daemon is not None:
                daemon.terminate()
                try:
                    daemon.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(mpdir, ignore_errors=True)
            remove_segment(ns)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line; see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m shmetrics._bench_load")
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sanic", help="a Sanic app under wrk")
    s.add_argument("--seconds", type=float, default=10.0, help="per wrk run (default 10)")
    s.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--connections", type=int, default=50)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--variants", default=",".join(SANIC_VARIANTS))
    r = sub.add_parser("restarts", help="scrape time after gunicorn worker restarts")
    r.add_argument("--restarts", type=int, default=1000, help="the second count (default 1000)")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--scrapes", type=int, default=9, help="scrapes per figure (median)")
    r.add_argument("--timeout", type=float, default=600.0, help="bound on each churn")
    args = ap.parse_args(argv)
    if args.what == "sanic":
        return bench_sanic(args.seconds, args.rounds, args.workers, args.connections,
                           args.threads, [v for v in args.variants.split(",") if v])
    return bench_restarts(sorted({10, args.restarts}), args.workers, args.scrapes,
                          args.timeout)


if __name__ == "__main__":
    sys.exit(main())
