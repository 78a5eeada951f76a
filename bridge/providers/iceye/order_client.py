"""ICEYE prices, purchases and downloads through the Catalog API (v2; v1 where it can).

v2 sells a *frame* (one acquisition), and one purchase delivers every product ICEYE made
of it. The bridge orders per item, so an item maps to its ``iceye:frame_id``; ordering a
second product of a frame already bought with the same EULA reuses that purchase instead
of paying for the frame again (the first purchase already delivers it). ``reference`` is
sent natively (ICEYE stores it) and :meth:`Purchases.find_orders` lists the account's
purchases and matches it. Data assets come from ``GET /purchases/{id}/products``, whose
hrefs are presigned for one hour, fetched afresh on every call; the products carry
product-specific keys (``grd-tif``, ``grd-xml``) read under the bridge's stable ones
(``data``, ``metadata``). Quicklooks come from the catalog item itself, no purchase
needed. A contract without a pricing plan gets a quote without price (``amount`` None,
``details["price_unavailable"]``) instead of an error. What the simulator stands for is
traced to its sources in ``bridge/simulators/iceye/SOURCES.md``.

Not available through the API, hence refused with :class:`~bridge.errors.Conflict`:
cancelling a purchase (the seed documents cancellation for tasks only), prices and
downloads in v1 (no ``/price`` before v2; v1 delivered to a pre-configured bucket).
Webhooks are configured per account in ICEYE's Notifications API, not per purchase, so
``webhook_url`` is not sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import httpx

from bridge.core.contract import AssetLocation, Item, NativeOrder, OrderOptions, Quote
from bridge.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.http import decode_json
from bridge.providers.iceye.mapping import stable_assets
from bridge.providers.iceye.names import PRODUCT_TYPES_BY_COLLECTION
from bridge.providers.iceye.order_mapping import (
    EULAS,
    LIVE_STATUSES,
    eula_for,
    order_from_purchase,
    pick_product,
    url_expiry,
)
from bridge.providers.iceye.problems import problem_of, raise_for_status

NAME = "iceye"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 50
"""Purchases scanned when reconciling (5,000, newest first)."""
QUICKLOOK_ROLES = frozenset({"thumbnail", "overview"})
UNPRICED_CURRENCY = "EUR"
TASK_ORDER_PREFIX = "task:"
"""``native_order_id`` of a tasked delivery: ``task:<taskID>`` (see ``bridge/providers/
iceye/tasking.py``); its files come from the task products endpoint."""

Send = Callable[..., Awaitable[httpx.Response]]
GetItem = Callable[[str, str], Awaitable[Item | None]]


def checked(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful purchase-API response, or the bridge error (carrying
    ICEYE's own code and words)."""
    status = response.status_code
    said = problem_of(response).suffix() if status >= 400 else ""
    if status == 400:
        raise BadRequest(f"ICEYE refused the {what}{said}")
    if status == 402:
        raise PaymentRequired(f"ICEYE refused the {what} for lack of funds{said}")
    if status == 403:
        raise Forbidden(f"the ICEYE contract does not allow this {what}{said}")
    if status == 404:
        raise NotFound(f"ICEYE has no such {what}{said}")
    if status == 409:
        raise Conflict(f"ICEYE refused the {what}{said}")
    raise_for_status(response)
    return decode_json(NAME, response)


def _order(body: Any, api_version: str) -> NativeOrder:
    if not isinstance(body, dict):
        raise ProviderBadResponse(NAME, "purchase is not a JSON object")
    try:
        return order_from_purchase(body, api_version)
    except (KeyError, TypeError) as exc:
        raise ProviderBadResponse(NAME, f"unreadable purchase ({exc!r})") from exc


class Purchases:
    """The ordering half of the ICEYE adapter (one set of credentials)."""

    def __init__(
        self,
        api_version: str,
        contract_id: str | None,
        send: Send,
        get_item: GetItem,
        collections: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.api_version = api_version
        self._contract_id = contract_id
        self._send = send
        self._get_item = get_item
        self._quicklooks = {
            cid: frozenset(
                key
                for key, asset in (doc.get("item_assets") or {}).items()
                if QUICKLOOK_ROLES & set(asset.get("roles") or ())
            )
            for cid, doc in collections.items()
        }

    @property
    def _path(self) -> str:
        return f"/api/catalog/{self.api_version}"

    def _contract(self) -> str:
        if not self._contract_id:
            raise Forbidden("no ICEYE contract is configured for these credentials")
        return self._contract_id

    async def _item(self, collection_id: str, item_id: str) -> Item:
        item = await self._get_item(collection_id, item_id)
        if item is None:
            raise NotFound(f"no ICEYE item {item_id!r} in {collection_id!r}")
        return item

    async def _frame(self, collection_id: str, item_id: str) -> str:
        frame = (await self._item(collection_id, item_id))["properties"].get("iceye:frame_id")
        if not isinstance(frame, str):
            raise ProviderBadResponse(NAME, f"item {item_id} has no frame_id")
        return frame

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """The price of the item's frame under the EULA (``GET /price``, v2 only)."""
        eula = eula_for(options, self.api_version)
        if eula is None:
            raise Conflict("ICEYE API v1 has no price endpoint (GET /price is new in v2)")
        frame = await self._frame(collection_id, item_id)
        params = {"frameID": frame, "contractID": self._contract(), "eula": eula}
        response = await self._send("GET", f"{self._path}/price", params=params)
        if 400 <= response.status_code < 500 and problem_of(response).means_price_unavailable():
            # A contract without a pricing plan can still buy: the quote says so instead
            # of failing (ICEYE's own explorer shows "price not available").
            return self._quote(None, frame, eula, problem_of(response).text)
        body = checked(response, "price")
        amount, currency = (body.get("amount"), body.get("currency")) if body else (None, None)
        if not isinstance(amount, int) or not isinstance(currency, str):
            raise ProviderBadResponse(NAME, "price has no integer amount and currency")
        return self._quote((amount, currency), frame, eula, None)

    def _quote(
        self, price: tuple[int, str] | None, frame: str, eula: str, unavailable: str | None
    ) -> Quote:
        details: dict[str, Any] = {"frame_id": frame, "eula": eula}
        if unavailable is not None:
            details["price_unavailable"] = unavailable or "ICEYE states no price"
        return Quote(
            amount=price[0] if price else None,
            # The currency ICEYE prices in (seed 001's example); unused without an amount.
            currency=price[1] if price else UNPRICED_CURRENCY,
            covers=f"ICEYE frame {frame}: every product of the acquisition, {eula} EULA",
            options=OrderOptions(license=eula),
            valid_options={"license": list(EULAS)},
            details=details,
        )

    async def _listing(self) -> AsyncIterator[dict[str, Any]]:
        """The account's purchases, newest first (bounded by :data:`MAX_LIST_PAGES`)."""
        params: dict[str, str] = {"limit": str(LIST_PAGE_SIZE)}
        if self.api_version == "v2":
            params["contractID"] = self._contract()
        for _ in range(MAX_LIST_PAGES):
            body = checked(
                await self._send("GET", f"{self._path}/purchases", params=params), "purchase list"
            )
            records = body.get("data") if isinstance(body, dict) else None
            if not isinstance(records, list):
                raise ProviderBadResponse(NAME, "purchase list has no 'data' list")
            for record in records:
                if isinstance(record, dict):
                    yield record
            cursor = body.get("cursor")
            if not isinstance(cursor, str) or not cursor:
                return
            params["cursor"] = cursor

    async def place_order(
        self, collection_id: str, item_id: str, options: OrderOptions, reference: str
    ) -> NativeOrder:
        """Buy the item's frame (v2) or the item (v1), sending ``reference``."""
        eula = eula_for(options, self.api_version)
        contract = self._contract()
        if eula is None:
            await self._item(collection_id, item_id)
            body = {"itemIds": [item_id], "contractId": contract, "reference": reference}
            made = checked(await self._send("POST", f"{self._path}/purchases", json=body), "item")
            purchase_id = made.get("purchaseId") if isinstance(made, dict) else None
            if not isinstance(purchase_id, str):
                raise ProviderBadResponse(NAME, "v1 purchase answer has no purchaseId")
            return await self.get_order(purchase_id)
        frame = await self._frame(collection_id, item_id)
        async for record in self._listing():
            if (
                record.get("frameID") == frame
                and record.get("eula") == eula
                and record.get("status") in LIVE_STATUSES
            ):
                order = _order(record, self.api_version)
                return replace(order, details={**order.details, "reused": True})
        body = {"frameID": frame, "contractID": contract, "eula": eula, "reference": reference}
        made = checked(await self._send("POST", f"{self._path}/purchases", json=body), "frame")
        return _order(made, self.api_version)

    async def find_orders(self, reference: str) -> list[NativeOrder]:
        """Purchases carrying ``reference`` (the bridge's order id)."""
        return [
            _order(record, self.api_version)
            async for record in self._listing()
            if record.get("reference") == reference
        ]

    async def get_order(self, native_id: str) -> NativeOrder:
        """The purchase ``native_id`` now."""
        path = f"{self._path}/purchases/{native_id}"
        return _order(checked(await self._send("GET", path), "purchase"), self.api_version)

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """ICEYE purchases cannot be canceled through the API: Conflict (unless already)."""
        order = await self.get_order(native_id)
        if order.state == "canceled":
            return order
        raise Conflict(
            "ICEYE purchases cannot be canceled through the Constellation API "
            "(only tasks can); ask ICEYE support to cancel it"
        )

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """A fresh URL: quicklooks from the catalog item, data from the purchase's products."""
        if asset_key in self._quicklooks.get(collection_id, ()) or native_order_id is None:
            asset = (await self._item(collection_id, item_id))["assets"].get(asset_key)
            if asset is None:
                raise NotFound(f"ICEYE item {item_id} has no asset {asset_key!r}")
            if not QUICKLOOK_ROLES & set(asset.get("roles") or ()):
                raise Conflict(f"asset {asset_key!r} of {item_id} needs an ICEYE purchase")
            return AssetLocation(asset["href"], url_expiry(asset["href"]), asset.get("type"))
        if self.api_version == "v1":
            raise Conflict(
                "ICEYE API v1 delivers purchases to the contract's pre-configured bucket; "
                "downloads through the bridge need API v2"
            )
        if native_order_id.startswith(TASK_ORDER_PREFIX):
            task_id = native_order_id.removeprefix(TASK_ORDER_PREFIX)
            path = f"/api/tasking/v2/tasks/{task_id}/products"
        else:
            path = f"{self._path}/purchases/{native_order_id}/products"
        body = checked(await self._send("GET", path), "purchase")
        products = body.get("data") if isinstance(body, dict) else None
        if not isinstance(products, list):
            raise ProviderBadResponse(NAME, "purchase products have no 'data' list")
        types = PRODUCT_TYPES_BY_COLLECTION.get(collection_id, ())
        product = pick_product(products, item_id, types)
        if product is None and native_order_id.startswith(TASK_ORDER_PREFIX):
            raise Conflict(f"ICEYE task {native_order_id} has not delivered {item_id} (yet)")
        if product is None:
            order = await self.get_order(native_order_id)
            if order.state in ("failed", "canceled"):
                raise Conflict(f"ICEYE purchase {native_order_id} is {order.native_status}")
            if order.state != "succeeded":
                raise Conflict(f"ICEYE purchase {native_order_id} is not delivered yet")
            raise NotFound(f"ICEYE purchase {native_order_id} does not deliver {item_id}")
        # Delivered files carry product-specific keys (grd-tif, ...): look them up by the
        # bridge's stable key.
        asset = stable_assets(product.get("assets")).get(asset_key)
        if asset is None:
            raise NotFound(f"ICEYE product {item_id} has no asset {asset_key!r}")
        return AssetLocation(asset["href"], url_expiry(asset["href"]), asset.get("type"))
