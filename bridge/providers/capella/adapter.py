"""The Capella Space provider: catalog search and item lookup over the native API.

Orders, prices and downloads come from :class:`.order_client.CapellaOrdering`.

Auth is a static API key sent as ``Authorization: ApiKey <key>`` on every request. There
is no token to cache or refresh, so a 401 is final: retrying the same key cannot succeed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr
from shapely.errors import ShapelyError

from bridge.core.contract import Item, ProviderPage
from bridge.core.query import SearchQuery
from bridge.errors import BadRequest, ProviderAuthError, ProviderBadResponse
from bridge.providers.base import ProviderContext
from bridge.providers.capella.mapping import SORT_FIELDS, item_from_native, sort_stub
from bridge.providers.capella.names import NATIVE_COLLECTIONS, RENAMED
from bridge.providers.capella.order_client import CapellaOrdering
from bridge.providers.capella.translate import (
    MAX_PAGE_SIZE,
    MAX_WINDOW,
    native_sortby,
    to_native_query,
    window_page_size,
)
from bridge.providers.cursor import Schemas, decode_cursor, encode_cursor
from bridge.providers.local_sort import SortView, page_of, sort_records
from bridge.providers.raw_records import LazyItems, RawRecord, RecordsDecoder

PUBLIC_API = "https://api.capellaspace.com"

MAX_LOCAL_SORT = 10 * MAX_PAGE_SIZE
"""Default of the most native items the adapter fetches to sort a search Capella cannot
sort itself (``ProviderSettings.local_sort_max_records``)."""
CURSOR_SCHEMAS: Schemas = {
    # Native page N of size L (Capella sorted natively).
    "page": {"page": "count", "limit": "count"},
    # A slice of the whole native result the adapter sorted.
    "offset": {"offset": "offset", "limit": "count"},
}
Record = dict[str, Any]
# A natively sorted page is kept as raw records, each decoded and mapped when the
# federation reaches it (a page of 1,000 usually serves a few hundred per result page).
PAGE_DECODER: RecordsDecoder[None] = RecordsDecoder(
    "capella", None, "features", extras=("numberMatched", "links")
)


def _search_url(body: dict[str, Any]) -> str:
    """Like the SDK, the page is named in the URL as well as in the body."""
    page = body.get("page", 1)
    return "/catalog/search" if page == 1 else f"/catalog/search?page={page}"


def _has_next(body: dict[str, Any]) -> bool:
    links = body.get("links") or []
    return any(isinstance(link, dict) and link.get("rel") == "next" for link in links)


class CapellaProvider(CapellaOrdering):
    """Capella's archive as the federation core sees it."""

    name = "capella"
    property_aliases: Mapping[str, str] = RENAMED
    """Capella's own property names clients may use (``view:look_angle``)."""

    def __init__(self, context: ProviderContext) -> None:
        self.name = context.name
        self.collection_ids = frozenset(context.collections)
        settings = context.settings
        self._api_key: SecretStr | None = settings.api_key
        self._contract_id = settings.contract_id
        self._user_id = None
        self._deadline_s = settings.timeout_s
        self.max_local_sort = settings.local_sort_max_records or MAX_LOCAL_SORT
        self._client = context.http_client((settings.base_url or PUBLIC_API).rstrip("/"))

    def __repr__(self) -> str:
        return f"CapellaProvider(collections={sorted(self.collection_ids)})"

    def _auth_header(self) -> dict[str, str]:
        if self._api_key is None:
            raise ProviderAuthError(self.name, "no API key configured")
        return {"Authorization": f"ApiKey {self._api_key.get_secret_value()}"}

    def _native_collections(self, query: SearchQuery) -> list[str]:
        wanted = query.collections if query.collections is not None else self.collection_ids
        return sorted(NATIVE_COLLECTIONS.get(c, c) for c in wanted if c in self.collection_ids)

    async def _post_search(self, body: dict[str, Any]) -> dict[str, Any]:
        data = await self._call("POST", _search_url(body), json=body)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("features"), list)
            or not isinstance(data.get("numberMatched"), int)
        ):
            raise ProviderBadResponse(self.name, "search answer is not a FeatureCollection page")
        return data

    async def _post_search_lazily(self, body: dict[str, Any]) -> tuple[LazyItems, int, bool]:
        """As :meth:`_post_search`, its features mapped only when read: (items,
        numberMatched, whether a next page is linked)."""
        response = await self._exchange("POST", _search_url(body), json=body)
        answer = PAGE_DECODER.decode(response.content)
        matched = answer.extras["numberMatched"]
        if answer.records is None or not isinstance(matched, int) or isinstance(matched, bool):
            raise ProviderBadResponse(self.name, "search answer is not a FeatureCollection page")
        items = LazyItems(answer.records, self._map_raw)
        return items, matched, _has_next(answer.extras)

    def _map_raw(self, record: RawRecord[None]) -> Item:
        return self._map_one(record.decode())

    def _map(self, features: list[Any]) -> list[Item]:
        return [self._map_one(f) for f in features]

    def _map_one(self, feature: Any) -> Item:
        try:
            return item_from_native(feature)
        except (KeyError, TypeError, AttributeError, ValueError, ShapelyError) as exc:
            # One unreadable record makes the page unreadable: say so, drop nothing quietly.
            raise ProviderBadResponse(self.name, "unreadable catalog record") from exc

    def _stub(self, feature: Any) -> Item:
        try:
            return sort_stub(feature)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ProviderBadResponse(self.name, "unreadable catalog record") from exc

    def _cursor(self, text: str, kind: str) -> dict[str, int]:
        found, state = decode_cursor(self.name, text, CURSOR_SCHEMAS)
        if found != kind:  # minted for a differently sorted search
            raise BadRequest(f"invalid {self.name} paging cursor")
        return state

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """One page of items that may match ``query``, in ``query.sortby`` order."""
        collections = self._native_collections(query)
        if not collections:
            return ProviderPage([])
        if native_sortby(query.sortby) is not None:
            return await self._search_native(query, collections, cursor, page_size)
        return await self._search_sorted_here(query, collections, cursor, page_size)

    async def _search_native(
        self, query: SearchQuery, collections: list[str], cursor: str | None, page_size: int
    ) -> ProviderPage:
        state = self._cursor(cursor, "page") if cursor else {"page": 1, "limit": page_size}
        limit = window_page_size(state["limit"])
        if (state["page"] - 1) * limit >= MAX_WINDOW:
            # Say so rather than page on: Capella would refuse, or answer nothing. Not a
            # ProviderError: Capella is healthy, and its circuit breaker must not trip.
            raise BadRequest(
                f"capella: Capella returns only the first {MAX_WINDOW} items of a search; "
                "narrow it (bbox, datetime, filters) to see the rest"
            )
        request = to_native_query(query, collections=collections, limit=limit, page=state["page"])
        items, matched, linked = await self._post_search_lazily(request.body)
        # At the window's edge Capella offers no next page although more match: hand out
        # a cursor anyway, whose page then says why the search ends there.
        beyond = state["page"] * limit >= MAX_WINDOW and matched > MAX_WINDOW
        more = bool(items) and (linked or beyond)
        return ProviderPage(
            items,
            next_cursor=encode_cursor(
                self.name, "page", {"page": state["page"] + 1, "limit": limit}
            )
            if more
            else None,
            matched=matched if request.exact else None,
        )

    async def _search_sorted_here(
        self, query: SearchQuery, collections: list[str], cursor: str | None, page_size: int
    ) -> ProviderPage:
        # Capella cannot sort by one of the keys: fetch the whole (bounded) native result,
        # key it with the core's sort key, page through it by offset, map only the page.
        state = self._cursor(cursor, "offset") if cursor else {"offset": 0, "limit": page_size}
        limit = max(1, min(state["limit"], MAX_PAGE_SIZE))
        records, matched, exact = await self._fetch_all(query, collections)
        view: SortView[Record] = SortView(self._stub, SORT_FIELDS, self._map_one)
        held = sort_records(records, query.sortby, view)
        end = state["offset"] + limit
        return ProviderPage(
            page_of(held, state["offset"], limit, view),
            next_cursor=encode_cursor(self.name, "offset", {"offset": end, "limit": limit})
            if end < len(held)
            else None,
            matched=matched if exact else None,
        )

    async def _fetch_all(
        self, query: SearchQuery, collections: list[str]
    ) -> tuple[list[Record], int, bool]:
        records: list[Record] = []
        page = 1
        while True:
            request = to_native_query(
                query, collections=collections, limit=MAX_PAGE_SIZE, page=page
            )
            data = await self._post_search(request.body)
            if data["numberMatched"] > self.max_local_sort:
                raise BadRequest(
                    f"Capella cannot sort this search natively and it matches more than "
                    f"{self.max_local_sort} items; narrow it or sort by datetime"
                )
            records.extend(data["features"])
            if not data["features"] or not _has_next(data):
                return records, data["numberMatched"], request.exact
            page += 1

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """The item ``item_id`` of ``collection_id``, fetched by id; None when absent."""
        if collection_id not in self.collection_ids:
            return None
        body = {
            "ids": [item_id],
            "collections": [NATIVE_COLLECTIONS.get(collection_id, collection_id)],
            "limit": 1,
        }
        data = await self._post_search(body)
        for item in self._map(data["features"]):
            if item["id"] == item_id and item["collection"] == collection_id:
                return item
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
