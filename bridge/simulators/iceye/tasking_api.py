"""The ICEYE simulator's Tasking API v2 routes (seed 001; ICEYE docs "create task", "get
task", "cancel task", "task products", "get task price", "check feasibility").

``POST /tasks`` (201 Task), ``GET /tasks`` (``contractID``, ``limit``, ``cursor``;
``{data, cursor}``), ``GET /tasks/{id}``, ``PATCH /tasks/{id}`` ``{"status": "CANCELED"}``
(RECEIVED or ACTIVE only, else 409), ``GET /tasks/{id}/scene`` (ACTIVE and later),
``GET /tasks/{id}/products[/{type}]`` (``{data, cursor}``, hrefs presigned 1 h),
``POST /feasibility`` (an array of task bodies) and ``GET /price`` (the task parameters
as query parameters, ``pointOfInterest[lat]`` style). Errors as the catalog's
(:func:`bridge.simulators.iceye.auth.api_error`, problem+json on request).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common import synth
from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.iceye.archive import MODE_BY_NAME, PRIVATE
from bridge.simulators.iceye.auth import AuthState, api_error, authenticate
from bridge.simulators.iceye.orders import iso
from bridge.simulators.iceye.orders_api import Refusal, _page
from bridge.simulators.iceye.render import render_v2
from bridge.simulators.iceye.task_rules import (
    IMAGING_MODES,
    PRODUCT_TYPES,
    Invalid,
    TaskSpec,
    parse_task,
    price_body,
)
from bridge.simulators.iceye.tasking import Task, TaskBook, task_body

PREFIX = "/api/tasking/v2"
PASS_INTERVAL_S = 8 * 3600.0
"""Spacing of feasible passes over a point (assumed: a few revisits a day)."""

Work = Callable[[Request, str], Awaitable[Response]]


def _handler(work: Work) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        client = authenticate(request)
        if isinstance(client, Response):
            return client
        try:
            return await work(request, client)
        except Invalid as refusal:
            return api_error(request, refusal.code, refusal.message, refusal.status)
        except Refusal as refusal:
            return api_error(request, refusal.code, refusal.message, refusal.status)

    return route


def _book(request: Request) -> TaskBook:
    book: TaskBook = request.app.state.tasks
    return book


def _spec(request: Request, client: str, body: Any, check_window: bool = True) -> TaskSpec:
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    spec = parse_task(body, _book(request).clock(), check_window)
    auth: AuthState = request.app.state.auth
    if spec.contract_id not in auth.contracts.get(client, frozenset()):
        raise Invalid("contract is not available to this client", 403, "FORBIDDEN")
    return spec


async def _json(request: Request) -> Any:
    try:
        return await read_json(request)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


async def create(request: Request, client: str) -> Response:
    """``POST /tasks`` → 201 and the Task."""
    spec = _spec(request, client, await _json(request))
    book = _book(request)
    task = book.create(client, spec)
    request.app.state.stats.record_order(task.id)
    return JSONResponse(task_body(book, task), status_code=201)


async def listing(request: Request, client: str) -> Response:
    """``GET /tasks``: the caller's tasks, newest first, paged."""
    book = _book(request)
    records, cursor = _page(request, book.listing(client, request.query_params.get("contractID")))
    body: dict[str, Any] = {"data": [task_body(book, t) for t in records]}
    if cursor is not None:
        body["cursor"] = cursor
    return JSONResponse(body)


def _task(request: Request, client: str) -> Task:
    task = _book(request).get(client, request.path_params["task_id"])
    if task is None:
        raise Invalid("task not found", 404, "NOT_FOUND")
    return task


async def one(request: Request, client: str) -> Response:
    """``GET /tasks/{taskID}``."""
    return JSONResponse(task_body(_book(request), _task(request, client)))


async def cancel(request: Request, client: str) -> Response:
    """``PATCH /tasks/{taskID}`` with ``{"status": "CANCELED"}``."""
    task = _task(request, client)
    body = await _json(request)
    if not isinstance(body, dict) or body.get("status") != "CANCELED":
        raise Invalid('status must be "CANCELED" (the only change a PATCH makes)')
    book = _book(request)
    book.cancel(task)
    return JSONResponse(task_body(book, task))


async def scene(request: Request, client: str) -> Response:
    """``GET /tasks/{taskID}/scene``: the planned acquisition (ACTIVE and later)."""
    task = _task(request, client)
    book = _book(request)
    # docs "get task scene": only once ACTIVE, and no longer after a cancellation.
    if task.canceled is not None or book.status(task) not in ("ACTIVE", "FULFILLED", "DONE"):
        raise Invalid(f"task {task.id} has no scheduled scene", 404, "NOT_FOUND")
    spec = task.spec
    mode = MODE_BY_NAME[IMAGING_MODES[spec.imaging_mode]]
    rng = random.Random(f"iceye-scene-{task.id}")
    start = spec.start + 3600.0
    footprint = synth.rotated_rectangle(spec.lon, spec.lat, mode[3], mode[4], rng.uniform(0, 30))
    look = spec.look_side if spec.look_side != "ANY" else "RIGHT"
    direction = spec.pass_direction if spec.pass_direction != "ANY" else "DESCENDING"
    return JSONResponse(
        {
            "imagingTime": {"start": iso(start), "end": iso(start + mode[5])},
            "duration": mode[5],
            "lookSide": look,
            "passDirection": direction,
            "footprint": footprint.geometry,
        }
    )


async def products(request: Request, client: str) -> Response:
    """``GET /tasks/{taskID}/products[/{productType}]``: presigned STAC items."""
    task = _task(request, client)
    wanted = request.path_params.get("product_type")
    if wanted is not None and wanted not in PRODUCT_TYPES:
        raise Invalid(f"productType must be one of {', '.join(PRODUCT_TYPES)}")
    book = _book(request)
    if book.status(task) not in ("FULFILLED", "DONE"):
        # docs changelog: task products answer 404 until the task is fulfilled.
        raise Invalid(f"task {task.id} has no products yet", 404, "NOT_FOUND")
    ready = [s for s in book.products(task) if wanted in (None, s.product_type)]
    records, cursor = _page(request, ready)
    base = str(request.base_url).rstrip("/")
    store = request.app.state.store
    data = []
    for s in records:
        item = render_v2(s, base, store, PRIVATE)
        item["collection"] = "tasking"  # seed 001's task-product example
        data.append(item)
    body: dict[str, Any] = {"data": data}
    if cursor is not None:
        body["cursor"] = cursor
    return JSONResponse(body)


def _passes(spec: TaskSpec) -> list[dict[str, Any]]:
    """Deterministic passes over the point within the window, honouring the constraints."""
    rng = random.Random(f"iceye-passes-{spec.lat:.4f}-{spec.lon:.4f}-{spec.start}")
    found = []
    at = spec.start + rng.uniform(0, PASS_INTERVAL_S)
    while at < spec.end:
        incidence = round(rng.uniform(10.0, 45.0), 1)
        look = "RIGHT" if rng.random() < 0.7 else "LEFT"
        direction = "ASCENDING" if rng.random() < 0.5 else "DESCENDING"
        low, high = spec.incidence or (0.0, 90.0)
        if (
            low <= incidence <= high
            and spec.look_side in ("ANY", look)
            and spec.pass_direction in ("ANY", direction)
        ):
            found.append(
                {
                    "start": iso(at),
                    "end": iso(at + timedelta(minutes=1).total_seconds()),
                    "incidenceAngle": incidence,
                    "lookSide": look,
                    "passDirection": direction,
                }
            )
        at += PASS_INTERVAL_S * rng.uniform(0.6, 1.4)
    return found


async def feasibility(request: Request, client: str) -> Response:
    """``POST /feasibility``: an array of task bodies, one answer each."""
    body = await _json(request)
    if not isinstance(body, list) or not body:
        raise Invalid("body must be a non-empty array of task requests")
    answers = []
    for index, entry in enumerate(body):
        try:
            spec = _spec(request, client, entry)
        except Invalid as exc:
            raise Invalid(f"[{index}].{exc.message}", exc.status, exc.code) from None
        passes = _passes(spec)
        answers.append({"feasible": bool(passes), "opportunities": passes})
    return JSONResponse({"data": answers})


async def price(request: Request, client: str) -> Response:
    """``GET /price``: the task parameters as query parameters."""
    params = request.query_params
    body: dict[str, Any] = {k: v for k, v in params.items() if "[" not in k}
    for nested in ("pointOfInterest", "acquisitionWindow", "incidenceAngle"):
        parts = {
            k[len(nested) + 1 : -1]: v for k, v in params.items() if k.startswith(f"{nested}[")
        }
        if parts:
            body[nested] = parts
    try:
        poi = body.get("pointOfInterest") or {}
        body["pointOfInterest"] = {k: float(v) for k, v in poi.items()}
        if "incidenceAngle" in body:
            body["incidenceAngle"] = {k: float(v) for k, v in body["incidenceAngle"].items()}
    except ValueError:
        raise Invalid("pointOfInterest and incidenceAngle values must be numbers") from None
    if "productTypes" in body:
        body["productTypes"] = params.getlist("productTypes")
    if "acquisitionWindow" not in body:
        # The price does not depend on the window (assumed); any valid one will do.
        now = _book(request).clock()
        body["acquisitionWindow"] = {"start": iso(now + 86400), "end": iso(now + 2 * 86400)}
    spec = _spec(request, client, body, check_window=False)
    if spec.contract_id in request.app.state.unpriced_contracts:
        raise Invalid(
            f"contract {spec.contract_id} has no Pricing Plan", 400, "OUT_OF_BOUND_CONTRACT"
        )
    return JSONResponse(price_body(spec))


def tasking_routes() -> list[Route]:
    """The Tasking API v2 routes."""
    tasks = f"{PREFIX}/tasks"
    one_task = f"{tasks}/{{task_id}}"
    return [
        Route(tasks, _handler(create), methods=["POST"]),
        Route(tasks, _handler(listing), methods=["GET"]),
        Route(one_task, _handler(one), methods=["GET"]),
        Route(one_task, _handler(cancel), methods=["PATCH"]),
        Route(f"{one_task}/scene", _handler(scene), methods=["GET"]),
        Route(f"{one_task}/products", _handler(products), methods=["GET"]),
        Route(f"{one_task}/products/{{product_type}}", _handler(products), methods=["GET"]),
        Route(f"{PREFIX}/feasibility", _handler(feasibility), methods=["POST"]),
        Route(f"{PREFIX}/price", _handler(price), methods=["GET"]),
    ]
