"""A FastAPI app whose request metrics are merged across uvicorn workers.

With a shmetricsd running on the host (``shmetricsd &``, or one under
systemd), from the repository root::

    uvicorn --app-dir examples fastapi_app:app --workers 4 --port 8000

then ``curl localhost:8000/users/7``, ``curl localhost:8000/api/v1/orders/3``
and ``curl localhost:8000/metrics``: the app's own ``/metrics`` answers with
every worker's requests, merged by shmetricsd, labelled by route template
(``endpoint="/users/{uid}"``). Without a shmetricsd, ``SHMETRICS_AUTOSTART=1``
in the environment starts one for you.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, HTTPException

import shmetrics
from shmetrics.asgi import MetricsMiddleware

ORDERS = shmetrics.Counter("shop_orders", "Orders looked up, by outcome.", ["outcome"])

app = FastAPI(title="shmetrics example")
orders = APIRouter(prefix="/api/v1")


@app.get("/")
def index() -> dict:
    return {"try": ["/users/7", "/api/v1/orders/3", "/metrics"]}


@app.get("/users/{uid}")
def user(uid: int) -> dict:
    return {"uid": uid}


@orders.get("/orders/{oid}")
def order(oid: int) -> dict:
    if oid > 100:
        ORDERS.labels("missing").inc()
        raise HTTPException(404, f"no order {oid}")
    ORDERS.labels("found").inc()
    return {"oid": oid, "items": oid % 5}


app.include_router(orders)
app.add_middleware(MetricsMiddleware)  # /metrics: the merged exposition of all workers
