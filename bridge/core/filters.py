"""CQL2 filters and Query-extension constraints, as one cql2-json expression.

The bridge turns both the Filter extension (CQL2 text or JSON) and the Query extension
into a single cql2-json expression over STAC property names, which the ``cql2`` package
validates and evaluates. Adapters push down the parts their native API evaluates
(:func:`conjuncts`, :func:`simple_comparison`); the core evaluates the whole expression
on every item, so results are exact either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cql2
import orjson

from bridge.core.filter_eval import Undecided, compile_fast
from bridge.core.timeutil import parse_instant, to_rfc3339
from bridge.errors import BadRequest

Json = Any

SUPPORTED_CRS = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "https://www.opengis.net/def/crs/EPSG/0/4326",
    "EPSG:4326",
}

# Query extension operator → CQL2 operator (startsWith/endsWith/contains become LIKE).
_QUERY_OPS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
QUERY_OPERATORS = (*_QUERY_OPS, "startsWith", "endsWith", "contains", "in")


def parse_filter(value: str | Mapping[str, Any], lang: str | None, crs: str | None = None) -> Json:
    """Parse and validate a CQL2 filter; return it as cql2-json (a fresh copy).

    Validation against the CQL2 JSON Schema costs milliseconds, and a paging client sends
    the same filter on every page: parses are memoized on the filter's text.

    Raises:
        BadRequest: unparseable or invalid CQL2, an unknown ``filter-lang``, or a CRS other
            than WGS 84.
    """
    if crs is not None and crs not in SUPPORTED_CRS:
        raise BadRequest(f"filter-crs {crs!r} is not supported: use CRS84 / EPSG:4326")
    text = (
        value
        if isinstance(value, str)
        else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    )
    return orjson.loads(_parse_filter_text(text, lang, isinstance(value, str)))


@functools.lru_cache(maxsize=512)
def _parse_filter_text(text: str, lang: str | None, is_text: bool) -> bytes:
    value: str | Mapping[str, Any] = text if is_text else orjson.loads(text)
    return orjson.dumps(_parse_filter_uncached(value, lang))


def _parse_filter_uncached(value: str | Mapping[str, Any], lang: str | None) -> Json:
    if lang not in (None, "cql2-text", "cql2-json"):
        raise BadRequest(f"filter-lang {lang!r} is not supported: use cql2-text or cql2-json")
    try:
        if isinstance(value, str):
            text = value.strip()
            if lang == "cql2-json" or (lang is None and text.startswith("{")):
                expr = _parse_json(orjson.loads(text))
            else:
                expr = cql2.parse_text(text)
        else:
            expr = _parse_json(dict(value))
        expr.validate()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        raise BadRequest(f"invalid CQL2 filter: {_first_line(exc)}") from exc
    return expr.to_json()


def _parse_json(value: Json) -> cql2.Expr:
    # Through parse_json, not cql2.Expr(dict): the latter raises a bare Exception (a 500)
    # for a malformed expression where parse_json raises ParseError (a 400).
    return cql2.parse_json(orjson.dumps(_lone_operands(value)).decode())


def _lone_operands(expr: Json) -> Json:
    """``and``/``or`` with a single argument, read as that argument.

    The CQL2 JSON Schema asks for two or more, but stac-browser 4 sends
    ``{"op": "and", "args": [<its one filter>]}`` when one filter is set; the meaning is
    unambiguous, so it is accepted rather than refused.
    """
    if isinstance(expr, list):
        return [_lone_operands(e) for e in expr]
    if not isinstance(expr, dict):
        return expr
    args = expr.get("args")
    if expr.get("op") in ("and", "or") and isinstance(args, list) and len(args) == 1:
        return _lone_operands(args[0])
    return {k: _lone_operands(v) for k, v in expr.items()}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_to_cql2(query: Mapping[str, Any]) -> Json | None:
    """Convert a Query-extension object ``{prop: {op: value}}`` to cql2-json.

    Raises:
        BadRequest: an unknown operator or a malformed entry.
    """
    args: list[Json] = []
    for prop, ops in query.items():
        if not isinstance(ops, Mapping) or not ops:
            raise BadRequest(f"query.{prop} must be an object of operators")
        ref = {"property": prop}
        for op, value in ops.items():
            if op in _QUERY_OPS:
                args.append({"op": _QUERY_OPS[op], "args": [ref, value]})
            elif op in ("startsWith", "endsWith", "contains"):
                if not isinstance(value, str):
                    raise BadRequest(f"query.{prop}.{op} takes a string")
                pattern = _like_escape(value)
                pattern = {"startsWith": f"{pattern}%", "endsWith": f"%{pattern}"}.get(
                    op, f"%{pattern}%"
                )
                args.append({"op": "like", "args": [ref, pattern]})
            elif op == "in":
                if not isinstance(value, list) or not value:
                    raise BadRequest(f"query.{prop}.in takes a non-empty list")
                args.append({"op": "in", "args": [ref, value]})
            else:
                raise BadRequest(
                    f"unknown query operator {op!r} for {prop}: use {', '.join(QUERY_OPERATORS)}"
                )
    return and_all(args)


def and_all(parts: list[Json]) -> Json | None:
    """AND the given expressions (None when there are none)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"op": "and", "args": parts}


_COMPARISONS = {"=", "<>", "<", "<=", ">", ">=", "in", "between"}


def coerce_literals(expr: Json, schema_of: Callable[[str], Mapping[str, Any]]) -> Json:
    """Read Query-extension literals by the type of the property they are compared with.

    The Query extension has no typed literals (and clients send numbers as strings):
    a string compared with a date-time property is an instant, not text ('.' sorts before
    'Z'); a numeric string compared with a number is that number; on an array property
    (e.g. ``sar:polarizations``) ``in`` means "shares a value with" and ``eq`` "contains".

    Raises:
        BadRequest: a literal that is not of its property's type.
    """
    if isinstance(expr, list):
        return [coerce_literals(v, schema_of) for v in expr]
    if not isinstance(expr, Mapping):
        return expr
    args = expr.get("args")
    if expr.get("op") in _COMPARISONS and isinstance(args, list):
        props = [a["property"] for a in args if isinstance(a, Mapping) and "property" in a]
        if len(props) == 1:
            schema = schema_of(props[0])
            kind = schema.get("type")
            if schema.get("format") == "date-time":
                return {**expr, "args": [_as_timestamp(a) for a in args]}
            if kind in ("number", "integer"):
                return {**expr, "args": [_as_number(a, props[0]) for a in args]}
            if kind == "array" and expr["op"] == "in":
                return {"op": "a_overlaps", "args": args}
            if kind == "array" and expr["op"] == "=" and not isinstance(args[1], list):
                return {"op": "a_contains", "args": [args[0], [args[1]]]}
    return {k: coerce_literals(v, schema_of) for k, v in expr.items()}


def _as_number(value: Json, prop: str) -> Json:
    if isinstance(value, list):
        return [_as_number(v, prop) for v in value]
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError as exc:
            raise BadRequest(f"{prop} is a number; {value!r} is not") from exc
        return int(number) if number.is_integer() and "." not in value else number
    return value


def _as_timestamp(value: Json) -> Json:
    if isinstance(value, list):
        return [_as_timestamp(v) for v in value]
    if isinstance(value, str):
        return {"timestamp": to_rfc3339(parse_instant(value))}
    return value


def walk(expr: Json) -> Iterator[Json]:
    """Every node of a cql2-json expression, depth first."""
    yield expr
    if isinstance(expr, Mapping):
        for value in expr.values():
            yield from walk(value)
    elif isinstance(expr, list):
        for value in expr:
            yield from walk(value)


def property_names(expr: Json) -> set[str]:
    """The property names an expression refers to."""
    return {
        node["property"]
        for node in walk(expr)
        if isinstance(node, Mapping) and isinstance(node.get("property"), str)
    }


def rename_properties(expr: Json, rename: Callable[[str], str]) -> Json:
    """A copy of ``expr`` with every property reference renamed."""
    if isinstance(expr, Mapping):
        if set(expr) == {"property"} and isinstance(expr["property"], str):
            return {"property": rename(expr["property"])}
        return {k: rename_properties(v, rename) for k, v in expr.items()}
    if isinstance(expr, list):
        return [rename_properties(v, rename) for v in expr]
    return expr


def conjuncts(expr: Json | None) -> list[Json]:
    """The top-level AND terms of an expression (the expression itself if not an AND)."""
    if expr is None:
        return []
    if isinstance(expr, Mapping) and expr.get("op") == "and":
        return [t for arg in expr["args"] for t in conjuncts(arg)]
    return [expr]


def simple_comparison(term: Json) -> tuple[str, str, Any] | None:
    """``(property, op, literal)`` when ``term`` compares one property with a literal.

    ``op`` is one of ``= <> < <= > >= in like``; literals are numbers, strings, booleans
    or (for ``in``) lists of them. Anything else — functions, spatial or temporal
    operators, property-to-property comparisons — returns None.
    """
    if not isinstance(term, Mapping) or term.get("op") not in (
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "like",
    ):
        return None
    args = term.get("args")
    if not isinstance(args, list) or len(args) != 2:
        return None
    left, right = args
    if not (isinstance(left, Mapping) and set(left) == {"property"}):
        return None
    if isinstance(right, Mapping):
        return None
    if term["op"] == "in" and not (
        isinstance(right, list) and all(not isinstance(v, (Mapping, list)) for v in right)
    ):
        return None
    return str(left["property"]), str(term["op"]), right


class CompiledFilter:
    """A cql2-json expression compiled once, evaluated on many items.

    Common expressions run as Python closures (:mod:`bridge.core.filter_eval`); the rest,
    and any item the fast path cannot decide, are evaluated by ``cql2``.
    """

    def __init__(self, expr: Json) -> None:
        self.json = expr
        self._expr = cql2.Expr(expr)
        self._fast = compile_fast(expr)
        names = property_names(expr)
        # Only what the expression refers to crosses into cql2: converting a whole item
        # costs several times the evaluation itself.
        self._properties = tuple(n for n in names if n not in _TOP_LEVEL)
        self._geometry = "geometry" in names

    def __call__(self, item: dict[str, Any]) -> bool:
        """True when the item satisfies the expression.

        A property the item lacks makes a comparison unknown, and unknown is not a match
        (SQL semantics).
        """
        if self._fast is not None:
            try:
                return self._fast(item)
            except Undecided:
                pass
        return self.full(item)

    def full(self, item: dict[str, Any]) -> bool:
        """The ``cql2`` evaluation (the reference the fast path follows)."""
        props = item.get("properties") or {}
        lean: dict[str, Any] = {
            "type": "Feature",
            "id": item.get("id"),
            "collection": item.get("collection"),
            "properties": {n: props[n] for n in self._properties if n in props},
        }
        if self._geometry:
            lean["geometry"] = item.get("geometry")
        try:
            return bool(self._expr.matches(lean))
        except Exception:  # cql2 raises a bare Exception for unknown values
            return False

    def text(self) -> str:
        """The expression as cql2-text (for logs and error messages)."""
        return str(self._expr.to_text())


def canonical(expr: Json) -> bytes:
    """A canonical serialization (for fingerprints)."""
    return orjson.dumps(expr, option=orjson.OPT_SORT_KEYS)


# Operators that are unknown — hence never true — when their property is missing.
_NULL_REJECTING = {"=", "<>", "<", "<=", ">", ">=", "like", "in", "between"}


def never_true_without(expr: Json | None, present: set[str]) -> bool:
    """True when ``expr`` cannot match an item carrying only the ``present`` properties.

    Sound, not complete: it looks for a top-level AND term that compares a property the
    item never has (SQL semantics: unknown, so the AND is never true). ``IS NULL``,
    ``NOT`` and ``OR`` terms are left alone.
    """
    for term in conjuncts(expr):
        if not isinstance(term, Mapping) or term.get("op") not in _NULL_REJECTING:
            continue
        args = term.get("args") or []
        props = [a["property"] for a in args if isinstance(a, Mapping) and "property" in a]
        if props and any(p not in present and p not in _ALWAYS_PRESENT for p in props):
            return True
    return False


_ALWAYS_PRESENT = {"id", "collection", "geometry", "datetime"}
_TOP_LEVEL = {"id", "collection", "geometry"}
