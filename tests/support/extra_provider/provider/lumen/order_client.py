"""Lumen orders and downloads: the Provider order methods over the native API.

An order is delivered at once; its download answers a presigned URL (handed to clients
as a redirect). Lumen stores the bridge's ``reference``, so lost answers reconcile
exactly; it cannot cancel.
"""

from __future__ import annotations

from typing import Any

import httpx

from bridge.core.contract import AssetLocation, NativeOrder, OrderOptions, OrderState, Quote
from bridge.errors import BadRequest, Conflict, NotFound, ProviderBadResponse
from bridge.providers.http import check_response, exchange, send

from .mapping import COG, COLLECTION

PRICE_CENTS = 12_500
STATES: dict[str, OrderState] = {"placed": "ordered", "delivered": "succeeded"}


class LumenOrders:
    """Quote, place, find, read, cancel and locate downloads (mixed into the adapter)."""

    name: str
    _client: httpx.AsyncClient
    _headers: dict[str, str]

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        request = self._client.build_request(method, path, headers=self._headers, **kwargs)
        return await send(self.name, self._client, request)

    def _order(self, body: Any) -> NativeOrder:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ProviderBadResponse(self.name, "order is not an object with an id")
        status = str(body.get("status"))
        return NativeOrder(
            native_id=body["id"],
            state=STATES.get(status, "ordered"),
            native_status=status,
            amount=body.get("price_cents"),
            currency="USD",
            reference=body.get("reference"),
            details={"scene": body.get("scene")},
        )

    def _check(self, collection_id: str, options: OrderOptions) -> None:
        if collection_id != COLLECTION:
            raise NotFound(f"lumen has no collection {collection_id!r}")
        if options != OrderOptions():
            raise BadRequest("lumen sells one standard licence: no license, bundle or seats")

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """Every Lumen scene costs the same."""
        self._check(collection_id, options)
        path = f"/v1/scenes/{item_id}"
        response = await exchange(
            self.name, self._client, self._client.build_request("GET", path, headers=self._headers)
        )
        if response.status_code == 404:
            raise NotFound(f"lumen has no scene {item_id!r}")
        check_response(self.name, response)
        return Quote(PRICE_CENTS, "USD", "one scene, standard licence", options)

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """One native order, carrying the bridge's reference."""
        self._check(collection_id, options)
        body = {"scene": item_id, "reference": reference}
        return self._order(await self._call("POST", "/v1/orders", json=body))

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Orders Lumen holds with this reference."""
        body = await self._call("GET", "/v1/orders", params={"reference": reference})
        return [self._order(o) for o in (body or {}).get("orders", [])]

    async def get_order(self, native_id: str) -> NativeOrder:
        """The order as Lumen has it now."""
        return self._order(await self._call("GET", f"/v1/orders/{native_id}"))

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Lumen delivers at once: nothing is left to cancel."""
        raise Conflict("lumen delivers orders at once; they cannot be canceled")

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """The delivered GeoTIFF's presigned URL."""
        if asset_key != "data":
            raise NotFound(f"lumen items have no asset {asset_key!r}")
        if native_order_id is None:
            raise Conflict("lumen's data asset needs an order")
        body = await self._call("GET", f"/v1/orders/{native_id_safe(native_order_id)}/download")
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise ProviderBadResponse(self.name, "download answer has no url")
        return AssetLocation(body["url"], media_type=COG)

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """Lumen sends no webhooks."""
        return None


def native_id_safe(native_id: str) -> str:
    """A native order id fit for a URL path (ids are the adapter's own reading)."""
    if not native_id.replace("-", "").isalnum():
        raise BadRequest("lumen: malformed order id")
    return native_id
