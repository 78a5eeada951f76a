"""Capella orders and downloads: the Provider order methods over the native API.

``quote`` reviews the order (``POST /orders/review``); ``place_order`` reviews, then
submits (``POST /orders``), as the Capella SDK does, so a lack of funds is a clean 402
rather than a ``rejected`` order. Capella stores no client reference on orders, so
``find_orders`` lists the user's orders (``GET /orders?customerId=``) and matches the
product; a repeated order of the same product is harmless at Capella (it comes back
``previouslyOrdered`` and free). Data assets are located through the order's download
endpoint, which presigns fresh URLs on every call (an expired delivery is renewed, free:
see :mod:`.renewal`); thumbnails and previews through a catalog search, whose records
carry them presigned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote as quote_path

import httpx
import orjson
from pydantic import SecretStr

from bridge.core.contract import AssetLocation, Item, NativeOrder, OrderOptions, Quote
from bridge.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.capella.names import NATIVE_COLLECTIONS
from bridge.providers.capella.order_mapping import (
    denial_message,
    error_from_native,
    expires_from_href,
    names_item,
    normalize_options,
    order_from_native,
    quote_from_review,
    review_price,
)
from bridge.providers.capella.renewal import DeliveryRenewal
from bridge.providers.http import check_response, decode_json, exchange

UNORDERED_ASSETS = frozenset({"thumbnail", "preview"})
"""Assets Capella serves without an order (presigned in search records)."""


def raise_for_native(provider: str, response: httpx.Response) -> None:
    """Raise the bridge error of a failed Capella response (its error code decides, see
    :func:`.order_mapping.error_from_native`, else the status); return on success."""
    if response.status_code < 400:
        return
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    mapped = error_from_native(response.status_code, body)
    if mapped is not None:
        raise mapped
    check_response(provider, response)


class CapellaOrdering(DeliveryRenewal):
    """The order half of :class:`~bridge.providers.capella.adapter.CapellaProvider`."""

    name: str
    collection_ids: frozenset[str]
    _client: httpx.AsyncClient
    _api_key: SecretStr | None
    _contract_id: str | None
    _user_id: str | None
    _deadline_s: float

    # Provided by the adapter class this one is mixed into.
    _auth_header: Callable[[], dict[str, str]]
    get_item: Callable[[str, str], Awaitable[Item | None]]

    async def _call(
        self, method: str, url: str, json: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        """One native call's decoded answer; Capella's error codes become bridge errors."""
        return decode_json(self.name, await self._exchange(method, url, json, params))

    async def _exchange(
        self, method: str, url: str, json: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """One native call's successful response; Capella's error codes become bridge errors."""
        request = self._client.build_request(
            method, url, json=json, params=params, headers=self._auth_header()
        )
        response = await exchange(self.name, self._client, request, self._deadline_s)
        raise_for_native(self.name, response)
        return response

    def _native_collection(self, collection_id: str) -> str:
        if collection_id not in self.collection_ids:
            raise NotFound(f"no collection {collection_id!r} at capella")
        return NATIVE_COLLECTIONS.get(collection_id, collection_id)

    def _order_body(self, collection_id: str, item_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "items": [
                {"collectionId": self._native_collection(collection_id), "granuleId": item_id}
            ]
        }
        if self._contract_id:
            body["contractId"] = self._contract_id
        return body

    async def _require_item(self, collection_id: str, item_id: str) -> Item:
        self._native_collection(collection_id)
        item = await self.get_item(collection_id, item_id)
        if item is None:
            raise NotFound(f"no item {item_id!r} in {collection_id!r}")
        return item

    async def _post_order(self, path: str, collection_id: str, item_id: str) -> dict[str, Any]:
        """``POST /orders/review`` or ``/orders`` for one product."""
        try:
            answer = await self._call("POST", path, json=self._order_body(collection_id, item_id))
        except BadRequest:
            # Capella answers a validation error for a product it does not know: tell
            # that apart (NotFound) from any other refusal of the body.
            await self._require_item(collection_id, item_id)
            raise
        if not isinstance(answer, dict):
            raise ProviderBadResponse(self.name, f"{path} answer is not an object")
        return answer

    async def _review(self, collection_id: str, item_id: str) -> dict[str, Any]:
        return await self._post_order("/orders/review", collection_id, item_id)

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """Price ``item_id`` through Capella's order review (nothing is ordered)."""
        chosen = normalize_options(options)
        item = await self._require_item(collection_id, item_id)
        return quote_from_review(await self._review(collection_id, item_id), item, chosen)

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """Review, then submit one order for the product.

        ``reference`` cannot be stored (Capella has no such field) and ``webhook_url`` is
        unused (Capella sends no order notifications): :meth:`find_orders` reconciles
        by product instead.
        """
        normalize_options(options)
        review = await self._review(collection_id, item_id)
        if not review.get("authorized", False):
            raise PaymentRequired(f"capella: {denial_message(review)}")
        price = review_price(review, item_id)
        created = await self._post_order("/orders", collection_id, item_id)
        amount, currency = price if price is not None else (None, None)
        return order_from_native(created, amount, currency)

    async def _customer_id(self) -> str:
        # The user behind the API key: fixed for this adapter's credentials.
        if self._user_id is None:
            user = await self._call("GET", "/user")
            user_id = user.get("id") if isinstance(user, dict) else None
            if not isinstance(user_id, str):
                raise ProviderBadResponse(self.name, "GET /user names no id")
            self._user_id = user_id
        return self._user_id

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """The user's native orders that include the product, oldest first."""
        native = self._native_collection(collection_id)
        orders = await self._call(
            "GET", "/orders", params={"customerId": await self._customer_id()}
        )
        if not isinstance(orders, list):
            raise ProviderBadResponse(self.name, "order list is not a list")
        return [
            order_from_native(o)
            for o in orders
            if isinstance(o, dict) and names_item(o, native, item_id)
        ]

    async def get_order(self, native_id: str) -> NativeOrder:
        """The order as Capella reports it now."""
        body = await self._call("GET", f"/orders/{quote_path(native_id, safe='')}")
        if not isinstance(body, dict):
            raise ProviderBadResponse(self.name, "order is not an object")
        return order_from_native(body)

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Capella offers no way to cancel an archive order.

        Raises:
            NotFound: no such order. Conflict: it exists, and cannot be canceled.
        """
        order = await self.get_order(native_id)
        raise Conflict(
            f"capella: order {order.native_id} cannot be canceled (Capella has no cancel)"
        )

    async def _search_record(self, collection_id: str, item_id: str) -> dict[str, Any]:
        body = {"ids": [item_id], "collections": [self._native_collection(collection_id)]}
        page = await self._call("POST", "/catalog/search", json={**body, "limit": 1})
        for feature in (page or {}).get("features") or ():
            if isinstance(feature, dict) and feature.get("id") == item_id:
                return feature
        raise NotFound(f"no item {item_id!r} in {collection_id!r}")

    async def _delivered_record(self, native_order_id: str, item_id: str) -> dict[str, Any]:
        url = f"/orders/{quote_path(native_order_id, safe='')}/download"
        features = await self._call("GET", url)
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("id") == item_id:
                return feature
        raise NotFound(f"order {native_order_id} does not deliver {item_id!r}")

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """A freshly presigned Capella URL for one asset (never one cached)."""
        if asset_key in UNORDERED_ASSETS or native_order_id is None:
            record = await self._search_record(collection_id, item_id)
            if asset_key not in UNORDERED_ASSETS and asset_key in (record.get("assets") or {}):
                raise Conflict(f"capella: asset {asset_key!r} needs a completed order")
        else:
            native = self._native_collection(collection_id)
            record = await self._current_delivery(collection_id, native, item_id, native_order_id)
        asset = (record.get("assets") or {}).get(asset_key)
        if not isinstance(asset, dict) or not isinstance(asset.get("href"), str):
            raise NotFound(f"item {item_id!r} has no asset {asset_key!r}")
        href = asset["href"]
        return AssetLocation(href, expires_from_href(href), asset.get("type"))

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """Capella sends no order webhooks; a relayed order body names its ``orderId``."""
        order_id = payload.get("orderId") if isinstance(payload, dict) else None
        return order_id if isinstance(order_id, str) and order_id else None
