"""The ICEYE simulator's price and purchase routes (Catalog API v2, and v1 as documented).

v2: ``GET /price?frameID&contractID&eula`` → ``{amount, currency}``;
``POST /purchases`` ``{frameID, contractID, eula, reference?}`` → 200 PurchaseObject;
``GET /purchases`` (``limit``, ``cursor``, ``contractID``; ``{data, cursor}`` envelope);
``GET /purchases/{id}``; ``GET /purchases/{id}/products`` → ``{data: [STAC items]}`` with
freshly presigned hrefs.
v1: ``POST /purchases`` ``{itemIds, contractId, companyName?, contactPerson?, reference?}``
→ 202 ``{purchaseId}``; ``GET /purchases``, ``GET /purchases/{id}`` → PurchasedItem. The
v1 products response is not documented (v1 delivered to a pre-configured bucket), so it
is not served.

Assumed: error bodies ``{code, message}``; 400 for a missing or invalid field, 403 for a
contract the client does not hold, 404 for an unknown frame, item or purchase (another
account's purchases are unknown); a contract without a pricing plan
(setting ``iceye_unpriced_contracts``) gets 400 ``OUT_OF_BOUND_CONTRACT`` "no
Pricing Plan" from ``/price``; ``eula`` defaults to STANDARD on a v2 purchase;
list paging as the catalog's (limit 1..100, default 10); an unfinished purchase lists no
products (``{"data": []}``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.iceye.archive import PRIVATE, Archive
from bridge.simulators.iceye.auth import AuthState, api_error, authenticate
from bridge.simulators.iceye.orders import (
    CURRENCY,
    DEFAULT_EULA,
    EULAS,
    Purchase,
    PurchaseBook,
    frame_price,
    purchase_v1,
    purchase_v2,
)
from bridge.simulators.iceye.render import render_v2

MAX_LIMIT = 100
DEFAULT_LIMIT = 10


class Refusal(Exception):
    """A request the API refuses: what the error response says."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _text(fields: Mapping[str, Any], name: str, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Refusal("BAD_REQUEST", f"{name} is required and must be a string", 400)
    return value


def _contract(request: Request, client: str, contract: str) -> str:
    auth: AuthState = request.app.state.auth
    if contract not in auth.contracts.get(client, frozenset()):
        raise Refusal("FORBIDDEN", "contract is not available to this client", 403)
    return contract


def _eula(value: str | None) -> str:
    if value not in EULAS:
        raise Refusal("BAD_REQUEST", f"eula must be one of {', '.join(EULAS)}", 400)
    return value


def _frame(archive: Archive, frame_id: str) -> Any:
    scenes = archive.by_frame.get(frame_id)
    if not scenes:
        raise Refusal("NOT_FOUND", f"frame {frame_id} not found", 404)
    return scenes


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await read_json(request)
    except ValueError as exc:
        raise Refusal("BAD_REQUEST", str(exc), 400) from None
    if not isinstance(body, dict):
        raise Refusal("BAD_REQUEST", "body must be a JSON object", 400)
    return body


def _page(request: Request, records: list[Any]) -> tuple[list[Any], str | None]:
    params = request.query_params
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
        cursor = params.get("cursor")
        offset = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))) if cursor else 0
    except (ValueError, binascii.Error):
        raise Refusal("BAD_REQUEST", "invalid limit or cursor", 400) from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Refusal("BAD_REQUEST", f"limit must be between 1 and {MAX_LIMIT}", 400)
    end = offset + limit
    following = base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")
    return records[offset:end], following if end < len(records) else None


def _handler(version: str, work: Any) -> Any:
    async def route(request: Request) -> Response:
        client = authenticate(request)
        if isinstance(client, Response):
            return client
        try:
            response: Response = await work(request, client, version)
        except Refusal as refusal:
            return api_error(request, refusal.code, refusal.message, refusal.status)
        return response

    return route


async def price(request: Request, client: str, version: str) -> Response:
    """``GET /api/catalog/v2/price``."""
    params = request.query_params
    frame_id = _text(params, "frameID")
    contract = _contract(request, client, _text(params, "contractID") or "")
    eula = _eula(params.get("eula"))
    scenes = _frame(request.app.state.tasks.archive(), frame_id or "")
    if contract in request.app.state.unpriced_contracts:
        # ICEYE docs "pricing model": without a pricing plan price queries are unavailable;
        # app-examples ItemDetail.jsx matches these words (status assumed).
        raise Refusal("OUT_OF_BOUND_CONTRACT", f"contract {contract} has no Pricing Plan", 400)
    return JSONResponse({"amount": frame_price(scenes, eula), "currency": CURRENCY})


async def create(request: Request, client: str, version: str) -> Response:
    """``POST /api/catalog/{version}/purchases``."""
    body = await _body(request)
    book: PurchaseBook = request.app.state.purchases
    archive: Archive = request.app.state.tasks.archive()
    reference = _text(body, "reference", required=False)
    if version == "v2":
        frame_id = _text(body, "frameID") or ""
        contract = _contract(request, client, _text(body, "contractID") or "")
        # eula is optional on a purchase (ICEYE docs; app-examples send STANDARD): the
        # default when absent is assumed to be STANDARD.
        eula = DEFAULT_EULA if body.get("eula") is None else _eula(body.get("eula"))
        scenes = _frame(archive, frame_id)
        purchase = Purchase(
            book.new_id(),
            version,
            client,
            contract,
            book.clock(),
            tuple(s.id for s in scenes),
            frame_id=frame_id,
            eula=eula,
            reference=reference,
        )
    else:
        ids = body.get("itemIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise Refusal("BAD_REQUEST", "itemIds must be a non-empty list of strings", 400)
        missing = [i for i in ids if i not in archive.by_id]
        if missing:
            raise Refusal("NOT_FOUND", f"items not found: {', '.join(missing[:5])}", 404)
        contract = _contract(request, client, _text(body, "contractId") or "")
        purchase = Purchase(
            book.new_id(),
            version,
            client,
            contract,
            book.clock(),
            tuple(dict.fromkeys(ids)),
            reference=reference,
            company_name=_text(body, "companyName", required=False),
            contact_person=_text(body, "contactPerson", required=False),
        )
    book.add(purchase)
    for item_id in purchase.item_ids:
        # A frame purchase buys every product of the frame: each is one item ordered.
        request.app.state.stats.record_order(item_id)
    if version == "v1":
        return JSONResponse({"purchaseId": purchase.id}, status_code=202)
    return JSONResponse(purchase_v2(book, purchase))


def _render(book: PurchaseBook, purchase: Purchase) -> dict[str, Any]:
    return purchase_v2(book, purchase) if purchase.version == "v2" else purchase_v1(book, purchase)


async def listing(request: Request, client: str, version: str) -> Response:
    """``GET /api/catalog/{version}/purchases``: newest first, paged."""
    book: PurchaseBook = request.app.state.purchases
    contract = request.query_params.get("contractID") if version == "v2" else None
    records, cursor = _page(request, book.listing(client, version, contract))
    body: dict[str, Any] = {"data": [_render(book, p) for p in records]}
    if cursor is not None:
        body["cursor"] = cursor
    return JSONResponse(body)


def _purchase(request: Request, client: str, version: str) -> Purchase:
    book: PurchaseBook = request.app.state.purchases
    found = book.get(client, version, request.path_params["purchase_id"])
    if found is None:
        raise Refusal("NOT_FOUND", "purchase not found", 404)
    return found


async def one(request: Request, client: str, version: str) -> Response:
    """``GET /api/catalog/{version}/purchases/{purchaseID}``."""
    return JSONResponse(_render(request.app.state.purchases, _purchase(request, client, version)))


async def products(request: Request, client: str, version: str) -> Response:
    """``GET /api/catalog/v2/purchases/{purchaseID}/products``: presigned STAC items."""
    purchase = _purchase(request, client, version)
    book: PurchaseBook = request.app.state.purchases
    base = str(request.base_url).rstrip("/")
    store = request.app.state.store
    scenes = book.delivered(purchase, request.app.state.tasks.archive())
    return JSONResponse({"data": [render_v2(s, base, store, PRIVATE) for s in scenes]})


def purchase_routes(prefix: str) -> list[Route]:
    """The routes, under the catalog ``prefix`` (``/api/catalog``)."""
    routes = [Route(f"{prefix}/v2/price", _handler("v2", price), methods=["GET"])]
    for version in ("v2", "v1"):
        base = f"{prefix}/{version}/purchases"
        routes += [
            Route(base, _handler(version, create), methods=["POST"]),
            Route(base, _handler(version, listing), methods=["GET"]),
            Route(f"{base}/{{purchase_id}}", _handler(version, one), methods=["GET"]),
        ]
    routes.append(
        Route(
            f"{prefix}/v2/purchases/{{purchase_id}}/products",
            _handler("v2", products),
            methods=["GET"],
        )
    )
    return routes
