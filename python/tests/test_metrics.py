"""API parity with prometheus_client: the same calls give the same values in
shmetricsd's /metrics as prometheus_client's own exposition, and the same
exceptions."""

from __future__ import annotations

import itertools
import math

import prometheus_client
import pytest
from conftest import parse_samples, value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import validation as prom_validation

import shmetrics

_names = itertools.count()


def fresh(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


def _le_by_value(samples: dict) -> dict:
    """prometheus_client writes le="1.0" where shmetricsd (like the Go client
    and Prometheus 3's normalisation) writes le="1": compare bounds as numbers."""
    out = {}
    for (name, labels), v in samples.items():
        labels = frozenset((k, repr(float(x)) if k == "le" else x) for k, x in labels)
        out[(name, labels)] = v
    return out


def prom_samples(registry: CollectorRegistry) -> dict:
    return _le_by_value({k: v for k, v in parse_samples(generate_latest(registry).decode()).items()
                         if not k[0].endswith("_created")})


def ours(samples: dict, names: set[str]) -> dict:
    return _le_by_value({k: v for k, v in samples.items() if k[0] in names})


def assert_same(daemon, registry: CollectorRegistry, timed: tuple[str, ...] = ()) -> None:
    """Same samples; those named in ``timed`` (durations) only both present."""
    want = prom_samples(registry)
    got = ours(daemon.samples(), {k[0] for k in want})
    for k in [k for k in want if k[0] in timed]:
        assert 0 <= got.pop(k) < 60
        del want[k]
    assert got == want


def test_counter_gauge_histogram_same_exposition(daemon) -> None:
    reg = CollectorRegistry()
    for mod, kw in ((prometheus_client, {"registry": reg}), (shmetrics, {})):
        c = mod.Counter("jobs", "Jobs done.", ["queue"], namespace="app", **kw)
        c.labels("mail").inc()
        c.labels(queue="mail").inc(2.5)
        c.labels("sms").inc(0)
        g = mod.Gauge("depth", "Queue depth.", ["queue"], multiprocess_mode="livesum", **kw)
        g.labels("mail").set(7)
        g.labels("mail").inc(3)
        g.labels("mail").dec(1.5)
        h = mod.Histogram("latency", "Latency.", ["route"], unit="seconds",
                          buckets=(0.1, 0.5, 1, float("inf")), **kw)
        for v in (0.05, 0.1, 0.3, 0.7, 3.0, -1):
            h.labels("/x").observe(v)
        u = mod.Counter("plain_total", "No labels.", **kw)
        u.inc()
        u.inc(41)
        d = mod.Histogram("default_buckets", "Defaults.", **kw)
        d.observe(0.02)
    assert_same(daemon, reg)
    s = daemon.samples()
    assert value(s, "app_jobs_total", queue="mail") == 3.5
    assert value(s, "latency_seconds_bucket", route="/x", le="0.1") == 3
    assert value(s, "latency_seconds_bucket", route="/x", le="1") == 5
    assert value(s, "plain_total") == 42


def test_context_managers_and_decorators(daemon) -> None:
    reg = CollectorRegistry()
    for mod, kw in ((prometheus_client, {"registry": reg}), (shmetrics, {})):
        errors = mod.Counter("errors", "Errors.", **kw)
        inprog = mod.Gauge("inprog", "In progress.", **kw)
        hist = mod.Histogram("took_seconds", "Took.", buckets=(60,), **kw)

        @errors.count_exceptions(KeyError)
        @inprog.track_inprogress()
        @hist.time()
        def work(fail: bool) -> None:
            if fail:
                raise KeyError("x")

        work(False)
        with pytest.raises(KeyError):
            work(True)
        with pytest.raises(ValueError), errors.count_exceptions(KeyError):
            raise ValueError("not counted")
        with inprog.track_inprogress():
            pass
    assert_same(daemon, reg, timed=("took_seconds_sum",))
    s = daemon.samples()
    assert value(s, "errors_total") == 1
    assert value(s, "took_seconds_count") == 2
    assert value(s, "inprog") == 0


def test_set_to_current_time_and_gauge_time(daemon) -> None:
    g = shmetrics.Gauge("stamp", "When.")
    g.set_to_current_time()
    t = shmetrics.Gauge("last_took", "Took.")
    with t.time():
        pass
    s = daemon.samples()
    import time as _t

    assert abs(value(s, "stamp") - _t.time()) < 60
    assert 0 <= value(s, "last_took") < 60


def _both_raise(fn, exc=ValueError) -> None:
    for mod in (prometheus_client, shmetrics):
        with pytest.raises(exc):
            fn(mod)


@pytest.fixture
def legacy_names():
    was = prom_validation.get_legacy_validation()
    prom_validation.enable_legacy_validation()
    yield
    if not was:
        prom_validation.disable_legacy_validation()


@pytest.mark.usefixtures("daemon", "legacy_names")
def test_same_exceptions() -> None:
    reg = CollectorRegistry

    def mk(mod, cls, *a, **kw):
        if mod is prometheus_client:
            kw["registry"] = reg()
        return getattr(mod, cls)(*a, **kw)

    _both_raise(lambda m: mk(m, "Counter", fresh("neg"), "h").inc(-1))
    _both_raise(lambda m: mk(m, "Counter", fresh("lbl"), "h", ["a", "b"]).labels("x"))
    _both_raise(lambda m: mk(m, "Counter", fresh("lbl"), "h", ["a"]).labels(b="x"))
    _both_raise(lambda m: mk(m, "Counter", fresh("lbl"), "h", ["a"]).labels("x", a="x"))
    _both_raise(lambda m: mk(m, "Counter", fresh("lbl"), "h").labels("x"))
    _both_raise(lambda m: mk(m, "Counter", fresh("lbl"), "h", ["a"]).inc())
    _both_raise(lambda m: mk(m, "Histogram", fresh("lbl"), "h", ["a"]).observe(1))
    _both_raise(lambda m: mk(m, "Gauge", fresh("lbl"), "h", ["a"]).set(1))
    _both_raise(lambda m: mk(m, "Counter", "", "h"))
    _both_raise(lambda m: mk(m, "Counter", "1bad", "h"))
    _both_raise(lambda m: mk(m, "Counter", "bad-name", "h"))
    _both_raise(lambda m: mk(m, "Counter", fresh("ok"), "h", ["bad-label"]))
    _both_raise(lambda m: mk(m, "Counter", fresh("ok"), "h", ["__reserved"]))
    _both_raise(lambda m: mk(m, "Histogram", fresh("ok"), "h", ["le"]))
    _both_raise(lambda m: mk(m, "Histogram", fresh("ok"), "h", buckets=(2, 1)))
    _both_raise(lambda m: mk(m, "Histogram", fresh("ok"), "h", buckets=(float("inf"),)))
    _both_raise(lambda m: mk(m, "Gauge", fresh("ok"), "h", multiprocess_mode="nope"))
    _both_raise(lambda m: mk(m, "Gauge", fresh("ok"), "h", multiprocess_mode="mostrecent").inc(),
                RuntimeError)
    _both_raise(lambda m: mk(m, "Gauge", fresh("ok"), "h", multiprocess_mode="mostrecent").dec(),
                RuntimeError)


@pytest.mark.usefixtures("daemon")
def test_shmetrics_only_errors() -> None:
    name = fresh("conflict")
    shmetrics.Counter(name, "h", ["a"])
    with pytest.raises(ValueError, match="already exists"):
        shmetrics.Counter(name, "h", ["b"])  # same name, other labels
    same = shmetrics.Counter(name, "h", ["a"])  # same definition: the same family
    same.labels("x").inc()
    with pytest.raises(ValueError, match="invalid metric name"):
        shmetrics.Counter("caf\u00e9", "h")  # prometheus_client 0.2x allows UTF-8 names
    long_value = "v" * 1025
    c = shmetrics.Counter(fresh("long"), "h", ["a"])
    with pytest.raises(ValueError, match="at most 1024"):
        c.labels(long_value)
    c.labels("v" * 1024).inc()  # the limit itself is fine
    with pytest.raises(ValueError, match="NUL"):
        c.labels("a\x00b")
    with pytest.raises(NotImplementedError):
        shmetrics.Gauge(fresh("fn"), "h").set_function(lambda: 1.0)


label_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
amounts = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
observations = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(label_text, label_text), min_size=1, max_size=5),
       incs=st.lists(amounts, min_size=1, max_size=8),
       obs=st.lists(observations, min_size=1, max_size=8),
       sets=st.lists(observations, min_size=1, max_size=4))
def test_hypothesis_same_values(daemon, values, incs, obs, sets) -> None:
    reg = CollectorRegistry()
    cname, gname, hname = fresh("hc"), fresh("hg"), fresh("hh")
    for mod, kw in ((prometheus_client, {"registry": reg}), (shmetrics, {})):
        c = mod.Counter(cname, "help \\ with \"quotes\"\nand a newline", ["a", "b"], **kw)
        g = mod.Gauge(gname, "g", ["a", "b"], multiprocess_mode="livesum", **kw)
        h = mod.Histogram(hname, "h", ["a", "b"], buckets=(-1, 0, 0.5, 100), **kw)
        for i, (a, b) in enumerate(values):
            child = c.labels(a=a, b=b) if i % 2 else c.labels(a, b)
            for x in incs:
                child.inc(x)
            for x in sets:
                g.labels(a, b).set(x)
                g.labels(a, b).inc(1)
            for x in obs:
                h.labels(a=a, b=b).observe(x)
    want = prom_samples(reg)
    got = ours(daemon.samples(), {k[0] for k in want})
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k] == v or math.isclose(got[k], v, rel_tol=1e-12), k


def test_remove_and_clear_forget_local_handles_only(daemon) -> None:
    one = shmetrics.Counter(fresh("one"), "h", ["a"])
    two = shmetrics.Counter(fresh("two"), "h", ["a", "b"])
    one.labels("x").inc()
    one.labels(1).inc()  # str()-ed: the same series as "1"
    two.labels("x", "y").inc(2)
    assert sorted(one._family.keys()) == [("1",), ("x",)]
    assert two._family.keys() == [("x", "y")]
    one.remove("x")
    assert one._family.keys() == [("1",)]
    one.labels("x").inc()  # a new handle on the same series: values go on
    two.clear()
    assert two._family.keys() == []
    two.labels("x", "y").inc()
    with pytest.raises(ValueError, match="Incorrect label count"):
        one.remove("x", "y")
    s = daemon.samples()
    assert value(s, one._name + "_total", a="x") == 2
    assert value(s, one._name + "_total", a="1") == 1
    assert value(s, two._name + "_total", a="x", b="y") == 3


@pytest.mark.usefixtures("daemon")
def test_children_are_the_c_types_and_mostrecent_refuses_inc() -> None:
    from shmetrics import metrics

    c = shmetrics.Counter(fresh("exact"), "h", ["a"])
    g = shmetrics.Gauge(fresh("exact"), "h", ["a"], multiprocess_mode="livemostrecent")
    h = shmetrics.Histogram(fresh("exact"), "h", ["a"])
    assert type(c.labels("x")) is metrics.CounterChild
    assert type(g.labels("x")) is metrics.GaugeChild
    assert type(h.labels("x")) is metrics.HistogramChild
    g.labels("x").set(3)
    for call in (g.labels("x").inc, g.labels("x").dec, g.labels("x").track_inprogress):
        with pytest.raises(RuntimeError, match="mostrecent"):
            call()
