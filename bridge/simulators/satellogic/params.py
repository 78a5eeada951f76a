"""Native search requests as the archive reads them: GET query strings and POST bodies."""

from __future__ import annotations

from typing import Any

from bridge.simulators.satellogic import search as native


def _split(text: str | None) -> list[str] | None:
    return [v for v in text.split(",") if v] if text else None


def _limit(value: Any) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise native.SearchError("limit must be an integer", "RequestValidationError") from exc
    if not 1 <= limit <= native.MAX_LIMIT:
        raise native.SearchError(
            f"limit must be between 1 and {native.MAX_LIMIT}", "RequestValidationError"
        )
    return limit


def search_from_params(params: Any) -> native.NativeSearch:
    """A GET ``/search`` (or ``/items``) query string as a native search."""
    s = native.NativeSearch(
        collections=_split(params.get("collections")), ids=_split(params.get("ids"))
    )
    if params.get("bbox") and params.get("intersects"):
        raise native.SearchError("Only one of bbox or intersects can be used")
    if params.get("bbox"):
        s.bbox = native.parse_bbox(params["bbox"].split(","))
    if params.get("intersects"):
        s.intersects = native.parse_intersects(
            native.decode_json_param("intersects", params["intersects"])
        )
    if params.get("datetime"):
        s.datetime = native.parse_datetime(params["datetime"])
    if params.get("query"):
        s.query = native.decode_json_param("query", params["query"])
    if params.get("filter"):
        lang = params.get("filter-lang") or "cql2-text"
        raw = params["filter"]
        value = native.decode_json_param("filter", raw) if lang == "cql2-json" else raw
        s.filter = native.parse_filter(value, lang)
    if params.get("sortby"):
        s.sortby = native.parse_sortby(params["sortby"].split(","))
    s.limit = _limit(params.get("limit", native.DEFAULT_LIMIT))
    s.token = params.get("token")
    return s


def search_from_body(body: Any) -> native.NativeSearch:
    """A POST ``/search`` body as a native search."""
    if not isinstance(body, dict):
        raise native.SearchError("body must be a JSON object", "RequestValidationError")
    collections = body.get("collections")
    s = native.NativeSearch(
        collections=[collections] if isinstance(collections, str) else collections,
        ids=body.get("ids"),
        query=body.get("query"),
        token=body.get("token"),
        limit=_limit(body.get("limit", native.DEFAULT_LIMIT)),
    )
    if body.get("bbox") is not None and body.get("intersects") is not None:
        raise native.SearchError("Only one of bbox or intersects can be used")
    if body.get("bbox") is not None:
        s.bbox = native.parse_bbox(body["bbox"])
    if body.get("intersects") is not None:
        s.intersects = native.parse_intersects(body["intersects"])
    if body.get("datetime"):
        s.datetime = native.parse_datetime(str(body["datetime"]))
    if body.get("filter") is not None:
        s.filter = native.parse_filter(body["filter"], body.get("filter-lang") or "cql2-json")
    if body.get("sortby"):
        s.sortby = native.parse_sortby(body["sortby"])
    return s
