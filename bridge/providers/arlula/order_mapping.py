"""Arlula orders, pure: options → native choices and price, native orders → NativeOrder.

Options (:class:`OrderOptions`), from the item's fresh search result:

* 2023-01 — ``license``: a license ``href`` (the native ``eula``) or its name, case
  insensitive; ``bundle``: a ``bundleKey``; ``seats``: selects among the licenses by the
  seat count their names declare ("Standard + 1-5 seats" → 5, "Enterprise"/"unlimited" →
  any, otherwise 1; Arlula sells seats as license loadings, the name parsing is
  assumed). Price = bundle price * (1 + loading %) + loading amount, rounded up to a
  dollar (the SDK's ``calculate_price``). Defaults: the first bundle, the cheapest license
  covering the seats.
* 2020-12 (seed 002) — one ``eula`` per result and no bundles; ``seats`` picks the price
  range: base + that range's ``additional``.

Arlula stores no client reference on an order (``team`` and ``payment`` are account ids),
so :attr:`NativeOrder.reference` stays None and the bridge reconciles by scene.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.core.contract import NativeOrder, OrderOptions, OrderState, Quote
from bridge.core.timeutil import parse_instant
from bridge.errors import BadRequest

CURRENCY = "USD"

# Native order / dataset status → STAC Order extension state. "pending" (the supplier has
# not confirmed yet) and "processing" are accepted orders being worked on; only
# post-processing prepares the delivery itself.
STATES: dict[str, OrderState] = {
    "created": "pending",
    "pending-approval": "pending",
    "pending-screen": "pending",  # node SDK src/orders/status.ts (custom orders, screening)
    "pending": "ordered",
    "processing": "ordered",
    "rescheduled": "ordered",
    "manual": "ordered",
    "post-processing": "shipping",
    "complete": "succeeded",
    "rejected": "failed",
    "failed": "failed",
    "cancelled": "canceled",
}

_SEAT_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)\s*seats?", re.IGNORECASE)


@dataclass(frozen=True)
class Choice:
    """What to send natively for an order, and what it costs."""

    ordering_id: str
    eula: str
    bundle: str | None  # None in 2020-12 (no bundles)
    seats: int
    amount: int


def _dollars(cents: float) -> int:
    return int(math.ceil(cents / 100) * 100)


def seat_capacity(license: dict[str, Any]) -> int | None:
    """How many seats a license covers (None: any number)."""
    name = str(license.get("name", ""))
    found = _SEAT_RANGE.search(name)
    if found:
        return int(found.group(2))
    return None if re.search(r"enterprise|unlimited", name, re.IGNORECASE) else 1


def _bad(option: str, value: Any, valid: list[str]) -> BadRequest:
    listed = ", ".join(valid) or "none"
    return BadRequest(f"arlula: {option} {value!r} is not offered; valid: {listed}")


def _seats(options: OrderOptions) -> int:
    seats = 1 if options.seats is None else options.seats
    if seats < 1:
        raise BadRequest("arlula: seats must be at least 1")
    return seats


def _choose_2023(props: dict[str, Any], options: OrderOptions) -> tuple[Choice, dict[str, Any]]:
    bundles, licenses = props["arlula:bundles"], props["arlula:licenses"]
    keys = [b["key"] for b in bundles]
    if options.bundle is not None and options.bundle not in keys:
        raise _bad("bundle", options.bundle, keys)
    bundle = bundles[keys.index(options.bundle)] if options.bundle is not None else bundles[0]
    seats = _seats(options)

    def price(lic: dict[str, Any]) -> int:
        return _dollars(bundle["price"] * (1 + lic["loadingPercent"] / 100) + lic["loadingAmount"])

    def covers(lic: dict[str, Any]) -> bool:
        cap = seat_capacity(lic)
        return cap is None or seats <= cap

    if options.license is not None:
        wanted = options.license.casefold()
        found = [x for x in licenses if wanted in (x["href"].casefold(), x["name"].casefold())]
        if not found:
            raise _bad("license", options.license, [f"{x['name']} ({x['href']})" for x in licenses])
        if not covers(found[0]):
            raise BadRequest(f"arlula: license {found[0]['name']!r} does not cover {seats} seats")
        license = found[0]
    else:
        fitting = [x for x in licenses if covers(x)]
        if not fitting:
            raise BadRequest(f"arlula: no license covers {seats} seats")
        license = min(fitting, key=price)
    choice = Choice(
        props["arlula:ordering_id"], license["href"], bundle["key"], seats, price(license)
    )
    details = {
        "bundle_name": bundle["name"],
        "bundle_price_cents": bundle["price"],
        "license_name": license["name"],
        "loading_percent": license["loadingPercent"],
        "loading_amount_cents": license["loadingAmount"],
    }
    return choice, details


def _tiers(price: dict[str, Any]) -> list[str]:
    tiers = price.get("seats") or []
    if not tiers:
        return ["1+"]
    return [f"{t['min']}+" if t["max"] == 0 else f"{t['min']}-{t['max']}" for t in tiers]


def _choose_2020(props: dict[str, Any], options: OrderOptions) -> tuple[Choice, dict[str, Any]]:
    eula, price = props["arlula:eula"], props["arlula:price"]
    if options.license is not None and options.license.casefold() != eula.casefold():
        raise _bad("license", options.license, [eula])
    if options.bundle is not None:
        raise _bad("bundle", options.bundle, [])  # API 2020-12 sells one product per scene
    seats = _seats(options)
    additional: int | None = 0 if not price["seats"] else None
    for tier in price["seats"]:
        if tier["min"] <= seats and (tier["max"] == 0 or seats <= tier["max"]):
            additional = int(tier["additional"])
            break
    if additional is None:
        raise _bad("seats", seats, _tiers(price))
    choice = Choice(props["arlula:ordering_id"], eula, None, seats, int(price["base"]) + additional)
    return choice, {"base_cents": price["base"], "seats_additional_cents": additional}


def choose(props: dict[str, Any], api_version: str, options: OrderOptions) -> tuple[Choice, Quote]:
    """The native choices for ``options`` on an item (its STAC properties) and their quote.

    Raises:
        BadRequest: an option the item is not sold with (the message lists the valid ones).
    """
    if api_version == "2023-01":
        choice, details = _choose_2023(props, options)
        licenses = props["arlula:licenses"]
        valid = {
            "license": [x["href"] for x in licenses],
            "bundle": [b["key"] for b in props["arlula:bundles"]],
            "seats": [
                "1+" if any(seat_capacity(x) is None for x in licenses)
                else f"1-{max(seat_capacity(x) or 1 for x in licenses)}"
            ],
        }  # fmt: skip
        what = f"{details['bundle_name']} bundle under the {details['license_name']} license"
    else:
        choice, details = _choose_2020(props, options)
        valid = {
            "license": [props["arlula:eula"]],
            "bundle": [],
            "seats": _tiers(props["arlula:price"]),
        }
        what = f"scene under its EULA for {choice.seats} seat(s)"
    area = props.get("arlula:area")
    covers = f"{props['arlula:supplier']} scene {props['arlula:scene_id']} ({area} km²): {what}"
    quote = Quote(
        amount=choice.amount,
        currency=CURRENCY,
        covers=covers,
        options=OrderOptions(license=choice.eula, bundle=choice.bundle, seats=choice.seats),
        valid_options=valid,
        details={**details, "ordering_id": choice.ordering_id},
    )
    return choice, quote


def _when(value: Any) -> datetime | None:
    return parse_instant(value).astimezone(UTC) if isinstance(value, str) and value else None


def _state(status: str) -> OrderState:
    # An unknown future status is treated as accepted and in progress, never as final.
    return STATES.get(status, "ordered")


def _resources(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "name": r["name"], "type": r["type"]} for r in items]


def order_from_2023(body: dict[str, Any]) -> NativeOrder:
    """A 2023-01 order (with its datasets, as ``GET /api/order/{id}`` returns it)."""
    datasets = body.get("datasets") or []
    first = datasets[0] if datasets else {}
    details: dict[str, Any] = {
        "refunded_cents": body.get("refunded") or 0,
        "datasets": [
            {
                "id": d["id"],
                "status": d["status"],
                "supplier": d["supplier"],
                "scene_id": d["sceneID"],
                "ordering_id": d["orderingID"],
                "bundle": d["bundle"],
                "eula": d["eula"],
                "resources": _resources(d.get("resources") or []),
            }
            for d in datasets
        ],
    }
    return NativeOrder(
        native_id=body["id"],
        state=_state(body["status"]),
        native_status=body["status"],
        amount=body.get("total"),
        currency=CURRENCY,
        expires_at=_when(first.get("expiration")),
        details=details,
    )


def order_from_2020(body: dict[str, Any]) -> NativeOrder:
    """A 2020-12 detailed order (seed 002, ``GET /api/order/get``)."""
    details = {
        "datasets": [
            {
                "supplier": body["supplier"],
                "scene_id": body["sceneID"],
                "ordering_id": body["imageryID"],
                "resources": _resources(body.get("resources") or []),
            }
        ],
    }
    return NativeOrder(
        native_id=body["id"],
        state=_state(body["status"]),
        native_status=body["status"],
        amount=body.get("total"),
        currency=CURRENCY,
        expires_at=_when(body.get("expiration")),
        details=details,
    )


def order_id_from_webhook(payload: Any) -> str | None:
    """The order id in a webhook event ``{event, timestamp, payload: {detailed order}}``."""
    if not isinstance(payload, dict):
        return None
    inner = payload.get("payload")
    ident = inner.get("id") if isinstance(inner, dict) else None
    return ident if isinstance(ident, str) and ident else None
