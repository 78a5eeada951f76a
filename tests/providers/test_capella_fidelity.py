"""The Capella adapter against what public sources say Capella answers (issue 10).

Native answers the simulator does not produce (other error shapes, unknown review shapes,
unexpected bodies) are served by an ``httpx.MockTransport`` standing in for Capella.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from bridge.catalog import load_catalog
from bridge.core.contract import OrderOptions, Provider
from bridge.core.query import SortField, build_query
from bridge.errors import (
    BadRequest,
    BridgeError,
    Conflict,
    Forbidden,
    Gone,
    PaymentRequired,
    ProviderAuthError,
    ProviderBadResponse,
)
from bridge.providers import capella as capella_provider
from bridge.providers.base import ProviderContext
from bridge.providers.capella.mapping import item_from_native
from bridge.providers.capella.order_mapping import error_from_native, quote_from_review
from bridge.providers.capella.translate import to_native_query
from bridge.settings import ProviderSettings
from bridge.simulators.capella.archive import build_archive
from bridge.simulators.capella.downloads import file_names, native_feature
from tests.support.wiring import (
    COLLECTIONS,
    TEST_SCENES,
    TEST_SEED,
    provider_for,
    simulator_config,
)

KEY = "capella-secret-key-for-tests"


def mocked(handler: Callable[[httpx.Request], httpx.Response]) -> Provider:
    """The Capella adapter with ``handler`` standing in for api.capellaspace.com."""
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    context = ProviderContext(
        name="capella",
        settings=ProviderSettings(base_url="http://capella.mock", api_key=KEY),
        collections=catalog.by_provider["capella"],
        transport=httpx.MockTransport(handler),
    )
    return capella_provider.create_provider(context)


def answer(status: int, body: Any) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=orjson.dumps(body))

    return handler


# --- error bodies (capella SDK exceptions.py, tests/test_exception_handling.py,
#     tests/test_authenticate.py) -----------------------------------------------------------

DENIED = (
    "Your organization is not permitted to access any of the collections your query is "
    "attempting to filter amongst (capella-mock)"
)


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (403, {"error": DENIED}, Forbidden, "not permitted to access"),
        (400, {"error": "order expired"}, Gone, "order expired"),
        (400, {"error": "You are not authorized to perform this"}, Forbidden, "not authorized"),
        (401, {"message": "Unauthorized"}, ProviderAuthError, "Unauthorized"),
        (401, {"error": {"message": "Invalid API key.", "code": "INVALID_API_KEY"}},
         ProviderAuthError, "Invalid API key."),
        (400, {"error": {"message": "Validation Error", "code": "VALIDATION_ERROR",
                         "detail": [{"message": "Invalid uuid"}]}}, BadRequest, "Validation Error"),
        (500, {"error": {"message": "Unknown error", "data": {"cause": "NONONO"}}},
         None, ""),
    ],
)  # fmt: skip
def test_every_error_shape_maps_with_its_message(
    status: int, body: Any, error: type[BridgeError] | None, words: str
) -> None:
    mapped = error_from_native(status, body)
    if error is None:
        assert mapped is None
        return
    assert type(mapped) is error
    assert mapped is not None and words in mapped.description


async def test_search_keeps_capellas_message() -> None:
    provider = mocked(answer(403, {"error": DENIED}))
    try:
        with pytest.raises(Forbidden, match="not permitted to access any of the collections"):
            await provider.search(build_query(), None, 5)
    finally:
        await provider.aclose()


async def test_gateway_401_is_an_auth_error_with_the_message_and_no_key() -> None:
    provider = mocked(answer(401, {"message": "Unauthorized"}))
    try:
        with pytest.raises(ProviderAuthError, match="Unauthorized") as caught:
            await provider.search(build_query(), None, 5)
        assert KEY not in str(caught.value) and KEY not in repr(caught.value.detail)
    finally:
        await provider.aclose()


async def test_unexpected_search_body_is_a_bad_response() -> None:
    for body in ([], {"features": "nope", "numberMatched": 1}, {"type": "FeatureCollection"}):
        provider = mocked(answer(200, body))
        try:
            with pytest.raises(ProviderBadResponse):
                await provider.search(build_query(), None, 5)
        finally:
            await provider.aclose()


# --- review cost shape (not public: read defensively) ----------------------------------------

ITEM = {"id": "G", "properties": {"product:type": "GEO", "sar:instrument_mode": "spotlight"}}


@pytest.mark.parametrize(
    ("review", "cents"),
    [
        ({"authorized": True}, None),  # the SDK's own mocks
        ({"authorized": True, "order": {"summary": {"total": "$1,000.00"}}}, 100000),
        (
            {"authorized": True, "order": {"lineItems": [{"granuleId": "G", "total": "$12.50"}]}},
            1250,
        ),
        ({"authorized": True, "orderDetails": {"summary": {"total": 1500.0}}}, 150000),
        ({"authorized": True, "order": {"summary": {"total": "call us"}}}, None),
        ({"authorized": True, "order": {"summary": "n/a"}, "orderDetails": []}, None),
        ({"authorized": True, "order": {"lineItems": "x", "summary": {"total": True}}}, None),
    ],
)
def test_review_cost_is_read_defensively(review: dict[str, Any], cents: int | None) -> None:
    quote = quote_from_review(review, ITEM, OrderOptions(license="standard"))
    assert quote.amount == cents
    assert quote.details.get("price") == ("unavailable" if cents is None else None)


def test_unauthorized_review_without_cost_is_payment_required() -> None:
    with pytest.raises(PaymentRequired):
        quote_from_review({"authorized": False}, ITEM, OrderOptions())


def native_router(review: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """Capella with a real catalog record and ``review`` as its order review answer."""
    record = build_archive(TEST_SEED, TEST_SCENES).items[1]
    order = {
        "orderId": "9d0e4b8c-8f5c-4a57-9a42-6a9f7cf0b3e1",
        "orderStatus": "completed",
        "orderDate": "2026-12-06T10:00:00.000Z",
        "expirationDate": "2026-12-06T11:00:00.000Z",
        "items": [{"collectionId": record["collection"], "granuleId": record["id"]}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        bodies = {
            "/catalog/search": {"type": "FeatureCollection", "numberMatched": 1,
                                "features": [record], "links": []},
            "/orders/review": review,
            "/orders": order,
        }  # fmt: skip
        return httpx.Response(200, content=orjson.dumps(bodies[request.url.path]))

    return handler


async def test_quote_and_order_without_a_readable_cost() -> None:
    record = build_archive(TEST_SEED, TEST_SCENES).items[1]
    provider = mocked(native_router({"authorized": True}))
    try:
        quote = await provider.quote(record["collection"], record["id"], OrderOptions())
        assert quote.amount is None and quote.details["price"] == "unavailable"
        placed = await provider.place_order(
            record["collection"], record["id"], OrderOptions(), "ref"
        )
        assert placed.state == "succeeded" and placed.amount is None
    finally:
        await provider.aclose()


# --- the 10,000-item window (capella SDK config.py CATALOG_STAC_MAX_ITEM_RETURN) -------------


async def test_search_stops_honestly_at_capellas_10000_items() -> None:
    provider, _ = provider_for("capella", config=simulator_config(scenes=10_100))
    try:
        query = build_query(sortby=[SortField("datetime", True)])
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(40):
            page = await provider.search(query, cursor, 900)
            assert page.matched == 10_100  # the true count, not the window
            seen.extend(item["id"] for item in page.items)
            cursor = page.next_cursor
            assert cursor is not None
            if len(seen) == 10_000:
                break
        assert len(seen) == len(set(seen)) == 10_000
        with pytest.raises(BadRequest, match="first 10000 items"):
            await provider.search(query, cursor, 900)
    finally:
        await provider.aclose()


# --- expired deliveries: renewed only when free (seed 003; capella SDK order.py) -------------


async def test_expired_delivery_is_not_renewed_when_capella_states_a_charge() -> None:
    record = build_archive(TEST_SEED, TEST_SCENES).items[1]
    old = "0f8f3b0e-1111-4a57-9a42-6a9f7cf0b3e1"
    posted: list[str] = []
    review = {
        "authorized": True,
        "order": {"lineItems": [{"granuleId": record["id"], "total": "$1,500.00"}]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/orders/{old}/download":
            return httpx.Response(410, json={"error": "Order expired"})
        bodies: dict[str, Any] = {
            "/user": {"id": "u1", "organizationId": "o1"},
            "/orders": [
                {
                    "orderId": old,
                    "orderStatus": "completed",
                    "expirationDate": "2026-12-06T11:00:00.000Z",
                    "items": [{"collectionId": record["collection"], "granuleId": record["id"]}],
                }
            ],
            "/orders/review": review,
        }
        if request.method == "POST":
            posted.append(path)
        return httpx.Response(200, content=orjson.dumps(bodies[path]))

    provider = mocked(handler)
    try:
        with pytest.raises(Gone, match=r"would cost 1500.00 USD"):
            await provider.asset_location(record["collection"], record["id"], "HH", old)
        assert posted == ["/orders/review"], "reviewed, never ordered"
    finally:
        await provider.aclose()


# --- SAR data assets declare their polarization (issue 10, item 8) ---------------------------


@pytest.mark.parametrize("product", ["GEO", "SLC", "SICD", "CPHD"])
def test_data_assets_declare_their_polarization(product: str) -> None:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    native = next(i for i in archive.items if i["properties"]["sar:product_type"] == product)
    base = "http://capella.simulator"
    everything = frozenset(file_names(native))
    record = native_feature(native, base, lambda key: f"{base}/{key}", everything)
    item = item_from_native(record)
    pols = native["properties"]["sar:polarizations"]
    data = {k: a for k, a in item["assets"].items() if "data" in a["roles"]}
    assert data and all(a["sar:polarizations"] == pols for a in data.values())
    for key, asset in item["assets"].items():
        if key not in data:
            assert "sar:polarizations" not in asset


def test_the_sdks_extra_queryables_are_pushed_down() -> None:
    expr = {
        "op": "and",
        "args": [
            {"op": ">=", "args": [{"property": "sar:center_frequency"}, 9.5]},
            {"op": "=", "args": [{"property": "capella:image_formation_algorithm"}, "pfa"]},
        ],
    }
    request = to_native_query(
        build_query(filter=expr, filter_lang="cql2-json"), collections=["capella-geo"], limit=10
    )
    assert request.body["query"] == {
        "sar:center_frequency": {"gte": 9.5},
        "capella:image_formation_algorithm": {"eq": "pfa"},
    }
    assert request.exact


async def test_a_renewal_under_way_is_waited_for_not_ordered_again() -> None:
    record = build_archive(TEST_SEED, TEST_SCENES).items[1]
    old, new = "0f8f3b0e-1111-4a57-9a42-6a9f7cf0b3e1", "0f8f3b0e-2222-4a57-9a42-6a9f7cf0b3e1"
    product = [{"collectionId": record["collection"], "granuleId": record["id"]}]
    posted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST":
            posted.append(path)
        if path == f"/orders/{old}/download":
            return httpx.Response(410, json={"error": "Order expired"})
        if path == f"/orders/{new}/download":
            return httpx.Response(409, json={"error": {"message": "pending", "code": "X"}})
        bodies: dict[str, Any] = {
            "/user": {"id": "u1"},
            "/orders": [
                {"orderId": old, "orderStatus": "completed", "items": product,
                 "expirationDate": "2026-12-06T11:00:00.000Z"},
                {"orderId": new, "orderStatus": "pending", "items": product,
                 "expirationDate": "2026-12-06T13:00:00.000Z"},
            ],
        }  # fmt: skip
        return httpx.Response(200, content=orjson.dumps(bodies.get(path, {})))

    provider = mocked(handler)
    try:
        with pytest.raises(Conflict, match=f"being prepared again \\(order {new}\\)"):
            await provider.asset_location(record["collection"], record["id"], "HH", old)
        assert posted == [], "no second renewal"
    finally:
        await provider.aclose()
