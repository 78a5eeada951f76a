"""ICEYE catalog purchases: the in-memory book, the state machine and the frame prices.

v2 buys a *frame* (one acquisition): a purchase delivers every product ICEYE made of it
(GRD, SLC and whichever of SICD, SIDD, CSI, VID exist), since the documented request
names no product type. v1 bought item ids. Purchases belong to the calling OAuth client
(the account); v1 and v2 keep separate books (whether each lists the other's purchases
is unconfirmed).

Status is computed from the creation time, no background task: ``received`` for one
step, ``active`` for the next, then ``closed`` (complete). A frame named in
setting ``iceye_purchase_outcomes`` (``{frame_id: "failed" | "canceled"}``)
ends that way after the first step instead. The step is setting
``iceye_order_step_s`` (default 2 s; :mod:`bridge.simulators.iceye.settings`).

Prices (assumed; the seed documents only ``{amount, currency}`` in minor units with a
EUR example): a base price per acquisition mode, times a factor per EULA.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge.simulators.iceye.archive import Archive, Scene

EULAS = ("STANDARD", "GOVERNMENT", "MULTI")
"""The seed's license types."""
DEFAULT_EULA = "STANDARD"
CURRENCY = "EUR"
# EUR cents per frame by iceye:acquisition_mode (assumed, in the range of public
# archive price lists).
BASE_PRICE = {
    "spotlight": 150_000,
    "spotlight_extended_area": 200_000,
    "dwell": 250_000,
    "stripmap": 100_000,
    "scan": 120_000,
}
EULA_FACTOR = {"STANDARD": 1.0, "GOVERNMENT": 1.0, "MULTI": 1.5}
DEFAULT_STEP_S = 2.0
TERMINAL_OUTCOMES = frozenset({"failed", "canceled"})


def frame_price(scenes: tuple[Scene, ...], eula: str) -> int:
    """The price of a frame in EUR cents under ``eula``."""
    mode = scenes[0].properties["iceye:acquisition_mode"]
    return round(BASE_PRICE[mode] * EULA_FACTOR[eula])


def iso(ts: float) -> str:
    """RFC 3339 UTC with a ``Z``, second precision (as the seed's examples)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Purchase:
    """One purchase as the simulator keeps it."""

    id: str
    version: str
    client: str
    contract_id: str
    created: float
    item_ids: tuple[str, ...]
    frame_id: str | None = None
    eula: str | None = None
    reference: str | None = None
    company_name: str | None = None
    contact_person: str | None = None


@dataclass
class PurchaseBook:
    """Every purchase, by id, with the clock and timings that drive their status."""

    clock: Callable[[], float]
    step_s: float = DEFAULT_STEP_S
    outcomes: dict[str, str] = field(default_factory=dict)
    purchases: dict[str, Purchase] = field(default_factory=dict)

    def add(self, purchase: Purchase) -> Purchase:
        """Record ``purchase``."""
        self.purchases[purchase.id] = purchase
        return purchase

    def new_id(self) -> str:
        """A fresh purchase id (a UUID, as the seed's ``purchase-uuid``)."""
        return str(uuid.uuid4())

    def get(self, client: str, version: str, purchase_id: str) -> Purchase | None:
        """The purchase ``purchase_id`` if ``client`` made it through API ``version``."""
        found = self.purchases.get(purchase_id)
        if found is None or found.client != client or found.version != version:
            return None
        return found

    def listing(self, client: str, version: str, contract: str | None) -> list[Purchase]:
        """The client's purchases, newest first (assumed order), optionally by contract."""
        mine = [
            p
            for p in self.purchases.values()
            if p.client == client
            and p.version == version
            and (contract is None or p.contract_id == contract)
        ]
        return sorted(mine, key=lambda p: (-p.created, p.id))

    def status(self, purchase: Purchase) -> str:
        """The purchase's status now: ``received → active → closed`` or a failure."""
        elapsed = self.clock() - purchase.created
        if elapsed < self.step_s:
            return "received"
        outcome = self.outcomes.get(purchase.frame_id or "") or next(
            (self.outcomes[i] for i in purchase.item_ids if i in self.outcomes), None
        )
        if outcome in TERMINAL_OUTCOMES:
            return outcome
        return "active" if elapsed < 2 * self.step_s else "closed"

    def owned_frames(self, client: str, archive: Archive) -> frozenset[str]:
        """The frames ``client`` owns: those of its closed purchases (its ``private``
        catalog; its acquired tasks' frames are there too, see ``TaskBook.owned_frames``)."""
        owned: set[str] = set()
        for purchase in self.purchases.values():
            if purchase.client == client and self.status(purchase) == "closed":
                owned.update(
                    archive.by_id[i].properties["frame_id"]
                    for i in purchase.item_ids
                    if i in archive.by_id
                )
        return frozenset(owned)

    def delivered(self, purchase: Purchase, archive: Archive) -> list[Scene]:
        """The products a closed purchase delivers (none before it is closed)."""
        if self.status(purchase) != "closed":
            return []
        if purchase.frame_id is not None:
            return list(archive.by_frame.get(purchase.frame_id, ()))
        return [archive.by_id[i] for i in purchase.item_ids if i in archive.by_id]


def purchase_v2(book: PurchaseBook, p: Purchase) -> dict[str, Any]:
    """The v2 ``PurchaseObject``."""
    return {
        "id": p.id,
        "frameID": p.frame_id,
        "contractID": p.contract_id,
        "createdAt": iso(p.created),
        "status": book.status(p),
        "reference": p.reference,
        "eula": p.eula,
    }


def purchase_v1(book: PurchaseBook, p: Purchase) -> dict[str, Any]:
    """The v1 ``PurchasedItem`` (customerName from the request's companyName; the
    contract's display name is assumed)."""
    return {
        "id": p.id,
        "customerName": p.company_name,
        "contractName": f"Contract {p.contract_id[:8]}",
        "createdAt": iso(p.created),
        "status": book.status(p),
        "reference": p.reference,
    }
