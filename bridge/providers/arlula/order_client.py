"""The Arlula adapter's order side: quote, place, find, read, cancel, download locations.

Every quote and order starts from a fresh native search for the item (:meth:`get_item`):
an ``orderingID`` names the area a search priced, and prices change. Downloads go through
the native resource endpoint of the order's delivery, which answers 302 to a freshly
signed storage URL (read without following it); nothing signed is cached.

Deadlines: placing an order may take ``order_timeout_s`` (120 s by default: Arlula's node
SDK allows that long, since suppliers with immediate fulfilment deliver before answering);
every other call gets the search deadline ``timeout_s``. Each bounds the whole exchange.
A placement that times out has an unknown outcome; the order service then reconciles.

Reconciliation: Arlula keeps no client reference on an order, so :meth:`find_orders`
lists the account's datasets (2023-01 ``GET /api/datasets``, which carry the supplier and
scene id; ``GET /api/orders`` leaves them out) or orders (2020-12 ``GET /api/order/list``)
and returns every order of the item's scene. Arlula cannot cancel an order through its
API (only its support can), so :meth:`cancel_order` raises Conflict unless it is already
cancelled.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bridge.core.contract import AssetLocation, Item, NativeOrder, OrderOptions, Quote
from bridge.errors import (
    BadRequest,
    BridgeError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.arlula.ids import parse_item_id
from bridge.providers.arlula.order_mapping import (
    choose,
    order_from_2020,
    order_from_2023,
    order_id_from_webhook,
)
from bridge.providers.http import check_response, decode_json, exchange

NAME = "arlula"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
LIST_PAGE_SIZE = 100
# Native statuses an order answers with that the bridge turns into its own errors.
_ERRORS: dict[int, tuple[type[BridgeError], str]] = {
    402: (PaymentRequired, "the account's credit does not cover the order (402)"),
    403: (Forbidden, "the account may not place this order (403)"),
    404: (NotFound, "no such order or resource (404)"),
    410: (Gone, "the delivery expired (410)"),
    412: (BadRequest, "the license terms were not accepted (412)"),
    422: (BadRequest, "the order was refused as unprocessable (422)"),
}


def _signed_expiry(url: str) -> datetime | None:
    """When a presigned URL stops working, if it says (S3 ``Expires``, unix seconds)."""
    value = parse_qs(urlsplit(url).query).get("Expires")
    try:
        return datetime.fromtimestamp(int(value[0]), UTC) if value else None
    except (ValueError, OverflowError):
        return None


def _native_text(response: httpx.Response) -> str:
    """The provider's own refusal text (Arlula answers plain text, e.g. "Invalid `eula`:
    ..."), shortened; it names the request's fault, never the account's secrets."""
    text = " ".join(response.text.split())[:300]
    return f": {text}" if text else ""


class OrderingMixin:
    """Order methods of :class:`~bridge.providers.arlula.adapter.ArlulaProvider`."""

    api_version: str
    collection_ids: frozenset[str]
    timeout_s: float
    order_timeout_s: float
    _client: httpx.AsyncClient
    # Placements under way on this adapter, by (supplier, sceneID): see find_orders.
    _in_flight: dict[tuple[str, str], set[asyncio.Event]]

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        raise NotImplementedError  # provided by the adapter

    async def _call(
        self, method: str, path: str, *, deadline_s: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One native order-side request within ``deadline_s`` (the search deadline by
        default); statuses ≥ 400 become bridge errors."""
        deadline = self.timeout_s if deadline_s is None else deadline_s
        request = self._client.build_request(
            method, path, timeout=httpx.Timeout(deadline), **kwargs
        )
        response = await exchange(NAME, self._client, request, deadline)
        if response.status_code in _ERRORS:
            error, message = _ERRORS[response.status_code]
            raise error(f"{NAME}: {message}{_native_text(response)}")
        check_response(NAME, response)
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return decode_json(NAME, await self._call(method, path, **kwargs))

    async def _item(self, collection_id: str, item_id: str) -> Item:
        item = await self.get_item(collection_id, item_id)
        if item is None:
            raise NotFound(f"{NAME}: no item {item_id!r} in {collection_id!r}")
        return item

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """Price the item with ``options`` from a fresh native search result."""
        item = await self._item(collection_id, item_id)
        return choose(item["properties"], self.api_version, options)[1]

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """Order the item; ``reference`` is not sent (Arlula stores none, see module doc)."""
        item = await self._item(collection_id, item_id)
        choice, _ = choose(item["properties"], self.api_version, options)
        hooks = [webhook_url] if webhook_url else []
        if self.api_version == "2023-01":
            body: dict[str, Any] = {"id": choice.ordering_id, "eula": choice.eula}
            body |= {"bundleKey": choice.bundle, "webhooks": hooks, "emails": []}
            path = "/api/archive/order"
        else:
            body = {"id": choice.ordering_id, "eula": choice.eula, "seats": choice.seats}
            body |= {"webhooks": hooks, "emails": []}
            path = "/api/order/new"
        # A timeout here leaves the outcome unknown (the order may be placed): the caller
        # reconciles through find_orders before anything is placed again.
        scene = (item["properties"]["arlula:supplier"], item["properties"]["arlula:scene_id"])
        done = asyncio.Event()
        self._in_flight.setdefault(scene, set()).add(done)
        try:
            placed = await self._json("POST", path, json=body, deadline_s=self.order_timeout_s)
        finally:
            done.set()
            waiting = self._in_flight[scene]
            waiting.discard(done)
            if not waiting:
                del self._in_flight[scene]
        return self._read_order(placed)

    def _read_order(self, body: Any) -> NativeOrder:
        try:
            if self.api_version == "2023-01":
                return order_from_2023(body)
            return order_from_2020(body)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable order: {exc!r}") from exc

    async def get_order(self, native_id: str) -> NativeOrder:
        """The order as the native API reports it now."""
        if self.api_version == "2023-01":
            return self._read_order(await self._json("GET", f"/api/order/{native_id}"))
        return self._read_order(await self._json("GET", "/api/order/get", params={"id": native_id}))

    async def _scene_order_ids(self, supplier: str, scene_id: str) -> list[str]:
        """Ids of the account's orders of one scene, newest first."""
        if self.api_version == "2020-12":
            listed = await self._json("GET", "/api/order/list")
            rows = listed if isinstance(listed, list) else []
            key = ("supplier", "sceneID", "id")
        else:
            rows, page = [], 0
            while True:
                params = {"page": page, "size": LIST_PAGE_SIZE}
                body = await self._json("GET", "/api/datasets", params=params)
                content = body.get("content") or [] if isinstance(body, dict) else []
                rows += content
                page += 1
                if not content or page * LIST_PAGE_SIZE >= int(body.get("count", 0)):
                    break
            key = ("supplier", "sceneID", "order")
        found = [r[key[2]] for r in rows if (r.get(key[0]), r.get(key[1])) == (supplier, scene_id)]
        return list(dict.fromkeys(found))

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Every native order of the item's scene (no client reference is kept natively)."""
        ref = parse_item_id(item_id)
        if ref is None or collection_id not in self.collection_ids:
            return []
        # A placement of this scene still in flight here (it may take order_timeout_s) is
        # waited for: listed too early, its order would be missed and bought again.
        in_flight = [e.wait() for e in self._in_flight.get((ref.supplier, ref.scene_id), ())]
        if in_flight:
            await asyncio.gather(*in_flight)
        ids = await self._scene_order_ids(ref.supplier, ref.scene_id)
        return [await self.get_order(native_id) for native_id in ids]

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Arlula has no cancel endpoint: Conflict, unless the order is already cancelled."""
        order = await self.get_order(native_id)
        if order.state == "canceled":
            return order
        raise Conflict(f"{NAME}: orders cannot be cancelled through Arlula's API")

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """The thumbnail from a fresh search result; data from the order's delivery."""
        if asset_key == "thumbnail":
            item = await self._item(collection_id, item_id)
            asset = item["assets"]["thumbnail"]
            return AssetLocation(href=asset["href"], media_type=asset.get("type"))
        if asset_key != "data":
            raise NotFound(f"{NAME}: no asset {asset_key!r}")
        if native_order_id is None:
            raise Conflict(f"{NAME}: the data asset is delivered by an order")
        ref = parse_item_id(item_id)
        order = await self.get_order(native_order_id)
        # A batch order holds one dataset per scene: only this item's dataset counts.
        datasets = [
            d
            for d in order.details.get("datasets") or []
            if ref is not None and (d["supplier"], d["scene_id"]) == (ref.supplier, ref.scene_id)
        ]
        if not datasets:
            raise NotFound(f"{NAME}: order {native_order_id!r} did not buy {item_id!r}")
        if order.state != "succeeded":
            raise Conflict(f"{NAME}: order is {order.native_status}, not delivered")
        if order.expires_at is not None and order.expires_at <= datetime.now(UTC):
            raise Gone(f"{NAME}: the delivery expired at {order.expires_at.isoformat()}")
        images = [r for d in datasets for r in d["resources"] if r["type"] == "img_tiff"]
        if not images:
            raise NotFound(f"{NAME}: the delivery holds no GeoTIFF")
        if self.api_version == "2023-01":
            response = await self._call("GET", f"/api/resource/{images[0]['id']}/data")
        else:
            response = await self._call(
                "GET", "/api/order/resource/get", params={"id": images[0]["id"]}
            )
        location = response.headers.get("location")
        if not response.is_redirect or not location:
            raise ProviderBadResponse(NAME, "the resource endpoint did not redirect to storage")
        href = str(response.url.join(location))
        return AssetLocation(href=href, expires_at=_signed_expiry(href), media_type=COG_MEDIA_TYPE)

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """The order id in an ``archive.order.complete`` event (never trusted further)."""
        return order_id_from_webhook(payload)
