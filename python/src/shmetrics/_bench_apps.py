# SPDX-License-Identifier: MIT
"""The servers ``bench/python-load.sh`` puts under load (not a public API).

Sanic, by factory, one variant per process chosen by ``$BENCH_APP``::

    BENCH_APP=none      sanic shmetrics._bench_apps:make_sanic --factory -w 2
    BENCH_APP=empty     ...   an empty request/response middleware pair
    BENCH_APP=shmetrics ...   shmetrics.sanic.instrument(app)
    BENCH_APP=prom_mp   ...   the seed's style: prometheus_client in multiprocess
                              mode, request/response middleware recording the same
                              seven metrics (labels() on every call), and /metrics
                              through MultiProcessCollector

WSGI for gunicorn, the same way (``shmetrics`` or ``prom_mp``)::

    BENCH_APP=prom_mp gunicorn 'shmetrics._bench_apps:make_wsgi()' -w 2

Every route answers with the worker's pid, so a client can count workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any, Callable

DURATION_BUCKETS = (.01, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10)
SIZE_BUCKETS = (100, 500, 1e3, 5e3, 1e4, 5e4, 1e5, 1e6)
UNMATCHED = "__unmatched__"


def _variant() -> str:
    v = os.environ.get("BENCH_APP", "none")
    if v not in ("none", "empty", "shmetrics", "prom_mp"):
        raise SystemExit(f"_bench_apps: unknown BENCH_APP {v!r}")
    return v


def prom_metrics() -> dict[str, Any]:
    """The seven request metrics on prometheus_client (multiprocess-aware)."""
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "requests": Counter("http_requests_total", "Requests.",
                            ["method", "endpoint", "status"]),
        "duration": Histogram("http_request_duration_seconds", "Latency.", ["endpoint"],
                              buckets=DURATION_BUCKETS),
        "in_progress": Gauge("http_requests_in_progress", "In flight.", ["endpoint"],
                             multiprocess_mode="livesum"),
        "req_size": Histogram("http_request_size_bytes", "Request size.", ["endpoint"],
                              buckets=SIZE_BUCKETS),
        "resp_size": Histogram("http_response_size_bytes", "Response size.", ["endpoint"],
                               buckets=SIZE_BUCKETS),
        "c4xx": Counter("http_requests_4xx_total", "4xx.", ["endpoint"]),
        "c5xx": Counter("http_requests_5xx_total", "5xx.", ["endpoint"]),
    }


def prom_record(m: dict[str, Any], endpoint: str, method: str, status: int, seconds: float,
                request_bytes: int, response_bytes: int) -> None:
    """What the seed's response middleware records, labels() on every call."""
    m["requests"].labels(method, endpoint, str(status)).inc()
    m["duration"].labels(endpoint).observe(seconds)
    m["in_progress"].labels(endpoint).dec()
    m["req_size"].labels(endpoint).observe(request_bytes)
    m["resp_size"].labels(endpoint).observe(response_bytes)
    if 400 <= status < 500:
        m["c4xx"].labels(endpoint).inc()
    elif status >= 500:
        m["c5xx"].labels(endpoint).inc()


def prom_exposition() -> bytes:
    """One scrape of a multiprocess directory, as the seed's /metrics does it."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return generate_latest(registry)


def make_sanic() -> Any:
    """The Sanic app of variant ``$BENCH_APP``."""
    from sanic import Sanic
    from sanic.response import raw, text

    variant = _variant()
    app = Sanic(f"bench_{variant}")
    app.config.ACCESS_LOG = False
    pid = str(os.getpid())

    @app.get("/users/<uid:int>")
    async def user(request: Any, uid: int) -> Any:
        return text(pid)

    @app.get("/")
    async def index(request: Any) -> Any:
        return text(pid)

    if variant == "empty":
        @app.on_request
        async def _empty_request(request: Any) -> None:
            pass

        @app.on_response
        async def _empty_response(request: Any, response: Any) -> None:
            pass

    elif variant == "shmetrics":
        from shmetrics.sanic import instrument

        instrument(app)

    elif variant == "prom_mp":
        from prometheus_client import CONTENT_TYPE_LATEST

        m = prom_metrics()
        excluded = ("metrics", "favicon.ico")

        @app.on_request
        async def _prom_request(request: Any) -> None:
            if request.path.rsplit("/", 1)[-1] in excluded:
                return
            request.ctx.t0 = time.perf_counter()
            request.ctx.ep = (request.uri_template or UNMATCHED) if request.route else UNMATCHED
            m["in_progress"].labels(request.ctx.ep).inc()

        @app.on_response
        async def _prom_response(request: Any, response: Any) -> None:
            t0 = getattr(request.ctx, "t0", None)
            if t0 is None:
                return
            body = response.body
            prom_record(m, request.ctx.ep, request.method, response.status,
                        time.perf_counter() - t0, len(request.body or b""),
                        len(body) if body else 0)

        @app.get("/metrics")
        async def metrics(request: Any) -> Any:
            return raw(prom_exposition(), content_type=CONTENT_TYPE_LATEST)

    return app


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi() -> WSGIApp:
    """The WSGI app of variant ``$BENCH_APP`` (``shmetrics`` or ``prom_mp``):
    ``/request`` records one request's seven metrics, ``/metrics`` (prom_mp) serves
    the multiprocess exposition."""
    variant = _variant()
    endpoint = "/request"
    if variant == "shmetrics":
        from shmetrics import _http

        hm = _http.HTTPMetrics()

        def record_begin() -> Any:
            return hm.begin(endpoint)

        def record_end(handle: Any, seconds: float, size: int) -> None:
            hm.end(handle, "GET", 200, seconds, 0, size)
    elif variant == "prom_mp":
        pm = prom_metrics()

        def record_begin() -> Any:
            pm["in_progress"].labels(endpoint).inc()
            return None

        def record_end(handle: Any, seconds: float, size: int) -> None:
            prom_record(pm, endpoint, "GET", 200, seconds, 0, size)
    else:
        raise SystemExit("_bench_apps.make_wsgi: BENCH_APP must be shmetrics or prom_mp")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") == "/metrics" and variant == "prom_mp":
            body = prom_exposition()
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [body]
        t0 = time.perf_counter()
        handle = record_begin()
        body = str(os.getpid()).encode()
        headers: list[tuple[str, str]] = [("Content-Type", "text/plain"),
                                          ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        record_end(handle, time.perf_counter() - t0, len(body))
        return [body]

    return app
