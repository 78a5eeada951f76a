"""The one paging-cursor codec every adapter uses: opaque, JSON-safe, self-describing,
checked.

A cursor is ``<provider>.<base64url JSON>.<check>``; the JSON is ``{"k": kind, "s":
state}``, where ``kind`` names how the adapter pages (``"native"`` paging, a ``"local"``
slice of a result it sorted itself, ...) and ``state`` holds what that kind needs,
page size included, so the same cursor always yields the same page. ``check`` is a
digest of the rest: a cursor that was cut, mangled or edited by hand is refused as a
:class:`~bridge.errors.BadRequest` before anything is read from it. It is not a
signature (cursors must survive restarts and other workers, so no secret is used):
whatever a cursor asks for is still validated against ``schemas`` here and by the
adapter before it reaches a native API with the tenant's credentials.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import orjson

from bridge.errors import BadRequest

FieldKind = Literal["offset", "count", "text", "object", "list"]
"""``offset``: an int >= 0; ``count``: an int >= 1; ``text``: a string; ``object``: a
JSON object; ``list``: a JSON array."""

Schemas = Mapping[str, Mapping[str, FieldKind]]
"""The fields each cursor kind holds: kind -> field -> what the field is."""


def _check(provider: str, payload: str) -> str:
    return hashlib.blake2b(f"{provider}.{payload}".encode(), digest_size=6).hexdigest()


def encode_cursor(provider: str, kind: str, state: Mapping[str, Any]) -> str:
    """The cursor text for ``state`` of ``kind``, minted by ``provider``."""
    raw = orjson.dumps({"k": kind, "s": state}, option=orjson.OPT_SORT_KEYS)
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{provider}.{payload}.{_check(provider, payload)}"


def _valid(value: Any, kind: FieldKind) -> bool:
    if kind in ("offset", "count"):
        floor = 0 if kind == "offset" else 1
        return isinstance(value, int) and not isinstance(value, bool) and value >= floor
    expected = {"text": str, "object": dict, "list": list}[kind]
    return isinstance(value, expected)


def decode_cursor(provider: str, text: str, schemas: Schemas) -> tuple[str, dict[str, Any]]:
    """The kind and state of a cursor made by :func:`encode_cursor` for ``provider``.

    Raises:
        BadRequest: not such a cursor, or its state does not fit the kind's schema.
    """
    invalid = BadRequest(f"invalid {provider} paging cursor")
    name, _, rest = text.partition(".")
    payload, _, check = rest.rpartition(".")
    if name != provider or not payload or check != _check(provider, payload):
        raise invalid
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error) as exc:  # orjson.JSONDecodeError is a ValueError
        raise invalid from exc
    if not isinstance(data, dict) or data.keys() != {"k", "s"}:
        raise invalid
    kind, state = data["k"], data["s"]
    schema = schemas.get(kind) if isinstance(kind, str) else None
    if schema is None or not isinstance(state, dict) or state.keys() != schema.keys():
        raise invalid
    if not all(_valid(state[f], k) for f, k in schema.items()):
        raise invalid
    return kind, state
