# SPDX-License-Identifier: MIT
"""Check through a Prometheus server's HTTP API what it scraped from
shmetricsd after shmetrics-load drove shmetrics-demo.

Usage: check_prometheus.py PROM_URL JOB LOAD_REPORT [DEADLINE_S]

Polls until sum(http_requests_total) equals the load report's "recorded"
count exactly (a larger value fails at once), then checks: every
http_requests_total{method,endpoint,status} series equals the report's
"request" line; each histogram's _count sums to the same total; nothing is
left in progress; the target is up with no scrape error; and the scrape
was parsed as OpenMetrics (the counter's metadata is filed under the family
name without _total, as only the OpenMetrics parser does).
"""
import json
import sys
import time
import urllib.parse
import urllib.request

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def api(base, path, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError(f"{url}: {doc!r}")
    return doc["data"]


def query(base, expr):
    """{frozenset(labels but name, instance, job): value} of an instant query."""
    out = {}
    for r in api(base, "/api/v1/query", query=expr)["result"]:
        labels = {k: v for k, v in r["metric"].items()
                  if k not in ("__name__", "instance", "job")}
        out[frozenset(labels.items())] = float(r["value"][1])
    return out


def scalar(base, expr):
    v = query(base, expr)
    return v.get(frozenset()) if len(v) == 1 else None


def report(path):
    """The load report: ({key: n} of single counts, {labels: n} of requests)."""
    counts, requests = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[1].isdigit():
                counts[w[0]] = int(w[1])
            elif len(w) == 5 and w[0] == "request" and w[2] != "-":
                key = frozenset({"method": w[1], "endpoint": w[2], "status": w[3]}.items())
                requests[key] = float(w[4])
    return counts, requests


def wait_total(base, want, deadline):
    """Poll sum(http_requests_total) until it is want; the last value seen."""
    end = time.monotonic() + deadline
    got = None
    while time.monotonic() < end:
        got = scalar(base, "sum(http_requests_total)")
        if got is not None and got > want:
            break  # counted more than was recorded: never fixed by waiting
        if got == want:
            return got
        time.sleep(0.2)
    return got


def main():
    base, job, path = sys.argv[1], sys.argv[2], sys.argv[3]
    deadline = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    counts, requests = report(path)
    k = counts.get("recorded")
    if k is None or counts.get("errors") != 0 or counts.get("sent") != counts.get("responses"):
        fail(f"load report: {counts!r}")
        return 1
    if sum(requests.values()) != k:
        fail(f"load report: request lines add up to {sum(requests.values()):g}, recorded {k}")

    t0 = time.monotonic()
    got = wait_total(base, k, deadline)
    if got != k:
        fail(f"sum(http_requests_total) is {got!r}, recorded {k} "
             f"(waited {time.monotonic() - t0:.1f} s)")
        return 1
    print(f"sum(http_requests_total) == {k} after {time.monotonic() - t0:.1f} s")

    series = query(base, "http_requests_total")
    for key in sorted(set(series) | set(requests), key=sorted):
        if series.get(key) != requests.get(key):
            fail(f"http_requests_total{dict(key)}: Prometheus {series.get(key)!r}, "
                 f"load report {requests.get(key)!r}")
    for h in ("http_request_duration_seconds", "http_request_size_bytes",
              "http_response_size_bytes"):
        v = scalar(base, f"sum({h}_count)")
        if v != k:
            fail(f"sum({h}_count) is {v!r}, recorded {k}")
    v = scalar(base, "sum(http_requests_in_progress)")
    if v != 0:
        fail(f"sum(http_requests_in_progress) is {v!r} after the load")

    targets = [t for t in api(base, "/api/v1/targets")["activeTargets"]
               if t["labels"].get("job") == job]
    if len(targets) != 1 or targets[0]["health"] != "up" or targets[0]["lastError"] != "":
        fail(f"target: {targets!r}")
    meta = api(base, "/api/v1/metadata", metric="http_requests")
    if [m.get("type") for m in meta.get("http_requests", [])] != ["counter"]:
        fail(f"no counter metadata for family http_requests: not scraped as OpenMetrics? {meta!r}")
    print(f"{len(requests)} series checked; {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
