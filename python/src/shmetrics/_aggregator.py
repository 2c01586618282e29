"""Finding, starting and asking the namespace's aggregator, ``shmetricsd``.

A running ``shmetricsd`` publishes where it listens in the segment header
(with its pid and a heartbeat), so any process on the host can find it
without configuration::

    from shmetrics import _aggregator

    addr = _aggregator.find()            # "127.0.0.1:9477", or None
    status, headers, body = _aggregator.scrape(headers={"Accept-Encoding": "gzip"})

The binaries ship inside the package (``shmetrics/_bin``); the
``shmetricsd`` and ``shmtool`` commands of the wheel run them.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import NoReturn, Optional, Union

from . import _client

_PASSED_REQUEST = ("accept", "accept-encoding")
_PASSED_RESPONSE = ("content-type", "content-encoding", "vary")

Response = tuple[int, list[tuple[str, str]], bytes]


def _binary(name: str) -> str:
    env = os.environ.get("SHMETRICS_" + name.upper())
    if env:
        return env
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", name)
    if os.access(here, os.X_OK):
        return here
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"shmetrics: the {name} binary is not installed with this package "
            f"(looked in {os.path.dirname(here)} and on PATH; set SHMETRICS_{name.upper()})"
        )
    return found


def shmetricsd_path() -> str:
    """The ``shmetricsd`` binary (``$SHMETRICS_SHMETRICSD`` overrides)."""
    return _binary("shmetricsd")


def shmtool_path() -> str:
    """The ``shmtool`` binary (``$SHMETRICS_SHMTOOL`` overrides)."""
    return _binary("shmtool")


def find(namespace: Optional[str] = None) -> Optional[str]:
    """``"HOST:PORT"`` where the live shmetricsd of ``namespace`` serves
    HTTP, or None when none is running (or its heartbeat is stale). Never
    creates the segment: where none exists, no aggregator serves."""
    ns = _client.resolve(namespace)
    if ns not in _client._clients and not os.path.exists(_client.segment_path(ns)):
        return None
    return _client.get(ns).aggregator_address()


def argv(
    namespace: Optional[str] = None, listen: str = "127.0.0.1:0", extra: Sequence[str] = ()
) -> list[str]:
    """The command line of a shmetricsd for ``namespace``."""
    return [shmetricsd_path(), "--ns", _client.resolve(namespace), "--listen", listen, *extra]


def start(
    namespace: Optional[str] = None,
    listen: str = "127.0.0.1:0",
    extra: Sequence[str] = (),
    wait: float = 5.0,
    detached: bool = False,
) -> subprocess.Popen:
    """Start a shmetricsd and wait until it serves (publishes its address).

    Raises ``RuntimeError`` when it exits first (another one already serves
    the namespace, the address is taken, ...): its message is on stderr.
    ``detached`` puts it in a session of its own, so that it outlives the
    caller's terminal and process group.
    """
    proc = subprocess.Popen(
        argv(namespace, listen, extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=detached,
        close_fds=True,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"shmetricsd for namespace {_client.resolve(namespace)!r} exited with status "
                f"{proc.returncode} (its reason is on stderr)"
            )
        if find(namespace) is not None:
            return proc
        time.sleep(0.01)
    proc.terminate()
    proc.wait()
    raise RuntimeError(f"shmetricsd did not start serving within {wait} s")


def run_forever(
    namespace: Optional[str] = None, listen: str = "127.0.0.1:0", extra: Sequence[str] = ()
) -> NoReturn:
    """Become shmetricsd (``execv``): for a process that a server's manager
    owns and stops with SIGTERM (a graceful stop)."""
    args = argv(namespace, listen, extra)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(args[0], args)


def ensure(namespace: Optional[str] = None, wait: float = 5.0) -> Optional[str]:
    """The address of the namespace's aggregator, starting a detached one
    when none serves (``SHMETRICS_AUTOSTART``). Several processes may race
    here: the daemon's per-namespace lock keeps exactly one."""
    addr = find(namespace)
    if addr is not None:
        return addr
    try:
        start(namespace, wait=wait, detached=True)
    except RuntimeError:
        pass  # lost the race to another starter, or it failed (said on stderr)
    deadline = time.monotonic() + wait
    while (addr := find(namespace)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return addr


def _held_by_daemon(namespace: Optional[str]) -> bool:
    """True when some shmetricsd holds the namespace's lock (it may still be
    starting and not have published its address yet)."""
    import fcntl

    try:
        fd = os.open(_client.segment_path(namespace), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our probe lock
    return False


def autostart(namespace: Optional[str] = None) -> Optional[subprocess.Popen]:
    """Start a detached shmetricsd for ``namespace`` unless one serves or
    is starting; do not wait for it. Processes racing here may each start
    one: all but one exit at once (the namespace lock), each saying so in
    one line on stderr."""
    if find(namespace) is not None or _held_by_daemon(namespace):
        return None
    return subprocess.Popen(
        argv(namespace, listen=os.environ.get("SHMETRICS_LISTEN", "127.0.0.1:9477")),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def autostart_requested() -> bool:
    """True when ``$SHMETRICS_AUTOSTART`` asks for an aggregator on demand."""
    return os.environ.get("SHMETRICS_AUTOSTART", "").lower() in ("1", "true", "yes", "on")


def _split(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for k, v in headers.items():
        if k.lower() in _PASSED_REQUEST:
            out[k] = v
    return out


def _unavailable(namespace: Optional[str], why: str) -> Response:
    body = f"shmetrics: {why} (namespace {_client.resolve(namespace)!r})\n".encode()
    return 503, [("Content-Type", "text/plain; charset=utf-8")], body


def _target(namespace: Optional[str]) -> Union[str, Response]:
    """The address to scrape, or the 503 answer saying why there is none."""
    try:
        addr = find(namespace)
    except OSError as e:
        return _unavailable(namespace, str(e))
    if addr is not None:
        return addr
    return _unavailable(namespace, f"no shmetricsd is serving {_client.segment_path(namespace)}; "
                        "one in another container must mount the same /dev/shm "
                        "(docs/containers.md)")


def scrape(
    namespace: Optional[str] = None, headers: Mapping[str, str] = {}, timeout: float = 5.0
) -> Response:
    """GET ``/metrics`` of the namespace's aggregator: ``(status, headers,
    body)`` with the request's ``Accept`` and ``Accept-Encoding`` passed
    through and the response's content type and encoding passed back; 503
    with a plain-text reason when no aggregator serves or it cannot be
    reached."""
    addr = _target(namespace)
    if not isinstance(addr, str):
        return addr  # the 503 saying why
    host, port = _split(addr)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/metrics", headers=_request_headers(headers))
        resp = conn.getresponse()
        body = resp.read()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() in _PASSED_RESPONSE]
        return resp.status, out, body
    except (OSError, http.client.HTTPException) as e:
        return _unavailable(namespace, f"shmetricsd at {addr} did not answer: {e}")
    finally:
        conn.close()


async def scrape_async(
    namespace: Optional[str] = None, headers: Mapping[str, str] = {}, timeout: float = 5.0
) -> Response:
    """``scrape`` for event loops: the same answer, without blocking."""
    addr = _target(namespace)
    if not isinstance(addr, str):
        return addr  # the 503 saying why
    host, port = _split(addr)
    try:
        return await asyncio.wait_for(_get(host, port, _request_headers(headers)), timeout)
    except (OSError, asyncio.TimeoutError, ValueError) as e:
        return _unavailable(namespace, f"shmetricsd at {addr} did not answer: {e!r}")


async def _get(host: str, port: int, headers: Mapping[str, str]) -> Response:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\n{head}Connection: close\r\n\r\n"
                     .encode("latin-1"))
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"bad status line {status_line!r}")
        status = int(parts[1])
        out: list[tuple[str, str]] = []
        length = -1
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            k, _, v = line.decode("latin-1").partition(":")
            k, v = k.strip(), v.strip()
            if k.lower() == "content-length":
                length = int(v)
            elif k.lower() in _PASSED_RESPONSE:
                out.append((k, v))
        body = await (reader.readexactly(length) if length >= 0 else reader.read())
        return status, out, body
    finally:
        writer.close()
