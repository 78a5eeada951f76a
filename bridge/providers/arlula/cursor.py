"""Self-describing paging cursors over a locally held native result.

A cursor is base64url JSON: ``{"v": 1, "api": <generation>, "req": [<native request>...],
"o": <offset>, "n": <page size>}``. It names the native request(s) whose result it pages
through, so an expired cache entry is re-fetched from the cursor alone, and it fixes the
page size, so the same cursor always yields the same page.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from bridge.errors import BadRequest
from bridge.providers.arlula.names import SEARCH_ENDPOINTS

VERSION = 1


@dataclass(frozen=True)
class Cursor:
    """Where a page starts within the result of ``requests``."""

    api_version: str
    requests: list[dict[str, Any]]
    offset: int
    size: int

    def encode(self) -> str:
        """The opaque cursor text."""
        raw = orjson.dumps(
            {
                "v": VERSION,
                "api": self.api_version,
                "req": self.requests,
                "o": self.offset,
                "n": self.size,
            }
        )
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_search(request: Any, api_version: str) -> bool:
    # A cursor is replayed with the tenant's credentials: accept only archive searches,
    # never another endpoint (e.g. an order) smuggled into a forged cursor.
    if not isinstance(request, dict):
        return False
    method, path = SEARCH_ENDPOINTS[api_version]
    payload = "json" if api_version == "2023-01" else "params"
    return (
        request.keys() == {"method", "path", payload}
        and request["method"] == method
        and request["path"] == path
        and isinstance(request[payload], dict)
    )


def decode_cursor(text: str, api_version: str) -> Cursor:
    """Read a cursor made by :meth:`Cursor.encode` for the same API generation.

    Raises:
        BadRequest: not such a cursor.
    """
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadRequest("invalid arlula paging cursor") from exc
    ok = (
        isinstance(data, dict)
        and data.get("v") == VERSION
        and data.get("api") == api_version
        and api_version in SEARCH_ENDPOINTS
        and isinstance(data.get("req"), list)
        and all(_is_search(r, api_version) for r in data["req"])
        and isinstance(data.get("o"), int)
        and isinstance(data.get("n"), int)
        and data["o"] >= 0
        and data["n"] > 0
    )
    if not ok:
        raise BadRequest("invalid arlula paging cursor")
    return Cursor(data["api"], data["req"], data["o"], data["n"])
