"""Links on the documents the bridge serves."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request

GEOJSON = "application/geo+json"
JSON = "application/json"
# What urllib's quote(..., safe="") leaves as it is (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def quote_segment(text: str) -> str:
    """``quote(text, safe="")``, returning most ids and asset keys (unreserved characters
    only) as they are without the cost of quoting them (it runs for every served item)."""
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def base_url(request: Request, public_url: str | None) -> str:
    """The root URL clients see, ending in ``/``."""
    if public_url:
        return public_url.rstrip("/") + "/"
    root = str(request.base_url)
    prefix = getattr(request.app.state, "router_prefix", "") or ""
    return root.rstrip("/") + prefix + "/"


def item_links(base: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """self / parent / collection / root links of an item."""
    collection = item.get("collection")
    coll_href = f"{base}collections/{collection}"
    return [
        {"rel": "self", "type": GEOJSON, "href": f"{coll_href}/items/{item['id']}"},
        {"rel": "parent", "type": JSON, "href": coll_href},
        {"rel": "collection", "type": JSON, "href": coll_href},
        {"rel": "root", "type": JSON, "href": base},
    ]


def collection_links(base: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The served links of a collection: the document's own (e.g. license) plus navigation."""
    href = f"{base}collections/{doc['id']}"
    own = [link for link in doc.get("links", []) if link.get("rel") not in _NAV_RELS]
    return [
        {"rel": "self", "type": JSON, "href": href},
        {"rel": "parent", "type": JSON, "href": base},
        {"rel": "root", "type": JSON, "href": base},
        {"rel": "items", "type": GEOJSON, "href": f"{href}/items"},
        *own,
    ]


_NAV_RELS = {"self", "parent", "root", "items", "collection"}


def next_get_link(request: Request, base: str, token: str) -> dict[str, Any]:
    """A GET ``next`` link: the same URL with every original parameter, the new token."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    params.append(("token", token))
    path = request.url.path.lstrip("/")
    prefix = getattr(request.app.state, "router_prefix", "") or ""
    if prefix and path.startswith(prefix.strip("/")):
        path = path[len(prefix.strip("/")) :].lstrip("/")
    return {
        "rel": "next",
        "type": GEOJSON,
        "method": "GET",
        "href": f"{base}{path}?{urlencode(params)}",
    }


def next_post_link(base: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    """A POST ``next`` link carrying the whole body with the new token (``merge: false``)."""
    return {
        "rel": "next",
        "type": GEOJSON,
        "method": "POST",
        "href": f"{base}search",
        "body": {**body, "token": token},
        "merge": False,
    }
