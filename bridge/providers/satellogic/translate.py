"""STAC search -> Satellogic archive search (POST ``/archive/stac/search`` body).

Pushed down: ``collections`` (mapped to native ids), ``ids``, ``datetime`` (the archive
evaluates it exactly on the tile instant), ``bbox``/``intersects`` (as they are: the
archive matches them against each tile's 2 km grid cell, which contains the tile's
footprint, so the native result is a superset), ``limit``; when every key is in
:data:`names.SORTABLE`, ``sortby`` with ``id`` as the tie-break; and the conjuncts of the
CQL2 filter (Filter and Query extensions, merged by the core) that compare one
:data:`names.FILTERABLE` property with a literal, as a native CQL2-JSON ``filter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bridge.core.filters import and_all, conjuncts, rename_properties, simple_comparison
from bridge.core.query import SearchQuery, SortField
from bridge.providers.satellogic.names import COLLECTIONS, FILTERABLE, SORTABLE

NATIVE_MAX_LIMIT = 1000
"""The largest page the archive serves (assumed)."""


def native_collections(collections: Iterable[str] | None) -> list[str]:
    """Native collection ids for bridge ``collections`` (None: every bridge collection)."""
    wanted = COLLECTIONS if collections is None else [c for c in collections if c in COLLECTIONS]
    return [COLLECTIONS[c][0] for c in wanted]


def _native_field(name: str) -> str:
    native = SORTABLE[name]
    return native if native == "id" else f"properties.{native}"


def native_sortby(sortby: Sequence[SortField]) -> list[dict[str, str]] | None:
    """The native ``sortby`` giving exactly the bridge's order, or None when the archive
    cannot sort by every key (the adapter then sorts itself)."""
    if not all(f.field.removeprefix("properties.") in SORTABLE for f in sortby):
        return None
    out = []
    for f in sortby:
        name = f.field.removeprefix("properties.")
        out.append({"field": _native_field(name), "direction": "desc" if f.descending else "asc"})
        if name == "id":
            return out  # id is unique: later keys, and the tie-break, can never matter
    out.append({"field": "id", "direction": "asc"})
    return out


def _native_name(name: str) -> str:
    return FILTERABLE[name.removeprefix("properties.")]


def native_filter(expr: Any) -> tuple[Any, bool]:
    """The part of a cql2-json filter the archive evaluates exactly, and whether that is all.

    Only top-level AND terms comparing one :data:`FILTERABLE` property with a literal are
    sent (renamed to native names); anything else (OR trees, spatial or temporal
    operators, derived properties such as ``processing:level``) stays with the bridge.
    """
    pushed = []
    exact = True
    for term in conjuncts(expr):
        comparison = simple_comparison(term)
        if comparison is None or comparison[0].removeprefix("properties.") not in FILTERABLE:
            exact = False
            continue
        pushed.append(rename_properties(term, _native_name))
    return and_all(pushed), exact


def is_exact(query: SearchQuery) -> bool:
    """True when the archive evaluates the whole query exactly (its count is the answer).

    Spatial constraints are not exact: the archive matches them on grid cells, and an
    edge tile's footprint covers only part of its cell.
    """
    return query.geometry is None and native_filter(query.filter)[1]


def to_native_query(
    query: SearchQuery,
    *,
    limit: int,
    token: str | None = None,
    sortby: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The native POST search body selecting a superset of ``query``'s matches.

    Args:
        query: the bridge search.
        limit: native page size (clamped to what the archive serves).
        token: the archive's paging token (``next:<item id>``), to continue a search.
        sortby: the native sort (from :func:`native_sortby`); None keeps the archive's.
    """
    body: dict[str, Any] = {
        "collections": native_collections(query.collections),
        "limit": max(1, min(limit, NATIVE_MAX_LIMIT)),
    }
    if query.ids:
        body["ids"] = list(query.ids)
    if query.intersects is not None:
        body["intersects"] = dict(query.intersects)
    elif query.bbox is not None:
        body["bbox"] = list(query.bbox)
    if query.datetime is not None:
        body["datetime"] = query.datetime.to_stac()
    pushed, _ = native_filter(query.filter)
    if pushed is not None:
        body["filter"] = pushed
        body["filter-lang"] = "cql2-json"
    if sortby:
        body["sortby"] = sortby
    if token:
        body["token"] = token
    return body
