"""Satellogic tasking as a bridge :class:`~bridge.core.tasking_contract.TaskingProvider`.

Surface: the V1 Tasking API (seed 004, docs tasking-service), the best documented one:
``POST /tasking/tasks/``, ``GET /tasking/tasks/[{id}][/captures/]``, cancel (the docs
offer it; the path ``POST /tasking/tasks/{id}/cancel/`` is the simulator's assumption).
Prices are the contract's per-km² prices of the V2 tasking SKUs (``GET /v2/products/``).
No opportunities: Satellogic publishes no feasibility query (V2 checks feasibility only at
order creation), so no product advertises them.

Deliveries: a completed task's capture is in the archive (``satl:outcome_id`` = the
capture id) and is delivered by the Aleph V2 order that represents the task
(``GET /v2/orders/?task_id=``, seed 000), whose deliverable is the Telluric sceneset of
the capture. That order id is what the archive adapter's ``asset_location`` already
understands, so delivered items download like any ordered archive tile.

Authentication, the contract header and token refresh are the archive adapter's: this
class drives a :class:`~bridge.providers.satellogic.adapter.SatellogicProvider` built
from the same context.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx

from bridge.core.tasking_contract import (
    Delivery,
    NativeTask,
    OpportunityResult,
    TaskingProduct,
    TaskingRequest,
    TaskQuote,
)
from bridge.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.base import ProviderContext
from bridge.providers.http import check_response, decode_json
from bridge.providers.satellogic import names, tasking_mapping
from bridge.providers.satellogic.adapter import SatellogicProvider
from bridge.providers.satellogic.order_client import error_body

TASKS_PATH = "/tasking/tasks/"
LIST_LIMIT = 100
MAX_LIST_PAGES = 50
DELIVERED_NATIVE = "l1d"
"""Native collection of a tasked capture's delivered level (L1D, the SKUs' level)."""


def _summary(body: Any) -> str:
    """A DRF error body as one line naming the fields (no other content echoed)."""
    if isinstance(body, dict):
        return "; ".join(f"{k}: {_summary(v)}" for k, v in body.items())
    if isinstance(body, list):
        return " ".join(_summary(v) for v in body)
    return str(body)[:300]


def _task_id(native_id: str) -> int:
    """A V1 task id (an integer, seed 004), or NotFound for anything else."""
    try:
        return int(native_id)
    except ValueError:
        raise NotFound(f"no Satellogic task {native_id!r}") from None


class SatellogicTasking:
    """Satellogic point and area tasking for one set of credentials."""

    name = names.PROVIDER

    def __init__(self, context: ProviderContext) -> None:
        self._archive = SatellogicProvider(context)

    def __repr__(self) -> str:
        return f"SatellogicTasking({self._archive!r})"

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response: httpx.Response = await self._archive.call(method, path, body)
        self._raise_for(response)
        return decode_json(self.name, response)

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        body, detail = error_body(response)
        if status == 400 and detail:
            raise Conflict(f"{self.name}: {detail}")
        if status == 400:
            raise BadRequest(f"{self.name} refused the task: {_summary(body)}")
        if status == 402:
            raise PaymentRequired(f"{self.name}: {detail or 'payment required'}")
        if status == 403:
            raise Forbidden(f"{self.name}: the contract does not allow tasking")
        if status == 404:
            raise NotFound(f"{self.name}: {detail or 'no such task'}")
        check_response(self.name, response)

    def _task(self, body: Any) -> NativeTask:
        try:
            return tasking_mapping.native_task(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(self.name, f"unreadable task: {exc!r}") from exc

    def products(self) -> list[TaskingProduct]:
        """Point (``satellogic-poi``) and area (``satellogic-aoi``) tasking."""
        return tasking_mapping.products()

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        """Satellogic has no public feasibility query: Conflict."""
        raise Conflict(f"{self.name} publishes no opportunity search for {request.product_id}")

    async def _price_per_km2(self, sku: str) -> Decimal | None:
        body = await self._call("GET", "/v2/products/?limit=100")
        for row in body.get("results") or [] if isinstance(body, dict) else []:
            if isinstance(row, dict) and row.get("sku") == sku:
                try:
                    return Decimal(str(row["price_per_unit"]["amount"]))
                except (KeyError, TypeError, InvalidOperation) as exc:
                    raise ProviderBadResponse(self.name, f"unreadable price: {exc!r}") from exc
        return None

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        """The task's area at the contract's price per km² of its SKU."""
        sku = str(tasking_mapping.native_products()[request.product_id]["sku"])
        return tasking_mapping.quote(request, await self._price_per_km2(sku))

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        """``POST /tasking/tasks/`` named ``reference`` (Satellogic has no webhooks)."""
        body = tasking_mapping.task_body(request, reference)
        return self._task(await self._call("POST", TASKS_PATH, body))

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        """The tasks named ``reference`` (the documented ``task_name`` filter, checked
        again here in case a server ignores the filter), following ``next`` links."""
        query = urlencode({"task_name": reference, "limit": LIST_LIMIT, "offset": 0})
        path: str | None = f"{TASKS_PATH}?{query}"
        found: list[NativeTask] = []
        for _ in range(MAX_LIST_PAGES):
            if path is None:
                break
            body = await self._call("GET", path)
            if not isinstance(body, dict):
                raise ProviderBadResponse(self.name, "task list is not an object")
            found += [
                self._task(row)
                for row in body.get("results") or []
                if tasking_mapping.task_matches(row, reference)
            ]
            path = str(body["next"]) if body.get("next") else None
        return found

    async def get_task(self, native_id: str) -> NativeTask:
        """``GET /tasking/tasks/{id}`` (the V1 API keeps no status history)."""
        return self._task(await self._call("GET", f"{TASKS_PATH}{_task_id(native_id)}"))

    async def cancel_task(self, native_id: str) -> NativeTask:
        """Cancel before the capture; Conflict (with Satellogic's reason) afterwards."""
        return self._task(await self._call("POST", f"{TASKS_PATH}{_task_id(native_id)}/cancel/"))

    async def approve_task(self, native_id: str) -> NativeTask:
        """Satellogic tasks wait for no approval: Conflict."""
        task = await self.get_task(native_id)
        raise Conflict(f"{self.name} task {native_id} ({task.native_status}) needs no approval")

    async def deliveries(self, native_id: str) -> list[Delivery]:
        """The archive items of a completed task's published captures, with the V2 order
        (``GET /v2/orders/?task_id=``) that delivers them through Telluric."""
        task = await self.get_task(native_id)
        if task.status != "completed":
            return []
        query = urlencode({"task_id": _task_id(native_id), "limit": LIST_LIMIT})
        orders = await self._call("GET", f"{names.ORDERS_PATH}?{query}")
        by_capture: dict[str, str] = {}
        for feature in orders.get("features") or [] if isinstance(orders, dict) else []:
            props = feature.get("properties") if isinstance(feature, dict) else None
            params = (props or {}).get("parameters") or {}
            if props and params.get("outcome_id") and props.get("order_id"):
                by_capture[str(params["outcome_id"])] = str(props["order_id"])
        captures = await self._call("GET", f"{TASKS_PATH}{_task_id(native_id)}/captures/?limit=100")
        out: list[Delivery] = []
        for capture in captures.get("results") or [] if isinstance(captures, dict) else []:
            capture_id = str(capture.get("capture_id"))
            if capture.get("status") != "published" or capture_id not in by_capture:
                continue
            out += await self._items(capture_id, by_capture[capture_id])
        return out

    async def _items(self, capture_id: str, order_id: str) -> list[Delivery]:
        search = {
            "collections": [DELIVERED_NATIVE],
            "query": {"satl:outcome_id": {"eq": capture_id}},
            "limit": LIST_LIMIT,
        }
        body = await self._call("POST", f"{names.STAC_ROOT}/search", search)
        collection = names.BRIDGE_BY_NATIVE[DELIVERED_NATIVE]
        return [
            Delivery(collection, str(f["id"]), order_id)
            for f in (body.get("features") or [] if isinstance(body, dict) else [])
            if isinstance(f, dict) and f.get("id")
        ]

    def task_id_from_webhook(self, payload: Any) -> str | None:
        """Satellogic documents no tasking webhooks; a ``{"task_id"}`` body is understood."""
        value = payload.get("task_id") if isinstance(payload, dict) else None
        return str(value) if isinstance(value, int | str) and str(value).isdigit() else None

    async def aclose(self) -> None:
        """Release connections."""
        await self._archive.aclose()
