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
from typing import Any, Generic, TypeVar

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


def page_of(held: Sequence[Held[R]], offset: int, size: int, view: SortView[R]) -> list[Item]:
    """The items of ``held[offset:offset + size]``: only these records are mapped."""
    items = []
    for entry in held[offset : offset + size]:
        item = entry.item if entry.item is not None else view.full(entry.record)
        if item is not None:
            items.append(item)
    return items
