"""The STAPI conformance check's walk and validator, against the fake-backed app."""

from __future__ import annotations

import copy

import httpx
from fastapi import FastAPI

from bridge.auth.keys import KeyStore
from conformance.check_stapi import response_errors, walk
from conformance.core import FAIL
from tests.support.fake_tasking import FakeTasking
from tests.tasking.conftest import SPOT, client_for, order_body


async def _client(app: FastAPI) -> httpx.AsyncClient:
    key = await KeyStore(app.state.db).add_key("conformance")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://b.test/",
        headers={"X-API-Key": key},
    )


async def test_every_stapi_answer_validates(app: FastAPI, tasking: FakeTasking) -> None:
    async with await _client(app) as c:
        done = await walk(c)
    failed = [(k.name, k.detail) for k in done.cases if k.status == FAIL]
    assert not failed
    # landing, conformance, products, 2x(product, queryables, order-parameters),
    # opportunities of the spot product, create, repeat, get, list, product list, statuses
    assert done.checked == 16
    assert tasking.calls["create_task"] == 1


async def test_validator_names_path_and_error(app: FastAPI) -> None:
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{SPOT}/orders", json=order_body())).json()
    assert response_errors("/orders/{orderId}", "GET", 200, order) == []
    broken = copy.deepcopy(order)
    del broken["properties"]["status"]
    errors = response_errors("/orders/{orderId}", "GET", 200, broken)
    assert errors and "/properties" in errors[0] and "'status' is a required property" in errors[0]
    bad_status = copy.deepcopy(order)
    bad_status["properties"]["status"]["status_code"] = "pending"
    assert response_errors("/orders/{orderId}", "GET", 200, bad_status)
    assert response_errors("/nope", "GET", 200, {})[0].endswith(
        "no such operation in the STAPI OpenAPI"
    )


async def test_no_product_fails_the_walk(app: FastAPI) -> None:
    app.state.tasking._products = {}  # a sandbox whose providers cannot task
    async with await _client(app) as c:
        done = await walk(c)
    assert any(k.name == "products" and k.status == FAIL for k in done.cases)
