"""Capella's order book: prices, funds, and orders whose status moves with time.

What the seed and the SDK pin down: ``POST /orders/review`` answers ``authorized`` (or a
denial with ``AUTHORIZATION_INSUFFICIENT_FUNDS``) and the cost of the order and of each
product; ``POST /orders`` answers the order (``orderId``, ``orderStatus``, ``orderDate``,
``expirationDate`` one hour later, items with ``previouslyOrdered``); ``completed`` orders
can be downloaded; ``rejected`` ones carry no items. Assumed, and kept here:

* Status moves ``submitted`` -> ``pending`` (products being staged in the delivery
  bucket) -> ``completed``, one ``capella_order_step_s`` (:mod:`.settings`, default 2 s)
  each, computed from the order's creation time. An order of products the organization
  already bought is ``completed`` at once (nothing to stage), as in the seed's example.
* Prices (USD) by collection type, CPHD at twice the price; products the organization
  already ordered cost nothing ("previously ordered products are not charged").
* Each organization has a budget (``capella_budget_usd``, default ten million) that
  accepted orders draw down; an order beyond it is created ``rejected``.
* The review body: ``orderDetails.summary`` (``subtotal``, ``total``, ``currency``) and
  ``orderDetails.lineItems`` (one per product with ``price`` and ``previouslyOrdered``),
  amounts as JSON numbers in US dollars. Its exact shape is unconfirmed.
* ``collectionDate`` is the collect's ``datetime``; ``size`` the data file's bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.simulators.capella.archive import Archive

CURRENCY = "USD"
DEFAULT_STEP_S = 2.0
DEFAULT_TTL_S = 3600.0
DEFAULT_BUDGET_USD = 10_000_000.0
PRICE_USD = {  # by capella:collection_type
    "spotlight": 1500.0,
    "spotlight_ultra": 2500.0,
    "sliding_spotlight": 1250.0,
    "stripmap_20": 1000.0,
}
DEFAULT_PRICE_USD = 1000.0
PRODUCT_FACTOR = {"CPHD": 2.0}


class OrderError(ValueError):
    """A request Capella refuses: HTTP status, message and Capella error code."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def iso_ms(seconds: float) -> str:
    """``2023-03-28T22:27:55.763Z``: Capella's timestamp form (milliseconds, Z)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")[:23] + "Z"


def usd(amount: float) -> str:
    """``$1,000.00``, as Capella's denial messages write amounts."""
    return f"${amount:,.2f}"


def price_usd(item: dict[str, Any]) -> float:
    """The list price of one archive product."""
    props = item["properties"]
    base = PRICE_USD.get(props.get("capella:collection_type", ""), DEFAULT_PRICE_USD)
    return round(base * PRODUCT_FACTOR.get(props["sar:product_type"], 1.0), 2)


@dataclass
class Order:
    """One native order as the book keeps it."""

    order_id: str
    user_id: str
    organization_id: str
    created: float
    items: list[dict[str, Any]]
    cost_usd: float
    rejected: bool = False
    contract_id: str | None = None

    def status(self, now: float, step_s: float) -> str:
        """The order's status at ``now``."""
        if self.rejected:
            return "rejected"
        if all(i["previouslyOrdered"] for i in self.items):
            return "completed"
        elapsed = now - self.created
        if elapsed < step_s:
            return "submitted"
        return "pending" if elapsed < 2 * step_s else "completed"


@dataclass
class OrderBook:
    """Every organization's orders and spending, in memory (one book per simulator app)."""

    archive: Archive
    clock: Callable[[], float]
    """The simulator's one clock (``SimulatorConfig.clock``)."""
    step_s: float = DEFAULT_STEP_S
    ttl_s: float = DEFAULT_TTL_S
    budget_usd: float = DEFAULT_BUDGET_USD
    prepaid: Callable[[str], frozenset[str]] = lambda organization_id: frozenset()
    """Granules an organization holds without an order (its tasks' deliveries)."""
    orders: dict[str, Order] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def resolve(self, body: Any) -> list[dict[str, Any]]:
        """The archive items an order body names (deduplicated, in order).

        Raises:
            OrderError: 400 ``ORDER_VALIDATION_ERROR`` for a malformed body or an unknown
                product.
        """
        entries = body.get("items") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise OrderError(400, "items must be a non-empty list", "ORDER_VALIDATION_ERROR")
        out: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if isinstance(entry, dict) and "productType" in entry:
                raise OrderError(
                    400, "analytic products are not offered here", "ORDER_VALIDATION_ERROR"
                )
            granule = entry.get("granuleId") if isinstance(entry, dict) else None
            collection = entry.get("collectionId") if isinstance(entry, dict) else None
            if not isinstance(granule, str) or not isinstance(collection, str):
                raise OrderError(
                    400, "each item needs collectionId and granuleId", "ORDER_VALIDATION_ERROR"
                )
            index = self.archive.by_id.get(granule)
            item = self.archive.items[index] if index is not None else None
            if item is None or item["collection"] != collection:
                raise OrderError(
                    400,
                    f"granule {granule} not found in collection {collection}",
                    "ORDER_VALIDATION_ERROR",
                )
            out[granule] = item
        return list(out.values())

    def owned(self, organization_id: str) -> frozenset[str]:
        """Granule ids the organization holds: ordered (orders not rejected) or tasked."""
        ordered = frozenset(
            i["granuleId"]
            for o in self.orders.values()
            if o.organization_id == organization_id and not o.rejected
            for i in o.items
        )
        return ordered | self.prepaid(organization_id)

    def available_usd(self, organization_id: str) -> float:
        """What the organization can still spend (orders and tasks draw on one budget)."""
        return round(self.budget_usd - self.spent.get(organization_id, 0.0), 2)

    def charge(self, organization_id: str, amount_usd: float) -> bool:
        """Draw ``amount_usd`` from the organization's budget; False (nothing drawn) beyond it."""
        if amount_usd > self.available_usd(organization_id):
            return False
        self.spent[organization_id] = self.spent.get(organization_id, 0.0) + amount_usd
        return True

    def review(self, organization_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The ``POST /orders/review`` answer for ``items``."""
        owned = self.owned(organization_id)
        lines = []
        for item in items:
            previously = item["id"] in owned
            lines.append(
                {
                    "collectionId": item["collection"],
                    "granuleId": item["id"],
                    "previouslyOrdered": previously,
                    "price": 0.0 if previously else price_usd(item),
                    "currency": CURRENCY,
                }
            )
        total = round(sum(line["price"] for line in lines), 2)
        answer: dict[str, Any] = {
            "authorized": total <= self.available_usd(organization_id),
            "orderDetails": {
                "summary": {"subtotal": total, "total": total, "currency": CURRENCY},
                "lineItems": lines,
            },
        }
        if not answer["authorized"]:
            answer["authorizationDenialReason"] = {
                "message": "This order will exceed your active contract period's value "
                f"commitment. Order cost: {usd(total)}; Available Commitment: "
                f"{usd(max(0.0, self.available_usd(organization_id)))}",
                "code": "AUTHORIZATION_INSUFFICIENT_FUNDS",
            }
        return answer

    def place(
        self,
        user: dict[str, Any],
        items: list[dict[str, Any]],
        sizes: dict[str, int],
        contract_id: str | None,
    ) -> Order:
        """Create an order (``rejected`` when beyond the organization's funds)."""
        org = user["organizationId"]
        review = self.review(org, items)
        lines = review["orderDetails"]["lineItems"]
        order = Order(
            order_id=str(uuid.uuid4()),
            user_id=user["id"],
            organization_id=org,
            created=self.clock(),
            items=[],
            cost_usd=review["orderDetails"]["summary"]["total"],
            rejected=not review["authorized"],
            contract_id=contract_id,
        )
        if not order.rejected:
            self.spent[org] = self.spent.get(org, 0.0) + order.cost_usd
            order.items = [
                {
                    "collectionId": item["collection"],
                    "granuleId": item["id"],
                    "type": item["properties"]["sar:instrument_mode"],
                    "size": sizes.get(item["id"], 0),
                    "previouslyOrdered": line["previouslyOrdered"],
                    "collectionDate": item["properties"]["datetime"][:23] + "Z",
                }
                for item, line in zip(items, lines, strict=True)
            ]
        self.orders[order.order_id] = order
        return order

    def get(self, organization_id: str, order_id: str) -> Order:
        """The organization's order ``order_id``.

        Raises:
            OrderError: 404 when there is none (another organization's orders included).
        """
        order = self.orders.get(order_id)
        if order is None or order.organization_id != organization_id:
            raise OrderError(404, f"Order {order_id} not found", "NOT_FOUND")
        return order

    def expired(self, order: Order) -> bool:
        """True once the order's download window has closed."""
        return self.clock() > order.created + self.ttl_s

    def to_json(self, order: Order) -> dict[str, Any]:
        """The order as ``POST /orders`` and ``GET /orders[/{id}]`` answer it."""
        body: dict[str, Any] = {
            "userId": order.user_id,
            "organizationId": order.organization_id,
            "orderDate": iso_ms(order.created),
            "expirationDate": iso_ms(order.created + self.ttl_s),
            "orderId": order.order_id,
            "orderStatus": order.status(self.clock(), self.step_s),
        }
        if not order.rejected:
            body["items"] = order.items
        return body
