"""Request limits: bounded, non-recursive checks that run before any expensive work.

``cql2`` parses and evaluates recursively in native code and crashes the process on deep
or very long expressions (3,000 nested parentheses or a 20,000-term ``OR`` end in
SIGSEGV); shapely, pydantic and the bridge's own filter helpers recurse too. So every
size that grows work — filter length, nesting and terms, geometry vertices and parts,
ids, collections, fields, sort keys — is measured here first with loops over explicit
stacks, each stopping at the first violation, and a request over a limit gets a 400
naming the setting that bounds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Sized
from typing import Any

import numpy as np
import orjson

from bridge.errors import BadRequest, LimitExceeded
from bridge.settings import LimitSettings

_TEXT_LITERAL = re.compile(r"'(?:[^']|'')*'")
_TEXT_OPERATOR = re.compile(r"\b(?:and|or|not)\b", re.IGNORECASE)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Opening brackets count +1 and closing ones -1; every other byte 0.
_BRACKET_DELTA = np.zeros(256, dtype=np.int8)
_BRACKET_DELTA[[ord("["), ord("{")]] = 1
_BRACKET_DELTA[[ord("]"), ord("}")]] = -1


def over(what: str, found: int | str, setting: str, allowed: int) -> LimitExceeded:
    """The error for ``what`` being over the limit ``setting`` (named as its env variable)."""
    return LimitExceeded(
        f"{what} ({found}) is over the limit of {allowed}: "
        f"the setting BRIDGE_LIMITS__{setting.upper()}"
    )


def json_text_depth(body: bytes) -> int:
    """The deepest bracket nesting of a JSON text, without parsing it.

    String contents are blanked first (a bracket inside a string is not nesting); the
    rest is a prefix sum over the bytes, done in numpy so a 4 MiB body takes milliseconds.
    """
    if b"[" not in body and b"{" not in body:
        return 0
    stripped = _JSON_STRING.sub(b'""', body)
    deltas = _BRACKET_DELTA[np.frombuffer(stripped, dtype=np.uint8)]
    return int(np.cumsum(deltas, dtype=np.int64).max(initial=0))


def check_json_depth(body: bytes, limits: LimitSettings) -> None:
    """400 when a JSON body nests deeper than ``max_json_depth``."""
    depth = json_text_depth(body)
    if depth > limits.max_json_depth:
        raise over("the JSON nesting depth", depth, "max_json_depth", limits.max_json_depth)


def check_filter(value: str | Mapping[str, Any], lang: str | None, limits: LimitSettings) -> None:
    """Bound a CQL2 filter (text, JSON text or parsed JSON) before it reaches ``cql2``."""
    if isinstance(value, str):
        if len(value) > limits.max_filter_chars:
            raise over(
                "the filter's length", len(value), "max_filter_chars", limits.max_filter_chars
            )
        text = value.strip()
        if lang == "cql2-json" or (lang is None and text.startswith("{")):
            check_json_depth(text.encode(), limits)
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                return  # malformed JSON: the parser's own 400 says so
            _check_filter_tree(parsed, limits)
        else:
            _check_filter_text(text, limits)
        return
    _check_filter_tree(value, limits)
    try:
        size = len(orjson.dumps(value))  # safe now: the depth is bounded
    except orjson.JSONEncodeError as exc:  # an integer past 64 bits, a lone surrogate
        raise BadRequest(f"invalid CQL2 filter: {exc}") from exc
    if size > limits.max_filter_chars:
        raise over("the filter's length", size, "max_filter_chars", limits.max_filter_chars)


def _check_filter_text(text: str, limits: LimitSettings) -> None:
    bare = _TEXT_LITERAL.sub("''", text)
    terms = 1 + sum(1 for _ in _TEXT_OPERATOR.finditer(bare))
    if terms > limits.max_filter_terms:
        raise over("the filter's terms", terms, "max_filter_terms", limits.max_filter_terms)
    depth = deepest = 0
    for char in bare:
        if char == "(":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limits.max_filter_depth:
                    raise over(
                        "the filter's nesting", deepest, "max_filter_depth", limits.max_filter_depth
                    )
        elif char == ")":
            depth -= 1


def _check_filter_tree(value: Any, limits: LimitSettings) -> None:
    """Container depth, operator nesting and operator count of a cql2-json value."""
    terms = 0
    stack: list[tuple[Any, int, int]] = [(value, 1, 0)]
    while stack:
        node, depth, ops = stack.pop()
        if depth > limits.max_json_depth:
            raise over("the filter's JSON nesting", depth, "max_json_depth", limits.max_json_depth)
        if isinstance(node, Mapping):
            if "op" in node:
                terms += 1
                ops += 1
                if terms > limits.max_filter_terms:
                    raise over(
                        "the filter's terms", terms, "max_filter_terms", limits.max_filter_terms
                    )
                if ops > limits.max_filter_depth:
                    raise over(
                        "the filter's nesting", ops, "max_filter_depth", limits.max_filter_depth
                    )
            stack.extend((v, depth + 1, ops) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1, ops) for v in node)


def check_query_extension(query: Any, limits: LimitSettings) -> None:
    """The Query extension's constraints count as filter terms."""
    if not isinstance(query, Mapping):
        return
    terms = sum(len(ops) if isinstance(ops, Sized) else 1 for ops in query.values())
    if terms > limits.max_filter_terms:
        raise over("the query's constraints", terms, "max_filter_terms", limits.max_filter_terms)


def check_geometry(geometry: Any, limits: LimitSettings) -> None:
    """Count a GeoJSON geometry's vertices and parts (no shapely, no recursion)."""
    vertices = parts = 0
    stack: list[Any] = [geometry]
    while stack:
        geom = stack.pop()
        if not isinstance(geom, Mapping):
            continue
        kind = geom.get("type")
        if kind == "GeometryCollection":
            members = geom.get("geometries")
            if isinstance(members, list):
                parts += len(members)
                stack.extend(members)
            continue
        coords = geom.get("coordinates")
        if not isinstance(coords, list):
            continue
        # Rings (or lines) of vertices at a fixed depth per type: no recursion needed.
        levels = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2}
        level = levels.get(str(kind), 2 if kind == "Polygon" else 3)
        parts += len(coords) if kind and str(kind).startswith("Multi") else 1
        vertices += _count_at(coords, level)
        if parts > limits.max_geometry_parts:
            raise over(
                "the geometry's parts", parts, "max_geometry_parts", limits.max_geometry_parts
            )
        if vertices > limits.max_geometry_vertices:
            raise over(
                "the geometry's vertices",
                vertices,
                "max_geometry_vertices",
                limits.max_geometry_vertices,
            )


def _count_at(coords: list[Any], level: int) -> int:
    """How many positions a coordinates array holds, ``level`` arrays above them."""
    if level == 0:
        return 1
    lists: list[Any] = [coords]
    for _ in range(level - 1):
        lists = [inner for outer in lists if isinstance(outer, list) for inner in outer]
    return sum(len(x) for x in lists if isinstance(x, list))


def check_counts(
    limits: LimitSettings,
    *,
    ids: Sequence[Any] | None = None,
    collections: Sequence[Any] | None = None,
    sortby: Sequence[Any] | str | None = None,
    fields: Any = None,
) -> None:
    """ids, collections, sort keys and fields: at most their limits each."""
    if ids is not None and len(ids) > limits.max_ids:
        raise over("the number of ids", len(ids), "max_ids", limits.max_ids)
    if collections is not None and len(collections) > limits.max_collections:
        raise over(
            "the number of collections", len(collections), "max_collections", limits.max_collections
        )
    sort_count = sortby.count(",") + 1 if isinstance(sortby, str) else len(sortby or ())
    if sort_count > limits.max_sortby:
        raise over("the number of sort keys", sort_count, "max_sortby", limits.max_sortby)
    field_count = _field_count(fields)
    if field_count > limits.max_fields:
        raise over("the number of fields", field_count, "max_fields", limits.max_fields)


def _field_count(fields: Any) -> int:
    if isinstance(fields, str):
        return fields.count(",") + 1 if fields.strip() else 0
    if isinstance(fields, Mapping):
        return sum(len(v) for v in fields.values() if isinstance(v, Sized))
    return 0


def check_representable(**values: Any) -> None:
    """400 for values JSON cannot carry (lone surrogates, integers past 64 bits): they go
    into paging tokens and native requests, which are JSON."""
    try:
        orjson.dumps(values)
    except orjson.JSONEncodeError as exc:
        raise BadRequest(f"the search cannot be represented in JSON: {exc}") from exc
