"""Ground truth for the search-exactness acceptance suite.

Two things live here, both written without the bridge's own evaluator (nothing is imported
from ``bridge.core.match``, ``bridge.core.filters`` or ``bridge.core.sorting``):

* :func:`load_archives`: every item of every simulator's archive, as the bridge sees it;
* a small predicate language (:class:`Prop`, :class:`Pred`) with SQL three-valued logic,
  the STAC search parameters (:func:`search_matches`), the sort order
  (:func:`expected_order`) and the Fields extension (:func:`expected_shape`), implemented
  from the specifications in plain Python (shapely for geometry).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key
from typing import Any

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from bridge import registry
from bridge.core.contract import Provider
from bridge.core.query import build_query
from tests.support.paging import drain as paged
from tests.support.wiring import provider_for

Item = dict[str, Any]
Truth = bool | None  # None is SQL's UNKNOWN

PROVIDERS = tuple(registry.provider_names())
WHOLE_WORLD = [-180.0, -90.0, 180.0, 90.0]
WIDE_WINDOW = "1900-01-01T00:00:00Z/2100-01-01T00:00:00Z"
"""Every simulated scene is acquired between 2019 and 2026 (``simulators.common.synth``)."""


async def drain(provider: Provider, page_size: int = 1000) -> list[Item]:
    """Every item ``provider`` returns for an unconstrained search, paged to exhaustion.

    The search carries a whole-world bbox and a wide datetime because some native APIs
    need an area and a date (Arlula); neither excludes any simulated scene.
    """
    query = build_query(bbox=WHOLE_WORLD, datetime=WIDE_WINDOW)
    return await paged(provider, query, page_size)


async def load_archives() -> dict[str, list[Item]]:
    """Every item of every simulator's archive, as STAC, per provider.

    This is the archive *as the bridge sees it*: the same adapters the app builds
    (``provider_for`` uses the production wiring), talking to simulators with the suite's
    seed and size, map every native record into the STAC items the bridge serves. Only
    the *selection* is left to the native API here (an unconstrained one), so whatever a
    search returns must be a subsequence of these items.
    """
    out: dict[str, list[Item]] = {}
    for name in PROVIDERS:
        provider, _ = provider_for(name)
        try:
            items = await drain(provider)
        finally:
            await provider.aclose()
        keys = {(i["collection"], i["id"]) for i in items}
        assert len(keys) == len(items), f"{name}: the unconstrained search repeats items"
        out[name] = items
    return out


# -- values ----------------------------------------------------------------------------------

TOP_LEVEL = ("id", "collection")
TEMPORAL = frozenset({"datetime", "start_datetime", "end_datetime", "created", "updated"})


def value(item: Item, name: str) -> Any:
    """``id``/``collection`` at the top level, any other name in ``properties``."""
    if name in TOP_LEVEL:
        return item.get(name)
    return (item.get("properties") or {}).get(name)


def instant(text: str) -> datetime:
    """An RFC 3339 instant (always with an offset in this archive)."""
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    assert parsed.tzinfo is not None, text
    return parsed


_SHAPES: dict[tuple[str, str], BaseGeometry] = {}


def footprint(item: Item) -> BaseGeometry:
    """The item's geometry as shapely (cached)."""
    key = (item["collection"], item["id"])
    geom = _SHAPES.get(key)
    if geom is None:
        geom = _SHAPES[key] = shape(item["geometry"])
    return geom


# -- three-valued predicates -----------------------------------------------------------------


@dataclass(frozen=True)
class Pred:
    """A predicate with SQL semantics: True, False or None (unknown); only True matches."""

    fn: Callable[[Item], Truth]

    def __call__(self, item: Item) -> bool:
        return self.fn(item) is True

    def __and__(self, other: Pred) -> Pred:
        def both(item: Item) -> Truth:
            a, b = self.fn(item), other.fn(item)
            if a is False or b is False:
                return False
            return None if a is None or b is None else True

        return Pred(both)

    def __or__(self, other: Pred) -> Pred:
        def either(item: Item) -> Truth:
            a, b = self.fn(item), other.fn(item)
            if a is True or b is True:
                return True
            return None if a is None or b is None else False

        return Pred(either)

    def __invert__(self) -> Pred:
        def negated(item: Item) -> Truth:
            a = self.fn(item)
            return None if a is None else not a

        return Pred(negated)


ALWAYS = Pred(lambda _: True)


def _ordered(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers)) or (
        isinstance(a, str) and isinstance(b, str)
    )


def _like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


@dataclass(frozen=True)
class Prop:
    """A property reference; comparisons build :class:`Pred` objects."""

    name: str

    def get(self, item: Item) -> Any:
        return value(item, self.name)

    def _compare(self, other: Any, test: Callable[[Any, Any], bool]) -> Pred:
        def check(item: Item) -> Truth:
            a = self.get(item)
            b = other.get(item) if isinstance(other, Prop) else other
            if a is None or b is None:
                return None
            if self.name in TEMPORAL and isinstance(a, str):
                a = instant(a)
                b = instant(b) if isinstance(b, str) else b
            if not _ordered(a, b) and not isinstance(a, datetime):
                return None  # unlike types compare to unknown
            return test(a, b)

        return Pred(check)

    def eq(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a == b)

    def ne(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Pred:
        return self._compare(other, lambda a, b: a >= b)

    def is_null(self) -> Pred:
        return Pred(lambda item: self.get(item) is None)

    def between(self, low: float, high: float) -> Pred:
        return (self >= low) & (self <= high)

    def isin(self, values: Iterable[Any]) -> Pred:
        allowed = list(values)

        def check(item: Item) -> Truth:
            a = self.get(item)
            return None if a is None else a in allowed

        return Pred(check)

    def like(self, pattern: str) -> Pred:
        regex = _like_regex(pattern)

        def check(item: Item) -> Truth:
            a = self.get(item)
            return None if not isinstance(a, str) else regex.fullmatch(a) is not None

        return Pred(check)

    def startswith(self, prefix: str) -> Pred:
        return self._string(lambda a: a.startswith(prefix))

    def endswith(self, suffix: str) -> Pred:
        return self._string(lambda a: a.endswith(suffix))

    def contains(self, part: str) -> Pred:
        return self._string(lambda a: part in a)

    def _string(self, test: Callable[[str], bool]) -> Pred:
        def check(item: Item) -> Truth:
            a = self.get(item)
            return None if not isinstance(a, str) else test(a)

        return Pred(check)

    # arrays (set semantics)
    def _array(self, test: Callable[[set[Any], set[Any]], bool], values: Iterable[Any]) -> Pred:
        wanted = set(values)

        def check(item: Item) -> Truth:
            a = self.get(item)
            return None if not isinstance(a, list) else test(set(a), wanted)

        return Pred(check)

    def a_contains(self, *values: Any) -> Pred:
        return self._array(lambda a, w: w <= a, values)

    def a_containedby(self, *values: Any) -> Pred:
        return self._array(lambda a, w: a <= w, values)

    def a_overlaps(self, *values: Any) -> Pred:
        return self._array(lambda a, w: bool(a & w), values)

    def a_equals(self, *values: Any) -> Pred:
        return self._array(lambda a, w: a == w, values)

    # temporal, on an instant-valued property
    def _instant(self, test: Callable[[datetime], bool]) -> Pred:
        def check(item: Item) -> Truth:
            a = self.get(item)
            return None if not isinstance(a, str) else test(instant(a))

        return Pred(check)

    def t_before(self, when: str) -> Pred:
        t = instant(when)
        return self._instant(lambda a: a < t)

    def t_after(self, when: str) -> Pred:
        t = instant(when)
        return self._instant(lambda a: a > t)

    def t_intersects(self, start: str, end: str) -> Pred:
        s, e = instant(start), instant(end)
        return self._instant(lambda a: s <= a <= e)

    def t_during(self, start: str, end: str) -> Pred:
        s, e = instant(start), instant(end)
        return self._instant(lambda a: s < a < e)


def span_intersects(start_prop: str, end_prop: str, start: str, end: str) -> Pred:
    """``T_INTERSECTS(INTERVAL(start_prop, end_prop), INTERVAL(start, end))``."""
    s, e = instant(start), instant(end)

    def check(item: Item) -> Truth:
        a, b = value(item, start_prop), value(item, end_prop)
        if not isinstance(a, str) or not isinstance(b, str):
            return None
        return instant(a) <= e and instant(b) >= s

    return Pred(check)


def spatial(test: Callable[[BaseGeometry], bool]) -> Pred:
    """A spatial predicate on the item's geometry."""
    return Pred(lambda item: test(footprint(item)))


# -- search parameters -----------------------------------------------------------------------


def _interval(text: str) -> tuple[datetime | None, datetime | None]:
    if "/" not in text:
        t = instant(text)
        return t, t
    a, b = text.split("/")
    return (
        None if a in ("", "..") else instant(a),
        None if b in ("", "..") else instant(b),
    )


def search_matches(body: Mapping[str, Any]) -> Callable[[Item], bool]:
    """The STAC item-search parameters of ``body`` (not filter/query) as a predicate.

    ``datetime`` matches when the item's acquisition span (``start_datetime`` ..
    ``end_datetime``, else ``datetime``) meets the closed interval; ``bbox`` and
    ``intersects`` when the footprint intersects them.
    """
    collections = set(body["collections"]) if body.get("collections") else None
    ids = set(body["ids"]) if body.get("ids") else None
    area: BaseGeometry | None = None
    if body.get("bbox"):
        area = box(*body["bbox"])
    elif body.get("intersects"):
        area = shape(body["intersects"])
    window = _interval(body["datetime"]) if body.get("datetime") else None

    def check(item: Item) -> bool:
        if collections is not None and item["collection"] not in collections:
            return False
        if ids is not None and item["id"] not in ids:
            return False
        if window is not None:
            props = item["properties"]
            first = instant(props.get("start_datetime") or props["datetime"])
            last = instant(props.get("end_datetime") or props["datetime"])
            if window[0] is not None and last < window[0]:
                return False
            if window[1] is not None and first > window[1]:
                return False
        return area is None or footprint(item).intersects(area)

    return check


# -- sorting ---------------------------------------------------------------------------------


def _sortable(name: str, raw: Any) -> Any:
    if name in TEMPORAL and isinstance(raw, str):
        return instant(raw)
    return raw


def expected_order(items: Sequence[Item], sortby: Sequence[tuple[str, bool]]) -> list[Item]:
    """``items`` ordered by ``sortby`` ((STAC name, descending) pairs): missing values last
    in either direction, then ``id`` and ``collection`` ascending."""

    def compare(x: Item, y: Item) -> int:
        for name, descending in sortby:
            a, b = _sortable(name, value(x, name)), _sortable(name, value(y, name))
            if a is None and b is None:
                continue
            if a is None:
                return 1
            if b is None:
                return -1
            if a == b:
                continue
            less = a < b
            return (1 if less else -1) if descending else (-1 if less else 1)
        for name in TOP_LEVEL:
            a, b = x.get(name) or "", y.get(name) or ""
            if a != b:
                return -1 if a < b else 1
        return 0

    return sorted(items, key=cmp_to_key(compare))


# -- fields ----------------------------------------------------------------------------------

IDENTIFYING = ("type", "stac_version", "id", "collection")


def expected_shape(item: Item, include: Sequence[str], exclude: Sequence[str]) -> Item:
    """``item`` shaped by the Fields extension: with ``include``, exactly those paths plus
    the identifying ``type``/``id``/``collection``; then minus ``exclude`` (a path in both
    stays)."""
    if include:
        out: Item = {k: item[k] for k in IDENTIFYING if k in item}
        for path in include:
            head, _, rest = path.partition(".")
            if head not in item:
                continue
            if not rest:
                out[head] = item[head]
            elif isinstance(item[head], dict) and rest in item[head]:
                out.setdefault(head, {})[rest] = item[head][rest]
    else:
        out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in item.items()}
    for path in exclude:
        if path in include or path in IDENTIFYING:
            continue
        head, _, rest = path.partition(".")
        if not rest:
            out.pop(head, None)
        elif isinstance(out.get(head), dict):
            out[head].pop(rest, None)
    return out


def paths(item: Item) -> set[str]:
    """Top-level keys, and ``properties.*`` / ``assets.*`` keys one level down."""
    out: set[str] = set()
    for key, val in item.items():
        out.add(key)
        if key in ("properties", "assets") and isinstance(val, dict):
            out.update(f"{key}.{sub}" for sub in val)
    return out
