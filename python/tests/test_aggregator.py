"""Finding and asking the aggregator; recording with none running; the
readiness and worker-identity calls; GC metrics; a segment this process
may not open."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import Daemon, parse_samples, remove_namespace, value, wait_for

import shmetrics
from shmetrics import _aggregator, _client


def test_find_and_published_address(ns) -> None:
    assert _aggregator.find(ns) is None
    assert shmetrics.aggregator_attached(ns) is False
    d = Daemon(ns)
    try:
        host, _, port = d.addr.rpartition(":")
        assert host == "127.0.0.1" and int(port) > 0
        assert shmetrics.aggregator_attached(ns) is True
        assert shmetrics.aggregator_address(ns) == d.addr
        status, _, body = d.get("/healthz")
        assert (status, body) == (200, b"ok\n") or (status, body.strip()) == (200, b"ok")
    finally:
        assert d.stop() == 0
    assert _aggregator.find(ns) is None  # cleared at a graceful stop


def test_recorded_before_any_aggregator_is_served_once_it_starts(ns) -> None:
    c = shmetrics.Counter("early", "Recorded with no aggregator.")
    for _ in range(1000):
        c.inc()
    status, _, body = _aggregator.scrape(ns)
    assert status == 503
    assert body.decode() == (
        f"shmetrics: no shmetricsd is serving {_client.segment_path(ns)}; one in another "
        f"container must mount the same /dev/shm (docs/containers.md) (namespace {ns!r})\n"
    )
    d = Daemon(ns)
    try:
        assert value(d.samples(), "early_total") == 1000
    finally:
        d.stop()


def test_scrape_passes_negotiation_through(daemon, ns) -> None:
    shmetrics.Counter("negotiated", "x").inc(3)
    status, headers, body = _aggregator.scrape(ns, {"Accept-Encoding": "gzip"})
    h = dict((k.lower(), v) for k, v in headers)
    assert status == 200 and h["content-encoding"] == "gzip"
    import gzip

    assert value(parse_samples(gzip.decompress(body).decode()), "negotiated_total") == 3
    status, headers, body = _aggregator.scrape(
        ns, {"Accept": "application/openmetrics-text; version=1.0.0"})
    h = dict((k.lower(), v) for k, v in headers)
    assert status == 200 and h["content-type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_scrape_async_matches(daemon, ns) -> None:
    import asyncio

    shmetrics.Counter("async_scraped", "x").inc(7)
    status, _, body = asyncio.run(_aggregator.scrape_async(ns))
    assert status == 200
    assert value(parse_samples(body.decode()), "async_scraped_total") == 7


def test_ensure_starts_exactly_one(ns) -> None:
    code = textwrap.dedent(f"""
        from shmetrics import _aggregator
        print(_aggregator.ensure({ns!r}, wait=20))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = {p.communicate(timeout=60)[0].strip() for p in procs}
    try:
        assert len(outs) == 1 and next(iter(outs)) != "None"
        addr = next(iter(outs))
        assert _aggregator.find(ns) == addr
        found = subprocess.run(["pgrep", "-f", f"shmetricsd --ns {ns} "],
                               capture_output=True, text=True)
        assert len(found.stdout.split()) == 1
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"shmetricsd --ns {ns} "])
        wait_for(lambda: _aggregator.find(ns) is None)


def test_worker_id_is_a_bounded_slot_index(daemon, ns) -> None:
    c = _client.get(ns)
    w = c.worker_id()
    assert 0 <= w < 64
    assert c.worker_id() == w  # stable
    r, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(wfd, str(_client.get(ns).worker_id()).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = int(os.read(r, 16))
    assert 0 <= child < 64 and child != w  # its own slot while both live


def test_gc_metrics_per_worker(daemon, ns) -> None:
    import shmetrics.runtime as rt

    rt.enable_gc_metrics(ns)
    try:
        gc.collect(0)
        gc.collect(2)
        worker = str(_client.get(ns).worker_id())
        s = daemon.samples()
        assert value(s, "python_gc_collections_total", generation="2", worker=worker) >= 1
        assert value(s, "python_gc_collections_total", generation="0", worker=worker) >= 1
        assert all(dict(k[1]).get("worker") == worker for k in s
                   if k[0].startswith("python_gc_"))
    finally:
        rt.disable_gc_metrics()


def test_unwritable_segment_is_a_clear_error(ns, tmp_path) -> None:
    # A segment owned by root with mode 0600, opened by an unprivileged user.
    if os.getuid() != 0:
        pytest.skip("needs root to create a segment another user may not open")
    shmetrics.open(ns)
    path = _client.segment_path(ns)
    os.chmod(path, 0o600)
    code = textwrap.dedent(f"""
        import os, sys
        import shmetrics  # everything imported before the privileges go
        os.setgid(65534); os.setuid(65534)
        try:
            shmetrics.Counter("denied", "x", shmetrics_namespace={ns!r})
        except shmetrics.SegmentError as e:
            print("ERR", e.errno, e)
            sys.exit(0)
        sys.exit(1)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ERR 13 ")
    assert path in out.stdout and "mode 0600" in out.stdout and "uid 65534" in out.stdout


def test_invalid_namespace() -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        shmetrics.open("bad/namespace")


def test_cli_commands_run_the_binaries(ns) -> None:
    bindir = os.path.dirname(sys.executable)
    out = subprocess.run([os.path.join(bindir, "shmetricsd"), "--version"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("shmetricsd " + shmetrics.__version__)
    shmetrics.open(ns)
    out = subprocess.run([os.path.join(bindir, "shmtool"), "info", "--ns", ns],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and ns in out.stdout
    remove_namespace(ns)


def test_autostart_env_starts_one_detached_aggregator(ns) -> None:
    code = textwrap.dedent("""
        import shmetrics
        c = shmetrics.Counter("autostarted", "x")
        for _ in range(250):
            c.inc()
    """)
    env = {**os.environ, "SHMETRICS_AUTOSTART": "1", "SHMETRICS_LISTEN": "127.0.0.1:0"}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(4)]
    try:
        assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
        addr = wait_for(lambda: _aggregator.find(ns))
        host, _, port = addr.rpartition(":")
        import http.client

        def total() -> float:
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("GET", "/metrics")
            return value(parse_samples(conn.getresponse().read().decode()), "autostarted_total")

        assert wait_for(lambda: total() == 1000)
        found = subprocess.run(["pgrep", "-f", f"shmetricsd --ns {ns} "],
                               capture_output=True, text=True)
        assert len(found.stdout.split()) == 1  # the namespace lock kept it to one
    finally:
        subprocess.run(["pkill", "-TERM", "-f", f"shmetricsd --ns {ns} "])
        wait_for(lambda: _aggregator.find(ns) is None)


def test_http_metrics_bound_methods_and_unmatched(daemon) -> None:
    from shmetrics._http import OTHER_METHOD, UNMATCHED, HTTPMetrics, is_excluded

    m = HTTPMetrics(const_labels={"server": "web-1"})
    for i in range(50):
        ep = m.begin(UNMATCHED)
        m.end(ep, f"X{i}", 404, 0.001, 0, 10)
    ep = m.begin("/users/<uid:int>")
    m.end(ep, "GET", 503, 0.2, 120, 512)
    s = daemon.samples()
    assert value(s, "http_requests_total", server="web-1", method=OTHER_METHOD,
                 endpoint=UNMATCHED, status="404") == 50
    assert len([k for k in s if k[0] == "http_requests_total"]) == 2
    assert value(s, "http_requests_4xx_total", server="web-1", endpoint=UNMATCHED) == 50
    assert value(s, "http_requests_5xx_total", server="web-1", endpoint="/users/<uid:int>") == 1
    users = {"server": "web-1", "endpoint": "/users/<uid:int>"}
    assert value(s, "http_request_size_bytes_sum", **users) == 120
    assert value(s, "http_requests_in_progress", server="web-1", endpoint=UNMATCHED) == 0
    assert [is_excluded(p) for p in ("/metrics", "/a/favicon.ico", "/static/x/y.js", "/docs/",
                                     "/users/1", "/statics/x")] == [True, True, True, True,
                                                                   False, False]


def test_middlewares_keep_serving_when_the_segment_cannot_be_opened(
        ns, tmp_path, monkeypatch, caplog) -> None:
    import asyncio
    import logging

    from shmetrics import asgi, wsgi

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    monkeypatch.setenv("SHMETRICS_SHM_DIR", str(not_a_dir))  # open fails: ENOTDIR

    def hello_wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    async def hello_asgi(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})

    with caplog.at_level(logging.ERROR, logger="shmetrics"):
        w = wsgi.MetricsMiddleware(hello_wsgi)
        a = asgi.MetricsMiddleware(hello_asgi)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("cannot open segment" in m for m in errors)

    def wsgi_get(path: str) -> tuple[str, bytes]:
        got = {}

        def start_response(status, headers, exc_info=None):
            got["status"] = status

        body = b"".join(w({"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.input": None},
                          start_response))
        return got["status"], body

    assert wsgi_get("/hello") == ("200 OK", b"hello")
    status, body = wsgi_get("/metrics")
    assert status.startswith("503") and b"shmetrics:" in body

    async def asgi_get(path: str) -> list[dict]:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(msg):
            sent.append(msg)

        await a({"type": "http", "method": "GET", "path": path, "headers": [],
                 "query_string": b"", "root_path": ""}, receive, send)
        return sent

    sent = asyncio.run(asgi_get("/hello"))
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"hello"
    sent = asyncio.run(asgi_get("/metrics"))
    assert sent[0]["status"] == 503



def test_gc_metrics_before_the_namespace_is_open_take_no_lock(daemon, ns) -> None:
    import shmetrics.runtime as rt

    opened = _client._clients.pop(ns, None)  # as in a fresh worker: nothing open yet
    if opened is not None:
        opened.close()
    rt.enable_gc_metrics(ns)
    try:
        with _client._lock:  # a collection inside _client.get() must not wait for it
            gc.collect(0)
        shmetrics.open(ns)
        gc.collect(0)
        worker = str(_client.get(ns).worker_id())
        assert value(daemon.samples(), "python_gc_collections_total", generation="0",
                     worker=worker) >= 1
    finally:
        rt.disable_gc_metrics()
