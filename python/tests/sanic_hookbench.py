"""What Sanic's hooks cost per request: the figures of docs/python-sanic.md.

Each variant is one app (a route ``/users/<uid:int>`` answering ``text``)
with one kind of hook, driven in-process through Sanic's ASGI entry point
so that no socket and no load generator is measured. Each variant runs in
a process of its own (Sanic's start-up rewrites class methods), the
variants are interleaved over the rounds, and each run reports the best of
its batches in CPU time per request. Run from ``python/tests`` with a
shmetricsd serving the namespace (``shmetricsd --ns hookbench &``)::

    SHMETRICS_NS=hookbench python sanic_hookbench.py --rounds 9

It prints ``BENCH sanic_hook_<variant>_us <median> us`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

VARIANTS = ("none", "middleware_async", "middleware_sync", "signals", "handler_wrap",
            "handle_request_wrap", "instrument_noop", "instrument")


def make_app(variant: str) -> Any:
    """The app of one variant."""
    from sanic import Sanic, text

    app = Sanic("hookbench")
    app.config.ACCESS_LOG = False

    async def user(request: Any, uid: int) -> Any:
        return text("hello")

    if variant == "handler_wrap":
        inner = user

        async def user(request: Any, uid: int) -> Any:  # type: ignore[no-redef]
            return await inner(request, uid=uid)

    app.add_route(user, "/users/<uid:int>")

    if variant in ("middleware_async", "middleware_sync"):
        if variant == "middleware_async":
            async def on_request(request: Any) -> None:
                pass

            async def on_response(request: Any, response: Any) -> None:
                pass
        else:
            def on_request(request: Any) -> None:  # type: ignore[misc]
                pass

            def on_response(request: Any, response: Any) -> None:  # type: ignore[misc]
                pass
        app.on_request(on_request)
        app.on_response(on_response)
    elif variant == "signals":
        async def on_req(request: Any) -> None:
            pass

        async def on_resp(request: Any, response: Any) -> None:
            pass
        app.signal("http.lifecycle.request")(on_req)
        app.signal("http.lifecycle.response")(on_resp)
    elif variant == "handle_request_wrap":
        base = type(app)

        async def handle_request(self: Any, request: Any) -> None:
            try:
                await base.handle_request(self, request)
            finally:
                pass
        app.__class__ = type(base.__name__, (base,), {"__slots__": (),
                                                      "handle_request": handle_request})
    elif variant in ("instrument", "instrument_noop"):
        from shmetrics.sanic import instrument

        m = instrument(app, aggregator="external", metrics_path=None)
        if variant == "instrument_noop" and m is not None:
            m.begin = lambda name: name  # type: ignore[method-assign]
            m.end = lambda *a: None  # type: ignore[method-assign]
    return app


async def drive(app: Any, n: int, batches: int) -> float:
    """Best of ``batches`` runs of ``n`` requests, in CPU µs per request."""
    started = asyncio.Event()
    stop = asyncio.Event()
    queue = [{"type": "lifespan.startup"}]

    async def lrecv() -> dict:
        if queue:
            return queue.pop()
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def lsend(msg: dict) -> None:
        if msg["type"] == "lifespan.startup.complete":
            started.set()
        elif msg["type"].endswith("failed"):
            raise RuntimeError(msg)

    life = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                     lrecv, lsend))
    await started.wait()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/users/1", "raw_path": b"/users/1",
             "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    body = {"type": "http.request", "body": b"", "more_body": False}
    statuses: list[int] = []

    async def recv() -> dict:
        return body

    async def send(msg: dict) -> None:
        if msg["type"] == "http.response.start":
            statuses.append(msg["status"])

    best = float("inf")
    for _ in range(batches):
        t0 = time.process_time()
        for _ in range(n):
            await app(dict(scope), recv, send)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    stop.set()
    await life
    assert set(statuses) == {200}, set(statuses)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--one", help=argparse.SUPPRESS)  # a child: run one variant
    a = ap.parse_args()
    if a.one:
        app = make_app(a.one)
        print("RESULT", asyncio.run(drive(app, a.requests, a.batches)))
        return 0
    variants = a.variants.split(",")
    got: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(a.rounds):
        for v in variants:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--one", v, "--requests",
                 str(a.requests), "--batches", str(a.batches)],
                capture_output=True, text=True, check=True).stdout
            got[v].append(float(out.rsplit("RESULT", 1)[1]))
    for v in variants:
        print(f"BENCH sanic_hook_{v}_us {statistics.median(got[v]):.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
