"""Native answers read only as far as a search needs (:mod:`bridge.providers.raw_records`)."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest

from bridge.core.query import build_query
from bridge.errors import ProviderBadResponse
from bridge.providers.raw_records import RawRecord, RecordsDecoder
from tests.providers.test_arlula_tolerance import HELSINKI, TWO_YEARS, provider


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
        (held,) = [len(v) for v in p.cache._entries.values()]
        assert held > 20
    finally:
        await p.aclose()
