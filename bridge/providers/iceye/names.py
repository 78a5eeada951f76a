"""ICEYE's property-name and product tables, loaded once from the JSON files beside this module.

:data:`V1_TO_V2` is the seed's v1 → v2 migration table as a plain mapping (v1 name →
v2/STAC name); the bridge uses it to accept legacy v1 names wherever a property name is
accepted. The other tables drive the item mapping and the query translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_HERE = Path(__file__).resolve().parent
_NAMES: dict[str, Any] = orjson.loads((_HERE / "names.json").read_bytes())
_PRODUCTS: dict[str, Any] = orjson.loads((_HERE / "products.json").read_bytes())

V1_TO_V2: Mapping[str, str] = dict(_NAMES["v1_to_v2"])
"""Documented v1 property name → v2 (STAC-prefixed) name."""

V1_ITEM_NAMES: Mapping[str, str] = {**_NAMES["v1_to_v2"], **_NAMES["v1_to_v2_assumed"]}
"""Every v1 name the adapter renames when reading v1 items (documented and assumed)."""

# v2 → v1 for building v1 requests. ``image_mode`` is left out: v2 says to use
# ``sar:instrument_mode``, whose v1 name is ``instrument_mode``.
V2_TO_V1: Mapping[str, str] = {v2: v1 for v1, v2 in V1_ITEM_NAMES.items() if v1 != "image_mode"}

TO_STAC: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (native, tuple(targets)) for native, targets in _NAMES["to_stac"].items()
)
"""Native v2 property → the STAC properties it fills."""

STAC_VALUES: Mapping[str, frozenset[str]] = {
    name: frozenset(values) for name, values in _NAMES["stac_values"].items()
}
"""STAC enum fields → the values their extension schema allows."""

STAC_NUMBERS: frozenset[str] = frozenset(_NAMES["stac_numbers"])
"""STAC fields whose schema wants a number."""

NATIVE_READ: frozenset[str] = frozenset(_NAMES["to_stac"]) | set(_NAMES["native_only"])
"""Native v2 fields the mapping reads; any other passes through under ``iceye:``."""

CONSTANTS: Mapping[str, Any] = dict(_NAMES["constants"])
"""Properties every ICEYE item carries with the same value."""

SORTABLE: Mapping[str, frozenset[str]] = {
    version: frozenset(fields) for version, fields in _NAMES["sortable"].items()
}
"""Native field names each API version sorts by."""

SORT_ALIASES: Mapping[str, str] = dict(_NAMES["sort_aliases"])
"""STAC names whose values equal a native v2 field (sorting by one is sorting by the other)."""

ITEM_FIELDS: frozenset[str] = frozenset(
    {t for _, targets in TO_STAC for t in targets}
    | set(CONSTANTS)
    | {"platform", "gsd"}
    | {"processing:level"}
)
"""Every STAC property an ICEYE item may carry."""


@dataclass(frozen=True)
class ProductLine:
    """What a native product type becomes on the bridge."""

    collection: str
    processing_level: str
    projected: bool
    """Whether ICEYE's product is in map geometry (the raster's own ``proj:*`` come with
    each item's data asset)."""


PRODUCTS: Mapping[str, ProductLine] = {
    ptype: ProductLine(row["collection"], row["processing_level"], bool(row["projected"]))
    for ptype, row in _PRODUCTS.items()
    if not ptype.startswith("_")
}
"""Native product type → bridge product line."""

PRODUCT_TYPES_BY_COLLECTION: Mapping[str, tuple[str, ...]] = {
    cid: tuple(sorted(p for p, line in PRODUCTS.items() if line.collection == cid))
    for cid in sorted({line.collection for line in PRODUCTS.values()})
}
"""Bridge collection → the native product types it holds."""

FILTERABLE: Mapping[str, tuple[str, str]] = {
    name: (native, kind) for name, (native, kind) in _NAMES["filterable"].items()
}
"""STAC property → (native v2 name, literal type) for filter terms ICEYE evaluates natively."""
