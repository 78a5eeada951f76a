"""Capella's order and download routes over the :class:`.orders.OrderBook`.

``POST /orders/review``, ``POST /orders``, ``GET /orders?customerId=|organizationId=``,
``GET /orders/{orderId}`` and ``GET /orders/{orderId}/download``. Assumed where no public
source says (the adapter reads these in one place too):

* ``POST /orders`` answers 201; a ``contractId`` other than the organization's answers
  404 ``CONTRACT_NOT_FOUND``.
* Listing another customer's or organization's orders answers 403 ``NOT_AUTHORIZED``
  (message "not authorized to perform", which the SDK recognises); listing without either
  parameter 400 ``VALIDATION_ERROR``.
* Another organization's order, or none, answers 404 ``NOT_FOUND``.
* Downloading an order that is not ``completed`` answers 409 ``ORDER_NOT_COMPLETED``;
  after its ``expirationDate`` 410 ``{"error": "Order expired"}`` (the string body of the
  SDK's tests; the status is assumed).
* Presigned hrefs live ``capella_url_ttl_s`` (:mod:`.settings`, default 3600 s).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bridge.simulators.capella.auth import contract_id, current_user, error
from bridge.simulators.capella.downloads import file_names, native_feature, stored_object
from bridge.simulators.capella.orders import Order, OrderBook, OrderError
from bridge.simulators.capella.settings import CapellaSimulatorSettings
from bridge.simulators.common.app import JSONResponse, SimulatorConfig, read_json
from bridge.simulators.common.storage import ObjectStore


async def _read_order_body(request: Request) -> tuple[dict[str, Any], Any]:
    """The caller and the JSON body (raises ``OrderError`` for the 401 or a bad body)."""
    user = current_user(request)
    if isinstance(user, JSONResponse):
        raise _Unauthorized(user)
    try:
        body = await read_json(request)
    except ValueError as exc:
        raise OrderError(400, "request body is not valid JSON", "VALIDATION_ERROR") from exc
    contract = body.get("contractId") if isinstance(body, dict) else None
    if contract is not None and contract != contract_id(user["organizationId"]):
        raise OrderError(404, f"Contract {contract} not found", "CONTRACT_NOT_FOUND")
    return user, body


class _Unauthorized(Exception):
    def __init__(self, response: JSONResponse) -> None:
        super().__init__("unauthorized")
        self.response = response


def _handled(exc: Exception) -> Response:
    if isinstance(exc, _Unauthorized):
        return exc.response
    assert isinstance(exc, OrderError)
    return error(exc.status, str(exc), exc.code)


def _book(request: Request) -> OrderBook:
    book: OrderBook = request.app.state.orders
    return book


async def review_order(request: Request) -> Response:
    """``POST /orders/review``: authorization and cost, before ordering."""
    try:
        user, body = await _read_order_body(request)
        items = _book(request).resolve(body)
    except (OrderError, _Unauthorized) as exc:
        return _handled(exc)
    return JSONResponse(_book(request).review(user["organizationId"], items))


async def data_size(request: Request, item: dict[str, Any]) -> int:
    """Bytes of ``item``'s data file (what order items state as ``size``)."""
    config: SimulatorConfig = request.app.state.config
    data_key = item["properties"]["sar:polarizations"][0]
    stored = stored_object(item, data_key, config.seed)
    return 0 if stored is None else len(await stored.load())


async def submit_order(request: Request) -> Response:
    """``POST /orders``: one order for the listed products (``rejected`` beyond funds)."""
    try:
        user, body = await _read_order_body(request)
        items = _book(request).resolve(body)
    except (OrderError, _Unauthorized) as exc:
        return _handled(exc)
    sizes = {item["id"]: await data_size(request, item) for item in items}
    contract = body.get("contractId") or contract_id(user["organizationId"])
    book = _book(request)
    order = book.place(user, items, sizes, contract)
    # Every order created counts, rejected ones too: each is one native order call.
    for item in items:
        request.app.state.stats.record_order(item["id"])
    return JSONResponse(book.to_json(order), status_code=201)


async def list_orders(request: Request) -> Response:
    """``GET /orders?customerId=<user id>`` (or ``organizationId``), oldest first."""
    user = current_user(request)
    if isinstance(user, JSONResponse):
        return user
    customer = request.query_params.get("customerId")
    organization = request.query_params.get("organizationId")
    if customer is None and organization is None:
        return error(400, "customerId or organizationId is required", "VALIDATION_ERROR")
    if (customer is not None and customer != user["id"]) or (
        organization is not None and organization != user["organizationId"]
    ):
        return error(403, "You are not authorized to perform this action", "NOT_AUTHORIZED")
    book = _book(request)
    orders = [
        o
        for o in book.orders.values()
        if o.organization_id == user["organizationId"] and (customer in (None, o.user_id))
    ]
    orders.sort(key=lambda o: o.created)
    return JSONResponse([book.to_json(o) for o in orders])


def _owned_order(request: Request) -> tuple[OrderBook, Order] | Response:
    """The book and the caller's organisation's order named in the path, or the error."""
    user = current_user(request)
    if isinstance(user, JSONResponse):
        return user
    book = _book(request)
    try:
        return book, book.get(user["organizationId"], request.path_params["order_id"])
    except OrderError as exc:
        return _handled(exc)


async def get_order(request: Request) -> Response:
    """``GET /orders/{orderId}``."""
    found = _owned_order(request)
    if isinstance(found, Response):
        return found
    book, order = found
    return JSONResponse(book.to_json(order))


async def download_order(request: Request) -> Response:
    """``GET /orders/{orderId}/download``: the order's items with presigned asset hrefs."""
    found = _owned_order(request)
    if isinstance(found, Response):
        return found
    book, order = found
    status = order.status(book.clock(), book.step_s)
    if status != "completed":
        return error(409, f"Order {order.order_id} is {status}", "ORDER_NOT_COMPLETED")
    if book.expired(order):
        # A bare string, as in the SDK's tests (test_exception_handling.py); status assumed.
        return JSONResponse({"error": "Order expired"}, status_code=410)
    settings: CapellaSimulatorSettings = request.app.state.settings
    ttl = settings.url_ttl_s
    store: ObjectStore = request.app.state.store
    base = str(request.base_url).rstrip("/")

    def sign(key: str) -> str:
        return store.sign_url(base, key, expires_in_s=ttl)

    features = []
    for entry in order.items:
        item = book.archive.items[book.archive.by_id[entry["granuleId"]]]
        everything = frozenset(file_names(item))
        features.append(native_feature(item, base, sign, everything))
    return JSONResponse(features)
