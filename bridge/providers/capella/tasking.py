"""Capella tasking for the STAPI layer: tasking requests over the native API.

``POST /task`` creates a request, ``GET /task/{id}`` reads it with its status history,
``PATCH /task/{id}/status`` cancels it (``canceled``) or answers its cost review
(``approved``); lost creations are found again with ``POST /tasks/search`` by the
bridge's reference in ``customAttribute1``. A completed request's products are ordered
with ``POST /orders/task/{id}`` (free: the task paid for them), whose order id the
archive adapter's ``asset_location`` resolves like any Capella order. Capella publishes
no feasibility search (no opportunities) and no tasking webhooks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as quote_path

from pydantic import SecretStr

from bridge.core.tasking_contract import (
    Delivery,
    NativeTask,
    OpportunityResult,
    TaskingProduct,
    TaskingRequest,
    TaskQuote,
)
from bridge.errors import BadRequest, Conflict, ProviderAuthError, ProviderBadResponse
from bridge.providers.base import ProviderContext
from bridge.providers.capella.names import BRIDGE_COLLECTIONS
from bridge.providers.capella.order_client import raise_for_native
from bridge.providers.capella.tasking_mapping import (
    CURRENCY,
    REFERENCE_FIELD,
    collection_type,
    field_of,
    task_body,
    task_from_native,
    tasking_products,
)
from bridge.providers.http import decode_json, exchange

PUBLIC_API = "https://api.capellaspace.com"
SEARCH_PAGE_SIZE = 250  # the SDK's default tasking-request page size
MAX_SEARCH_PAGES = 40
"""Most pages of the user's requests read to find a lost creation (10,000 requests)."""


class CapellaTasking:
    """Capella's tasking requests as a :class:`~bridge.core.tasking_contract.TaskingProvider`."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        settings = context.settings
        self._api_key: SecretStr | None = settings.api_key
        self._contract_id = settings.contract_id
        self._deadline_s = settings.timeout_s
        self._collections = frozenset(context.collections)
        self._user_id: str | None = None
        self._client = context.http_client((settings.base_url or PUBLIC_API).rstrip("/"))

    def __repr__(self) -> str:
        return "CapellaTasking()"

    def _auth_header(self) -> dict[str, str]:
        if self._api_key is None:
            raise ProviderAuthError(self.name, "no API key configured")
        return {"Authorization": f"ApiKey {self._api_key.get_secret_value()}"}

    async def _call(
        self, method: str, url: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """One native call; Capella's errors become bridge errors (fields named)."""
        request = self._client.build_request(
            method, url, json=json, params=params, headers=self._auth_header()
        )
        response = await exchange(self.name, self._client, request, self._deadline_s)
        try:
            raise_for_native(self.name, response)
        except BadRequest as exc:
            field = field_of(exc.description)
            if field is None:
                raise
            raise BadRequest(exc.description, field=field) from None
        return decode_json(self.name, response)

    def products(self) -> list[TaskingProduct]:
        """Capella's products: one per collection type (tier is an order parameter)."""
        return tasking_products()

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        """Capella publishes no feasibility search.

        Raises:
            Conflict: always (no product advertises opportunities).
        """
        raise Conflict("capella: Capella publishes no opportunity (feasibility) search")

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        """No price before creation: Capella estimates the cost in its ``review`` status."""
        collection_type(request.product_id)
        pre = bool(request.order_parameters.get("pre_approval", False))
        return TaskQuote(
            amount=None,
            currency=CURRENCY,
            covers="capella states a task's cost after creation, in its cost review",
            details={"approval_required": not pre},
        )

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        """``POST /task`` (``webhook_url`` unused: Capella documents no tasking webhooks)."""
        body = task_body(request, reference, self._contract_id)
        return task_from_native(await self._call("POST", "/task", json=body))

    async def _customer_id(self) -> str:
        if self._user_id is None:
            user = await self._call("GET", "/user")
            user_id = user.get("id") if isinstance(user, dict) else None
            if not isinstance(user_id, str):
                raise ProviderBadResponse(self.name, "GET /user names no id")
            self._user_id = user_id
        return self._user_id

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        """The user's requests carrying ``reference`` in ``customAttribute1``."""
        query = {
            "userId": await self._customer_id(),
            "collectionType": {"eq": collection_type(request.product_id)},
        }
        found: list[NativeTask] = []
        for page in range(1, MAX_SEARCH_PAGES + 1):
            params = {"page": page, "limit": SEARCH_PAGE_SIZE}
            answer = await self._call("POST", "/tasks/search", json={"query": query}, params=params)
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list):
                raise ProviderBadResponse(self.name, "tasks/search answer has no results list")
            for feature in results:
                props = feature.get("properties") if isinstance(feature, dict) else None
                if isinstance(props, dict) and props.get(REFERENCE_FIELD) == reference:
                    found.append(task_from_native(feature))
            total = answer.get("totalPages")
            if not isinstance(total, int) or page >= total:
                break
        return found

    def _path(self, native_id: str, tail: str = "") -> str:
        return f"/task/{quote_path(native_id, safe='')}{tail}"

    async def get_task(self, native_id: str) -> NativeTask:
        """``GET /task/{id}``: status, history (oldest first) and cost."""
        return task_from_native(await self._call("GET", self._path(native_id)))

    async def cancel_task(self, native_id: str) -> NativeTask:
        """``PATCH /task/{id}/status`` ``canceled`` (Conflict once it cannot be)."""
        await self._call("PATCH", self._path(native_id, "/status"), json={"status": "canceled"})
        return await self.get_task(native_id)

    async def approve_task(self, native_id: str) -> NativeTask:
        """Approve the cost estimate of a request in ``review``.

        Raises:
            Conflict: the request is not awaiting approval.
        """
        task = await self.get_task(native_id)
        if not task.awaiting_approval:
            raise Conflict(
                f"capella: task {native_id} is {task.native_status}, not awaiting cost approval"
            )
        await self._call("PATCH", self._path(native_id, "/status"), json={"status": "approved"})
        return await self.get_task(native_id)

    async def _task_order(self, native_id: str, granules: set[str]) -> str:
        """An order holding every granule: an earlier one, else ``POST /orders/task``."""
        customer = {"customerId": await self._customer_id()}
        orders = await self._call("GET", "/orders", params=customer)
        for order in orders if isinstance(orders, list) else ():
            if not isinstance(order, dict) or order.get("orderStatus") == "rejected":
                continue
            items = order.get("items") or []
            held = {i.get("granuleId") for i in items if isinstance(i, dict)}
            if granules <= held and isinstance(order.get("orderId"), str):
                return str(order["orderId"])
        created = await self._call("POST", f"/orders/task/{quote_path(native_id, safe='')}")
        order_id = created.get("orderId") if isinstance(created, dict) else None
        if not isinstance(order_id, str):
            raise ProviderBadResponse(self.name, "orders/task answer names no orderId")
        return order_id

    async def deliveries(self, native_id: str) -> list[Delivery]:
        """The archive items of a completed request, with the order that delivers them."""
        task = await self.get_task(native_id)
        if task.native_status != "completed":
            return []
        collects = await self._call("GET", f"/collects/list/{quote_path(native_id, safe='')}")
        listed = collects if isinstance(collects, list) else []
        collect_ids = [
            c["collectId"]
            for c in listed
            if isinstance(c, dict) and isinstance(c.get("collectId"), str)
        ]
        if not collect_ids:
            return []
        search = {"query": {"capella:collect_id": {"in": collect_ids}}, "limit": 100}
        page = await self._call("POST", "/catalog/search", json=search)
        items = [
            (BRIDGE_COLLECTIONS.get(f.get("collection", ""), ""), f.get("id"))
            for f in (page.get("features") if isinstance(page, dict) else None) or ()
            if isinstance(f, dict) and isinstance(f.get("id"), str)
        ]
        served = [(c, i) for c, i in items if c in self._collections]
        if not served:
            return []
        order_id = await self._task_order(native_id, {str(i) for _, i in items})
        return [Delivery(c, str(i), native_order_id=order_id) for c, i in served]

    def task_id_from_webhook(self, payload: Any) -> str | None:
        """Capella documents no tasking webhooks; a relayed request names its id."""
        props = payload.get("properties") if isinstance(payload, dict) else None
        task_id = props.get("taskingrequestId") if isinstance(props, dict) else None
        return task_id if isinstance(task_id, str) and task_id else None

    async def aclose(self) -> None:
        """Release connections."""
        await self._client.aclose()
