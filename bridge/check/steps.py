"""The steps of ``bridge providers check`` for one provider: auth, a small search, the
first item by id, its price, its thumbnail — reads only, never an order.

The adapter is reached through :class:`ReadOnlyProvider`, the read half of
:class:`~bridge.providers.base.Provider`: the check holds no reference through which an
order could be placed (mypy sees to it), and its transport refuses any write the
provider's ``shapes.json`` does not document as a read (:mod:`.recording`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

from bridge.check.recording import RecordingTransport, RefusedRequest, Unclosed
from bridge.core.contract import AssetLocation, Item, OrderOptions, ProviderPage, Quote
from bridge.core.query import SearchQuery
from bridge.errors import BridgeError, Conflict, ProviderAuthError

Status = Literal["held", "differed", "failed", "skipped"]
STEPS = ("auth", "search", "item", "price", "thumbnail")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")


class ReadOnlyProvider(Protocol):
    """What the check may call on an adapter: no ``place_order``, no ``cancel_order``."""

    async def search(
        self, query: SearchQuery, cursor: str | None, page_size: int
    ) -> ProviderPage: ...

    async def get_item(self, collection_id: str, item_id: str) -> Item | None: ...

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote: ...

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation: ...

    async def aclose(self) -> None: ...


@dataclass
class StepResult:
    """How one step went: its status, a one-line account, and any shape differences."""

    step: str
    status: Status
    message: str = ""
    differences: list[str] = field(default_factory=list)


class StepFailed(Exception):
    """A step could not be completed; the message says why, in the user's terms."""


def describe_error(provider: str, exc: BaseException) -> str:
    """A one-line, secret-free account of why a call failed (never a traceback)."""
    if isinstance(exc, ProviderAuthError):
        text = exc.description.removeprefix(f"{provider}: ")
        if text.startswith("credentials refused"):
            return f"{text} by {provider}"
        found = re.search(r"\((\d{3})\)", text)
        status = exc.detail.get("status") or (found.group(1) if found else None)
        if status is None:  # refused before any answer, e.g. incomplete credentials
            return f"{provider}: {text}"
        return f"credentials refused ({status}) by {provider}: {text}"
    if isinstance(exc, BridgeError):
        return exc.description
    if isinstance(exc, RefusedRequest):
        return str(exc)
    if isinstance(exc, httpx.TransportError | TimeoutError):
        return f"{provider}: unreachable ({type(exc).__name__})"
    return f"{provider}: unexpected {type(exc).__name__} in the adapter"


def is_image(content: bytes) -> bool:
    """True when ``content`` starts like a PNG, JPEG, GIF, TIFF or WebP file."""
    webp = content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    return webp or content.startswith(_IMAGE_MAGIC)


@dataclass
class Steps:
    """The check's calls on one adapter; each returns the step's one-line account."""

    provider: str
    adapter: ReadOnlyProvider
    recorder: RecordingTransport
    timeout_s: float
    item: Item | None = None

    async def search(self, query: SearchQuery) -> str:
        """A small search; keeps its first item for the next steps."""
        page = await self.adapter.search(query, None, query.limit)
        if not page.items:
            raise StepFailed("no items in the searched area and time (try --bbox, --datetime)")
        self.item = page.items[0]
        return f"{len(page.items)} item(s), first {self.item['id']}"

    async def get_item(self) -> str:
        """The first search result again, by id."""
        item = self._item()
        found = await self.adapter.get_item(item["collection"], item["id"])
        if found is None:
            raise StepFailed(f"{item['id']} (found by search) is not found by id")
        return f"{found['collection']}/{found['id']}"

    async def price(self) -> str:
        """A price or quote for the item — a quote only, never an order."""
        item = self._item()
        try:
            quote = await self.adapter.quote(item["collection"], item["id"], OrderOptions())
        except Conflict as exc:
            # Documented unavailability (e.g. ICEYE v1 has no price endpoint): not a failure.
            raise StepSkipped(exc.description) from exc
        if quote.amount is None:
            return f"price unavailable ({quote.currency}): the provider states none"
        return f"{quote.amount} {quote.currency} (minor units)"

    async def thumbnail(self) -> str:
        """Resolve the thumbnail asset and GET it, expecting image bytes."""
        item = self._item()
        if "thumbnail" not in (item.get("assets") or {}):
            raise StepSkipped(f"{item['id']} has no thumbnail asset")
        where = await self.adapter.asset_location(item["collection"], item["id"], "thumbnail", None)
        client = where.client or httpx.AsyncClient(
            transport=Unclosed(self.recorder), timeout=self.timeout_s
        )
        try:
            request = client.build_request("GET", where.href, headers=dict(where.headers))
            async with asyncio.timeout(self.timeout_s):
                response = await client.send(request, follow_redirects=True)
        finally:
            if where.client is None:
                await client.aclose()
        kind = response.headers.get("content-type", "no content type")
        if response.status_code >= 300:
            raise StepFailed(f"thumbnail answered {response.status_code} ({kind})")
        if not is_image(response.content):
            raise StepFailed(f"thumbnail is not an image ({kind}, {len(response.content)} bytes)")
        return f"{kind}, {len(response.content)} bytes"

    def _item(self) -> Item:
        if self.item is None:  # pragma: no cover - the runner skips the later steps
            raise StepFailed("no item to check")
        return self.item


class StepSkipped(Exception):
    """The step does not apply (documented unavailability); the message says why."""
