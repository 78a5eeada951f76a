"""Native evaluation of a Capella catalog search over the synthetic archive.

Capella evaluates the STAC-like body itself: ``collections``, ``ids``, ``bbox`` and
``intersects`` (exactly, on the footprint), ``datetime``, ``query`` and ``sortby``. Where
no public source is precise, the simulator assumes:

* ``datetime`` is compared with the item's ``properties.datetime`` (the collect's centre
  time) only, not with the ``start_datetime``/``end_datetime`` span STAC search uses.
  Capella's catalog indexes ``datetime``; span semantics are unconfirmed.
* Missing values sort last in both directions (the Elasticsearch default behind STAC
  servers of this kind); ties keep archive order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shapely import prepared

from bridge.simulators.capella.archive import Archive
from bridge.simulators.capella.body import TIME_QUERYABLE, NativeSearch, SortKey


def _holds(value: Any, op: str, operand: Any) -> bool:
    if value is None:
        return False
    # Array properties (polarizations, instruments) match when one element does.
    # Unconfirmed for Capella; it is how Elasticsearch-backed STAC servers behave.
    values = value if isinstance(value, list) else [value]
    try:
        if op == "eq":
            return operand == value or operand in values
        if op == "in":
            return any(v in operand for v in values)
        if op == "gt":
            return any(v > operand for v in values)
        if op == "gte":
            return any(v >= operand for v in values)
        if op == "lt":
            return any(v < operand for v in values)
        return any(v <= operand for v in values)
    except TypeError:
        return False  # comparing a number with a string matches nothing


def _value(props: dict[str, Any], name: str) -> Any:
    value = props.get(name)
    if name in TIME_QUERYABLE and isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return value


def _bboxes_meet(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def _within(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and (inner[3] <= outer[3])
    )


def _candidates(archive: Archive, search: NativeSearch, owned: frozenset[str]) -> Any:
    if search.ownership in ("ownedByOrganization", "sharedWithOrganization"):
        return sorted(archive.by_id[i] for i in owned if i in archive.by_id)
    if search.ownership == "publiclyAvailable":
        return ()  # the simulator serves no open-data items
    if search.ids is not None:
        return sorted(archive.by_id[i] for i in search.ids if i in archive.by_id)
    return range(len(archive.items))


def _spatial_test(archive: Archive, search: NativeSearch) -> Callable[[int], bool] | None:
    geom = search.geometry
    if geom is None:
        return None
    bounds = geom.bounds
    prep = prepared.prep(geom)
    is_box = search.is_box

    def meets(index: int) -> bool:
        item_bbox = archive.bboxes[index]
        if not _bboxes_meet(item_bbox, bounds):
            return False
        if is_box and _within(item_bbox, bounds):
            return True
        return bool(prep.intersects(archive.polygon(index)))

    return meets


def matching(
    archive: Archive, search: NativeSearch, owned: frozenset[str] = frozenset()
) -> list[int]:
    """Indexes of the archive items matching ``search``, in archive order.

    ``owned`` holds the ids the caller's organization has ordered, for ``ownership``.
    """
    spatial = _spatial_test(archive, search)
    start = search.start if search.start is not None else float("-inf")
    end = search.end if search.end is not None else float("inf")
    out = []
    for index in _candidates(archive, search, owned):
        item = archive.items[index]
        if search.collections is not None and item["collection"] not in search.collections:
            continue
        if search.ids is not None and item["id"] not in search.ids:
            continue
        if not start <= archive.times[index] <= end:
            continue
        if spatial is not None and not spatial(index):
            continue
        props = item["properties"]
        if all(_holds(_value(props, n), op, v) for n, op, v in search.predicates):
            out.append(index)
    return out


def _sort_value(item: dict[str, Any], name: str) -> Any:
    value = item["id"] if name == "id" else item["properties"].get(name)
    return tuple(value) if isinstance(value, list) else value


def sort_indices(archive: Archive, indices: list[int], sortby: tuple[SortKey, ...]) -> list[int]:
    """``indices`` ordered by ``sortby``; ties keep archive order; missing values go last."""
    order = sorted(indices)
    for key in reversed(sortby):  # stable sorts, least significant key first
        present = [i for i in order if _sort_value(archive.items[i], key.name) is not None]
        missing = [i for i in order if _sort_value(archive.items[i], key.name) is None]
        present.sort(
            key=lambda i, n=key.name: _sort_value(archive.items[i], n),  # type: ignore[misc]
            reverse=key.descending,
        )
        order = present + missing
    return order


def run_search(
    archive: Archive, search: NativeSearch, owned: frozenset[str] = frozenset()
) -> tuple[int, list[dict[str, Any]]]:
    """Evaluate ``search``: the number matched and the requested page of native items."""
    ordered = sort_indices(archive, matching(archive, search, owned), search.sortby)
    offset = (search.page - 1) * search.limit
    return len(ordered), [archive.items[i] for i in ordered[offset : offset + search.limit]]
