"""Fixtures shared by the Python suites: a fresh namespace per test and a
real ``shmetricsd`` serving it on a free loopback port."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Optional

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shmetrics import _aggregator, _client

SHM_DIR = os.environ.get("SHMETRICS_SHM_DIR") or "/dev/shm"


def remove_namespace(ns: str) -> None:
    """Remove a namespace's segment and checkpoint."""
    for name in ("shmetrics." + ns, "shmetrics-state." + ns):
        try:
            os.unlink(os.path.join(SHM_DIR, name))
        except FileNotFoundError:
            pass


def parse_samples(text: str) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, frozenset of label items): value}`` of an exposition."""
    out: dict[tuple[str, frozenset], float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


class Daemon:
    """A real shmetricsd for one namespace, on 127.0.0.1:<free port>."""

    def __init__(self, ns: str, extra: tuple[str, ...] = ()) -> None:
        self.ns = ns
        self.proc: Optional[subprocess.Popen] = _aggregator.start(ns, extra=extra, wait=20.0)
        addr = _aggregator.find(ns)
        assert addr is not None
        self.addr = addr
        self.url = "http://" + addr

    def get(self, path: str, headers: Optional[Mapping[str, str]] = None
            ) -> tuple[int, dict[str, str], bytes]:
        host, _, port = self.addr.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request("GET", path, headers=dict(headers or {}))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def text(self) -> str:
        status, _, body = self.get("/metrics")
        assert status == 200
        return body.decode()

    def samples(self) -> dict[tuple[str, frozenset], float]:
        return parse_samples(self.text())

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc


def value(samples: Mapping, name: str, **labels: str) -> float:
    """One sample's value, 0 when absent."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(pred, timeout: float = 20.0, interval: float = 0.02):
    """Poll ``pred`` until it returns a true value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def ns(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh namespace; ``SHMETRICS_NS`` points at it; removed afterwards."""
    name = "pytest-" + uuid.uuid4().hex[:12]
    monkeypatch.setenv("SHMETRICS_NS", name)
    yield name
    _client.set_default(None)  # shmetrics.open(name) made it the process's default
    c = _client._clients.pop(name, None)
    if c is not None:
        c.close()  # at most 8 open clients per process
    remove_namespace(name)


@pytest.fixture
def daemon(ns: str) -> Iterator[Daemon]:
    """A real shmetricsd serving ``ns``."""
    d = Daemon(ns)
    try:
        yield d
    finally:
        d.stop()
