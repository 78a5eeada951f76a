"""Sort keys: the one-field fast path gives exactly the general key's tuples."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bridge.core.query import SortField
from bridge.core.sorting import _component, field_value, sort_key_function

VALUES: list[Any] = [
    None,
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00.123456+00:00",
    "2024-05-01T12:00:00+02:00",
    "2023-12-31",
    "text",
    "",
    0,
    -3,
    2.5,
    True,
    False,
    [1, 2],
    ["a"],
]


def general_key(item: dict[str, Any], field: SortField) -> tuple[Any, ...]:
    """The documented key: the field's component, then id, then collection."""
    value = field_value(item, field.field)
    part = _component(value, field.descending, "datetime" in field.field)
    return (part, (0, (1, item.get("id") or "")), (0, (1, item.get("collection") or "")))


def outcome(key: Any, *args: Any) -> Any:
    """``key(*args)``, or the type of what it raised (both paths must agree on either)."""
    try:
        return key(*args)
    except Exception as exc:  # e.g. a datetime field holding 'text'
        return type(exc)


@pytest.mark.parametrize("name", ["datetime", "properties.datetime", "gsd", "id", "collection"])
@pytest.mark.parametrize("descending", [False, True])
def test_one_field_key_is_the_general_key(name: str, descending: bool) -> None:
    rng = random.Random(7)
    field = SortField(name, descending)
    key = sort_key_function([field])
    comparable = []
    for n in range(400):
        value = rng.choice(VALUES)
        item: dict[str, Any] = {
            "id": rng.choice(["a", "b", f"x{n}", None]),
            "collection": rng.choice(["c", None]),
        }
        if name in ("id", "collection"):
            item[name] = value if isinstance(value, str) else item[name]
        elif value is not None or n % 2:
            item["properties"] = {name.removeprefix("properties."): value}
        assert outcome(key, item) == outcome(general_key, item, field)
        not_a_time = isinstance(value, str) and "datetime" in name and "-" not in value
        if not isinstance(value, list) and not not_a_time:
            comparable.append(item)
    ordered = sorted(comparable, key=key)
    assert [general_key(i, field) for i in ordered] == sorted(
        general_key(i, field) for i in comparable
    )
