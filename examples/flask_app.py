"""A Flask app whose request metrics are merged across gunicorn workers.

From the repository root, with or without a shmetricsd running (the
configuration's hooks start one from gunicorn's master when none serves)::

    gunicorn -c examples/gunicorn.conf.py

then ``curl localhost:8000/users/7`` and ``curl localhost:8000/metrics``:
the app's own ``/metrics`` answers with every worker's requests, merged by
shmetricsd, labelled by URL rule (``endpoint="/users/<int:uid>"``).
"""

from __future__ import annotations

import time

from flask import Flask, abort

import shmetrics
from shmetrics.wsgi import MetricsMiddleware

JOBS = shmetrics.Histogram("report_build_seconds", "Time to build a report.",
                           buckets=(0.01, 0.05, 0.1, 0.5, 1))

app = Flask(__name__)


@app.get("/")
def index() -> dict:
    return {"try": ["/users/7", "/reports/2", "/metrics"]}


@app.get("/users/<int:uid>")
def user(uid: int) -> dict:
    return {"uid": uid}


@app.get("/reports/<int:rid>")
def report(rid: int) -> dict:
    if rid == 0:
        abort(404)
    with JOBS.time():
        time.sleep(0.01 * (rid % 5))
    return {"rid": rid}


app.wsgi_app = MetricsMiddleware(app.wsgi_app)  # /metrics: the merged exposition
