"""The offline schema validator itself: it accepts valid STAC and rejects invalid STAC."""

from __future__ import annotations

import copy

import pytest

from tests.support.stac_schemas import MissingSchema, validation_errors

ITEM = {
    "type": "Feature",
    "stac_version": "1.1.0",
    "stac_extensions": ["https://stac-extensions.github.io/sar/v1.3.0/schema.json"],
    "id": "x",
    "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
    "bbox": [1.0, 2.0, 1.0, 2.0],
    "properties": {
        "datetime": "2024-01-01T00:00:00Z",
        "sar:instrument_mode": "SM",
        "sar:frequency_band": "X",
        "sar:polarizations": ["VV"],
    },
    "links": [],
    "assets": {},
}


def test_valid_item_passes() -> None:
    assert validation_errors(ITEM) == []


def test_invalid_extension_value_is_caught() -> None:
    bad = copy.deepcopy(ITEM)
    bad["properties"]["sar:frequency_band"] = "Z"
    assert validation_errors(bad)


def test_missing_schema_fails_loudly() -> None:
    bad = copy.deepcopy(ITEM)
    bad["stac_extensions"] = ["https://stac-extensions.github.io/nope/v9.9.9/schema.json"]
    with pytest.raises(MissingSchema):
        validation_errors(bad)
