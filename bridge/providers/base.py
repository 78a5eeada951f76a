"""The one narrow interface every provider adapter implements, and what it is built from.

A provider subpackage ``bridge/providers/<name>/`` exposes ``create_provider(context)``
returning a :class:`Provider`. The federation core talks to providers only through this
module's types.

Contract of :meth:`Provider.search`:

* The native request must select a **superset** of the items matching the query (push
  down what the native API evaluates, loosen what it evaluates differently, e.g. whole
  days); the core evaluates the full query exactly on every returned item.
* Items come back **sorted** by :func:`bridge.core.sorting.sort_key_function` of
  ``query.sortby`` (natively, or by the adapter), so the core can merge providers.
* A cursor is opaque, JSON-safe text, and self-describing: the same cursor always
  yields the same page, whatever ``page_size`` is passed with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bridge.core.query import SearchQuery
from bridge.settings import ProviderSettings

Item = dict[str, Any]
CollectionDoc = dict[str, Any]


@dataclass(frozen=True)
class ProviderPage:
    """One native page, mapped to STAC items."""

    items: list[Item]
    next_cursor: str | None = None
    matched: int | None = None
    """Exact number of items matching the *whole* query, when the provider says so."""


@dataclass
class ProviderContext:
    """Everything an adapter is built from; no global lookups."""

    name: str
    settings: ProviderSettings
    collections: Mapping[str, CollectionDoc]
    """This provider's STAC Collection documents, by collection id."""
    transport: httpx.AsyncBaseTransport | None = None
    """Injected transport (in-process simulators, fault tests); None means the network."""
    extra: dict[str, Any] = field(default_factory=dict)

    def http_client(self, base_url: str, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on ``base_url`` using the injected transport."""
        timeout = httpx.Timeout(self.settings.timeout_s)
        return httpx.AsyncClient(
            base_url=base_url, transport=self.transport, timeout=timeout, **kwargs
        )


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

    async def aclose(self) -> None:
        """Release connections."""
        ...
