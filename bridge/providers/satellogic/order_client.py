"""Prices, orders and downloads through Aleph V2 and Telluric, for one set of credentials.

The Provider methods of :class:`~bridge.providers.satellogic.adapter.SatellogicProvider`
for ordering delegate here. Flow for a data asset: ``GET /v2/orders/{id}`` →
``GET /v2/orders/{id}/deliverables`` (the available deliverable's ``sceneset_id``, an
assumed field) → ``GET /telluric/scenes/?sceneset_id=`` → the raster's tokenized url,
fresh on every call (Telluric mints new tokens per request), handed to clients as a
redirect. Browse assets are the archive item's ``thumbnail``/``preview`` hrefs, which answer
only with the API headers: the location carries them so the bridge fetches for the client.

Telluric does not publish its token lifetime; :data:`URL_LIFETIME_S` is the (short) life
the adapter promises to the bridge, so nobody holds on to a URL that may have died.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx

from bridge.core.contract import AssetLocation, NativeOrder, OrderOptions, Quote
from bridge.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.http import check_response, decode_json
from bridge.providers.satellogic import names, order_mapping

URL_LIFETIME_S = 600.0
PRODUCTS_TTL_S = 600.0
LIST_LIMIT = 100
MAX_LIST_PAGES = 200
COG = "image/tiff; application=geotiff; profile=cloud-optimized"

Call = Callable[..., Awaitable[httpx.Response]]
Credentials = Callable[[], Awaitable[tuple[str, dict[str, str]]]]
NativeItem = Callable[[str, str], Awaitable[dict[str, Any] | None]]
Mapper = Callable[[dict[str, Any]], dict[str, Any]]


def _summary(body: Any) -> str:
    """A DRF validation body as one line (field names and messages only)."""
    if isinstance(body, dict):
        parts = [f"{k}: {_summary(v)}" for k, v in body.items()]
        return "; ".join(parts)
    if isinstance(body, list):
        return " ".join(_summary(v) for v in body)
    return str(body)[:300]


def error_body(response: httpx.Response) -> tuple[Any, Any]:
    """A failed response's JSON body (None when unreadable) and its DRF ``detail``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return body, detail


class OrderClient:
    """Aleph V2 orders and Telluric downloads over the adapter's authenticated client."""

    def __init__(
        self,
        name: str,
        call: Call,
        native_item: NativeItem,
        to_item: Mapper,
        credentials: Credentials,
        client: httpx.AsyncClient,
    ) -> None:
        self.name = name
        self._call = call
        self._credentials = credentials
        self._client = client
        self._native_item = native_item
        self._to_item = to_item
        self._products: tuple[float, dict[str, Decimal]] | None = None

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._call(method, path, body)
        self._raise_for(response)
        return decode_json(self.name, response)

    def _raise_for(self, response: httpx.Response) -> None:
        """Aleph's DRF-style errors → bridge errors; the rest as any native failure."""
        status = response.status_code
        if status < 400:
            return
        body, detail = error_body(response)
        if status == 400:
            raise BadRequest(f"{self.name} refused the order: {_summary(body)}")
        if status == 402:
            raise PaymentRequired(f"{self.name}: {detail or 'payment required'}")
        if status == 403 and detail:
            raise Forbidden(f"{self.name}: {detail}")
        if status == 404 and detail:
            raise NotFound(f"{self.name}: {detail}")
        check_response(self.name, response)

    async def _item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        native = await self._native_item(collection_id, item_id)
        if native is None:
            raise NotFound(f"no item {item_id} in {collection_id}")
        return native

    async def _price_per_km2(self, sku: str) -> Decimal:
        """The contract's price for ``sku`` (``GET /v2/products/``, kept a few minutes)."""
        if self._products is None or time.monotonic() - self._products[0] > PRODUCTS_TTL_S:
            prices: dict[str, Decimal] = {}
            body = await self._json("GET", "/v2/products/?limit=100")
            for row in body.get("results") or []:
                try:
                    prices[str(row["sku"])] = Decimal(str(row["price_per_unit"]["amount"]))
                except (KeyError, TypeError, InvalidOperation) as exc:
                    raise ProviderBadResponse(self.name, f"unreadable price: {exc!r}") from exc
            self._products = (time.monotonic(), prices)
        price = self._products[1].get(sku)
        if price is None:
            raise Forbidden(f"{self.name}: the contract does not include {sku}")
        return price

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """The tile's area at the contract's price per km² of its SKU."""
        item = self._to_item(await self._item(collection_id, item_id))
        level = str(item["properties"]["processing:level"])
        priced = order_mapping.check_options(level, options)
        sku = order_mapping.sku_for(level)
        per_km2 = await self._price_per_km2(sku)
        quantity, cents = order_mapping.price_cents(
            order_mapping.area_km2(item["geometry"]), per_km2
        )
        return Quote(
            amount=cents,
            currency="USD",
            covers=(
                f"Satellogic archive {level} tile ({sku}), {quantity} km2 clipped to the tile "
                f"footprint at {per_km2} USD/km2 (contract price); license per contract"
            ),
            options=priced,
            valid_options={"bundle": [sku]},
            details={"sku": sku, "area_km2": float(quantity), "price_per_km2": str(per_km2)},
        )

    async def _read_order(self, native_id: str) -> NativeOrder:
        feature = await self._json("GET", f"{names.ORDERS_PATH}{native_id}")
        body = await self._json("GET", f"{names.ORDERS_PATH}{native_id}/deliverables?limit=100")
        try:
            return order_mapping.native_order(feature, list(body.get("results") or []))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(self.name, f"unreadable order: {exc!r}") from exc

    async def place_order(
        self, collection_id: str, item_id: str, options: OrderOptions, reference: str
    ) -> NativeOrder:
        """``POST /v2/orders/`` for the tile's footprint and capture, named ``reference``."""
        item = self._to_item(await self._item(collection_id, item_id))
        level = str(item["properties"]["processing:level"])
        order_mapping.check_options(level, options)
        body = order_mapping.order_body(item, order_mapping.sku_for(level), reference)
        feature = await self._json("POST", names.ORDERS_PATH, body)
        try:
            return order_mapping.native_order(feature, [])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(self.name, f"unreadable order: {exc!r}") from exc

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Every order named ``reference`` or buying this tile (offset paging)."""
        native = await self._native_item(collection_id, item_id)
        item = self._to_item(native) if native is not None else None
        found: list[str] = []
        path: str | None = names.ORDERS_PATH + "?" + urlencode({"offset": 0, "limit": LIST_LIMIT})
        for _ in range(MAX_LIST_PAGES):
            if path is None:
                break
            body = await self._json("GET", path)
            for feature in body.get("features") or []:
                if order_mapping.matches(feature, reference, item):
                    found.append(str(feature["properties"]["order_id"]))
            next_link = body.get("next")
            path = str(next_link) if next_link else None
        return [await self._read_order(native_id) for native_id in found]

    async def get_order(self, native_id: str) -> NativeOrder:
        """The order's state and its deliverables' expiry."""
        return await self._read_order(native_id)

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Aleph documents no cancellation: Conflict (NotFound for an unknown order)."""
        order = await self._read_order(native_id)
        raise Conflict(
            f"{self.name} order {native_id} is {order.native_status}: the Aleph Orders API "
            "offers no cancellation; ask Satellogic support to cancel it"
        )

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """Browse assets: the archive URL and the headers it needs; data: a Telluric URL."""
        native = await self._item(collection_id, item_id)
        asset = (native.get("assets") or {}).get(asset_key)
        if not isinstance(asset, dict) or not asset.get("href"):
            raise NotFound(f"item {item_id} has no asset {asset_key}")
        expires = datetime.now(UTC) + timedelta(seconds=URL_LIFETIME_S)
        if asset_key in order_mapping.BROWSE_ASSETS:
            # Archive quicklooks answer only with the API headers (docs archive-service
            # "search by outcome id" downloads preview with them): the bridge fetches them.
            _, headers = await self._credentials()
            return AssetLocation(
                str(asset["href"]), expires, asset.get("type"), headers, self._client
            )
        if native_order_id is None:
            raise Conflict(f"{asset_key} of {item_id} is delivered by an order; none given")
        order = await self._read_order(native_order_id)
        item = self._to_item(native)
        outcome = item["properties"].get("satl:outcome_id")
        if order.details.get("outcome_id") != outcome:
            raise Conflict(f"{self.name} order {native_order_id} does not deliver {item_id}")
        sceneset = self._sceneset(order)
        body = await self._json("GET", "/telluric/scenes/?" + urlencode({"sceneset_id": sceneset}))
        scenes = body.get("results") or []
        if not scenes:
            raise Gone(f"{self.name} delivery of order {native_order_id} is no longer available")
        raster = order_mapping.pick_raster(list(scenes[0].get("rasters") or []), asset_key)
        if raster is None or not raster.get("url"):
            raise NotFound(f"order {native_order_id} delivers no {asset_key} raster")
        return AssetLocation(str(raster["url"]), expires, COG)

    def _sceneset(self, order: NativeOrder) -> str:
        """The sceneset of the order's available deliverable, or the reason there is none."""
        deliverables = order.details.get("deliverables") or []
        statuses = {d.get("status") for d in deliverables}
        for deliverable in deliverables:
            if deliverable.get("status") == "available" and deliverable.get("sceneset_id"):
                return str(deliverable["sceneset_id"])
        if "expired" in statuses:
            raise Gone(f"{self.name} delivery of order {order.native_id} expired")
        if order.state in ("failed", "canceled"):
            raise Conflict(f"{self.name} order {order.native_id} {order.native_status}")
        raise Conflict(
            f"{self.name} order {order.native_id} is not delivered yet ({order.native_status})"
        )


def order_id_from_webhook(payload: Any) -> str | None:
    """Aleph documents no webhooks; an order Feature or ``{"order_id"}`` is understood."""
    if not isinstance(payload, dict):
        return None
    props = payload.get("properties") if isinstance(payload.get("properties"), dict) else payload
    value = props.get("order_id") if isinstance(props, dict) else None
    return str(value) if isinstance(value, str | int) and str(value) else None
