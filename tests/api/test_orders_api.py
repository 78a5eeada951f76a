"""Quotes, orders, assets and webhooks through the real app factory, over fake providers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bridge.app import create_app
from bridge.auth.keys import KeyStore
from bridge.settings import ProviderSettings, Settings, TenantSettings
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import OrderingFakeProvider, make_items
from tests.support.wiring import fixed_wiring

ITEM = "/collections/alpha-a/items/alpha-00000"


@pytest.fixture
def fakes() -> dict[str, OrderingFakeProvider]:
    return {
        "alpha": OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 30, seed=1)),
        "beta": OrderingFakeProvider("beta", make_items("beta", ["beta-a"], 30, seed=2)),
    }


def build(
    tmp_path: Path,
    fakes: dict[str, OrderingFakeProvider],
    search_requires_key: bool = False,
    **tenants: TenantSettings,
) -> FastAPI:
    settings = Settings(
        data_dir=tmp_path,
        tenants=tenants,
        order_check_min_s=0.001,
        search_requires_key=search_requires_key,
    )
    wiring = fixed_wiring(
        fakes,  # type: ignore[arg-type]
        fake_catalog(fakes),  # type: ignore[arg-type]
        tenant_defaults={name: ProviderSettings() for name in fakes},
    )
    return create_app(settings, wiring=wiring)


@pytest.fixture
async def app(tmp_path: Path, fakes: dict[str, OrderingFakeProvider]) -> AsyncIterator[FastAPI]:
    application = build(
        tmp_path,
        fakes,
        nobeta=TenantSettings(providers={"beta": ProviderSettings(enabled=False)}),
    )
    yield application
    await application.state.db.close()


async def client_for(app: FastAPI, tenant: str | None) -> httpx.AsyncClient:
    headers = {}
    if tenant is not None:
        key = await KeyStore(app.state.db).add_key(tenant)
        headers["Authorization"] = f"Bearer {key}"
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b.test", headers=headers
    )


async def test_everything_but_search_needs_a_key(app: FastAPI) -> None:
    async with await client_for(app, None) as anon:
        for method, path in [
            ("GET", f"{ITEM}/quote"),
            ("POST", f"{ITEM}/order"),
            ("GET", "/orders"),
            ("GET", f"{ITEM}/assets/data"),
        ]:
            resp = await anon.request(method, path)
            assert resp.status_code == 401, (method, path, resp.text)
        item = (await anon.get(ITEM)).json()
        assert item["properties"]["order:status"] == "orderable"
        assert item["assets"]["data"]["href"] == f"http://b.test{ITEM}/assets/data"


async def test_quote_order_poll_and_download(app: FastAPI, fakes: dict[str, Any]) -> None:
    async with await client_for(app, "acme") as c:
        quote = (await c.get(f"{ITEM}/quote", params={"license": "standard"})).json()
        assert quote["price"] == {"amount": 125.0, "currency": "USD", "minor_units": 12500}
        fakes["alpha"].ordering.next_state = "shipping"
        first = await c.post(f"{ITEM}/order", headers={"Idempotency-Key": "k1"})
        assert first.status_code == 201, first.text
        order = first.json()
        assert order["status"] == "ordered" and order["price"]["amount"] == 125.0
        assert first.headers["Location"].endswith(f"/orders/{order['id']}")
        again = await c.post(f"{ITEM}/order", headers={"Idempotency-Key": "k1"})
        assert again.json()["id"] == order["id"]
        pending = await c.get(f"{ITEM}/assets/data")
        assert pending.status_code == 202 and pending.headers["Retry-After"]
        fakes["alpha"].ordering.next_state = "succeeded"
        done = await c.get(f"/orders/{order['id']}")
        assert done.json()["status"] == "succeeded"
        redirect = await c.get(f"{ITEM}/assets/data")
        assert redirect.status_code == 307
        assert redirect.headers["location"].startswith("http://storage.test/alpha-00000/data")
        head = await c.head(f"{ITEM}/assets/data")
        assert head.status_code == 307
        item = (await c.get(ITEM)).json()
        assert item["properties"]["order:status"] == "succeeded"
        assert item["properties"]["order:id"] == order["id"]
        assert any(link["rel"] == "order" and order["id"] in link["href"] for link in item["links"])
        listed = (await c.get("/orders")).json()
        assert [o["id"] for o in listed["orders"]] == [order["id"]]
    assert fakes["alpha"].ordering.placed == [("alpha-a", "alpha-00000")]


async def test_data_needs_an_order_thumbnails_do_not(app: FastAPI, fakes: dict[str, Any]) -> None:
    async with await client_for(app, "acme") as c:
        thumb = await c.get(f"{ITEM}/assets/thumbnail")
        assert thumb.status_code == 307
        denied = await c.get(f"{ITEM}/assets/data")
        assert denied.status_code == 403
        body = denied.json()
        assert body["code"] == "NotOrdered"
        assert any(link["rel"] == "order" for link in body["links"])
        assert (await c.get(f"{ITEM}/assets/nope")).status_code == 404
    assert fakes["alpha"].ordering.placed == []


async def test_thumbnails_are_open_to_whoever_may_search(
    tmp_path: Path, app: FastAPI, fakes: dict[str, OrderingFakeProvider]
) -> None:
    """A browser's <img> sends no key: with search open, previews come with the operator's
    credentials; with search closed they need a key like everything else."""
    async with await client_for(app, None) as anon, await client_for(app, "a") as a:
        thumb = await anon.get(f"{ITEM}/assets/thumbnail")
        assert thumb.status_code == 307
        assert thumb.headers["location"].startswith("http://storage.test/alpha-00000/thumbnail")
        assert (
            thumb.headers["location"]
            != (await a.get(f"{ITEM}/assets/thumbnail")).headers["location"]
        ), "the operator's signed URL is not shared with a tenant"
        bad_key = await anon.get(f"{ITEM}/assets/thumbnail", headers={"X-API-Key": "nope"})
        assert bad_key.status_code == 401
        assert (await anon.get(f"{ITEM}/assets/nope")).status_code == 404
    closed = build(tmp_path / "closed", fakes, search_requires_key=True)
    try:
        async with await client_for(closed, None) as anon:
            assert (await anon.get(f"{ITEM}/assets/thumbnail")).status_code == 401
    finally:
        await closed.state.db.close()
    assert fakes["alpha"].ordering.placed == []


async def test_signed_urls_are_reused_early_and_never_across_tenants(app: FastAPI) -> None:
    async with await client_for(app, "a") as a, await client_for(app, "b") as b:
        first = (await a.get(f"{ITEM}/assets/thumbnail")).headers["location"]
        second = (await a.get(f"{ITEM}/assets/thumbnail")).headers["location"]
        other = (await b.get(f"{ITEM}/assets/thumbnail")).headers["location"]
    assert first == second
    assert other != first


async def test_tenants_are_isolated(app: FastAPI) -> None:
    async with await client_for(app, "a") as a, await client_for(app, "b") as b:
        order = (await a.post(f"{ITEM}/order")).json()
        assert (await b.get(f"/orders/{order['id']}")).status_code == 404
        assert (await b.post(f"/orders/{order['id']}/cancel")).status_code == 404
        assert (await b.get("/orders")).json()["orders"] == []
        b_item = (await b.get(ITEM)).json()
        assert b_item["properties"]["order:status"] == "orderable"
        assert (await b.get(f"{ITEM}/assets/data")).status_code == 403


async def test_no_contract_is_403(app: FastAPI) -> None:
    async with await client_for(app, "nobeta") as c:
        resp = await c.get("/collections/beta-a/items/beta-00000/quote")
        assert resp.status_code == 403
        assert (await c.get(f"{ITEM}/quote")).status_code == 200


async def test_cancel_and_bad_input(app: FastAPI) -> None:
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{ITEM}/order")).json()
        canceled = await c.post(f"/orders/{order['id']}/cancel")
        assert canceled.json()["status"] == "canceled"
        assert (await c.post(f"/orders/{order['id']}/cancel")).status_code == 409
        bad = await c.post(f"{ITEM}/order", json={"seats": 0})
        assert bad.status_code == 400
        unknown = await c.post(f"{ITEM}/order", json={"colour": "red"})
        assert unknown.status_code == 400
        missing = await c.post("/collections/alpha-a/items/nope/order")
        assert missing.status_code == 404
        reused = await c.post(
            "/collections/alpha-a/items/alpha-00001/order", headers={"Idempotency-Key": "x"}
        )
        assert reused.status_code == 201
        conflict = await c.post(
            "/collections/alpha-a/items/alpha-00002/order", headers={"Idempotency-Key": "x"}
        )
        assert conflict.status_code == 409


async def test_webhooks_refresh_known_orders_and_ignore_forgeries(
    app: FastAPI, fakes: dict[str, Any]
) -> None:
    async with await client_for(app, "acme") as c:
        order = (await c.post(f"{ITEM}/order")).json()
        hook = await c.post("/webhooks/alpha", json={"order": order["provider_order_id"]})
        assert hook.status_code == 202 and hook.json()["refreshed"] == 1
        forged = await c.post("/webhooks/alpha", json={"order": "native-999", "status": "complete"})
        assert forged.json()["refreshed"] == 0
        assert (await c.post("/webhooks/nope", json={})).status_code == 404
        assert (await c.post("/webhooks/alpha", content=b"{no")).status_code == 400


async def test_auto_order_respects_the_spending_cap(
    tmp_path: Path, fakes: dict[str, OrderingFakeProvider]
) -> None:
    app = build(tmp_path, fakes, gdal=TenantSettings(auto_order=True, spending_cap=30000))
    try:
        async with await client_for(app, "gdal") as c:
            for n in range(2):  # 2 x 125.00 USD fits in 300.00
                resp = await c.get(f"/collections/alpha-a/items/alpha-0000{n}/assets/data")
                assert resp.status_code in (202, 307), resp.text
            third = await c.get("/collections/alpha-a/items/alpha-00002/assets/data")
            assert third.status_code == 403 and "cap" in third.json()["description"]
        assert len(fakes["alpha"].ordering.placed) == 2
    finally:
        await app.state.db.close()


async def test_price_extension_schema_is_served(app: FastAPI) -> None:
    async with await client_for(app, None) as c:
        schema = (await c.get("/extensions/price/v1.0.0/schema.json")).json()
    assert schema["$id"] == "http://b.test/extensions/price/v1.0.0/schema.json"
    assert "price:amount" in schema["definitions"]["fields"]["properties"]
