"""The Capella adapter's order side: quote, order, reconcile, deliver, against the simulator.

``UPDATE_GOLDEN=1`` rewrites ``tests/golden/capella/orders.json`` from the current code.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from starlette.applications import Starlette

from bridge.core.contract import OrderOptions, Provider
from bridge.errors import BadRequest, Conflict, NotFound, PaymentRequired
from bridge.providers.capella.order_mapping import (
    error_from_native,
    order_from_native,
    quote_from_review,
    usd_to_cents,
)
from bridge.simulators.capella import DEMO_API_KEY
from bridge.simulators.capella.archive import build_archive
from tests.support.clock import ManualClock
from tests.support.wiring import REPO, TEST_SCENES, TEST_SEED, provider_for, simulator_config

GOLDEN = REPO / "tests" / "golden" / "capella" / "orders.json"
STEP = 5.0
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Wired:
    provider: Provider
    sim: Starlette
    clock: ManualClock

    async def fetch(self, href: str) -> httpx.Response:
        """GET a provider URL in-process, with no credentials (as a browser would)."""
        transport = httpx.ASGITransport(app=self.sim)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(href)

    def native_orders(self) -> int:
        return sum(self.sim.state.stats.orders.values())


async def wire(**extra: Any) -> Wired:
    clock = ManualClock(1_800_000_000.0)
    config = simulator_config(extra={"capella_order_step_s": STEP, **extra}, clock=clock)
    provider, sim = provider_for("capella", config=config)
    return Wired(provider, sim, clock)


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    w = await wire()
    yield w
    await w.provider.aclose()


def first(product: str) -> dict[str, Any]:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    return next(i for i in archive.items if i["properties"]["sar:product_type"] == product)


# --- quote ------------------------------------------------------------------------------


async def test_quote_in_cents_with_defaults(wired: Wired) -> None:
    geo = first("GEO")
    quote = await wired.provider.quote("capella-geo", geo["id"], OrderOptions())
    dollars = {"spotlight": 1500, "spotlight_ultra": 2500, "sliding_spotlight": 1250}.get(
        geo["properties"]["capella:collection_type"], 1000
    )
    assert (quote.amount, quote.currency) == (dollars * 100, "USD")
    assert quote.options == OrderOptions(license="standard", seats=1)
    assert quote.valid_options["license"] == ["standard"]
    assert quote.details == {"authorized": True, "previously_ordered": False}
    assert "GEO" in quote.covers
    assert wired.native_orders() == 0, "a quote orders nothing"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (OrderOptions(license="enterprise"), "valid: standard"),
        (OrderOptions(bundle="full"), "no bundles"),
        (OrderOptions(seats=5), "valid seats: 1"),
    ],
)
async def test_invalid_options(wired: Wired, options: OrderOptions, words: str) -> None:
    geo = first("GEO")
    with pytest.raises(BadRequest, match=words):
        await wired.provider.quote("capella-geo", geo["id"], options)
    with pytest.raises(BadRequest, match=words):
        await wired.provider.place_order("capella-geo", geo["id"], options, "ref-1")


async def test_unknown_items(wired: Wired) -> None:
    with pytest.raises(NotFound):
        await wired.provider.quote("capella-geo", "CAPELLA_C01_SP_GEO_HH_0_0", OrderOptions())
    with pytest.raises(NotFound):
        await wired.provider.quote("capella-nope", first("GEO")["id"], OrderOptions())
    with pytest.raises(NotFound):
        await wired.provider.place_order("capella-slc", first("GEO")["id"], OrderOptions(), "r")


# --- the whole path ---------------------------------------------------------------------


async def test_quote_order_deliver_and_read_the_cog(wired: Wired) -> None:
    geo = first("GEO")
    provider = wired.provider
    quote = await provider.quote("capella-geo", geo["id"], OrderOptions())
    order = await provider.place_order("capella-geo", geo["id"], OrderOptions(), "bridge-ord-1")
    assert (order.state, order.native_status) == ("ordered", "submitted")
    assert (order.amount, order.currency) == (quote.amount, "USD")
    assert order.reference is None and order.expires_at is not None
    assert wired.native_orders() == 1
    with pytest.raises(Conflict):
        await provider.asset_location("capella-geo", geo["id"], "HH", order.native_id)
    states = []
    for _ in range(3):
        states.append((await provider.get_order(order.native_id)).state)
        wired.clock.now += STEP
    assert states == ["ordered", "shipping", "succeeded"]

    item = await provider.get_item("capella-geo", geo["id"])
    assert item is not None
    key = geo["properties"]["sar:polarizations"][0]
    asset = item["assets"][key]
    assert asset["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert asset["roles"] == ["data"]
    location = await provider.asset_location("capella-geo", geo["id"], key, order.native_id)
    assert location.expires_at is not None
    assert location.expires_at.timestamp() == pytest.approx(wired.clock.now + 3600, abs=1)
    response = await wired.fetch(location.href)
    assert response.status_code == 200
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert f"EPSG:{dataset.crs.to_epsg()}" == asset["proj:code"]
        assert dataset.crs.to_epsg() == asset["proj:epsg"] == item["properties"]["proj:epsg"]
        assert list(dataset.shape) == asset["proj:shape"]
        assert list(dataset.transform)[:6] == pytest.approx(asset["proj:transform"])
        west, south, east, north = transform_bounds("EPSG:4326", dataset.crs, *geo["bbox"])
        left, bottom, right, top = dataset.bounds
        pixel = dataset.transform.a
        assert left <= west + pixel and right >= east - pixel
        assert bottom <= south + pixel and top >= north - pixel
    # Every call signs afresh: a URL is never reused past its life.
    wired.clock.now += 1
    again = await provider.asset_location("capella-geo", geo["id"], key, order.native_id)
    assert again.href != location.href


async def test_find_orders_reconciles_by_item(wired: Wired) -> None:
    geo, slc = first("GEO"), first("SLC")
    provider = wired.provider
    assert await provider.find_orders("capella-geo", geo["id"], "bridge-ord-7") == []
    placed = await provider.place_order("capella-geo", geo["id"], OrderOptions(), "bridge-ord-7")
    await provider.place_order("capella-slc", slc["id"], OrderOptions(), "bridge-ord-8")
    found = await provider.find_orders("capella-geo", geo["id"], "bridge-ord-7")
    assert [o.native_id for o in found] == [placed.native_id]
    assert found[0].details["items"][0]["granuleId"] == geo["id"]


async def test_reorder_is_previously_ordered_and_free(wired: Wired) -> None:
    geo = first("GEO")
    provider = wired.provider
    await provider.place_order("capella-geo", geo["id"], OrderOptions(), "a")
    quote = await provider.quote("capella-geo", geo["id"], OrderOptions())
    assert quote.amount == 0 and quote.details["previously_ordered"] is True
    again = await provider.place_order("capella-geo", geo["id"], OrderOptions(), "b")
    assert again.state == "succeeded" and again.amount == 0


async def test_cancel_is_refused(wired: Wired) -> None:
    geo = first("GEO")
    order = await wired.provider.place_order("capella-geo", geo["id"], OrderOptions(), "c")
    with pytest.raises(Conflict, match="cannot be canceled"):
        await wired.provider.cancel_order(order.native_id)
    with pytest.raises(NotFound):
        await wired.provider.cancel_order("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFound):
        await wired.provider.get_order("00000000-0000-4000-8000-000000000000")


async def test_thumbnails_and_previews_need_no_order(wired: Wired) -> None:
    sidd = first("SIDD")
    for key in ("thumbnail", "preview"):
        location = await wired.provider.asset_location("capella-sidd", sidd["id"], key, None)
        assert location.media_type == "image/png" and location.expires_at is not None
        response = await wired.fetch(location.href)
        assert response.status_code == 200 and response.content.startswith(PNG)
    with pytest.raises(NotFound):
        await wired.provider.asset_location("capella-sidd", sidd["id"], "nothing", None)
    slc = first("SLC")
    with pytest.raises(NotFound):  # slant-range products have no preview
        await wired.provider.asset_location("capella-slc", slc["id"], "preview", None)
    with pytest.raises(Conflict):
        await wired.provider.asset_location("capella-slc", slc["id"], "HH", None)


async def test_expired_delivery_is_renewed_free_never_gone(wired: Wired) -> None:
    # Capella deliveries last an hour (seed 003 expirationDate); the SDK then looks for an
    # active order and otherwise submits again, free for products already bought
    # (capella SDK order.py get_order / client.py submit_order(check_active_orders=True)).
    geo = first("GEO")
    provider, book = wired.provider, wired.sim.state.orders
    order = await provider.place_order("capella-geo", geo["id"], OrderOptions(), "g")
    spent = dict(book.spent)
    wired.clock.now += 3601
    key = geo["properties"]["sar:polarizations"][0]
    location = await provider.asset_location("capella-geo", geo["id"], key, order.native_id)
    response = await wired.fetch(location.href)
    assert response.status_code == 200 and response.content[:2] in (b"II", b"MM")
    assert wired.native_orders() == 2 and book.spent == spent, "resubmitted, free"
    renewed = [o for o in book.orders.values() if o.order_id != order.native_id]
    assert renewed[0].items[0]["previouslyOrdered"] is True
    # Within the renewed order's hour, its delivery is reused: no third order.
    wired.clock.now += 600
    await provider.asset_location("capella-geo", geo["id"], key, order.native_id)
    assert wired.native_orders() == 2
    wired.clock.now += 3601
    await provider.asset_location("capella-geo", geo["id"], key, order.native_id)
    assert wired.native_orders() == 3 and book.spent == spent
    assert (await provider.get_order(order.native_id)).state == "succeeded"


async def test_insufficient_funds_is_payment_required() -> None:
    w = await wire(capella_budget_usd=100)
    try:
        geo = first("GEO")
        quote = await w.provider.quote("capella-geo", geo["id"], OrderOptions())
        assert quote.amount > 10_000 and quote.details["authorized"] is False
        assert "Available Commitment: $100.00" in quote.details["denial"]
        with pytest.raises(PaymentRequired, match="Available Commitment"):
            await w.provider.place_order("capella-geo", geo["id"], OrderOptions(), "p")
        assert w.native_orders() == 0
    finally:
        await w.provider.aclose()


async def test_credentials_stay_out_of_errors_and_reprs(wired: Wired) -> None:
    assert DEMO_API_KEY not in repr(wired.provider)
    for call in (
        wired.provider.get_order("missing"),
        wired.provider.quote("capella-geo", "missing", OrderOptions()),
    ):
        with pytest.raises(NotFound) as info:
            await call
        assert DEMO_API_KEY not in str(info.value) and DEMO_API_KEY not in repr(info.value)


def test_order_id_from_webhook(wired: Wired) -> None:
    assert wired.provider.order_id_from_webhook({"orderId": "abc"}) == "abc"
    assert wired.provider.order_id_from_webhook({"orderStatus": "completed"}) is None
    assert wired.provider.order_id_from_webhook(["abc"]) is None


# --- pure mappings (golden) -------------------------------------------------------------

SDK_ORDER = {  # the shape of the SDK's recorded order answer
    "userId": "MOCK_ID",
    "organizationId": "MOCK_ORG_ID",
    "orderDate": "2020-12-21T19:22:23.849Z",
    "expirationDate": "2020-12-21T20:22:23.849Z",
    "orderId": "1",
    "orderStatus": "completed",
    "items": [
        {
            "granuleId": "CAPELLA_C02_SM_SLC_HH_20201126192221_20201126192225",
            "type": "stripmap",
            "size": 100000000,
            "collectionId": "capella-test",
            "previouslyOrdered": False,
            "collectionDate": "2020-11-27T02:06:41.304Z",
        }
    ],
}
REVIEWS = {
    "authorized": {
        "authorized": True,
        "orderDetails": {
            "summary": {"subtotal": 1500.0, "total": 1500.0, "currency": "USD"},
            "lineItems": [{"granuleId": "G", "price": 1500.0, "previouslyOrdered": False}],
        },
    },
    "text_total_only": {"authorized": True, "orderDetails": {"summary": {"total": "$1,234.56"}}},
    "denied": {
        "authorized": False,
        "orderDetails": {"summary": {"total": 3000.0, "currency": "USD"}},
        "authorizationDenialReason": {
            "message": "Order cost: $3,000.00; Available Commitment: $0.00",
            "code": "AUTHORIZATION_INSUFFICIENT_FUNDS",
        },
    },
}
ERRORS = [
    (401, {"error": {"message": "Invalid API key.", "code": "INVALID_API_KEY"}}),
    (403, {"error": {"message": "not permitted", "code": "COLLECTION_ACCESS_DENIED"}}),
    (404, {"error": {"message": "Contract x not found", "code": "CONTRACT_NOT_FOUND"}}),
    (404, {"error": {"message": "Order x not found", "code": "NOT_FOUND"}}),
    (409, {"error": {"message": "Order x is pending", "code": "ORDER_NOT_COMPLETED"}}),
    (400, {"error": {"message": "Order expired", "code": "ORDER_EXPIRED"}}),
    (400, {"error": {"message": "bad", "code": "ORDER_VALIDATION_ERROR"}}),
    (400, {"message": "plain"}),
    (429, {"message": "slow down"}),
    (503, None),
]


def mappings() -> dict[str, Any]:
    item = {"id": "G", "properties": {"product:type": "GEO", "sar:instrument_mode": "spotlight"}}
    orders = {
        status: order_from_native({**SDK_ORDER, "orderStatus": status})
        for status in ("submitted", "pending", "completed", "rejected", "mystery")
    }
    quotes = {}
    for name, review in REVIEWS.items():
        try:
            quotes[name] = quote_from_review(review, item, OrderOptions(license="standard"))
        except PaymentRequired as exc:
            quotes[name] = {"raises": exc.code, "description": exc.description}
    errors = []
    for status, body in ERRORS:
        error = error_from_native(status, body)
        errors.append(
            {"status": status, "body": body, "maps_to": None if error is None else error.code}
        )
    return {"orders": orders, "quotes": quotes, "errors": errors}


def test_mappings_golden() -> None:
    actual = orjson.loads(
        orjson.dumps(mappings(), default=lambda o: o.__dict__, option=orjson.OPT_NON_STR_KEYS)
    )
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    assert actual == orjson.loads(GOLDEN.read_bytes()), "rerun with UPDATE_GOLDEN=1 if intended"


def test_usd_to_cents() -> None:
    assert usd_to_cents(1500) == 150000
    assert usd_to_cents(0.1 + 0.2) == 30
    assert usd_to_cents("$1,234.56") == 123456
    with pytest.raises(ValueError):
        usd_to_cents("free")
    with pytest.raises(ValueError):
        usd_to_cents(True)
