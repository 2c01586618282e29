"""gunicorn as users run it: ``-c python:shmetrics.gunicorn`` with nothing
else (the master runs and stops shmetricsd), a user's own config importing
the hooks with ``--preload``, ``max_requests`` worker churn, and workers
SIGKILLed in the middle of load. Four sync workers, a Flask app."""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import signal
import threading

import pytest
from conftest import Daemon, parse_samples
from web_util import (
    HERE,
    Record,
    Server,
    alive,
    children,
    diff,
    free_port,
    gunicorn_argv,
    http_part,
    in_progress,
    parent,
    request,
    run,
    settle,
    wait_for,
)

from shmetrics import _aggregator
from shmetrics._http import UNMATCHED

pytest.importorskip("gunicorn")
pytest.importorskip("flask")

CHURN = ("--max-requests", "50", "--max-requests-jitter", "10")


def steps(seed: int) -> list:
    out = [("GET", "/", None, "/", 200)] * 60
    out += [("GET", f"/users/{i}", None, "/users/<int:uid>", 200) for i in range(120)]
    out += [("POST", f"/items/n{i}", b"z" * i, "/items/<name>", 201) for i in range(30)]
    out += [("GET", "/teapot", None, "/teapot", 418)] * 20
    out += [("GET", "/unavailable", None, "/unavailable", 503)] * 10
    out += [("GET", f"/nope/{i}", None, UNMATCHED, 404) for i in range(20)]
    random.Random(seed).shuffle(out)
    return out


def series(samples: dict, name: str = "http_requests_total") -> set:
    return {k for k in samples if k[0] == name}


def scrape_app(port: int) -> dict:
    status, _, body = request(port, "GET", "/metrics")
    assert status == 200, body
    return parse_samples(body.decode())


def aggregator_pid() -> int:
    """The pid of the namespace's shmetricsd, from its /debug."""
    addr = _aggregator.find()
    assert addr is not None
    host, _, p = addr.rpartition(":")
    conn = http.client.HTTPConnection(host, int(p), timeout=30)
    try:
        conn.request("GET", "/debug")
        return json.loads(conn.getresponse().read())["aggregator"]["pid"]
    finally:
        conn.close()


def test_zero_config_with_worker_churn(ns: str) -> None:
    port = free_port()
    argv = gunicorn_argv(port, "-c", "python:shmetrics.gunicorn", "-w", "4", *CHURN)
    with Server(argv, port) as srv:
        srv.wait_ready()
        pid = aggregator_pid()
        assert alive(pid) and parent(pid) == srv.proc.pid  # the master's child

        record = Record()
        run(port, steps(1), record)
        got, want = settle(lambda: scrape_app(port), record)
        assert record.errors == [] and diff(http_part(got), want) == []
        before = series(got)
        assert len(before) == 6
        families = {k: v for k, v in got.items() if k[0] == "shmetrics_series"}

        run(port, steps(2), record)  # more restarts: the same series, counts exact
        got, want = settle(lambda: scrape_app(port), record)
        assert record.errors == [] and diff(http_part(got), want) == []
        assert series(got) == before
        assert {k: v for k, v in got.items() if k[0] == "shmetrics_series"} == families
        assert set(in_progress(got).values()) == {0.0}
        # 520 requests, at most 60 per worker: at least 9 worker processes served.
        assert len(record.pids) >= math.ceil(2 * len(steps(0)) / 60)

        assert srv.stop() == 0
        wait_for(lambda: not alive(pid), 30, what="shmetricsd stopped with the master")
        assert _aggregator.find(ns) is None


def test_preload_with_own_config(daemon: Daemon) -> None:
    port = free_port()
    argv = gunicorn_argv(port, "-c", "web_gunicorn_conf.py")
    with Server(argv, port) as srv:
        srv.wait_ready()
        assert aggregator_pid() == daemon.proc.pid  # the hooks used the running one
        record = Record()
        run(port, steps(3), record)
        got, want = settle(daemon.samples, record)
        assert record.errors == [] and diff(http_part(got), want) == []
        assert set(in_progress(got).values()) == {0.0}
        assert len(series(got)) == 6
        assert len(record.pids) >= math.ceil(len(steps(0)) / 60)
        assert srv.stop() == 0
    assert daemon.proc.poll() is None  # not theirs to stop


def test_workers_killed_mid_load(daemon: Daemon, tmp_path: os.PathLike) -> None:
    hang_file = os.path.join(str(tmp_path), "hang")
    port = free_port()
    mix = steps(4) + [("GET", "/slow", None, "/slow", 200)] * 60
    random.Random(5).shuffle(mix)
    with Server(gunicorn_argv(port, "-w", "4"), port, env={"WEB_HANG_FILE": hang_file}) as srv:
        srv.wait_ready()
        record = Record()
        load = threading.Thread(target=run, args=(port, mix, record, 3))
        hung = Record()
        hang = threading.Thread(target=run, args=(port, [("GET", "/hang", None, "/hang", 200)],
                                                  hung, 1))
        load.start()
        hang.start()
        # One worker is killed in the middle of a request it is serving...
        victim = int(wait_for(lambda: os.path.exists(hang_file) and open(hang_file).read(),
                              60, what="the /hang request reaching a worker"))
        os.kill(victim, signal.SIGKILL)
        # ... and another wherever it is while the load runs.
        wait_for(lambda: record.total() >= 60, 60, what="load under way")
        others = [p for p in children(srv.proc.pid) if p != victim and str(p) in record.pids]
        assert load.is_alive() and others
        os.kill(others[0], signal.SIGKILL)
        hang.join(120)
        load.join(300)

        assert len(hung.errors) == 1 and not hung.requests  # the hung request died with it
        assert len(record.errors) <= 1, record.errors  # at most the one in flight
        wait_for(lambda: len(children(srv.proc.pid)) == 4, 60, what="gunicorn replacing them")

        def quiet() -> dict:
            s = daemon.samples()
            return s if in_progress(s) and not any(in_progress(s).values()) else {}
        got = wait_for(quiet, 30, what="no request in progress")
        want = http_part(record.expected())
        counted = http_part(got, ["http_requests_total"])
        answered = {k: v for k, v in want.items() if k[0] == "http_requests_total"}
        assert not [k for k in counted if dict(k[1])["endpoint"] == "/hang"]
        # Each series exact but for the one request in flight in the second victim:
        # answered and not yet recorded, or recorded and not answered.
        off = sum(abs(counted.get(k, 0) - answered.get(k, 0)) for k in set(counted) | set(answered))
        assert off <= 1, diff(counted, answered)
        assert in_progress(got).get("/hang", 0) == 0  # the first victim's request left with it
        assert srv.stop() == 0


def test_binary_upgrade_hands_the_aggregator_over(ns: str, tmp_path: os.PathLike) -> None:
    pidfile = os.path.join(str(tmp_path), "gunicorn.pid")
    port = free_port()
    argv = gunicorn_argv(port, "-c", "python:shmetrics.gunicorn", "-w", "2", "--pid", pidfile)
    with Server(argv, port) as srv:
        srv.wait_ready()
        pid = aggregator_pid()
        record = Record()
        run(port, [("GET", f"/users/{i}", None, "/users/<int:uid>", 200) for i in range(20)],
            record)

        os.kill(srv.proc.pid, signal.SIGUSR2)  # a new master, re-executed, beside the old one
        new = int(wait_for(lambda: os.path.exists(pidfile + ".2") and open(pidfile + ".2").read(),
                           60, what="the new master").strip())
        wait_for(lambda: len(children(new)) == 2, 60, what="the new master's workers")
        assert srv.stop() == 0  # the old master leaves: the new one keeps the aggregator
        assert alive(pid) and aggregator_pid() == pid

        run(port, [("GET", f"/users/{i}", None, "/users/<int:uid>", 200) for i in range(20)],
            record)
        got, want = settle(lambda: scrape_app(port), record)
        assert record.errors == [] and diff(http_part(got), want) == []

        os.kill(new, signal.SIGTERM)  # the new master leaves last: it stops the aggregator
        wait_for(lambda: not alive(new), 60, what="the new master exiting")
        wait_for(lambda: not alive(pid), 30, what="shmetricsd stopped by the new master")


def test_example_config_runs(daemon: Daemon) -> None:
    examples = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples")
    port = free_port()
    argv = gunicorn_argv(port, "-c", os.path.join(examples, "gunicorn.conf.py"), "-w", "2",
                         app="flask_app:app")
    with Server(argv, port, cwd=examples) as srv:
        srv.wait_ready("/")  # one request to "/", recorded: the same again here
        record = Record()
        index = request(port, "GET", "/")[2]
        for _ in range(2):
            record.add("GET", "/", 200, 0, len(index))
        run(port, [("GET", "/users/7", None, "/users/<int:uid>", 200),
                   ("GET", "/reports/2", None, "/reports/<int:rid>", 200),
                   ("GET", "/reports/0", None, "/reports/<int:rid>", 404)], record)
        assert record.errors == []
        got, want = settle(daemon.samples, record)
        assert diff(http_part(got), want) == []
        assert got[("report_build_seconds_count", frozenset())] == 1
        assert srv.stop() == 0
