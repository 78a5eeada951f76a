"""Fan-out, exact residual filtering, k-way merge and resumable positions across providers.

Each provider is a sorted stream of native pages. A result page is the merge of every
involved provider's stream, filtered exactly by :class:`~bridge.core.match.Matcher`,
cut at ``limit``. Where each stream stopped — the cursor of the native page holding its
next unread item and that item's index in the page — goes into the paging token, so
following ``next`` visits every matching item exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from bridge.core.contract import Item, Provider, ProviderPage
from bridge.core.filters import never_true_without
from bridge.core.match import Matcher
from bridge.core.page_cache import PageCache
from bridge.core.query import SearchQuery
from bridge.core.resilience import CircuitOpen, Resilience
from bridge.core.sorting import sort_key_function
from bridge.core.tokens import PagingState
from bridge.errors import (
    BridgeError,
    NotFound,
    ProviderTimeout,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.telemetry import PAGE_CACHE

Status = Literal["ok", "error", "timeout", "skipped"]

# Native pages one stream may fetch while building one result page. A residual filter
# that rejects everything could otherwise walk a whole archive in one request; past
# this budget the page ends early and the token resumes where the stream stopped.
MAX_FETCHES_PER_STREAM = 20
MIN_NATIVE_PAGE = 50
MAX_NATIVE_PAGE = 1000
# A request maps and matches items in slices of at most MATCH_SLICE_S, yielding to the
# event loop in between, so a large page or a costly filter never holds it for long. (Not
# a thread: cql2 and shapely hold the GIL, and handing it back and forth delays the loop
# more than slicing does.)
MATCH_SLICE_S = 0.005
DEFAULT_SEARCH_DEADLINE_S = 30.0


@dataclass
class ProviderStatus:
    """How one provider fared in one search request."""

    status: Status = "ok"
    matched: int | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented ``bridge:providers`` entry."""
        out: dict[str, Any] = {"status": self.status}
        if self.matched is not None:
            out["matched"] = self.matched
        if self.message:
            out["message"] = self.message
        return out


@dataclass
class FederatedPage:
    """One page of a federated search."""

    items: list[Item]
    next_state: PagingState | None
    matched: int | None
    statuses: dict[str, ProviderStatus]

    @property
    def partial(self) -> bool:
        """True when some involved provider did not contribute fully."""
        return any(s.status != "ok" for s in self.statuses.values())


class _Stalled(Exception):
    """A stream spent its fetch budget without finding its next item.

    ``last`` is the last native item it read: every later match of the stream sorts at or
    after it, so other streams' items before it can still be emitted.
    """

    def __init__(self, name: str, last: Item | None) -> None:
        super().__init__(name)
        self.last = last


class _Slices:
    """One request's turn on the event loop: its streams hand the loop back to other
    requests once MATCH_SLICE_S has passed since they last did, however the work is
    spread over streams and items."""

    def __init__(self) -> None:
        self.ends = time.perf_counter() + MATCH_SLICE_S

    async def pause(self) -> None:
        """Let other requests run, then start a new slice."""
        await asyncio.sleep(0)
        self.ends = time.perf_counter() + MATCH_SLICE_S


@dataclass
class _Stream:
    name: str
    fetch: Callable[[str | None], Awaitable[ProviderPage]]
    matcher: Matcher
    slices: _Slices
    page_cursor: str | None = None
    index: int = 0
    page: ProviderPage | None = None
    exhausted: bool = False
    fetches: int = 0
    head_item: Item | None = field(default=None, repr=False)
    last_page: ProviderPage | None = field(default=None, repr=False)
    """The last non-empty native page fetched (its last item is read only on a stall)."""

    def _last_read(self) -> Item | None:
        """The last native item the stream has read, or None."""
        return self.last_page.items[-1] if self.last_page is not None else None

    async def head(self) -> Item | None:
        """The next matching item, fetching native pages as needed; None at the end.

        Items are matched one at a time from where the stream stands, never a whole page
        ahead: a page served from the page cache is not evaluated again, and the items
        after the last one taken are evaluated only if a later request reaches them. The
        request's work (mapping, matching) yields to other requests every few
        milliseconds (:class:`_Slices`).
        """
        if self.head_item is not None:
            return self.head_item
        matcher, slices = self.matcher, self.slices
        clock = time.perf_counter
        while not self.exhausted:
            if self.page is None:
                if self.fetches >= MAX_FETCHES_PER_STREAM:
                    raise _Stalled(self.name, self._last_read())
                self.fetches += 1
                self.page = await self.fetch(self.page_cursor)
                if self.page.items:
                    self.last_page = self.page
            items = self.page.items
            while self.index < len(items):
                if clock() > slices.ends:
                    await slices.pause()
                item = items[self.index]  # mapped here when the page maps lazily
                if matcher(item):
                    self.head_item = item
                    return item
                self.index += 1
            if self.page.next_cursor is None or not items:
                self.exhausted = True
                break
            self.page_cursor, self.page, self.index = self.page.next_cursor, None, 0
        return None

    def take(self) -> Item:
        """Consume the current head."""
        item = self.head_item
        assert item is not None
        self.head_item = None
        self.index += 1
        return item

    def position(self) -> list[Any] | None:
        """[cursor, index] to resume at, or None when the stream is known to be exhausted."""
        page = self.page
        at_end = page is not None and self.index >= len(page.items) and page.next_cursor is None
        return None if self.exhausted or at_end else [self.page_cursor, self.index]


def fingerprint(query: SearchQuery) -> str:
    """A stable digest of everything in the search but ``limit`` (which may change per page)."""
    doc = {
        "c": sorted(query.collections) if query.collections else None,
        "i": sorted(query.ids) if query.ids else None,
        "b": query.bbox,
        "g": query.intersects,
        "d": query.datetime.to_stac() if query.datetime else None,
        "s": [f.to_stac() for f in query.sortby],
        "f": query.filter,
    }
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


class Federation:
    """Runs searches over a set of providers."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        deadlines: Mapping[str, float] | None = None,
        page_cache: PageCache | None = None,
        resilience: Resilience | None = None,
        collection_properties: Mapping[str, set[str]] | None = None,
        search_deadline_s: float = DEFAULT_SEARCH_DEADLINE_S,
    ) -> None:
        self.providers = dict(providers)
        self.search_deadline_s = search_deadline_s
        self.deadlines = dict(deadlines or {})
        self.page_cache = page_cache or PageCache()
        self.resilience = resilience or Resilience()
        self.provider_of = {c: n for n, p in self.providers.items() for c in p.collection_ids}
        # The properties each collection's items can carry (from its summaries): a filter
        # comparing a property a collection never has cannot match there, so that
        # collection — or its whole provider — is not asked at all.
        self.collection_properties = dict(collection_properties or {})

    def plan(self, query: SearchQuery) -> dict[str, SearchQuery]:
        """Per involved provider, the query narrowed to the collections that may match.

        Raises:
            NotFound: a named collection no provider serves.
        """
        if query.collections:
            unknown = [c for c in query.collections if c not in self.provider_of]
            if unknown:
                raise NotFound(f"unknown collection(s): {', '.join(unknown)}")
            wanted = list(query.collections)
        else:
            wanted = sorted(self.provider_of)
        if query.filter is not None and self.collection_properties:
            wanted = [
                c
                for c in wanted
                if c not in self.collection_properties
                or not never_true_without(query.filter, self.collection_properties[c])
            ]
        plan: dict[str, list[str]] = {}
        for cid in wanted:
            plan.setdefault(self.provider_of[cid], []).append(cid)
        return {
            name: query
            if query.collections is None and len(cids) == len(self.providers[name].collection_ids)
            else query.with_collections(cids)
            for name, cids in plan.items()
        }

    async def get_item(self, collection_id: str, item_id: str) -> Item:
        """One item by id from the provider serving ``collection_id``."""
        name = self.provider_of.get(collection_id)
        if name is None:
            raise NotFound(f"unknown collection: {collection_id}")
        provider = self.providers[name]
        item: Item | None = await self._with_deadline(
            name, lambda: provider.get_item(collection_id, item_id)
        )
        if item is None:
            raise NotFound(f"no item {item_id!r} in collection {collection_id!r}")
        return item

    async def _with_deadline(self, name: str, make_call: Callable[[], Awaitable[Any]]) -> Any:
        """One idempotent native call: retried inside the provider's deadline, breaker-guarded."""
        return await self.resilience.call(name, make_call, self.deadlines.get(name, 10.0))

    def _fetcher(
        self, name: str, query: SearchQuery, fp: str, page_size: int, ends_at: float
    ) -> Callable[[str | None], Awaitable[ProviderPage]]:
        provider = self.providers[name]
        loop = asyncio.get_running_loop()

        async def fetch(cursor: str | None) -> ProviderPage:
            key = (name, fp, cursor, page_size if cursor is None else None)
            cached = self.page_cache.get(key)
            PAGE_CACHE.labels("miss" if cached is None else "hit").inc()
            if cached is not None:
                return cached
            # Each native call gets the provider's deadline, cut to what is left of the
            # search's own: a search answers by its deadline, however many pages it walks.
            remaining = ends_at - loop.time()
            if remaining <= 0:
                raise ProviderTimeout(name, "the search's deadline passed before its turn")
            page: ProviderPage = await self.resilience.call(
                name,
                lambda: provider.search(query, cursor, page_size),
                min(self.deadlines.get(name, 10.0), remaining),
            )
            self.page_cache.put(key, page)
            return page

        return fetch

    async def search(self, query: SearchQuery, state: PagingState | None = None) -> FederatedPage:
        """One page of ``query``, resuming at ``state`` (from a previous page's token).

        Raises:
            BadRequest: ``state`` was minted for a different search.
        """
        fp = fingerprint(query)  # once per request
        if state is not None:
            state.check(fp)
        plan = self.plan(query)
        page_size = min(max(query.limit, MIN_NATIVE_PAGE), MAX_NATIVE_PAGE)
        ends_at = asyncio.get_running_loop().time() + self.search_deadline_s
        run = _Run(plan, state)
        slices = _Slices()
        for name, pos in run.start_positions().items():
            run.streams[name] = _Stream(
                name,
                self._fetcher(name, plan[name], fp, page_size, ends_at),
                Matcher(plan[name]),
                slices,
                page_cursor=pos[0],
                index=int(pos[1]),
            )
        items = await run.merge(sort_key_function(query.sortby), query.limit)
        return run.result(items, fp)


class _Run:
    """The per-request state of one federated page: streams, statuses, counts, failures."""

    def __init__(self, plan: Mapping[str, SearchQuery], state: PagingState | None) -> None:
        self.plan = plan
        self.first_page = state is None
        self.matched: dict[str, int | None] = dict(state.matched) if state else {}
        self.failed: dict[str, str] = dict(state.failed) if state else {}
        self.positions: dict[str, list[Any]] = state.positions if state else {}
        self.streams: dict[str, _Stream] = {}
        self.statuses = {name: ProviderStatus() for name in plan}
        self.stalled = False
        for name, message in self.failed.items():
            if name in self.statuses:
                self.statuses[name] = ProviderStatus(
                    "skipped", message=f"failed earlier: {message}"
                )

    def start_positions(self) -> dict[str, list[Any]]:
        """Where each involved stream starts: its beginning, or where the token says."""
        if self.first_page:
            return {name: [None, 0] for name in self.plan}
        return {n: p for n, p in self.positions.items() if n in self.plan}

    async def merge(self, key: Callable[[Item], Any], limit: int) -> list[Item]:
        """Merge the streams' heads in ``key`` order until ``limit`` items.

        A stalled stream enters the heap as a barrier at its last native item: the page
        ends when the barrier comes first, so nothing it may still hold is overtaken.
        """
        order = list(self.streams)
        heads = await asyncio.gather(
            *(self.streams[n].head() for n in order), return_exceptions=True
        )
        heap: list[tuple[Any, int, bool]] = []

        def entry(idx: int, head: Item | BaseException | None) -> tuple[Any, int, bool] | None:
            return self._entry(key, order[idx], idx, head)

        for idx, (name, head) in enumerate(zip(order, heads, strict=True)):
            page = self.streams[name].page
            if self.first_page and page is not None:
                self.matched[name] = page.matched
            if (e := entry(idx, head)) is not None:
                heap.append(e)
        heapq.heapify(heap)
        items: list[Item] = []
        while heap and len(items) < limit and not self.stalled:
            _, idx, barrier = heapq.heappop(heap)
            if barrier:
                self.stalled = True
                break
            stream = self.streams[order[idx]]
            items.append(stream.take())
            if len(items) >= limit:
                break  # the page is full: its next item can wait for the next request
            try:
                nxt: Item | BaseException | None = await stream.head()
            except Exception as exc:  # a failure is recorded per provider, not raised
                nxt = exc
            if (e := entry(idx, nxt)) is not None:
                heapq.heappush(heap, e)
        return items

    def _entry(
        self, key: Callable[[Item], Any], name: str, idx: int, head: Item | BaseException | None
    ) -> tuple[Any, int, bool] | None:
        """The heap entry for a stream's head, a barrier for a stall, or None."""
        if isinstance(head, _Stalled):
            if head.last is not None:
                return (key(head.last), idx, True)
            self.stalled = True
        elif isinstance(head, BaseException):
            self.fail(name, head)
        elif head is not None:
            return (key(head), idx, False)
        return None

    def fail(self, name: str, exc: BaseException) -> None:
        """Record a provider's failure (or a stall, which only ends the page early)."""
        if isinstance(exc, _Stalled):
            self.stalled = True
            return
        if isinstance(exc, CircuitOpen):
            kind: Status = "skipped"
            message = exc.description
        elif isinstance(exc, ProviderTimeout):
            kind = "timeout"
            message = exc.description
        elif isinstance(exc, BridgeError):
            kind, message = "error", exc.description
        elif isinstance(exc, Exception):
            kind, message = "error", f"{name}: unexpected {type(exc).__name__}"
        else:
            raise exc
        self.statuses[name] = ProviderStatus(kind, message=message)
        self.failed[name] = message
        self.streams[name].exhausted = True

    def result(self, items: list[Item], fp: str) -> FederatedPage:
        """The page, its next state and the per-provider statuses."""
        statuses = self.statuses
        for name, status in statuses.items():
            if status.status == "ok":
                status.matched = self.matched.get(name)
        if statuses and not any(s.status == "ok" for s in statuses.values()):
            detail = {n: s.to_json() for n, s in statuses.items()}
            if all(s.status == "timeout" for s in statuses.values()):
                raise UpstreamTimeout("every provider timed out", providers=detail)
            raise UpstreamUnavailable("every provider failed", providers=detail)
        positions = {
            n: pos
            for n, s in self.streams.items()
            if n not in self.failed and (pos := s.position()) is not None
        }
        next_state = None
        if positions:
            next_state = PagingState(fp, positions, self.matched, self.failed)
        total = None
        if not self.failed and all(isinstance(self.matched.get(n), int) for n in self.plan):
            total = sum(int(self.matched[n] or 0) for n in self.plan)
        return FederatedPage(items, next_state, total, statuses)
