"""shmetrics: host-wide Prometheus metrics for pre-fork Python servers.

Every worker process records into its own lock-free ring in one shared
memory segment per host; one aggregator, ``shmetricsd``, merges all of them
and serves ``/metrics``. The API is prometheus_client's::

    from shmetrics import Counter, Gauge, Histogram

    REQUESTS = Counter("app_requests", "Requests.", ["route"])
    REQUESTS.labels("/").inc()

Integrations: ``shmetrics.sanic.instrument(app)``,
``shmetrics.asgi.MetricsMiddleware``, ``shmetrics.wsgi.MetricsMiddleware``,
``gunicorn -c python:shmetrics.gunicorn``.
"""

from __future__ import annotations

from typing import Optional

from . import _client, _native
from ._native import SegmentError
from .metrics import GAUGE_MODES, Counter, Gauge, Histogram

__version__: str = _native.VERSION
__all__ = ["GAUGE_MODES", "Counter", "Gauge", "Histogram", "SegmentError", "__version__",
           "aggregator_address", "aggregator_attached", "open"]


def open(namespace: Optional[str] = None) -> _native.Client:
    """Attach to ``namespace`` (default ``$SHMETRICS_NS``, else ``"default"``)
    now, creating its segment when none exists, and make it the namespace
    later metrics use. Metrics attach on their own when this is never
    called. Raises ``SegmentError`` when the segment cannot be opened.

    >>> import shmetrics
    >>> client = shmetrics.open()
    """
    c = _client.get(namespace)
    if namespace:
        _client.set_default(namespace)
    return c


def aggregator_attached(namespace: Optional[str] = None) -> bool:
    """True while a live ``shmetricsd`` drains the namespace (readiness)."""
    return _client.get(namespace).aggregator_attached()


def aggregator_address(namespace: Optional[str] = None) -> Optional[str]:
    """``"HOST:PORT"`` of the namespace's live ``shmetricsd``, or None."""
    return _client.get(namespace).aggregator_address()
