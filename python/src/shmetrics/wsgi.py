"""Request metrics for WSGI applications: Flask, Django, any WSGI app.

``MetricsMiddleware`` records the request families every shmetrics
integration records (``shmetrics._http``) and serves the host-wide merged
exposition of the namespace's ``shmetricsd`` at the app's own ``/metrics``.
Under gunicorn every worker records into the same shared-memory segment, so
any worker's ``/metrics`` answers for all of them; ``gunicorn -c
python:shmetrics.gunicorn`` runs the aggregator from gunicorn's master::

    from flask import Flask
    from shmetrics.wsgi import MetricsMiddleware

    app = Flask(__name__)

    @app.get("/users/<int:uid>")
    def user(uid):
        return {"uid": uid}

    app.wsgi_app = MetricsMiddleware(app.wsgi_app)
    # gunicorn -c python:shmetrics.gunicorn -w 4 module:app

``endpoint`` is the URL rule (``/users/<int:uid>``) when the app is Flask
(``MetricsMiddleware(app)`` or ``MetricsMiddleware(app.wsgi_app)``), else
what ``route_of(environ)`` returns; requests that match no route share
``shmetrics._http.UNMATCHED``. For Django::

    from django.urls import Resolver404, resolve

    def route_of(environ):
        try:
            return "/" + resolve(environ["PATH_INFO"]).route
        except Resolver404:
            return None

    application = MetricsMiddleware(get_wsgi_application(), route_of=route_of)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable, Optional

from . import _aggregator, _http

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], Any]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
RouteOf = Callable[[Environ], Optional[str]]

#: Flask rule lookups remembered per (method, path); cleared whole when full.
_CACHE_SIZE = 4096


def _flask_app(app: Any) -> Any:
    """The Flask app behind ``app`` (the app itself or its ``wsgi_app``)."""
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    for candidate in (app, getattr(app, "__self__", None)):
        if isinstance(candidate, flask.Flask):
            return candidate
    return None


class _FlaskRoutes:
    """The URL rule a request matches, the way Flask's url_adapter finds it."""

    def __init__(self, app: Any) -> None:
        from werkzeug.exceptions import HTTPException

        self.app = app
        self.errors = HTTPException
        self.cache: dict[tuple[str, ...], str] = {}
        self.adapter: Any = None  # one for every request when the host plays no part

    def __call__(self, environ: Environ) -> str:
        app = self.app
        url_map = app.url_map
        by_host = url_map.host_matching or app.subdomain_matching
        key: tuple[str, ...] = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        if by_host:
            key = (*key, environ.get("HTTP_HOST", ""))
        found = self.cache.get(key)
        if found is not None:
            return found
        try:
            if by_host:
                rule, _ = self._bind(environ).match(return_rule=True)
            else:
                if self.adapter is None:
                    self.adapter = url_map.bind("localhost")
                rule, _ = self.adapter.match(key[1], key[0], return_rule=True)
            found = rule.rule
        except self.errors:  # 404, 405, a redirect to the slash form: no rule
            found = _http.UNMATCHED
        except Exception:  # a converter that raised: Flask will say what
            found = _http.UNMATCHED
        if len(self.cache) >= _CACHE_SIZE:
            self.cache.clear()
        self.cache[key] = found
        return found

    def _bind(self, environ: Environ) -> Any:
        """The url_adapter Flask makes for this request (``create_url_adapter``)."""
        app, url_map = self.app, self.app.url_map
        server_name = app.config.get("SERVER_NAME")
        subdomain = None
        if url_map.host_matching:
            server_name = None  # as Flask does: the Host header decides
        elif not app.subdomain_matching:
            subdomain = url_map.default_subdomain or ""
        return url_map.bind_to_environ(environ, server_name=server_name, subdomain=subdomain)


class MetricsMiddleware(_http.MiddlewareCore):
    """Record every request of a WSGI app; serve ``metrics_path``.

    ``exclude``: last path segments not recorded (``shmetrics._http.DEFAULT_EXCLUDE``).
    ``metrics_path``: where the app serves the merged exposition of all
    workers (content negotiation and gzip passed through); None serves none.
    ``namespace``: the shmetrics namespace (default ``$SHMETRICS_NS``).
    ``const_labels``, ``duration_buckets``, ``size_buckets``: as
    ``shmetrics._http.HTTPMetrics``. ``route_of(environ)``: the endpoint of a
    request (None means unmatched); Flask apps need none. ``autostart``:
    start a detached ``shmetricsd`` when none serves the namespace (default:
    ``$SHMETRICS_AUTOSTART``).

    The request is recorded when the server closes the response iterable
    (the app's own ``close()`` runs first), so the latency covers sending
    the body. An exception from the app or from its iterable is recorded as
    a 500, then re-raised. Request size is the Content-Length; response size
    is the body bytes the app produced (the Content-Length for a
    ``wsgi.file_wrapper`` response, which is passed on unwrapped so the
    server can still use sendfile).

    >>> def hello(environ, start_response):
    ...     start_response("200 OK", [("Content-Type", "text/plain")])
    ...     return [b"hello"]
    >>> app = MetricsMiddleware(hello, route_of=lambda environ: "/hello")
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        exclude: Iterable[str] = _http.DEFAULT_EXCLUDE,
        metrics_path: Optional[str] = "/metrics",
        namespace: Optional[str] = None,
        const_labels: Optional[Mapping[str, str]] = None,
        duration_buckets: Optional[Sequence[float]] = None,
        size_buckets: Optional[Sequence[float]] = None,
        route_of: Optional[RouteOf] = None,
        autostart: Optional[bool] = None,
    ) -> None:
        self.app = app
        if route_of is None:
            flask_app = _flask_app(app)
            if flask_app is not None:
                route_of = _FlaskRoutes(flask_app)
        self._route_of = route_of
        self._setup(exclude, metrics_path, namespace, const_labels, duration_buckets,
                    size_buckets, autostart)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == self._metrics_path:
            return self._serve_metrics(environ, start_response)
        if self._metrics is None or self._is_excluded(path):
            return self.app(environ, start_response)
        endpoint = _http.UNMATCHED
        if self._route_of is not None:
            endpoint = self._route_of(environ) or _http.UNMATCHED
        request = _Request(self._metrics, endpoint, environ)

        def counting_start_response(status: str, headers: list[tuple[str, str]],
                                    exc_info: Any = None) -> Callable[[bytes], Any]:
            request.status = status
            request.headers = headers
            write = start_response(status, headers, exc_info)

            def counting_write(data: bytes) -> Any:
                request.sent += len(data)
                return write(data)

            return counting_write

        try:
            result = self.app(environ, counting_start_response)
        except BaseException:
            request.finish(failed=True)
            raise
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(result, wrapper):
            return request.follow_file(result)
        return _Body(result, request)

    def _serve_metrics(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            body = b"method not allowed\n"
            start_response("405 Method Not Allowed", [
                ("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body)))])
            return [body]
        asked = {}
        if "HTTP_ACCEPT" in environ:
            asked["Accept"] = environ["HTTP_ACCEPT"]
        if "HTTP_ACCEPT_ENCODING" in environ:
            asked["Accept-Encoding"] = environ["HTTP_ACCEPT_ENCODING"]
        status, headers, body = _aggregator.scrape(self._namespace, asked)
        reason = {200: "OK", 503: "Service Unavailable"}.get(status, "")
        start_response(f"{status} {reason}".rstrip(),
                       [*headers, ("Content-Length", str(len(body)))])
        return [b""] if method == "HEAD" else [body]


class _Request:
    """One request between the app's call and the server's ``close()``."""

    __slots__ = ("ep", "headers", "length", "method", "metrics", "sent", "start", "status")

    def __init__(self, metrics: _http.HTTPMetrics, endpoint: str, environ: Environ) -> None:
        self.metrics = metrics
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.length = environ.get("CONTENT_LENGTH")
        self.status: Optional[str] = None
        self.headers: list[tuple[str, str]] = []
        self.sent = 0
        self.ep: Optional[_http.Endpoint] = metrics.begin(endpoint)
        self.start = time.perf_counter()

    def finish(self, failed: bool = False) -> None:
        """Record the request once (the server may close twice)."""
        ep = self.ep
        if ep is None:
            return
        self.ep = None
        seconds = time.perf_counter() - self.start
        status = 500
        if not failed and self.status:
            try:
                status = int(self.status[:3])
            except ValueError:
                pass
        try:
            request_bytes = int(self.length) if self.length else 0
        except ValueError:
            request_bytes = 0
        self.metrics.end(ep, self.method, status, seconds, request_bytes, self.sent)

    def follow_file(self, result: Any) -> Any:
        """A file_wrapper response: counted by its Content-Length, recorded
        at its ``close()``."""
        for k, v in self.headers:
            if k.lower() == "content-length":
                try:
                    self.sent = int(v)
                except ValueError:
                    pass
        inner = getattr(result, "close", None)

        def close() -> None:
            try:
                if inner is not None:
                    inner()
            finally:
                self.finish()

        try:
            result.close = close
        except AttributeError:  # a wrapper that cannot be followed: record now
            self.finish()
        return result


class _Body:
    """The app's response iterable, counted; ``close()`` is passed on."""

    __slots__ = ("request", "result")

    def __init__(self, result: Iterable[bytes], request: _Request) -> None:
        self.result = result
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        request = self.request
        try:
            for chunk in self.result:
                request.sent += len(chunk)
                yield chunk
        except GeneratorExit:  # the server stopped early (the client left): not an error
            raise
        except BaseException:
            request.status = None  # recorded as a 500 at close()
            raise

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.request.finish()
