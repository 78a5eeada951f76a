"""Collection search over the collection documents: ``q``, ``bbox``, ``datetime``,
``sortby``, ``limit`` and offset paging on ``GET /collections``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.api.normalize import bbox_numbers, offset_token, search_terms, sort_fields
from bridge.core.query import normalize_bbox
from bridge.core.timeutil import Interval, parse_instant, parse_interval
from bridge.errors import BadRequest

Doc = dict[str, Any]
SORTABLE = ("id", "title", "start_datetime", "end_datetime")


@dataclass(frozen=True)
class CollectionQuery:
    """A validated collection search."""

    terms: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    datetime: Interval | None = None
    sortby: tuple[tuple[str, bool], ...] = ()
    limit: int = 100
    offset: int = 0


def parse_collection_query(
    q: str | None,
    bbox: str | None,
    datetime_: str | None,
    sortby: str | None,
    limit: int | None,
    token: str | None,
) -> CollectionQuery:
    """Validate ``/collections`` parameters (400 on malformed input); loose forms are
    normalised by :mod:`bridge.api.normalize`, like every route's."""
    sort: list[tuple[str, bool]] = []
    for field in sort_fields(sortby) or []:
        if field.field not in SORTABLE:
            raise BadRequest(
                f"cannot sort collections on {field.field!r}: use {', '.join(SORTABLE)}"
            )
        sort.append((field.field, field.descending))
    if limit is not None and limit < 1:
        raise BadRequest("limit must be at least 1")
    return CollectionQuery(
        terms=search_terms(q),
        bbox=normalize_bbox(bbox_numbers(bbox)),
        datetime=parse_interval(datetime_) if datetime_ else None,
        sortby=tuple(sort),
        limit=min(limit or 100, 1000),
        offset=offset_token(token),
    )


def _text(doc: Doc) -> str:
    parts = [doc.get("id", ""), doc.get("title", ""), doc.get("description", "")]
    parts += doc.get("keywords", [])
    parts += [p.get("name", "") for p in doc.get("providers", [])]
    return " ".join(str(p) for p in parts).lower()


def _bboxes(doc: Doc) -> list[Sequence[float]]:
    return list(((doc.get("extent") or {}).get("spatial") or {}).get("bbox") or [])


def _interval(doc: Doc) -> tuple[datetime | None, datetime | None]:
    intervals = ((doc.get("extent") or {}).get("temporal") or {}).get("interval") or [[None, None]]
    start, end = intervals[0]
    return (parse_instant(start) if start else None, parse_instant(end) if end else None)


def matches(doc: Doc, query: CollectionQuery) -> bool:
    """True when a collection document satisfies every constraint."""
    if query.terms:
        text = _text(doc)
        if not any(term in text for term in query.terms):
            return False
    if query.bbox is not None:
        w, s, e, n = query.bbox
        boxes = _bboxes(doc)
        if not any(b[0] <= e and b[2] >= w and b[1] <= n and b[3] >= s for b in boxes):
            return False
    if query.datetime is not None:
        start, end = _interval(doc)
        lo, hi = query.datetime.start, query.datetime.end
        if (lo is not None and end is not None and end < lo) or (
            hi is not None and start is not None and start > hi
        ):
            return False
    return True


def _sort_value(doc: Doc, field: str) -> Any:
    if field in ("start_datetime", "end_datetime"):
        start, end = _interval(doc)
        value = start if field == "start_datetime" else end
        return value.timestamp() if value else None
    return doc.get(field)


def search_collections(docs: list[Doc], query: CollectionQuery) -> tuple[list[Doc], int, bool]:
    """The page of matching documents, the number matched, and whether more follow."""
    hits = [d for d in docs if matches(d, query)]
    for field, descending in reversed(query.sortby):
        present = [d for d in hits if _sort_value(d, field) is not None]
        missing = [d for d in hits if _sort_value(d, field) is None]
        present.sort(key=lambda d, f=field: _sort_value(d, f), reverse=descending)  # type: ignore[misc]
        hits = present + missing
    page = hits[query.offset : query.offset + query.limit]
    return page, len(hits), query.offset + query.limit < len(hits)
