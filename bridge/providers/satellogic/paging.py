"""Following the archive's ``next`` link exactly as given (STAC API item-search paging).

The archive's server is unpublished; pgstac's ``{"token": ...}`` body is only one shape a
``next`` link can take. So the adapter never rebuilds a page request from a token it
guessed: it keeps the link (``method``, ``href``, ``body``, ``merge``) in its cursor and
replays it — a POST link's body merged into the search body when ``merge`` is true, sent
as it is otherwise; a GET link's href fetched as it is.

A cursor comes back from the bridge's client, so a link in it is checked again before it
is followed: it must point at the archive's own origin, or the provider's credentials
would go wherever a forged cursor says.
"""

from __future__ import annotations

from typing import Any

import httpx

from bridge.errors import BadRequest, ProviderBadResponse

Link = dict[str, Any]


def _on_origin(href: str, base: httpx.URL) -> bool:
    url = base.join(href)
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


def next_link(provider: str, page: dict[str, Any], base: httpx.URL) -> Link | None:
    """The page's ``next`` link as a cursor keeps it, or None on the last page.

    Raises:
        ProviderBadResponse: a ``next`` link that cannot be followed.
    """
    links = page.get("links") or []
    if not isinstance(links, list):
        raise ProviderBadResponse(provider, "links is not a list")
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "next":
            continue
        try:
            return checked(link, base)
        except ValueError as exc:
            raise ProviderBadResponse(provider, f"unusable next link: {exc}") from exc
    return None


def checked(link: dict[str, Any], base: httpx.URL) -> Link:
    """The parts of a link needed to follow it, or ValueError when it cannot be followed."""
    href = link.get("href")
    method = str(link.get("method") or "GET").upper()
    body = link.get("body")
    if not isinstance(href, str) or not href:
        raise ValueError("no href")
    if method not in ("GET", "POST"):
        raise ValueError(f"method {method}")
    if body is not None and not isinstance(body, dict):
        raise ValueError("body is not an object")
    if not _on_origin(href, base):
        raise ValueError("href leaves the archive's origin")
    return {"method": method, "href": href, "body": body, "merge": link.get("merge") is True}


def from_cursor(fields: dict[str, Any], base: httpx.URL) -> Link:
    """The link a bridge cursor carries, checked again (it round-tripped through a client)."""
    link = fields["next"]
    try:
        return checked({**link, "rel": "next"}, base)
    except ValueError as exc:
        raise BadRequest(f"invalid satellogic paging cursor: {exc}") from exc


def request_parts(
    link: Link, search_body: dict[str, Any]
) -> tuple[str, str, dict[str, Any] | None]:
    """Method, href and JSON body that follow ``link`` from the search ``search_body``."""
    if link["method"] == "GET":
        return "GET", link["href"], None
    body = link["body"] or {}
    return "POST", link["href"], {**search_body, **body} if link["merge"] else body
