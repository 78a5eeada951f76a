"""Request models for search and item listing.

stac-fastapi's defaults validate ``datetime`` and ``bbox`` themselves, rejecting datetimes
without an offset (QGIS sends those) and letting contradictory GET parameters through.
These models take the raw values; :func:`bridge.core.query.build_query` validates them
the same way for GET and POST, with STAC error bodies.
"""

from __future__ import annotations

from typing import Annotated, Any

import attr
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field
from stac_fastapi.types.search import APIRequest

Limit = Annotated[int | None, Query(ge=1, description="Items per page.")]


@attr.s
class SearchGetRequest(APIRequest):
    """GET ``/search`` parameters, as given."""

    collections: Annotated[str | None, Query(description="Comma-separated collection ids.")] = (
        attr.ib(default=None)
    )
    ids: Annotated[str | None, Query(description="Comma-separated item ids.")] = attr.ib(
        default=None
    )
    bbox: Annotated[
        str | None, Query(description="west,south,east,north (or 6 numbers with heights).")
    ] = attr.ib(default=None)
    intersects: Annotated[
        str | None, Query(description="A GeoJSON geometry, URL-encoded. Excludes bbox.")
    ] = attr.ib(default=None)
    datetime: Annotated[
        str | None,
        Query(description="RFC 3339 instant or interval (`a/b`, `../b`, `a/..`); no offset = UTC."),
    ] = attr.ib(default=None)
    limit: Limit = attr.ib(default=None)
    token: Annotated[str | None, Query(description="Paging token from a `next` link.")] = attr.ib(
        default=None
    )


@attr.s
class ItemsGetRequest(APIRequest):
    """GET ``/collections/{collection_id}/items`` parameters."""

    collection_id: Annotated[str, Path(description="Collection ID")] = attr.ib()
    bbox: Annotated[str | None, Query(description="west,south,east,north")] = attr.ib(default=None)
    datetime: Annotated[str | None, Query(description="RFC 3339 instant or interval.")] = attr.ib(
        default=None
    )
    limit: Limit = attr.ib(default=None)
    token: Annotated[str | None, Query(description="Paging token from a `next` link.")] = attr.ib(
        default=None
    )


class SearchPostRequest(BaseModel):
    """POST ``/search`` body, as given (validated by the core)."""

    model_config = ConfigDict(extra="allow")

    collections: list[str] | str | None = None
    ids: list[str] | str | None = None
    bbox: list[float] | None = None
    intersects: dict[str, Any] | None = None
    datetime: str | None = None
    limit: int | None = Field(default=None, ge=1)
    token: str | None = None


def split_list(value: list[str] | str | None) -> list[str] | None:
    """Accept a list or a comma-separated string (validators send both)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return [v.strip() for v in items if v and v.strip()] or None
