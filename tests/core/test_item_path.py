"""Served items: hrefs quoted as before, with the quoting most ids do not need skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from bridge.api.decorate import decorate_item
from bridge.api.links import quote_segment
from bridge.api.order_views import item_href
from bridge.core.timeutil import instant_seconds, parse_instant

TRICKY = ["S1A_IW_GRDH", "a b", "ü-ß", "x/y?z#", "100%", "~._-", "", "a+b", "é"]


@pytest.mark.parametrize("text", TRICKY)
def test_quote_segment_is_quote_with_nothing_safe(text: str) -> None:
    assert quote_segment(text) == quote(text, safe="")


@pytest.mark.parametrize("item_id", TRICKY[:6])
def test_served_hrefs_are_the_item_href(item_id: str) -> None:
    item = {"id": item_id, "collection": "c 1", "properties": {}, "assets": {"a/b": {}}}
    served = decorate_item("http://x/", item, None)
    href = item_href("http://x/", "c 1", item_id)
    assert served["assets"]["a/b"]["href"] == f"{href}/assets/a%2Fb"
    assert served["links"][-1]["href"] == f"{href}/order"
    assert item["assets"]["a/b"] == {}  # the input is never modified


def test_instant_seconds_reads_every_offset_form_as_the_same_instant() -> None:
    expected = datetime(2025, 6, 1, tzinfo=UTC).timestamp()
    for text in ("2025-06-01T00:00:00Z", "2025-06-01T02:00:00+02:00", "2025-06-01T00:00:00"):
        assert instant_seconds(text) == expected == parse_instant(text).timestamp()
