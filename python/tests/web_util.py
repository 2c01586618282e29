"""Helpers of the web-server suites (ASGI, WSGI, gunicorn): real server
processes on free loopback ports, a plain HTTP client, a client-side tally of
what was sent and answered, and its comparison with an exposition."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
HTTP_FAMILIES = ("http_requests_total", "http_requests_4xx_total", "http_requests_5xx_total",
                 "http_request_duration_seconds_count", "http_request_size_bytes_count",
                 "http_request_size_bytes_sum", "http_response_size_bytes_count",
                 "http_response_size_bytes_sum")

Samples = dict[tuple[str, frozenset], float]


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: Optional[bytes] = None,
            headers: Optional[Mapping[str, str]] = None, timeout: float = 60.0
            ) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: ``(status, headers, body)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def wait_for(pred: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll ``pred`` until it returns a true value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(interval)


class Server:
    """A real server process (uvicorn, gunicorn) in a process group of its
    own, its output in a file shown when a test fails; every process left in
    the group is killed on exit."""

    def __init__(self, argv: Sequence[str], port: int, cwd: str = HERE,
                 env: Optional[Mapping[str, str]] = None) -> None:
        self.argv = list(argv)
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix="web-server-", suffix=".log", delete=False)
        self.tmp = tempfile.mkdtemp(prefix="web-server-")  # the app's files ($WEB_TMP)
        full_env = dict(os.environ)
        full_env["WEB_TMP"] = self.tmp
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if exc[0] is not None:
            sys.stderr.write(f"--- output of {' '.join(self.argv)}:\n{self.output()[-6000:]}\n")
        self.log.close()
        os.unlink(self.log.name)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def output(self) -> str:
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def wait_ready(self, path: str = "/health/ready", timeout: float = 90.0) -> None:
        """Until the server answers ``path`` (a path the middleware excludes)."""
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                return request(self.port, "GET", path, timeout=30)[0] == 200
            except OSError:
                return False
        wait_for(ready, timeout, what=f"server answering {path}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the server's main process and wait for it to exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # what it left in its group
        except OSError:
            pass


def gunicorn_argv(port: int, *args: str, app: str = "web_flask_app:app") -> list[str]:
    """A gunicorn command line on 127.0.0.1:``port`` (gunicorn 27's control
    socket, one path per user, is turned off: suites run servers side by side)."""
    from gunicorn.config import Config

    script = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    # The script, not "python -m gunicorn": a USR2 re-exec of the latter puts gunicorn's
    # own package directory first on sys.path, where its "http" hides the stdlib's.
    argv = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "gunicorn"]
    argv += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if "control_socket_disable" in Config().settings:
        argv.append("--no-control-socket")
    return [*argv, *args, app]


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` that are not a shmetricsd."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm_end = stat.rfind(")")
        comm = stat[stat.find("(") + 1:comm_end]
        fields = stat[comm_end + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z" and comm != "shmetricsd":
            out.append(int(entry))
    return out


def parent(pid: int) -> int:
    """The parent pid of ``pid``."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Record:
    """What the clients sent and were answered, per series of the
    http families, the way the middleware should have recorded it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Tally = Tally()       # (method, endpoint, status)
        self.req_bytes: Tally = Tally()      # endpoint -> request body bytes
        self.resp_bytes: Tally = Tally()     # endpoint -> response body bytes
        self.errors: list[str] = []
        self.pids: set[str] = set()

    def add(self, method: str, endpoint: str, status: int, req: int, resp: int) -> None:
        with self.lock:
            self.requests[(method, endpoint, str(status))] += 1
            self.req_bytes[endpoint] += req
            self.resp_bytes[endpoint] += resp

    def total(self) -> int:
        """Requests answered so far."""
        with self.lock:
            return sum(self.requests.values())

    def expected(self) -> Samples:
        """The samples of ``HTTP_FAMILIES`` these requests make."""
        out: Samples = {}

        def put(name: str, labels: dict[str, str], v: float) -> None:
            key = (name, frozenset(labels.items()))
            out[key] = out.get(key, 0.0) + v

        for (method, ep, status), n in self.requests.items():
            put("http_requests_total", {"method": method, "endpoint": ep, "status": status}, n)
            for name in ("http_request_duration_seconds_count", "http_request_size_bytes_count",
                         "http_response_size_bytes_count"):
                put(name, {"endpoint": ep}, n)
            if status.startswith("4"):
                put("http_requests_4xx_total", {"endpoint": ep}, n)
            if status.startswith("5"):
                put("http_requests_5xx_total", {"endpoint": ep}, n)
        for ep in {k[1] for k in self.requests}:
            put("http_request_size_bytes_sum", {"endpoint": ep}, self.req_bytes[ep])
            put("http_response_size_bytes_sum", {"endpoint": ep}, self.resp_bytes[ep])
        return out


def http_part(samples: Samples, names: Iterable[str] = HTTP_FAMILIES) -> Samples:
    """The samples of the given names, those of value 0 left out (a 4xx
    counter of an endpoint that never answered 4xx is 0 in both)."""
    wanted = set(names)
    return {k: v for k, v in samples.items() if k[0] in wanted and v != 0}


def diff(got: Samples, want: Samples) -> list[str]:
    """Human-readable differences, empty when equal."""
    out = []
    for key in sorted(set(got) | set(want), key=repr):
        g, w = got.get(key), want.get(key)
        if g != w:
            out.append(f"{key[0]}{dict(key[1])}: exposition {g}, clients {w}")
    return out


def in_progress(samples: Samples) -> dict[str, float]:
    """``http_requests_in_progress`` by endpoint."""
    return {dict(k[1])["endpoint"]: v for k, v in samples.items()
            if k[0] == "http_requests_in_progress"}


Step = tuple[str, str, Optional[bytes], str, int]  # method, path, body, endpoint, status


def run(port: int, steps: Sequence[Step], record: Record, threads: int = 4,
        response_size: Optional[Callable[[str, bytes], int]] = None) -> None:
    """Send ``steps`` from ``threads`` client threads, each on a new
    connection; record each answer (its status must be the expected one)."""
    lock = threading.Lock()
    queue = list(reversed(steps))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                method, path, body, endpoint, status = queue.pop()
            try:
                got, headers, data = request(port, method, path, body)
            except (OSError, http.client.HTTPException) as e:
                with record.lock:
                    record.errors.append(f"{method} {path}: {e!r}")
                continue
            if got != status:
                with record.lock:
                    record.errors.append(f"{method} {path}: status {got}, expected {status}")
            if "x-worker" in headers:
                with record.lock:
                    record.pids.add(headers["x-worker"])
            size = response_size(endpoint, data) if response_size else len(data)
            record.add(method, endpoint, got, len(body or b""), size)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(300)


def settle(scrape: Callable[[], Samples], record: Record, timeout: float = 30.0
           ) -> tuple[Samples, Samples]:
    """Poll the exposition until it shows every answered request and no
    request in progress (the server records a moment after the client got
    its answer); return (got, want) for the exact assertion."""
    want = http_part(record.expected())
    last: dict[str, Samples] = {}

    def done() -> bool:
        s = scrape()
        last["s"] = s
        return http_part(s) == want and not any(in_progress(s).values())

    try:
        wait_for(done, timeout, interval=0.1, what="exposition equal to the clients' tally")
    except AssertionError:
        pass  # the caller's assertion shows the difference
    return last["s"], want
