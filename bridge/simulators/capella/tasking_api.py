"""Capella's tasking routes over the :class:`.tasking.TaskBook`.

``POST /task``, ``GET /task/{id}``, ``PATCH /task/{id}``, ``PATCH /task/{id}/status``,
``POST /tasks/search``, ``POST /tasks/paged``, ``GET /collects/list/{id}`` and
``POST /orders/task/{id}`` (an order of every product the request delivered, downloaded
as any order is). Errors use
Capella's body ``{"error": {"message", "code"}}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bridge.simulators.capella.auth import contract_id, current_user, error
from bridge.simulators.capella.orders import OrderBook
from bridge.simulators.capella.orders_api import data_size
from bridge.simulators.capella.task_rules import TaskError
from bridge.simulators.capella.tasking import Task, TaskBook
from bridge.simulators.common.app import JSONResponse, read_json

MAX_PAGE_SIZE = 500
# The SDK's tasking-request query fields (config.py TR_FILTERS_BY_QUERY_FIELDS) by what
# each compares: a property, or a list the property must be in.
QUERY_PROPERTIES = {
    "collectionType": "collectionType",
    "collectionTier": "collectionTier",
    "type": "type",
    "lastStatusCode": "lastStatusCode",
    "lastStatusTime": "lastStatusTime",
    "submissionTime": "submissionTime",
    "windowOpen": "windowOpen",
    "windowClose": "windowClose",
    "userId": "userId",
}
QUERY_LISTS = {"taskingrequestIds": "taskingrequestId", "organizationIds": "orgId"}
REPEATING = "includeRepeatingTasks"
"""``{"eq": false}`` on every SDK 0.20 search: leave out requests a repeat request made."""
OPERATORS = {
    "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _tasks(request: Request) -> TaskBook:
    book: TaskBook = request.app.state.tasks
    return book


def _caller(request: Request) -> dict[str, Any]:
    user = current_user(request)
    if isinstance(user, JSONResponse):
        raise _Denied(user)
    return user


class _Denied(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("denied")
        self.response = response


def _answer(exc: Exception) -> Response:
    if isinstance(exc, _Denied):
        return exc.response
    assert isinstance(exc, TaskError)
    return error(exc.status, str(exc), exc.code)


async def _json(request: Request) -> Any:
    try:
        return await read_json(request)
    except ValueError as exc:
        raise TaskError(400, "request body is not valid JSON", "VALIDATION_ERROR") from exc


async def create_task(request: Request) -> Response:
    """``POST /task``: a tasking request from a GeoJSON Feature (201)."""
    try:
        user = _caller(request)
        body = await _json(request)
        own = contract_id(user["organizationId"])
        contract = body.get("contractId") if isinstance(body, dict) else None
        if contract is not None and contract != own:
            raise TaskError(404, f"Contract {contract} not found", "CONTRACT_NOT_FOUND")
        task = _tasks(request).create(user, own, body)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    return JSONResponse(_tasks(request).to_feature(task), status_code=201)


def _owned(request: Request) -> Task:
    user = _caller(request)
    return _tasks(request).get(user["organizationId"], request.path_params["taskingrequestId"])


async def get_task(request: Request) -> Response:
    """``GET /task/{taskingrequestId}``."""
    try:
        task = _owned(request)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    return JSONResponse(_tasks(request).to_feature(task))


UPDATABLE = frozenset(
    {"taskingrequestName", "taskingrequestDescription", "customAttribute1", "customAttribute2"}
)
"""What ``PATCH /task/{id}`` may change (SDK ``config.py`` ``TR_UPDATABLE_PROPERTIES``)."""


async def update_task(request: Request) -> Response:
    """``PATCH /task/{id}`` ``{"properties": {...}}``: rename, describe, re-attribute."""
    try:
        task = _owned(request)
        body = await _json(request)
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise TaskError(400, "properties must be an object", "VALIDATION_ERROR")
        allowed = UPDATABLE | {"processingConfig"}
        refused = sorted(set(props) - allowed)
        if refused:
            raise TaskError(400, f"properties.{refused[0]} cannot be updated", "VALIDATION_ERROR")
        for name, value in props.items():
            valid = (
                isinstance(value, dict)
                if name == "processingConfig"
                else value is None or isinstance(value, str)
            )
            if not valid:
                raise TaskError(400, f"properties.{name} has the wrong type", "VALIDATION_ERROR")
        task.props.update(props)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    return JSONResponse(_tasks(request).to_feature(task))


async def patch_task_status(request: Request) -> Response:
    """``PATCH /task/{id}/status`` ``{"status": "canceled" | "approved" | "rejected"}``."""
    try:
        task = _owned(request)
        body = await _json(request)
        status = body.get("status") if isinstance(body, dict) else None
        _tasks(request).set_status(task, status)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    return JSONResponse(_tasks(request).to_feature(task))


def _matches(feature: dict[str, Any], query: dict[str, Any]) -> bool:
    props = {
        **feature["properties"],
        "lastStatusCode": feature["properties"]["statusHistory"][0]["code"],
        "lastStatusTime": feature["properties"]["statusHistory"][0]["time"],
    }
    for name, condition in query.items():
        if name == REPEATING:
            if condition == {"eq": False} and props.get("repeatrequestId") is not None:
                return False
            continue
        if name in QUERY_LISTS:
            if props.get(QUERY_LISTS[name]) not in condition:
                return False
            continue
        value = props.get(QUERY_PROPERTIES[name])
        if isinstance(condition, dict):
            if not all(OPERATORS[op](value, operand) for op, operand in condition.items()):
                return False
        elif isinstance(condition, list):
            if value not in condition:
                return False
        elif value != condition:
            return False
    return True


def _as_list(name: str, condition: Any) -> list[Any]:
    """An id-list filter as a list: the SDK sends a list, or ``{"eq": id}`` for one id."""
    if isinstance(condition, list):
        return condition
    if isinstance(condition, str):
        return [condition]
    if isinstance(condition, dict) and set(condition) == {"eq"}:
        return [condition["eq"]]
    raise TaskError(400, f"query.{name} must be a list of ids", "VALIDATION_ERROR")


def _check_query(query: Any) -> dict[str, Any]:
    """The query with id-list filters as lists; an unknown filter or operator is a 400."""
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise TaskError(400, "query must be an object", "VALIDATION_ERROR")
    out: dict[str, Any] = {}
    for name, condition in query.items():
        if name == REPEATING:
            if condition not in ({"eq": False}, {"eq": True}):
                raise TaskError(400, f"query.{name} takes eq true or false", "VALIDATION_ERROR")
        elif name in QUERY_LISTS:
            condition = _as_list(name, condition)
        elif name not in QUERY_PROPERTIES:
            raise TaskError(400, f"query.{name} is not a supported filter", "VALIDATION_ERROR")
        elif isinstance(condition, dict) and not set(condition) <= set(OPERATORS):
            raise TaskError(
                400, f"query.{name}: operators are eq, gt, gte, lt, lte", "VALIDATION_ERROR"
            )
        out[name] = condition
    return out


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        limit = int(request.query_params.get("limit", "250"))
    except ValueError as exc:
        raise TaskError(400, "page and limit must be integers", "VALIDATION_ERROR") from exc
    if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise TaskError(
            400, f"page must be >= 1 and limit in 1..{MAX_PAGE_SIZE}", "VALIDATION_ERROR"
        )
    return page, limit


def _page(features: list[dict[str, Any]], page: int, limit: int) -> dict[str, Any]:
    total_pages = max(1, -(-len(features) // limit))
    return {
        "results": features[(page - 1) * limit : page * limit],
        "currentPage": page,
        "totalPages": total_pages,
    }


async def search_tasks(request: Request) -> Response:
    """``POST /tasks/search?page=&limit=`` ``{"query": {...}}`` (the SDK's search)."""
    try:
        user = _caller(request)
        page, limit = _paging(request)
        body = await _json(request)
        query = _check_query(body.get("query") if isinstance(body, dict) else None)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    book = _tasks(request)
    features = [book.to_feature(t) for t in book.visible(user["organizationId"])]
    return JSONResponse(_page([f for f in features if _matches(f, query)], page, limit))


async def paged_tasks(request: Request) -> Response:
    """``POST /tasks/paged?page=&limit=&organizationId=|customerId=`` (seed 003)."""
    try:
        user = _caller(request)
        page, limit = _paging(request)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    organization = request.query_params.get("organizationId")
    customer = request.query_params.get("customerId")
    if (organization is not None and organization != user["organizationId"]) or (
        customer is not None and customer != user["id"]
    ):
        return error(403, "You are not authorized to perform this action", "NOT_AUTHORIZED")
    book = _tasks(request)
    tasks = [t for t in book.visible(user["organizationId"]) if customer in (None, t.user_id)]
    return JSONResponse(_page([book.to_feature(t) for t in tasks], page, limit))


async def list_collects(request: Request) -> Response:
    """``GET /collects/list/{taskingrequestId}``: the request's collects (once delivered)."""
    try:
        task = _owned(request)
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    return JSONResponse(task.collects)


async def order_task(request: Request) -> Response:
    """``POST /orders/task/{taskingRequestId}``: order every product the request delivered.

    The products are the organization's already (the task paid for them), so the order
    costs nothing and is ``completed`` at once, like any order of owned products.
    """
    try:
        user = _caller(request)
        task = _tasks(request).get(user["organizationId"], request.path_params["taskingrequestId"])
    except (TaskError, _Denied) as exc:
        return _answer(exc)
    if task.status != "completed":
        return error(
            409,
            f"Tasking request {task.task_id} is {task.status}, not completed",
            "TASK_NOT_COMPLETED",
        )
    orders: OrderBook = request.app.state.orders
    items = [orders.archive.items[orders.archive.by_id[i]] for i in task.item_ids]
    sizes = {item["id"]: await data_size(request, item) for item in items}
    order = orders.place(user, items, sizes, task.contract_id)
    for item in items:
        request.app.state.stats.record_order(item["id"])
    return JSONResponse(orders.to_json(order), status_code=201)
