"""Request limits: bounded scans that stop hostile input before cql2, shapely or pydantic."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bridge.core.limits import (
    check_counts,
    check_filter,
    check_geometry,
    check_json_depth,
    check_query_extension,
    json_text_depth,
)
from bridge.errors import BadRequest, LimitExceeded
from bridge.settings import LimitSettings

LIMITS = LimitSettings()


def nested_not(levels: int) -> dict[str, Any]:
    expr: dict[str, Any] = {"op": "=", "args": [{"property": "eo:cloud_cover"}, 1]}
    for _ in range(levels):
        expr = {"op": "not", "args": [expr]}
    return expr


def test_json_text_depth_ignores_brackets_inside_strings() -> None:
    assert json_text_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_text_depth(b'"just a string"') == 0
    assert json_text_depth(b"[" * 5000 + b"]" * 5000) == 5000
    with pytest.raises(LimitExceeded, match="BRIDGE_LIMITS__MAX_JSON_DEPTH"):
        check_json_depth(b"[" * 101 + b"]" * 101, LIMITS)
    check_json_depth(b"[" * 100 + b"]" * 100, LIMITS)


def test_text_filter_terms_depth_and_length_are_bounded() -> None:
    ok = " OR ".join(f"eo:cloud_cover = {i}" for i in range(256))
    check_filter(ok, None, LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_FILTER_TERMS"):
        check_filter(ok + " OR eo:cloud_cover = 1", None, LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_FILTER_DEPTH"):
        check_filter("(" * 33 + "eo:cloud_cover = 1" + ")" * 33, "cql2-text", LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_FILTER_CHARS"):
        check_filter("platform = '" + "x" * 100_000 + "'", None, LIMITS)
    # Operators and parentheses inside string literals are not structure.
    check_filter("platform = '" + "( or " * 300 + "'", None, LIMITS)


def test_json_filter_terms_and_depth_are_bounded() -> None:
    check_filter(nested_not(31), "cql2-json", LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_FILTER_DEPTH"):
        check_filter(nested_not(40), "cql2-json", LIMITS)
    # 3,000 levels: stopped by the container depth, before anything recursive sees it.
    with pytest.raises(LimitExceeded):
        check_filter(nested_not(3000), "cql2-json", LIMITS)
    wide = {"op": "or", "args": [{"op": "=", "args": [{"property": "x"}, i]} for i in range(300)]}
    with pytest.raises(LimitExceeded, match="MAX_FILTER_TERMS"):
        check_filter(wide, None, LIMITS)
    # The same as JSON text (GET with filter-lang=cql2-json).
    with pytest.raises(LimitExceeded, match="MAX_FILTER_TERMS"):
        check_filter(orjson.dumps(wide).decode(), "cql2-json", LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_JSON_DEPTH"):
        check_filter("[" * 2000 + "]" * 2000, "cql2-json", LIMITS)


def test_query_extension_constraints_count_as_terms() -> None:
    check_query_extension({"eo:cloud_cover": {"lt": 10, "gt": 1}}, LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_FILTER_TERMS"):
        check_query_extension({f"p{i}": {"eq": i} for i in range(257)}, LIMITS)


def ring(n: int) -> list[list[float]]:
    return [[i / n, (i % 7) / 7] for i in range(n - 1)] + [[0.0, 0.0]]


def test_geometry_vertices_and_parts_are_bounded() -> None:
    check_geometry({"type": "Polygon", "coordinates": [ring(100_000)]}, LIMITS)
    with pytest.raises(LimitExceeded, match="MAX_GEOMETRY_VERTICES"):
        check_geometry({"type": "Polygon", "coordinates": [ring(100_001)]}, LIMITS)
    many = {"type": "MultiPolygon", "coordinates": [[ring(4)] for _ in range(10_001)]}
    with pytest.raises(LimitExceeded, match="MAX_GEOMETRY_PARTS"):
        check_geometry(many, LIMITS)
    collection = {
        "type": "GeometryCollection",
        "geometries": [{"type": "LineString", "coordinates": ring(60_000)}] * 2,
    }
    with pytest.raises(LimitExceeded, match="MAX_GEOMETRY_VERTICES"):
        check_geometry(collection, LIMITS)
    check_geometry({"type": "Point", "coordinates": [1, 2]}, LIMITS)
    check_geometry({"type": "Polygon", "coordinates": "garbage"}, LIMITS)  # shapely's 400


def test_counts_are_bounded() -> None:
    check_counts(LIMITS, ids=["a"] * 10_000, collections=["c"] * 100, sortby="-datetime,id")
    with pytest.raises(LimitExceeded, match="MAX_IDS"):
        check_counts(LIMITS, ids=["a"] * 10_001)
    with pytest.raises(LimitExceeded, match="MAX_COLLECTIONS"):
        check_counts(LIMITS, collections=["c"] * 101)
    with pytest.raises(LimitExceeded, match="MAX_SORTBY"):
        check_counts(LIMITS, sortby=",".join(["id"] * 17))
    with pytest.raises(LimitExceeded, match="MAX_FIELDS"):
        check_counts(LIMITS, fields={"include": [f"f{i}" for i in range(201)]})
    with pytest.raises(LimitExceeded, match="MAX_FIELDS"):
        check_counts(LIMITS, fields=",".join(f"f{i}" for i in range(201)))


def test_json_filter_that_json_cannot_carry_is_a_bad_request() -> None:
    """Found by schemathesis: a 500 where a 400 belongs."""
    with pytest.raises(BadRequest):
        check_filter({"op": "=", "args": [{"property": "x"}, -(2**95)]}, None, LIMITS)
    with pytest.raises(BadRequest):
        check_filter({"op": "=", "args": [{"property": "\ud80e"}, 1]}, None, LIMITS)
