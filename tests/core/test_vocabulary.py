"""The property vocabulary: schemas from summaries, aliases, unknown names."""

from __future__ import annotations

import pytest

from bridge.core.vocabulary import Vocabulary, schema_from_summary
from bridge.errors import BadRequest

DOCS = [
    {
        "id": "a",
        "summaries": {
            "sar:polarizations": [["HH"], ["VV", "VH"]],
            "view:incidence_angle": {"minimum": 15, "maximum": 40},
            "platform": ["x-1", "x-2"],
            "bands": [{"name": "red"}, {"name": "nir"}],
        },
    },
    {
        "id": "b",
        "summaries": {
            "view:incidence_angle": {"minimum": 10, "maximum": 30},
            "platform": ["y-1"],
            "iceye:frame_id": {"type": "string"},
        },
    },
]


def test_schemas_from_summaries() -> None:
    assert schema_from_summary("platform", ["a", "b"])["enum"] == ["a", "b"]
    pol = schema_from_summary("sar:polarizations", [["HH"], ["VV", "VH"]])
    assert pol["type"] == "array" and pol["items"]["enum"] == ["HH", "VH", "VV"]
    angle = schema_from_summary("view:incidence_angle", {"minimum": 15, "maximum": 40})
    assert (angle["minimum"], angle["maximum"], angle["unit"]) == (15, 40, "deg")
    assert "enum" not in schema_from_summary("bands", [{"name": "red"}])


def test_merged_across_collections_and_per_collection() -> None:
    vocab = Vocabulary(DOCS, {"incidence_angle": "view:incidence_angle"})
    merged = vocab.all["view:incidence_angle"]
    assert (merged["minimum"], merged["maximum"]) == (10, 40)
    assert vocab.all["platform"]["enum"] == ["x-1", "x-2", "y-1"]
    assert "iceye:frame_id" not in vocab.by_collection["a"]
    q = vocab.queryables("http://x/", "b")
    assert q["$id"] == "http://x/collections/b/queryables" and "iceye:frame_id" in q["properties"]


def test_aliases_and_unknown_names() -> None:
    vocab = Vocabulary(DOCS, {"incidence_angle": "view:incidence_angle"})
    assert vocab.resolve("incidence_angle") == "view:incidence_angle"
    assert vocab.resolve("properties.platform") == "platform"
    assert vocab.resolve("id") == "id"
    with pytest.raises(BadRequest, match=r"queryables are:.*platform"):
        vocab.resolve("nonsense")
    with pytest.raises(BadRequest, match="scalar"):
        vocab.sortable("sar:polarizations")
