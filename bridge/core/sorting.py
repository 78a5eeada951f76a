"""Sort keys over STAC items for any ``sortby``, with a deterministic tie-break.

Missing values sort last in both directions. Datetime-valued fields compare as instants,
not strings, because providers format them differently (``Z`` vs ``+00:00``, precision).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import total_ordering
from typing import Any

from bridge.core.query import SortField
from bridge.core.timeutil import instant_seconds

Item = dict[str, Any]
SortKey = tuple[Any, ...]

_TOP_LEVEL = {"id", "collection"}


def field_value(item: Item, name: str) -> Any:
    """Read a sortable value: ``id``/``collection`` at the top level, else a property."""
    if name.startswith("properties."):
        name = name[len("properties.") :]
    if name in _TOP_LEVEL:
        return item.get(name)
    return (item.get("properties") or {}).get(name)


@total_ordering
class _Reversed:
    """Wraps a value so that it orders in reverse (for descending non-numeric keys)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _comparable(value: Any, is_time: bool) -> Any:
    if is_time and isinstance(value, str):
        return instant_seconds(value)
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _component(value: Any, descending: bool, is_time: bool) -> tuple[int, Any]:
    # (0, v) sorts before (1, None): missing values always come last.
    if value is None:
        return (1, 0)
    v = _comparable(value, is_time)
    if descending:
        v = -v if isinstance(v, (int, float)) else _Reversed(v)
    # Numbers and strings never meet in one slot for well-typed data; keep a type rank
    # so mixed data still orders deterministically instead of raising.
    rank = 0 if isinstance(value, (int, float)) else 1
    return (0, (rank, v))


def _getter(name: str) -> Callable[[Item], Any]:
    """:func:`field_value` for one field, with the name resolved once."""
    if name.startswith("properties."):
        name = name[len("properties.") :]
    if name in _TOP_LEVEL:
        return lambda item: item.get(name)
    return lambda item: (item.get("properties") or {}).get(name)


def sort_key_function(sortby: Sequence[SortField]) -> Callable[[Item], SortKey]:
    """A key function for ``sorted``/``heapq`` ordering items by ``sortby``.

    The key ends with ``id`` then ``collection`` ascending, so the order is total and
    stable across requests (a provider that sorts natively by ``sortby`` plus ``id`` yields
    exactly this order).
    """
    fields = [(_getter(f.field), f.descending, "datetime" in f.field) for f in sortby]
    if len(fields) == 1:
        return _one_field_key(*fields[0])

    def key(item: Item) -> SortKey:
        parts = [_component(get(item), d, t) for get, d, t in fields]
        parts.append((0, (1, item.get("id") or "")))
        parts.append((0, (1, item.get("collection") or "")))
        return tuple(parts)

    return key


def _one_field_key(
    get: Callable[[Item], Any], descending: bool, is_time: bool
) -> Callable[[Item], SortKey]:
    """:func:`sort_key_function`'s key for one field (the usual ``sortby``, a datetime),
    the same tuples built without the general loop: every searched item is keyed, some
    twice (an adapter's local sort, then the merge)."""

    def key(item: Item) -> SortKey:
        value = get(item)
        if is_time and value.__class__ is str:
            seconds = instant_seconds(value)  # as _component: rank 1, negated when descending
            first: tuple[int, Any] = (0, (1, -seconds if descending else seconds))
        else:
            first = _component(value, descending, is_time)
        return (first, (0, (1, item.get("id") or "")), (0, (1, item.get("collection") or "")))

    return key
