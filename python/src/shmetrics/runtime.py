"""Python runtime metrics per worker, recorded from inside each worker.

``enable_gc_metrics()`` counts the garbage collector's work of this
process: ``python_gc_collections_total``, ``python_gc_objects_collected_total``
and ``python_gc_objects_uncollectable_total``, by ``generation`` and
``worker``. ``worker`` is the lowest slot index the process holds in the
segment: bounded by the segment's slot count however often workers restart,
and the same identity ``shmetricsd`` gives a worker's process metrics. A
restarted worker may take another index; ``rate()`` handles the reset.

    >>> import shmetrics.runtime
    >>> shmetrics.runtime.enable_gc_metrics()
"""

from __future__ import annotations

import gc
import os
import threading
from typing import Any, Optional

from . import _client
from .metrics import Counter

_lock = threading.Lock()
_state: dict[str, Any] = {}


class _GCMetrics:
    def __init__(self, namespace: Optional[str]) -> None:
        self.namespace = namespace
        labels = ("generation", "worker")
        self.collections = Counter(
            "python_gc_collections", "Garbage collections, by generation and worker.",
            labels, shmetrics_namespace=namespace)
        self.collected = Counter(
            "python_gc_objects_collected", "Objects the collector freed, by generation and worker.",
            labels, shmetrics_namespace=namespace)
        self.uncollectable = Counter(
            "python_gc_objects_uncollectable",
            "Uncollectable objects the collector found, by generation and worker.",
            labels, shmetrics_namespace=namespace)
        self.pid = -1
        self.children: dict[int, tuple[Any, Any, Any]] = {}

    def _for(self, generation: int) -> Optional[tuple[Any, Any, Any]]:
        pid = os.getpid()
        if pid != self.pid:  # first use, or a forked child: its own worker id
            self.pid = pid
            self.children = {}
        c = self.children.get(generation)
        if c is None:
            # A collection may run inside any allocation, also one made while
            # this thread holds _client's lock: take no lock here, and skip
            # (this one collection) until the namespace is open.
            client = _client.peek(self.namespace)
            if client is None:
                return None
            worker = str(client.worker_id())
            g = str(generation)
            c = self.children[generation] = (
                self.collections.labels(g, worker),
                self.collected.labels(g, worker),
                self.uncollectable.labels(g, worker),
            )
        return c

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop":
            return
        try:
            children = self._for(info["generation"])
        except Exception:  # never let metrics break the collector
            return
        if children is None:
            return
        coll, done, bad = children
        coll.inc()
        done.inc(info.get("collected", 0))
        bad.inc(info.get("uncollectable", 0))


def enable_gc_metrics(namespace: Optional[str] = None) -> None:
    """Record this process's garbage collections (idempotent)."""
    with _lock:
        if "gc" in _state:
            return
        cb = _GCMetrics(namespace)
        gc.callbacks.append(cb)
        _state["gc"] = cb


def disable_gc_metrics() -> None:
    """Stop recording garbage collections."""
    with _lock:
        cb = _state.pop("gc", None)
        if cb is not None and cb in gc.callbacks:
            gc.callbacks.remove(cb)
