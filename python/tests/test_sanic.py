"""shmetrics.sanic against real Sanic servers: the ``sanic`` command with
four workers on a free loopback port (``sanic_app.py``), a real shmetricsd.

1. With a shmetricsd started beforehand: exact counts in its /metrics and
   in the app's own.
2. Zero configuration, nothing but the app: its /metrics exact, gzip and
   OpenMetrics passed through, and after the server stops no shmetricsd of
   the namespace is left and /dev/shm holds only its segment and checkpoint.
3. A segment the app may not open: it keeps serving, /metrics says 503 why.
"""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
from collections import Counter as Tally
from collections.abc import Iterator, Mapping, Sequence
from typing import Optional

import pytest
from conftest import SHM_DIR, parse_samples, wait_for

import shmetrics
from shmetrics import _client

pytest.importorskip("sanic")

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS = 4
UNMATCHED = "__unmatched__"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: Optional[bytes] = None,
            headers: Optional[Mapping[str, str]] = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def aggregators(ns: str) -> list[int]:
    """Pids of the shmetricsd processes serving ``ns``."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == b"shmetricsd" and ns.encode() in argv:
            pids.append(int(d))
    return pids


class SanicServer:
    """``sanic sanic_app:app --workers 4`` in a session of its own."""

    def __init__(self, ns: str, aggregator: str = "auto",
                 prefix: Sequence[str] = ()) -> None:
        self.port = free_port()
        env = dict(os.environ, SHMETRICS_NS=ns, SANIC_TEST_AGGREGATOR=aggregator,
                   PYTHONDONTWRITEBYTECODE="1")
        self.log = open(os.path.join(HERE, f".sanic-{ns}.log"), "w+b")
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "sanic", "sanic_app:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(WORKERS), "--no-motd"],
            cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        """Until every worker has started and the app answers (on an
        excluded path, so that nothing is counted). A stop while a worker is
        still starting can leave Sanic's main process waiting for it."""
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"sanic exited with {self.proc.returncode}:\n{self.output()}")
            if self.output().count("Worker ready") < WORKERS:
                return False
            try:
                return request(self.port, "GET", "/ready")[0] == 200
            except OSError:
                return False
        wait_for(up, timeout=90, interval=0.1)

    def get(self, path: str, **kw: object) -> tuple[int, dict[str, str], bytes]:
        return request(self.port, "GET", path, **kw)  # type: ignore[arg-type]

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, wait: float = 60.0) -> int:
        """SIGTERM to the main process, as a service manager stops it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.stop(20.0)
        try:  # whatever of its session is left (nothing, when all went well)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture
def server_factory() -> Iterator:
    servers: list[SanicServer] = []

    def make(ns: str, **kw: object) -> SanicServer:
        s = SanicServer(ns, **kw)  # type: ignore[arg-type]
        servers.append(s)
        s.wait_ready()
        return s

    yield make
    for s in servers:
        s.close()


# ---- the load and what it must produce ------------------------------------------

def drive(port: int) -> Tally:
    """Requests over every kind of route; returns the expected
    ``(method, endpoint, status)`` counts (excluded paths not in it)."""
    want: Tally = Tally()
    plan: list[tuple[str, str, Optional[bytes], int, Optional[tuple[str, str]]]] = []
    plan += [("GET", "/", None, 200, ("GET", "/"))] * 7
    plan += [("GET", f"/users/{i}", None, 200, ("GET", "/users/<uid:int>")) for i in range(23)]
    plan += [("POST", "/items", b"hello world", 201, ("POST", "/items"))] * 5
    plan += [("GET", f"/missing/m{i}", None, 404, ("GET", "/missing/<name:str>"))
             for i in range(4)]
    plan += [("GET", "/boom", None, 500, ("GET", "/boom"))] * 3
    plan += [("GET", "/stream", None, 200, ("GET", "/stream"))] * 2
    plan += [("GET", f"/users/u{i}", None, 404, ("GET", UNMATCHED)) for i in range(6)]
    plan += [("GET", f"/scan/{i}/x.php", None, 404, ("GET", UNMATCHED)) for i in range(30)]
    plan += [("DELETE", "/", None, 405, ("DELETE", UNMATCHED))] * 2
    # excluded: by last segment (a route and an unmatched one), under /static
    plan += [("GET", "/ready", None, 200, None)] * 3  # (wait_ready asks it too)
    plan += [("GET", "/favicon.ico", None, 404, None)] * 2
    plan += [("GET", "/static/app.js", None, 200, None)] * 2
    plan += [("GET", "/static/none.css", None, 404, None)] * 2
    for method, path, body, status, key in plan:
        got = request(port, method, path, body=body)[0]
        assert got == status, (method, path, got)
        if key is not None:
            want[(*key, str(status))] += 1
    return want


def check_exact(samples: Mapping, want: Tally) -> None:
    """The exposition holds exactly the expected request metrics."""
    got = {(dict(k)["method"], dict(k)["endpoint"], dict(k)["status"]): v
           for (name, k), v in samples.items() if name == "http_requests_total"}
    assert got == dict(want)
    per_ep: Tally = Tally()
    e4: Tally = Tally()
    e5: Tally = Tally()
    for (_, ep, status), n in want.items():
        per_ep[ep] += n
        if status.startswith("4"):
            e4[ep] += n
        elif status.startswith("5"):
            e5[ep] += n

    def family(name: str) -> dict[str, float]:
        return {dict(k)["endpoint"]: v for (n, k), v in samples.items() if n == name}

    assert {k: v for k, v in family("http_requests_4xx_total").items() if v} == dict(e4)
    assert {k: v for k, v in family("http_requests_5xx_total").items() if v} == dict(e5)
    assert family("http_request_duration_seconds_count") == dict(per_ep)
    assert family("http_request_size_bytes_count") == dict(per_ep)
    assert family("http_response_size_bytes_count") == dict(per_ep)
    inf = {dict(k)["endpoint"]: v for (n, k), v in samples.items()
           if n == "http_request_duration_seconds_bucket" and dict(k)["le"] == "+Inf"}
    assert inf == dict(per_ep)
    assert set(family("http_requests_in_progress")) == set(per_ep)
    assert all(v == 0 for v in family("http_requests_in_progress").values())
    # sizes: 5 POSTs of 11 bytes answered 1234 bytes; "/" answers "ok"
    assert family("http_request_size_bytes_sum")["/items"] == 5 * 11
    assert family("http_response_size_bytes_sum")["/items"] == 5 * 1234
    assert family("http_response_size_bytes_sum")["/"] == 7 * 2
    # no series per raw path, none for excluded paths
    endpoints = {dict(k).get("endpoint") for (n, k) in samples if n.startswith("http_")}
    assert endpoints == set(per_ep)


def http_samples(text: str) -> dict:
    return {k: v for k, v in parse_samples(text).items() if k[0].startswith("http_")}


def wait_total(fetch, total: int) -> dict:
    """Poll until the exposition counts ``total`` requests (the drain runs
    every few ms), then return its samples."""
    last: dict = {}

    def ready() -> Optional[dict]:
        last["s"] = s = fetch()
        n = sum(v for (name, _), v in s.items() if name == "http_requests_total")
        return s if n == total else None
    try:
        return wait_for(ready, timeout=30, interval=0.05)
    except AssertionError:
        got = {k: v for k, v in last["s"].items() if k[0] == "http_requests_total"}
        raise AssertionError(f"want {total} requests, the exposition has {got}") from None


# ---- 1. a shmetricsd started beforehand ----------------------------------------

def test_sanic_workers_with_running_daemon(ns, daemon, server_factory) -> None:
    srv = server_factory(ns, aggregator="auto")
    want = drive(srv.port)
    total = sum(want.values())
    from_daemon = wait_total(lambda: http_samples(daemon.text()), total)
    check_exact(from_daemon, want)

    status, headers, body = srv.get("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    from_app = http_samples(body.decode())
    assert from_app == from_daemon  # the same merged exposition
    # "auto" found the daemon serving: it started no second one
    assert aggregators(ns) == [daemon.proc.pid]


# ---- 2. zero configuration ----------------------------------------------------

def test_sanic_zero_configuration(ns, server_factory) -> None:
    assert aggregators(ns) == []
    srv = server_factory(ns)
    wait_for(lambda: srv.get("/metrics")[0] == 200, timeout=30, interval=0.05)
    assert len(aggregators(ns)) == 1
    want = drive(srv.port)
    got = wait_total(lambda: http_samples(srv.get("/metrics")[2].decode()), sum(want.values()))
    check_exact(got, want)

    status, headers, body = srv.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    assert http_samples(gzip.decompress(body).decode()) == got

    om = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    status, headers, body = srv.get("/metrics", headers={"Accept": om})
    assert status == 200 and headers["content-type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    assert b'http_requests_total{method="GET",endpoint="/",status="200"} 7' in body

    # Sanic 25.12 itself sometimes fails its own shutdown when stopped soon
    # after start (a worker state of None in WorkerProcess.set_state, exit
    # status 1); what matters here is that it stopped, and took the
    # aggregator with it.
    rc = srv.stop()
    assert rc in (0, 1) and (rc == 0 or "set_state" in srv.output()), srv.output()[-4000:]
    wait_for(lambda: aggregators(ns) == [], timeout=15)
    left = sorted(n for n in os.listdir(SHM_DIR) if n.endswith("." + ns))
    # the segment, and the checkpoint the aggregator writes at a graceful stop
    assert left in (["shmetrics." + ns], ["shmetrics-state." + ns, "shmetrics." + ns])
    assert "shmetrics-state." + ns in left


# ---- 3. a segment the app may not open -----------------------------------------

def test_sanic_segment_not_writable(ns, server_factory) -> None:
    shmetrics.open(ns)
    path = _client.segment_path(ns)
    _client._clients.pop(ns).close()
    if os.geteuid() == 0:
        # Root opens any file (CAP_DAC_OVERRIDE): give the segment to another
        # user and run the app as root without that capability, so that the
        # kernel refuses it as it refuses any other user.
        setpriv = "/usr/bin/setpriv"
        if not os.access(setpriv, os.X_OK):
            pytest.skip("running as root without setpriv: nothing refuses root the segment")
        os.chown(path, 65534, 65534)
        os.chmod(path, 0o600)
        prefix: Sequence[str] = (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
    else:
        os.chmod(path, 0)  # its owner is refused too
        prefix = ()
    srv = server_factory(ns, prefix=prefix)
    for i in range(5):
        assert srv.get(f"/users/{i}")[0] == 200
    assert srv.get("/nope")[0] == 404
    status, _, body = srv.get("/metrics")
    assert status == 503
    text = body.decode()
    assert "cannot open segment" in text and path in text
    assert aggregators(ns) == []
    # one clear error per process at its start (the main process and each
    # worker), none per request
    out = srv.output()
    assert out.count("cannot open segment") == WORKERS + 1, out
    assert "Traceback" not in out
