"""The ValueError messages that come from the C library say which argument
was wrong and why (its ``shmet_last_error()``), where prometheus_client has
no check of its own to match: a conflicting definition, the reserved
overflow label value, bucket bounds, a bad namespace or geometry."""

from __future__ import annotations

import pytest

import shmetrics
from shmetrics import _native


def _message(fn) -> str:
    with pytest.raises(ValueError) as e:
        fn()
    return str(e.value)


def test_conflicting_definition_names_what_differs(ns) -> None:
    shmetrics.Counter("errors_conflict", "h", ["a"])
    assert _message(lambda: shmetrics.Counter("errors_conflict", "h", ["b"])) == (
        "metric 'errors_conflict_total' already exists with label names (a), not (b)"
    )
    shmetrics.Gauge("errors_mode", "h", multiprocess_mode="livesum")
    assert _message(lambda: shmetrics.Gauge("errors_mode", "h", multiprocess_mode="max")) == (
        "metric 'errors_mode' already exists with gauge mode SUM, not MAX"
    )


def test_overflow_label_value_is_reserved(ns) -> None:
    c = shmetrics.Counter("errors_overflow", "h", ["route"])
    assert _message(lambda: c.labels("__overflow__")) == (
        "label value '__overflow__' is reserved (label 'route')"
    )
    assert _message(lambda: c.labels(route="__overflow__")) == (
        "label value '__overflow__' is reserved (label 'route')"
    )
    c.labels("__overflow__x").inc()  # only the placeholder itself


def test_bucket_bound_not_finite(ns) -> None:
    assert _message(lambda: shmetrics.Histogram("errors_nan", "h", buckets=(float("nan"), 1))) == (
        "bucket bounds must be finite (bound 0: nan)"
    )


def test_namespace_and_geometry(ns) -> None:
    assert _message(lambda: _native.Client("bad/ns")) == (
        "invalid namespace: namespace 'bad/ns' must be 1 to 64 of [A-Za-z0-9_.-]"
    )
    assert _message(lambda: _native.Client(ns, ring_records=100)) == (
        "invalid geometry: ring_records is 100, must be a power of two from 64 to 16777216"
    )
