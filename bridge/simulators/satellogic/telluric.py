"""Telluric (legacy download, seed 004) in the simulator: the scene listing and raster paths.

``GET /telluric/scenes/?sceneset_id=`` lists a delivered sceneset's scenes with the seed's
fields. Raster urls carry the token in the path
(``/v2/scenes/{scene_id}/token/{token}/raster/{file}``), attachment urls in the query
(``/v2/scenes/{scene_id}/attachments/{name}/download/?token=``); both are fetched without
auth headers and every listing mints new tokens. Objects are served by the scene store of
:class:`.downloads.Downloads`; the raster route only moves the token from the path to the
query the store checks.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse
from bridge.simulators.satellogic.auth import authorize
from bridge.simulators.satellogic.downloads import SCENES_PREFIX, Downloads
from bridge.simulators.satellogic.orders import Order, iso


class Telluric:
    """The Telluric routes over the simulator's deliveries."""

    def __init__(self, downloads: Downloads) -> None:
        self.downloads = downloads

    def scene_json(self, order: Order, root: str) -> dict[str, Any]:
        """A Telluric scene record (seed 004 shape) with freshly minted tokens."""
        sid = order.scene_id
        scene_url = f"{root}{SCENES_PREFIX}/{sid}/"
        rasters = []
        for raster in order.product.rasters:
            file_name = f"{sid}_{raster.suffix}.tif"
            minted = self.downloads.scene_store.token_url(
                root, f"{sid}/raster/{file_name}", self.downloads.token_ttl
            )
            token = minted.rsplit("?token=", 1)[1]
            rasters.append(
                {
                    "url": f"{scene_url}token/{token}/raster/{file_name}",
                    "bands": list(raster.bands),
                    "file_name": file_name,
                    "source": "internal",
                    "scene": scene_url,
                }
            )
        files = {
            "delivery_zip": f"{sid}.zip",
            "footprint": f"{sid}_footprint.kml",
            "thumbnail": f"{sid}_thumbnail.png",
            "preview": f"{sid}_preview.png",
        }
        attachments = [
            {
                "scene": scene_url,
                "url": self.downloads.scene_store.token_url(
                    root, f"{sid}/attachments/{name}/download/", self.downloads.token_ttl
                ),
                "file_name": file_name,
                "name": name,
                "metadata": {},
                "edit_url": f"{scene_url}attachments/{name}/",
            }
            for name, file_name in files.items()
        ]
        props = order.capture.item["properties"]
        w, s, e, n = order.bbox
        grid, _ = self.downloads.order_raster(order)
        available = self.downloads.book.snapshot(order).first("deliverable", "available")
        return {
            "scene_id": sid,
            "sceneset_id": order.sceneset_id,
            "timestamp": props["datetime"],
            "footprint": {
                "type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
            },
            "metadata": {
                "order_id": order.order_id,
                "deliverable_id": order.deliverable_id,
                "outcome_id": order.outcome_id,
                "processing_level": order.product.level,
                **grid.proj_fields(),
            },
            "supplier": "Satellogic",
            "satellite_class": "NewSat",
            "satellite_name": str(props["platform"]).replace("-", ""),
            "productname": order.product.title,
            "rasters": rasters,
            "bands": {str(i + 1): b for i, b in enumerate(order.product.rasters[0].bands)},
            "attachments": attachments,
            "last_modified": iso(available.at if available else order.created),
        }

    async def scenes_route(self, request: Request) -> Response:
        """``GET /telluric/scenes/?sceneset_id=``: delivered scenes of the caller's contract."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        wanted = request.query_params.get("sceneset_id")
        orders = [
            o
            for o in self.downloads.book.of_contract(auth[1])
            if (wanted is None or o.sceneset_id == wanted) and self.downloads.delivered(o.scene_id)
        ]
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
            limit = max(1, min(100, int(request.query_params.get("limit", 25))))
        except ValueError:
            offset, limit = 0, 25
        root = str(request.base_url).rstrip("/")
        url = request.url

        def link(at: int) -> str:
            return str(url.include_query_params(offset=at, limit=limit))

        return JSONResponse(
            {
                "count": len(orders),
                "next": link(offset + limit) if offset + limit < len(orders) else None,
                "previous": link(max(0, offset - limit)) if offset > 0 else None,
                "results": [self.scene_json(o, root) for o in orders[offset : offset + limit]],
            }
        )

    async def raster_route(self, request: Request) -> Response:
        """``GET|HEAD /v2/scenes/{scene_id}/token/{token}/raster/{file_name}``."""
        p = request.path_params
        scope = dict(request.scope)
        scope["path_params"] = {"key": f"{p['scene_id']}/raster/{p['file_name']}"}
        scope["query_string"] = f"token={p['token']}".encode()
        return await self.downloads.scene_store.serve(Request(scope, request.receive))

    def routes(self) -> list[Route]:
        """The listing and the tokenized raster path (before the scene store's routes)."""
        raster_path = f"{SCENES_PREFIX}/{{scene_id}}/token/{{token}}/raster/{{file_name}}"
        return [
            Route("/telluric/scenes/", self.scenes_route, methods=["GET"]),
            Route("/telluric/scenes", self.scenes_route, methods=["GET"]),
            Route(raster_path, self.raster_route, methods=["GET", "HEAD"]),
        ]
