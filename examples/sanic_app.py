"""A Sanic app whose own /metrics serves the merged metrics of all its workers.

Run it from the repository root, after ``pip install ./python sanic``::

    sanic examples.sanic_app:app --workers 4        # or: python examples/sanic_app.py

then ``curl localhost:8000/users/7``, ``curl localhost:8000/nope`` and
``curl localhost:8000/metrics``. With nothing else running, ``instrument``
starts ``shmetricsd`` under Sanic's worker manager and stops it with the
server; when one already serves the namespace (systemd, a sidecar, or
``shmetricsd --ns default`` in another terminal), the app uses that one.
``SHMETRICS_NS`` picks the namespace (default ``default``).
"""

from __future__ import annotations

import asyncio
import os

from sanic import Sanic
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse, json, text

from shmetrics import Counter
from shmetrics.sanic import instrument

app = Sanic("shmetrics_example")
app.config.ACCESS_LOG = False
instrument(app, const_labels={"service": "example"})

# Any metric of your own is merged over the workers as well.
SIGNUPS = Counter("example_signups", "Sign-ups accepted.", ["plan"])

USERS = {7: "ada", 8: "grace"}


@app.get("/")
async def index(request: Request) -> HTTPResponse:
    return text(f"hello from worker {os.getpid()}\n")


@app.get("/users/<uid:int>")
async def user(request: Request, uid: int) -> HTTPResponse:
    if uid not in USERS:
        raise NotFound(f"no user {uid}")
    return json({"id": uid, "name": USERS[uid]})


@app.post("/signup/<plan:str>")
async def signup(request: Request, plan: str) -> HTTPResponse:
    SIGNUPS.labels(plan).inc()
    return json({"plan": plan}, status=201)


@app.get("/slow")
async def slow(request: Request) -> HTTPResponse:
    await asyncio.sleep(0.25)
    return text("done\n")


@app.get("/boom")
async def boom(request: Request) -> HTTPResponse:
    raise RuntimeError("counted as a 500, with its latency")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000, workers=4)
