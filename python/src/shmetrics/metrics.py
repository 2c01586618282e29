"""prometheus_client-compatible metrics recorded into shared memory.

``Counter``, ``Gauge`` and ``Histogram`` take prometheus_client's
constructor arguments and offer its methods, so porting an application is
an import change::

    from shmetrics import Counter, Histogram

    REQUESTS = Counter("app_requests", "Requests served.", ["route"])
    LATENCY = Histogram("app_latency_seconds", "Request latency.")

    REQUESTS.labels("/users").inc()
    with LATENCY.time():
        pass

Every worker process records into its own lock-free ring; the host's
``shmetricsd`` merges all of them. A labelled child's ``inc()`` and
``observe()`` are C methods that write one 16-byte record: no lock, no
syscall, no Python-level code.

Where this differs from prometheus_client, on purpose:

* No registry, no multiprocess directory, no ``mark_process_dead``: the
  aggregator serves everything every worker recorded. ``registry=`` is
  accepted and ignored.
* Making the same metric twice (same name, type, labels, buckets, mode)
  returns the same series instead of raising a duplicate error, so a module
  can be imported in every worker; another definition under the same name
  raises ``ValueError``.
* Names must be classic Prometheus names (``[a-zA-Z_:][a-zA-Z0-9_:]*``),
  which the text format needs; prometheus_client 0.2x also accepts UTF-8.
* Gauge ``multiprocess_mode`` picks how workers' values combine (see
  ``GAUGE_MODES``); ``set_function`` is not available (values are pushed by
  workers, not pulled at scrape time).
"""

from __future__ import annotations

import functools
import re
import time as _time
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

from . import _client, _native

F = TypeVar("F", bound=Callable[..., Any])
INF = float("inf")

_METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

#: prometheus_client's gauge multiprocess modes and the shmetrics gauge
#: mode each maps to. SUM, MAX and MIN are over live workers (a dead
#: worker's value leaves with it); LAST is the most recent set by anyone.
GAUGE_MODES: dict[str, int] = {
    "all": _native.GAUGE_SUM,
    "liveall": _native.GAUGE_SUM,
    "sum": _native.GAUGE_SUM,
    "livesum": _native.GAUGE_SUM,
    "max": _native.GAUGE_MAX,
    "livemax": _native.GAUGE_MAX,
    "min": _native.GAUGE_MIN,
    "livemin": _native.GAUGE_MIN,
    "mostrecent": _native.GAUGE_LAST,
    "livemostrecent": _native.GAUGE_LAST,
}

DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, INF,
)


# ---- context managers and decorators (prometheus_client's semantics) -------


class _Timer:
    """Calls ``callback(seconds)`` when a block or function finishes."""

    __slots__ = ("_callback", "_start")

    def __init__(self, callback: Callable[[float], Any]) -> None:
        self._callback = callback
        self._start = 0.0

    def __enter__(self) -> _Timer:
        self._start = _time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._callback(max(_time.perf_counter() - self._start, 0.0))

    def __call__(self, f: F) -> F:
        callback = self._callback

        @functools.wraps(f)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with _Timer(callback):
                return f(*args, **kwargs)

        return wrapped  # type: ignore[return-value]


class _InprogressTracker:
    """``inc()`` on entry, ``dec()`` on exit."""

    __slots__ = ("_gauge",)

    def __init__(self, gauge: Any) -> None:
        self._gauge = gauge

    def __enter__(self) -> None:
        self._gauge.inc()

    def __exit__(self, *exc: object) -> None:
        self._gauge.dec()

    def __call__(self, f: F) -> F:
        gauge = self._gauge

        @functools.wraps(f)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with _InprogressTracker(gauge):
                return f(*args, **kwargs)

        return wrapped  # type: ignore[return-value]


class _ExceptionCounter:
    """Counts exceptions of a type leaving a block or function."""

    __slots__ = ("_counter", "_exception")

    def __init__(self, counter: Any, exception: Any) -> None:
        self._counter = counter
        self._exception = exception

    def __enter__(self) -> None:
        pass

    def __exit__(self, typ: Optional[type], value: object, traceback: object) -> bool:
        if isinstance(value, self._exception):
            self._counter.inc()
        return False

    def __call__(self, f: F) -> F:
        counter, exception = self._counter, self._exception

        @functools.wraps(f)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with _ExceptionCounter(counter, exception):
                return f(*args, **kwargs)

        return wrapped  # type: ignore[return-value]


# ---- children: the C series types -----------------------------------------------
#
# labels() returns instances of exactly these C types (a Python subclass
# would cost each inc() ~15 ns: CPython calls C methods fastest on their
# own type). Their time(), track_inprogress() and count_exceptions() call
# back into the helpers above.

#: A labelled counter series: ``inc(amount=1)``, ``count_exceptions()``.
CounterChild = _native.CounterSeries
#: A labelled gauge series: ``inc``, ``dec``, ``set``, ``set_to_current_time``,
#: ``track_inprogress``, ``time``.
GaugeChild = _native.GaugeSeries
#: A labelled histogram series: ``observe(amount)``, ``time()``.
HistogramChild = _native.HistogramSeries

_native._set_helpers(_Timer, _InprogressTracker, _ExceptionCounter)


# ---- parents ------------------------------------------------------------------


def _build_full_name(kind: str, name: str, namespace: str, subsystem: str, unit: str) -> str:
    if not name:
        raise ValueError("Metric name should not be empty")
    full = ""
    if namespace:
        full += namespace + "_"
    if subsystem:
        full += subsystem + "_"
    full += name
    if kind == "counter" and full.endswith("_total"):
        full = full[:-6]
    if unit and not full.endswith("_" + unit):
        full += "_" + unit
    if not _METRIC_NAME_RE.match(full):
        raise ValueError(
            "invalid metric name " + full + " (shmetrics accepts [a-zA-Z_:][a-zA-Z0-9_:]*)"
        )
    return full


def _check_labelnames(labelnames: Iterable[str], reserved: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(labelnames)
    for n in names:
        if not isinstance(n, str) or not _LABEL_NAME_RE.match(n):
            raise ValueError("Invalid label metric name: " + str(n))
        if n.startswith("__") or n in reserved:
            raise ValueError("Reserved label metric name: " + n)
    if len(set(names)) != len(names):
        raise ValueError("Duplicate label names: " + ", ".join(names))
    return names


class _Metric:
    _type = ""
    _reserved: tuple[str, ...] = ()
    _methods: tuple[str, ...] = ()

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: object = None,
        _labelvalues: Optional[Sequence[str]] = None,
        *,
        shmetrics_namespace: Optional[str] = None,
    ) -> None:
        del registry, _labelvalues  # no registry: the aggregator serves every metric
        self._name = _build_full_name(self._type, name, namespace, subsystem, unit)
        self._labelnames = _check_labelnames(labelnames, self._reserved)
        self._documentation = documentation
        self._family = self._make_family(_client.get(shmetrics_namespace))
        if self._labelnames:
            # labels(...) goes straight to C: a dict lookup, no Python frame.
            self.labels = self._family.labels
        else:
            self._child = self._family.root()
            for m in self._methods:
                setattr(self, m, getattr(self._child, m))

    def _make_family(self, client: _native.Client) -> _native.Family:
        raise NotImplementedError

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Any:
        """The child for these label values (positional, or by name)."""
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self!r}")
        return self._family.labels(*labelvalues, **labelkwargs)

    def remove(self, *labelvalues: object) -> None:
        """Forget this process's handle of a child. The aggregator keeps the
        series (other workers may still record into it)."""
        if not self._labelnames:
            raise ValueError(f"No label names were set when constructing {self!r}")
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(
                f"Incorrect label count (expected {len(self._labelnames)}, got {labelvalues})"
            )
        self._family.forget(tuple(str(v) for v in labelvalues))

    def clear(self) -> None:
        """Forget every child handle of this process (see ``remove``)."""
        for key in self._family.keys():
            self._family.forget(key)

    def _missing(self) -> ValueError:
        return ValueError(f"{self._type} metric is missing label values")

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__name__}({self._name})"


class Counter(_Metric):
    """A monotonic counter, exposed as ``<name>_total``.

    >>> c = Counter("jobs", "Jobs done.", ["queue"])
    >>> c.labels("mail").inc()
    """

    _type = "counter"
    _methods = ("inc", "count_exceptions")

    def _make_family(self, client: _native.Client) -> _native.Family:
        return client.counter(self._name + "_total", self._documentation, self._labelnames)

    def inc(self, amount: float = 1) -> None:
        """Increment by ``amount`` (>= 0, else ``ValueError``)."""
        raise self._missing()

    def count_exceptions(self, exception: Any = Exception) -> _ExceptionCounter:
        """Count exceptions raised out of a block or function."""
        raise self._missing()


class Gauge(_Metric):
    """A value that goes up and down; ``multiprocess_mode`` says how the
    workers' values combine (``GAUGE_MODES``).

    >>> g = Gauge("queue_depth", "Jobs waiting.", multiprocess_mode="livesum")
    >>> g.set(3)
    """

    _type = "gauge"
    _methods = ("inc", "dec", "set", "set_to_current_time", "track_inprogress", "time",
                "set_function")

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: object = None,
        _labelvalues: Optional[Sequence[str]] = None,
        multiprocess_mode: str = "all",
        *,
        shmetrics_namespace: Optional[str] = None,
    ) -> None:
        if multiprocess_mode not in GAUGE_MODES:
            raise ValueError("Invalid multiprocess mode: " + str(multiprocess_mode))
        self._multiprocess_mode = multiprocess_mode
        self._mode = GAUGE_MODES[multiprocess_mode]
        super().__init__(name, documentation, labelnames, namespace, subsystem, unit,
                         shmetrics_namespace=shmetrics_namespace)

    def _make_family(self, client: _native.Client) -> _native.Family:
        return client.gauge(self._name, self._documentation, self._labelnames, mode=self._mode)

    def inc(self, amount: float = 1) -> None:
        """Add ``amount``."""
        raise self._missing()

    def dec(self, amount: float = 1) -> None:
        """Subtract ``amount``."""
        raise self._missing()

    def set(self, value: float) -> None:
        """Set to ``value``."""
        raise self._missing()

    def set_to_current_time(self) -> None:
        """Set to the current Unix time."""
        raise self._missing()

    def track_inprogress(self) -> _InprogressTracker:
        """+1 while a block or function runs."""
        raise self._missing()

    def time(self) -> _Timer:
        """Set to the duration of a block or function."""
        raise self._missing()

    def set_function(self, f: Callable[[], float]) -> None:
        """Not available: gauge values are pushed by workers, never pulled at
        scrape time (the aggregator cannot call into a worker)."""
        raise self._missing()


class Histogram(_Metric):
    """Observations counted in buckets, with ``_bucket``, ``_sum`` and
    ``_count`` series; the aggregator also keeps quantiles (``/debug``).

    >>> h = Histogram("job_seconds", "Job time.", buckets=(0.1, 1, 10))
    >>> h.observe(0.3)
    """

    _type = "histogram"
    _reserved = ("le",)
    _methods = ("observe", "time")
    DEFAULT_BUCKETS = DEFAULT_BUCKETS

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: object = None,
        _labelvalues: Optional[Sequence[str]] = None,
        buckets: Sequence[Union[float, str]] = DEFAULT_BUCKETS,
        *,
        shmetrics_namespace: Optional[str] = None,
    ) -> None:
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds):
            raise ValueError("Buckets not in sorted order")
        if bounds and bounds[-1] != INF:
            bounds.append(INF)
        if len(bounds) < 2:
            raise ValueError("Must have at least two buckets")
        self._upper_bounds = bounds
        super().__init__(name, documentation, labelnames, namespace, subsystem, unit,
                         shmetrics_namespace=shmetrics_namespace)

    def _make_family(self, client: _native.Client) -> _native.Family:
        return client.histogram(
            self._name, self._documentation, self._labelnames,
            bounds=self._upper_bounds[:-1],
        )

    def observe(self, amount: float) -> None:
        """Record one observation."""
        raise self._missing()

    def time(self) -> _Timer:
        """Observe the duration of a block or function, in seconds."""
        raise self._missing()
