"""Capella deliveries after their hour: find an active order, else submit again (free).

A Capella order's ``expirationDate`` is one hour after ordering (seed 003); after that its
download answers "order expired". Capella's own SDK then looks for an active order that
holds the products and otherwise submits a new one (``order.py`` ``get_order``,
``client.py`` ``submit_order(check_active_orders=True)``), and products the organization
already bought are not charged again (seed 003: "you have previously ordered a product,
you will not be charged"). The bridge does the same, so an expired delivery is renewed
rather than answered 410 Gone.

Money stays safe: a resubmission is reviewed first and placed only when the review states
no charge for the product (or states no readable cost, which the seed says is free for a
product already bought); a stated charge is refused with the price named.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bridge.core.contract import NativeOrder
from bridge.core.timeutil import parse_instant
from bridge.errors import BadRequest, Conflict, Gone, PaymentRequired, ProviderBadResponse
from bridge.providers.capella.order_mapping import (
    denial_message,
    names_item,
    order_from_native,
    review_price,
)

_REFUSED = frozenset({"rejected", "failed", "error", "canceled", "cancelled"})
MAX_CANDIDATES = 3
"""Later orders of the product tried before submitting again (newest first)."""


def _expiry(order: dict[str, Any]) -> datetime | None:
    value = order.get("expirationDate")
    try:
        return parse_instant(value) if isinstance(value, str) else None
    except BadRequest:  # what parse_instant raises for text that is no date-time
        return None


class DeliveryRenewal:
    """The renewal half of :class:`~bridge.providers.capella.order_client.CapellaOrdering`."""

    name: str
    # Provided by the class this one is mixed into.
    _call: Callable[..., Awaitable[Any]]
    _customer_id: Callable[[], Awaitable[str]]
    _delivered_record: Callable[[str, str], Awaitable[dict[str, Any]]]
    _post_order: Callable[[str, str, str], Awaitable[dict[str, Any]]]

    async def _current_delivery(
        self, collection_id: str, native_collection: str, item_id: str, order_id: str
    ) -> dict[str, Any]:
        """The product's delivered record from ``order_id``, or from its renewal."""
        try:
            return await self._delivered_record(order_id, item_id)
        except Gone:
            pass
        staging = None
        for candidate in await self._later_orders(native_collection, item_id, order_id):
            try:
                return await self._delivered_record(candidate, item_id)
            except Gone:
                continue  # expired too
            except Conflict:
                staging = staging or candidate  # not completed yet
        if staging is not None:
            # A renewal is already under way: wait for it rather than order once more.
            raise Conflict(
                f"capella: the expired delivery is being prepared again (order {staging}); "
                "retry shortly"
            )
        renewed = await self._resubmit(collection_id, item_id)
        if renewed.state != "succeeded":
            raise Conflict(
                f"capella: the expired delivery is being prepared again (order "
                f"{renewed.native_id} is {renewed.native_status}); retry shortly"
            )
        return await self._delivered_record(renewed.native_id, item_id)

    async def _later_orders(self, collection: str, item_id: str, expired_id: str) -> list[str]:
        """Ids of live (not refused) orders of the product expiring after ``expired_id``."""
        listed = await self._call(
            "GET", "/orders", params={"customerId": await self._customer_id()}
        )
        if not isinstance(listed, list):
            raise ProviderBadResponse(self.name, "order list is not a list")
        orders = [o for o in listed if isinstance(o, dict) and names_item(o, collection, item_id)]
        # Compared with the expired order's own expiry, not with this machine's clock.
        expired = next((o for o in orders if o.get("orderId") == expired_id), {})
        floor = _expiry(expired) or datetime.min.replace(tzinfo=UTC)
        later = [
            (expiry, o["orderId"])
            for o in orders
            if (expiry := _expiry(o)) is not None
            and expiry > floor
            and str(o.get("orderStatus") or "").lower() not in _REFUSED
            and isinstance(o.get("orderId"), str)
        ]
        later.sort(reverse=True)
        return [order_id for _, order_id in later[:MAX_CANDIDATES]]

    async def _resubmit(self, collection_id: str, item_id: str) -> NativeOrder:
        """Order the product again, only when Capella states it costs nothing."""
        review = await self._post_order("/orders/review", collection_id, item_id)
        if review.get("authorized") is not True:
            raise PaymentRequired(f"capella: {denial_message(review)}")
        price = review_price(review, item_id)
        if price is not None and price[0] > 0:
            raise Gone(
                f"capella: the delivery of {item_id} expired and ordering it again would "
                f"cost {price[0] / 100:.2f} {price[1]}; order it again to renew it"
            )
        created = await self._post_order("/orders", collection_id, item_id)
        return order_from_native(created, *(price or (None, None)))
