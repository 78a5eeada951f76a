"""Capella paging cursors: self-describing, opaque, JSON-safe text.

Two kinds, each carrying its own page size so the same cursor always yields the same page:
``{"page": N, "limit": L}`` is native page N of size L (Capella sorted natively);
``{"offset": O, "limit": L}`` is a slice of the whole native result the adapter sorted.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from bridge.errors import BadRequest


def encode_cursor(state: dict[str, int]) -> str:
    """A cursor for ``state``."""
    return base64.urlsafe_b64encode(orjson.dumps(state)).rstrip(b"=").decode()


def decode_cursor(text: str, kind: str) -> dict[str, int]:
    """The state in ``text``, which must be of ``kind`` (``"page"`` or ``"offset"``).

    Raises:
        BadRequest: not a Capella cursor, or one minted for a differently sorted search.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        state = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("invalid Capella paging cursor") from exc
    valid = (
        isinstance(state, dict)
        and set(state) == {kind, "limit"}
        and all(isinstance(v, int) and not isinstance(v, bool) for v in state.values())
        and state[kind] >= (1 if kind == "page" else 0)
        and state["limit"] >= 1
    )
    if not valid:
        raise BadRequest("invalid Capella paging cursor")
    return {k: int(v) for k, v in state.items()}
