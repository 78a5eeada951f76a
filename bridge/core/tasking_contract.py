"""The narrow interface a provider's *tasking* adapter implements (new acquisitions).

A provider subpackage that can task exposes ``create_tasking(context)`` next to
``create_provider(context)``, returning a :class:`TaskingProvider` built from the same
:class:`bridge.providers.base.ProviderContext` (one set of credentials: the deployment's
to list products, a tenant's for everything that costs money or reads the tenant's tasks).
The STAPI layer (``bridge/tasking/``) talks to tasking adapters only through this module.

Vocabulary (STAPI v0.1.0, ``../shared/stapi-spec``): a *product* is what can be tasked
(an imaging mode and tier); an *opportunity* a window in which it could be acquired; an
*order* one native task. Status words are STAPI's ``OrderStatusCode``; each adapter maps
its native words to them through a table kept as data.

Exactly once: the bridge writes its ledger row (with ``reference``, the bridge's order id)
before :meth:`TaskingProvider.create_task`; when the outcome of that call is unknown it
calls :meth:`TaskingProvider.find_tasks` with the same request and reference before
anything is sent again. Adapters send ``reference`` natively wherever the API keeps a
client reference or a name, so that lookup is exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

StapiStatus = Literal[
    "received",
    "accepted",
    "rejected",
    "completed",
    "cancelled",
    "scheduled",
    "held",
    "processing",
    "reserved",
    "tasked",
    "user_cancelled",
    "expired",
    "failed",
]
"""STAPI's ``OrderStatusCode`` (offline ``spec/openapi.yaml``)."""

TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"rejected", "completed", "cancelled", "user_cancelled", "expired", "failed"}
)
"""Statuses after which a task never changes again (the poller stops asking)."""


@dataclass(frozen=True)
class TaskingProduct:
    """One product a provider can task, described the STAPI way.

    ``id`` starts with the provider's name and a dash (``iceye-spotlight``): the bridge
    routes a product to its provider by that prefix.
    """

    id: str
    title: str
    description: str
    queryables: dict[str, Any]
    """JSON Schema (draft-07 object) of the opportunity constraints a CQL2-JSON ``filter``
    may use (incidence or off-nadir ranges, look side, pass direction, cloud limit…)."""
    order_parameters: dict[str, Any]
    """JSON Schema (object) of the order parameters; every property optional, with the
    provider's standard choice as its ``default``."""
    collection_id: str
    """The bridge collection delivered items land in (found by ``/search``)."""
    opportunities: bool
    """Whether the provider answers opportunity searches for this product (only then is
    the opportunity conformance class declared and the endpoint served)."""
    keywords: tuple[str, ...] = ()
    license: str = "proprietary"
    providers: tuple[dict[str, Any], ...] = ()
    """STAC provider objects (name, roles, url)."""
    links: tuple[dict[str, Any], ...] = ()
    """Links to the provider's own documentation of this product."""
    cancellable: bool = False
    """Whether the provider lets a task of this product be canceled (in some states)."""
    approval: bool = False
    """Whether a new task waits for the customer's approval of its cost (Capella's
    ``pre_approval`` / ``pending-customer-approval``) before it is tasked."""


@dataclass(frozen=True)
class TaskingRequest:
    """What a tenant asks for: validated by the STAPI layer against the product's schemas.

    ``order_parameters`` has every default filled in; ``constraints`` is the CQL2-JSON
    ``filter`` (or None), already checked to use only the product's queryables.
    """

    product_id: str
    start: datetime
    end: datetime
    geometry: dict[str, Any]
    """A GeoJSON geometry (a Point for point products, a Polygon for area products)."""
    constraints: dict[str, Any] | None = None
    order_parameters: dict[str, Any] = field(default_factory=dict)
    opportunity_id: str | None = None
    """An opportunity's id from :meth:`TaskingProvider.opportunities` the order picks,
    where the provider orders by opportunity (Arlula's ``orderingID``)."""

    def key(self) -> str:
        """A canonical digest of the request: one native task per (tenant, product, key)."""
        raw = orjson.dumps(
            {
                "product_id": self.product_id,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "geometry": self.geometry,
                "constraints": self.constraints,
                "order_parameters": self.order_parameters,
                "opportunity_id": self.opportunity_id,
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Opportunity:
    """A window in which the product could be acquired, as the provider states it."""

    start: datetime
    end: datetime
    geometry: dict[str, Any]
    id: str | None = None
    """The provider's handle for ordering this very opportunity, if it has one."""
    properties: dict[str, Any] = field(default_factory=dict)
    """STAC-style properties (``view:incidence_angle``, ``sat:orbit_state``, …) and the
    price where the provider states one (``price`` as in the bridge's price extension)."""


@dataclass(frozen=True)
class OpportunityResult:
    """Opportunities found, and what some suppliers could not answer (partial, not failure)."""

    opportunities: list[Opportunity]
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskQuote:
    """What a task would cost (quoted and recorded before the native call)."""

    amount: int | None
    """Minor units of ``currency``; None: the provider states no price for it."""
    currency: str
    covers: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusEvent:
    """One step of a task's history."""

    time: datetime
    status: StapiStatus
    native_status: str
    reason: str | None = None


@dataclass(frozen=True)
class NativeTask:
    """A provider's task as the adapter reads it."""

    native_id: str
    status: StapiStatus
    native_status: str
    history: tuple[StatusEvent, ...] = ()
    """The native status history with times and reasons, oldest first, where the
    provider keeps one (else empty: the bridge records the changes it observes)."""
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    awaiting_approval: bool = False
    """The provider waits for the customer to approve the cost (see ``approve_task``)."""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One archive item a task delivered, and how its assets are reached.

    The bridge records a succeeded archive order for the tenant with ``native_order_id``,
    so ``/search`` shows ``order:status`` succeeded and ``/assets/{key}`` resolves through
    the provider's archive adapter :meth:`bridge.core.contract.Provider.asset_location`
    (which must understand ``native_order_id``).
    """

    collection_id: str
    item_id: str
    native_order_id: str


class TaskingProvider(Protocol):
    """A provider's tasking as the STAPI layer sees it."""

    name: str

    def products(self) -> list[TaskingProduct]:
        """The products this provider offers (static data; no native call)."""
        ...

    async def opportunities(self, request: TaskingRequest, limit: int) -> OpportunityResult:
        """Acquisition opportunities for ``request`` (only for products that advertise them).

        Raises:
            BadRequest: the request breaks a native rule (names the field).
            Conflict: the product has no opportunity search.
        """
        ...

    async def quote(self, request: TaskingRequest) -> TaskQuote:
        """Price the request where the provider prices tasks (amount None otherwise)."""
        ...

    async def create_task(
        self, request: TaskingRequest, reference: str, webhook_url: str | None = None
    ) -> NativeTask:
        """Create one native task. ``reference`` is the bridge's order id.

        Raises:
            BadRequest (native validation, naming the field), PaymentRequired, Forbidden
            (no contract), ProviderError / ProviderUnavailable (outcome may be unknown).
        """
        ...

    async def find_tasks(self, request: TaskingRequest, reference: str) -> list[NativeTask]:
        """Native tasks already created for this request (by ``reference`` where the API
        keeps one, else by matching the request): how a lost call is reconciled."""
        ...

    async def get_task(self, native_id: str) -> NativeTask:
        """The current state and history of a native task."""
        ...

    async def cancel_task(self, native_id: str) -> NativeTask:
        """Cancel a native task.

        Raises:
            Conflict: the provider cannot cancel it (any more), saying why.
        """
        ...

    async def approve_task(self, native_id: str) -> NativeTask:
        """Approve a task's cost where the provider waits for it.

        Raises:
            Conflict: nothing to approve.
        """
        ...

    async def deliveries(self, native_id: str) -> list[Delivery]:
        """The archive items a completed task delivered (empty before completion)."""
        ...

    def task_id_from_webhook(self, payload: Any) -> str | None:
        """The native task id a provider's webhook payload names (None if it names none);
        the bridge re-reads the task natively, never trusting the payload further."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
