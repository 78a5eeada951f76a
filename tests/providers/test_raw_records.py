"""Native answers read only as far as a search needs (:mod:`bridge.providers.raw_records`)."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest

from bridge.core.query import SortField, build_query
from bridge.errors import ProviderBadResponse
from bridge.providers.local_sort import Presorted
from bridge.providers.raw_records import LazyItems, RawRecord, RecordsDecoder
from tests.providers.test_arlula_tolerance import HELSINKI, TWO_YEARS, provider
from tests.support.wiring import provider_for


class Fields(msgspec.Struct):
    id: Any = None
    when: Any = None


RECORDS = [
    {"id": "a", "when": "2024-01-01", "extra": {"deep": [1, 2, {"x": None}]}},
    {"id": "b", "when": None, "new": "a member nobody documented"},
    {"when": "2024-01-03"},
]


def test_bare_array_keeps_each_record_whole_and_reads_only_the_named_fields() -> None:
    answer = RecordsDecoder("p", Fields).decode(orjson.dumps(RECORDS))
    assert answer.records is not None and answer.extras == {}
    assert [(r.fields.id, r.fields.when) for r in answer.records] == [
        ("a", "2024-01-01"),
        ("b", None),
        (None, "2024-01-03"),
    ]
    assert [r.decode() for r in answer.records] == RECORDS


def test_enveloped_array_with_extras() -> None:
    decoder = RecordsDecoder("p", Fields, "results", extras=("errors",))
    body = {"state": "done", "errors": ["maxar: down"], "results": RECORDS[:1]}
    answer = decoder.decode(orjson.dumps(body))
    assert answer.extras == {"errors": ["maxar: down"]}
    assert answer.records is not None and answer.records[0].decode() == RECORDS[0]
    missing = decoder.decode(b'{"errors": []}')
    assert missing.records is None and missing.extras == {"errors": []}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"results": {"0": {}}}',  # an object where the array belongs
        b'{"results": ["scene-1", 3]}',  # not records
        b"[1, 2]",  # a bare array where the envelope belongs
        b'{"results": [{"id": "a"}]',  # cut short
    ],
)
def test_other_shapes_are_a_provider_error(body: bytes) -> None:
    with pytest.raises(ProviderBadResponse, match="p: unreadable search answer"):
        RecordsDecoder("p", Fields, "results").decode(body)


async def test_arlula_decodes_only_the_records_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[RawRecord[Any]] = []
    whole = RawRecord.decode

    def counting(self: RawRecord[Any]) -> Any:
        decoded.append(self)
        return whole(self)

    monkeypatch.setattr(RawRecord, "decode", counting)
    p = provider(lambda body: body)
    try:
        query = build_query(bbox=HELSINKI, datetime=TWO_YEARS)
        page = await p.search(query, None, 5)
        assert len(page.items) == 5 and page.next_cursor is not None
        assert len(decoded) == 5  # of the whole answer, only the page served
        (result,) = p.cache._entries.values()
        # Arlula answered in date order, so its records are keyed only as far as read
        assert isinstance(result, Presorted) and result._next < len(result._records)
        assert result.more_after(20)  # the answer holds more than the page
    finally:
        await p.aclose()


def test_lazy_items_map_each_record_once_when_first_read() -> None:
    calls: list[int] = []

    def map_one(n: int) -> dict[str, Any]:
        calls.append(n)
        if n == 3:
            raise ProviderBadResponse("p", "unreadable record")
        return {"id": str(n)}

    items = LazyItems([0, 1, 2, 3], map_one)
    assert len(items) == 4 and calls == []
    assert items[1] == {"id": "1"} and items[1] is items[1] and calls == [1]
    assert items[-2] == {"id": "2"} and items[:2] == [{"id": "0"}, {"id": "1"}]
    assert calls == [1, 2, 0]
    with pytest.raises(ProviderBadResponse):
        list(items)  # the bad record raises when reached, nothing is dropped
    assert LazyItems([0, 1], map_one) == [{"id": "0"}, {"id": "1"}] and LazyItems([], map_one) == []
    assert repr(items) == "LazyItems(4 records, 3 mapped)"


@pytest.mark.parametrize(
    ("name", "api_version"),
    [("capella", None), ("satellogic", None), ("iceye", "v2"), ("iceye", "v1")],
)
async def test_natively_sorted_pages_are_mapped_only_as_far_as_they_are_read(
    name: str, api_version: str | None
) -> None:
    p, _ = provider_for(name, api_version)
    try:
        page = await p.search(build_query(sortby=[SortField("datetime", True)]), None, 50)
        assert isinstance(page.items, LazyItems) and len(page.items) > 3
        assert repr(page.items).endswith(" 0 mapped)")
        first = page.items[0]
        assert first["collection"] in p.collection_ids and repr(page.items).endswith(" 1 mapped)")
        assert [i["id"] for i in page.items] == [i["id"] for i in page.items[: len(page.items)]]
    finally:
        await p.aclose()
