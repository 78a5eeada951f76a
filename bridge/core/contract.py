"""The one narrow interface every provider adapter implements (owned by the core).

A provider subpackage ``bridge/providers/<name>/`` exposes ``create_provider(context)``
(:class:`bridge.providers.base.ProviderContext`) returning a :class:`Provider`. The
federation core talks to providers only through this module's types; providers import
the core, never the reverse.

Contract of :meth:`Provider.search`:

* The native request must select a **superset** of the items matching the query (push
  down what the native API evaluates, loosen what it evaluates differently, e.g. whole
  days); the core evaluates the full query exactly on every returned item.
* Items come back **sorted** by :func:`bridge.core.sorting.sort_key_function` of
  ``query.sortby`` (natively, or by the adapter), so the core can merge providers.
* A cursor is opaque, JSON-safe text, and self-describing: the same cursor always
  yields the same page, whatever ``page_size`` is passed with it.

Ordering: one adapter instance speaks with one set of credentials (the deployment's for
search, a tenant's for prices, orders and downloads), so nothing it caches crosses
tenants. Order states are mapped to the STAC Order extension's vocabulary; prices are in
minor units of their currency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx
import orjson

from bridge.core.query import SearchQuery

Item = dict[str, Any]
CollectionDoc = dict[str, Any]


@dataclass(frozen=True)
class ProviderPage:
    """One native page, mapped to STAC items: a list, or a sequence that maps each native
    record when it is first read (the core reads items in order, only as far as it needs)."""

    items: Sequence[Item]
    next_cursor: str | None = None
    matched: int | None = None
    """Exact number of items matching the *whole* query, when the provider says so."""


OrderState = Literal["pending", "ordered", "shipping", "succeeded", "failed", "canceled"]
"""The STAC Order extension's states a native order can be in (``orderable`` is not one)."""


@dataclass(frozen=True)
class OrderOptions:
    """What is bought with an item. None means the provider's standard choice."""

    license: str | None = None
    """License / EULA id in the provider's vocabulary (e.g. ICEYE ``STANDARD``)."""
    bundle: str | None = None
    """Product bundle / processing option (e.g. an Arlula ``bundleKey``)."""
    seats: int | None = None
    """License seats, where the provider sells them."""

    def key(self) -> str:
        """A canonical digest of the options: one native order per (tenant, item, key)."""
        raw = orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Quote:
    """What an item costs with the given options."""

    amount: int | None
    """Price in minor units of ``currency`` (US cents for USD); None: price unavailable
    (the provider authorizes the order but states no cost the adapter can read)."""
    currency: str
    covers: str
    """What the price covers, in words (product, license, seats, area)."""
    options: OrderOptions
    """The options priced, with the provider's defaults filled in."""
    valid_options: dict[str, list[str]] = field(default_factory=dict)
    """Every choice the provider offers for this item, by option name."""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NativeOrder:
    """A provider's order, as the adapter reads it."""

    native_id: str
    state: OrderState
    native_status: str
    """The provider's own status word, for display and debugging."""
    amount: int | None = None
    currency: str | None = None
    expires_at: datetime | None = None
    """When the delivery stops being downloadable, if the provider says."""
    reference: str | None = None
    """The bridge's reference, where the provider stores one (used to reconcile)."""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssetLocation:
    """Where to download an asset right now: a freshly signed provider URL.

    A URL that only answers with the provider's credentials (``headers`` non-empty) cannot
    be handed to a client: the bridge fetches it for the client with ``client`` and
    streams the answer (``Range`` honoured) instead of redirecting. The credentials stay
    out of reprs, logs and responses.
    """

    href: str
    expires_at: datetime | None = None
    media_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Headers the URL needs (credentials); empty: the URL is self-contained (redirect)."""
    client: httpx.AsyncClient | None = field(default=None, repr=False, compare=False)
    """The adapter's client to fetch it with (its transport reaches the provider)."""


class Provider(Protocol):
    """A provider archive as the federation core sees it."""

    name: str
    """Short name, also the folder name under ``collections/`` and ``providers/``."""

    collection_ids: frozenset[str]
    """The bridge collections this provider serves."""

    property_aliases: Mapping[str, str]
    """Legacy or native property names clients may use → the STAC names they mean
    (e.g. ICEYE v1 ``incidence_angle`` → ``iceye:incidence_center``); may be empty."""

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """Fetch one native page of items that may match ``query``.

        Args:
            query: the search, with ``collections`` narrowed to this provider's.
            cursor: where to continue, from a previous page's ``next_cursor``; None to start.
            page_size: how many items the caller would like (a hint for the first page).
        """
        ...

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """Fetch one item by id natively; None when the provider has no such item."""
        ...

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """Price an item with ``options``.

        Raises:
            NotFound: no such item. BadRequest: an option the provider does not offer
                (the message lists the valid ones).
        """
        ...

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """Place one native order. ``reference`` is the bridge's order id: send it natively
        where the API stores a client reference, so :meth:`find_orders` can reconcile.
        ``webhook_url``: where the provider should report completion, if it can.

        Raises:
            NotFound, BadRequest, PaymentRequired, Forbidden (no contract for it), ProviderError.
        """
        ...

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Native orders already placed for this item (by ``reference`` where the API keeps
        one, else by item): how the bridge learns whether a call it lost went through."""
        ...

    async def get_order(self, native_id: str) -> NativeOrder:
        """The current state of a native order."""
        ...

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Cancel a native order.

        Raises:
            Conflict: the order can no longer be canceled, or the provider cannot cancel.
        """
        ...

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """A fresh provider URL for an asset: thumbnails/previews with ``native_order_id``
        None; data assets from the delivery of that order.

        Raises:
            NotFound: no such item or asset. Gone: the delivery expired. Conflict: the
                order is not delivered yet.
        """
        ...

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """The native order id a provider's webhook payload names (None if it names none).

        The payload is never trusted beyond that: the bridge re-reads the order natively.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
