"""Request metrics for Sanic apps, merged over every worker on the host.

One call instruments an app and, with no other setup, serves the host-wide
merged metrics at the app's own ``/metrics``::

    from sanic import Sanic, text
    from shmetrics.sanic import instrument

    app = Sanic("hello")
    instrument(app)

    @app.get("/users/<uid:int>")
    async def user(request, uid):
        return text(f"user {uid}")

    # sanic hello:app --workers 4   then   curl localhost:8000/metrics

It records the seven families of :mod:`shmetrics._http`
(``http_requests_total{method,endpoint,status}``, the latency histogram,
in progress, request and response sizes, 4xx and 5xx) with ``endpoint`` the
matched route's template (``/users/<uid:int>``) and ``__unmatched__`` for
every request that matches no route.

How it hooks in (the cheapest hook that sees every request; the figures are
in ``docs/python-sanic.md``): the app's ``handle_request`` and
``handle_exception`` are wrapped by giving the app a subclass of its own
class, and each route handler by a plain function that marks the request in
progress. No middleware and no signal is registered, so Sanic's start-up
optimisation still strips its unused signal dispatches. A handler that
raises is counted with the status of the error response Sanic sends (500
for an unexpected exception), a client that goes away mid-request as 499,
a response timeout as 503, and requests Sanic rejects before routing them
(malformed, header too large, request timeout) under ``__unmatched__``.

With ``aggregator="auto"`` (the default) ``shmetricsd`` runs as a process
of Sanic's worker manager (stopped with the server) unless one already
serves the namespace; ``"external"`` never starts one (systemd, sidecar).
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional

from sanic import Sanic
from sanic.constants import HTTP_METHODS
from sanic.log import error_logger, logger
from sanic.response import HTTPResponse

from . import _aggregator, _client
from ._http import DEFAULT_EXCLUDE, UNMATCHED, HTTPMetrics, is_excluded
from ._native import SegmentError

__all__ = ["DEFAULT_EXCLUDE", "UNMATCHED", "instrument"]

#: The method label of a request whose method is not a standard one, so
#: that a client inventing methods cannot add series.
OTHER_METHOD = "OTHER"
_METHODS = frozenset(str(m.value) for m in HTTP_METHODS)
_ROUTE_NAME = "shmetrics_metrics"
_PROCESS_NAME = "shmetricsd"
_STOP_WAIT = 10.0
_PR_SET_PDEATHSIG = 1


def instrument(
    app: Sanic,
    *,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    metrics_path: Optional[str] = "/metrics",
    aggregator: str = "auto",
    namespace: Optional[str] = None,
    const_labels: Optional[Mapping[str, str]] = None,
    duration_buckets: Optional[Sequence[float]] = None,
    size_buckets: Optional[Sequence[float]] = None,
    listen: str = "127.0.0.1:0",
) -> Optional[HTTPMetrics]:
    """Record the request metrics of ``app`` and serve the host's merged
    exposition at ``metrics_path``.

    ``exclude``: last path segments not recorded (and everything under
    ``/static`` and ``/docs`` when those are listed); a matched request is
    judged by its route template, an unmatched one by its path. The
    ``metrics_path`` route is never recorded. ``metrics_path=None`` serves
    no exposition. ``aggregator``: ``"auto"`` runs ``shmetricsd`` (listening
    on ``listen``) under Sanic's worker manager unless one already serves
    the namespace; ``"external"`` never starts one. ``namespace``: the
    shmetrics namespace (default ``$SHMETRICS_NS``, else ``default``).
    ``const_labels`` adds fixed labels to every series (``{"server":
    "web-1"}``); the buckets default to ``_http.DURATION_BUCKETS`` and ``_http.SIZE_BUCKETS``.

    Returns the :class:`~shmetrics._http.HTTPMetrics` recording, or None
    when the segment cannot be opened: then one error is logged, the app
    serves as before, unrecorded, and ``metrics_path`` answers 503 with
    the reason.

    >>> from sanic import Sanic
    >>> from shmetrics.sanic import instrument
    >>> app = Sanic("doc_example")
    >>> m = instrument(app, aggregator="external")
    """
    if aggregator not in ("auto", "external"):
        raise ValueError(f"aggregator must be 'auto' or 'external', not {aggregator!r}")
    if getattr(type(app), "_shmetrics_instrumented", False):
        raise RuntimeError(f"shmetrics: the Sanic app {app.name!r} is instrumented already")
    ns = _client.resolve(namespace)
    try:
        metrics: Optional[HTTPMetrics] = HTTPMetrics(
            const_labels=const_labels, duration_buckets=duration_buckets,
            size_buckets=size_buckets, namespace=ns)
    except SegmentError as e:
        error_logger.error("%s; requests are not recorded, %s answers 503", e,
                           metrics_path or "no metrics route")
        metrics = None
    if metrics_path is not None:
        app.add_route(_metrics_route(ns), metrics_path, methods=["GET"], name=_ROUTE_NAME)
    if metrics is not None:
        _Recorder(app, metrics, frozenset(exclude)).install()
    if aggregator == "auto" and metrics is not None:
        # (a process that cannot open the segment cannot run shmetricsd for it)
        _own_aggregator(app, ns, listen)
    return metrics


def _metrics_route(ns: str) -> Callable[..., Any]:
    async def shmetrics_metrics(request: Any) -> HTTPResponse:
        """The host-wide exposition, from the namespace's aggregator."""
        status, headers, body = await _aggregator.scrape_async(ns, request.headers)
        ctype = None
        rest = {}
        for k, v in headers:
            if k.lower() == "content-type":
                ctype = v
            else:
                rest[k] = v
        return HTTPResponse(body, status=status, headers=rest, content_type=ctype)

    return shmetrics_metrics


class _Recorder:
    """The hooks of one app: its ``handle_request``/``handle_exception``
    overrides and the route-handler wrappers, sharing ``begun``."""

    def __init__(self, app: Sanic, metrics: HTTPMetrics, exclude: frozenset) -> None:
        self.app = app
        self.m = metrics
        self.exclude = exclude
        #: id(request) -> the Endpoint its handler began, or None until then
        #: (present while the request is inside handle_request).
        self.begun: dict[int, Any] = {}
        #: route uri -> endpoint name, or None for an excluded route.
        self.routes: dict[str, Optional[str]] = {}
        self.outer: set[int] = set()

    def install(self) -> None:
        base = type(self.app)
        rec = self
        # base.handle_request is looked up on every call, not kept: Sanic's
        # start-up optimisation (TouchUp) replaces it on the class.

        async def handle_request(self: Sanic, request: Any) -> None:
            begun = rec.begun
            key = id(request)
            begun[key] = None
            t0 = time.perf_counter()
            try:
                await base.handle_request(self, request)
            except BaseException as e:
                rec.finish(request, key, t0, e)
                raise
            rec.finish(request, key, t0, None)

        async def handle_exception(self: Sanic, request: Any, exception: BaseException,
                                   run_middleware: bool = True) -> None:
            if request is None or rec.seen(request):
                return await base.handle_exception(self, request, exception, run_middleware)
            key = id(request)
            rec.outer.add(key)
            t0 = time.perf_counter()
            try:
                await base.handle_exception(self, request, exception, run_middleware)
            finally:
                rec.outer.discard(key)
                rec.finish_rejected(request, t0)

        sub = type(base.__name__, (base,), {
            "__slots__": (), "__module__": base.__module__, "__qualname__": base.__qualname__,
            "_shmetrics_instrumented": True,
            "handle_request": handle_request, "handle_exception": handle_exception,
        })
        self.app.__class__ = sub
        self.app.before_server_start(self._wrap_routes)

    def seen(self, request: Any) -> bool:
        """True when handle_request has (or had) this request: the
        exception is one of its own, recorded there."""
        if id(request) in self.begun or id(request) in self.outer:
            return True
        current = getattr(type(request), "_current", None)
        return current is not None and current.get(None) is request

    def _wrap_routes(self, app: Sanic, *_: Any) -> None:
        """Before serving: each route's handler marks its request in
        progress under the route's template (no lookup per request)."""
        for route in app.router.routes:
            uri = route.uri if route.uri.startswith("/") else "/" + route.uri
            name: Optional[str] = uri
            if route.name.endswith(_ROUTE_NAME) or is_excluded(uri, self.exclude):
                name = None
            self.routes[route.uri] = name
            if name is not None and not getattr(route.handler, "_shmetrics_route", None):
                route.handler = self._wrap(route.handler, name)

    def _wrap(self, handler: Callable[..., Any], name: str) -> Callable[..., Any]:
        begun = self.begun
        begin = self.m.begin

        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            begun[id(request)] = begin(name)
            return handler(request, *args, **kwargs)

        functools.update_wrapper(wrapped, handler)
        wrapped._shmetrics_route = name  # type: ignore[attr-defined]
        return wrapped

    def finish(self, request: Any, key: int, t0: float, exc: Optional[BaseException]) -> None:
        """After handle_request: record the request, whatever happened."""
        seconds = time.perf_counter() - t0
        ep = self.begun.pop(key, None)
        if ep is None:
            route = request.route
            if route is None:
                if is_excluded(request.path, self.exclude):
                    return
                name: Optional[str] = UNMATCHED
            else:
                name = self.routes.get(route.uri, route.uri)
            if name is None:
                return
            ep = self.m.begin(name)
        stream = request.stream
        resp = getattr(stream, "response", None)
        if resp is not None:
            status = resp.status
            sent = _body_bytes(request, resp)
        else:
            sent = 0
            if exc is not None:
                # A response timeout leaves its 503 on the stream; a
                # cancellation without one is the client going away.
                status = getattr(getattr(stream, "exception", None), "status_code", None) or (
                    499 if isinstance(exc, asyncio.CancelledError) else 500)
            elif request.route is not None and getattr(request.route.handler,
                                                       "is_websocket", False):
                status = 101
            else:
                status = 500  # Sanic answers "Handler produced no response"
        method = request.method
        if method not in _METHODS:
            method = OTHER_METHOD
        received = len(request.body) or getattr(stream, "request_bytes", 0) or 0
        self.m.end(ep, method, status, seconds, received, sent)

    def finish_rejected(self, request: Any, t0: float) -> None:
        """After Sanic answered a request it rejected before routing it."""
        seconds = time.perf_counter() - t0
        resp = getattr(request.stream, "response", None)
        status = resp.status if resp is not None else 500
        method = request.method if request.method in _METHODS else OTHER_METHOD
        ep = self.m.begin(UNMATCHED)
        self.m.end(ep, method, status, seconds, 0, _body_bytes(request, resp) if resp else 0)


def _body_bytes(request: Any, resp: Any) -> int:
    """The body bytes of a response: the body, or the declared length of a
    streamed one (best effort: 0 for a chunked stream of unknown length)."""
    if request.method == "HEAD":
        return 0
    body = resp.body
    if body:
        return len(body)
    try:
        return int(resp.headers.get("content-length", 0))
    except (TypeError, ValueError):
        return 0


# ---- the aggregator ----------------------------------------------------------


def _own_aggregator(app: Sanic, ns: str, listen: str) -> None:
    """Run shmetricsd beside the server unless one serves ``ns`` already:
    under the worker manager in multi-process mode, as a child of the one
    process with ``single_process``."""
    state: dict[str, Any] = {}

    def ready(app: Sanic, *_: Any) -> None:
        if _serving(ns):
            return
        app.manager.manage(_PROCESS_NAME, _run_aggregator,
                           {"namespace": ns, "listen": listen}, transient=False)
        logger.info("shmetrics: shmetricsd for namespace %r runs under the worker manager", ns)

    def single_start(app: Sanic, *_: Any) -> None:
        if os.environ.get("SANIC_WORKER_NAME") or getattr(app, "asgi", False):
            return  # a worker of the manager, or an ASGI server's app
        if _serving(ns):
            return
        try:
            state["proc"] = _aggregator.start(ns, listen)
        except (OSError, RuntimeError) as e:
            error_logger.error("shmetrics: could not start shmetricsd: %s", e)
            return
        logger.info("shmetrics: started shmetricsd (pid %d) for namespace %r on %s",
                    state["proc"].pid, ns, _aggregator.find(ns))

    def single_stop(app: Sanic, *_: Any) -> None:
        proc = state.pop("proc", None)
        if proc is not None:
            _stop(proc)

    app.main_process_ready(ready)
    app.before_server_start(single_start)
    app.after_server_stop(single_stop)


def _serving(ns: str) -> bool:
    try:
        addr = _aggregator.find(ns)
    except OSError as e:
        error_logger.error("shmetrics: not starting shmetricsd: %s", e)
        return True
    if addr is not None:
        logger.info("shmetrics: using the shmetricsd serving namespace %r on %s", ns, addr)
        return True
    return False


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(_STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _run_aggregator(namespace: str, listen: str = "127.0.0.1:0") -> None:
    """The managed process: becomes ``shmetricsd`` for ``namespace``. It
    asks the kernel for SIGTERM should Sanic's main process die without
    stopping it (the signal survives the exec), so no aggregator outlives
    its server."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        return  # the server is gone already
    _aggregator.run_forever(namespace, listen)
