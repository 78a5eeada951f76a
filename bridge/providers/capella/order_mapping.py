"""Capella orders as the bridge sees them: pure mappings, golden-tested.

Native order status -> STAC Order extension state (Capella documents ``completed`` and
``rejected``; the other words are the simulator's assumed progression, and any word not
listed counts as still in progress):

=============  ===========  ==========================================================
Capella        bridge       why
=============  ===========  ==========================================================
submitted      ordered      accepted, products not yet being staged
pending        shipping     products being copied to the delivery bucket
completed      succeeded    downloadable until ``expirationDate``
rejected       failed       refused (funds, validation); the order has no items
canceled       canceled     (not offered by the API; mapped should it appear)
=============  ===========  ==========================================================

Prices: Capella reviews quote US dollars as JSON numbers; the bridge keeps US cents.
Options: Capella sells its archive under one end-user license to the ordering
organization, with no bundles or seats to choose.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlparse

from bridge.core.contract import NativeOrder, OrderOptions, OrderState, Quote
from bridge.core.timeutil import parse_instant
from bridge.errors import (
    BadRequest,
    BridgeError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PaymentRequired,
    ProviderAuthError,
    ProviderBadResponse,
)

LICENSES = ("standard",)
"""Capella's one archive license (its EULA, for the ordering organization)."""
STATE_BY_STATUS: dict[str, OrderState] = {
    "submitted": "ordered",
    "review": "ordered",
    "pending": "shipping",
    "processing": "shipping",
    "completed": "succeeded",
    "rejected": "failed",
    "failed": "failed",
    "error": "failed",
    "canceled": "canceled",
    "cancelled": "canceled",
}
IN_PROGRESS: OrderState = "ordered"
VALID_OPTIONS: dict[str, list[str]] = {"license": list(LICENSES), "bundle": [], "seats": ["1"]}


def normalize_options(options: OrderOptions) -> OrderOptions:
    """``options`` with Capella's defaults filled in.

    Raises:
        BadRequest: a license, bundle or seat count Capella does not offer.
    """
    license_ = options.license if options.license is not None else LICENSES[0]
    if license_ not in LICENSES:
        raise BadRequest(
            f"Capella license {options.license!r} is not offered; valid: {', '.join(LICENSES)}"
        )
    if options.bundle is not None:
        raise BadRequest(f"Capella offers no bundles (got {options.bundle!r}); valid: none")
    if options.seats not in (None, 1):
        raise BadRequest(
            f"Capella licenses the ordering organization, not seats; valid seats: 1 "
            f"(got {options.seats})"
        )
    return OrderOptions(license=license_, bundle=None, seats=1)


def usd_to_cents(value: Any) -> int:
    """Dollars (a JSON number, or text like ``"$1,500.00"``) -> whole US cents.

    Raises:
        ValueError: not an amount.
    """
    if isinstance(value, bool):
        raise ValueError("not an amount")
    text = str(value).replace("$", "").replace(",", "").strip()
    try:
        cents = Decimal(text) * 100
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _containers(review: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a review may carry its cost: ``orderDetails`` (the simulator's reading of the
    seed), ``order`` (Capella's tasking cost review: ``order.summary.total``,
    ``order.lineItems[]``) or the answer itself. The archive review's shape is not public.
    """
    found = [review.get("orderDetails"), review.get("order"), review]
    return [c for c in found if isinstance(c, dict)]


def _line_item(review: dict[str, Any], granule_id: str) -> dict[str, Any] | None:
    for container in _containers(review):
        lines = container.get("lineItems")
        for line in lines if isinstance(lines, list) else ():
            if isinstance(line, dict) and line.get("granuleId") == granule_id:
                return line
    return None


def _amount(source: dict[str, Any]) -> Any:
    return next((source[k] for k in ("price", "total", "cost") if source.get(k) is not None), None)


def review_price(review: dict[str, Any], granule_id: str) -> tuple[int, str] | None:
    """(cents, currency) the review quotes for one product; None when it states no
    readable cost (an unknown shape is "price unavailable", never an error)."""
    line = _line_item(review, granule_id)
    sources = [line] if line is not None else []
    for container in _containers(review):
        summary = container.get("summary")
        if isinstance(summary, dict):
            sources.append(summary)
    for source in sources:
        amount = _amount(source)
        if amount is None:
            continue
        try:
            cents = usd_to_cents(amount)
        except ValueError:
            return None
        return cents, str(source.get("currency") or "USD")
    return None


def denial_message(review: dict[str, Any]) -> str:
    """Why Capella would refuse the order (its own words), or a generic reason."""
    reason = review.get("authorizationDenialReason") or {}
    message = reason.get("message") if isinstance(reason, dict) else None
    return str(message or "order not authorized (insufficient funds)")


def quote_from_review(review: dict[str, Any], item: dict[str, Any], options: OrderOptions) -> Quote:
    """A bridge quote from a ``POST /orders/review`` answer for one product.

    An authorized review without a readable cost (the SDK's own mocks answer only
    ``{"authorized": true}``) gives a quote whose price is unavailable.

    Raises:
        PaymentRequired: the review refuses the order and names no cost.
    """
    authorized = review.get("authorized") is True
    price = review_price(review, item["id"])
    if price is None and not authorized:
        raise PaymentRequired(f"capella: {denial_message(review)}")
    line = _line_item(review, item["id"]) or {}
    props = item.get("properties") or {}
    kind = [props.get(k) for k in ("sar:instrument_mode", "capella:collection_type")]
    named = ", ".join(str(k) for k in kind if k)
    covers = (
        f"Capella {props.get('product:type') or 'archive'} product"
        + (f" ({named})" if named else "")
        + ", standard end-user license for the ordering organization"
    )
    details: dict[str, Any] = {
        "authorized": authorized,
        "previously_ordered": line.get("previouslyOrdered") is True,
    }
    if price is None:
        details["price"] = "unavailable"
    if not authorized:
        details["denial"] = denial_message(review)
    amount, currency = price if price is not None else (None, "USD")
    return Quote(amount, currency, covers, options, dict(VALID_OPTIONS), details)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except BadRequest:  # what parse_instant raises for text that is no date-time
        return None


def order_from_native(
    body: dict[str, Any], amount: int | None = None, currency: str | None = None
) -> NativeOrder:
    """A Capella order body -> :class:`NativeOrder` (``amount`` from the review, if known).

    Raises:
        ProviderBadResponse: no ``orderId``.
    """
    order_id = body.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise ProviderBadResponse("capella", "order without orderId")
    status = str(body.get("orderStatus") or "")
    items = [
        {
            "collectionId": i.get("collectionId"),
            "granuleId": i.get("granuleId"),
            "previouslyOrdered": bool(i.get("previouslyOrdered", False)),
            "size": i.get("size"),
        }
        for i in body.get("items") or ()
        if isinstance(i, dict)
    ]
    return NativeOrder(
        native_id=order_id,
        state=STATE_BY_STATUS.get(status.lower(), IN_PROGRESS),
        native_status=status,
        amount=amount,
        currency=currency if amount is not None else None,
        expires_at=_instant(body.get("expirationDate")),
        reference=None,  # Capella keeps no client reference: reconcile by item
        details={"order_date": body.get("orderDate"), "items": items},
    )


def names_item(body: dict[str, Any], collection: str, granule_id: str) -> bool:
    """True when a native order lists the product ``granule_id`` of ``collection``."""
    return any(
        isinstance(i, dict)
        and i.get("granuleId") == granule_id
        and i.get("collectionId")
        in (
            collection,
            None,
        )
        for i in body.get("items") or ()
    )


def expires_from_href(href: str) -> datetime | None:
    """When an S3-presigned href stops working (its ``Expires``), if it says."""
    values = parse_qs(urlparse(href).query).get("Expires")
    try:
        return datetime.fromtimestamp(int(values[0]), UTC) if values else None
    except (ValueError, OverflowError):
        return None


_FORBIDDEN_CODES = frozenset({"CONTRACT_NOT_FOUND", "COLLECTION_ACCESS_DENIED", "NOT_AUTHORIZED"})
_BAD_REQUEST_CODES = frozenset({"ORDER_VALIDATION_ERROR", "VALIDATION_ERROR"})
# Bodies without a code: the SDK names the error by a snippet of its message
# (capella-console-client exceptions.py, ERROR_CODES_BY_MESSAGE_SNIP).
_CODE_BY_SNIPPET = (
    ("order expired", "ORDER_EXPIRED"),
    ("not permitted to access any of the collection", "COLLECTION_ACCESS_DENIED"),
    ("not authorized to perform", "NOT_AUTHORIZED"),
)


def native_error(status: int, body: Any) -> tuple[str, str]:
    """``(code, message)`` of a Capella error body, whatever its documented shape.

    Shapes: ``{"error": {"message", "code", "data"?}}``, ``{"error": "<message>"}`` and the
    gateway's ``{"message": "Unauthorized"}`` (capella SDK ``exceptions.py`` and its tests).
    """
    inner = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(inner, str):
        message, code = inner, ""
    elif isinstance(inner, dict):
        message = str(inner.get("message") or inner.get("Message") or "")
        code = str(inner.get("code") or "")
    else:
        message, code = "", ""
    if not code:
        lowered = message.lower()
        code = next((c for snip, c in _CODE_BY_SNIPPET if snip in lowered), "")
    return code, (message or f"HTTP {status}")[:300]


def error_from_native(status: int, body: Any) -> BridgeError | None:
    """The bridge error for a failed Capella call; None for the generic mapping.

    The code decides where the body has one (or a message the SDK recognises), the
    status otherwise. Native messages name orders, products and collections, never
    credentials, so they are passed on.
    """
    code, message = native_error(status, body)
    text = f"capella: {message}"
    if status == 401 or code in ("INVALID_API_KEY", "INVALID_TOKEN"):
        return ProviderAuthError("capella", f"API key refused: {message}", status=status)
    if code == "ORDER_EXPIRED" or status == 410:
        return Gone(text)
    if code in _FORBIDDEN_CODES or status == 403:
        return Forbidden(text)
    if status == 404:
        return NotFound(text)
    if status == 409:
        return Conflict(text)
    if status == 402:
        return PaymentRequired(text)
    if code in _BAD_REQUEST_CODES or status in (400, 422):
        return BadRequest(text)
    return None
