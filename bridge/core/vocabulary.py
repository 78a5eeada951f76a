"""One property vocabulary across every collection: queryables, aliases, sortables.

Every property is known by its STAC name. Legacy and provider names (e.g. ICEYE's v1
``incidence_angle``) are aliases that mean their STAC names wherever a property name is
accepted. A name that is neither is a 400 naming the queryables — never a silently empty
result.

Queryables are drawn from the collection summaries: an enum for a list of values, a
range for ``{minimum, maximum}``, or the JSON Schema a summary gives; titles and units
come from ``stac_fields.json``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson

from bridge.errors import BadRequest

Schema = dict[str, Any]
QUERYABLES_SCHEMA = "https://json-schema.org/draft/2019-09/schema"
TOP_LEVEL = ("id", "collection", "geometry")
ALWAYS = ("id", "collection", "geometry", "datetime", "start_datetime", "end_datetime")
_UNSORTABLE_TYPES = {"array", "object"}


@cache
def stac_fields() -> dict[str, Schema]:
    """Titles, types and units of well-known STAC fields."""
    raw = resources.files("bridge.core").joinpath("stac_fields.json").read_bytes()
    doc = orjson.loads(raw)
    doc.pop("_about", None)
    return dict(doc)


def _scalar_type(values: Iterable[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float}:
        return "number"
    if kinds <= {bool}:
        return "boolean"
    return "string"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def schema_from_summary(name: str, summary: Any) -> Schema:
    """A JSON Schema for one property from its collection summary."""
    base = copy.deepcopy(stac_fields().get(name, {}))
    if (
        isinstance(summary, list)
        and summary
        and not all(
            _is_scalar(v) or (isinstance(v, list) and all(_is_scalar(x) for x in v))
            for v in summary
        )
    ):
        # A list of objects (e.g. bands) describes values, not an enum of them.
        return base or {"type": "array"}
    if isinstance(summary, list) and summary:
        if base.get("type") == "array" and not any(isinstance(v, list) for v in summary):
            # An array property summarized by its distinct values (e.g. instruments).
            return {**base, "items": {"type": _scalar_type(summary), "enum": list(summary)}}
        if all(isinstance(v, list) for v in summary):
            flat = sorted({x for v in summary for x in v}, key=str)
            return {**base, "type": "array", "items": {"type": _scalar_type(flat), "enum": flat}}
        return {**base, "type": _scalar_type(summary), "enum": list(summary)}
    if isinstance(summary, Mapping) and ("minimum" in summary or "maximum" in summary):
        lo, hi = summary.get("minimum"), summary.get("maximum")
        kind = _scalar_type(v for v in (lo, hi) if v is not None)
        out: Schema = {**base, "type": base.get("type", kind)}
        if isinstance(lo, (int, float)) and not isinstance(lo, bool):
            out["minimum"] = lo
        if isinstance(hi, (int, float)) and not isinstance(hi, bool):
            out["maximum"] = hi
        if isinstance(lo, str) or isinstance(hi, str):
            out = {**base, "type": "string"}
        return out
    if isinstance(summary, Mapping):
        return {**base, **copy.deepcopy(dict(summary))}
    return base or {"type": "string"}


def _merge(a: Schema, b: Schema) -> Schema:
    """The schema of a property served by two collections: the union of both."""
    out = {**a}
    if "enum" in a and "enum" in b:
        out["enum"] = sorted(set(a["enum"]) | set(b["enum"]), key=str)
    elif "enum" in a or "enum" in b:
        out.pop("enum", None)
    if "items" in a and "items" in b and "enum" in a["items"] and "enum" in b["items"]:
        items = sorted(set(a["items"]["enum"]) | set(b["items"]["enum"]), key=str)
        out["items"] = {**a["items"], "enum": items}
    for bound, pick in (("minimum", min), ("maximum", max)):
        if bound in a and bound in b:
            out[bound] = pick(a[bound], b[bound])
        else:
            out.pop(bound, None)
    return out


class Vocabulary:
    """Property names, their schemas per collection, and aliases."""

    def __init__(
        self, collections: Iterable[Mapping[str, Any]], aliases: Mapping[str, str] | None = None
    ) -> None:
        core = stac_fields()
        self.by_collection: dict[str, dict[str, Schema]] = {}
        for doc in collections:
            props = {name: copy.deepcopy(core[name]) for name in ALWAYS}
            for name, summary in (doc.get("summaries") or {}).items():
                props[name] = schema_from_summary(name, summary)
            self.by_collection[str(doc["id"])] = props
        merged: dict[str, Schema] = {}
        for props in self.by_collection.values():
            for name, schema in props.items():
                merged[name] = _merge(merged[name], schema) if name in merged else schema
        self.all = merged
        self.aliases = {k: v for k, v in (aliases or {}).items() if k != v}

    def resolve(self, name: str) -> str:
        """The STAC name ``name`` means.

        Raises:
            BadRequest: the name is unknown; the message lists the queryables.
        """
        bare = name[len("properties.") :] if name.startswith("properties.") else name
        bare = self.aliases.get(bare, bare)
        if bare in self.all:
            return bare
        raise BadRequest(
            f"unknown property {name!r}; queryables are: {', '.join(sorted(self.all))}"
        )

    def sortable(self, name: str) -> str:
        """The STAC name of a sort key, or 400 when it cannot be sorted on."""
        resolved = self.resolve(name)
        if self.all[resolved].get("type") in _UNSORTABLE_TYPES or resolved == "geometry":
            raise BadRequest(f"cannot sort on {name!r}: it is not a scalar")
        return resolved

    def queryables(self, base_url: str, collection_id: str | None = None) -> Schema:
        """The queryables JSON Schema of one collection, or of all of them."""
        props = self.all if collection_id is None else self.by_collection[collection_id]
        suffix = f"collections/{collection_id}/queryables" if collection_id else "queryables"
        return {
            "$schema": QUERYABLES_SCHEMA,
            "$id": f"{base_url}{suffix}",
            "type": "object",
            "title": f"Queryables of {collection_id}" if collection_id else "Queryables",
            "properties": dict(sorted(props.items())),
            "additionalProperties": False,
        }

    def sortables(self, base_url: str, collection_id: str | None = None) -> Schema:
        """The sortables JSON Schema: the scalar queryables."""
        doc = self.queryables(base_url, collection_id)
        doc["$id"] = doc["$id"].replace("queryables", "sortables")
        doc["title"] = doc["title"].replace("Queryables", "Sortables")
        doc["properties"] = {
            k: v
            for k, v in doc["properties"].items()
            if v.get("type") not in _UNSORTABLE_TYPES and k != "geometry"
        }
        return doc
