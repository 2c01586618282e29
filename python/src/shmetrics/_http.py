"""The request metrics every framework integration records.

Framework-neutral: the Sanic, ASGI and WSGI integrations find the route
template and the sizes, then call ``begin`` and ``end``::

    from shmetrics._http import HTTPMetrics

    m = HTTPMetrics()
    ep = m.begin("/users/<uid:int>")      # in progress +1
    m.end(ep, "GET", 200, 0.012, 0, 512)  # everything else, in progress -1

The families (the same in every integration):

* ``http_requests_total{method,endpoint,status}``
* ``http_request_duration_seconds{endpoint}`` (histogram)
* ``http_requests_in_progress{endpoint}`` (gauge, summed over live workers:
  a killed worker's requests in flight leave with it)
* ``http_request_size_bytes{endpoint}``, ``http_response_size_bytes{endpoint}``
* ``http_requests_4xx_total{endpoint}``, ``http_requests_5xx_total{endpoint}``

``endpoint`` is the matched route template, never the raw path; requests
that match no route share ``UNMATCHED``, so a scanner walking random paths
adds no series. Per request this is two dictionary lookups and six or seven
C calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

from ._native import SegmentError
from .metrics import Counter, Gauge, Histogram

log = logging.getLogger("shmetrics")

DURATION_BUCKETS: tuple[float, ...] = (
    0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10,
)
SIZE_BUCKETS: tuple[float, ...] = (100, 500, 1e3, 5e3, 1e4, 5e4, 1e5, 1e6)

#: Last path segments whose requests are not recorded (and, for ``static``
#: and ``docs``, everything under ``/static/`` and ``/docs/``).
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "metrics", "favicon.ico", "ready", "swagger", "swagger-config", "openapi", "docs",
    "static", "sanic-docs", "openapi.json",
)
_EXCLUDED_TREES = ("static", "docs")

#: The endpoint of every request that matched no route.
UNMATCHED = "__unmatched__"

#: The ``method`` label of a request whose method is not a standard one, so
#: that a client inventing methods cannot add series.
OTHER_METHOD = "OTHER"
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
                     "PATCH"))


def is_excluded(path: str, exclude: Iterable[str] = DEFAULT_EXCLUDE) -> bool:
    """True when a request for ``path`` is not to be recorded: its last
    segment is in ``exclude``, or it lies under ``/static`` or ``/docs``
    (when those are excluded).

    >>> is_excluded("/api/metrics"), is_excluded("/static/app.js"), is_excluded("/users/1")
    (True, True, False)
    """
    ex = exclude if isinstance(exclude, (frozenset, set)) else frozenset(exclude)
    stripped = path.rstrip("/")
    last = stripped.rsplit("/", 1)[-1]
    if last in ex:
        return True
    first = stripped.lstrip("/").split("/", 1)[0]
    return first in _EXCLUDED_TREES and first in ex


class Endpoint:
    """The children of one endpoint, made once and kept."""

    __slots__ = ("duration", "e4xx", "e5xx", "in_progress", "name", "request_size",
                 "requests", "response_size")

    def __init__(self, m: HTTPMetrics, name: str, consts: tuple[str, ...]) -> None:
        key = (*consts, name)
        self.name = name
        self.duration = m.duration.labels(*key)
        self.in_progress = m.in_progress.labels(*key)
        self.request_size = m.request_size.labels(*key)
        self.response_size = m.response_size.labels(*key)
        self.e4xx = m.e4xx.labels(*key)
        self.e5xx = m.e5xx.labels(*key)
        self.requests: dict[tuple[str, int], object] = {}


class HTTPMetrics:
    """The seven request families of one application.

    ``const_labels`` adds fixed labels to every series (for example
    ``{"server": "web-1"}``); the buckets default to ``DURATION_BUCKETS`` and
    ``SIZE_BUCKETS``; ``namespace`` is the shmetrics namespace (segment).
    """

    def __init__(
        self,
        *,
        const_labels: Optional[Mapping[str, str]] = None,
        duration_buckets: Optional[Sequence[float]] = None,
        size_buckets: Optional[Sequence[float]] = None,
        namespace: Optional[str] = None,
    ) -> None:
        consts = dict(const_labels or {})
        self._const_names = tuple(consts)
        self._consts = tuple(str(v) for v in consts.values())
        cn = self._const_names
        ns = namespace
        self.requests = Counter(
            "http_requests_total", "HTTP requests served, by method, route template and status.",
            (*cn, "method", "endpoint", "status"), shmetrics_namespace=ns)
        self.duration = Histogram(
            "http_request_duration_seconds", "HTTP request latency in seconds, by route template.",
            (*cn, "endpoint"), buckets=duration_buckets or DURATION_BUCKETS,
            shmetrics_namespace=ns)
        self.in_progress = Gauge(
            "http_requests_in_progress", "HTTP requests being served, by route template.",
            (*cn, "endpoint"), multiprocess_mode="livesum", shmetrics_namespace=ns)
        self.request_size = Histogram(
            "http_request_size_bytes", "HTTP request body sizes in bytes, by route template.",
            (*cn, "endpoint"), buckets=size_buckets or SIZE_BUCKETS, shmetrics_namespace=ns)
        self.response_size = Histogram(
            "http_response_size_bytes", "HTTP response body sizes in bytes, by route template.",
            (*cn, "endpoint"), buckets=size_buckets or SIZE_BUCKETS, shmetrics_namespace=ns)
        self.e4xx = Counter(
            "http_requests_4xx_total", "HTTP requests answered 4xx, by route template.",
            (*cn, "endpoint"), shmetrics_namespace=ns)
        self.e5xx = Counter(
            "http_requests_5xx_total", "HTTP requests answered 5xx, by route template.",
            (*cn, "endpoint"), shmetrics_namespace=ns)
        self._endpoints: dict[str, Endpoint] = {}

    def endpoint(self, name: str) -> Endpoint:
        """The cached children of an endpoint (a route template)."""
        ep = self._endpoints.get(name)
        if ep is None:
            ep = self._endpoints[name] = Endpoint(self, name, self._consts)
        return ep

    def begin(self, endpoint: str) -> Endpoint:
        """A request for ``endpoint`` started: in progress +1."""
        ep = self._endpoints.get(endpoint) or self.endpoint(endpoint)
        ep.in_progress.inc()
        return ep

    def end(
        self,
        ep: Endpoint,
        method: str,
        status: int,
        seconds: float,
        request_bytes: float,
        response_bytes: float,
    ) -> None:
        """A request that ``begin`` counted finished: records its count,
        latency, sizes and 4xx/5xx, and takes it out of in progress."""
        if method not in METHODS:  # an invented method must not add a series
            method = OTHER_METHOD
        child = ep.requests.get((method, status))
        if child is None:
            child = ep.requests[(method, status)] = self.requests.labels(
                *self._consts, method, ep.name, str(status))
        child.inc()
        ep.duration.observe(seconds)
        ep.request_size.observe(request_bytes)
        ep.response_size.observe(response_bytes)
        if status >= 400:
            if status >= 500:
                ep.e5xx.inc()
            else:
                ep.e4xx.inc()
        ep.in_progress.dec()


#: Paths whose exclusion a middleware remembers before starting afresh.
EXCLUDED_CACHE_SIZE = 4096


class MiddlewareCore:
    """What the ASGI and WSGI middlewares share: the metrics (or None when
    the segment cannot be opened: then one error is logged, requests pass
    through unrecorded and the metrics route answers 503 with the reason),
    the exclusion cache, and the opt-in autostart of an aggregator."""

    _metrics: Optional[HTTPMetrics]

    def _setup(
        self,
        exclude: Iterable[str],
        metrics_path: Optional[str],
        namespace: Optional[str],
        const_labels: Optional[Mapping[str, str]],
        duration_buckets: Optional[Sequence[float]],
        size_buckets: Optional[Sequence[float]],
        autostart: Optional[bool],
    ) -> None:
        from . import _aggregator

        self._exclude = frozenset(exclude)
        self._excluded: dict[str, bool] = {}
        self._metrics_path = metrics_path
        self._namespace = namespace
        try:
            self._metrics = HTTPMetrics(
                const_labels=const_labels, duration_buckets=duration_buckets,
                size_buckets=size_buckets, namespace=namespace)
        except SegmentError as e:
            log.error("%s; requests are not recorded, %s answers 503", e,
                      metrics_path or "no metrics route")
            self._metrics = None
            return
        if autostart if autostart is not None else _aggregator.autostart_requested():
            try:
                _aggregator.ensure(namespace)
            except (OSError, RuntimeError) as e:  # recording works without it
                log.error("shmetrics: could not start shmetricsd: %s", e)

    def _is_excluded(self, path: str) -> bool:
        hit = self._excluded.get(path)
        if hit is None:
            hit = is_excluded(path, self._exclude)
            if len(self._excluded) >= EXCLUDED_CACHE_SIZE:
                self._excluded.clear()
            self._excluded[path] = hit
        return hit
