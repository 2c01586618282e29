"""The Sanic app the Sanic tests serve (``sanic sanic_app:app --workers 4``).

``$SANIC_TEST_AGGREGATOR`` picks ``instrument``'s ``aggregator`` option.
"""

from __future__ import annotations

import os
from typing import Any

from sanic import Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, empty, text

from shmetrics.sanic import instrument

app = Sanic("shmetrics_test")
app.config.ACCESS_LOG = False
instrument(app, aggregator=os.environ.get("SANIC_TEST_AGGREGATOR", "auto"))

PAYLOAD = b"x" * 1234


@app.get("/")
async def index(request: Any) -> HTTPResponse:
    return text("ok")


@app.get("/users/<uid:int>")
async def user(request: Any, uid: int) -> HTTPResponse:
    return text(f"user {uid}")


@app.post("/items")
async def create(request: Any) -> HTTPResponse:
    return HTTPResponse(PAYLOAD, status=201)


@app.get("/missing/<name>")
async def missing(request: Any, name: str) -> HTTPResponse:
    raise NotFound(f"no {name}")


@app.get("/boom")
async def boom(request: Any) -> HTTPResponse:
    raise RuntimeError("boom")


@app.get("/nothing")
async def nothing(request: Any) -> HTTPResponse:
    return empty()


@app.get("/ready")
async def ready(request: Any) -> HTTPResponse:
    return text("ready")


@app.get("/static/app.js")
async def static_js(request: Any) -> HTTPResponse:
    return text("js")


@app.get("/stream")
async def stream(request: Any) -> None:
    resp = await request.respond(content_type="text/plain")
    await resp.send(b"a" * 100)
    await resp.send(b"b" * 50)
    await resp.eof()
