"""A Flask app (``app.wsgi_app`` wrapped) and a plain WSGI app (wrapped with
a ``route_of``), dispatched by path prefix, served by gunicorn in the WSGI
and gunicorn suites."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

from flask import Flask, Response, request, send_file

import shmetrics
from shmetrics.wsgi import MetricsMiddleware

CLOSED = shmetrics.Counter("web_stream_closed", "Streamed responses whose close() ran.")
FILE = os.path.join(os.environ.get("WEB_TMP") or tempfile.gettempdir(), "web-flask-file.txt")
FILE_BODY = b"0123456789" * 30

flask_app = Flask(__name__)
flask_app.config["PROPAGATE_EXCEPTIONS"] = True  # the middleware sees the exception


@flask_app.after_request
def worker_header(response: Response) -> Response:
    response.headers["X-Worker"] = str(os.getpid())
    return response


@flask_app.get("/")
def root() -> str:
    return "ok"


@flask_app.get("/users/<int:uid>")
def user(uid: int) -> str:
    return f"user {uid}"


@flask_app.post("/items/<name>")
def item(name: str) -> tuple[str, int]:
    return f"{name} got {len(request.get_data())}", 201


@flask_app.get("/teapot")
def teapot() -> tuple[str, int]:
    return "short and stout", 418


@flask_app.get("/unavailable")
def unavailable() -> tuple[str, int]:
    return "try later", 503


@flask_app.get("/boom")
def boom() -> str:
    time.sleep(0.06)
    raise RuntimeError("boom")


@flask_app.get("/slow")
def slow() -> str:
    time.sleep(0.05)
    return "slow"


@flask_app.get("/hang")
def hang() -> str:
    with open(os.environ["WEB_HANG_FILE"], "w") as f:  # the test kills this worker now
        f.write(str(os.getpid()))
    time.sleep(120)
    return "never"


@flask_app.get("/stream")
def stream() -> Response:
    def chunks() -> Iterator[str]:
        yield "a" * 10
        yield "b" * 20

    response = Response(chunks(), mimetype="text/plain")
    response.call_on_close(CLOSED.inc)
    return response


@flask_app.get("/file")
def file() -> Response:
    return send_file(FILE, mimetype="text/plain")


@flask_app.get("/health/ready")
def ready() -> str:
    return "ready"


flask_app.wsgi_app = MetricsMiddleware(flask_app.wsgi_app)  # type: ignore[method-assign]

_tmp = f"{FILE}.{os.getpid()}"
with open(_tmp, "wb") as f:  # replaced whole: another worker may be sending it
    f.write(FILE_BODY)
os.replace(_tmp, FILE)

_THING = re.compile(r"^/plain/things/[0-9]+$")


def plain_route(environ: dict) -> Optional[str]:
    path = environ["PATH_INFO"]
    if _THING.match(path):
        return "/plain/things/{n}"
    return {"/plain/legacy": "/plain/legacy", "/plain/boom": "/plain/boom"}.get(path)


def plain_app(environ: dict, start_response: Callable) -> Any:
    path = environ["PATH_INFO"]
    if path == "/plain/boom":
        raise ValueError("plain boom")
    if path == "/plain/legacy":  # the old write() callable
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"legacy ")
        write(b"write")
        return []
    status = "200 OK" if plain_route(environ) else "404 Not Found"
    start_response(status, [("Content-Type", "text/plain")])
    return (part for part in (b"thing ", path.rsplit("/", 1)[-1].encode()))


plain = MetricsMiddleware(plain_app, route_of=plain_route, metrics_path=None)


def app(environ: dict, start_response: Callable) -> Any:
    if environ["PATH_INFO"].startswith("/plain/"):
        return plain(environ, start_response)
    return flask_app(environ, start_response)
