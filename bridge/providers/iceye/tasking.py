"""ICEYE tasking (Tasking API v2) as a :class:`~bridge.core.tasking_contract.TaskingProvider`.

One native task per order: ``POST /api/tasking/v2/tasks`` with the bridge's order id as
ICEYE's ``reference`` (stored and listed back), so :meth:`IceyeTasking.find_tasks` finds a
task whose creation answer was lost by listing the account's tasks. Prices come from
``GET /price`` (a contract without a pricing plan gets ``amount`` None); opportunities
from ``POST /feasibility``; cancel is ``PATCH`` ``{"status": "CANCELED"}`` (RECEIVED or
ACTIVE only: ICEYE's 409 becomes :class:`~bridge.errors.Conflict`). Delivered products
are catalog items of the collection of their product type; their files are reached
through the task products endpoint (``native_order_id`` ``task:<id>``, which the archive
adapter's ``asset_location`` understands). ICEYE's notifications are configured per
account (Notifications API, a registered webhook id), so ``webhook_url`` is not sent.
"""

from __future__ import annotations

from typing import Any

import httpx

from bridge.core.tasking_contract import (
    Delivery,
    NativeTask,
    OpportunityResult,
    TaskingProduct,
    TaskingRequest,
    TaskQuote,
)
from bridge.errors import Conflict, Forbidden, ProviderBadResponse
from bridge.providers.base import ProviderContext
from bridge.providers.iceye.names import PRODUCTS
from bridge.providers.iceye.order_client import TASK_ORDER_PREFIX, checked
from bridge.providers.iceye.problems import problem_of
from bridge.providers.iceye.session import IceyeSession
from bridge.providers.iceye.tasking_mapping import (
    native_task,
    opportunities,
    price_params,
    products,
    task_body,
)

NAME = "iceye"
DEFAULT_BASE_URL = "https://platform.iceye.com"
PATH = "/api/tasking/v2"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 50
"""Task pages scanned when reconciling (5,000 tasks, newest first)."""
MAX_PRODUCT_PAGES = 20
CURRENCY = "EUR"
"""The currency ICEYE prices in (seed 001's example); unused without an amount."""
DELIVERING = frozenset({"FULFILLED", "DONE"})


def _task(body: Any) -> NativeTask:
    if not isinstance(body, dict):
        raise ProviderBadResponse(NAME, "task is not a JSON object")
    try:
        return native_task(body)
    except (KeyError, TypeError) as exc:
        raise ProviderBadResponse(NAME, f"unreadable task ({exc!r})") from exc


class IceyeTasking:
    """ICEYE's Tasking API v2 for one set of credentials."""

    name = NAME

    def __init__(self, context: ProviderContext) -> None:
        settings = context.settings
        self._contract_id = settings.contract_id
        self._client = context.http_client(settings.base_url or DEFAULT_BASE_URL)
        self._session = IceyeSession(self._client, settings)
        self._products = products()

    def products(self) -> list[TaskingProduct]:
        """One product per imaging mode (static data)."""
        return list(self._products)

    def _contract(self) -> str:
        if not self._contract_id:
            raise Forbidden("no ICEYE contract is configured for these credentials")
        return self._contract_id

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        """Feasible passes from ``POST /feasibility`` (the request as a one-task array)."""
        body = task_body(request, self._contract(), None)
        response = await self._session.native("POST", f"{PATH}/feasibility", json=[body])
        answer = checked(response, "feasibility request")
        return OpportunityResult(opportunities(answer, request.geometry, limit))

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        """``GET /price`` for the task; without a pricing plan the amount is None."""
        body = task_body(request, self._contract(), None)
        response = await self._session.native(
            "GET", f"{PATH}/price", params=httpx.QueryParams(price_params(body))
        )
        covers = f"ICEYE {body['imagingMode']} task, {body.get('eula', 'STANDARD')} EULA"
        if 400 <= response.status_code < 500 and problem_of(response).means_price_unavailable():
            said = problem_of(response).text or "ICEYE states no price"
            return TaskQuote(None, CURRENCY, covers, {"price_unavailable": said})
        price = checked(response, "price request")
        amount = price.get("amount") if isinstance(price, dict) else None
        currency = price.get("currency") if isinstance(price, dict) else None
        if not isinstance(amount, int) or not isinstance(currency, str):
            raise ProviderBadResponse(NAME, "price has no integer amount and currency")
        return TaskQuote(amount, currency, covers)

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        """``POST /tasks`` (201) with ``reference`` stored natively."""
        body = task_body(request, self._contract(), reference)
        response = await self._session.native("POST", f"{PATH}/tasks", json=body)
        return _task(checked(response, "task"))

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        """The account's tasks carrying ``reference`` (listed newest first, bounded)."""
        found: list[NativeTask] = []
        params = {"contractID": self._contract(), "limit": str(LIST_PAGE_SIZE)}
        for _ in range(MAX_LIST_PAGES):
            page = checked(await self._session.native("GET", f"{PATH}/tasks", params), "task list")
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ProviderBadResponse(NAME, "task list has no 'data' list")
            found += [
                _task(t) for t in data if isinstance(t, dict) and t.get("reference") == reference
            ]
            cursor = page.get("cursor")
            if not isinstance(cursor, str) or not cursor:
                break
            params = {**params, "cursor": cursor}
        return found

    async def get_task(self, native_id: str) -> NativeTask:
        """``GET /tasks/{id}``."""
        response = await self._session.native("GET", f"{PATH}/tasks/{native_id}")
        return _task(checked(response, "task"))

    async def cancel_task(self, native_id: str) -> NativeTask:
        """``PATCH /tasks/{id}`` ``{"status": "CANCELED"}``; Conflict past ACTIVE."""
        response = await self._session.native(
            "PATCH", f"{PATH}/tasks/{native_id}", json={"status": "CANCELED"}
        )
        return _task(checked(response, "cancellation"))

    async def approve_task(self, native_id: str) -> NativeTask:
        """ICEYE tasks wait for no approval: Conflict."""
        raise Conflict("ICEYE tasks need no approval: they are accepted or rejected by ICEYE")

    async def deliveries(self, native_id: str) -> list[Delivery]:
        """The products delivered so far (FULFILLED: SLA products; DONE: all)."""
        task = await self.get_task(native_id)
        if task.native_status not in DELIVERING:
            return []
        delivered: list[Delivery] = []
        params: dict[str, str] = {}
        for _ in range(MAX_PRODUCT_PAGES):
            path = f"{PATH}/tasks/{native_id}/products"
            page = checked(await self._session.native("GET", path, params), "task products")
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ProviderBadResponse(NAME, "task products have no 'data' list")
            for product in data:
                delivery = self._delivery(product, native_id)
                if delivery is not None:
                    delivered.append(delivery)
            cursor = page.get("cursor")
            if not isinstance(cursor, str) or not cursor:
                break
            params = {"cursor": cursor}
        return delivered

    @staticmethod
    def _delivery(product: Any, native_id: str) -> Delivery | None:
        # Products of unknown types pass by (tolerant): they have no bridge collection.
        if not isinstance(product, dict) or not isinstance(product.get("id"), str):
            return None
        props = product.get("properties")
        ptype = props.get("sar:product_type") if isinstance(props, dict) else None
        line = PRODUCTS.get(ptype) if isinstance(ptype, str) else None
        if line is None:
            return None
        return Delivery(line.collection, product["id"], f"{TASK_ORDER_PREFIX}{native_id}")

    def task_id_from_webhook(self, payload: Any) -> str | None:
        """The task id an ICEYE notification names (``taskID``/``taskId``, top level or
        under ``data``; the payload is not documented in the seed, assumed)."""
        for holder in (payload, payload.get("data") if isinstance(payload, dict) else None):
            if isinstance(holder, dict):
                for key in ("taskID", "taskId"):
                    if isinstance(holder.get(key), str):
                        return str(holder[key])
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
