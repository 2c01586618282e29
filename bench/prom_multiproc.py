# SPDX-License-Identifier: MIT
"""Python prometheus_client in multiprocess mode: what shmetrics replaces.

Run by bench/python.sh. Measures, with the Debian python3-prometheus-client:
  - ns per Counter.inc() and Histogram.observe() on a labelled child bound once
    (as shmetrics records through a series handle), timed with timeit; the
    figure is the median over repeats;
  - the time of one scrape (MultiProcessCollector + generate_latest) over the
    files of 64 and of 1024 worker pids. The files are written by this one
    process under fake pids (values.MultiProcessValue with a
    process_identifier of our own), exactly as that many workers would leave
    them: counter_<pid>.db and histogram_<pid>.db, each worker having
    recorded 6 request counters and 2 latency histograms.
Prints a small table and one line per figure: BENCH <name> <value> <unit>.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import timeit

METHODS_STATUSES = [("GET", "200"), ("GET", "404"), ("GET", "500"),
                    ("POST", "200"), ("POST", "400"), ("POST", "500")]
METHODS = ["GET", "POST"]


def emit(name, value, unit):
    print(f"BENCH {name} {value:.3f} {unit}")


def per_call_ns(stmt, env, number, repeats):
    """Median over repeats of the ns per execution of stmt."""
    times = timeit.repeat(stmt, globals=env, number=number, repeat=repeats)
    return statistics.median(times) / number * 1e9


def measure_calls(pc, number, repeats):
    """ns per call, with the default multiprocess value class (real pid)."""
    counter = pc.Counter("bench_requests_total", "Requests.", ["method", "status"],
                         registry=None)
    hist = pc.Histogram("bench_latency_seconds", "Latency.", ["method"], registry=None)
    env = {"c": counter.labels("GET", "200"), "h": hist.labels("GET"),
           "counter": counter}
    return {
        "inc": per_call_ns("c.inc()", env, number, repeats),
        "labels_inc": per_call_ns("counter.labels('GET', '200').inc()", env, number,
                                  repeats),
        "observe": per_call_ns("h.observe(0.042)", env, number, repeats),
        "loop": per_call_ns("pass", env, number, repeats),
    }


def write_worker_files(pc, directory, workers):
    """The files `workers` processes would leave, written under fake pids."""
    from prometheus_client import values

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    state = {"pid": 100001}  # the first worker: no file for any other pid
    saved = values.ValueClass
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: state["pid"])
    try:
        counter = pc.Counter("http_requests_total", "Requests.", ["method", "status"],
                             registry=None)
        hist = pc.Histogram("http_request_duration_seconds", "Latency.", ["method"],
                            registry=None)
        children = [counter.labels(m, s) for m, s in METHODS_STATUSES]
        hchildren = [hist.labels(m) for m in METHODS]
        for pid in range(100001, 100001 + workers):
            state["pid"] = pid  # the next record opens this pid's files
            for c in children:
                c.inc()
            for h in hchildren:
                h.observe(0.042)
    finally:
        values.ValueClass = saved
    return len(os.listdir(directory))


def measure_scrape(pc, directory, workers, repeats):
    """Median ms per scrape, and the merged request count as a check."""
    from prometheus_client import multiprocess

    registry = pc.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    times = []
    body = b""
    for _ in range(repeats):
        t0 = time.perf_counter()
        body = pc.generate_latest(registry)
        times.append((time.perf_counter() - t0) * 1e3)
    want = f'http_requests_total{{method="GET",status="200"}} {float(workers)}'.encode()
    return statistics.median(times), want in body, len(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--number", type=int, default=200000, help="calls per timeit repeat")
    ap.add_argument("--repeats", type=int, default=11, help="timeit repeats")
    ap.add_argument("--scrape-repeats", type=int, default=5, help="scrapes per worker count")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    args = ap.parse_args()
    if args.smoke:
        args.number, args.repeats, args.scrape_repeats = 2000, 3, 1
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        sys.exit("prom_multiproc.py: PROMETHEUS_MULTIPROC_DIR must be set before import")

    from importlib import metadata

    import prometheus_client as pc

    print(f"# prometheus_client {metadata.version('prometheus_client')} multiprocess mode, "
          f"python {sys.version.split()[0]}; timeit: {args.repeats} repeats of "
          f"{args.number} calls, median; scrapes: median of {args.scrape_repeats}")
    calls = measure_calls(pc, args.number, args.repeats)
    scrapes = {}
    for workers in (64, 1024):
        d = tempfile.mkdtemp(prefix=f"scrape{workers}-",
                             dir=os.environ["PROMETHEUS_MULTIPROC_DIR"])
        files = write_worker_files(pc, d, workers)
        ms, ok, size = measure_scrape(pc, d, workers, args.scrape_repeats)
        if not ok:
            sys.exit(f"prom_multiproc.py: the scrape over {workers} workers lost samples")
        scrapes[workers] = ms
        print(f"# {workers} workers: {files} files, scrape {ms:.1f} ms, {size} bytes")
    print(f"# Counter.inc {calls['inc']:.0f} ns, labels().inc {calls['labels_inc']:.0f} ns, "
          f"Histogram.observe {calls['observe']:.0f} ns (timeit loop alone "
          f"{calls['loop']:.0f} ns, included)")
    emit("python_counter_inc_ns", calls["inc"], "ns")
    emit("python_counter_labels_inc_ns", calls["labels_inc"], "ns")
    emit("python_histogram_observe_ns", calls["observe"], "ns")
    emit("python_timeit_loop_ns", calls["loop"], "ns")
    emit("python_scrape_64_ms", scrapes[64], "ms")
    emit("python_scrape_1024_ms", scrapes[1024], "ms")


if __name__ == "__main__":
    main()
