"""Exactness across processes: workers made with fork() and with
multiprocessing's spawn method record into one namespace, and shmetricsd's
/metrics holds the exact totals, gauge modes combined as documented."""

from __future__ import annotations

import multiprocessing as mp
import os

from conftest import value, wait_for

import shmetrics

N_PER_WORKER = 5000


def _record(ns: str, worker: int, n: int) -> None:
    shmetrics.open(ns)
    c = shmetrics.Counter("mp_jobs", "Jobs.", ["kind"])
    h = shmetrics.Histogram("mp_seconds", "Took.", buckets=(0.5, 1, 2))
    live = shmetrics.Gauge("mp_live", "Live workers.", multiprocess_mode="livesum")
    top = shmetrics.Gauge("mp_top", "Largest worker index.", multiprocess_mode="max")
    low = shmetrics.Gauge("mp_low", "Smallest worker index.", multiprocess_mode="min")
    kind = c.labels("even" if worker % 2 == 0 else "odd")
    for i in range(n):
        kind.inc()
        h.observe(0.25 * (i % 8))  # 0, .25, ... 1.75
    live.inc()
    top.set(worker)
    low.set(worker + 10)


def _spawned(ns: str, worker: int, n: int, ready, done) -> None:
    _record(ns, worker, n)
    ready.set()
    done.wait(60)  # stay alive: live gauges count live workers only


def _expected_buckets(workers: int) -> dict[str, float]:
    per = N_PER_WORKER // 8  # each of the 8 values once per 8 observations
    return {"0.5": 3 * per * workers, "1": 5 * per * workers, "2": 8 * per * workers,
            "+Inf": 8 * per * workers}


def test_forked_workers_exact(daemon, ns) -> None:
    workers = 6
    pids = []
    for w in range(workers):
        pid = os.fork()
        if pid == 0:  # child: record, then leave without running pytest's teardown
            code = 0
            try:
                _record(ns, w, N_PER_WORKER)
            except BaseException:
                code = 1
            os._exit(code)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    s = wait_for(lambda: (x := daemon.samples()) and
                 value(x, "mp_seconds_count") == workers * N_PER_WORKER and x)
    assert value(s, "mp_jobs_total", kind="even") == 3 * N_PER_WORKER
    assert value(s, "mp_jobs_total", kind="odd") == 3 * N_PER_WORKER
    for le, n in _expected_buckets(workers).items():
        assert value(s, "mp_seconds_bucket", le=le) == n
    assert value(s, "mp_seconds_sum") == workers * (N_PER_WORKER // 8) * 7.0
    # Every worker has exited: live gauges leave with their workers.
    wait_for(lambda: value(daemon.samples(), "mp_live") == 0)


def test_spawned_workers_exact_and_gauge_modes(daemon, ns) -> None:
    ctx = mp.get_context("spawn")
    workers = 4
    done = ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    procs = [ctx.Process(target=_spawned, args=(ns, w, N_PER_WORKER, readies[w], done))
             for w in range(workers)]
    for p in procs:
        p.start()
    try:
        for r in readies:
            assert r.wait(120)
        s = wait_for(lambda: (x := daemon.samples()) and value(x, "mp_live") == workers and x)
        assert value(s, "mp_seconds_count") == workers * N_PER_WORKER
        assert value(s, "mp_jobs_total", kind="even") == 2 * N_PER_WORKER
        assert value(s, "mp_jobs_total", kind="odd") == 2 * N_PER_WORKER
        assert value(s, "mp_top") == workers - 1
        assert value(s, "mp_low") == 10
    finally:
        done.set()
        for p in procs:
            p.join(60)
    assert [p.exitcode for p in procs] == [0] * workers
    s = wait_for(lambda: (x := daemon.samples()) and value(x, "mp_live") == 0 and x)
    assert value(s, "mp_seconds_count") == workers * N_PER_WORKER  # counters survive deaths


def test_metric_made_before_fork_records_in_child(daemon, ns) -> None:
    c = shmetrics.Counter("pre_fork", "Made in the parent.", ["who"])
    parent = c.labels("parent")
    parent.inc()
    pid = os.fork()
    if pid == 0:
        try:
            parent.inc(10)  # the parent's child handle, in the forked child
            c.labels("child").inc(5)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    s = wait_for(lambda: (x := daemon.samples()) and value(x, "pre_fork_total", who="child") and x)
    assert value(s, "pre_fork_total", who="parent") == 11
    assert value(s, "pre_fork_total", who="child") == 5
