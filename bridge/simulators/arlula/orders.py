"""The Arlula simulator's orders: accounts, orders, datasets, resources, and their timeline.

An order buys one or more scenes, one dataset each (a batch order: N datasets, arlulacore
``tests/test_archive.py``); the datasets share the order's status (assumed). Nothing runs
in the background: an order's status is a pure function of its creation time and the
settings, computed whenever a request looks at it (:func:`status_at`). The timeline, with
``step`` = ``arlula_order_step_s`` (:mod:`.settings`) (2 s by default, seconds in the sandbox):

    [pending-approval --approval_s--> (rejected | approved)]
    pending --step--> processing --step--> post-processing --step--> complete
                                 \\--step--> failed   (scenes listed as failing)

An order whose scenes all have ``fulfillmentTime`` 0 ("instant") is ``complete`` at once.

``complete`` starts the delivery's lifetime (one month by default, seed 002): after it the
resources answer 410 Gone. Public datasets (free suppliers) never expire (seed 002).
Orders that are rejected or fail are refunded, so the account's balance is also computed
from the clock: the initial balance minus what the live orders cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.simulators.arlula.settings import ArlulaSimSettings
    from bridge.simulators.arlula.tasking import Campaign

MONTH_S = 30 * 86400.0
Clock = Callable[[], float]

# Every order / dataset status value (seed 002, providers.md, node SDK src/orders/status.ts).
# The simulator produces all but created, manual, pending-screen, rescheduled (custom and
# tasking orders) and cancelled (done by Arlula's support, never through the API).
STATUSES = (
    "created",
    "pending",
    "processing",
    "post-processing",
    "complete",
    "manual",
    "pending-screen",
    "pending-approval",
    "rejected",
    "failed",
    "rescheduled",
    "cancelled",
)
REFUNDED = frozenset({"rejected", "failed", "cancelled"})


@dataclass(frozen=True)
class OrderSettings:
    """How simulated orders behave (from :class:`.settings.ArlulaSimSettings`)."""

    step_s: float = 2.0
    delivery_lifetime_s: float = MONTH_S
    url_ttl_s: float = 3600.0
    balance_cents: int = 100_000_000  # US$1,000,000 of prepaid credit
    approval_above_cents: int | None = None  # orders above this await a team admin
    approval_s: float = 2.0
    reject_approvals: bool = False
    failing_scenes: frozenset[str] = frozenset()
    teams: tuple[str, ...] = ("default",)
    payment_methods: tuple[str, ...] = ("default",)

    @classmethod
    def from_settings(cls, s: ArlulaSimSettings) -> OrderSettings:
        """The order knobs of the simulator's typed settings."""
        return cls(
            step_s=s.order_step_s,
            delivery_lifetime_s=s.delivery_lifetime_s,
            url_ttl_s=s.url_ttl_s,
            balance_cents=s.balance_cents,
            approval_above_cents=s.approval_above_cents,
            approval_s=s.order_step_s if s.approval_s is None else s.approval_s,
            reject_approvals=s.reject_approvals,
            failing_scenes=s.failing_scenes,
            teams=s.teams,
            payment_methods=s.payment_methods,
        )


@dataclass
class Resource:
    """One deliverable file of a dataset; ``size``/``checksum`` filled on first render."""

    id: str
    name: str
    type: str  # seed 002 resource types: img_tiff, thumb, meta_json, ...
    format: str
    roles: list[str]
    media_type: str
    dataset_id: str = ""
    size: int | None = None
    checksum: str | None = None


@dataclass
class Dataset:
    """The scene an archive order buys, with what was chosen and what it cost."""

    id: str
    order_id: str
    scene_index: int
    supplier: str
    scene_id: str
    ordering_id: str
    bundle: str
    eula: str
    seats: int
    total: int
    bbox: tuple[float, float, float, float]  # of the ordered area (scene or AOI)
    public: bool  # a free public dataset: its delivery never expires
    resources: list[Resource] = field(default_factory=list)
    campaign: str | None = None  # the tasking campaign that captured it


@dataclass
class Order:
    """A native order and everything its timeline depends on."""

    id: str
    account: str
    generation: str  # "2023-01" or "2020-12": the shape its webhook is sent in
    created_at: float
    datasets: list[Dataset]
    settings: OrderSettings
    needs_approval: bool
    fails: bool
    instant: bool = False  # every scene has fulfillmentTime 0: delivered before answering
    team: str | None = None
    payment: str | None = None
    coupon: str | None = None  # kept; no discount is simulated (coupon rules unknown)
    webhooks: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    notified: bool = False
    campaigns: list[Campaign] = field(default_factory=list)
    """A tasking order's campaigns (one; a batch's several); datasets come on capture."""

    @property
    def dataset(self) -> Dataset:
        """The first dataset: the only one of a single order (all 2020-12 forms)."""
        return self.datasets[0]

    @property
    def total(self) -> int:
        """What the order costs in US cents (tax and discounts are not simulated)."""
        return sum(d.total for d in self.datasets) + sum(c.total for c in self.campaigns)

    def dataset_of(self, resource: Resource) -> Dataset:
        """The dataset ``resource`` belongs to."""
        return next(d for d in self.datasets if d.id == resource.dataset_id)


def timeline(order: Order) -> list[tuple[float, str]]:
    """Every ``(since, status)`` the order goes through, in time order."""
    if order.campaigns:  # a tasking order moves as its campaigns do (assumed)
        return _campaigns_timeline(order.campaigns)
    s = order.settings
    t = order.created_at
    events: list[tuple[float, str]] = []
    if order.needs_approval:
        events.append((t, "pending-approval"))
        t += s.approval_s
        if s.reject_approvals:
            return [*events, (t, "rejected")]
    if order.instant and not order.fails:
        # "fulfillmentTime ... 0 is instant" (seed 002, arlulacore SearchResult): the order
        # answer itself is complete, with its resources (node SDK e2e order-test.ts).
        return [*events, (t, "complete")]
    events += [(t, "pending"), (t + s.step_s, "processing")]
    if order.fails:
        return [*events, (t + 2 * s.step_s, "failed")]
    return [*events, (t + 2 * s.step_s, "post-processing"), (t + 3 * s.step_s, "complete")]


_PROGRESS = ("pending-approval", "pending", "processing", "post-processing")


def _campaigns_timeline(campaigns: list[Campaign]) -> list[tuple[float, str]]:
    """A tasking order's statuses (assumed): its least advanced live campaign's; once all
    are over, ``complete`` if any completed, else the first campaign's end."""
    events: list[tuple[float, str]] = []
    for t in sorted({t for c in campaigns for t, _ in c.timeline()}):
        statuses = [c.status_at(t) for c in campaigns]
        live = [s for s in statuses if s in _PROGRESS]
        if live:
            status = min(live, key=_PROGRESS.index)
        else:
            status = "complete" if "complete" in statuses else statuses[0]
        if not events or events[-1][1] != status:
            events.append((t, status))
    return events


def status_at(order: Order, now: float) -> tuple[str, float]:
    """The order's status at ``now`` and since when (its ``updatedAt``)."""
    current = timeline(order)[0]
    for event in timeline(order):
        if event[0] <= now:
            current = event
    return current[1], max(current[0], order.created_at)


def delivered_at(order: Order) -> float | None:
    """When the order completes (None if it never will)."""
    last_at, last = timeline(order)[-1]
    return last_at if last == "complete" else None


def expires_at(order: Order, now: float, dataset: Dataset | None = None) -> float | None:
    """When ``dataset``'s delivery (by default the first) expires: None before completion
    and for public datasets."""
    done = delivered_at(order)
    if done is None or now < done or (dataset or order.dataset).public:
        return None
    return done + order.settings.delivery_lifetime_s


@dataclass
class Account:
    """One API account's orders (the simulator serves one, keyed by its API key)."""

    key: str
    settings: OrderSettings
    orders: dict[str, Order] = field(default_factory=dict)

    def balance(self, now: float) -> int:
        """Prepaid credit left at ``now``: refused and failed orders are refunded."""
        spent = sum(o.total for o in self.orders.values() if status_at(o, now)[0] not in REFUNDED)
        return self.settings.balance_cents - spent

    def newest_first(self) -> list[Order]:
        """Orders, most recent first (the listing order assumed for ``GET /api/orders``)."""
        return sorted(self.orders.values(), key=lambda o: o.created_at, reverse=True)


class Ledger:
    """Every account's orders, with lookups by dataset and resource id."""

    def __init__(self, settings: OrderSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self._datasets: dict[str, Order] = {}
        self._resources: dict[str, tuple[Order, Resource]] = {}

    def account(self, key: str) -> Account:
        """The account of API key ``key`` (created on first use)."""
        if key not in self.accounts:
            self.accounts[key] = Account(key, self.settings)
        return self.accounts[key]

    def add(self, order: Order) -> None:
        """Record a placed order and index its dataset and resources."""
        self.account(order.account).orders[order.id] = order
        for dataset in order.datasets:
            self._datasets[dataset.id] = order
            for resource in dataset.resources:
                self._resources[resource.id] = (order, resource)

    def add_dataset(self, order: Order, dataset: Dataset) -> None:
        """Record a dataset a campaign delivered to ``order`` after it was placed."""
        order.datasets.append(dataset)
        self._datasets[dataset.id] = order
        for resource in dataset.resources:
            self._resources[resource.id] = (order, resource)

    def order(self, key: str, order_id: str) -> Order | None:
        """Account ``key``'s order ``order_id``, or None (other accounts' are invisible)."""
        return self.account(key).orders.get(order_id)

    def dataset(self, key: str, dataset_id: str) -> tuple[Order, Dataset] | None:
        """Account ``key``'s dataset ``dataset_id`` and the order holding it."""
        order = self._datasets.get(dataset_id)
        if order is None or order.account != key:
            return None
        return order, next(d for d in order.datasets if d.id == dataset_id)

    def resource(self, key: str | None, resource_id: str) -> tuple[Order, Resource] | None:
        """A delivered resource of account ``key`` (any account for None: storage lookups);
        None when unknown or not delivered yet (resources appear on completion)."""
        found = self._resources.get(resource_id)
        if found is None or (key is not None and found[0].account != key):
            return None
        done = delivered_at(found[0])
        return found if done is not None and self.clock() >= done else None

    def resources_of(self, dataset_id: str) -> Iterator[tuple[Order, Resource]]:
        """Every resource of dataset ``dataset_id`` (delivered or not)."""
        order = self._datasets.get(dataset_id)
        if order is not None:
            for dataset in order.datasets:
                if dataset.id == dataset_id:
                    yield from ((order, resource) for resource in dataset.resources)


def new_id() -> str:
    """A UUID, as Arlula identifies orders, datasets and resources."""
    return str(uuid.uuid4())
