"""Aleph V2 Orders API routes of the simulator (archive orders; seed 000 + public examples).

* ``POST /v2/orders/`` (docs api-v2 python examples: ``ORDERS_URI = "/v2/orders/"``; seed
  000 abbreviates every V2 path as ``/orders...``, so there is no ``POST /orders``: 404)
  with a GeoJSON Feature
  ``{"type": "Feature", "geometry", "properties": {"sku": "ARCIMG-M.NN.NN",
  "parameters": {"outcome_id": ...}, "name"?, "project_name"?}}`` → 201 with the order.
  ``parameters.outcome_id`` (the archive's ``satl:outcome_id``: which capture) and the
  optional client ``name`` / ``project_name`` (after V1's ``task_name`` /
  ``project_name``) are assumed. The geometry is clipped to the capture's tiles.
* ``GET /v2/orders/`` → ``{"type": "FeatureCollection", count, next, previous,
  features}`` with ``next`` like ``/v2/orders?offset=25&limit=25`` (documented);
  ``?task_id=`` lists the order a V1 task delivered through (seed 000);
  ``GET /v2/orders/{id}``, ``/captures``, ``/deliverables``, ``/events`` and
  ``GET /v2/deliverables?order_id=`` (``{count, next, previous, results}``).
* ``GET /v2/products/``: the contract's archive SKUs and prices (assumed endpoint).

Errors follow Django REST Framework, which the Satellogic APIs' list envelopes come from
(assumed): 400 ``{"<field>": ["message"]}``, 404 ``{"detail": "Not found."}``, 403
``{"detail": ...}`` for a SKU outside the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

from shapely.geometry.base import BaseGeometry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.satellogic.archive import QUICKVIEW, Archive, Tile
from bridge.simulators.satellogic.auth import CONTRACT_COLLECTIONS, authorize
from bridge.simulators.satellogic.orders import (
    Order,
    OrderBook,
    Snapshot,
    capture_json,
    deliverable_json,
    events_json,
    new_ids,
    order_json,
)
from bridge.simulators.satellogic.products import (
    PRODUCTS,
    InvalidSku,
    Product,
    clip,
    parse_polygon,
    product_for_sku,
    product_json,
    quantity_and_price,
)
from bridge.simulators.satellogic.tasking import TASK_PRODUCTS

CONTRACT_NAME = "Sandbox contract"
BBox = tuple[float, float, float, float]
NOT_FOUND = {"detail": "Not found."}


class _Rejected(Exception):
    """An order request refused with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__("rejected")
        self.response = response


class _Parsed(NamedTuple):
    product: Product
    requested: BaseGeometry
    outcome: str
    props: dict[str, Any]
    tiles: list[Tile]


def _bbox(tile: Tile) -> BBox:
    w, s, e, n = tile.item["bbox"]
    return (float(w), float(s), float(e), float(n))


def _invalid(errors: dict[str, Any]) -> Response:
    return JSONResponse(errors, status_code=400)


def _paging(request: Request) -> tuple[int, int]:
    # DRF's LimitOffsetPagination: unparseable values fall back to the defaults.
    try:
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError:
        offset = 0
    try:
        limit = max(1, min(100, int(request.query_params.get("limit", 25))))
    except ValueError:
        limit = 25
    return offset, limit


def _page(request: Request, path: str, rows: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """One offset/limit page and its ``count``/``next``/``previous`` (relative links)."""
    offset, limit = _paging(request)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    extra = f"&{urlencode(kept)}" if kept else ""

    def link(at: int) -> str:
        return f"{path}?offset={at}&limit={limit}{extra}"

    meta = {
        "count": len(rows),
        "next": link(offset + limit) if offset + limit < len(rows) else None,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
    }
    return rows[offset : offset + limit], meta


class OrdersApi:
    """Routes over one :class:`OrderBook` and the archive it sells from."""

    def __init__(self, archive: Archive, book: OrderBook) -> None:
        self.archive = archive
        self.book = book
        self._captures: dict[str, dict[str, list[Tile]]] | None = None
        self._indexed = 0

    def captures(self, outcome_id: str) -> dict[str, list[Tile]]:
        """The tiles of one archive capture, by native collection (indexed on first use)."""
        if self._captures is None or self._indexed != len(self.archive.tiles):
            self._indexed = len(self.archive.tiles)  # tasks add captures: index them too
            index: dict[str, dict[str, list[Tile]]] = {}
            for tile in self.archive.tiles:
                outcome = tile.item["properties"]["satl:outcome_id"]
                index.setdefault(outcome, {}).setdefault(tile.collection, []).append(tile)
            self._captures = index
        return self._captures.get(outcome_id, {})

    def _parse(self, body: Any, visible: frozenset[str], contract: str) -> _Parsed:
        """Validate an order request, field by field as DRF serializers answer."""
        if not isinstance(body, dict) or body.get("type") != "Feature":
            raise _Rejected(_invalid({"type": ["Expected a GeoJSON Feature."]}))
        props = body.get("properties")
        if not isinstance(props, dict):
            raise _Rejected(_invalid({"properties": ["This field is required."]}))
        try:
            product = product_for_sku(props.get("sku"))
        except InvalidSku as exc:
            raise _Rejected(_invalid({"sku": [str(exc)]})) from exc
        if product.collection not in visible:
            detail = f"Contract {contract} does not include product {product.sku}."
            raise _Rejected(JSONResponse({"detail": detail}, status_code=403))
        try:
            requested = parse_polygon(body.get("geometry"))
        except ValueError as exc:
            raise _Rejected(_invalid({"geometry": [str(exc)]})) from exc
        for field in ("name", "project_name"):
            if props.get(field) is not None and not isinstance(props[field], str):
                raise _Rejected(_invalid({field: ["Not a valid string."]}))
        params = props.get("parameters")
        outcome = params.get("outcome_id") if isinstance(params, dict) else None
        if not isinstance(outcome, str) or not outcome:
            raise _Rejected(_invalid({"parameters": {"outcome_id": ["This field is required."]}}))
        by_collection = self.captures(outcome)
        tiles = by_collection.get(product.collection) or by_collection.get(QUICKVIEW)
        if not tiles:
            error = {"parameters": {"outcome_id": [f"Unknown capture {outcome}."]}}
            raise _Rejected(_invalid(error))
        return _Parsed(product, requested, outcome, props, tiles)

    async def create(self, request: Request) -> Response:
        """``POST /v2/orders/``: validate, clip, price and record a new archive order."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        visible, contract = auth
        try:
            body = await read_json(request)
        except ValueError:
            return _invalid({"non_field_errors": ["Invalid JSON body."]})
        try:
            product, requested, outcome, props, tiles = self._parse(body, visible, contract)
        except _Rejected as rejected:
            return rejected.response
        cells = [(t.id, _bbox(t)) for t in tiles]
        ids, bbox, area = clip(requested, cells)
        if not ids:
            return _invalid({"geometry": ["The geometry does not intersect the capture."]})
        order_id = self.book.next_id()
        quantity, price = quantity_and_price(area, product)
        deliverable_id, sceneset_id = new_ids(self.book.seed, order_id)
        stamp = "_".join(tiles[0].id.split("_")[:3])
        order = Order(
            order_id=order_id,
            contract_id=contract,
            product=product,
            name=props.get("name"),
            project_name=props.get("project_name"),
            parameters={"outcome_id": outcome},
            geometry=body["geometry"],
            capture=next(t for t in tiles if t.id == ids[0]),
            tiles=ids,
            bbox=bbox,
            quantity=quantity,
            price=price,
            created=self.book.clock(),
            fails=self.book.fails(order_id),
            deliverable_id=deliverable_id,
            sceneset_id=sceneset_id,
            scene_id=f"{stamp}_{product.level}_{order_id}",
        )
        self.book.add(order)
        for tile_id in ids:
            request.app.state.stats.record_order(tile_id)
        snap = self.book.snapshot(order)
        return JSONResponse(order_json(snap, CONTRACT_NAME), status_code=201)

    async def list_orders(self, request: Request) -> Response:
        """``GET /v2/orders/``: the contract's orders, newest first."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        orders = self.book.of_contract(auth[1])
        task_id = request.query_params.get("task_id")
        if task_id is not None:  # seed 000: "GET /orders?task_id=" shows a V1 task's order
            orders = [o for o in orders if str(o.parameters.get("task_id")) == task_id]
        rows, meta = _page(request, "/v2/orders", orders)
        features = [order_json(self.book.snapshot(o), CONTRACT_NAME) for o in rows]
        return JSONResponse({"type": "FeatureCollection", **meta, "features": features})

    def _snapshot(self, request: Request) -> Snapshot | Response:
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        order = self.book.get(auth[1], request.path_params["order_id"])
        if order is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        return self.book.snapshot(order)

    async def get_order(self, request: Request) -> Response:
        """``GET /v2/orders/{order_id}``."""
        snap = self._snapshot(request)
        if isinstance(snap, Response):
            return snap
        return JSONResponse(order_json(snap, CONTRACT_NAME))

    def _listing(self, rows: Callable[[Snapshot], list[dict[str, Any]]], name: str) -> Any:
        async def route(request: Request) -> Response:
            snap = self._snapshot(request)
            if isinstance(snap, Response):
                return snap
            path = f"/v2/orders/{snap.order.order_id}/{name}"
            page, meta = _page(request, path, rows(snap))
            return JSONResponse({**meta, "results": page})

        return route

    async def deliverables(self, request: Request) -> Response:
        """``GET /v2/deliverables?order_id=``: the contract's deliverables."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        wanted = request.query_params.get("order_id")
        rows = [
            deliverable_json(self.book.snapshot(o))
            for o in self.book.of_contract(auth[1])
            if wanted is None or o.order_id == wanted
        ]
        page, meta = _page(request, "/v2/deliverables", rows)
        return JSONResponse({**meta, "results": page})

    async def products(self, request: Request) -> Response:
        """``GET /v2/products/`` (assumed): SKUs and per-km² prices of the contract."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        visible = CONTRACT_COLLECTIONS.get(auth[1], frozenset())
        rows = [product_json(p) for p in PRODUCTS.values() if p.collection in visible]
        rows += [  # the tasking SKUs (seed 000), priced per km² like the archive's (assumed)
            {
                **product_json(t.delivery),
                "product_name": "Tasking",
                "geometry_type": "Polygon" if t.is_area else "Point",
                "minimum_quantity": {"value": float(t.min_km2), "unit": "km2"},
                "tasking_product": t.pk,
            }
            for t in TASK_PRODUCTS.values()
            if t.delivery.collection in visible
        ]
        page, meta = _page(request, "/v2/products", rows)
        return JSONResponse({**meta, "results": page})

    def routes(self) -> list[Route]:
        """Every Orders API route, with and without the trailing slash."""
        one = "/v2/orders/{order_id}"
        table: list[tuple[str, Any, str]] = [
            ("/v2/orders", self.create, "POST"),
            ("/v2/orders", self.list_orders, "GET"),
            (one, self.get_order, "GET"),
            (f"{one}/captures", self._listing(lambda s: [capture_json(s)], "captures"), "GET"),
            (
                f"{one}/deliverables",
                self._listing(lambda s: [deliverable_json(s)], "deliverables"),
                "GET",
            ),
            (f"{one}/events", self._listing(events_json, "events"), "GET"),
            ("/v2/deliverables", self.deliverables, "GET"),
            ("/v2/products", self.products, "GET"),
        ]
        routes = []
        for path, endpoint, method in table:
            routes.append(Route(path, endpoint, methods=[method]))
            routes.append(Route(f"{path}/", endpoint, methods=[method]))
        return routes
