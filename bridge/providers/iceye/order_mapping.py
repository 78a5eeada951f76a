"""Pure mapping for ICEYE purchases: options → EULA, native purchase → NativeOrder, and
picking an asset out of a purchase's products.

Status mapping (ICEYE → STAC Order extension): ``received`` (accepted, not yet being
processed) → ``ordered``; ``active`` (being produced and delivered) → ``shipping``;
``closed`` (complete) → ``succeeded``; ``failed`` → ``failed``; ``canceled`` →
``canceled``. An unknown word maps to ``ordered`` (still in ICEYE's hands) and is kept in
``native_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bridge.core.contract import NativeOrder, OrderOptions, OrderState
from bridge.errors import BadRequest

EULAS = ("STANDARD", "GOVERNMENT", "MULTI")
"""The seed's v2 license types; STANDARD is the standard choice."""
DEFAULT_EULA = "STANDARD"
STATES: Mapping[str, OrderState] = {
    "received": "ordered",
    "active": "shipping",
    "closed": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
}
LIVE_STATUSES = frozenset({"received", "active", "closed"})
"""Purchases that deliver (or will): one of these is reused rather than bought again."""


def eula_for(options: OrderOptions, api_version: str) -> str | None:
    """The EULA to buy with ``options`` (None in v1, which has no EULA).

    Raises:
        BadRequest: an unknown EULA, a EULA in v1, or an option ICEYE does not sell
            (bundles: a purchase always delivers every product of the frame; seats: ICEYE
            licenses organisations, MULTI covering several).
    """
    if options.bundle is not None:
        raise BadRequest(
            "ICEYE sells no bundles: a purchase delivers every product of the frame "
            "(leave bundle unset)"
        )
    if options.seats is not None:
        raise BadRequest("ICEYE licenses have no seats (use the MULTI EULA for several users)")
    if api_version == "v1":
        if options.license is not None:
            raise BadRequest("ICEYE API v1 purchases take no EULA (leave license unset)")
        return None
    eula = options.license or DEFAULT_EULA
    if eula not in EULAS:
        raise BadRequest(f"unknown ICEYE EULA {eula!r}; valid: {', '.join(EULAS)}")
    return eula


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 timestamp, or None."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def order_from_purchase(record: Mapping[str, Any], api_version: str) -> NativeOrder:
    """The NativeOrder of a v2 ``PurchaseObject`` or a v1 ``PurchasedItem``.

    Raises:
        KeyError, TypeError: no id or status (the adapter reports a bad response).
    """
    status = record["status"]
    if not isinstance(status, str) or not isinstance(record["id"], str):
        raise TypeError("purchase id and status must be strings")
    details: dict[str, Any] = {"api_version": api_version}
    created = parse_time(record.get("createdAt"))
    if created is not None:
        details["created_at"] = created.isoformat()
    if api_version == "v2":
        for native, name in (("frameID", "frame_id"), ("contractID", "contract_id")):
            if record.get(native) is not None:
                details[name] = record[native]
        if record.get("eula") is not None:
            details["eula"] = record["eula"]
    reference = record.get("reference")
    return NativeOrder(
        native_id=record["id"],
        state=STATES.get(status.lower(), "ordered"),
        native_status=status,
        reference=reference if isinstance(reference, str) else None,
        details=details,
    )


def url_expiry(href: str) -> datetime | None:
    """When a presigned URL stops working: its S3 ``Expires`` parameter (unix seconds)."""
    values = parse_qs(urlsplit(href).query).get("Expires")
    if not values:
        return None
    try:
        return datetime.fromtimestamp(int(values[0]), UTC)
    except (ValueError, OverflowError):
        return None


def pick_product(
    products: list[Any], item_id: str, product_types: tuple[str, ...]
) -> dict[str, Any] | None:
    """The delivered product for ``item_id``: by id, else (item ids can change on
    reprocessing; frames cannot) the one product of the item's collection's types."""
    candidates = [p for p in products if isinstance(p, dict)]
    for product in candidates:
        if product.get("id") == item_id:
            return product
    same_type = [
        p
        for p in candidates
        if isinstance(p.get("properties"), dict)
        and p["properties"].get("sar:product_type") in product_types
    ]
    return same_type[0] if len(same_type) == 1 else None


def webhook_purchase_id(payload: Any) -> str | None:
    """The purchase id an ICEYE notification names.

    The Notifications API payload is not documented in the seed; assumed to carry
    ``purchaseID`` (or ``purchaseId``) at the top level or under ``data``.
    """
    for holder in (payload, payload.get("data") if isinstance(payload, dict) else None):
        if isinstance(holder, dict):
            for name in ("purchaseID", "purchaseId"):
                value = holder.get(name)
                if isinstance(value, str) and value:
                    return value
    return None
