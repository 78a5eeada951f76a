"""The residual filter's fast path agrees with cql2 on every item, whatever the types."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bridge.core.filter_eval import compile_fast
from bridge.core.filters import CompiledFilter

P = "view:off_nadir"
VALUES: dict[str, list[Any]] = {
    P: [0, 12.5, 20, 20.0, 35, "20", True, None, [1, 2]],
    "datetime": [
        "2025-06-01T00:00:00Z",
        "2025-06-01T00:00:00.000Z",
        "2025-05-31T23:59:59.999999Z",
        "2025-06-01T01:00:00+02:00",
        "2025-06-01T00:00:00",
        "2025-06-02",
        5,
        None,
    ],
    "platform": ["ICEYE-X7", "ICEYE-X2", "newsat", "", 7, None],
    "sar:observation_direction": ["left", "right", False],
    "eo:cloud_cover": [0, 3.5, 10, 99.9, None, "low"],
}
LITERALS: dict[str, list[Any]] = {
    P: [20, 20.0, 0, -1.5],
    "datetime": [
        {"timestamp": "2025-06-01T00:00:00Z"},
        {"timestamp": "2025-06-01T00:00:00.5+01:00"},
    ],
    "platform": ["ICEYE-X7", "newsat", "A"],
    "sar:observation_direction": ["left"],
    "eo:cloud_cover": [10, 3.5],
}
OPS = ["=", "<>", "<", "<=", ">", ">="]


def _comparison(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(list(LITERALS))
    ref = {"property": name}
    kind = rng.random()
    if kind < 0.1:
        return {"op": "isNull", "args": [ref]}
    if kind < 0.2:
        same_type = [v for v in VALUES[name][:3] if type(v) is type(VALUES[name][0])]
        return {"op": "in", "args": [ref, rng.sample(same_type, 2)]}
    if kind < 0.3 and name in (P, "eo:cloud_cover"):
        return {"op": "between", "args": [ref, 1, 20]}
    args = [ref, rng.choice(LITERALS[name])]
    if rng.random() < 0.2:
        args.reverse()
    return {"op": rng.choice(OPS), "args": args}


def _expression(rng: random.Random, depth: int) -> dict[str, Any]:
    if depth == 0 or rng.random() < 0.3:
        return _comparison(rng)
    op = rng.choice(["and", "or", "not"])
    if op == "not":
        return {"op": "not", "args": [_expression(rng, depth - 1)]}
    return {"op": op, "args": [_expression(rng, depth - 1) for _ in range(rng.randint(2, 3))]}


def _item(rng: random.Random) -> dict[str, Any]:
    props = {n: rng.choice(vs) for n, vs in VALUES.items() if rng.random() < 0.85}
    return {"type": "Feature", "id": "x", "collection": "c", "properties": props}


def test_fast_path_agrees_with_cql2_on_random_expressions_and_items() -> None:
    rng = random.Random(20261206)
    compiled = 0
    for _ in range(400):
        expr = _expression(rng, 3)
        f = CompiledFilter(expr)
        compiled += compile_fast(expr) is not None
        for _ in range(25):
            item = _item(rng)
            assert f(item) == f.full(item), (expr, item)
    assert compiled == 400  # every expression above is in the fast path's subset


def test_the_benchmark_filter_is_compiled_and_exact() -> None:
    expr = {
        "op": "or",
        "args": [
            {"op": "<=", "args": [{"property": P}, 20]},
            {"op": ">=", "args": [{"property": "datetime"}, {"timestamp": "2025-06-01T00:00:00Z"}]},
        ],
    }
    f = CompiledFilter(expr)
    assert compile_fast(expr) is not None
    old = {"properties": {P: 30, "datetime": "2025-05-31T23:00:00-02:00"}}  # 1 June 01:00 Z
    assert f(old) is True
    assert f({"properties": {P: 30, "datetime": "2025-06-01T01:00:00+02:00"}}) is False
    assert f({"properties": {"datetime": "2025-06-01T00:00:00Z"}}) is True  # unknown OR true
    assert f({"properties": {"datetime": "2025-05-01T00:00:00Z"}}) is False  # unknown OR false


@pytest.mark.parametrize(
    "expr",
    [
        {"op": "like", "args": [{"property": "platform"}, "ICEYE%"]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [0, 0, 1, 1]}]},
        {"op": "=", "args": [{"property": "a"}, {"property": "b"}]},
        {"op": "a_contains", "args": [{"property": "sar:polarizations"}, ["HH"]]},
        {"op": "<", "args": [{"property": "datetime"}, {"date": "2025-06-01"}]},
        {"op": "in", "args": [{"property": "platform"}, ["a", 1]]},
    ],
)
def test_other_expressions_are_left_to_cql2(expr: dict[str, Any]) -> None:
    assert compile_fast(expr) is None
