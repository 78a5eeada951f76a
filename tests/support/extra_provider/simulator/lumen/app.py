"""The Lumen simulator's archive, orders and files (see the package docstring)."""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.app import JSONResponse, SimulatorConfig, read_json, simulator_app
from bridge.simulators.common.cog import (
    COG_MEDIA_TYPE,
    PixelSpec,
    cog_bytes,
    scene_grid,
    stable_seed,
)
from bridge.simulators.common.storage import ObjectStore, StoredObject
from bridge.simulators.common.synth import acquisition_time, location, square_tile

DEMO_KEY = "lumen-demo-key"
MAX_LIMIT = 500
PRICE_CENTS = 12_500
OPTICAL = PixelSpec("optical", 3, "uint8")


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def build_archive(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` scenes, deterministic for ``seed``, newest first."""
    rng = random.Random(f"lumen-{seed}")
    scenes = []
    for n in range(count):
        lon, lat = location(rng)
        tile = square_tile(lon, lat, 8.0)
        scenes.append(
            {
                "id": f"LMN-{seed % 10_000:04d}-{n:06d}",
                "acquired": _iso(acquisition_time(rng)),
                "footprint": tile.geometry,
                "bbox": list(tile.bbox),
                "cloud": round(rng.uniform(0, 60), 1),
                "off_nadir": round(rng.uniform(0, 25), 1),
                "gsd": 1.5,
            }
        )
    scenes.sort(key=lambda s: (s["acquired"], s["id"]), reverse=True)
    return scenes


@dataclass
class Archive:
    """Scenes by id, and orders placed on them."""

    scenes: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(init=False)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.by_id = {s["id"]: s for s in self.scenes}

    def select(
        self, bbox: list[float] | None, start: datetime | None, end: datetime | None
    ) -> list[Any]:
        """Scenes whose bbox meets ``bbox`` and whose time is within [start, end]."""
        out = []
        for s in self.scenes:
            acquired = datetime.fromisoformat(s["acquired"])
            if (start and acquired < start) or (end and acquired > end):
                continue
            b = s["bbox"]
            if bbox and (b[0] > bbox[2] or b[2] < bbox[0] or b[1] > bbox[3] or b[3] < bbox[1]):
                continue
            out.append(s)
        return out

    def place(self, scene: str, reference: str | None) -> dict[str, Any]:
        """An order for ``scene``, delivered at once."""
        order = {
            "id": f"ord-{next(self._ids)}",
            "scene": scene,
            "reference": reference,
            "status": "delivered",
            "price_cents": PRICE_CENTS,
        }
        self.orders[order["id"]] = order
        return order


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _refused(request: Request) -> JSONResponse | None:
    if request.headers.get("X-Lumen-Key") != DEMO_KEY:
        return _error(401, "missing or unknown X-Lumen-Key")
    return None


def _bbox(text: str | None) -> list[float] | None:
    if not text:
        return None
    parts = [float(p) for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError("bbox needs four numbers")
    return parts


async def list_scenes(request: Request) -> Response:
    """``GET /v1/scenes``: a page of the scenes matching bbox and time, newest first."""
    if refused := _refused(request):
        return refused
    q = request.query_params
    try:
        bbox = _bbox(q.get("bbox"))
        start, end = (datetime.fromisoformat(q[k]) if q.get(k) else None for k in ("from", "to"))
        offset = int(q.get("offset", "0"))
        limit = min(int(q.get("limit", "100")), MAX_LIMIT)
    except ValueError as exc:
        return _error(400, str(exc))
    found = request.app.state.archive.select(bbox, start, end)
    return JSONResponse({"scenes": found[offset : offset + limit], "total": len(found)})


async def get_scene(request: Request) -> Response:
    """``GET /v1/scenes/{id}``."""
    if refused := _refused(request):
        return refused
    scene = request.app.state.archive.by_id.get(request.path_params["scene"])
    return JSONResponse(scene) if scene else _error(404, "no such scene")


async def place_order(request: Request) -> Response:
    """``POST /v1/orders`` ``{scene, reference}``."""
    if refused := _refused(request):
        return refused
    try:
        body = await read_json(request) or {}
    except ValueError as exc:
        return _error(400, str(exc))
    archive: Archive = request.app.state.archive
    if body.get("scene") not in archive.by_id:
        return _error(404, "no such scene")
    return JSONResponse(archive.place(body["scene"], body.get("reference")), status_code=201)


async def list_orders(request: Request) -> Response:
    """``GET /v1/orders?reference=&scene=``."""
    if refused := _refused(request):
        return refused
    q = request.query_params
    orders = [
        o
        for o in request.app.state.archive.orders.values()
        if (not q.get("reference") or o["reference"] == q["reference"])
        and (not q.get("scene") or o["scene"] == q["scene"])
    ]
    return JSONResponse({"orders": orders})


async def get_order(request: Request) -> Response:
    """``GET /v1/orders/{id}``."""
    if refused := _refused(request):
        return refused
    order = request.app.state.archive.orders.get(request.path_params["order"])
    return JSONResponse(order) if order else _error(404, "no such order")


async def download(request: Request) -> Response:
    """``GET /v1/orders/{id}/download`` → a presigned URL of the scene's GeoTIFF."""
    if refused := _refused(request):
        return refused
    order = request.app.state.archive.orders.get(request.path_params["order"])
    if order is None:
        return _error(404, "no such order")
    store: ObjectStore = request.app.state.store
    url = store.sign_url(str(request.base_url), f"scenes/{order['scene']}.tif")
    return JSONResponse({"url": url, "expires_in": 3600})


def _resolver(archive: Archive, seed: int) -> Any:
    def resolve(key: str) -> StoredObject | None:
        scene = archive.by_id.get(key.removeprefix("scenes/").removesuffix(".tif"))
        if scene is None:
            return None
        grid = scene_grid(tuple(scene["bbox"]))
        make = functools.partial(cog_bytes, grid, OPTICAL, stable_seed(seed, scene["id"]))
        return StoredObject(make, COG_MEDIA_TYPE, f"{scene['id']}.tif", 0.0)

    return resolve


def create_app(config: SimulatorConfig) -> Starlette:
    """The Lumen simulator for ``config`` (a tenth of ``config.scenes`` scenes)."""
    archive = Archive(build_archive(config.seed, max(config.scenes // 10, 50)))
    store = ObjectStore(
        f"lumen-{config.seed}", clock=config.clock, resolver=_resolver(archive, config.seed)
    )
    routes = [
        Route("/v1/scenes", list_scenes, methods=["GET"]),
        Route("/v1/scenes/{scene}", get_scene, methods=["GET"]),
        Route("/v1/orders", place_order, methods=["POST"]),
        Route("/v1/orders", list_orders, methods=["GET"]),
        Route("/v1/orders/{order}", get_order, methods=["GET"]),
        Route("/v1/orders/{order}/download", download, methods=["GET"]),
        *store.routes(),
    ]
    return simulator_app("lumen", routes, config, archive=archive, store=store)


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Provider settings a native client needs against the simulator at ``base_url``."""
    return {"api_key": DEMO_KEY}
