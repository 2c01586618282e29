"""The process's connection to its namespace's segment.

One :class:`shmetrics._native.Client` per process and namespace, opened on
first use: by :func:`shmetrics.open`, or by the first metric. It survives
``fork()`` (the C library gives the child fresh slots), and a process
started with ``multiprocessing``'s spawn method opens its own on first use.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

from . import _native

_lock = threading.Lock()
_clients: dict[str, _native.Client] = {}
_default: Optional[str] = None


def resolve(namespace: Optional[str] = None) -> str:
    """The namespace a call means: the one given, else the one passed to
    :func:`open`, else ``$SHMETRICS_NS``, else ``"default"``."""
    if namespace:
        return namespace
    if _default is not None:
        return _default
    return os.environ.get("SHMETRICS_NS") or "default"


def get(namespace: Optional[str] = None) -> _native.Client:
    """The open client of a namespace, opening it (and creating the segment
    if none exists) on first use. Raises :class:`shmetrics.SegmentError`
    when the segment cannot be opened, with the reason and the path. With
    ``$SHMETRICS_AUTOSTART`` set, the first open also starts a detached
    shmetricsd when none serves (``_aggregator.autostart``)."""
    ns = resolve(namespace)
    c = _clients.get(ns)
    if c is not None:
        return c
    with _lock:
        c = _clients.get(ns)
        if c is None:
            try:
                c = _native.Client(ns)
            except _native.SegmentError as e:
                raise _native.SegmentError(e.errno, _explain(ns, e)) from None
            _clients[ns] = c
    if os.environ.get("SHMETRICS_AUTOSTART", "").lower() in ("1", "true", "yes", "on"):
        from . import _aggregator

        _aggregator.autostart(ns)
    return c


def peek(namespace: Optional[str] = None) -> Optional[_native.Client]:
    """The client of a namespace if it is open, else None; takes no lock
    (safe inside a garbage-collector callback)."""
    return _clients.get(resolve(namespace))


def set_default(namespace: Optional[str]) -> None:
    """Make ``namespace`` the one metrics attach to when given none."""
    global _default
    _default = namespace


def segment_path(namespace: Optional[str] = None) -> str:
    """Where the segment of a namespace lives."""
    d = os.environ.get("SHMETRICS_SHM_DIR") or "/dev/shm"
    return os.path.join(d, "shmetrics." + resolve(namespace))


def _explain(ns: str, e: OSError) -> str:
    path = segment_path(ns)
    hint = ""
    if e.errno in (13, 1):  # EACCES, EPERM
        try:
            st = os.stat(path)
            hint = (
                f" (mode {st.st_mode & 0o777:04o}, owner uid {st.st_uid}, group gid "
                f"{st.st_gid}; this process runs as uid {os.getuid()}: run it as the owner "
                "or a member of the group, or recreate the segment with "
                "'shmetricsd --group' / 'shmtool create --group')"
            )
        except OSError:
            pass
    return f"shmetrics: cannot open segment {path} for namespace {ns!r}: {e.strerror}{hint}"
