"""Loose request input → one canonical form (bridge/api/normalize.py)."""

from __future__ import annotations

import pytest

from bridge.api.normalize import (
    bbox_numbers,
    geometry_param,
    id_list,
    json_param,
    offset_token,
    search_terms,
    sort_fields,
)
from bridge.core.query import SortField
from bridge.errors import BadRequest


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (None, None),
        ("", None),
        (" , ", None),
        ("a,b", ["a", "b"]),
        (" a , ,b ", ["a", "b"]),
        (["a", " b", ""], ["a", "b"]),
        ([], None),
    ],
)
def test_id_lists_from_strings_or_lists(raw: list[str] | str | None, canonical: object) -> None:
    assert id_list(raw) == canonical


def test_bbox_from_text_or_numbers() -> None:
    assert bbox_numbers("1,2,3,4") == [1.0, 2.0, 3.0, 4.0]
    assert bbox_numbers([1.0, 2.0, 3.0, 4.0]) == [1.0, 2.0, 3.0, 4.0]
    assert bbox_numbers(None) is None and bbox_numbers("  ") is None
    with pytest.raises(BadRequest, match="invalid bbox '1,x': expected comma-separated"):
        bbox_numbers("1,x")


def test_json_and_geometry_parameters() -> None:
    assert json_param("query", '{"gsd": {"lt": 1}}') == {"gsd": {"lt": 1}}
    assert json_param("query", " ") is None
    with pytest.raises(BadRequest, match="invalid query: not JSON"):
        json_param("query", "{")
    point = '{"type": "Point", "coordinates": [1, 2]}'
    assert geometry_param(point) == {"type": "Point", "coordinates": [1, 2]}
    with pytest.raises(BadRequest, match="not JSON"):
        geometry_param("Point(1 2)")
    with pytest.raises(BadRequest, match="expected a GeoJSON geometry object"):
        geometry_param("[1, 2]")


def test_sortby_get_and_post_forms_are_one() -> None:
    get = sort_fields("-datetime,+id")
    post = sort_fields([{"field": "datetime", "direction": "desc"}, {"field": "id"}])
    assert get == post == [SortField("datetime", True), SortField("id", False)]
    assert sort_fields("") is None and sort_fields([]) is None


def test_terms_and_offset_tokens() -> None:
    assert search_terms("SAR, Radar  x") == ("sar", "radar", "x")
    assert search_terms(None) == ()
    assert offset_token(None) == 0 and offset_token("40") == 40
    for bad in ("x", "-1", "1.5"):
        with pytest.raises(BadRequest, match="invalid paging token"):
            offset_token(bad)
