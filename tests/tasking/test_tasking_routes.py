"""The STAPI endpoints: discovery, validation naming the field, keys, 404/409 answers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.fake_tasking import FakeTasking
from tests.tasking.conftest import SPOT, STRIP, client_for, order_body


async def test_landing_pages_link_tasking(app: FastAPI) -> None:
    async with await client_for(app, None) as c:
        stac = (await c.get("/")).json()
        service = [x for x in stac["links"] if x["rel"] == "service"]
        assert service and service[0]["href"] == "http://b.test/tasking/"
        root = (await c.get("/tasking/")).json()
        rels = {x["rel"]: x["href"] for x in root["links"]}
        for rel in ("conformance", "products", "orders", "service-desc"):
            assert rel in rels
        assert rels["products"] == "http://b.test/tasking/products"
        conf = (await c.get("/tasking/conformance")).json()["conformsTo"]
        assert "https://stapi.example.com/v0.1.0/core" in conf
        assert "https://stapi.example.com/v0.1.0/opportunities" in conf


async def test_products_page_and_declare_only_their_classes(app: FastAPI) -> None:
    async with await client_for(app, None) as c:
        first = (await c.get("/tasking/products", params={"limit": 1})).json()
        assert [p["id"] for p in first["products"]] == ["alpha-spot"]
        nxt = [x["href"] for x in first["links"] if x["rel"] == "next"]
        second = (await c.get(nxt[0])).json()
        assert [p["id"] for p in second["products"]] == ["alpha-strip"]
        assert not [x for x in second["links"] if x["rel"] == "next"]
        strip = (await c.get(STRIP)).json()
        assert "https://stapi.example.com/v0.1.0/opportunities" not in strip["conformsTo"]
        spot = (await c.get(SPOT)).json()
        assert "https://stapi.example.com/v0.1.0/opportunities" in spot["conformsTo"]
        queryables = (await c.get(f"{SPOT}/queryables")).json()
        assert "view:off_nadir" in queryables["properties"]
        params = (await c.get(f"{SPOT}/order-parameters")).json()
        assert params["properties"]["priority"]["default"] == "standard"
        missing = await c.get("/tasking/products/nope")
        assert missing.status_code == 404 and "nope" in missing.json()["description"]
        bad = await c.get("/tasking/products", params={"limit": 0})
        assert bad.status_code == 400 and "limit" in bad.json()["description"]


async def test_tenant_routes_need_a_key(app: FastAPI) -> None:
    async with await client_for(app, None) as anon:
        for method, path in [
            ("POST", f"{SPOT}/orders"),
            ("POST", f"{SPOT}/opportunities"),
            ("GET", "/tasking/orders"),
            ("GET", f"{SPOT}/orders"),
        ]:
            resp = await anon.request(method, path, json=order_body())
            assert resp.status_code == 401, (method, path)


async def test_opportunities_only_where_advertised(app: FastAPI, tasking: FakeTasking) -> None:
    async with await client_for(app, "acme") as c:
        resp = await c.post(f"{SPOT}/opportunities", json={**order_body(), "limit": 2})
        assert resp.status_code == 200
        body = resp.json()
        assert len(body["features"]) == 2
        first = body["features"][0]
        assert first["properties"]["product_id"] == "alpha-spot"
        order_link = next(x for x in first["links"] if x["rel"] == "create-order")
        assert order_link["body"]["opportunity_id"] == "opp-0"
        assert body["bridge:errors"] == ["supplier-x: no answer"]
        none = await c.post(f"{STRIP}/opportunities", json=order_body())
        assert none.status_code == 404
        assert "no opportunity search" in none.json()["description"]
        assert tasking.calls["opportunities"] == 1


async def test_bad_requests_name_the_field(app: FastAPI, tasking: FakeTasking) -> None:
    cases = [
        ({"datetime": ["2030-01-01T00:00:00Z"]}, "datetime"),
        ({"datetime": "2030-01-01T00:00:00Z/2030-01-02T00:00:00Z"}, "datetime"),
        ({"datetime": ["2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z"]}, "datetime"),
        ({"datetime": ["2030-01-01T00:00:00", "2030-01-02T00:00:00"]}, "datetime"),
        ({"geometry": {"type": "Point", "coordinates": "x"}}, "geometry"),
        ({"filter": {"op": "<=", "args": [{"property": "cloud"}, 5]}}, "filter"),
        ({"filter": {"op": "nonsense"}}, "filter"),
        ({"order_parameters": {"priority": "urgent"}}, "order_parameters.priority"),
        ({"order_parameters": {"colour": "blue"}}, "order_parameters"),
        ({"order_parameters": []}, "order_parameters"),
    ]
    async with await client_for(app, "acme") as c:
        for change, field in cases:
            resp = await c.post(f"{SPOT}/orders", json=order_body(**change))
            assert resp.status_code == 400, (change, resp.text)
            assert resp.json()["description"].startswith(field), (change, resp.json())
        for raw in (b"", b"[]", b"{not json"):
            resp = await c.post(f"{SPOT}/orders", content=raw)
            assert resp.status_code == 400
    assert tasking.calls["create_task"] == 0


async def test_order_fills_defaults_and_is_found(app: FastAPI) -> None:
    async with await client_for(app, "acme") as c:
        body = order_body(filter={"op": "<=", "args": [{"property": "view:off_nadir"}, 20]})
        resp = await c.post(f"{SPOT}/orders", json=body)
        assert resp.status_code == 201, resp.text
        order = resp.json()
        assert resp.headers["location"] == f"http://b.test/tasking/orders/{order['id']}"
        assert order["properties"]["order_parameters"] == {
            "priority": "standard",
            "sla": "standard",
        }
        assert order["properties"]["status"]["status_code"] == "received"
        assert order["properties"]["price"] == {"amount": 50000, "currency": "USD"}
        again = (await c.get(f"/tasking/orders/{order['id']}")).json()
        assert again["id"] == order["id"]
        listed = (await c.get("/tasking/orders")).json()
        assert [f["id"] for f in listed["features"]] == [order["id"]]
        per_product = (await c.get(f"{STRIP}/orders")).json()
        assert per_product["features"] == []
    async with await client_for(app, "other") as c:
        assert (await c.get(f"/tasking/orders/{order['id']}")).status_code == 404
        assert (await c.get("/tasking/orders")).json()["features"] == []


async def test_cancel_and_approve_only_where_the_provider_allows(
    app: FastAPI, tasking: FakeTasking
) -> None:
    async with await client_for(app, "acme") as c:
        spot = (await c.post(f"{SPOT}/orders", json=order_body())).json()
        strip = (await c.post(f"{STRIP}/orders", json=order_body())).json()
        assert strip["properties"]["bridge:awaiting_approval"] is True
        assert (await c.post(f"/tasking/orders/{spot['id']}/approve")).status_code == 409
        no_cancel = await c.post(f"/tasking/orders/{strip['id']}/cancel")
        assert no_cancel.status_code == 409 and "canceled" in no_cancel.json()["description"]
        approved = await c.post(f"/tasking/orders/{strip['id']}/approve")
        assert approved.status_code == 200
        assert approved.json()["properties"]["bridge:awaiting_approval"] is False
        assert (await c.post(f"/tasking/orders/{strip['id']}/approve")).status_code == 409
        canceled = await c.post(f"/tasking/orders/{spot['id']}/cancel")
        assert canceled.status_code == 200
        assert canceled.json()["properties"]["status"]["status_code"] == "user_cancelled"
        again = await c.post(f"/tasking/orders/{spot['id']}/cancel")
        assert again.status_code == 409
    assert tasking.calls["cancel_task"] == 1
    assert tasking.calls["approve_task"] == 1


async def test_webhook_rereads_the_task(app: FastAPI, tasking: FakeTasking) -> None:
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{SPOT}/orders", json=order_body())).json()
        native = order["properties"]["bridge:native_id"]
        before = tasking.calls["get_task"]
        anon = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b.test")
        async with anon:
            resp = await anon.post("/tasking/webhooks/alpha", json={"task": native})
            assert resp.status_code == 202 and resp.json() == {"refreshed": 1}
            assert (await anon.post("/tasking/webhooks/nope", json={})).status_code == 404
            assert (await anon.post("/tasking/webhooks/alpha", content=b"{")).status_code == 400
        assert tasking.calls["get_task"] == before + 1
