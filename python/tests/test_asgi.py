"""shmetrics.asgi.MetricsMiddleware under a real uvicorn: a Starlette app on
two workers against a real shmetricsd, and a FastAPI app whose aggregator
starts only after it served requests."""

from __future__ import annotations

import gzip
import os
import random
import signal
import sys
import time

import pytest
from conftest import Daemon, parse_samples
from web_util import (
    HERE,
    Record,
    Server,
    diff,
    free_port,
    http_part,
    in_progress,
    request,
    run,
    settle,
    wait_for,
)

from shmetrics._http import UNMATCHED

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

EXCLUDED = ""  # the endpoint of a step the middleware must not record


def uvicorn(app: str, port: int, workers: int) -> Server:
    return Server([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                   "--no-access-log"], port)


def starlette_steps() -> list:
    steps = [("GET", "/", None, "/", 200)] * 20
    steps += [("GET", f"/users/{i}", None, "/users/{uid:int}", 200) for i in range(60)]
    steps += [("GET", f"/users/abc{i}", None, UNMATCHED, 404) for i in range(5)]
    steps += [("POST", f"/items/n{i}", b"x" * i, "/items/{name}", 201) for i in range(1, 21)]
    steps += [("POST", "/users/5", None, "/users/{uid:int}", 405)] * 5
    steps += [("GET", "/teapot", None, "/teapot", 418)] * 7
    steps += [("GET", "/boom", None, "/boom", 500)] * 4
    steps += [("GET", f"/api/orders/o{i}", None, "/api/orders/{oid}", 200) for i in range(15)]
    steps += [("GET", f"/nope/{i}", None, UNMATCHED, 404) for i in range(10)]
    steps += [("GET", "/health/ready", None, EXCLUDED, 200)] * 5
    steps += [("GET", "/static/app.js", None, EXCLUDED, 404)] * 3
    random.Random(10).shuffle(steps)
    return steps


def send(port: int, steps: list, record: Record) -> None:
    recorded = [s for s in steps if s[3] != EXCLUDED]
    skipped = Record()
    run(port, recorded, record)
    run(port, [s for s in steps if s[3] == EXCLUDED], skipped)
    assert record.errors == [] and skipped.errors == []


def test_starlette_two_workers(daemon: Daemon) -> None:
    port = free_port()
    with uvicorn("web_starlette_app:app", port, 2) as srv:
        srv.wait_ready()
        record = Record()
        send(port, starlette_steps(), record)
        deadline = time.monotonic() + 60  # until both workers answered (each request counts)
        while len(record.pids) < 2 and time.monotonic() < deadline:
            run(port, [("GET", "/", None, "/", 200)] * 10, record)
        assert len(record.pids) == 2, record.pids
        assert request(port, "GET", "/lifespan")[2] == b"lifespan ran"
        record.add("GET", "/lifespan", 200, 0, len(b"lifespan ran"))

        got, want = settle(daemon.samples, record)
        assert diff(http_part(got), want) == []
        assert set(in_progress(got).values()) == {0.0}

        # The exception is a 500 with its latency (the handler sleeps 0.06 s first).
        assert got[("http_request_duration_seconds_bucket",
                    frozenset({"endpoint": "/boom", "le": "0.05"}.items()))] == 0
        assert got[("http_requests_5xx_total", frozenset({"endpoint": "/boom"}.items()))] == 4

        # The app's own /metrics is the daemon's exposition.
        status, headers, body = request(port, "GET", "/metrics")
        assert status == 200 and headers["content-type"].startswith("text/plain")
        mine = {k: v for k, v in parse_samples(body.decode()).items()
                if k[0].startswith("http_")}
        theirs = {k: v for k, v in daemon.samples().items() if k[0].startswith("http_")}
        assert mine == theirs

        status, headers, body = request(port, "GET", "/metrics", headers={
            "Accept": "application/openmetrics-text; version=1.0.0",
            "Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["content-type"].startswith("application/openmetrics-text")
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(body).rstrip().endswith(b"# EOF")
        status, headers, body = request(port, "HEAD", "/metrics")
        assert (status, body) == (200, b"") and int(headers["content-length"]) > 0
        assert request(port, "POST", "/metrics")[0] == 405

        assert srv.stop() == 0


def test_fastapi_before_the_aggregator_starts(ns: str) -> None:
    pytest.importorskip("fastapi")
    port = free_port()
    with uvicorn("web_fastapi_app:app", port, 1) as srv:
        srv.wait_ready()
        steps = [("GET", f"/users/{i}", None, "/users/{uid}", 200) for i in range(8)]
        steps += [("GET", "/users/x", None, "/users/{uid}", 422)] * 2
        steps += [("GET", f"/api/v1/things/{i}", None, "/api/v1/things/{tid}", 200)
                  for i in range(1, 7)]
        steps += [("GET", "/api/v1/things/0", None, "/api/v1/things/{tid}", 404)] * 3
        steps += [("GET", "/nothing/here", None, UNMATCHED, 404)] * 2
        record = Record()
        run(port, steps, record)
        for path in ("/docs", "/openapi.json", "/health/ready"):
            assert request(port, "GET", path)[0] == 200  # excluded by default
        assert record.errors == []

        status, _, body = request(port, "GET", "/metrics")
        assert status == 503 and b"no shmetricsd" in body  # nothing serves the namespace yet

        daemon = Daemon(ns)  # what the workers recorded meanwhile is in its first scrape
        try:
            def scrape() -> dict:
                return parse_samples(request(port, "GET", "/metrics")[2].decode())
            got, want = settle(scrape, record)
            assert diff(http_part(got), want) == []
            assert set(in_progress(got).values()) == {0.0}
        finally:
            daemon.stop()
        assert srv.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled


def aggregators(ns: str) -> list[int]:
    """The pids of the shmetricsd processes serving ``ns``."""
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == b"shmetricsd" and ns.encode() in argv:
            out.append(int(entry))
    return out


def test_autostart_two_workers_one_aggregator(ns: str) -> None:
    port = free_port()
    srv = Server([sys.executable, "-m", "uvicorn", "web_starlette_app:app", "--host",
                  "127.0.0.1", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                 port, env={"SHMETRICS_AUTOSTART": "1"})
    try:
        with srv:
            srv.wait_ready()
            record = Record()
            run(port, [("GET", f"/users/{i}", None, "/users/{uid:int}", 200) for i in range(30)],
                record)
            assert record.errors == []

            def scrape() -> dict:
                return parse_samples(request(port, "GET", "/metrics")[2].decode())
            got, want = settle(scrape, record)
            assert diff(http_part(got), want) == []
            assert len(aggregators(ns)) == 1  # both workers asked; the daemon's lock kept one
            assert srv.stop() == 0
    finally:
        for pid in aggregators(ns):  # detached: it outlives the server, as designed
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not aggregators(ns), 30, what="the autostarted shmetricsd stopping")


def test_example_fastapi_app_runs(daemon: Daemon) -> None:
    pytest.importorskip("fastapi")
    examples = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples")
    port = free_port()
    srv = Server([sys.executable, "-m", "uvicorn", "--app-dir", examples, "fastapi_app:app",
                  "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], port)
    with srv:
        srv.wait_ready("/")  # one request to "/", recorded: the same again here
        record = Record()
        index = request(port, "GET", "/")[2]
        for _ in range(2):
            record.add("GET", "/", 200, 0, len(index))
        run(port, [("GET", "/users/7", None, "/users/{uid}", 200),
                   ("GET", "/api/v1/orders/3", None, "/api/v1/orders/{oid}", 200),
                   ("GET", "/api/v1/orders/300", None, "/api/v1/orders/{oid}", 404)], record)
        assert record.errors == []
        got, want = settle(daemon.samples, record)
        assert diff(http_part(got), want) == []
        assert got[("shop_orders_total", frozenset({"outcome": "missing"}.items()))] == 1
