"""The native response shapes each simulator's ledger documents, as data, and the check
of a raw native JSON body against them.

Each adapter folder holds ``shapes.json``::

    {"provider": "capella",
     "ledger": "bridge/simulators/capella/SOURCES.md",
     "exchanges": [
       {"name": "catalog search", "request": "POST /catalog/search",
        "source": "SOURCES.md, Search response",
        "fields": {"numberMatched": "integer", "features[].id": "string", ...}},
       ...]}

``request`` is a method and a path *suffix* (``{id}`` stands for one path segment, a
leading ``{path}/`` for any prefix), so a base URL with a path prefix or a per-customer
token URL still matches. ``fields`` are the required fields of a successful answer: a
dotted path (``a.b``; ``a[]`` for every element of the array ``a``; ``$`` for the whole
body) and its JSON type (``string integer number boolean object array null``, or several
joined by ``|``). Fields not listed are allowed: only what the ledger documents and the
adapter relies on is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

PROVIDERS_DIR = Path(__file__).resolve().parent.parent / "providers"
JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


@dataclass(frozen=True)
class Exchange:
    """One documented native request and the fields its successful answer must carry."""

    name: str
    method: str
    pattern: re.Pattern[str]
    fields: dict[str, str]
    source: str = ""


@dataclass(frozen=True)
class Shapes:
    """Every documented exchange of one provider, in match order."""

    provider: str
    ledger: str
    exchanges: tuple[Exchange, ...] = field(default_factory=tuple)

    def match(self, method: str, path: str) -> Exchange | None:
        """The first documented exchange ``method path`` is an instance of, if any."""
        for exchange in self.exchanges:
            if exchange.method == method and exchange.pattern.fullmatch(path.rstrip("/")):
                return exchange
        return None


def _path_regex(suffix: str) -> re.Pattern[str]:
    """A regex matching any URL path that ends with ``suffix`` at a segment boundary."""
    prefix_any = suffix.startswith("{path}/")
    if prefix_any:
        suffix = suffix[len("{path}") :]
    parts = [re.escape(p) if p != "{id}" else "[^/]+" for p in suffix.rstrip("/").split("/")]
    return re.compile("(?:/.*)?" + "/".join(parts))


def parse_shapes(doc: dict[str, Any]) -> Shapes:
    """Validate a ``shapes.json`` document.

    Raises:
        ValueError: a malformed entry (unknown type name, request without a method).
    """
    exchanges = []
    for entry in doc["exchanges"]:
        method, _, suffix = str(entry["request"]).partition(" ")
        if not method.isupper() or not suffix.startswith(("/", "{path}/")):
            raise ValueError(f"bad request pattern {entry['request']!r}")
        fields = dict(entry.get("fields") or {})
        for name, kind in fields.items():
            if not set(kind.split("|")) <= JSON_TYPES:
                raise ValueError(f"{entry['name']}: unknown type {kind!r} for {name!r}")
        exchanges.append(
            Exchange(entry["name"], method, _path_regex(suffix), fields, entry.get("source", ""))
        )
    return Shapes(doc["provider"], doc.get("ledger", ""), tuple(exchanges))


def load_shapes(provider: str, root: Path = PROVIDERS_DIR) -> Shapes:
    """The shapes documented for ``provider`` (``bridge/providers/<provider>/shapes.json``);
    none when the adapter ships no such file."""
    path = root / provider / "shapes.json"
    if not path.exists():
        return Shapes(provider, "")
    return parse_shapes(orjson.loads(path.read_bytes()))


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _conforms(value: Any, expected: str) -> bool:
    actual = json_type(value)
    allowed = set(expected.split("|"))
    return actual in allowed or (actual == "integer" and "number" in allowed)


def _values(body: Any, path: str) -> tuple[list[Any], int]:
    """Values at ``path`` in ``body`` (several under ``[]``) and how many were looked for;
    a missing one is reported as the sentinel :data:`_MISSING`."""
    current: list[Any] = [body]
    if path == "$":
        return current, 1
    tokens = re.findall(r"\[\]|[^.\[\]]+", path)
    for token in tokens:
        nxt: list[Any] = []
        for value in current:
            if value is _MISSING:
                nxt.append(_MISSING)
            elif token == "[]":
                nxt.extend(value if isinstance(value, list) else [_MISSING])
            elif isinstance(value, dict) and token in value:
                nxt.append(value[token])
            else:
                nxt.append(_MISSING)
        current = nxt
    return current, len(current)


_MISSING = object()


def differences(body: Any, fields: dict[str, str]) -> list[str]:
    """What in ``body`` differs from the documented ``fields``: one line per field, naming
    the raw native field (e.g. ``features[].properties.datetime: missing in 2 of 3``)."""
    found = []
    for path, expected in fields.items():
        values, total = _values(body, path)
        missing = sum(1 for v in values if v is _MISSING)
        wrong = [json_type(v) for v in values if v is not _MISSING and not _conforms(v, expected)]
        where = f" in {{n}} of {total}" if total > 1 else ""
        if missing:
            found.append(f"{path}: missing{where.format(n=missing)}")
        if wrong:
            got = "/".join(sorted(set(wrong)))
            found.append(f"{path}: {got}, expected {expected}{where.format(n=len(wrong))}")
    return found
