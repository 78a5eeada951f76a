"""The Satellogic provider: archive STAC search with Aleph's OAuth token and contract header,
and archive orders and downloads (delegated to :mod:`.order_client`).

Paging: when the archive can sort by the whole ``sortby`` (see
:func:`translate.native_sortby`), pages are native pages and the cursor carries the
archive's ``next`` link as given (see :mod:`.paging`) and the page size (kind
``native``: ``{"next": {"method", "href", "body", "merge"}, "limit": N}``). Otherwise the
adapter reads the whole native result (at most ``local_sort_max_records``, default
:data:`MAX_LOCAL_SORT` tiles), keys each tile once from a stub, maps only the page served
and keeps the keyed result a while (kind ``local``: ``{"offset": K, "limit": N}``).
Cursors are the toolkit's (:mod:`bridge.providers.cursor`), so the same cursor always
yields the same page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from bridge.core.contract import AssetLocation, Item, NativeOrder, OrderOptions, ProviderPage, Quote
from bridge.core.query import SearchQuery
from bridge.errors import (
    BadRequest,
    ProviderAuthError,
    ProviderBadResponse,
)
from bridge.providers.base import ProviderContext
from bridge.providers.cursor import Schemas, decode_cursor, encode_cursor
from bridge.providers.http import check_response, decode_json, exchange, send
from bridge.providers.local_sort import Held, SortView, page_of, sort_records
from bridge.providers.oauth import TokenCache
from bridge.providers.raw_records import LazyItems, RawRecord, RecordsDecoder
from bridge.providers.result_cache import ResultCache, cache_key
from bridge.providers.satellogic import contracts, names, paging, translate
from bridge.providers.satellogic.mapping import (
    SORT_FIELDS,
    TileFields,
    UnknownCollection,
    item_from_native,
    sort_stub,
)
from bridge.providers.satellogic.order_client import OrderClient, order_id_from_webhook

MAX_LOCAL_SORT = 10_000
"""Default of the most tiles the adapter reads to sort a search the archive cannot sort."""
# A natively sorted page is kept as raw tiles, each decoded and mapped when the
# federation reaches it; only the id and collection are read from every tile up front.
PAGE_DECODER: RecordsDecoder[TileFields] = RecordsDecoder(
    "satellogic", TileFields, "features", extras=("links", "numberMatched")
)
SORTED_CACHE_SIZE = 8
SORTED_CACHE_TTL_S = 300.0
"""Defaults: locally sorted results are kept a while so paging reads the archive once."""
CURSOR_SCHEMAS: Schemas = {
    "native": {"next": "object", "limit": "count"},
    "local": {"offset": "offset", "limit": "count"},
}
Record = dict[str, Any]
Sorted = tuple[list[Held[Record]], int | None]
"""A locally sorted result: the keyed tiles and the exact count, if known."""


class SatellogicProvider:
    """Satellogic's archive as a bridge provider."""

    name = names.PROVIDER
    property_aliases: Mapping[str, str] = names.PROPERTY_ALIASES

    def __init__(self, context: ProviderContext) -> None:
        self.settings = context.settings
        self.collection_ids = frozenset(c for c in context.collections if c in names.COLLECTIONS)
        self._client = context.http_client(self.settings.base_url or names.DEFAULT_BASE_URL)
        self._tokens = TokenCache(self.name, self._fetch_token)
        self._contract_id: str | None = self.settings.contract_id or None
        self.max_local_sort = self.settings.local_sort_max_records or MAX_LOCAL_SORT
        # One tenant's results only, as the provider instance belongs to one set of
        # credentials.
        self._sorted: ResultCache[Sorted] = ResultCache(
            self.settings.result_cache_entries or SORTED_CACHE_SIZE,
            self.settings.result_cache_ttl_s or SORTED_CACHE_TTL_S,
        )
        self._view: SortView[Record] = SortView(self._stub, SORT_FIELDS, self._item)
        self._orders = OrderClient(
            self.name, self.call, self._native_item, item_from_native, self._headers, self._client
        )

    def __repr__(self) -> str:
        return f"SatellogicProvider(base_url={self._client.base_url!s})"

    async def _fetch_token(self, audience: str = names.AUDIENCE) -> dict[str, Any]:
        secret = self.settings.client_secret
        if not self.settings.client_id or secret is None:
            raise ProviderAuthError(self.name, "no client_id/client_secret configured")
        body = {
            "client_id": self.settings.client_id,
            "client_secret": secret.get_secret_value(),
            "audience": audience,
            "grant_type": "client_credentials",
        }
        url = self.settings.auth_url or names.DEFAULT_AUTH_URL
        result = await send(
            self.name, self._client, self._client.build_request("POST", url, json=body)
        )
        if not isinstance(result, dict):
            raise ProviderBadResponse(self.name, "token endpoint answered with no JSON object")
        return result

    async def _headers(self) -> tuple[str, dict[str, str]]:
        token = await self._tokens.get()
        contract = self._contract_id or await self._discover_contract(token)
        return token, {
            "authorizationToken": f"Bearer {token}",
            "X-Satellogic-Contract-Id": contract,
        }

    async def _discover_contract(self, token: str) -> str:
        """The credentials' one contract, when none is configured (see :mod:`.contracts`)."""

        async def accounts_token() -> str:
            body = await self._fetch_token(contracts.ACCOUNTS_AUDIENCE)
            return str(body.get("access_token") or "")

        found = await contracts.discover(self.name, self._client, self._send, token, accounts_token)
        self._contract_id = found
        return found

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` within the deadline, the whole exchange (see ``exchange``)."""
        return await exchange(self.name, self._client, request, self.settings.timeout_s)

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Send one native request with the credentials' token and contract (also the
        tasking adapter's way in); on a 401 refresh the token and try once more."""
        for attempt in (0, 1):
            token, headers = await self._headers()
            request = self._client.build_request(method, path, json=body, headers=headers)
            response = await self._send(request)
            if response.status_code == 401 and attempt == 0:
                self._tokens.invalidate(token)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _search_response(
        self, body: dict[str, Any], link: paging.Link | None
    ) -> httpx.Response:
        """The successful response of the search ``body``'s first page, or of the page
        ``link`` leads to from it."""
        method, href = "POST", f"{names.STAC_ROOT}/search"
        sent: dict[str, Any] | None = body
        if link is not None:
            method, href, sent = paging.request_parts(link, body)
        response = await self.call(method, href, sent)
        check_response(self.name, response)
        return response

    async def _search_page(
        self, body: dict[str, Any], link: paging.Link | None = None
    ) -> dict[str, Any]:
        """The first page of the search ``body``, or the page ``link`` leads to from it."""
        result = decode_json(self.name, await self._search_response(body, link))
        if not isinstance(result, dict) or not isinstance(result.get("features"), list):
            raise ProviderBadResponse(self.name, "search answered without a features list")
        return result

    async def _search_page_lazily(
        self, body: dict[str, Any], link: paging.Link | None = None
    ) -> tuple[LazyItems, dict[str, Any]]:
        """As :meth:`_search_page`: the page's tiles of exposed collections, each mapped
        when first read, and the envelope's ``links`` and ``numberMatched``."""
        answer = PAGE_DECODER.decode((await self._search_response(body, link)).content)
        if answer.records is None:
            raise ProviderBadResponse(self.name, "search answered without a features list")
        kept = [r for r in answer.records if self._exposed(r.fields)]
        return LazyItems(kept, self._item_of_raw), answer.extras

    def _exposed(self, fields: TileFields) -> bool:
        """True for a tile of a native collection the bridge exposes (checked as
        :meth:`_read` would, so a tile without an id is an error here too)."""
        if not isinstance(fields.id, str):
            raise ProviderBadResponse(self.name, "a search feature without an id")
        native = fields.collection or ""
        if not isinstance(native, str):
            raise ProviderBadResponse(self.name, f"unreadable tile collection: {native!r}")
        return native in names.BRIDGE_BY_NATIVE

    def _item_of_raw(self, record: RawRecord[TileFields]) -> Item:
        item = self._item(record.decode())
        if item is None:  # the collection was checked up front
            raise ProviderBadResponse(self.name, "a tile changed collection")
        return item

    def _items(self, features: list[dict[str, Any]]) -> list[Item]:
        mapped = (self._item(feature) for feature in features)
        return [item for item in mapped if item is not None]

    def _item(self, feature: Any) -> Item | None:
        """The item of one native tile; None for a collection the bridge does not expose."""
        return self._read(feature, item_from_native)

    def _stub(self, feature: Any) -> Item | None:
        return self._read(feature, sort_stub)

    def _read(self, feature: Any, read: Callable[[dict[str, Any]], Item]) -> Item | None:
        if not isinstance(feature, dict) or not isinstance(feature.get("id"), str):
            raise ProviderBadResponse(self.name, "a search feature without an id")
        try:
            item = read(feature)
        except UnknownCollection:
            return None  # a native collection the bridge does not expose
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProviderBadResponse(self.name, f"unreadable tile: {exc!r}") from exc
        return item

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """One page of tiles that may match ``query``, in the bridge's sort order."""
        if not translate.native_collections(query.collections):
            return ProviderPage(items=[])
        sortby = translate.native_sortby(query.sortby)
        kind = "native" if sortby is not None else "local"
        state: dict[str, Any] = {"limit": page_size}
        if cursor:
            found, state = decode_cursor(self.name, cursor, CURSOR_SCHEMAS)
            if found != kind:  # minted for a differently sorted search
                raise BadRequest(f"invalid {self.name} paging cursor")
        if sortby is None:
            return await self._search_sorted_locally(query, state)
        limit = max(1, min(int(state["limit"]), translate.NATIVE_MAX_LIMIT))
        body = translate.to_native_query(query, limit=limit, sortby=sortby)
        base = self._client.base_url
        link = paging.from_cursor(state, base) if "next" in state else None
        items, envelope = await self._search_page_lazily(body, link)
        following = paging.next_link(self.name, envelope, base)
        next_cursor = (
            encode_cursor(self.name, "native", {"next": following, "limit": limit})
            if following
            else None
        )
        return ProviderPage(
            items=items, next_cursor=next_cursor, matched=self._matched(query, envelope)
        )

    def _matched(self, query: SearchQuery, result: dict[str, Any]) -> int | None:
        count = result.get("numberMatched")
        return count if isinstance(count, int) and translate.is_exact(query) else None

    async def _search_sorted_locally(
        self, query: SearchQuery, state: dict[str, Any]
    ) -> ProviderPage:
        """Serve one slice of the whole (bounded) native result, sorted by the adapter."""
        key = cache_key(
            translate.to_native_query(query, limit=1), [f.to_stac() for f in query.sortby]
        )
        cached = self._sorted.get(key)
        if cached is None:
            records, matched = await self._read_all(query)
            cached = (sort_records(records, query.sortby, self._view), matched)
            self._sorted.put(key, cached)
        held, matched = cached
        offset, limit = int(state.get("offset", 0)), max(1, int(state["limit"]))
        end = offset + limit
        next_cursor = (
            encode_cursor(self.name, "local", {"offset": end, "limit": limit})
            if end < len(held)
            else None
        )
        items = page_of(held, offset, limit, self._view)
        return ProviderPage(items=items, next_cursor=next_cursor, matched=matched)

    async def _read_all(self, query: SearchQuery) -> tuple[list[Record], int | None]:
        """Every native tile for ``query`` (at most the bound), and the exact count."""
        records: list[Record] = []
        link: paging.Link | None = None
        matched: int | None = None
        body = translate.to_native_query(query, limit=translate.NATIVE_MAX_LIMIT)
        while True:
            result = await self._search_page(body, link)
            if link is None:
                total = result.get("numberMatched")
                if isinstance(total, int) and total > self.max_local_sort:
                    raise BadRequest(
                        f"satellogic cannot sort {total} tiles by {query.sortby[0].field}: "
                        f"narrow the search to at most {self.max_local_sort} tiles or sort "
                        "by datetime"
                    )
                matched = self._matched(query, result)
            records.extend(result["features"])
            link = paging.next_link(self.name, result, self._client.base_url)
            if link is None or len(records) > self.max_local_sort:
                return records, matched

    async def _native_item(self, collection_id: str, item_id: str) -> dict[str, Any] | None:
        """The native tile behind a bridge item (fresh: its browse hrefs carry new tokens)."""
        if collection_id not in self.collection_ids:
            return None
        native = names.COLLECTIONS[collection_id][0]
        # Quoted: an id is the caller's text, and a control character is no valid URL.
        path = f"{names.STAC_ROOT}/collections/{native}/items/{quote(item_id, safe='')}"
        response = await self.call("GET", path)
        if response.status_code == 404:
            return None
        check_response(self.name, response)
        record = decode_json(self.name, response)
        if not isinstance(record, dict) or record.get("collection") != native:
            return None
        return record

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """One tile by id from the native collection behind ``collection_id``."""
        record = await self._native_item(collection_id, item_id)
        return None if record is None else self._items([record])[0]

    # Ordering (Aleph V2 orders, Telluric downloads): see :mod:`.order_client`.

    async def quote(self, collection_id: str, item_id: str, options: OrderOptions) -> Quote:
        """The tile's price under the contract (assumed per-km² price list)."""
        return await self._orders.quote(collection_id, item_id, options)

    async def place_order(
        self,
        collection_id: str,
        item_id: str,
        options: OrderOptions,
        reference: str,
        webhook_url: str | None = None,
    ) -> NativeOrder:
        """One archive order for the tile; Aleph has no webhooks, so ``webhook_url`` is unused."""
        return await self._orders.place_order(collection_id, item_id, options, reference)

    async def find_orders(
        self, collection_id: str, item_id: str, reference: str
    ) -> list[NativeOrder]:
        """Orders named ``reference`` or buying this tile."""
        return await self._orders.find_orders(collection_id, item_id, reference)

    async def get_order(self, native_id: str) -> NativeOrder:
        """The order's current state."""
        return await self._orders.get_order(native_id)

    async def cancel_order(self, native_id: str) -> NativeOrder:
        """Always Conflict: the Orders API documents no cancellation."""
        return await self._orders.cancel_order(native_id)

    async def asset_location(
        self, collection_id: str, item_id: str, asset_key: str, native_order_id: str | None
    ) -> AssetLocation:
        """Where to read the asset: archive quicklooks with the API headers (fetched by the
        bridge), data assets through the order's Telluric delivery (a tokenized URL)."""
        return await self._orders.asset_location(collection_id, item_id, asset_key, native_order_id)

    def order_id_from_webhook(self, payload: Any) -> str | None:
        """The order id a payload names (Aleph documents no webhooks)."""
        return order_id_from_webhook(payload)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
