"""Downloads from the Satellogic simulator: the object stores and what they serve.

* **Archive browse assets** (``preview``, ``thumbnail``) need no order but sit behind the
  API gateway: the official archive example downloads ``preview`` with the
  ``authorizationToken`` and ``X-Satellogic-Contract-Id`` headers (docs archive-service
  "search by outcome id"), so ``/archive/assets/`` answers as :func:`.auth.authorize`
  does (401 without them) and serves only the contract's collections (404 otherwise).
  The hrefs themselves are plain (no token; the real ones are unpublished). Data assets
  (``analytic``, ``visual``) are listed with a bare href the store does not serve (404
  ``NoSuchKey``, assumed): in Aleph V2 archive data comes through an order.
* **Deliveries** are served under ``/v2/scenes/`` (the Telluric catalog, listed by
  :mod:`.telluric`): rasters, ``delivery_zip``, ``footprint``, ``thumbnail``, ``preview``
  of an available deliverable; nothing once it expired. The real catalog lives on
  ``catalog.telluric.satellogic.com``; here it shares the simulator's host. The token
  lifetime (unpublished) is the ``token_ttl_s`` setting (1 h).

Pixels: a delivered raster and the archive tile's quicklooks come from the same grid
(:func:`raster_grid`: the clipped footprint in the capture's UTM zone, longest side
the ``raster_px`` setting, 512) and seed, so the thumbnail shows the data one buys.
"""

from __future__ import annotations

import functools
import io
import secrets
import zipfile
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common.cog import (
    COG_MEDIA_TYPE,
    PNG_MEDIA_TYPE,
    Grid,
    cog_bytes,
    png_bytes,
    scene_grid,
    stable_seed,
)
from bridge.simulators.common.signing import Denial
from bridge.simulators.common.storage import ObjectStore, StoredObject
from bridge.simulators.satellogic.archive import Archive, Tile, assets_for
from bridge.simulators.satellogic.auth import authorize
from bridge.simulators.satellogic.orders import Order, OrderBook
from bridge.simulators.satellogic.products import PRODUCT_BY_COLLECTION, Product, Raster
from bridge.simulators.satellogic.settings import SatellogicSettings

ARCHIVE_PREFIX = "/archive/assets"
SCENES_PREFIX = "/v2/scenes"
BROWSE = {"thumbnail": 256, "preview": 512}
BBox = tuple[float, float, float, float]


def raster_grid(bbox: BBox, epsg: int, px: int) -> Grid:
    """The grid every raster of a footprint is written on (and its ``proj:*`` fields)."""
    return scene_grid(bbox, epsg=epsg, size=px)


def pixel_seed(seed: int, outcome_id: str, level: str, bbox: BBox) -> int:
    """Pixels depend on the capture, the product level and the footprint."""
    return stable_seed(seed, outcome_id, level, *bbox)


def _bbox(tile: Tile) -> BBox:
    w, s, e, n = tile.item["bbox"]
    return (float(w), float(s), float(e), float(n))


def _footprint_kml(name: str, bbox: BBox) -> bytes:
    w, s, e, n = bbox
    ring = " ".join(f"{x},{y},0" for x, y in ((w, s), (e, s), (e, n), (w, n), (w, s)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
        f"<name>{name}</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
        "</Placemark></kml>\n"
    ).encode()


class GatewayStore(ObjectStore):
    """An object store behind the API gateway's headers instead of signed URLs."""

    def _authorize(self, request: Request, key: str) -> Denial | None:
        return None  # checked by :meth:`serve` against the gateway headers

    async def serve(self, request: Request) -> Response:
        """``GET|HEAD /archive/assets/{collection}/{item}/{file}`` with the API headers."""
        auth = authorize(request)
        if isinstance(auth, Response):
            return auth
        if str(request.path_params["key"]).split("/")[0] not in auth[0]:
            return Response(b'{"detail":"Not found."}', 404, media_type="application/json")
        return await super().serve(request)


class Downloads:
    """The simulator's two object stores and the Telluric scene listing."""

    def __init__(self, archive: Archive, book: OrderBook, settings: SatellogicSettings) -> None:
        self.archive = archive
        self.book = book
        self.px = settings.raster_px
        self.token_ttl = settings.token_ttl_s
        self._proj_cache: dict[tuple[str, str], dict[str, Any]] = {}
        secret = secrets.token_hex(16)
        self.archive_store = GatewayStore(
            secret, prefix=ARCHIVE_PREFIX, clock=book.clock, resolver=self._archive_object
        )
        self.scene_store = ObjectStore(
            secret, prefix=SCENES_PREFIX, clock=book.clock, resolver=self._scene_object
        )

    # -- archive tiles ---------------------------------------------------------------

    def tile_raster(self, tile: Tile) -> tuple[Grid, Product, int]:
        """Grid, product and pixel seed of an archive tile's rasters."""
        product = PRODUCT_BY_COLLECTION[tile.collection]
        props = tile.item["properties"]
        bbox = _bbox(tile)
        grid = raster_grid(bbox, int(props["proj:epsg"]), self.px)
        return (
            grid,
            product,
            pixel_seed(self.book.seed, props["satl:outcome_id"], product.level, bbox),
        )

    def archive_assets(self, tile: Tile, root: str) -> dict[str, dict[str, Any]]:
        """A tile's native assets: browse hrefs behind the gateway, COGs with ``proj:*``."""
        assets = assets_for(tile.collection, tile.id, root)
        for key, asset in assets.items():
            if key not in BROWSE:
                asset.update(self._proj(tile))
        return assets

    def _proj(self, tile: Tile) -> dict[str, Any]:
        """A tile's raster ``proj:*`` fields, computed once (search pages repeat tiles)."""
        key = (tile.collection, tile.id)
        found = self._proj_cache.get(key)
        if found is None:
            fields = self.tile_raster(tile)[0].proj_fields()
            found = {k: fields[k] for k in ("proj:epsg", "proj:shape", "proj:transform")}
            self._proj_cache[key] = found
        return {k: list(v) if isinstance(v, list) else v for k, v in found.items()}

    def _archive_object(self, key: str) -> StoredObject | None:
        parts = key.split("/")
        if len(parts) != 3 or not parts[2].endswith(".png"):
            return None  # data assets are not downloadable from the archive
        tile = self.archive.by_key.get((parts[0], parts[1]))
        name = parts[2].removesuffix(".png")
        if tile is None or name not in BROWSE:
            return None
        grid, product, seed = self.tile_raster(tile)
        make = functools.partial(png_bytes, grid, product.rasters[0].spec, seed, BROWSE[name])
        return StoredObject(make, PNG_MEDIA_TYPE, f"{tile.id}_{name}.png")

    # -- deliveries ------------------------------------------------------------------

    def order_raster(self, order: Order) -> tuple[Grid, int]:
        """Grid and pixel seed of an order's delivered rasters."""
        epsg = int(order.capture.item["properties"]["proj:epsg"])
        grid = raster_grid(order.bbox, epsg, self.px)
        return grid, pixel_seed(self.book.seed, order.outcome_id, order.product.level, order.bbox)

    def delivered(self, scene_id: str) -> Order | None:
        order = self.book.by_scene.get(scene_id)
        if order is None or self.book.snapshot(order).status("deliverable") != "available":
            return None
        return order

    def _raster_object(self, order: Order, raster: Raster) -> StoredObject:
        grid, seed = self.order_raster(order)
        make = functools.partial(cog_bytes, grid, raster.spec, seed)
        return StoredObject(make, COG_MEDIA_TYPE, f"{order.scene_id}_{raster.suffix}.tif")

    def _zip(self, order: Order) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for raster in order.product.rasters:
                stored = self._raster_object(order, raster)
                assert callable(stored.source)
                archive.writestr(stored.filename or "raster.tif", stored.source())
            archive.writestr(
                f"{order.scene_id}_footprint.kml", _footprint_kml(order.scene_id, order.bbox)
            )
        return buffer.getvalue()

    def _scene_object(self, key: str) -> StoredObject | None:
        parts = key.split("/")
        order = self.delivered(parts[0])
        if order is None:
            return None
        if len(parts) == 3 and parts[1] == "raster":
            for raster in order.product.rasters:
                if parts[2] == f"{order.scene_id}_{raster.suffix}.tif":
                    return self._raster_object(order, raster)
            return None
        if len(parts) != 5 or parts[1] != "attachments" or parts[3:] != ["download", ""]:
            return None
        name, sid = parts[2], order.scene_id
        grid, seed = self.order_raster(order)
        spec = order.product.rasters[0].spec
        if name in BROWSE:
            make = functools.partial(png_bytes, grid, spec, seed, BROWSE[name])
            return StoredObject(make, PNG_MEDIA_TYPE, f"{sid}_{name}.png")
        if name == "footprint":
            kml = _footprint_kml(sid, order.bbox)
            return StoredObject(kml, "application/vnd.google-earth.kml+xml", f"{sid}_footprint.kml")
        if name == "delivery_zip":
            return StoredObject(
                functools.partial(self._zip, order), "application/zip", f"{sid}.zip"
            )
        return None

    def routes(self) -> list[Route]:
        """Both stores' routes (the Telluric listing is :mod:`.telluric`'s)."""
        return [*self.scene_store.routes(), *self.archive_store.routes()]
