"""Tasking routes: ``POST /api/tasking/search``, ``POST /api/tasking/order``, campaigns.

Order body (arlulacore ``TaskingOrderRequest.dict``): ``{id (orderingID), eula (a license
href), bundleKey, cloud (the max of one cloud level), priorityKey, webhooks, emails,
team?, payment?, coupon?}``. The answer is the order (200) with its one campaign; errors
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
    orders = request.app.state.ledger.settings
    above = orders.approval_above_cents
    approval = orders.approval_s if above is not None and total > above else None
    return Campaign(
        campaign_id, order_id, now, book.settings.tasking_step_s, body["id"], supplier.key,
        [p for p, g in supplier.platforms if g <= data["g"]], polygon, data["ts"], data["te"],
        data["g"], data["o"], cloud, bundle["key"], license["href"], priority["key"],
        total, rejected, fails, approval, orders.reject_approvals,
    )  # fmt: skip


async def tasking_order(request: Request) -> Response:
    """``POST /api/tasking/order``: one order holding one campaign."""
    refused = refusal(request)
    if refused:
        return refused
    state = request.app.state
    ledger: Ledger = state.ledger
    try:
        raw = await read_json(request)
        order_id = new_id()
        campaign = _campaign(request, raw, order_id)
        team, payment = account_choices(request, raw)
        account = ledger.account(account_key(request))
        now = ledger.clock()
        if campaign.total > account.balance(now):
            raise Refused(402, "insufficient funds: the order total exceeds the account's credit")
    except ValueError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    except Refused as exc:
        return PlainTextResponse(exc.text, status_code=exc.status)
    order = Order(
        order_id, account.key, "2023-01", now, [], ledger.settings, needs_approval=False,
        fails=False, team=team, payment=payment, coupon=raw.get("coupon"),
        webhooks=list(raw.get("webhooks") or []), emails=list(raw.get("emails") or []),
        campaign=campaign,
    )  # fmt: skip
    ledger.add(order)
    state.tasking.campaigns[campaign.id] = campaign
    state.stats.record_order(f"tasking/{campaign.supplier}")
    webhooks.schedule(request.app, order)
    return JSONResponse(order_2023(order, now), status_code=202 if campaign.approval_s else 200)


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
    if order is None or order.campaign is None:
        return PlainTextResponse("id must name one of your tasking orders", status_code=400)
    now = ledger.clock()
    if order.campaign.status_at(now) != "pending-approval":
        return PlainTextResponse("Past order cancellation period. Cannot cancel order.",
                                 status_code=405)  # fmt: skip
    order.campaign.cancelled_at = now
    return JSONResponse(order_2023(order, now))


def _tasking_orders(ledger: Ledger, key: str) -> list[Order]:
    return [o for o in ledger.account(key).newest_first() if o.campaign is not None]


async def list_campaigns(request: Request) -> Response:
    """``GET /api/campaigns``: the account's campaigns, newest first, without datasets."""
    paging = _paging(request)
    if isinstance(paging, Response):
        return paging

    def build(ledger: Ledger, key: str, now: float) -> Any:
        page_no, size = paging
        rows = [campaign_2023(o, now, detailed=False) for o in _tasking_orders(ledger, key)]
        return page(rows[page_no * size : (page_no + 1) * size], page_no, size, len(rows))

    return await _read(request, build)


def _campaign_detail(request: Request, datasets_only: bool) -> Any:
    async def build(ledger: Ledger, key: str, now: float) -> Any:
        wanted = request.path_params["id"]
        order = next((o for o in _tasking_orders(ledger, key) if o.campaign
                      and o.campaign.id == wanted), None)  # fmt: skip
        if order is None:
            return PlainTextResponse("campaign not found", status_code=404)
        await fill_sizes(request.app, order)
        if datasets_only:
            rows = [dataset_2023(order, ds, now, detailed=False) for ds in order.datasets]
            return page(rows, 0, max(20, len(rows)), len(rows))
        return campaign_2023(order, now)

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
        Route("/api/tasking/get", tasking_get, methods=["POST"]),
        Route("/api/tasking/cancel", tasking_cancel, methods=["DELETE"]),
        Route("/api/campaigns", list_campaigns, methods=["GET"]),
        Route("/api/campaign/{id}", get_campaign, methods=["GET"]),
        Route("/api/campaign/{id}/datasets", campaign_datasets, methods=["GET"]),
    ]
