"""The stac-fastapi backend: STAC endpoints answered by the federation core."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attr
import orjson
from stac_fastapi.types.core import AsyncBaseCoreClient
from starlette.requests import Request
from starlette.responses import Response

from bridge.api.collection_search import parse_collection_query, search_collections
from bridge.api.decorate import ItemDecorator
from bridge.api.fields import FieldsSpec, apply_fields, parse_fields
from bridge.api.links import (
    GEOJSON,
    JSON,
    base_url,
    collection_links,
    next_get_link,
    next_post_link,
)
from bridge.api.models import SearchPostRequest
from bridge.api.normalize import bbox_numbers, geometry_param, id_list, json_param, sort_fields
from bridge.auth.request import Authenticator
from bridge.catalog import Catalog
from bridge.core.federation import Federation
from bridge.core.limits import (
    check_counts,
    check_filter,
    check_geometry,
    check_query_extension,
    check_representable,
)
from bridge.core.query import SearchQuery, build_query
from bridge.core.tokens import TokenSigner
from bridge.core.vocabulary import Vocabulary
from bridge.errors import BadRequest, NotFound
from bridge.settings import Settings

PROVIDERS_MEMBER = "bridge:providers"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SORTABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/sortables"
SCHEMA_JSON = "application/schema+json"
PARTIAL_HEADER = "X-Bridge-Partial"


class ORJSONResponse(Response):
    """JSON rendered by orjson."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            # orjson has no integers beyond 64 bits; a client may send one (echoed in a
            # POST next link's body). The standard library writes them.
            return json.dumps(content, separators=(",", ":")).encode()


class JSONSchemaResponse(ORJSONResponse):
    """JSON Schema rendered by orjson."""

    media_type = "application/schema+json"


class GeoJSONResponse(ORJSONResponse):
    """GeoJSON rendered by orjson."""

    media_type = GEOJSON


@attr.s
class BridgeClient(AsyncBaseCoreClient):
    """Answers the STAC core, collections, features and item-search endpoints."""

    federation: Federation = attr.ib(default=None)
    vocabulary: Vocabulary = attr.ib(default=None)
    authenticator: Authenticator = attr.ib(default=None)
    decorator: ItemDecorator = attr.ib(default=None)
    catalog: Catalog = attr.ib(default=None)
    signer: TokenSigner = attr.ib(default=None)
    settings: Settings = attr.ib(default=None)

    # -- helpers -------------------------------------------------------------------------

    def _base(self, request: Request) -> str:
        return base_url(request, self.settings.public_url)

    def _limit(self, limit: int | None) -> int:
        if limit is None:
            return self.settings.default_limit
        if limit < 1:
            raise BadRequest("limit must be at least 1")
        return min(limit, self.settings.max_limit)

    def _collection_doc(self, base: str, doc: dict[str, Any]) -> dict[str, Any]:
        href = f"{base}collections/{doc['id']}"
        extra = [
            {"rel": QUERYABLES_REL, "type": SCHEMA_JSON, "href": f"{href}/queryables"},
            {"rel": SORTABLES_REL, "type": SCHEMA_JSON, "href": f"{href}/sortables"},
        ]
        return {**doc, "links": [*collection_links(base, doc), *extra]}

    async def _search(
        self,
        request: Request,
        query: SearchQuery,
        fields: FieldsSpec,
        token: str | None,
        next_link: Callable[[str], dict[str, Any]],
    ) -> Response:
        tenant = await self.authenticator.tenant(
            request, required=self.settings.search_requires_key
        )
        state = self.signer.decode(token) if token else None
        page = await self.federation.search(query, state)
        request.state.providers = {n: s.status for n, s in page.statuses.items()}
        base = self._base(request)
        decorated = await self.decorator.decorate(base, page.items, tenant)
        features = [apply_fields(item, fields) for item in decorated]
        links: list[dict[str, Any]] = [
            {"rel": "self", "type": GEOJSON, "href": str(request.url)},
            {"rel": "root", "type": JSON, "href": base},
        ]
        if query.collections and len(query.collections) == 1 and request.method == "GET":
            # /collections/{id}/items (and a one-collection search): its collection.
            href = f"{base}collections/{query.collections[0]}"
            links += [
                {"rel": "collection", "type": JSON, "href": href},
                {"rel": "parent", "type": JSON, "href": href},
            ]
        if page.next_state is not None:
            links.append(next_link(self.signer.encode(page.next_state)))
        body: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": features,
            "links": links,
            "numberReturned": len(features),
        }
        if page.matched is not None:
            body["numberMatched"] = page.matched
        body[PROVIDERS_MEMBER] = {n: s.to_json() for n, s in page.statuses.items()}
        headers = {PARTIAL_HEADER: "true"} if page.partial else None
        return GeoJSONResponse(body, headers=headers)

    # -- STAC endpoints --------------------------------------------------------------------

    async def landing_page(self, **kwargs: Any) -> Any:
        """The landing page, with a child link per collection."""
        request: Request = kwargs["request"]
        page: dict[str, Any] = dict(await super().landing_page(**kwargs))
        base = self._base(request)
        page["links"] = [
            *page["links"],
            {
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": "Queryables",
                "href": f"{base}queryables",
            },
            {
                "rel": SORTABLES_REL,
                "type": SCHEMA_JSON,
                "title": "Sortables",
                "href": f"{base}sortables",
            },
            # STAPI tasking (new acquisitions) on the same server, same keys.
            {
                "rel": "service",
                "type": JSON,
                "title": "Tasking (STAPI): order new acquisitions",
                "href": f"{base}tasking/",
            },
            *(
                {
                    "rel": "child",
                    "type": JSON,
                    "title": d.get("title"),
                    "href": f"{base}collections/{d['id']}",
                }
                for d in self.catalog.all()
            ),
        ]
        return ORJSONResponse(page)

    async def all_collections(
        self,
        q: str | None = None,
        bbox: str | None = None,
        datetime: str | None = None,
        sortby: str | None = None,
        limit: int | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """``/collections``: every collection document, or those a collection search selects."""
        request: Request = kwargs["request"]
        base = self._base(request)
        query = parse_collection_query(q, bbox, datetime, sortby, limit, token)
        page, matched, more = search_collections(self.catalog.all(), query)
        links: list[dict[str, Any]] = [
            {"rel": "self", "type": JSON, "href": str(request.url)},
            {"rel": "root", "type": JSON, "href": base},
            {"rel": "parent", "type": JSON, "href": base},
        ]
        if more:
            links.append(next_get_link(request, base, str(query.offset + query.limit)))
            links[-1]["type"] = JSON
        return ORJSONResponse(
            {
                "collections": [self._collection_doc(base, d) for d in page],
                "links": links,
                "numberMatched": matched,
                "numberReturned": len(page),
            }
        )

    async def get_collection(self, collection_id: str, **kwargs: Any) -> Any:
        """One collection document, or 404."""
        doc = self.catalog.get(collection_id)
        if doc is None:
            raise NotFound(f"unknown collection: {collection_id}")
        return ORJSONResponse(self._collection_doc(self._base(kwargs["request"]), doc))

    async def get_item(self, item_id: str, collection_id: str, **kwargs: Any) -> Any:
        """One item, fetched natively by id."""
        request: Request = kwargs["request"]
        tenant = await self.authenticator.tenant(
            request, required=self.settings.search_requires_key
        )
        item = await self.federation.get_item(collection_id, item_id)
        [served] = await self.decorator.decorate(self._base(request), [item], tenant)
        return GeoJSONResponse(served)

    def _build(
        self,
        *,
        collections: list[str] | None = None,
        ids: list[str] | None = None,
        bbox: list[float] | None = None,
        intersects: dict[str, Any] | None = None,
        datetime: str | None = None,
        limit: int | None = None,
        filter_expr: dict[str, Any] | str | None = None,
        filter_lang: str | None = None,
        filter_crs: str | None = None,
        query: dict[str, Any] | None = None,
        sortby: list[dict[str, Any]] | str | None = None,
        fields: dict[str, Any] | str | None = None,
    ) -> tuple[SearchQuery, FieldsSpec]:
        """Validate raw search parameters into a query and a fields spec (400 on error).

        The limits come first: nothing below runs on a request over one of them.
        """
        limits = self.settings.limits
        check_counts(limits, ids=ids, collections=collections, sortby=sortby, fields=fields)
        if filter_expr is not None and filter_expr != "":
            check_filter(filter_expr, filter_lang, limits)
        if query is not None:
            check_query_extension(query, limits)
        if intersects is not None:
            check_geometry(intersects, limits)
        check_representable(ids=ids, collections=collections, intersects=intersects)
        q = build_query(
            collections=collections,
            ids=ids,
            bbox=bbox,
            intersects=intersects,
            datetime=datetime,
            limit=self._limit(limit),
            sortby=sort_fields(sortby),
            filter=filter_expr,
            filter_lang=filter_lang,
            filter_crs=filter_crs,
            query=query,
            vocabulary=self.vocabulary,
        )
        return q, parse_fields(fields, self.vocabulary.resolve)

    async def item_collection(  # type: ignore[override]
        self,
        collection_id: str,
        bbox: str | None = None,
        datetime: str | None = None,
        limit: int | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """``/collections/{id}/items``: a search restricted to one collection."""
        request: Request = kwargs.pop("request")
        if self.catalog.get(collection_id) is None:
            raise NotFound(f"unknown collection: {collection_id}")
        return await self._get_search(
            request,
            token,
            collections=[collection_id],
            bbox=bbox,
            datetime=datetime,
            limit=limit,
            **kwargs,
        )

    async def get_search(  # type: ignore[override]
        self,
        collections: str | None = None,
        ids: str | None = None,
        bbox: str | None = None,
        intersects: str | None = None,
        datetime: str | None = None,
        limit: int | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """GET ``/search``."""
        request: Request = kwargs.pop("request")
        return await self._get_search(
            request,
            token,
            collections=id_list(collections),
            ids=id_list(ids),
            bbox=bbox,
            intersects=geometry_param(intersects),
            datetime=datetime,
            limit=limit,
            **kwargs,
        )

    async def _get_search(
        self, request: Request, token: str | None, *, bbox: str | None, **params: Any
    ) -> Response:
        """A GET search (``/search`` or ``/collections/{id}/items``) with GET next links."""
        query, fields = self._build(
            bbox=bbox_numbers(bbox),
            query=json_param("query", params.pop("query", None)),
            **params,
        )
        base = self._base(request)
        return await self._search(
            request, query, fields, token, lambda t: next_get_link(request, base, t)
        )

    async def post_search(  # type: ignore[override]
        self, search_request: SearchPostRequest, **kwargs: Any
    ) -> Any:
        """POST ``/search``."""
        request: Request = kwargs["request"]
        r = search_request
        if "fields" in r.model_fields_set and r.fields is None:
            raise BadRequest("fields must be an {include, exclude} object (or left out)")
        query, fields = self._build(
            collections=id_list(r.collections),
            ids=id_list(r.ids),
            bbox=r.bbox,
            intersects=r.intersects,
            datetime=r.datetime,
            limit=r.limit,
            filter_expr=r.filter_expr,
            filter_lang=r.filter_lang,
            filter_crs=r.filter_crs,
            query=r.query,
            sortby=r.sortby,
            fields=r.fields,
        )
        body = r.model_dump(exclude_none=True, by_alias=True)
        body.pop("token", None)
        base = self._base(request)
        return await self._search(
            request, query, fields, r.token, lambda t: next_post_link(base, body, t)
        )

    # -- queryables and sortables ------------------------------------------------------------

    def _schema_doc(self, kind: str, request: Request, collection_id: str | None) -> Response:
        if collection_id is not None and self.catalog.get(collection_id) is None:
            raise NotFound(f"unknown collection: {collection_id}")
        base = self._base(request)
        make = self.vocabulary.queryables if kind == "queryables" else self.vocabulary.sortables
        return JSONSchemaResponse(make(base, collection_id))

    async def queryables(self, request: Request, collection_id: str | None = None) -> Response:
        """``/queryables`` and ``/collections/{id}/queryables``."""
        return self._schema_doc("queryables", request, collection_id)

    async def sortables(self, request: Request, collection_id: str | None = None) -> Response:
        """``/sortables`` and ``/collections/{id}/sortables``."""
        return self._schema_doc("sortables", request, collection_id)
