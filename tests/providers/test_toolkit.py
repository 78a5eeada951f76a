"""The provider toolkit: result cache, cursor codec, local sort with lazy mapping."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bridge.core.contract import Item
from bridge.core.query import SortField
from bridge.core.sorting import sort_key_function
from bridge.core.timeutil import instant_seconds
from bridge.errors import BadRequest
from bridge.providers.cursor import Schemas, decode_cursor, encode_cursor
from bridge.providers.local_sort import (
    Presorted,
    SortView,
    check_bound,
    keyed,
    page_of,
    sort_records,
)
from bridge.providers.result_cache import ResultCache, cache_key

SCHEMAS: Schemas = {
    "local": {"o": "offset", "n": "count"},
    "native": {"c": "text", "n": "count", "link": "object", "req": "list"},
}


def test_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache: ResultCache[list[Item]] = ResultCache(max_entries=2, ttl_s=600, clock=lambda: now[0])
    cache.put(b"a", [{"id": "1"}])
    cache.put(b"b", [])
    assert cache.get(b"a") == [{"id": "1"}]  # "a" is now the most recent
    cache.put(b"c", [])
    assert cache.get(b"b") is None and len(cache) == 2
    now[0] = 601.0
    assert cache.get(b"a") is None and len(cache) == 0
    with pytest.raises(ValueError):
        ResultCache(max_entries=0)


def test_cache_key_ignores_dict_order() -> None:
    assert cache_key({"a": 1, "b": [2]}, "x") == cache_key({"b": [2], "a": 1}, "x")
    assert cache_key({"a": 1}) != cache_key({"a": 2})


def test_cursor_round_trips_and_is_json_safe() -> None:
    state = {"c": "native-token/+=", "n": 25, "link": {"href": "/x"}, "req": [1, "two"]}
    text = encode_cursor("iceye", "native", state)
    assert text.isascii() and " " not in text and '"' not in text
    assert decode_cursor("iceye", text, SCHEMAS) == ("native", state)
    assert decode_cursor("iceye", encode_cursor("iceye", "local", {"o": 0, "n": 1}), SCHEMAS) == (
        "local",
        {"o": 0, "n": 1},
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a cursor",
        "iceye.",
        "iceye..",
        encode_cursor("capella", "local", {"o": 0, "n": 5}),  # another provider's
        encode_cursor("iceye", "local", {"o": 0, "n": 5})[:-1],  # cut
        encode_cursor("iceye", "local", {"o": 0, "n": 5}).replace(".", ".A", 1),  # edited
        encode_cursor("iceye", "paged", {"o": 0, "n": 5}),  # unknown kind
        encode_cursor("iceye", "local", {"o": -1, "n": 5}),  # negative offset
        encode_cursor("iceye", "local", {"o": 0, "n": 0}),  # empty pages
        encode_cursor("iceye", "local", {"o": True, "n": 5}),  # a bool is no int
        encode_cursor("iceye", "local", {"o": 0}),  # missing field
        encode_cursor("iceye", "local", {"o": 0, "n": 5, "x": 1}),  # extra field
        encode_cursor("iceye", "native", {"c": 1, "n": 5, "link": {}, "req": []}),
    ],
)
def test_malformed_cursors_are_bad_requests(text: str) -> None:
    with pytest.raises(BadRequest, match="invalid iceye paging cursor"):
        decode_cursor("iceye", text, SCHEMAS)


Record = dict[str, Any]
RECORDS: list[Record] = [
    {"name": f"r{i}", "when": f"2024-01-{1 + (i * 7) % 28:02d}T00:00:00+00:00", "cloud": i % 5}
    for i in range(40)
]


def _full(calls: list[str]) -> Any:
    def full(record: Record) -> Item | None:
        calls.append(record["name"])
        if record["name"] == "r3":
            return None  # another collection
        return {
            "id": record["name"],
            "collection": "c",
            "properties": {"datetime": record["when"], "eo:cloud_cover": record["cloud"]},
        }

    return full


def _view(calls: list[str]) -> SortView[Record]:
    def stub(record: Record) -> Item | None:
        if record["name"] == "r3":
            return None
        return {"id": record["name"], "collection": "c", "properties": {"datetime": record["when"]}}

    return SortView(stub=stub, fields=frozenset({"datetime"}), full=_full(calls))


@pytest.mark.parametrize("field", ["datetime", "eo:cloud_cover", "id"])
@pytest.mark.parametrize("descending", [False, True])
def test_local_sort_orders_like_the_core_and_maps_only_the_page(
    field: str, descending: bool
) -> None:
    sortby = [SortField(field, descending)]
    everything: list[str] = []
    expected = sorted(
        (i for i in map(_full(everything), RECORDS) if i is not None),
        key=sort_key_function(sortby),
    )
    calls: list[str] = []
    view = _view(calls)
    held = sort_records(RECORDS, sortby, view)
    mapped_to_sort = len(calls)
    page = page_of(held, 10, 7, view)
    assert page == expected[10:17]
    if field == "eo:cloud_cover":  # not in the stub: every record mapped once, never again
        assert mapped_to_sort == len(RECORDS) and len(calls) == len(RECORDS)
    else:
        assert mapped_to_sort == 0 and len(calls) == 7


def test_local_sort_keeps_the_first_of_an_id_when_asked() -> None:
    twice = [*RECORDS[:5], {**RECORDS[0], "when": "2030-01-01T00:00:00Z"}]
    view = _view([])
    held = sort_records(twice, [SortField("datetime", True)], view, unique_ids=True)
    assert [h.id for h in held].count("r0") == 1
    assert all(h.record["when"] != "2030-01-01T00:00:00Z" for h in held)
    assert len(sort_records(twice, [SortField("datetime", True)], view)) == 5


def test_local_sort_bound() -> None:
    check_bound("capella", 100, 100, "narrow it")
    with pytest.raises(BadRequest, match=r"capella: narrow it \(more than 100 records"):
        check_bound("capella", 101, 100, "narrow it")


def _presorted_records(seed: int, descending: bool) -> list[Record]:
    """Records in datetime order (ties, a dropped record, an id twice), as Arlula answers
    a search sorted by date."""
    rng = random.Random(seed)
    records = [
        {
            "name": f"p{rng.randrange(60)}",
            "when": f"2024-01-{rng.randrange(1, 8):02d}T00:00:00Z",
            "cloud": rng.randrange(100),
        }
        for _ in range(80)
    ]
    records.append({"name": "r3", "when": "2024-01-03T00:00:00Z", "cloud": 1})  # dropped
    records.sort(key=lambda r: r["when"], reverse=descending)
    return records


def _counting(view: SortView[Record], calls: list[str]) -> SortView[Record]:
    """``view``, noting every record it keys (from a stub or mapped whole)."""

    def stub(record: Record) -> Item | None:
        calls.append(record["name"])
        return view.stub(record)

    def full(record: Record) -> Item | None:
        calls.append(record["name"])
        return view.full(record)

    return SortView(stub=stub, fields=view.fields, full=full)


def _leads(records: list[Record]) -> list[float | None]:
    return [instant_seconds(r["when"]) for r in records]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_presorted_result_is_the_full_sort_keyed_as_far_as_read(
    seed: int, descending: bool
) -> None:
    records = _presorted_records(seed, descending)
    for sortby in (
        [SortField("datetime", descending)],
        [SortField("datetime", descending), SortField("eo:cloud_cover")],
    ):
        full = sort_records(records, sortby, _view([]), unique_ids=True)
        keyed_records: list[str] = []
        result = keyed(
            records,
            sortby,
            _counting(_view([]), keyed_records),
            leads=_leads(records),
            unique_ids=True,
        )
        assert isinstance(result, Presorted)
        first = result.slice(0, 5)
        # keyed up to the end of the fifth entry's run of equal datetimes, not further
        assert 5 <= len(keyed_records) < len(records) // 2
        pages = [first, *(result.slice(o, 5) for o in range(5, len(full) + 5, 5))]
        assert [h.id for page in pages for h in page] == [h.id for h in full]
        assert [h.record for page in pages for h in page] == [h.record for h in full]
        assert result.more_after(len(full) - 1) and not result.more_after(len(full))


def test_a_result_out_of_order_or_unreadable_is_sorted_whole() -> None:
    records = _presorted_records(1, True)
    sortby = [SortField("datetime", True)]
    shuffled = records[1:] + records[:1]
    leads = _leads(shuffled)
    assert leads != sorted(leads, reverse=True)
    for recs, lead in ((shuffled, leads), (records, [*_leads(records)[:-1], None])):
        result = keyed(recs, sortby, _view([]), leads=lead, unique_ids=True)
        assert not isinstance(result, Presorted)
        full = sort_records(recs, sortby, _view([]), unique_ids=True)
        assert result.slice(0, 1000) == full


def test_an_unreadable_record_fails_its_run_every_time_and_drops_nothing_before_it() -> None:
    records = _presorted_records(2, True)
    view = _view([])

    def stub(record: Record) -> Item | None:
        if record is records[30]:
            raise ValueError("unreadable record")
        return view.stub(record)

    sortby = [SortField("datetime", True)]
    result = keyed(
        records,
        sortby,
        SortView(stub, view.fields, view.full),
        leads=_leads(records),
        unique_ids=True,
    )
    first = result.slice(0, 3)
    for _ in range(2):
        with pytest.raises(ValueError, match="unreadable"):
            result.slice(0, len(records))
    assert result.slice(0, 3) == first
    assert all(h.record is not records[30] for h in first)
