"""Sorting native records in the bridge's order without mapping them whole.

When a native API cannot sort by the query's ``sortby``, an adapter reads the whole
(bounded) native result and sorts it itself. Mapping every record to a STAC item just to
sort it, then serving a page of a few, is most of the cost: so each record is keyed once
from a *stub* — the few fields the sort needs (id, collection, datetime...), read
straight from the native record — and only the records of the page served are mapped
(:func:`page_of`). When ``sortby`` names a field the stub does not carry, the record is
mapped whole to key it, and that mapping is kept and reused when the page is served, so
the order is always exactly :func:`bridge.core.sorting.sort_key_function`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Generic, TypeVar, cast

from bridge.core.contract import Item
from bridge.core.query import SortField
from bridge.core.sorting import SortKey, sort_key_function
from bridge.errors import BadRequest

R = TypeVar("R")

ALWAYS_IN_STUB = frozenset({"id", "collection"})


@dataclass(frozen=True)
class SortView(Generic[R]):
    """How an adapter keys its native records.

    ``stub(record)`` is a partial item (``id``, ``collection`` and ``properties`` holding
    at least ``fields``, with exactly the values the full mapping gives them), or None
    for a record the search does not keep (another collection). ``full(record)`` is the
    whole mapping, or None likewise.
    """

    stub: Callable[[R], Item | None]
    fields: frozenset[str]
    full: Callable[[R], Item | None]

    def covers(self, sortby: Sequence[SortField]) -> bool:
        """True when every field of ``sortby`` can be read from the stub."""
        names = (f.field.removeprefix("properties.") for f in sortby)
        return all(n in self.fields or n in ALWAYS_IN_STUB for n in names)


@dataclass(slots=True)
class Held(Generic[R]):
    """One native record kept for a locally sorted result, with its sort key."""

    key: SortKey
    id: str
    record: R
    item: Item | None = None
    """The full mapping, when keying the record needed it."""


def check_bound(provider: str, count: int, max_records: int, why: str) -> None:
    """Refuse a local sort over more than ``max_records`` native records.

    Raises:
        BadRequest: ``count`` is beyond the bound (``why`` says what to do instead).
    """
    if count > max_records:
        raise BadRequest(f"{provider}: {why} (more than {max_records} records to sort)")


def sort_records(
    records: Iterable[R],
    sortby: Sequence[SortField],
    view: SortView[R],
    *,
    unique_ids: bool = False,
) -> list[Held[R]]:
    """``records`` in the order of ``sortby``, each keyed once (records the view drops are
    left out; with ``unique_ids`` only the first record of an item id is kept)."""
    key_of = sort_key_function(sortby)
    cheap = view.covers(sortby)
    held: list[Held[R]] = []
    seen: set[str] = set()
    for record in records:
        item = view.stub(record) if cheap else view.full(record)
        if item is None:
            continue
        item_id = item["id"]
        if unique_ids:
            if item_id in seen:
                continue
            seen.add(item_id)
        held.append(Held(key_of(item), item_id, record, None if cheap else item))
    held.sort(key=_key)
    return held


def _key(entry: Held[Any]) -> SortKey:
    return entry.key


class Keyed(Generic[R]):
    """A result in the bridge's order, read by offset (what a cached result serves)."""

    def __init__(self, held: list[Held[R]]) -> None:
        self._held = held

    def slice(self, offset: int, size: int) -> list[Held[R]]:
        """The entries ``offset`` to ``offset + size``."""
        return self._held[offset : offset + size]

    def more_after(self, end: int) -> bool:
        """True when the result holds an entry at ``end`` or later."""
        return end < len(self._held)


class Presorted(Keyed[R]):
    """A result the provider returned already in the order of ``sortby``'s leading
    field, keyed only as far as it is read.

    ``leads`` are the records' leading sort values in their native order, already checked
    to be monotonic in the direction of the sort (see :func:`keyed`). Records are then
    keyed one run of equal leading values at a time, each run sorted by the whole key, so
    the order is exactly :func:`sort_records`'s (records the view drops are left out; with
    ``unique_ids`` the first record of an id in native order is kept) — but a search that
    serves a thousand of several thousand records keys about a thousand.
    """

    def __init__(
        self,
        records: Sequence[R],
        leads: Sequence[float],
        sortby: Sequence[SortField],
        view: SortView[R],
        *,
        unique_ids: bool,
    ) -> None:
        super().__init__([])
        self._records, self._leads, self._view = records, leads, view
        self._key_of = sort_key_function(sortby)
        self._cheap = view.covers(sortby)
        self._unique = unique_ids
        self._seen: set[str] = set()
        self._next = 0

    def _advance(self, want: int) -> None:
        """Key whole runs of records until ``want`` entries are held or none are left."""
        records, leads, held = self._records, self._leads, self._held
        while len(held) < want and self._next < len(records):
            start, lead = self._next, leads[self._next]
            end = start + 1
            while end < len(records) and leads[end] == lead:
                end += 1
            # Key the whole run before any state changes: a record that cannot be read
            # raises here, and the next request meets the same run afresh.
            entries = [self._entry(record) for record in records[start:end]]
            run = []
            for entry in entries:
                if entry is None:
                    continue
                if self._unique:
                    if entry.id in self._seen:
                        continue
                    self._seen.add(entry.id)
                run.append(entry)
            run.sort(key=_key)
            held.extend(run)
            self._next = end

    def _entry(self, record: R) -> Held[R] | None:
        view = self._view
        item = view.stub(record) if self._cheap else view.full(record)
        if item is None:
            return None
        return Held(self._key_of(item), item["id"], record, None if self._cheap else item)

    def slice(self, offset: int, size: int) -> list[Held[R]]:
        """The entries ``offset`` to ``offset + size`` (keying as far as they reach)."""
        self._advance(offset + size)
        return super().slice(offset, size)

    def more_after(self, end: int) -> bool:
        """True when the result holds an entry at ``end`` or later."""
        self._advance(end + 1)
        return super().more_after(end)


def keyed(
    records: Sequence[R],
    sortby: Sequence[SortField],
    view: SortView[R],
    *,
    leads: Sequence[float | None] | None = None,
    unique_ids: bool = False,
) -> Keyed[R]:
    """``records`` in the order of ``sortby``, keyed lazily where the provider's own
    order can be trusted.

    ``leads`` are the records' values of ``sortby``'s leading field as the key compares
    them (unix seconds for a datetime), in native order, None where unreadable. When every
    lead is known and they are monotonic in the sort's direction, the native order is the
    bridge's up to ties, and :class:`Presorted` keys records only as far as they are read;
    otherwise every record is keyed and sorted here (:func:`sort_records`).
    """
    if leads is not None and sortby and len(leads) == len(records) and None not in leads:
        known = cast(Sequence[float], leads)  # no None, checked just above
        descending = sortby[0].descending
        pairs = pairwise(known)
        if all(a >= b for a, b in pairs) if descending else all(a <= b for a, b in pairs):
            return Presorted(records, known, sortby, view, unique_ids=unique_ids)
    return Keyed(sort_records(records, sortby, view, unique_ids=unique_ids))


def page_of(held: Sequence[Held[R]], offset: int, size: int, view: SortView[R]) -> list[Item]:
    """The items of ``held[offset:offset + size]``: only these records are mapped."""
    items = []
    for entry in held[offset : offset + size]:
        item = entry.item if entry.item is not None else view.full(entry.record)
        if item is not None:
            items.append(item)
    return items
