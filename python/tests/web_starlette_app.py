"""A Starlette app under ``shmetrics.asgi.MetricsMiddleware`` (outermost),
served by uvicorn in the ASGI suite."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from shmetrics.asgi import MetricsMiddleware


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.started = "lifespan ran"  # the lifespan scope went through the middleware
    yield


def text(body: str, status: int = 200) -> Response:
    return PlainTextResponse(body, status, headers={"x-worker": str(os.getpid())})


async def root(request: Request) -> Response:
    return text("ok")


async def user(request: Request) -> Response:
    return text(f"user {request.path_params['uid']}")


async def item(request: Request) -> Response:
    body = await request.body()
    return text(f"{request.path_params['name']} got {len(body)}", 201)


async def order(request: Request) -> Response:
    return text("order " + request.path_params["oid"])


async def teapot(request: Request) -> Response:
    return text("short and stout", 418)


async def boom(request: Request) -> Response:
    await asyncio.sleep(0.06)
    raise RuntimeError("boom")


async def ready(request: Request) -> Response:
    return text("ready")


async def state(request: Request) -> Response:
    return text(request.app.state.started)


app = MetricsMiddleware(Starlette(
    routes=[
        Route("/", root),
        Route("/users/{uid:int}", user, methods=["GET"]),
        Route("/items/{name}", item, methods=["POST"]),
        Route("/teapot", teapot),
        Route("/boom", boom),
        Route("/health/ready", ready),
        Route("/lifespan", state),
        Mount("/api", routes=[Route("/orders/{oid}", order)]),
    ],
    lifespan=lifespan,
))
