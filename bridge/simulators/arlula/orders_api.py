"""Placing archive orders: 2023-01 ``POST /api/archive/order`` and ``/api/archive/order/batch``,
2020-12 ``POST /api/order/new``. Sources for each rule: ``SOURCES.md`` in this folder.

2023-01 body ``{id (orderingID), eula (a license href), bundleKey, webhooks, emails, team?,
payment?, coupon?}``; a batch ``{orders: [such bodies], webhooks, emails, team?, payment?,
coupon?}`` places one order holding a dataset per scene; 2020-12 body ``{id, eula, seats,
webhooks, emails}`` (seed 002). The ordering id names the scene and the area a search
priced (:func:`.offers.decode_ordering_id`), so an order is priced exactly as that search
result was: 2023-01 bundle price * license loading (the SDK's formula), 2020-12 base + the
seats range's addition.

Answers: 200 with the detailed order, or 202 when it awaits a team admin's approval
(``pending-approval``; orders above ``arlula_approval_above_cents``). Errors, as plain text
(status codes from providers.md; which failure gets which code is assumed): 400 malformed
body, 401 credentials, 402 not enough prepaid credit (``arlula_balance_cents``), 403 a
``team`` the account is not in, 412 an ``eula`` that is not one of the scene's licenses
(the terms were not accepted), 422 an unknown ordering id, bundle, payment method or
seat count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.arlula import webhooks
from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY
from bridge.simulators.arlula.auth import account_key, refusal
from bridge.simulators.arlula.downloads import fill_sizes
from bridge.simulators.arlula.offers import (
    bundles,
    decode_ordering_id,
    licensed_price,
    licenses,
    ordered_km2,
    seats_price,
    seats_total,
)
from bridge.simulators.arlula.orders import Dataset, Order, Resource, new_id
from bridge.simulators.arlula.render import order_2020, order_2023
from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.common.cog import COG_MEDIA_TYPE, PNG_MEDIA_TYPE


def stats_key(supplier: str, scene_id: str) -> str:
    """The key orders are counted under in ``/_simulator/stats``: the scene's native
    identity (a ``sceneID`` is the supplier's, so it is qualified by the supplier)."""
    return f"{supplier}/{scene_id}"


class Refused(Exception):
    """An order request the API rejects with ``status``."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Purchase:
    """A validated order request: what is bought and what it costs."""

    scene_index: int
    ordering_id: str
    bundle: str
    eula: str
    seats: int
    total: int
    bbox: tuple[float, float, float, float]
    webhooks: list[str]
    emails: list[str]
    team: str | None = None
    payment: str | None = None


@dataclass(frozen=True)
class Terms:
    """Order-level choices: who is notified, the team that sees it, who pays, a coupon."""

    webhooks: list[str]
    emails: list[str]
    team: str | None = None
    payment: str | None = None
    coupon: str | None = None


def _strings(body: dict[str, Any], name: str, errors: list[str]) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{name} must be a list of strings")
        return []
    if name == "webhooks" and not all(v.startswith(("http://", "https://")) for v in value):
        errors.append("webhooks must be http or https addresses")
    return value


def _common(body: Any, fields: tuple[str, ...]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Check the body's shape; its webhooks and emails."""
    if not isinstance(body, dict):
        raise Refused(400, "request body must be a JSON object")
    errors = [f"{f} is required" for f in fields if not isinstance(body.get(f), str) or not body[f]]
    hooks, emails = _strings(body, "webhooks", errors), _strings(body, "emails", errors)
    coupon = body.get("coupon")  # optional (node SDK order-request.ts, batch-order.ts)
    if coupon is not None and not isinstance(coupon, str):
        errors.append("Invalid `coupon`: must be a string")
    if errors:
        raise Refused(400, "; ".join(errors))
    return body, hooks, emails


def _scene(request: Request, ordering_id: str) -> tuple[int, dict[str, Any], list[Any]]:
    decoded = decode_ordering_id(ordering_id)
    index = None
    if decoded is not None:
        index = request.app.state.scene_index.get((decoded["p"], decoded["s"]))
    if decoded is None or index is None:
        raise Refused(422, "Invalid `id`: order with the orderingID of a current search result")
    return index, request.app.state.archive.scenes[index], decoded["a"]


def _ordered(
    request: Request, index: int, polygon: list[Any]
) -> tuple[float, tuple[float, float, float, float]]:
    archive = request.app.state.archive
    scene = archive.scenes[index]
    area = ordered_km2(scene, float(archive.areas_km2[index]), polygon)
    xs = [p[0] for p in polygon[0]]
    ys = [p[1] for p in polygon[0]]
    return area, (min(xs), min(ys), max(xs), max(ys))


def account_choices(request: Request, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The body's ``team`` and ``payment``, checked against the account's."""
    settings = request.app.state.ledger.settings
    team, payment = body.get("team"), body.get("payment")
    if team is not None and team not in settings.teams:
        raise Refused(403, "the API account is not a member of that team")
    if payment is not None and payment not in settings.payment_methods:
        raise Refused(422, "unknown payment method")
    return team, payment


def purchase_2023(request: Request, raw: Any) -> Purchase:
    """Validate and price a 2023-01 order body."""
    body, hooks, emails = _common(raw, ("id", "eula", "bundleKey"))
    index, scene, polygon = _scene(request, body["id"])
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    area, bbox = _ordered(request, index, polygon)
    license = next((x for x in licenses(supplier) if x["href"] == body["eula"]), None)
    if license is None:
        raise Refused(412, "Invalid `eula`: must be the href of one of this scene's licenses")
    bundle = next((b for b in bundles(supplier, area) if b["key"] == body["bundleKey"]), None)
    if bundle is None:
        raise Refused(422, f"Invalid `bundleKey`: {body['bundleKey']!r} is not offered here")
    team, payment = account_choices(request, body)
    total = licensed_price(bundle["price"], license)
    return Purchase(
        index, body["id"], bundle["key"], license["href"], 1, total, bbox, hooks, emails,
        team, payment,
    )  # fmt: skip


def purchase_2020(request: Request, raw: Any) -> Purchase:
    """Validate and price a 2020-12 order body: the default bundle, priced by seats."""
    body, hooks, emails = _common(raw, ("id", "eula"))
    seats = body.get("seats", 1)
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise Refused(400, "seats must be a positive integer")
    index, scene, polygon = _scene(request, body["id"])
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    area, bbox = _ordered(request, index, polygon)
    eula = licenses(supplier)[0]["href"]  # the one eula a 2020-12 search result offers
    if body["eula"] != eula:
        raise Refused(412, "eula must be the eula of the search result")
    bundle = bundles(supplier, area)[0]
    total = seats_total(seats_price(bundle["price"]), seats)
    if total is None:
        raise Refused(422, f"no price for {seats} seats")
    return Purchase(index, body["id"], bundle["key"], eula, seats, total, bbox, hooks, emails)


def file_stem(text: str) -> str:
    """A filename stem of word characters and dots only: the SDK reads the quoted name in
    ``Content-Disposition`` with the pattern ``"([\\w\\.]+)"``."""
    return re.sub(r"[^\w.]", "_", text)


def make_resources(dataset_id: str, scene_id: str, bundle: str) -> list[Resource]:
    """A dataset's files: the GeoTIFF of the bundle, a quicklook and the metadata."""
    stem = file_stem(scene_id)
    files = [
        (f"{stem}_{file_stem(bundle)}.tif", "img_tiff", "geotiff", ["data"], COG_MEDIA_TYPE),
        (f"{stem}_thumb.png", "thumb", "png", ["thumbnail"], PNG_MEDIA_TYPE),
        (f"{stem}_metadata.json", "meta_json", "json", ["metadata"], "application/json"),
    ]
    return [Resource(new_id(), *f, dataset_id=dataset_id) for f in files]


def _dataset(state: Any, order_id: str, purchase: Purchase) -> Dataset:
    scene = state.archive.scenes[purchase.scene_index]
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    dataset_id = new_id()
    return Dataset(
        dataset_id, order_id, purchase.scene_index, scene["supplier"], scene["sceneID"],
        purchase.ordering_id, purchase.bundle, purchase.eula, purchase.seats, purchase.total,
        purchase.bbox, public=supplier.cents_per_km2 == 0,
        resources=make_resources(dataset_id, scene["sceneID"], purchase.bundle),
    )  # fmt: skip


def place(request: Request, purchases: list[Purchase], generation: str, terms: Terms) -> Order:
    """Charge the account and record one order of ``purchases`` (one dataset each; each
    scene counted in the stats)."""
    state = request.app.state
    ledger = state.ledger
    account = ledger.account(account_key(request))
    now = ledger.clock()
    total = sum(p.total for p in purchases)
    if total > account.balance(now):
        raise Refused(402, "insufficient funds: the order total exceeds the account's credit")
    order_id = new_id()
    datasets = [_dataset(state, order_id, p) for p in purchases]
    threshold = ledger.settings.approval_above_cents
    order = Order(
        order_id, account.key, generation, now, datasets, ledger.settings,
        needs_approval=threshold is not None and total > threshold,
        fails=any(d.scene_id in ledger.settings.failing_scenes for d in datasets),
        instant=all(state.archive.scenes[p.scene_index]["fulfillmentTime"] == 0
                    for p in purchases),
        team=terms.team, payment=terms.payment, coupon=terms.coupon,
        webhooks=terms.webhooks, emails=terms.emails,
    )  # fmt: skip
    ledger.add(order)
    for dataset in datasets:
        state.stats.record_order(stats_key(dataset.supplier, dataset.scene_id))
    webhooks.schedule(request.app, order)
    return order


def batch_2023(request: Request, raw: Any) -> tuple[list[Purchase], Terms]:
    """Validate and price a ``POST /api/archive/order/batch`` body ``{orders: [order
    bodies], webhooks, emails, team?, payment?, coupon?}``: every order valid, or none is
    placed (all-or-nothing is assumed; the SDKs show only the success)."""
    if not isinstance(raw, dict):
        raise Refused(400, "request body must be a JSON object")
    orders = raw.get("orders")
    if not isinstance(orders, list) or not orders:
        raise Refused(400, "Invalid `orders`: a batch needs at least one order")
    body, hooks, emails = _common(raw, ())
    purchases = []
    for i, inner in enumerate(orders):
        try:
            purchases.append(purchase_2023(request, inner))
        except Refused as exc:
            raise Refused(exc.status, f"orders[{i}]: {exc.text}") from exc
    team, payment = account_choices(request, body)
    # Batch-level choices supersede each order's (node SDK batch-order.ts); notifications
    # of every order are kept.
    return purchases, Terms(
        list(dict.fromkeys([*hooks, *(h for p in purchases for h in p.webhooks)])),
        list(dict.fromkeys([*emails, *(e for p in purchases for e in p.emails)])),
        team or next((p.team for p in purchases if p.team), None),
        payment or next((p.payment for p in purchases if p.payment), None),
        body.get("coupon"),
    )


def _single(purchase: Purchase, raw: Any) -> Terms:
    coupon = raw.get("coupon") if isinstance(raw, dict) else None
    return Terms(purchase.webhooks, purchase.emails, purchase.team, purchase.payment, coupon)


async def _order(request: Request, generation: str, batch: bool = False) -> Response:
    refused = refusal(request)
    if refused:
        return refused
    try:
        raw = await read_json(request)
        if batch:
            purchases, terms = batch_2023(request, raw)
        else:
            build = purchase_2023 if generation == "2023-01" else purchase_2020
            purchase = build(request, raw)
            purchases, terms = [purchase], _single(purchase, raw)
        order = place(request, purchases, generation, terms)
    except ValueError as exc:  # unparseable body
        return PlainTextResponse(str(exc), status_code=400)
    except Refused as exc:
        return PlainTextResponse(exc.text, status_code=exc.status)
    if order.instant:  # answers complete, with its resources (sizes and checksums)
        await fill_sizes(request.app, order)
    now = request.app.state.ledger.clock()
    render = order_2023 if generation == "2023-01" else order_2020
    return JSONResponse(render(order, now), status_code=202 if order.needs_approval else 200)


async def archive_order(request: Request) -> Response:
    """``POST /api/archive/order`` (2023-01)."""
    return await _order(request, "2023-01")


async def archive_order_batch(request: Request) -> Response:
    """``POST /api/archive/order/batch`` (2023-01): one order holding a dataset per scene."""
    return await _order(request, "2023-01", batch=True)


async def order_new(request: Request) -> Response:
    """``POST /api/order/new`` (2020-12, seed 002)."""
    return await _order(request, "2020-12")


def routes() -> list[BaseRoute]:
    """The order-placing routes."""
    return [
        Route("/api/archive/order", archive_order, methods=["POST"]),
        Route("/api/archive/order/batch", archive_order_batch, methods=["POST"]),
        Route("/api/order/new", order_new, methods=["POST"]),
    ]
