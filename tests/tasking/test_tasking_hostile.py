"""No input crashes a tasking route: every hostile request gets a clean 4xx."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.support.fake_tasking import FakeTasking
from tests.tasking.conftest import SPOT, client_for, order_body

FILTERS = [
    {"op": "<=", "args": [{"property": "view:off_nadir"}]},
    {"op": "and", "args": []},
    {"op": "s_intersects", "args": [{"property": "view:off_nadir"}, {"type": "Nope"}]},
    {"op": "<=", "args": [{"property": 5}, 5]},
    {"args": [{"property": "view:off_nadir"}, 5]},
    {"op": "like", "args": [{"property": "sat:orbit_state"}, {"op": "casei", "args": []}]},
    {"op": "<=", "args": [{"property": "view:off_nadir"}, {"timestamp": "yesterday"}]},
]
BODIES = [
    order_body(datetime=[None, None]),
    order_body(datetime=[1, 2]),
    order_body(datetime=["9999-99-99T00:00:00Z", "2030-01-01T00:00:00Z"]),
    order_body(datetime=["2030-01-01T00:00:00+99:00", "2030-01-02T00:00:00Z"]),
    order_body(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
    order_body(geometry=None),
    {"datetime": {"a": 1}},
]
# Opportunity searches ignore these fields (extra fields are allowed by the spec).
ORDER_ONLY = [
    order_body(order_parameters={"priority": {"$ref": "#"}}),
    order_body(opportunity_id="x" * 1000),
]


@pytest.mark.parametrize("expr", FILTERS)
async def test_hostile_filters_are_400(app: FastAPI, expr: dict[str, object]) -> None:
    async with await client_for(app, "acme") as c:
        resp = await c.post(f"{SPOT}/orders", json=order_body(filter=expr))
        assert resp.status_code == 400, resp.text
        assert resp.json()["description"].startswith("filter")


async def test_hostile_bodies_and_parameters_are_4xx(app: FastAPI, tasking: FakeTasking) -> None:
    async with await client_for(app, "acme") as c:
        for body in BODIES:
            for path in (f"{SPOT}/orders", f"{SPOT}/opportunities"):
                resp = await c.post(path, json=body)
                assert 400 <= resp.status_code < 500, (path, body, resp.text)
        for body in ORDER_ONLY:
            resp = await c.post(f"{SPOT}/orders", json=body)
            assert 400 <= resp.status_code < 500, (body, resp.text)
        for path in (
            "/tasking/products?limit=100000",
            "/tasking/products?next=-1",
            "/tasking/products?next=abc",
            "/tasking/orders?limit=-5",
            "/tasking/orders/%00/statuses",
            "/tasking/orders/x/statuses?next=99999999999999999999999",
            f"{SPOT}/orders?next=1e9",
        ):
            resp = await c.get(path)
            assert 400 <= resp.status_code < 500, (path, resp.text)
        raw = b'{"datetime": ["2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"], '
        raw += b'"geometry": {"type": "Point", "coordinates": [1e400, 0]}}'
        assert (await c.post(f"{SPOT}/orders", content=raw)).status_code == 400
        resp = await c.post(f"{SPOT}/opportunities", json={**order_body(), "limit": 10_000})
        assert resp.status_code == 400 and "limit" in resp.json()["description"]
    assert tasking.calls["create_task"] == 0
