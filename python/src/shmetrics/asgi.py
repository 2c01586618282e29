"""Request metrics for ASGI applications: Starlette, FastAPI, any ASGI app.

``MetricsMiddleware`` records the request families every shmetrics
integration records (``shmetrics._http``: requests by method, endpoint and
status, latency, in progress, request and response sizes, 4xx and 5xx) and
serves the host-wide merged exposition of the namespace's ``shmetricsd`` at
the app's own ``/metrics``. Under ``uvicorn --workers N`` every worker
records into the same shared-memory segment, so any worker's ``/metrics``
answers for all of them::

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from shmetrics.asgi import MetricsMiddleware

    async def user(request):
        return PlainTextResponse(str(request.path_params["uid"]))

    app = MetricsMiddleware(Starlette(routes=[Route("/users/{uid:int}", user)]))
    # uvicorn module:app --workers 4; shmetricsd running (or SHMETRICS_AUTOSTART=1)

With FastAPI or Starlette, ``app.add_middleware(MetricsMiddleware)`` works
too. ``endpoint`` is the route template (``/users/{uid:int}``; a Mount's
prefix included), found through Starlette's router; requests that match no
route share ``shmetrics._http.UNMATCHED``. Lifespan and websocket scopes pass
through untouched.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Callable, Optional

from . import _aggregator, _http

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RouteOf = Callable[[Scope], Optional[str]]

#: Route lookups remembered per (method, path); cleared whole when full, so a
#: scanner walking random paths costs lookups but never memory.
_CACHE_SIZE = 4096
_SIZE_LIMIT = 10_000  # route objects whose templates are remembered
_AMBIGUOUS = "\0"
_UNKNOWN = object()  # a route kind only its own matches() understands


class _Routes:
    """The route templates of one Starlette (or FastAPI) router.

    Before the call, the template comes from a per-path cache, else from
    matching the scope against the router's routes the way the router does
    (so ``http_requests_in_progress`` carries the right endpoint while the
    request runs). After the call, the route the router chose
    (``scope["route"]``, FastAPI's effective route) is the authority: the
    middleware corrects a guess that differed and remembers the answer.
    """

    def __init__(self, router: Any) -> None:
        self.router = router
        self.cache: dict[Any, str] = {}
        self.prefixes: dict[int, tuple[Any, Optional[str]]] = {}  # id(route) -> (route, template)
        self.version = -1
        self.by_host = False

    def _refresh(self, routes: Sequence[Any]) -> None:
        self.version = len(routes)
        self.cache.clear()
        self.prefixes.clear()
        self.by_host = False
        self._index(routes, "", 0)

    def _index(self, routes: Iterable[Any], prefix: str, depth: int) -> None:
        """Remember the whole template of every route object (a Mount's
        prefix included); a router container maps to None: when it is the
        route the scope ends with, nothing inside it matched."""
        if depth > 8:
            return
        for route in routes:
            if len(self.prefixes) >= _SIZE_LIMIT:
                return
            path = getattr(route, "path", None)
            sub = _subroutes(route)
            if path is None and not sub:
                continue  # says nothing of its template
            if path is None:  # a Host: matches on the Host header, adds no path
                self.by_host = True
            template: Optional[str] = None
            if sub:
                self._index(sub, prefix + (path or ""), depth + 1)
            elif _is_mount(route):
                template = prefix + route.path_format
            else:
                template = prefix + path
            seen = self.prefixes.get(id(route))
            if seen is None:
                self.prefixes[id(route)] = (route, template)
            elif seen[1] != template:  # one route under two prefixes: the match decides
                self.prefixes[id(route)] = (route, _AMBIGUOUS)

    def key(self, scope: Scope) -> Any:
        if self.by_host:
            return (scope["method"], scope["path"], _header(scope, b"host"))
        return (scope["method"], scope["path"])

    def before(self, scope: Scope) -> str:
        """The endpoint to record while the request runs."""
        routes = self.router.routes
        if len(routes) != self.version:
            self._refresh(routes)
        found = self.cache.get(self.key(scope))
        if found is not None:
            return found
        try:
            found = _fast_match(routes, _route_path(scope), scope["method"], "", 0)
            if found is _UNKNOWN:
                found = _match(routes, scope, "", 0)
        except Exception:  # a custom route class that cannot match this scope
            found = None
        return found if isinstance(found, str) else _http.UNMATCHED

    def after(self, scope: Scope, guess: str) -> str:
        """The endpoint the router chose, remembered for the next request."""
        route = scope.get("route")
        endpoint = guess
        if route is not None:
            endpoint = _fastapi_template(scope) or self._template(route, guess)
        elif "router" in scope:  # the router ran and chose no route
            endpoint = _http.UNMATCHED
        if len(self.cache) >= _CACHE_SIZE:
            self.cache.clear()
        self.cache[self.key(scope)] = endpoint
        return endpoint

    def _template(self, route: Any, guess: str) -> str:
        known = self.prefixes.get(id(route))
        if known is not None and known[0] is route:
            if known[1] is None:
                return _http.UNMATCHED
            return guess if known[1] is _AMBIGUOUS else known[1]
        path = getattr(route, "path", None)  # a route added behind the router's back
        return path if isinstance(path, str) and not _subroutes(route) else guess


def _subroutes(route: Any) -> Optional[Sequence[Any]]:
    try:
        sub = getattr(route, "routes", None)
    except Exception:
        return None
    return sub if isinstance(sub, list) else None


def _is_mount(route: Any) -> bool:
    return isinstance(getattr(route, "path_format", None), str) and \
        route.path_format.endswith("/{path}") and hasattr(route, "app")


def _route_path(scope: Scope) -> str:
    """The path the router matches: ``path`` less ``root_path``."""
    path: str = scope["path"]
    root = scope.get("root_path") or ""
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root):]
    return path


def _fast_match(routes: Iterable[Any], path: str, method: str, prefix: str,
                depth: int) -> Any:
    """``_match`` for trees of Starlette's own Route and Mount, on their
    path regexes alone (route.matches() builds scopes, several times the
    cost); ``_UNKNOWN`` when another kind of route is met."""
    from starlette.routing import Mount, Route, WebSocketRoute

    partial = None
    for route in routes:
        if isinstance(route, Route):
            if route.path_regex.match(path) is None:
                continue
            if route.methods and method not in route.methods:
                partial = partial or prefix + route.path
                continue
            return prefix + route.path
        if isinstance(route, Mount):
            m = route.path_regex.match(path)
            if m is None:
                continue
            sub = _subroutes(route)
            if not sub:
                return prefix + route.path_format
            if depth >= 8:
                return None
            return _fast_match(sub, "/" + m["path"], method, prefix + route.path, depth + 1)
        if isinstance(route, WebSocketRoute):
            continue
        return _UNKNOWN
    return partial


def _match(routes: Iterable[Any], scope: Scope, prefix: str, depth: int) -> Optional[str]:
    """Starlette's routing, template only: the first full match, else the
    first partial one (a method the route does not allow: 405)."""
    from starlette.routing import Match

    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return _descend(route, scope, child, prefix, depth)
        if match is Match.PARTIAL and partial is None:
            partial = (route, child)
    if partial is not None:
        return _descend(partial[0], scope, partial[1], prefix, depth)
    return None


def _descend(route: Any, scope: Scope, child: Mapping[str, Any], prefix: str,
             depth: int) -> Optional[str]:
    path = getattr(route, "path", None)
    sub = _subroutes(route)
    if path is None and not sub:  # matched, but says nothing of its template
        return None
    if sub and depth < 8:
        inner = _match(sub, {**scope, **child}, prefix + (path or ""), depth + 1)
        return inner
    if _is_mount(route):
        return prefix + route.path_format
    return prefix + path


def _fastapi_template(scope: Scope) -> Optional[str]:
    """FastAPI keeps routers included with a prefix apart from the route
    objects; its effective route knows the whole template."""
    fa = scope.get("fastapi")
    if not isinstance(fa, dict):
        return None
    ctx = fa.get("effective_route_context")
    fmt = getattr(ctx, "path_format", None)
    return fmt if isinstance(fmt, str) else None


def _header(scope: Scope, name: bytes) -> Optional[bytes]:
    for k, v in scope.get("headers") or ():
        if k == name:
            return v
    return None


def _find_router(app: Any) -> Any:
    """The Starlette router inside ``app`` and the middleware around it."""
    for _ in range(32):
        if app is None:
            return None
        router = getattr(app, "router", None)
        if router is not None and isinstance(getattr(router, "routes", None), list):
            return router
        if isinstance(getattr(app, "routes", None), list) and hasattr(app, "url_path_for"):
            return app
        app = getattr(app, "app", None)
    return None


class MetricsMiddleware(_http.MiddlewareCore):
    """Record every HTTP request of an ASGI app; serve ``metrics_path``.

    ``exclude``: last path segments not recorded (``shmetrics._http.DEFAULT_EXCLUDE``).
    ``metrics_path``: where the app serves the merged exposition of all
    workers (content negotiation and gzip passed through); None serves none.
    ``namespace``: the shmetrics namespace (default ``$SHMETRICS_NS``).
    ``const_labels``, ``duration_buckets``, ``size_buckets``: as
    ``shmetrics._http.HTTPMetrics``. ``route_of(scope)``: the endpoint of a
    request for apps without a Starlette router (None means unmatched).
    ``autostart``: start a detached ``shmetricsd`` when none serves the
    namespace (default: ``$SHMETRICS_AUTOSTART``).

    An exception from the app is recorded as a 500 with its latency, then
    re-raised. Request size is the Content-Length, else the body bytes the
    app read; response size is the body bytes the app sent.

    >>> async def hello(scope, receive, send):
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    ...     await send({"type": "http.response.body", "body": b"hello"})
    >>> app = MetricsMiddleware(hello, route_of=lambda scope: "/hello")
    """

    def __init__(
        self,
        app: ASGIApp,
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
        self._route_of = route_of
        self._routes: Optional[_Routes] = None
        self._looked = False
        self._setup(exclude, metrics_path, namespace, const_labels, duration_buckets,
                    size_buckets, autostart)

    def _router(self, scope: Scope) -> Optional[_Routes]:
        if not self._looked:
            router = _find_router(self.app) or _find_router(scope.get("app"))
            self._looked = True
            if router is not None:
                self._routes = _Routes(router)
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan, websocket: not ours
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == self._metrics_path or (
                scope.get("root_path") and _route_path(scope) == self._metrics_path):
            await self._serve_metrics(scope, send)
            return
        if self._metrics is None or self._is_excluded(path):
            await self.app(scope, receive, send)
            return
        await self._record(scope, receive, send)

    async def _record(self, scope: Scope, receive: Receive, send: Send) -> None:
        routes = self._router(scope) if self._route_of is None else None
        if routes is not None:
            guess = routes.before(scope)
        elif self._route_of is not None:
            guess = self._route_of(scope) or _http.UNMATCHED
        else:
            guess = _http.UNMATCHED
        m = self._metrics
        ep = m.begin(guess)
        t0 = time.perf_counter()
        sent = [500, 0, 0]  # status, response body bytes, request body bytes read

        async def counting_receive() -> Message:
            message = await receive()
            body = message.get("body")
            if body:
                sent[2] += len(body)
            return message

        async def counting_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                body = message.get("body")
                if body:
                    sent[1] += len(body)
            elif kind == "http.response.start":
                sent[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        except BaseException:
            sent[0] = 500
            raise
        finally:
            seconds = time.perf_counter() - t0
            if routes is not None:
                try:
                    endpoint = routes.after(scope, guess)
                except Exception:  # a route object we cannot read: keep the guess
                    endpoint = guess
                if endpoint != guess:  # the router chose otherwise: move the request
                    ep.in_progress.dec()
                    ep = m.begin(endpoint)
            length = _header(scope, b"content-length")
            request_bytes = sent[2]
            if length is not None:
                try:
                    request_bytes = int(length)
                except ValueError:
                    pass
            m.end(ep, scope["method"], sent[0], seconds, request_bytes, sent[1])

    async def _serve_metrics(self, scope: Scope, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD"),
                                       (b"content-type", b"text/plain; charset=utf-8")],
                           b"method not allowed\n")
            return
        asked = {}
        for k, v in scope.get("headers") or ():
            if k in (b"accept", b"accept-encoding"):
                asked[k.decode("latin-1")] = v.decode("latin-1")
        status, headers, body = await _aggregator.scrape_async(self._namespace, asked)
        out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await _respond(send, status, out, b"" if method == "HEAD" else body, len(body))


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                   length: Optional[int] = None) -> None:
    n = len(body) if length is None else length
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(n).encode())]})
    await send({"type": "http.response.body", "body": body})
