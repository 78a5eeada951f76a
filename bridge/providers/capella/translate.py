"""STAC search -> Capella ``POST /catalog/search`` body (a pure function, golden-tested).

Pushed down: ``collections``, ``ids``, ``bbox``/``intersects`` (Capella evaluates them
exactly on the footprint), ``sortby`` (plus ``id`` as the tie-break) when every key is
one Capella sorts on, ``datetime`` loosened (below), and the filter's top-level AND terms
that compare a scalar queryable with a literal using ``= in < <= > >=`` (Capella's ``query``
operators ``eq in lt lte gt gte``). Everything else in the filter (``<>``, ``like``, OR,
NOT, functions, spatial/temporal operators, non-queryable properties such as ``gsd``) is
left to the bridge, which re-evaluates the whole query on every item anyway
(:class:`bridge.core.match.Matcher`).

Why ``datetime`` is loosened: Capella matches ``datetime`` against each item's
``properties.datetime`` (the centre of the collect), while STAC search matches the
acquisition span ``start_datetime``..``end_datetime``. A collect that starts inside the
searched interval but is centred after it would be missed. Widening the native interval
by more than half the longest collect makes the native result a superset; the bridge
drops the extra items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from shapely.geometry import mapping

from bridge.core.filters import conjuncts, simple_comparison
from bridge.core.query import SearchQuery, SortField
from bridge.core.timeutil import Interval
from bridge.providers.capella.names import (
    ARRAY_VALUED,
    QUERY_OPERATORS,
    QUERYABLE,
    SORTABLE,
    SORTABLE_TOP_LEVEL,
)

MAX_PAGE_SIZE = 900
"""Capella's largest page (``limit``)."""

MAX_WINDOW = 10_000
"""Capella returns only the first 10,000 items of a search, however it is paged (the SDK's
``CATALOG_STAC_MAX_ITEM_RETURN``): no page may reach past them."""


def window_page_size(wanted: int) -> int:
    """The largest page size up to ``wanted`` (and :data:`MAX_PAGE_SIZE`) dividing
    :data:`MAX_WINDOW`, so that page-numbered pages end exactly at the window's edge."""
    cap = max(1, min(wanted, MAX_PAGE_SIZE))
    return max(d for d in range(1, cap + 1) if MAX_WINDOW % d == 0)


DATETIME_MARGIN = timedelta(minutes=5)
"""More than half of any collect: Capella's longest (spotlight) dwell is well under a minute."""


@dataclass(frozen=True)
class NativeRequest:
    """One native search request and what it means for the results."""

    body: dict[str, Any]
    sorted_natively: bool
    """Capella returns the items in the query's order (else the adapter sorts them)."""
    exact: bool
    """Capella evaluates every constraint exactly, so ``numberMatched`` is the true count."""


def native_sortby(sortby: Sequence[SortField]) -> list[dict[str, str]] | None:
    """Capella ``sortby`` for ``sortby`` plus ``id`` ascending; None if Capella cannot sort so."""
    out: list[dict[str, str]] = []
    for key in sortby:
        name = key.field.removeprefix("properties.")
        if name in SORTABLE_TOP_LEVEL:
            native = name
        elif name in SORTABLE:
            native = f"properties.{SORTABLE[name]}"
        else:
            return None
        out.append({"field": native, "direction": "desc" if key.descending else "asc"})
    if not any(entry["field"] == "id" for entry in out):
        out.append({"field": "id", "direction": "asc"})
    return out


def loosened_datetime(interval: Interval) -> str:
    """The native ``datetime`` for ``interval``, widened by :data:`DATETIME_MARGIN`."""
    start = interval.start - DATETIME_MARGIN if interval.start is not None else None
    end = interval.end + DATETIME_MARGIN if interval.end is not None else None
    return Interval(start, end).to_stac()


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _native_term(term: Any) -> tuple[str, str, Any] | None:
    """``(native property, Capella operator, literal)`` for a term Capella evaluates."""
    comparison = simple_comparison(term)
    if comparison is None:
        return None
    name, op, literal = comparison
    native, native_op = QUERYABLE.get(name), QUERY_OPERATORS.get(op)
    if native is None or native_op is None or name in ARRAY_VALUED:
        return None
    if native_op == "in":
        ok = isinstance(literal, list) and bool(literal) and all(_scalar(v) for v in literal)
    elif native_op == "eq":
        ok = _scalar(literal)
    else:  # order comparisons: numbers only (string ordering is not pinned down natively)
        ok = isinstance(literal, int | float) and not isinstance(literal, bool)
    return (native, native_op, literal) if ok else None


def native_query(expr: Any) -> tuple[dict[str, dict[str, Any]], bool]:
    """Capella's ``query`` object for the pushable AND terms of a cql2-json ``expr``.

    Returns the object and whether it expresses ``expr`` completely.
    """
    out: dict[str, dict[str, Any]] = {}
    complete = True
    for term in conjuncts(expr):
        native = _native_term(term)
        if native is None or native[1] in out.get(native[0], {}):
            # Not evaluable natively, or a second bound of the same kind (one key per
            # operator): leaving it out keeps the native result a superset.
            complete = False
            continue
        out.setdefault(native[0], {})[native[1]] = native[2]
    return out, complete


def _intersects(query: SearchQuery) -> Any:
    # Send the geometry the bridge validated (a self-touching ring repaired), which Capella
    # accepts where it might refuse the caller's original.
    geom = query.geometry
    if geom is None:
        return dict(query.intersects or {})
    return orjson.loads(orjson.dumps(mapping(geom)))


def to_native_query(
    query: SearchQuery, *, collections: Sequence[str], limit: int, page: int = 1
) -> NativeRequest:
    """The Capella search body selecting a superset of ``query``'s matches.

    Args:
        query: the bridge search.
        collections: the native collection ids to search (the query's, translated).
        limit: native page size, at most :data:`MAX_PAGE_SIZE`.
        page: 1-based native page number.
    """
    body: dict[str, Any] = {"collections": list(collections)}
    if query.ids:
        body["ids"] = list(query.ids)
    if query.intersects is not None:
        body["intersects"] = _intersects(query)
    elif query.bbox is not None:
        body["bbox"] = list(query.bbox)
    if query.datetime is not None:
        body["datetime"] = loosened_datetime(query.datetime)
    constraints, complete = native_query(query.filter)
    if constraints:
        body["query"] = constraints
    sortby = native_sortby(query.sortby)
    # Without a native order, page through the whole result by id: stable across pages.
    body["sortby"] = sortby or [{"field": "id", "direction": "asc"}]
    body["limit"] = max(1, min(limit, MAX_PAGE_SIZE))
    body["page"] = page
    exact = query.datetime is None and complete
    return NativeRequest(body, sorted_natively=sortby is not None, exact=exact)
