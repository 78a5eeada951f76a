"""Arlula tasking as the STAPI layer sees it: :class:`ArlulaTasking` (``TaskingProvider``).

Products are data (``tasking_products.json``: one per supplier / GSD class). Every
product answers opportunities: ``POST /api/tasking/search`` for the product's supplier
and gsd; per-supplier failures come back as :attr:`OpportunityResult.errors`. An order
names an opportunity (``TaskingRequest.opportunity_id`` = the native ``orderingID``,
re-read with ``POST /api/tasking/get``); without one, the adapter searches and takes the
best result (:func:`~.tasking_mapping.best_result`: most passes, then cheapest, then
earliest). The quote is the native price formula over the chosen bundle, license,
priority and cloud level, in US cents.

A native task is the tasking **order** (its id is the task id): ``GET /api/order/{id}``
shows its one campaign; cancel is ``DELETE /api/tasking/cancel?id=`` (only while it awaits
a team admin's approval, else 405 → Conflict). Placing may take ``order_timeout_s``.

Exactly once: Arlula keeps no client reference on a tasking order or campaign, so
:meth:`find_tasks` re-derives the result the request orders (same ordering id) and lists
the account's campaigns (``GET /api/campaigns``) for one with that ordering id and the same
bundle, license, priority and cloud level. Deliveries are the order's datasets, named as
the archive adapter names their scenes (found again by a narrow archive search), with
the order id as ``native_order_id`` (the archive adapter's ``asset_location`` reads it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
from bridge.errors import (
    BadRequest,
    BridgeError,
    Conflict,
    Forbidden,
    NotFound,
    PaymentRequired,
    ProviderBadResponse,
)
from bridge.providers.arlula import tasking_mapping as tm
from bridge.providers.arlula.names import DEFAULT_BASE_URL, VERSION_GENERATIONS
from bridge.providers.arlula.order_mapping import order_id_from_webhook
from bridge.providers.arlula.tasking_products import product_specs, spec_for
from bridge.providers.base import ProviderContext
from bridge.providers.http import check_response, decode_json, exchange

NAME = "arlula"
PAGE_SIZE = 100
_ERRORS: dict[int, tuple[type[BridgeError], str]] = {
    400: (BadRequest, "the tasking request was refused (400)"),
    402: (PaymentRequired, "the account's credit does not cover the campaign (402)"),
    403: (Forbidden, "the account may not place this order (403)"),
    404: (NotFound, "no such tasking order (404)"),
    405: (Conflict, "the order can no longer be cancelled (405)"),
    412: (BadRequest, "order_parameters.license: the license terms were not accepted (412)"),
    422: (BadRequest, "the tasking order was refused as unprocessable (422)"),
}


def _native_text(response: httpx.Response) -> str:
    """The provider's own refusal (it names the request's fault), shortened."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        text = "; ".join(str(e) for e in body["errors"][:5])
    else:
        text = response.text
    text = " ".join(text.split())[:300]
    return f": {text}" if text else ""


class ArlulaTasking:
    """Arlula's tasking API (2023-01 generation) behind the tasking contract."""

    name = NAME

    def __init__(self, context: ProviderContext) -> None:
        settings = context.settings
        header = settings.api_version or "2023-01"
        if VERSION_GENERATIONS.get(header) != "2023-01":
            header = "2023-01"  # tasking exists only from 2023-01 (arlulacore 4.x)
        auth = None
        if settings.api_key is not None and settings.api_secret is not None:
            key, secret = (
                settings.api_key.get_secret_value(),
                settings.api_secret.get_secret_value(),
            )
            auth = httpx.BasicAuth(key, secret)
        self._client = context.http_client(
            settings.base_url or DEFAULT_BASE_URL, auth=auth, headers={"X-API-Version": header}
        )
        self.timeout_s = settings.timeout_s
        self.order_timeout_s = settings.order_timeout_s

    async def _json(self, method: str, path: str, *, deadline_s: float | None = None,
                    **kwargs: Any) -> Any:  # fmt: skip
        """One native call within its deadline; refusals become bridge errors."""
        deadline = self.timeout_s if deadline_s is None else deadline_s
        request = self._client.build_request(method, path, timeout=httpx.Timeout(deadline),
                                             **kwargs)  # fmt: skip
        response = await exchange(NAME, self._client, request, deadline)
        if response.status_code in _ERRORS:
            error, message = _ERRORS[response.status_code]
            raise error(f"{NAME}: {message}{_native_text(response)}")
        check_response(NAME, response)
        return decode_json(NAME, response)

    def products(self) -> list[TaskingProduct]:
        """Every Arlula tasking product (static data)."""
        return [spec.product for spec in product_specs().values()]

    async def _search(self, request: TaskingRequest) -> dict[str, Any]:
        spec = spec_for(request)
        body = await self._json("POST", "/api/tasking/search", json=tm.search_body(request, spec))
        if not isinstance(body, dict) or not isinstance(body.get("results", []), list):
            raise ProviderBadResponse(NAME, "unreadable tasking search answer")
        return body

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        """The supplier's capture opportunities for the request, and what failed."""
        spec = spec_for(request)
        body = await self._search(request)
        found = []
        for result in body.get("results") or []:
            if result.get("supplier") != spec.supplier:
                continue
            try:
                found.append(tm.opportunity(result, spec, request.order_parameters))
            except (KeyError, TypeError, ValueError) as exc:
                raise ProviderBadResponse(NAME, f"unreadable tasking result: {exc!r}") from exc
        errors = [tm.failure_text(e) for e in body.get("errors") or []]
        return OpportunityResult(found[:limit], errors)

    async def _result(self, request: TaskingRequest) -> tuple[dict[str, Any], tm.Options]:
        """The native result the request orders, and the options its parameters choose."""
        spec = spec_for(request)
        if request.opportunity_id:
            try:
                result = await self._json("POST", "/api/tasking/get",
                                          json={"id": request.opportunity_id})  # fmt: skip
            except BadRequest as exc:
                raise BadRequest(
                    f"opportunity_id: not an orderable Arlula opportunity{exc}"
                ) from exc
            if not isinstance(result, dict) or result.get("supplier") != spec.supplier:
                raise BadRequest(f"opportunity_id: not an opportunity of {spec.product.id}")
        else:
            body = await self._search(request)
            picked = tm.best_result(body.get("results") or [], spec, request.order_parameters)
            if picked is None:
                why = "; ".join(tm.failure_text(e) for e in body.get("errors") or [])
                raise Conflict(
                    f"{NAME}: no opportunity for this request{': ' + why if why else ''}"
                )
            result = picked
        return result, tm.options(result, request.order_parameters, spec)

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        """The campaign's price: bundle plus license, priority and cloud loadings (US cents)."""
        result, options = await self._result(request)
        details = {"ordering_id": result["orderingID"], "bundle": options.bundle["key"],
                   "license": options.license["href"], "priority": options.priority["key"],
                   "cloud": options.cloud["max"]}  # fmt: skip
        return TaskQuote(tm.price_cents(options), "USD", "campaign", details)

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        """Order the request's opportunity (Arlula stores no reference: see find_tasks)."""
        result, options = await self._result(request)
        body = tm.order_body(result, options, webhook_url)
        order = await self._json("POST", "/api/tasking/order", json=body,
                                 deadline_s=self.order_timeout_s)  # fmt: skip
        return self._task(order)

    def _task(self, order: Any) -> NativeTask:
        try:
            return tm.task_from_order(order)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable tasking order: {exc!r}") from exc

    async def _campaigns(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            body = await self._json(
                "GET", "/api/campaigns", params={"page": page, "size": PAGE_SIZE}
            )
            content = body.get("content") or [] if isinstance(body, dict) else []
            rows += [c for c in content if isinstance(c, dict)]
            page += 1
            if not content or page * PAGE_SIZE >= int(body.get("count", 0)):
                return rows

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        """Tasking orders already placed for this request (Arlula keeps no client
        reference): campaigns of the ordering id the request orders, with the same
        options. When that result cannot be derived again (its window has started, the
        opportunity is gone), campaigns are matched on what the request itself fixes:
        the opportunity id if it names one, else supplier, window and chosen options."""
        spec = spec_for(request)
        try:
            result, options = await self._result(request)
        except (BadRequest, Conflict):
            match = tm.request_matcher(request, spec)
        else:
            match = lambda c: tm.campaign_matches(c, result, options)  # noqa: E731
        orders = [c.get("order") for c in await self._campaigns() if match(c)]
        return [await self.get_task(str(o)) for o in dict.fromkeys(orders) if o]

    async def get_task(self, native_id: str) -> NativeTask:
        """The tasking order and its campaign now."""
        return self._task(await self._json("GET", f"/api/order/{native_id}"))

    async def cancel_task(self, native_id: str) -> NativeTask:
        """Cancel while the order awaits approval; Conflict (405) after that."""
        task = await self.get_task(native_id)
        if task.native_status == "cancelled":
            return task
        await self._json("DELETE", "/api/tasking/cancel", params={"id": native_id})
        return await self.get_task(native_id)

    async def approve_task(self, native_id: str) -> NativeTask:
        """Arlula's approvals are a team admin's, in Arlula's own app: nothing here."""
        task = await self.get_task(native_id)
        if task.awaiting_approval:
            raise Conflict(f"{NAME}: a team admin approves this order in Arlula's app")
        raise Conflict(f"{NAME}: the order awaits no approval ({task.native_status})")

    async def deliveries(self, native_id: str) -> list[Delivery]:
        """The archive items the order's campaign delivered (empty before completion)."""
        task = await self.get_task(native_id)
        datasets = task.details.get("datasets") or []
        if task.status != "completed" or not datasets:
            return []
        out = []
        for ds in datasets:
            found = await self._scene(task, ds)
            if found is not None:
                out.append(Delivery(found[0], found[1], native_id))
        return out

    async def _scene(self, task: NativeTask, ds: dict[str, Any]) -> tuple[str, str] | None:
        """The delivered scene as an archive item: a narrow archive search over the
        campaign's AOI from the order's day to the delivery's (captures happen between)."""
        first = datetime.fromisoformat(str(task.details["created_at"]).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(ds.get("updated_at") or task.details["created_at"])
                                      .replace("Z", "+00:00"))  # fmt: skip
        body = {
            "start": (first - timedelta(days=1)).date().isoformat(),
            "end": (last + timedelta(days=1)).date().isoformat(),
            "gsd": 100,
            "supplier": ds["supplier"],
            "polygon": task.details["aoi"],
        }
        answer = await self._json("POST", "/api/archive/search", json=body)
        for record in answer.get("results") or [] if isinstance(answer, dict) else []:
            if record.get("sceneID") == ds["scene_id"] and record.get("supplier") == ds["supplier"]:
                return tm.delivered_item(record)
        return None

    def task_id_from_webhook(self, payload: Any) -> str | None:
        """The order id in an order-complete event (a tasking order's too); never trusted
        further."""
        return order_id_from_webhook(payload)

    async def aclose(self) -> None:
        """Release connections."""
        await self._client.aclose()
