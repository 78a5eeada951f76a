"""Request models for search and item listing.

(No ``from __future__ import annotations`` here: FastAPI reads these annotations at run
time, and the attrs-generated ``__init__`` cannot resolve postponed ones, which loses the
``filter-lang`` style aliases.)

stac-fastapi's defaults validate ``datetime`` and ``bbox`` themselves, rejecting datetimes
without an offset (QGIS sends those) and letting contradictory GET parameters through.
These models take the raw values; :mod:`bridge.api.normalize` turns their loose forms into
one canonical form and :func:`bridge.core.query.build_query` validates them the same way
for GET and POST, with STAC error bodies.
"""

from typing import Annotated, Any

import attr
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field
from stac_fastapi.types.search import APIRequest

Limit = Annotated[int | None, Query(ge=1, description="Items per page.")]


@attr.s
class ExtensionParams(APIRequest):
    """GET parameters of the Filter, Query, Sort and Fields extensions, as given."""

    filter_expr: Annotated[
        str | None,
        Query(alias="filter", description="CQL2 filter (text, or JSON with filter-lang)."),
    ] = attr.ib(default=None)
    filter_lang: Annotated[
        str | None, Query(alias="filter-lang", description="cql2-text (default) or cql2-json.")
    ] = attr.ib(default=None)
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="Only CRS84 / EPSG:4326.")
    ] = attr.ib(default=None)
    query: Annotated[
        str | None, Query(description='Query extension as JSON: {"eo:cloud_cover": {"lt": 10}}.')
    ] = attr.ib(default=None)
    sortby: Annotated[str | None, Query(description="Sort keys, e.g. `-datetime,+id`.")] = attr.ib(
        default=None
    )
    fields: Annotated[
        str | None, Query(description="Fields to include / `-exclude`, comma-separated.")
    ] = attr.ib(default=None)


@attr.s
class SearchGetRequest(ExtensionParams):
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
class ItemsGetRequest(ExtensionParams):
    """GET ``/collections/{collection_id}/items`` parameters."""

    # kw_only: a mandatory field may then follow the mixin's optional ones.
    collection_id: Annotated[str, Path(description="Collection ID")] = attr.ib(kw_only=True)
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

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    collections: list[str] | str | None = None
    ids: list[str] | str | None = None
    bbox: list[float] | None = None
    intersects: dict[str, Any] | None = None
    datetime: str | None = None
    limit: int | None = Field(default=None, ge=1)
    token: str | None = None
    filter_expr: dict[str, Any] | str | None = Field(default=None, alias="filter")
    filter_lang: str | None = Field(default=None, alias="filter-lang")
    filter_crs: str | None = Field(default=None, alias="filter-crs")
    query: dict[str, Any] | None = None
    sortby: list[dict[str, Any]] | str | None = None
    fields: dict[str, Any] | str | None = None


@attr.s
class CollectionsGetRequest(APIRequest):
    """GET ``/collections`` (collection search) parameters."""

    q: Annotated[
        str | None, Query(description="Free-text terms (comma- or space-separated, any matches).")
    ] = attr.ib(default=None)
    bbox: Annotated[str | None, Query(description="west,south,east,north")] = attr.ib(default=None)
    datetime: Annotated[str | None, Query(description="RFC 3339 instant or interval.")] = attr.ib(
        default=None
    )
    sortby: Annotated[
        str | None, Query(description="id, title, start_datetime or end_datetime, +/- prefixed.")
    ] = attr.ib(default=None)
    limit: Limit = attr.ib(default=None)
    token: Annotated[str | None, Query(description="Paging token from a `next` link.")] = attr.ib(
        default=None
    )
