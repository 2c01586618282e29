"""shmetrics.wsgi.MetricsMiddleware under a real gunicorn with four sync
workers against a real shmetricsd: a Flask app (URL rules as endpoints) and
a plain WSGI app (a ``route_of``, the ``write()`` callable, generators)."""

from __future__ import annotations

import gzip
import random

import pytest
from conftest import Daemon, parse_samples
from web_util import (
    Record,
    Server,
    diff,
    free_port,
    gunicorn_argv,
    http_part,
    in_progress,
    request,
    run,
    settle,
)

from shmetrics._http import UNMATCHED

pytest.importorskip("gunicorn")
pytest.importorskip("flask")

NO_BODY = ("/boom", "/plain/boom")  # raised: the body the client got is gunicorn's own


def gunicorn(port: int, *args: str) -> Server:
    return Server(gunicorn_argv(port, *args), port)


def response_size(endpoint: str, body: bytes) -> int:
    return 0 if endpoint in NO_BODY else len(body)


def flask_steps() -> list:
    steps = [("GET", "/", None, "/", 200)] * 20
    steps += [("GET", f"/users/{i}", None, "/users/<int:uid>", 200) for i in range(40)]
    steps += [("GET", "/users/abc", None, UNMATCHED, 404)] * 3
    steps += [("POST", f"/items/n{i}", b"y" * i, "/items/<name>", 201) for i in range(1, 16)]
    steps += [("POST", "/users/5", None, UNMATCHED, 405)] * 3
    steps += [("GET", "/teapot", None, "/teapot", 418)] * 5
    steps += [("GET", "/unavailable", None, "/unavailable", 503)] * 4
    steps += [("GET", "/boom", None, "/boom", 500)] * 3
    steps += [("GET", "/stream", None, "/stream", 200)] * 6
    steps += [("GET", "/file", None, "/file", 200)] * 4
    steps += [("GET", f"/nope/{i}", None, UNMATCHED, 404) for i in range(8)]
    steps += [("GET", f"/plain/things/{i}", None, "/plain/things/{n}", 200) for i in range(10)]
    steps += [("GET", "/plain/legacy", None, "/plain/legacy", 200)] * 4
    steps += [("GET", "/plain/boom", None, "/plain/boom", 500)] * 3
    steps += [("GET", "/plain/what", None, UNMATCHED, 404)] * 3
    random.Random(20).shuffle(steps)
    return steps


def test_flask_and_plain_wsgi_four_workers(daemon: Daemon) -> None:
    port = free_port()
    with gunicorn(port, "-w", "4") as srv:
        srv.wait_ready()
        record = Record()
        run(port, flask_steps(), record, response_size=response_size)
        assert record.errors == []
        for path, status in (("/health/ready", 200), ("/static/app.css", 404),
                             ("/favicon.ico", 404), ("/api/metrics", 404)):
            for _ in range(2):  # answered, not recorded
                assert request(port, "GET", path)[0] == status

        got, want = settle(daemon.samples, record)
        assert diff(http_part(got), want) == []
        assert set(in_progress(got).values()) == {0.0}
        assert got[("web_stream_closed_total", frozenset())] == 6  # the app's close() ran
        assert got[("http_response_size_bytes_sum", frozenset({"endpoint": "/file"}.items()))] \
            == 4 * 300  # a wsgi.file_wrapper response, counted by its Content-Length
        assert got[("http_request_duration_seconds_bucket",
                    frozenset({"endpoint": "/boom", "le": "0.05"}.items()))] == 0
        assert got[("http_request_duration_seconds_count",
                    frozenset({"endpoint": "/boom"}.items()))] == 3

        status, headers, body = request(port, "GET", "/metrics")
        assert status == 200 and headers["content-type"].startswith("text/plain")
        mine = {k: v for k, v in parse_samples(body.decode()).items()
                if k[0].startswith("http_")}
        theirs = {k: v for k, v in daemon.samples().items() if k[0].startswith("http_")}
        assert mine == theirs

        status, headers, body = request(port, "GET", "/metrics", headers={
            "Accept": "application/openmetrics-text; version=1.0.0",
            "Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert headers["content-type"].startswith("application/openmetrics-text")
        assert gzip.decompress(body).rstrip().endswith(b"# EOF")
        status, headers, body = request(port, "HEAD", "/metrics")
        assert (status, body) == (200, b"") and int(headers["content-length"]) > 0
        assert request(port, "DELETE", "/metrics")[0] == 405

        assert srv.stop() == 0
