"""Lumen's archive as the federation core sees it: search and get_item.

The native API filters by bbox and time only and lists newest first, so the adapter asks
for every scene of the bbox and window (a superset: the core evaluates the rest) and
sorts them by the query's ``sortby`` itself; a cursor is the offset into that order.
"""

from __future__ import annotations

from typing import Any

from bridge.core.contract import Item, ProviderPage
from bridge.core.query import SearchQuery
from bridge.core.sorting import sort_key_function
from bridge.errors import BadRequest, ProviderAuthError, ProviderBadResponse
from bridge.providers.base import ProviderContext
from bridge.providers.http import check_response, decode_json, exchange, send

from .mapping import COLLECTION, item_from_native
from .order_client import LumenOrders

NATIVE_PAGE = 500


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class LumenProvider(LumenOrders):
    """The Lumen adapter for one set of credentials."""

    name = "lumen"
    property_aliases: dict[str, str] = {}

    def __init__(self, context: ProviderContext) -> None:
        self.collection_ids = frozenset(context.collections)
        key = context.settings.api_key
        if key is None:
            raise ProviderAuthError("lumen", "no API key configured")
        self._headers = {"X-Lumen-Key": key.get_secret_value()}
        self._client = context.http_client(str(context.settings.base_url).rstrip("/"))

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        request = self._client.build_request("GET", path, params=params, headers=self._headers)
        return await send(self.name, self._client, request)

    async def _all_scenes(self, query: SearchQuery) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": NATIVE_PAGE}
        if query.spatial_bbox is not None:
            params["bbox"] = ",".join(str(v) for v in query.spatial_bbox)
        if query.datetime is not None:
            window = (("from", query.datetime.start), ("to", query.datetime.end))
            params.update({k: _iso(v) for k, v in window if v is not None})
        scenes: list[dict[str, Any]] = []
        while True:
            body = await self._get("/v1/scenes", {**params, "offset": len(scenes)})
            if not isinstance(body, dict) or not isinstance(body.get("scenes"), list):
                raise ProviderBadResponse(self.name, "scene list is not {scenes, total}")
            scenes.extend(body["scenes"])
            if not body["scenes"] or len(scenes) >= int(body.get("total", 0)):
                return scenes

    async def search(self, query: SearchQuery, cursor: str | None, page_size: int) -> ProviderPage:
        """One page of the items of bbox and window, sorted by ``query.sortby``."""
        if query.collections is not None and COLLECTION not in query.collections:
            return ProviderPage([])
        if cursor is not None and not cursor.isdigit():
            raise BadRequest("lumen: malformed cursor")
        offset = int(cursor or 0)
        try:
            items = [item_from_native(s) for s in await self._all_scenes(query)]
        except (KeyError, TypeError) as exc:
            raise ProviderBadResponse(self.name, "unreadable scene record") from exc
        items.sort(key=sort_key_function(query.sortby))
        end = offset + page_size
        more = end < len(items)
        return ProviderPage(items[offset:end], str(end) if more else None, len(items))

    async def get_item(self, collection_id: str, item_id: str) -> Item | None:
        """One item by id, or None."""
        if collection_id != COLLECTION:
            return None
        request = self._client.build_request("GET", f"/v1/scenes/{item_id}", headers=self._headers)
        response = await exchange(self.name, self._client, request)
        if response.status_code == 404:
            return None
        check_response(self.name, response)
        try:
            return item_from_native(decode_json(self.name, response))
        except (KeyError, TypeError) as exc:
            raise ProviderBadResponse(self.name, "unreadable scene record") from exc

    async def aclose(self) -> None:
        """Release connections."""
        await self._client.aclose()
