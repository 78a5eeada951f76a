"""Tasking routes: ``POST /api/tasking/search``, ``POST /api/tasking/order``, campaigns.

Order body (arlulacore ``TaskingOrderRequest.dict``): ``{id (orderingID), eula (a license
href), bundleKey, cloud (the max of one cloud level), priorityKey, webhooks, emails,
team?, payment?, coupon?}``; a batch ``{orders: [such bodies], webhooks, emails, team?,
payment?, coupon?}`` (``/api/tasking/order/batch``). The answer is the order (200) with
its campaigns; errors
are plain text with the archive order's codes (400 shape, 401, 402 credit, 403 team,
412 eula, 422 unknown id / bundle / priority / cloud / payment), wording assumed.
Campaigns: ``GET /api/campaigns`` (paged, newest first), ``/api/campaign/{id}``,
``/api/campaign/{id}/datasets``; ``GET /api/order/{id}/campaigns`` is in
:mod:`.downloads`. Sources: ``SOURCES.md`` ("Tasking").
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.arlula import webhooks
from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY
from bridge.simulators.arlula.auth import account_key, refusal
from bridge.simulators.arlula.downloads import _paging, _read, fill_sizes
from bridge.simulators.arlula.offers import licenses
from bridge.simulators.arlula.orders import Ledger, Order, new_id
from bridge.simulators.arlula.orders_api import Refused, _common, account_choices
from bridge.simulators.arlula.parse import InvalidSearch
from bridge.simulators.arlula.render import campaign_2023, dataset_2023, order_2023, page
from bridge.simulators.arlula.search import Aoi, area_km2
from bridge.simulators.arlula.tasking import (
    Campaign,
    TaskBook,
    campaign_price,
    cloud_levels,
    decode_ordering_id,
    priorities,
    tasking_bundles,
)
from bridge.simulators.arlula.tasking_search import (
    TaskingSearch,
    parse_search,
    run_search,
    supplier_answer,
)
from bridge.simulators.common.app import JSONResponse, read_json


async def tasking_search(request: Request) -> Response:
    """``POST /api/tasking/search``: results and per-supplier errors (200 even if some or
    all suppliers fail); an invalid body is 400 ``{errors}`` as the archive's."""
    refused = refusal(request)
    if refused:
        return refused
    settings = request.app.state.settings
    try:
        search = parse_search(await read_json(request), request.app.state.ledger.clock())
    except InvalidSearch as exc:
        return JSONResponse({"state": "error", "errors": exc.errors}, status_code=400)
    except ValueError as exc:
        return JSONResponse({"state": "error", "errors": [str(exc)]}, status_code=400)
    answer = run_search(search, settings.tasking_max_area_km2, settings.failing_suppliers)
    return JSONResponse(answer)


def _campaign(request: Request, raw: Any, order_id: str) -> Campaign:
    """Validate and price one tasking order body into its campaign."""
    body, _, _ = _common(raw, ("id", "eula", "bundleKey", "priorityKey"))
    cloud = body.get("cloud")
    if isinstance(cloud, bool) or not isinstance(cloud, int):
        raise Refused(400, "cloud is required: the max of one of the result's cloud levels")
    data = decode_ordering_id(body["id"])
    if data is None:
        raise Refused(422, "Invalid `id`: order with the orderingID of a current tasking result")
    now = request.app.state.ledger.clock()
    if data["ts"] < now:
        raise Refused(422, "Invalid `id`: the result's window has started, search again")
    supplier = SUPPLIERS_BY_KEY[data["p"]]
    polygon = data["a"]
    area = area_km2(Polygon(polygon[0], polygon[1:]))
    license = next((x for x in licenses(supplier) if x["href"] == body["eula"]), None)
    if license is None:
        raise Refused(412, "Invalid `eula`: must be the href of one of this result's licenses")
    bundle = next((b for b in tasking_bundles(supplier, area) if b["key"] == body["bundleKey"]),
                  None)  # fmt: skip
    if bundle is None:
        raise Refused(422, f"Invalid `bundleKey`: {body['bundleKey']!r} is not offered here")
    priority = next((p for p in priorities() if p["key"] == body["priorityKey"]), None)
    if priority is None:
        raise Refused(422, f"Invalid `priorityKey`: {body['priorityKey']!r} is not offered")
    level = next((c for c in cloud_levels() if c["max"] == cloud), None)
    if level is None:
        raise Refused(422, f"Invalid `cloud`: {cloud} is not one of the result's cloud levels")
    book: TaskBook = request.app.state.tasking
    campaign_id = new_id()
    rejected, fails = book.fate(campaign_id)
    total = campaign_price(bundle, license, priority, level)
    return Campaign(
        campaign_id, order_id, now, book.settings.tasking_step_s, body["id"], supplier.key,
        [p for p, g in supplier.platforms if g <= data["g"]], polygon, data["ts"], data["te"],
        data["g"], data["o"], cloud, bundle["key"], license["href"], priority["key"],
        total, rejected, fails,
    )  # fmt: skip


def _batch(request: Request, raw: Any, order_id: str) -> list[Campaign]:
    """``{orders: [order bodies], webhooks, emails, team?, payment?, coupon?}``: every
    order valid or none placed (all-or-nothing assumed, as the archive batch)."""
    if not isinstance(raw, dict):
        raise Refused(400, "request body must be a JSON object")
    orders = raw.get("orders")
    if not isinstance(orders, list) or not orders:
        raise Refused(400, "Invalid `orders`: a batch needs at least one order")
    _common(raw, ())
    campaigns = []
    for i, inner in enumerate(orders):
        try:
            campaigns.append(_campaign(request, inner, order_id))
        except Refused as exc:
            raise Refused(exc.status, f"orders[{i}]: {exc.text}") from exc
    return campaigns


async def _place(request: Request, batch: bool) -> Response:
    """Validate, charge and record one tasking order (one campaign, or a batch's)."""
    refused = refusal(request)
    if refused:
        return refused
    state = request.app.state
    ledger: Ledger = state.ledger
    try:
        raw = await read_json(request)
        order_id = new_id()
        campaigns = _batch(request, raw, order_id) if batch else [_campaign(request, raw, order_id)]
        team, payment = account_choices(request, raw)
        account = ledger.account(account_key(request))
        now = ledger.clock()
        total = sum(c.total for c in campaigns)
        if total > account.balance(now):
            raise Refused(402, "insufficient funds: the order total exceeds the account's credit")
    except ValueError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    except Refused as exc:
        return PlainTextResponse(exc.text, status_code=exc.status)
    above = ledger.settings.approval_above_cents
    if above is not None and total > above:  # a team admin approves the whole order
        for campaign in campaigns:
            campaign.approval_s = ledger.settings.approval_s
            campaign.approval_refused = ledger.settings.reject_approvals
    # A batch's notifications are the batch's and every order's (as the archive batch).
    bodies = [raw, *(raw.get("orders") or [])] if batch else [raw]
    hooks = list(dict.fromkeys(h for b in bodies for h in b.get("webhooks") or []))
    emails = list(dict.fromkeys(e for b in bodies for e in b.get("emails") or []))
    order = Order(
        order_id, account.key, "2023-01", now, [], ledger.settings, needs_approval=False,
        fails=False, team=team, payment=payment, coupon=raw.get("coupon"), webhooks=hooks,
        emails=emails, campaigns=campaigns,
    )  # fmt: skip
    ledger.add(order)
    for campaign in campaigns:
        state.tasking.campaigns[campaign.id] = campaign
        state.stats.record_order(f"tasking/{campaign.supplier}")
    webhooks.schedule(request.app, order)
    status = 202 if campaigns[0].approval_s is not None else 200
    return JSONResponse(order_2023(order, now), status_code=status)


async def tasking_order(request: Request) -> Response:
    """``POST /api/tasking/order``: one order holding one campaign."""
    return await _place(request, batch=False)


async def tasking_order_batch(request: Request) -> Response:
    """``POST /api/tasking/order/batch``: one order holding a campaign per result."""
    return await _place(request, batch=True)


async def tasking_get(request: Request) -> Response:
    """``POST /api/tasking/get`` ``{id}``: the search result an ordering id names, as
    searched again now (400 for an id that names none, or whose window has started)."""
    refused = refusal(request)
    if refused:
        return refused
    try:
        raw = await read_json(request)
    except ValueError as exc:
        return JSONResponse({"state": "error", "errors": [str(exc)]}, status_code=400)
    data = decode_ordering_id(raw.get("id", "")) if isinstance(raw, dict) else None
    settings = request.app.state.settings
    now = request.app.state.ledger.clock()
    if data is None or data["ts"] < now:
        errors = ["Invalid `id`: not the orderingID of a current tasking result"]
        return JSONResponse({"state": "error", "errors": errors}, status_code=400)
    polygon = data["a"]
    aoi = Aoi("polygon", Polygon(polygon[0], polygon[1:]))
    search = TaskingSearch(
        data["ts"], data["te"], data["g"], data["o"], frozenset([data["p"]]), aoi, None, True
    )
    limit, down = settings.tasking_max_area_km2, settings.failing_suppliers
    result, error = supplier_answer(search, SUPPLIERS_BY_KEY[data["p"]], limit, down)
    if result is None:
        return JSONResponse({"state": "error", "errors": [error["message"] if error else "gone"]},
                            status_code=400)  # fmt: skip
    return JSONResponse(result)


async def tasking_cancel(request: Request) -> Response:
    """``DELETE /api/tasking/cancel?id=<order>``: only while the order awaits approval
    (200); 405 past that; 400 for a missing or unknown id."""
    refused = refusal(request)
    if refused:
        return refused
    ledger: Ledger = request.app.state.ledger
    order = ledger.order(account_key(request), request.query_params.get("id", ""))
    if order is None or not order.campaigns:
        return PlainTextResponse("id must name one of your tasking orders", status_code=400)
    now = ledger.clock()
    if any(c.status_at(now) != "pending-approval" for c in order.campaigns):
        return PlainTextResponse("Past order cancellation period. Cannot cancel order.",
                                 status_code=405)  # fmt: skip
    for campaign in order.campaigns:
        campaign.cancelled_at = now
    return JSONResponse(order_2023(order, now))


def _tasking_orders(ledger: Ledger, key: str) -> list[Order]:
    return [o for o in ledger.account(key).newest_first() if o.campaigns]


async def list_campaigns(request: Request) -> Response:
    """``GET /api/campaigns``: the account's campaigns, newest first, without datasets."""
    paging = _paging(request)
    if isinstance(paging, Response):
        return paging

    def build(ledger: Ledger, key: str, now: float) -> Any:
        page_no, size = paging
        rows = [
            campaign_2023(o, c, now, detailed=False)
            for o in _tasking_orders(ledger, key)
            for c in o.campaigns
        ]
        return page(rows[page_no * size : (page_no + 1) * size], page_no, size, len(rows))

    return await _read(request, build)


def _campaign_detail(request: Request, datasets_only: bool) -> Any:
    async def build(ledger: Ledger, key: str, now: float) -> Any:
        wanted = request.path_params["id"]
        found = next(((o, c) for o in _tasking_orders(ledger, key) for c in o.campaigns
                      if c.id == wanted), None)  # fmt: skip
        if found is None:
            return PlainTextResponse("campaign not found", status_code=404)
        order, campaign = found
        await fill_sizes(request.app, order)
        if datasets_only:
            rows = [dataset_2023(order, ds, now, detailed=False) for ds in order.datasets
                    if ds.campaign == campaign.id]  # fmt: skip
            return page(rows, 0, max(20, len(rows)), len(rows))
        return campaign_2023(order, campaign, now)

    return build


async def get_campaign(request: Request) -> Response:
    """``GET /api/campaign/{id}``: the campaign with its delivered datasets."""
    return await _read(request, _campaign_detail(request, datasets_only=False))


async def campaign_datasets(request: Request) -> Response:
    """``GET /api/campaign/{id}/datasets``: the datasets the campaign delivered."""
    return await _read(request, _campaign_detail(request, datasets_only=True))


def routes() -> list[BaseRoute]:
    """The tasking routes."""
    return [
        Route("/api/tasking/search", tasking_search, methods=["POST"]),
        Route("/api/tasking/order", tasking_order, methods=["POST"]),
        Route("/api/tasking/order/batch", tasking_order_batch, methods=["POST"]),
        Route("/api/tasking/get", tasking_get, methods=["POST"]),
        Route("/api/tasking/cancel", tasking_cancel, methods=["DELETE"]),
        Route("/api/campaigns", list_campaigns, methods=["GET"]),
        Route("/api/campaign/{id}", get_campaign, methods=["GET"]),
        Route("/api/campaign/{id}/datasets", campaign_datasets, methods=["GET"]),
    ]
