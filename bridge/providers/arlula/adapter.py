"""The Arlula provider: archive search and get-item over either API generation.

Auth is HTTP Basic ``key:secret`` on every request (no token, so nothing to refresh; a
401 means the credentials are wrong and becomes :class:`ProviderAuthError`). Arlula
returns a search's whole result in one response: the adapter maps it, keeps only the
requested resolution classes, sorts it with the bridge's key and pages through it
locally: each record is keyed once from a cheap stub and only the page served is mapped
(:mod:`bridge.providers.local_sort`), the keyed result is cached
(:mod:`bridge.providers.result_cache`) and the cursor names the native request(s), so an
expired entry is fetched again from the cursor alone. ``matched`` is never given: instants, exact
geometries and ids are evaluated by the bridge, not natively.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import httpx

from bridge.core.contract import Item, ProviderPage
from bridge.core.query import SearchQuery, SortField
from bridge.errors import BadRequest, ProviderBadResponse, ProviderError
from bridge.providers.arlula.ids import parse_item_id
from bridge.providers.arlula.mapping import (
    SORT_FIELDS,
    SearchFields,
    collection_for,
    datetime_seconds,
    item_from_native,
    sort_stub,
)
from bridge.providers.arlula.names import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    GSD_CLASSES,
    SEARCH_ENDPOINTS,
    VERSION_GENERATIONS,
)
from bridge.providers.arlula.order_client import OrderingMixin
from bridge.providers.arlula.translate import NativeRequest, lookup_request, to_native_query
from bridge.providers.base import ProviderContext
from bridge.providers.cursor import Schemas, decode_cursor, encode_cursor
from bridge.providers.http import check_response, exchange
from bridge.providers.local_sort import Keyed, SortView, check_bound, keyed, page_of
from bridge.providers.raw_records import RawRecord, RecordsDecoder
from bridge.providers.result_cache import ResultCache, cache_key

NAME = "arlula"
log = logging.getLogger(__name__)
# Up to this many ids are looked up one narrow native search each; beyond, the normal
# search runs and the bridge picks the ids out of its result.
MAX_ID_LOOKUPS = 20
MAX_LOCAL_SORT = 20_000
"""Default bound on the native results one search keeps (Arlula answers whole results)."""
CACHE_TTL_S = 600.0
CURSOR_SCHEMAS: Schemas = {"local": {"api": "text", "req": "list", "o": "offset", "n": "count"}}
Record = RawRecord[SearchFields]
# A search answer: 2023-01 wraps the results with per-supplier errors, 2020-12 is a bare list.
DECODERS = {
    "2023-01": RecordsDecoder(NAME, SearchFields, "results", extras=("errors",)),
    "2020-12": RecordsDecoder(NAME, SearchFields),
}


def _summary(errors: Any) -> str:
    """A short account of native search errors (strings, or objects with a ``message``)."""
    if not isinstance(errors, list):
        return "unreadable error list"
    texts = [e.get("message", e) if isinstance(e, dict) else e for e in errors[:3]]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(str(t)[:200] for t in texts) + more


def _is_datetime(field: SortField) -> bool:
    return field.field.removeprefix("properties.") == "datetime"


def _today() -> date:
    return datetime.now(UTC).date()


class ArlulaProvider(OrderingMixin):
    """Arlula's archive as the federation core sees it (orders: :mod:`.order_client`)."""

    name = NAME
    property_aliases: Mapping[str, str] = MappingProxyType({})

    def __init__(
        self,
        context: ProviderContext,
        *,
        cache: ResultCache[Keyed[Record]] | None = None,
        today: Callable[[], date] = _today,
    ) -> None:
        settings = context.settings
        header = settings.api_version or DEFAULT_API_VERSION
        if header not in VERSION_GENERATIONS:
            supported = ", ".join(VERSION_GENERATIONS)
            raise ValueError(f"arlula: unsupported api_version {header!r} (use {supported})")
        self.api_version = VERSION_GENERATIONS[header]  # the generation of answers read
        unknown = set(context.collections) - GSD_CLASSES.keys()
        if unknown:
            raise ValueError(f"arlula: no resolution class for collections {sorted(unknown)}")
        self.collection_ids = frozenset(context.collections)
        auth = None
        if settings.api_key is not None and settings.api_secret is not None:
            key, secret = (
                settings.api_key.get_secret_value(),
                settings.api_secret.get_secret_value(),
            )
            auth = httpx.BasicAuth(key, secret)
        self._client = context.http_client(
            settings.base_url or DEFAULT_BASE_URL,
            auth=auth,
            headers={"X-API-Version": header},
        )
        # Per-operation deadlines (whole request, not per read): a search answers within
        # timeout_s; placing an order may take order_timeout_s (see :mod:`.order_client`).
        self.timeout_s = settings.timeout_s
        self.order_timeout_s = settings.order_timeout_s
        self._in_flight = {}
        self.cache = cache or ResultCache(
            settings.result_cache_entries or 16, settings.result_cache_ttl_s or CACHE_TTL_S
        )
        self.max_local_sort = settings.local_sort_max_records or MAX_LOCAL_SORT
        self._today = today

    def __repr__(self) -> str:
        return f"ArlulaProvider(api_version={self.api_version!r})"

    def _collections(self, query: SearchQuery) -> tuple[str, ...]:
        wanted = self.collection_ids if query.collections is None else query.collections
        return tuple(sorted(self.collection_ids.intersection(wanted)))

    def _plan(self, query: SearchQuery, collections: Sequence[str]) -> list[NativeRequest]:
        """The native request(s) whose combined result is a superset of ``query``."""
        if query.ids and len(query.ids) <= MAX_ID_LOOKUPS:
            refs = [r for r in map(parse_item_id, query.ids) if r is not None]
            return [
                lookup_request(r, api_version=self.api_version, collections=collections)
                for r in dict.fromkeys(refs)
            ]
        today = self._today()
        request = to_native_query(
            query, api_version=self.api_version, collections=collections, today=today
        )
        # Arlula refuses a start after today ("Start date must be in the past"); nothing
        # can match a time wholly in the future, so nothing is asked.
        payload = request.get("json") or request.get("params") or {}
        return [] if str(payload.get("start", "")) > today.isoformat() else [request]

    def _build(self, request: NativeRequest) -> httpx.Request:
        return self._client.build_request(
            request["method"],
            request["path"],
            params=request.get("params"),
            json=request.get("json"),
        )

    async def _fetch_records(self, request: NativeRequest) -> list[Record]:
        """Send one native search; its results read only as far as sorting needs."""
        response = await exchange(NAME, self._client, self._build(request))
        check_response(NAME, response)
        answer = DECODERS[self.api_version].decode(response.content)
        results = answer.records
        errors = answer.extras.get("errors") or []
        if errors and not results:
            raise ProviderError(NAME, f"search failed: {_summary(errors)}")
        if errors:
            # Per-supplier errors beside results: a partial answer, not a failure.
            log.warning("%s: partial search result: %s", NAME, _summary(errors))
        if results is None:
            raise ProviderBadResponse(NAME, "search answered without a list of result objects")
        return results

    def _collection(self, fields: SearchFields, collections: Sequence[str]) -> str | None:
        """The served collection of a record (by resolution class), or None."""
        gsd = fields.gsd if self.api_version == "2023-01" else fields.resolution
        collection = collection_for(float(gsd))
        return collection if collection in collections else None

    def _map(self, record: Record, collections: Sequence[str]) -> Item | None:
        try:
            collection = self._collection(record.fields, collections)
            if collection is None:
                return None
            native = record.decode()
            if not isinstance(native, dict):
                raise TypeError("a search result is not an object")
            return item_from_native(
                native,
                api_version=self.api_version,
                collection=collection,
                api_base=str(self._client.base_url),
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable search result: {exc!r}") from exc

    def _stub(self, record: Record, collections: Sequence[str]) -> Item | None:
        try:
            collection = self._collection(record.fields, collections)
            if collection is None:
                return None
            return sort_stub(record.fields, collection=collection)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ProviderBadResponse(NAME, f"unreadable search result: {exc!r}") from exc

    def _view(self, collections: Sequence[str]) -> SortView[Record]:
        return SortView(
            stub=lambda r: self._stub(r, collections),
            fields=SORT_FIELDS,
            full=lambda r: self._map(r, collections),
        )

    async def _result(
        self,
        requests: list[NativeRequest],
        collections: Sequence[str],
        sortby: Sequence[SortField],
    ) -> Keyed[Record]:
        """The de-duplicated, sorted (keyed as far as read, not yet mapped) result of
        ``requests``. Arlula sorts one search by date itself: when the answer is in date
        order, records are keyed only as far as pages are served (checked, see
        :func:`~bridge.providers.local_sort.keyed`)."""
        key = cache_key(self.api_version, requests, collections, [f.to_stac() for f in sortby])
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        answers = await asyncio.gather(*(self._fetch_records(r) for r in requests))
        check_bound(
            NAME,
            sum(map(len, answers)),
            self.max_local_sort,
            "the search's result is too large to sort; narrow it (bbox, datetime)",
        )
        records = [record for records in answers for record in records]
        leads = None
        if len(requests) == 1 and sortby and _is_datetime(sortby[0]):
            leads = [datetime_seconds(r.fields) for r in records]
        result = keyed(records, sortby, self._view(collections), leads=leads, unique_ids=True)
        self.cache.put(key, result)
        return result

    def _position(self, cursor: str) -> tuple[list[NativeRequest], int, int]:
        _, state = decode_cursor(NAME, cursor, CURSOR_SCHEMAS)
        # A cursor is replayed with the tenant's credentials: accept only archive searches
        # of this generation, never another endpoint smuggled into a forged cursor.
        if state["api"] != self.api_version or not all(map(self._is_search, state["req"])):
            raise BadRequest(f"invalid {NAME} paging cursor")
        return state["req"], state["o"], state["n"]

    def _is_search(self, request: Any) -> bool:
        method, path = SEARCH_ENDPOINTS[self.api_version]
        payload = "json" if self.api_version == "2023-01" else "params"
        return (
            isinstance(request, dict)
            and request.keys() == {"method", "path", payload}
            and request["method"] == method
            and request["path"] == path
            and isinstance(request[payload], dict)
        )

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """One page of items that may match ``query``, in the bridge's sort order."""
        collections = self._collections(query)
        if not collections:
            return ProviderPage(items=[])
        if cursor is None:
            requests, offset, size = self._plan(query, collections), 0, max(page_size, 1)
        else:
            requests, offset, size = self._position(cursor)
        result = await self._result(requests, collections, query.sortby)
        end = offset + size
        next_cursor = None
        if result.more_after(end):
            state = {"api": self.api_version, "req": requests, "o": end, "n": size}
            next_cursor = encode_cursor(NAME, "local", state)
        items = page_of(result.slice(offset, size), 0, size, self._view(collections))
        return ProviderPage(items=items, next_cursor=next_cursor)

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """Find one item by id with a narrow native search (see :mod:`.ids`)."""
        ref = parse_item_id(item_id)
        if ref is None or collection_id not in self.collection_ids:
            return None
        request = lookup_request(ref, api_version=self.api_version, collections=[collection_id])
        for record in await self._fetch_records(request):
            fields = record.fields
            if fields.sceneID != ref.scene_id or fields.supplier != ref.supplier:
                continue
            item = self._map(record, [collection_id])
            if item is not None and item["id"] == item_id:
                return item
        return None

    async def aclose(self) -> None:
        """Release connections."""
        await self._client.aclose()
