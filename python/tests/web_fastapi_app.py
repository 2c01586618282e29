"""A FastAPI app with ``MetricsMiddleware`` added through
``add_middleware`` and a prefixed router, served by uvicorn."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, HTTPException

from shmetrics.asgi import MetricsMiddleware

app = FastAPI()
inner = APIRouter(prefix="/v1")
outer = APIRouter(prefix="/api")


@inner.get("/things/{tid}")
def thing(tid: int) -> dict:
    if tid == 0:
        raise HTTPException(404, "no thing 0")
    return {"tid": tid}


outer.include_router(inner)
app.include_router(outer)


@app.get("/users/{uid}")
def user(uid: int) -> dict:
    return {"uid": uid}


@app.get("/health/ready")
def ready() -> dict:
    return {"ready": True}


app.add_middleware(MetricsMiddleware)
