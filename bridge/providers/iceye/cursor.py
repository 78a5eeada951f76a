"""The adapter's paging cursors: self-describing, JSON-safe text.

``iceye.<base64url JSON>`` where the JSON is one of

* ``{"v": "v2", "k": "native", "c": "<ICEYE cursor>", "n": 25}`` — continue ICEYE's own
  paging with page size ``n``;
* ``{"v": "v1", "k": "local", "o": 50, "n": 25}`` — the adapter sorted the whole (bounded)
  native result itself; the next page starts at offset ``o``.

The page size travels in the cursor so a cursor always yields the same page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from bridge.errors import BadRequest

PREFIX = "iceye."


def encode_cursor(state: dict[str, Any]) -> str:
    """The cursor text for ``state``."""
    raw = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, api_version: str) -> dict[str, Any]:
    """The state in ``cursor``.

    Raises:
        BadRequest: not an ICEYE cursor, or one made for the other API version.
    """
    if not cursor.startswith(PREFIX):
        raise BadRequest("not an ICEYE paging cursor")
    text = cursor[len(PREFIX) :]
    try:
        state: Any = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise BadRequest("malformed ICEYE paging cursor") from None
    valid = (
        isinstance(state, dict)
        and isinstance(state.get("n"), int)
        and state["n"] >= 1
        and (
            (state.get("k") == "native" and isinstance(state.get("c"), str))
            or (state.get("k") == "local" and isinstance(state.get("o"), int) and state["o"] >= 0)
        )
    )
    if not valid:
        raise BadRequest("malformed ICEYE paging cursor")
    if state.get("v") != api_version:
        raise BadRequest("ICEYE paging cursor was made for another API version")
    return dict(state)
