"""Satellogic V1 Tasking API routes of the simulator (seed 004, docs tasking-service).

* ``GET /tasking/products/`` → ``{count, next, previous, results: [{pk, name, is_area}]}``
  (docs command-line examples: 169 "Multispectral 70cm", 178 "Area Coverage 70cm").
* ``POST /tasking/tasks/`` ``{task_name, project_name, product, target, start, end}`` →
  201 with the task, ``status: "received"`` (seed 004; 201 assumed, DRF's create status).
* ``GET /tasking/tasks/`` (``limit``/``offset``, filters ``task_name``, ``project_name``,
  ``status``: docs usage and command-line examples), ``GET /tasking/tasks/{id}``,
  ``GET /tasking/tasks/{id}/captures/`` (seed 004).
* ``POST /tasking/tasks/{id}/cancel/`` (assumed path: the docs name cancellation only).

Errors are Django REST Framework's (assumed, as the list envelopes are DRF's): 400
``{"<field>": ["message"]}``, 404 ``{"detail": "Not found."}``; a task that can no longer be
canceled answers 400 ``{"detail": ...}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.satellogic.archive import L1D
from bridge.simulators.satellogic.auth import CONTRACT_COLLECTIONS, authorize
from bridge.simulators.satellogic.orders_api import NOT_FOUND, _invalid, _page
from bridge.simulators.satellogic.products import area_km2
from bridge.simulators.satellogic.tasking import (
    MAX_AOI_KM2,
    TASK_PRODUCTS,
    Task,
    TaskBook,
    TaskProduct,
    captures_json,
    task_json,
    task_price,
)

REQUIRED = ("task_name", "project_name", "product", "target", "start", "end")
DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)  # DRF's DateTimeField message


class _Invalid(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("invalid")
        self.errors = errors


def _products_of(contract: str) -> list[TaskProduct]:
    """Tasking products of a contract: those whose deliveries it may see (assumed)."""
    visible = CONTRACT_COLLECTIONS.get(contract, frozenset())
    return [p for p in TASK_PRODUCTS.values() if L1D in visible]


def _when(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise _Invalid({name: [DATETIME_FORMAT_ERROR]})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Invalid({name: [DATETIME_FORMAT_ERROR]}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _target(product: TaskProduct, value: object) -> tuple[dict[str, Any], float]:
    """The validated target GeoJSON and its area (km², 0 for a point)."""
    want = "Polygon" if product.is_area else "Point"
    if not isinstance(value, dict) or value.get("type") != want:
        kind = "AOI" if product.is_area else "POI"
        raise _Invalid({"target": [f"{kind} product {product.pk} needs a {want} target."]})
    try:
        geometry = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise _Invalid({"target": [f"Invalid GeoJSON: {exc}"]}) from exc
    w, s, e, n = geometry.bounds if not geometry.is_empty else (999, 0, 0, 0)
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90) or not geometry.is_valid:
        raise _Invalid({"target": ["Coordinates out of range or invalid geometry."]})
    area = area_km2(geometry) if product.is_area else 0.0
    if product.is_area and area > float(MAX_AOI_KM2):
        raise _Invalid({"target": [f"Area {area:.1f} km2 exceeds the {MAX_AOI_KM2} km2 limit."]})
    clean = {"type": want, "coordinates": value["coordinates"]}
    return clean, area


class TaskingApi:
    """The tasking routes over one :class:`TaskBook`."""

    def __init__(self, book: TaskBook) -> None:
        self.book = book

    def _parse(self, body: Any, contract: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _Invalid({"non_field_errors": ["Invalid data. Expected a dictionary."]})
        missing = {f: ["This field is required."] for f in REQUIRED if body.get(f) is None}
        if missing:
            raise _Invalid(missing)
        for name in ("task_name", "project_name"):
            if not isinstance(body[name], str) or not body[name].strip():
                raise _Invalid({name: ["Not a valid string."]})
        products = {p.pk: p for p in _products_of(contract)}
        pk = body["product"]
        product = products.get(pk) if isinstance(pk, int) and not isinstance(pk, bool) else None
        if product is None:
            raise _Invalid({"product": [f'Invalid pk "{pk}" - object does not exist.']})
        target, area = _target(product, body["target"])
        start, end = _when("start", body["start"]), _when("end", body["end"])
        if end <= start:
            raise _Invalid({"end": ["end must be after start."]})
        if end.timestamp() <= self.book.clock():
            raise _Invalid({"end": ["end must be in the future."]})
        return {
            "task_name": body["task_name"],
            "project_name": body["project_name"],
            "product": product,
            "target": target,
            "area": area,
            "start": start,
            "end": end,
        }

    async def create(self, request: Request) -> Response:
        """``POST /tasking/tasks/``: validate and record a task."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        try:
            body = await read_json(request)
        except ValueError:
            return _invalid({"non_field_errors": ["JSON parse error."]})
        try:
            parsed = self._parse(body, auth[1])
        except _Invalid as exc:
            return _invalid(exc.errors)
        task_id = self.book.next_id()
        product: TaskProduct = parsed["product"]
        quantity, price = task_price(product, parsed["area"])
        task = Task(
            task_id=task_id,
            contract_id=auth[1],
            task_name=parsed["task_name"],
            project_name=parsed["project_name"],
            product=product,
            target=parsed["target"],
            start=parsed["start"],
            end=parsed["end"],
            created=self.book.clock(),
            quantity=quantity,
            price=price,
            fate=self.book.fate(task_id),
        )
        self.book.add(task)
        request.app.state.stats.record_order(f"task:{task_id}")
        return JSONResponse(task_json(self.book, task), status_code=201)

    async def list_tasks(self, request: Request) -> Response:
        """``GET /tasking/tasks/``: the contract's tasks, newest first, filtered."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        rows = [task_json(self.book, t) for t in self.book.of_contract(auth[1])]
        for name in ("task_name", "project_name", "status"):
            wanted = request.query_params.get(name)
            if wanted is not None:
                rows = [r for r in rows if r[name] == wanted]
        page, meta = _page(request, "/tasking/tasks/", rows)
        return JSONResponse({**meta, "results": page})

    def _task(self, request: Request) -> Task | Response:
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        try:
            task_id = int(request.path_params["task_id"])
        except ValueError:
            return JSONResponse(NOT_FOUND, status_code=404)
        task = self.book.get(auth[1], task_id)
        return task if task is not None else JSONResponse(NOT_FOUND, status_code=404)

    async def get_task(self, request: Request) -> Response:
        """``GET /tasking/tasks/{task_id}``."""
        task = self._task(request)
        if isinstance(task, Response):
            return task
        return JSONResponse(task_json(self.book, task))

    async def captures(self, request: Request) -> Response:
        """``GET /tasking/tasks/{task_id}/captures/``."""
        task = self._task(request)
        if isinstance(task, Response):
            return task
        path = f"/tasking/tasks/{task.task_id}/captures/"
        page, meta = _page(request, path, captures_json(self.book, task))
        return JSONResponse({**meta, "results": page})

    async def cancel(self, request: Request) -> Response:
        """``POST /tasking/tasks/{task_id}/cancel/`` (assumed): only before its capture."""
        task = self._task(request)
        if isinstance(task, Response):
            return task
        status = self.book.status(task)
        captured = self.book.clock() >= self.book.captured_at(task)
        if status not in ("received", "in_progress") or captured:
            detail = f"Task {task.task_id} cannot be canceled: it is {status}"
            detail += " and its capture was taken." if captured and status == "in_progress" else "."
            return JSONResponse({"detail": detail}, status_code=400)
        task.canceled_at = self.book.clock()
        return JSONResponse(task_json(self.book, task))

    async def products(self, request: Request) -> Response:
        """``GET /tasking/products/``: the contract's tasking products."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        rows = [{"pk": p.pk, "name": p.name, "is_area": p.is_area} for p in _products_of(auth[1])]
        page, meta = _page(request, "/tasking/products/", rows)
        return JSONResponse({**meta, "results": page})

    def routes(self) -> list[Route]:
        """Every tasking route, with and without the trailing slash."""
        one = "/tasking/tasks/{task_id}"
        table: list[tuple[str, Any, str]] = [
            ("/tasking/products", self.products, "GET"),
            ("/tasking/tasks", self.create, "POST"),
            ("/tasking/tasks", self.list_tasks, "GET"),
            (one, self.get_task, "GET"),
            (f"{one}/captures", self.captures, "GET"),
            (f"{one}/cancel", self.cancel, "POST"),
        ]
        routes = []
        for path, endpoint, method in table:
            routes.append(Route(path, endpoint, methods=[method]))
            routes.append(Route(f"{path}/", endpoint, methods=[method]))
        return routes


class SettleTasks:
    """ASGI middleware: delivers completed tasks before each request is answered, so the
    archive, orders and Telluric show them (timelines are computed, nothing runs alone)."""

    def __init__(self, app: Any, book: TaskBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.book.settle()
        await self.app(scope, receive, send)
