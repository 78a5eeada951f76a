"""A bridge :class:`SearchQuery` → the ICEYE catalog request that selects a superset of it.

What is pushed down:

* v2 ``POST /api/catalog/v2/search``: bbox or intersects (exact), datetime, ids, the
  native collection ``public``, the bridge collections as
  ``query: {"sar:product_type": {"in": [...]}}``, the filter's top-level
  AND terms comparing a :data:`~bridge.providers.iceye.names.FILTERABLE` property with a
  literal (``= < <= > >= in``) in the same native ``query``, sortby (+ ``id``),
  contractID, limit, cursor. Any other filter term is left to the bridge.
* v1 has no intersects, collections or contractID: ``POST /api/catalog/v1/search`` with
  the bbox of the geometry, datetime, ids, the product types and filter terms in v1 names
  in ``query``, sortby and limit; its next pages come from ``GET /api/catalog/v1/items``
  with the answered ``cursor`` (ICEYE docs "search catalog items"). The bridge drops
  scenes outside the polygon.

Datetime is widened by :data:`DATETIME_MARGIN` on both sides because which acquisition
instant ICEYE compares (start, end, or the span) is unconfirmed; the bridge evaluates
the exact interval on what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.core.filters import conjuncts, simple_comparison
from bridge.core.query import SearchQuery, SortField
from bridge.core.timeutil import Interval
from bridge.providers.iceye.names import (
    CONSTANTS,
    FILTERABLE,
    ITEM_FIELDS,
    SORT_ALIASES,
    SORTABLE,
    V2_TO_V1,
)

MAX_LIMIT = 200
"""Largest native page: the Catalog API's maximum ``limit`` (ICEYE docs "handle
pagination"; v1 allows up to 10000)."""
DATETIME_MARGIN = timedelta(minutes=5)
"""Longer than any ICEYE acquisition (dwell ≈ 25 s, scan ≈ 20 s)."""
SEARCH_PATH = "/api/catalog/{version}/search"
NATIVE_COLLECTION = "public"
"""The native collection searched: the whole public catalog."""
ITEMS_PATH = "/api/catalog/{version}/items"


@dataclass(frozen=True)
class NativeRequest:
    """One native catalog request, before its cursor is added."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    """JSON body of a POST."""
    params: dict[str, str] | None = None
    """Query string of a GET."""
    paged: bool = True
    """Whether the response carries a cursor to the next page."""
    next_path: str | None = None
    """Where the next pages are asked (``GET`` with ``cursor`` and ``limit``), when not the
    request itself: v1 pages a ``POST /search`` through ``GET /items``."""
    sorted_natively: bool = True
    """Whether the native order already is the bridge order (else the adapter sorts)."""

    def to_json(self) -> dict[str, Any]:
        """The request as JSON (golden files, debugging)."""
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "params": self.params,
            "paged": self.paged,
            "next_path": self.next_path,
            "sorted_natively": self.sorted_natively,
        }


def native_sort(sortby: tuple[SortField, ...], api_version: str) -> list[tuple[str, bool]] | None:
    """The native sort keys giving the bridge order (ending with ``id``), or None when
    ICEYE cannot sort that way.

    Fields no ICEYE item carries, or that are the same on every item, order nothing and
    are skipped (so a federated sort by e.g. ``eo:cloud_cover`` still pushes down).
    """
    keys: list[tuple[str, bool]] = []
    for sort in sortby:
        name = sort.field.removeprefix("properties.")
        if name == "collection":
            return None  # derived from the product type by the bridge; ICEYE cannot sort by it
        if name != "id" and (name not in ITEM_FIELDS or name in CONSTANTS):
            continue
        v2 = SORT_ALIASES.get(name, name)
        native = v2 if api_version == "v2" or v2 == "id" else V2_TO_V1.get(v2, v2)
        if native not in SORTABLE[api_version]:
            return None
        keys.append((native, sort.descending))
        if native == "id":
            return keys  # id is unique: later keys can never matter
    keys.append(("id", False))
    return keys


def _datetime(interval: Interval | None) -> str | None:
    if interval is None:
        return None
    widened = Interval(
        interval.start - DATETIME_MARGIN if interval.start else None,
        interval.end + DATETIME_MARGIN if interval.end else None,
    )
    return widened.to_stac()


_NATIVE_OPS = {"=": "eq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "in": "in"}


def _literal_fits(value: Any, kind: str) -> bool:
    values = value if isinstance(value, list) else [value]
    if kind == "number":
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return all(isinstance(v, str) for v in values)


def native_query(
    query: SearchQuery, product_types: tuple[str, ...] | None, api_version: str
) -> dict[str, dict[str, Any]]:
    """The native ``query`` object: the product types, then the pushable filter terms.

    A second term with the same property and operator is left to the bridge (dropping a
    term only widens the native result).
    """
    native: dict[str, dict[str, Any]] = {}
    if product_types is not None:
        native["sar:product_type"] = {"in": list(product_types)}
    for term in conjuncts(query.filter):
        simple = simple_comparison(term)
        if simple is None:
            continue
        name, op, literal = simple
        target = FILTERABLE.get(name.removeprefix("properties."))
        if target is None or op not in _NATIVE_OPS or not _literal_fits(literal, target[1]):
            continue
        ops = native.setdefault(target[0], {})
        ops.setdefault(_NATIVE_OPS[op], literal)
    if api_version == "v1":
        return {V2_TO_V1.get(name, name): ops for name, ops in native.items()}
    return native


def _v2(
    query: SearchQuery,
    product_types: tuple[str, ...] | None,
    contract_id: str | None,
    limit: int,
    sort: list[tuple[str, bool]] | None,
) -> NativeRequest:
    body: dict[str, Any] = {}
    if query.intersects is not None:
        body["intersects"] = dict(query.intersects)
    elif query.bbox is not None:
        body["bbox"] = list(query.bbox)
    dt = _datetime(query.datetime)
    if dt is not None:
        body["datetime"] = dt
    if query.ids:
        body["ids"] = list(query.ids)
    # Named, not left to ICEYE's default: the caller's owned frames are also in "private"
    # (ICEYE docs "build a catalog application"), and one scene must come back once.
    body["collections"] = [NATIVE_COLLECTION]
    pushed = native_query(query, product_types, "v2")
    if pushed:
        body["query"] = pushed
    if sort is not None:
        body["sortby"] = [{"field": f, "direction": "desc" if d else "asc"} for f, d in sort]
    if contract_id:
        body["contractID"] = contract_id
    body["limit"] = limit
    path = SEARCH_PATH.format(version="v2")
    return NativeRequest("POST", path, body=body, sorted_natively=sort is not None)


def _v1(
    query: SearchQuery,
    product_types: tuple[str, ...] | None,
    limit: int,
    sort: list[tuple[str, bool]] | None,
) -> NativeRequest:
    body: dict[str, Any] = {}
    bbox = query.spatial_bbox
    if bbox is not None:
        body["bbox"] = list(bbox)
    dt = _datetime(query.datetime)
    if dt is not None:
        body["datetime"] = dt
    if query.ids:
        body["ids"] = list(query.ids)
    pushed = native_query(query, product_types, "v1")
    if pushed:
        body["query"] = pushed
    if sort is not None:
        body["sortby"] = [{"field": f, "direction": "desc" if d else "asc"} for f, d in sort]
    body["limit"] = limit
    return NativeRequest(
        "POST",
        SEARCH_PATH.format(version="v1"),
        body=body,
        next_path=ITEMS_PATH.format(version="v1"),
        sorted_natively=sort is not None,
    )


def to_native_query(
    query: SearchQuery,
    *,
    api_version: str,
    product_types: tuple[str, ...] | None,
    contract_id: str | None,
    page_size: int,
) -> NativeRequest:
    """The native request for ``query``.

    Args:
        query: the bridge search.
        api_version: ``"v2"`` or ``"v1"``.
        product_types: native product types to keep (from the wanted collections); None
            for every type.
        contract_id: the ICEYE contract (v2 only).
        page_size: the native page size; ignored (100) when the adapter must sort itself.
    """
    sort = native_sort(query.sortby, api_version)
    # Without a native sort the adapter fetches everything, so use the largest pages.
    limit = max(1, min(page_size, MAX_LIMIT)) if sort is not None else MAX_LIMIT
    if api_version == "v2":
        return _v2(query, product_types, contract_id, limit, sort)
    return _v1(query, product_types, limit, sort)
