"""The ICEYE adapter: OAuth2 client credentials, Catalog API v2 (default) or v1, paging,
and purchases (delegated to :mod:`bridge.providers.iceye.order_client`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bridge.core.contract import AssetLocation, Item, NativeOrder, OrderOptions, ProviderPage, Quote
from bridge.core.query import SearchQuery
from bridge.errors import (
    BadRequest,
    ProviderBadResponse,
)
from bridge.providers.base import ProviderContext
from bridge.providers.cursor import Schemas, decode_cursor, encode_cursor
from bridge.providers.http import decode_json
from bridge.providers.iceye.mapping import (
    SORT_FIELDS,
    AssetPlan,
    V1Fields,
    V2Fields,
    item_from_native,
    served_collection,
    sort_stub,
)
from bridge.providers.iceye.names import PRODUCT_TYPES_BY_COLLECTION, V1_TO_V2
from bridge.providers.iceye.order_client import Purchases
from bridge.providers.iceye.order_mapping import webhook_purchase_id
from bridge.providers.iceye.problems import raise_for_status
from bridge.providers.iceye.session import IceyeSession
from bridge.providers.iceye.translate import MAX_LIMIT, NativeRequest, to_native_query
from bridge.providers.local_sort import SortView, page_of, sort_records
from bridge.providers.raw_records import LazyItems, RawRecord, RecordsDecoder

NAME = "iceye"
DEFAULT_BASE_URL = "https://platform.iceye.com"
API_VERSIONS = ("v2", "v1")
LOCAL_SORT_MAX_ITEMS = 2000
"""Default of the most native items the adapter fetches to sort a result ICEYE cannot
sort itself (``ProviderSettings.local_sort_max_records``)."""
CURSOR_SCHEMAS: Schemas = {
    # Continue ICEYE's own paging (its cursor ``c``) with page size ``n``.
    "native": {"v": "text", "c": "text", "n": "count"},
    # The adapter sorted the whole (bounded) native result; the page starts at ``o``.
    "local": {"v": "text", "o": "offset", "n": "count"},
}
Record = dict[str, Any]
# A natively sorted page is kept as raw records, each decoded and mapped when the
# federation reaches it; only the product type is read from every record up front.
PAGE_DECODERS: dict[str, RecordsDecoder[Any]] = {
    "v2": RecordsDecoder(NAME, V2Fields, "data", extras=("cursor",)),
    "v1": RecordsDecoder(NAME, V1Fields, "data", extras=("cursor",)),
}
MAX_EMPTY_PAGES = 10
"""Native pages read in one call while every item belongs to other collections (v1)."""


def _check_cursor(cursor: Any) -> str | None:
    """A catalog response's ``cursor``: a string, or None on the last page."""
    if cursor is not None and not isinstance(cursor, str):
        raise ProviderBadResponse(NAME, "catalog response cursor is not a string")
    return cursor


class IceyeProvider:
    """ICEYE's catalog as a bridge provider."""

    name = NAME
    property_aliases: Mapping[str, str] = V1_TO_V2
    """ICEYE v1 names clients may still use (the seed's migration table)."""

    def __init__(self, context: ProviderContext) -> None:
        settings = context.settings
        version = settings.api_version or "v2"
        if version not in API_VERSIONS:
            raise ValueError(f"ICEYE api_version must be one of {API_VERSIONS}, not {version!r}")
        self.api_version = version
        self.collection_ids = frozenset(context.collections)
        self._settings = settings
        self.max_local_sort = settings.local_sort_max_records or LOCAL_SORT_MAX_ITEMS
        base_url = settings.base_url or DEFAULT_BASE_URL
        self._client = context.http_client(base_url)
        self._plan = AssetPlan(
            item_assets={
                cid: dict(doc.get("item_assets") or {}) for cid, doc in context.collections.items()
            },
            # Where the product files are sold: v2's frame purchases (v1 purchases deliver
            # only to the contract's bucket), so v1 and v2 map a scene to the same item.
            order_href=f"{base_url.rstrip('/')}/api/catalog/v2/purchases",
        )
        self._session = IceyeSession(self._client, settings)
        self._purchases = Purchases(
            version, settings.contract_id, self._session.native, self.get_item, context.collections
        )

    def __repr__(self) -> str:
        return f"IceyeProvider(api_version={self.api_version!r})"

    async def _call(self, build: Callable[[dict[str, str]], httpx.Request]) -> dict[str, Any]:
        """A catalog request's ``{data, cursor}`` body."""
        body = decode_json(NAME, await self._catalog_response(build))
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ProviderBadResponse(NAME, "catalog response has no 'data' list")
        _check_cursor(body.get("cursor"))
        return body

    async def _catalog_response(
        self, build: Callable[[dict[str, str]], httpx.Request]
    ) -> httpx.Response:
        """A catalog request's successful response (ICEYE's problems raised as errors)."""
        response = await self._session.authorized(build)
        raise_for_status(response)
        return response

    async def _call_lazily(
        self, build: Callable[[dict[str, str]], httpx.Request], wanted: frozenset[str]
    ) -> tuple[LazyItems, str | None]:
        """As :meth:`_call`: the page's records of ``wanted`` collections, each mapped when
        first read, and the native cursor."""
        response = await self._catalog_response(build)
        answer = PAGE_DECODERS[self.api_version].decode(response.content)
        if answer.records is None:
            raise ProviderBadResponse(NAME, "catalog response has no 'data' list")
        cursor = _check_cursor(answer.extras["cursor"])
        kept = [r for r in answer.records if self._served(r, wanted)]
        return LazyItems(kept, lambda r: self._map_raw(r, wanted)), cursor

    def _served(self, record: RawRecord[Any], wanted: frozenset[str]) -> bool:
        try:
            return served_collection(record.fields) in wanted
        except KeyError as exc:
            raise ProviderBadResponse(NAME, f"unreadable catalog item ({exc!r})") from exc

    def _map_raw(self, record: RawRecord[Any], wanted: frozenset[str]) -> Item:
        item = self._map_one(record.decode(), wanted)
        if item is None:  # its collection was checked up front
            raise ProviderBadResponse(NAME, "a catalog item changed collection")
        return item

    def _build(
        self, req: NativeRequest, cursor: str | None
    ) -> Callable[[dict[str, str]], httpx.Request]:
        """How to send ``req`` from ``cursor`` (rebuilt with fresh headers on a retry)."""

        def build(headers: dict[str, str]) -> httpx.Request:
            if cursor and req.next_path:
                limit = str((req.body or {}).get("limit", MAX_LIMIT))
                params = {"cursor": cursor, "limit": limit}
                return self._client.build_request(
                    "GET", req.next_path, params=params, headers=headers
                )
            if req.method == "POST":
                body = {**(req.body or {}), **({"cursor": cursor} if cursor else {})}
                return self._client.build_request("POST", req.path, json=body, headers=headers)
            params = {**(req.params or {}), **({"cursor": cursor} if cursor else {})}
            return self._client.build_request("GET", req.path, params=params, headers=headers)

        return build

    async def _fetch(self, req: NativeRequest, cursor: str | None) -> dict[str, Any]:
        return await self._call(self._build(req, cursor))

    def _map(self, records: list[Any], wanted: frozenset[str]) -> list[Item]:
        mapped = (self._map_one(record, wanted) for record in records)
        return [item for item in mapped if item is not None]

    def _map_one(self, record: Any, wanted: frozenset[str]) -> Item | None:
        try:
            item = item_from_native(record, self.api_version, self._plan)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable catalog item ({exc!r})") from exc
        return item if item is not None and item["collection"] in wanted else None

    def _stub(self, record: Any, wanted: frozenset[str]) -> Item | None:
        try:
            item = sort_stub(record, self.api_version)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable catalog item ({exc!r})") from exc
        return item if item is not None and item["collection"] in wanted else None

    def _cursor(self, cursor: str) -> tuple[str, dict[str, Any]]:
        kind, state = decode_cursor(NAME, cursor, CURSOR_SCHEMAS)
        if state["v"] != self.api_version:
            raise BadRequest("ICEYE paging cursor was made for another API version")
        return kind, state

    def _request(self, query: SearchQuery, wanted: frozenset[str], size: int) -> NativeRequest:
        types = None
        if wanted != frozenset(PRODUCT_TYPES_BY_COLLECTION):
            types = tuple(sorted(t for c in wanted for t in PRODUCT_TYPES_BY_COLLECTION.get(c, ())))
        return to_native_query(
            query,
            api_version=self.api_version,
            product_types=types,
            contract_id=self._settings.contract_id if self.api_version == "v2" else None,
            page_size=size,
        )

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """One page of items that may match ``query``, in the bridge's sort order."""
        kind, state = self._cursor(cursor) if cursor else (None, None)
        size = state["n"] if state else max(1, min(page_size, MAX_LIMIT))
        wanted = self.collection_ids
        if query.collections is not None:
            wanted = wanted & frozenset(query.collections)
        if not wanted:
            return ProviderPage(items=[])
        req = self._request(query, wanted, size)
        if req.paged and req.sorted_natively:
            if kind not in (None, "native"):
                raise BadRequest("ICEYE paging cursor does not belong to this search")
            return await self._native_page(req, wanted, state, size)
        if kind not in (None, "local"):
            raise BadRequest("ICEYE paging cursor does not belong to this search")
        return await self._local_page(query, req, wanted, state, size)

    async def _native_page(
        self, req: NativeRequest, wanted: frozenset[str], state: dict[str, Any] | None, size: int
    ) -> ProviderPage:
        native_cursor = state["c"] if state else None
        items: LazyItems | None = None
        for _ in range(MAX_EMPTY_PAGES):
            items, native_cursor = await self._call_lazily(self._build(req, native_cursor), wanted)
            if items or not native_cursor:
                break
        assert items is not None
        if not native_cursor:
            return ProviderPage(items=items)
        state = {"v": self.api_version, "c": native_cursor, "n": size}
        return ProviderPage(items=items, next_cursor=encode_cursor(NAME, "native", state))

    async def _local_page(
        self,
        query: SearchQuery,
        req: NativeRequest,
        wanted: frozenset[str],
        state: dict[str, Any] | None,
        size: int,
    ) -> ProviderPage:
        """Fetch the whole native result (bounded), key it, and map only the asked page."""
        records: list[Record] = []
        native_cursor: str | None = None
        while True:
            body = await self._fetch(req, native_cursor)
            records.extend(body["data"])
            if len(records) > self.max_local_sort:
                raise BadRequest(
                    f"ICEYE ({self.api_version}) cannot sort this search natively and it "
                    f"matches more than {self.max_local_sort} scenes: narrow it or sort by "
                    "datetime"
                )
            native_cursor = body.get("cursor") if req.paged else None
            if not native_cursor:
                break
        view: SortView[Record] = SortView(
            stub=lambda r: self._stub(r, wanted),
            fields=SORT_FIELDS,
            full=lambda r: self._map_one(r, wanted),
        )
        held = sort_records(records, query.sortby, view)
        offset = state["o"] if state else 0
        page = page_of(held, offset, size, view)
        if offset + size >= len(held):
            return ProviderPage(items=page)
        state = {"v": self.api_version, "o": offset + size, "n": size}
        return ProviderPage(items=page, next_cursor=encode_cursor(NAME, "local", state))

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """The item ``item_id`` of ``collection_id``; None when ICEYE has no such item there."""
        if collection_id not in self.collection_ids:
            return None
        query = SearchQuery(ids=(item_id,), collections=(collection_id,))
        req = self._request(query, frozenset({collection_id}), MAX_LIMIT)
        body = await self._fetch(req, None)
        for item in self._map(body["data"], frozenset({collection_id})):
            if item["id"] == item_id:
                return item
        return None

    # --- ordering: see :mod:`bridge.providers.iceye.order_client` ---------------------------

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """The price of the item's frame (v2 ``GET /price``)."""
        return await self._purchases.quote(collection_id, item_id, options)

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """Purchase the item's frame; ``webhook_url`` is not sent (ICEYE notifications are
        configured per account)."""
        return await self._purchases.place_order(collection_id, item_id, options, reference)

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Purchases carrying the bridge's ``reference``."""
        return await self._purchases.find_orders(reference)

    async def get_order(self, native_id: str) -> NativeOrder:
        """The purchase ``native_id``."""
        return await self._purchases.get_order(native_id)

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Refused: ICEYE purchases cannot be canceled through the API."""
        return await self._purchases.cancel_order(native_id)

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """A freshly presigned ICEYE URL for the asset."""
        return await self._purchases.asset_location(
            collection_id, item_id, asset_key, native_order_id
        )

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """The purchase id an ICEYE notification names (payload shape assumed)."""
        return webhook_purchase_id(payload)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
