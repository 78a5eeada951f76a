"""The archive's ``next``/``prev`` links, in the shapes a STAC API may give them.

The real server behind ``/archive/stac/`` is unpublished (the audit found nothing past
pgstac-style ``token`` paging), so a client must follow a link exactly as given: its
``method``, ``href``, ``body`` and ``merge`` (STAC API item-search "Pagination"). The
simulator can give three shapes (the ``next_link`` setting, :mod:`.settings`):

* ``pgstac`` (default): POST searches get ``{"method": "POST", "href", "body": {"token":
  "next:<id>"}, "merge": true}`` and GET searches the href with ``token=`` (stac-fastapi-
  pgstac; assumed to be the archive's server);
* ``full-body``: POST links carry the whole request body with an opaque ``next`` value
  and ``"merge": false`` (assumed variant: servers that do not rely on merging);
* ``get``: every link is a GET of an opaque, server-side cursor ``?cursor=<key>`` that
  remembers the whole search (assumed variant: search-id style servers).

Whatever the shape, a request that carries the link's content pages on; the opaque
values are the keyset token base64-encoded, so they mean nothing to a client.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

MODES = ("pgstac", "full-body", "get")
GEOJSON = "application/geo+json"


def encode(token: str) -> str:
    """An opaque form of a keyset token."""
    return base64.urlsafe_b64encode(token.encode()).decode()


def decode(value: object) -> str | None:
    """The keyset token behind an opaque value (None when it is not one)."""
    try:
        return base64.urlsafe_b64decode(str(value).encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None


class Cursors:
    """Server-side cursors of the ``get`` shape: key -> (search body, keyset token)."""

    def __init__(self) -> None:
        self._saved: dict[str, tuple[dict[str, Any], str]] = {}

    def save(self, body: dict[str, Any], token: str) -> str:
        """Remember a search and where its next page starts; the key names both."""
        key = secrets.token_urlsafe(12)
        self._saved[key] = (body, token)
        return key

    def load(self, key: str) -> dict[str, Any] | None:
        """The search body (with its token) a cursor key names, or None."""
        found = self._saved.get(key)
        return None if found is None else {**found[0], "token": found[1]}


def post_link(
    mode: str, rel: str, href: str, search_url: str, body: dict[str, Any], token: str,
    cursors: Cursors,
) -> dict[str, Any]:  # fmt: skip
    """The ``rel`` link of a POST search page in ``mode``'s shape."""
    if mode == "full-body":
        whole = {k: v for k, v in body.items() if k not in ("token", "next")}
        return {"rel": rel, "type": GEOJSON, "method": "POST", "href": href,
                "body": {**whole, "next": encode(token)}, "merge": False}  # fmt: skip
    if mode == "get":
        key = cursors.save({k: v for k, v in body.items() if k != "next"}, token)
        return {"rel": rel, "type": GEOJSON, "method": "GET", "href": f"{search_url}?cursor={key}"}
    return {"rel": rel, "type": GEOJSON, "method": "POST", "href": href,
            "body": {"token": token}, "merge": True}  # fmt: skip
