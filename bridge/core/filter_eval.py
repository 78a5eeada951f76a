"""A fast path for the residual filter: common cql2-json compiled to Python closures.

Crossing into the ``cql2`` package costs ~10 µs per item (the item is converted to its
value model first); the filters clients send are mostly comparisons of properties with
literals joined by ``and``/``or``/``not``, which Python evaluates in about a tenth of
that. :func:`compile_fast` compiles such an expression, or returns None for anything
else (spatial, array, ``like``, functions, property-to-property comparisons), which
``cql2`` then evaluates as before.

Semantics follow ``cql2`` (checked against it in ``tests/core/test_filter_eval.py``):
a comparison with a missing or null property is *unknown*; ``and``/``or``/``not`` use
three-valued logic and an unknown result is no match. Where the two could disagree — a
value whose type differs from the literal's (``"3" < 5``, ``true = 1``), a date-time
text without an offset — the compiled code raises :class:`Undecided` and the caller asks
``cql2`` for that item.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from bridge.core.timeutil import instant_seconds, parse_instant

Item = dict[str, Any]
Truth = bool | None
"""True, False, or None for *unknown* (SQL's three-valued logic)."""
Node = Callable[[Item], Truth]

_TOP_LEVEL = frozenset({"id", "collection"})
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# The reverse comparison when the literal is written first (``5 > p`` is ``p < 5``).
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
# A date-time text whose instant Python reads exactly (an offset, at most microseconds);
# others go to cql2.
_ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


class Undecided(Exception):
    """This item needs the full evaluator (a value of an unexpected type)."""


class _Unsupported(Exception):
    """The expression uses something the fast path does not compile."""


def compile_fast(expr: Any) -> Callable[[Item], bool] | None:
    """A predicate equivalent to ``expr`` (raising :class:`Undecided` where it cannot
    tell), or None when ``expr`` uses anything beyond the common subset."""
    try:
        node = _compile(expr)
    except _Unsupported:
        return None

    def predicate(item: Item) -> bool:
        return node(item) is True

    return predicate


def _compile(expr: Any) -> Node:
    if not isinstance(expr, Mapping) or not isinstance(expr.get("args"), list):
        raise _Unsupported
    op, args = expr.get("op"), expr["args"]
    if op in ("and", "or") and args:
        return _logical(op == "and", [_compile(a) for a in args])
    if op == "not" and len(args) == 1:
        inner = _compile(args[0])

        def negate(item: Item) -> Truth:
            value = inner(item)
            return None if value is None else not value

        return negate
    if op in _ORDER_OPS and len(args) == 2:
        return _comparison(op, args[0], args[1])
    if op == "isNull" and len(args) == 1:
        read = _reader(args[0])
        return lambda item: read(item) is None
    if op == "between" and len(args) == 3:
        low, high = _comparison(">=", args[0], args[1]), _comparison("<=", args[0], args[2])
        return _logical(True, [low, high])
    if op == "in" and len(args) == 2 and isinstance(args[1], list):
        return _membership(args[0], args[1])
    raise _Unsupported


def _logical(is_and: bool, parts: list[Node]) -> Node:
    # Every part is evaluated (no short cut): one that is undecided must reach cql2 even
    # where another part already decides, so the two evaluators never disagree.
    decisive = not is_and

    def combine(item: Item) -> Truth:
        unknown = False
        hit = False
        for part in parts:
            value = part(item)
            if value is None:
                unknown = True
            elif value is decisive:
                hit = True
        if hit:
            return decisive
        return None if unknown else not decisive

    return combine


def _reader(ref: Any) -> Callable[[Item], Any]:
    if not isinstance(ref, Mapping) or set(ref) != {"property"}:
        raise _Unsupported
    name = ref["property"]
    if not isinstance(name, str):
        raise _Unsupported
    if name in _TOP_LEVEL:
        return lambda item: item.get(name)
    if name == "geometry":
        raise _Unsupported

    def read(item: Item) -> Any:
        props = item.get("properties")
        return props.get(name) if isinstance(props, dict) else None

    return read


def _literal(value: Any) -> tuple[str, Any]:
    """(kind, value) of a literal: kinds ``number``, ``string``, ``bool``, ``instant``."""
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, (int, float)):
        return "number", value
    if isinstance(value, str):
        return "string", value
    if isinstance(value, Mapping) and set(value) == {"timestamp"}:
        text = value["timestamp"]
        if isinstance(text, str) and _ZONED.match(text):
            return "instant", parse_instant(text).timestamp()
    raise _Unsupported


def _coercer(kind: str) -> Callable[[Any], Any]:
    """Reads a property value as the literal's kind; raises Undecided on another type."""
    if kind == "number":

        def number(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Undecided
            return value

        return number
    if kind == "string":

        def string(value: Any) -> Any:
            if not isinstance(value, str):
                raise Undecided
            return value

        return string
    if kind == "bool":

        def boolean(value: Any) -> Any:
            if not isinstance(value, bool):
                raise Undecided
            return value

        return boolean

    def instant(value: Any) -> Any:
        if not isinstance(value, str) or not _ZONED.match(value):
            raise Undecided
        return instant_seconds(value)

    return instant


def _comparison(op: str, left: Any, right: Any) -> Node:
    if isinstance(left, Mapping) and "property" in left:
        ref, lit = left, right
    elif isinstance(right, Mapping) and "property" in right:
        ref, lit, op = right, left, _FLIPPED[op]
    else:
        raise _Unsupported
    read = _reader(ref)
    kind, literal = _literal(lit)
    if kind == "bool" and op not in ("=", "<>"):
        raise _Unsupported
    coerce, compare = _coercer(kind), _ORDER_OPS[op]
    if kind == "number" and ref["property"] not in _TOP_LEVEL:
        return _number_comparison(ref["property"], compare, literal)

    def comparison(item: Item) -> Truth:
        value = read(item)
        if value is None:
            return None
        return compare(coerce(value), literal)

    return comparison


def _number_comparison(name: str, compare: Callable[[Any, Any], bool], literal: Any) -> Node:
    """A property compared with a number, inlined: the most common residual term."""

    def comparison(item: Item) -> Truth:
        props = item.get("properties")
        value = props.get(name) if isinstance(props, dict) else None
        if value is None:
            return None
        if value.__class__ is bool or not isinstance(value, (int, float)):
            raise Undecided
        return compare(value, literal)

    return comparison


def _membership(ref: Any, values: list[Any]) -> Node:
    read = _reader(ref)
    kinds = {_literal(v)[0] for v in values}
    if len(kinds) != 1 or kinds == {"instant"}:
        raise _Unsupported
    coerce = _coercer(kinds.pop())
    allowed = list(values)

    def membership(item: Item) -> Truth:
        value = read(item)
        if value is None:
            return None
        return coerce(value) in allowed

    return membership
