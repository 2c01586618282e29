"""gunicorn server hooks that run ``shmetricsd`` from gunicorn's master.

Use the module as the whole configuration::

    gunicorn -c python:shmetrics.gunicorn -w 4 app:app

or import its hooks into your own configuration file::

    # gunicorn.conf.py
    from shmetrics.gunicorn import on_exit, on_starting  # noqa: F401

    workers = 4

``on_starting`` (and ``when_ready``, for a configuration that has its own
``on_starting``) starts a ``shmetricsd`` for the namespace
(``$SHMETRICS_NS``, else ``default``) as a child of the master, unless one
already serves it (one under systemd, a sidecar, the one of a previous
gunicorn); ``on_exit`` stops the one it started with SIGTERM, a graceful
stop that keeps the counters for the next one. The aggregator listens on
``$SHMETRICS_LISTEN`` (default ``127.0.0.1:0``, a free port: the app's own
``/metrics`` finds it through the segment). Nothing else: no multiprocess
directory, no ``child_exit`` hook, and workers started with or without
``--preload`` record alike. A binary upgrade (``USR2``) hands the aggregator
to the new master.

Only the hooks are public names here: gunicorn reads every module-level
name that matches one of its settings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any, Optional

from . import _aggregator

__all__ = ["on_exit", "on_starting", "when_ready"]

#: The pid of the shmetricsd a master started, inherited by the master a
#: binary upgrade re-executes, which adopts it.
_OWNED_ENV = "SHMETRICS_GUNICORN_AGGREGATOR"
_STOP_WAIT = 10.0

_proc: Optional[subprocess.Popen] = None
_pid = 0  # the aggregator this master stops at exit (started or adopted)


def _log(server: Any, message: str) -> None:
    log = getattr(server, "log", None)
    if log is not None:
        log.info("shmetrics: %s", message)
    else:
        print(f"shmetrics: {message}", file=sys.stderr)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0]
    except OSError:
        return False
    return os.path.basename(argv0) == b"shmetricsd"


def _start(server: Any) -> None:
    global _proc, _pid
    if (_proc is not None and _proc.poll() is None) or (_pid and _alive(_pid)):
        return  # on_starting and when_ready both ran
    inherited = int(os.environ.get(_OWNED_ENV, "0") or 0)
    try:
        addr = _aggregator.find()
    except OSError as e:  # the segment cannot be opened: the workers will say so too
        _log(server, f"not starting shmetricsd: {e}")
        return
    if addr is not None:
        if inherited and _alive(inherited) and os.environ.get("GUNICORN_PID"):
            _pid = inherited  # re-executed by USR2: the old master's, now ours
            _remember(server, str(_pid))
            _log(server, f"adopted shmetricsd (pid {_pid}) serving on {addr}")
        else:
            _log(server, f"shmetricsd already serves on {addr}; using it")
        return
    listen = os.environ.get("SHMETRICS_LISTEN") or "127.0.0.1:0"
    try:
        _proc = _aggregator.start(listen=listen)
    except (OSError, RuntimeError) as e:  # workers still record; /metrics says 503
        _log(server, f"could not start shmetricsd: {e}")
        return
    _pid = _proc.pid
    _remember(server, str(_pid))
    _log(server, f"started shmetricsd (pid {_pid}) on {_aggregator.find()}")


def on_starting(server: Any) -> None:
    """gunicorn hook (master, before the workers): start shmetricsd unless
    one already serves the namespace."""
    _start(server)


def when_ready(server: Any) -> None:
    """gunicorn hook (master, listening): the same as ``on_starting``, for
    configurations whose own ``on_starting`` does something else."""
    _start(server)


def on_exit(server: Any) -> None:
    """gunicorn hook (master, last): stop the shmetricsd this master started
    or adopted, unless a master still running (the other half of a USR2
    upgrade) uses it."""
    global _proc, _pid
    pid = _pid
    if not pid:
        return
    other = getattr(server, "reexec_pid", 0) or getattr(server, "master_pid", 0)
    if other and _master_alive(other):
        _log(server, f"leaving shmetricsd (pid {pid}) to the master {other}")
        return
    _pid = 0
    if _proc is not None:
        proc, _proc = _proc, None
        proc.terminate()
        try:
            proc.wait(_STOP_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    elif _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_WAIT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    _remember(server, None)
    _log(server, f"stopped shmetricsd (pid {pid})")


def _remember(server: Any, pid: Optional[str]) -> None:
    """Pass the aggregator's pid to a master that USR2 re-executes: it gets
    gunicorn's copy of the environment at start (``cfg.env_orig``)."""
    envs = [os.environ]
    orig = getattr(getattr(server, "cfg", None), "env_orig", None)
    if isinstance(orig, dict):
        envs.append(orig)
    for env in envs:
        if pid is None:
            env.pop(_OWNED_ENV, None)
        else:
            env[_OWNED_ENV] = pid


def _master_alive(pid: int) -> bool:
    """True while ``pid`` runs (an exited master left unreaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
