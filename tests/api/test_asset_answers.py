"""The 202 and 403 answers of the asset route, byte for byte: they come from errors the one
status table maps (bridge/api/errors.py), in the exact form clients have always seen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from tests.api.test_orders_api import ITEM, build, client_for
from tests.support.fake_provider import OrderingFakeProvider, make_items

BASE = "http://b.test/"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    fakes = {"alpha": OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 3, seed=1))}
    application = build(tmp_path, fakes)
    application.state.fakes = fakes
    yield application
    await application.state.db.close()


async def test_not_ordered_is_a_403_with_order_and_quote_links(app: FastAPI) -> None:
    async with await client_for(app, "acme") as c:
        denied = await c.get(f"{ITEM}/assets/data")
    item = f"{BASE}{ITEM.lstrip('/')}"
    expected: dict[str, Any] = {
        "code": "NotOrdered",
        "description": "this data asset needs an order: order it first (POST the order link), "
        "then retry",
        "links": [
            {"rel": "order", "method": "POST", "type": "application/json", "href": f"{item}/order"},
            {"rel": "quote", "type": "application/json", "href": f"{item}/quote"},
        ],
    }
    assert denied.status_code == 403
    assert denied.content == orjson.dumps(expected)
    assert "retry-after" not in denied.headers


async def test_a_pending_order_is_a_202_with_the_order_and_retry_after(app: FastAPI) -> None:
    app.state.fakes["alpha"].ordering.next_state = "shipping"
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{ITEM}/order")).json()
        pending = await c.get(f"{ITEM}/assets/data")
        shown = (await c.get(f"/orders/{order['id']}")).json()
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "5"
    body = orjson.loads(pending.content)
    assert list(body) == ["code", "description", "order"]
    assert body["code"] == "OrderPending"
    assert body["description"] == "the order is shipping; retry later"
    # The order as GET /orders/{id} shows it (which checks again: a newer "updated").
    assert {**body["order"], "updated": None} == {**shown, "updated": None}
