"""Reading orders and downloading what they delivered, in both API generations.

2023-01: ``GET /api/orders?page&size`` (``{content, page, length, count}``, newest first,
``page`` from 0, ``size`` 20 by default: the SDK's ``ListRequest``), ``/api/order/{id}``
(+ ``/datasets``, ``/campaigns``), ``/api/datasets``, ``/api/dataset/{id}``,
``/api/resource/{id}`` and ``/api/resource/{id}/data``. 2020-12 (seed 002):
``/api/order/list``, ``/api/order/get?id=``, ``/api/order/resource/get?id=``.

A resource download answers **302** to a signed storage URL (S3 V2 style, served by the
simulator's :class:`ObjectStore`) with ``Content-Disposition: attachment;
filename="..."`` on the redirect itself: the SDK reads the file name from
``response.history[0]`` and fails on a 200. After the delivery's expiration it answers
410 Gone (seed 002); signed URLs never outlive the delivery. Unknown ids (including
another account's, and resources not delivered yet) are 404, as plain text.

Stored objects are derived from their key ``datasets/{dataset id}/{file name}``: a COG
on the ordered area's grid, a PNG quicklook, a JSON metadata file. Search thumbnails
(``/thumbnails/{supplier}/{sceneID}.png``) are public and need no order.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.arlula import webhooks
from bridge.simulators.arlula.archive import Archive
from bridge.simulators.arlula.auth import account_key, refusal
from bridge.simulators.arlula.orders import Ledger, Order, Resource, expires_at
from bridge.simulators.arlula.render import (
    campaign_2023,
    dataset_2023,
    order_2020,
    order_2023,
    page,
    resource_2023,
)
from bridge.simulators.arlula.tasking import settle
from bridge.simulators.common.app import JSONResponse
from bridge.simulators.common.cog import (
    PNG_MEDIA_TYPE,
    PixelSpec,
    cog_bytes,
    png_bytes,
    scene_grid,
    stable_seed,
)
from bridge.simulators.common.storage import StoredObject, content_disposition

VISUAL = PixelSpec("optical", 3, "uint8")
ANALYTIC = PixelSpec("optical", 4, "uint16")
THUMBNAIL_SIDE = 256


def pixel_spec(bundle: str) -> PixelSpec:
    """Visual bundles are 8-bit RGB; the others 16-bit, four bands (B, G, R, NIR)."""
    return VISUAL if bundle == "visual" else ANALYTIC


def storage_key(order: Order, resource: Resource) -> str:
    """Where a resource is kept in the simulated storage."""
    return f"datasets/{resource.dataset_id}/{resource.name}"


def make_resolver(
    ledger: Ledger, archive: Callable[[], Archive], seed: int
) -> Callable[[str], StoredObject | None]:
    """The store's resolver: each delivered file generated on demand from its key
    (``archive`` gives the app's current archive: campaigns add captured scenes)."""

    def resolve(key: str) -> StoredObject | None:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "datasets":
            return None
        for order, resource in ledger.resources_of(parts[1]):
            if resource.name == parts[2]:
                return StoredObject(_content(order, resource, archive(), seed), resource.media_type,
                                    resource.name)  # fmt: skip
        return None

    return resolve


def _content(order: Order, resource: Resource, archive: Archive, seed: int) -> Any:
    ds = order.dataset_of(resource)
    grid = scene_grid(ds.bbox)
    spec = pixel_spec(ds.bundle)
    pixels_seed = stable_seed(seed, ds.supplier, ds.scene_id)
    if resource.type == "img_tiff":
        return functools.partial(cog_bytes, grid, spec, pixels_seed)
    if resource.type == "thumb":
        return functools.partial(png_bytes, grid, spec, pixels_seed, THUMBNAIL_SIDE)
    scene = archive.scenes[ds.scene_index]
    meta = {k: v for k, v in scene.items() if k not in ("epoch", "bbox")}
    return orjson.dumps({**meta, "bundle": ds.bundle, "orderedBBox": list(ds.bbox)})


async def fill_sizes(app: Starlette, order: Order) -> None:
    """Set ``size`` and ``checksum`` of the order's resources (generating them once)."""
    for resource in (r for ds in order.datasets for r in ds.resources):
        if resource.size is None:
            stored = app.state.store.get(storage_key(order, resource))
            data = await stored.load()
            resource.size = len(data)
            digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
            resource.checksum = f'md5:"{digest}"'  # the SDK documents `method:"hash"`


def _not_found(what: str) -> Response:
    return PlainTextResponse(f"{what} not found", status_code=404)


def _paging(request: Request) -> tuple[int, int] | Response:
    try:
        page_no = int(request.query_params.get("page", 0))
        size = int(request.query_params.get("size", 20))
    except ValueError:
        return PlainTextResponse("page and size must be integers", status_code=400)
    if page_no < 0 or not 1 <= size <= 100:
        return PlainTextResponse("page must be >= 0 and size within 1..100", status_code=400)
    return page_no, size


async def _read(request: Request, build: Callable[[Ledger, str, float], Any]) -> Response:
    """Serve an authorized read; ``build`` returns (or awaits to) a JSON body or a response.
    Every read also sends the webhooks of orders it finds newly complete."""
    refused = refusal(request)
    if refused:
        return refused
    ledger: Ledger = request.app.state.ledger
    key = account_key(request)
    settle(request.app)  # campaigns completed by now deliver their datasets first
    webhooks.observe(request.app, list(ledger.account(key).orders.values()))
    result = build(ledger, key, ledger.clock())
    if inspect.isawaitable(result):
        result = await result
    return result if isinstance(result, Response) else JSONResponse(result)


def _listing(request: Request, render: Callable[[Order, float], list[dict[str, Any]]]) -> Any:
    """A paged list of what ``render`` makes of each order, newest order first."""
    paging = _paging(request)
    if isinstance(paging, Response):
        return lambda ledger, key, now: paging

    def build(ledger: Ledger, key: str, now: float) -> Any:
        page_no, size = paging
        rows = [r for o in ledger.account(key).newest_first() for r in render(o, now)]
        chunk = rows[page_no * size : (page_no + 1) * size]
        return page(chunk, page_no, size, len(rows))

    return build


async def list_orders(request: Request) -> Response:
    """``GET /api/orders``: orders without their datasets."""
    return await _read(
        request, _listing(request, lambda o, now: [order_2023(o, now, detailed=False)])
    )


async def list_datasets(request: Request) -> Response:
    """``GET /api/datasets``: datasets without their resources."""

    def datasets(order: Order, now: float) -> list[dict[str, Any]]:
        return [dataset_2023(order, ds, now, detailed=False) for ds in order.datasets]

    return await _read(request, _listing(request, datasets))


def _detail(request: Request, param: str, by: str, render: Callable[..., Any]) -> Any:
    ident = request.path_params.get(param) or request.query_params.get(param, "")

    async def build(ledger: Ledger, key: str, now: float) -> Any:
        if by == "order":
            order = ledger.order(key, ident)
            if order is None:
                return _not_found(by)
            await fill_sizes(request.app, order)
            return render(order, now)
        found = ledger.dataset(key, ident)
        if found is None:
            return _not_found(by)
        await fill_sizes(request.app, found[0])
        return render(*found, now)

    return build


async def get_order(request: Request) -> Response:
    """``GET /api/order/{id}``: the order with its dataset and delivered resources."""
    return await _read(request, _detail(request, "id", "order", order_2023))


async def order_datasets(request: Request) -> Response:
    """``GET /api/order/{id}/datasets``: the order's datasets (one per scene bought)."""

    def every(order: Order, now: float) -> dict[str, Any]:
        rows = [dataset_2023(order, ds, now, detailed=False) for ds in order.datasets]
        return page(rows, 0, max(20, len(rows)), len(rows))

    return await _read(request, _detail(request, "id", "order", every))


async def order_campaigns(request: Request) -> Response:
    """``GET /api/order/{id}/campaigns``: a tasking order's campaigns (archive orders have
    none)."""

    def campaigns(order: Order, now: float) -> dict[str, Any]:
        rows = [campaign_2023(order, c, now, detailed=False) for c in order.campaigns]
        return page(rows, 0, 20, len(rows))

    return await _read(request, _detail(request, "id", "order", campaigns))


async def get_dataset(request: Request) -> Response:
    """``GET /api/dataset/{id}``: the dataset with its delivered resources."""
    return await _read(request, _detail(request, "id", "dataset", dataset_2023))


async def get_resource(request: Request) -> Response:
    """``GET /api/resource/{id}``: one delivered resource's description."""

    async def build(ledger: Ledger, key: str, now: float) -> Any:
        found = ledger.resource(key, request.path_params["id"])
        if found is None:
            return _not_found("resource")
        await fill_sizes(request.app, found[0])
        return resource_2023(*found)

    return await _read(request, build)


def _redirect(request: Request, resource_id: str) -> Any:
    def build(ledger: Ledger, key: str, now: float) -> Response:
        found = ledger.resource(key, resource_id)
        if found is None:
            return _not_found("resource")
        order, resource = found
        expiry = expires_at(order, now, order.dataset_of(resource))
        if expiry is not None and now >= expiry:
            return PlainTextResponse("Gone: this order's storage has expired", status_code=410)
        ttl = (
            ledger.settings.url_ttl_s
            if expiry is None
            else min(ledger.settings.url_ttl_s, expiry - now)
        )
        url = request.app.state.store.sign_url(
            str(request.base_url), storage_key(order, resource), ttl
        )
        headers = {"location": url, "content-disposition": content_disposition(resource.name)}
        return Response(status_code=302, headers=headers)

    return build


async def resource_data(request: Request) -> Response:
    """``GET /api/resource/{id}/data`` (2023-01): 302 to storage, 410 once expired."""
    return await _read(request, _redirect(request, request.path_params["id"]))


async def resource_get_2020(request: Request) -> Response:
    """``GET /api/order/resource/get?id=`` (2020-12): 302 to storage, 410 once expired."""
    return await _read(request, _redirect(request, request.query_params.get("id", "")))


async def list_2020(request: Request) -> Response:
    """``GET /api/order/list`` (2020-12): a bare list of orders."""

    def build(ledger: Ledger, key: str, now: float) -> Any:
        return [order_2020(o, now, detailed=False) for o in ledger.account(key).newest_first()]

    return await _read(request, build)


async def get_2020(request: Request) -> Response:
    """``GET /api/order/get?id=`` (2020-12): the detailed order."""
    return await _read(request, _detail(request, "id", "order", order_2020))


async def thumbnail(request: Request) -> Response:
    """``GET /thumbnails/{supplier}/{sceneID}.png``: a public quicklook (no auth, no order)."""
    index = request.app.state.scene_index.get(
        (request.path_params["supplier"], request.path_params["scene"])
    )
    if index is None:
        return _not_found("thumbnail")
    scene = request.app.state.archive.scenes[index]
    seed = stable_seed(request.app.state.config.seed, scene["supplier"], scene["sceneID"])
    grid = scene_grid(tuple(scene["bbox"]))
    data = await run_in_threadpool(png_bytes, grid, VISUAL, seed, THUMBNAIL_SIDE)
    return Response(data, media_type=PNG_MEDIA_TYPE, headers={"cache-control": "max-age=86400"})


def routes() -> list[BaseRoute]:
    """Order reading and download routes (2020-12 paths first: ``/api/order/{id}`` would
    otherwise swallow ``/api/order/list``)."""
    return [
        Route("/api/order/list", list_2020, methods=["GET"]),
        Route("/api/order/get", get_2020, methods=["GET"]),
        Route("/api/order/resource/get", resource_get_2020, methods=["GET"]),
        Route("/api/orders", list_orders, methods=["GET"]),
        Route("/api/datasets", list_datasets, methods=["GET"]),
        Route("/api/order/{id}", get_order, methods=["GET"]),
        Route("/api/order/{id}/datasets", order_datasets, methods=["GET"]),
        Route("/api/order/{id}/campaigns", order_campaigns, methods=["GET"]),
        Route("/api/dataset/{id}", get_dataset, methods=["GET"]),
        Route("/api/resource/{id}", get_resource, methods=["GET"]),
        Route("/api/resource/{id}/data", resource_data, methods=["GET"]),
        Route("/thumbnails/{supplier}/{scene}.png", thumbnail, methods=["GET"]),
    ]
