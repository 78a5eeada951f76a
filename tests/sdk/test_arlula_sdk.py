"""Arlula's own Python SDK (``arlulacore`` 4.x) end to end against the simulator served on
a loopback port: credentials check, search, price, order, follow to delivery, download
(302 with a quoted file name), webhooks, errors.

The SDK uses ``requests`` synchronously, so the simulator runs under uvicorn in a thread
and the tests are plain functions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import arlulacore  # type: ignore[import-untyped]
import httpx
import orjson
import pytest
from arlulacore.common import SortDefinition  # type: ignore[import-untyped]
from arlulacore.util import calculate_price  # type: ignore[import-untyped]
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds

from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from tests.support.serve import served
from tests.support.wiring import simulator_config

HELSINKI = {"north": 60.4, "south": 60.0, "east": 25.5, "west": 24.5}


@pytest.fixture
def webhooks() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def base_url(webhooks: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The simulator on a free loopback port (uvicorn in a thread), webhooks captured."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    def receive(request: httpx.Request) -> httpx.Response:
        webhooks.append(orjson.loads(request.content))
        return httpx.Response(204)

    hooks = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    extra = {
        "arlula_order_step_s": 0.1,
        "arlula_tasking_step_s": 0.1,
        "arlula_webhook_client": hooks,
    }
    app = create_app(simulator_config(extra=extra))
    try:
        with served(app) as url:
            yield url
    finally:
        asyncio.run(hooks.aclose())


@pytest.fixture
def api(base_url: str) -> arlulacore.ArlulaAPI:
    return arlulacore.ArlulaAPI(arlulacore.Session(DEMO_KEY, DEMO_SECRET, url=base_url))


def search(api: arlulacore.ArlulaAPI, supplier: str) -> list[arlulacore.SearchResult]:
    request = arlulacore.SearchRequest(start=date(2019, 1, 1), end=date(2026, 12, 31), gsd=100)
    request.set_area_of_interest(**HELSINKI).set_supplier(supplier)
    response = api.archiveAPI().search(request)
    assert response.errors == [] and response.results
    return list(response.results)


def wait_complete(api: arlulacore.ArlulaAPI, order_id: str) -> arlulacore.Order:
    for _ in range(100):
        order = api.ordersAPI().get_order(order_id)
        if order.status == "complete":
            return order
        time.sleep(0.05)
    raise AssertionError("order never completed")


def test_sdk_search_order_download(
    api: arlulacore.ArlulaAPI, tmp_path: Path, webhooks: list[dict[str, Any]]
) -> None:
    result = search(api, "maxar")[0]
    license, bundle = result.licenses[1], result.bundles[1]
    price = result.calculate_price(license.href, bundle.key)
    request = arlulacore.ArchiveOrderRequest(
        id=result.ordering_id,
        license=license,
        bundle=bundle,
        webhooks=["https://hooks.example/arlula"],
        emails=[],
    )
    order = api.archiveAPI().order(request)
    assert order.status == "pending" and order.total == price
    done = wait_complete(api, order.id)
    dataset = done.datasets[0]
    assert dataset.scene_id == result.scene_id and dataset.bundle == bundle.key
    assert dataset.eula == license.href and dataset.expiration is not None
    tif = next(r for r in dataset.resources if r.type == "img_tiff")
    orders = api.ordersAPI()
    with orders.download_resource_as_file(tif, directory=str(tmp_path), suppress=True) as f:
        data = f.read()
    assert (tmp_path / tif.name).is_file() and len(data) == tif.size
    assert orders.download_resource_as_memory(tif.id) == data
    with MemoryFile(data) as mem, mem.open() as ds:
        assert ds.count == 4  # the multispectral bundle
        west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    xs = [p[0] for p in result.bounding[0]]
    ys = [p[1] for p in result.bounding[0]]
    assert west <= min(xs) and south <= min(ys) and east >= max(xs) and north >= max(ys)
    assert orders.get_dataset(dataset.id).resources[0].id == tif.id
    assert orders.get_resource(tif.id).checksum == tif.checksum
    listed = orders.list_orders(arlulacore.ListRequest(page=0, size=10))
    assert listed.count == 1 and listed.content[0].id == order.id
    assert orders.list_datasets().content[0].ordering_id == result.ordering_id
    assert orders.list_order_datasets(order.id).content[0].id == dataset.id
    for _ in range(100):
        if webhooks:
            break
        time.sleep(0.02)
    assert len(webhooks) == 1 and webhooks[0]["event"] == "archive.order.complete"
    assert webhooks[0]["payload"]["id"] == order.id


def test_sdk_errors(api: arlulacore.ArlulaAPI, base_url: str) -> None:
    with pytest.raises(arlulacore.ArlulaSessionError):
        arlulacore.Session(DEMO_KEY, "wrong", url=base_url)
    result = search(api, "siis")[0]
    bad = arlulacore.ArchiveOrderRequest(
        id=result.ordering_id, license=result.licenses[0], bundle="nope", webhooks=[], emails=[]
    )
    with pytest.raises(arlulacore.ArlulaAPIException, match=r"^422: "):
        api.archiveAPI().order(bad)
    with pytest.raises(arlulacore.ArlulaAPIException, match=r"^404: "):
        api.ordersAPI().get_order("00000000-0000-0000-0000-000000000000")


def test_sdk_search_sorted_as_asked(api: arlulacore.ArlulaAPI) -> None:
    # arlulacore's own search request, with its sort definition, run unmodified.
    request = arlulacore.SearchRequest(start=date(2019, 1, 1), end=date(2026, 12, 31), gsd=100)
    request.set_area_of_interest(**HELSINKI).set_maximum_cloud_cover(50)
    request.set_sort_definition(SortDefinition(arlulacore.ArchiveSearchSortFields.gsd, True))
    response = api.archiveAPI().search(request)
    gsds = [r.gsd for r in response.results]
    assert response.errors == [] and len(gsds) > 10 and gsds == sorted(gsds)
    assert all(r.cloud <= 50 for r in response.results)


def test_sdk_batch_order(api: arlulacore.ArlulaAPI) -> None:
    # As arlulacore's tests/test_archive.py test_order_batch_success: one order, N datasets.
    first, second = search(api, "maxar")[0], search(api, "siis")[0]
    batch = arlulacore.ArchiveBatchOrderRequest(
        orders=[
            arlulacore.ArchiveOrderRequest(first.ordering_id, first.licenses[0], first.bundles[0])
        ]
    )
    batch.add_order(
        arlulacore.ArchiveOrderRequest(second.ordering_id, second.licenses[0], second.bundles[0])
    )
    order = api.archiveAPI().batch_order(batch)
    assert len(order.datasets) == 2
    assert [d.scene_id for d in order.datasets] == [first.scene_id, second.scene_id]
    assert order.total == sum(d.total for d in order.datasets)
    done = wait_complete(api, order.id)
    assert all(d.resources for d in done.datasets)
    listed = api.ordersAPI().list_order_datasets(order.id)
    assert {d.id for d in listed.content} == {d.id for d in order.datasets}


def test_sdk_tasking_search_order_and_campaign_delivery(
    api: arlulacore.ArlulaAPI, tmp_path: Path, webhooks: list[dict[str, Any]]
) -> None:
    # arlulacore's TaskingAPI, TaskingSearchRequest and TaskingOrderRequest, unmodified.
    now = datetime.now(UTC)
    request = arlulacore.TaskingSearchRequest(
        start=now + timedelta(days=1), end=now + timedelta(days=8), gsd=1.0, off_nadir=30
    )
    request.set_area_of_interest(north=60.22, south=60.12, east=25.05, west=24.85)
    found = api.taskingAPI().search(request)
    assert found.failures == []
    result = next(r for r in found.results if r.supplier == "maxar")
    assert result.metrics.orderArea >= result.metrics.moq and result.platforms
    license, bundle = result.licenses[2], result.bundles[1]
    priority, cloud = result.priorities[1], result.clouds[1]
    price = calculate_price(
        bundle.price,
        license.loading_percent,
        license.loading_amount,
        cloud.loadingPercent,
        cloud.loadingAmount,
        priority.loadingPercent,
        priority.loadingAmount,
    )
    order = api.taskingAPI().order(
        arlulacore.TaskingOrderRequest(
            id=result.ordering_id,
            license=license,
            bundle=bundle,
            priority=priority,
            cloud=cloud.max,  # the SDK's get_cloud passes a CloudLevel through unencoded
            webhooks=["https://hooks.example/arlula"],
            emails=[],
        )
    )
    assert order.total == price and len(order.campaigns) == 1
    campaign = order.campaigns[0]
    assert campaign.priority == priority.key and campaign.cloud == cloud.max
    orders = api.ordersAPI()
    for _ in range(100):
        campaign = orders.get_campaign(campaign.id)
        if campaign.status == "complete":
            break
        time.sleep(0.05)
    assert campaign.status == "complete" and len(campaign.datasets) == 1
    assert orders.list_campaigns().content[0].id == campaign.id
    assert orders.list_order_campaigns(order.id).content[0].id == campaign.id
    dataset = orders.list_campaign_datasets(campaign.id).content[0]
    assert dataset.supplier == "maxar" and dataset.bundle == bundle.key
    tif = next(r for r in orders.get_dataset(dataset.id).resources if r.type == "img_tiff")
    with orders.download_resource_as_file(tif, directory=str(tmp_path), suppress=True) as f:
        assert f.read()[:4] in (b"II*\x00", b"MM\x00*")
    for _ in range(100):
        if webhooks:
            break
        time.sleep(0.02)
    assert [w["payload"]["id"] for w in webhooks] == [order.id]


def test_sdk_tasking_batch_order(api: arlulacore.ArlulaAPI) -> None:
    now = datetime.now(UTC)
    request = arlulacore.TaskingSearchRequest(
        start=now + timedelta(days=2), end=now + timedelta(days=9), gsd=1.0, off_nadir=25
    )
    request.set_point_of_interest(lat=60.17, long=24.94)
    results = api.taskingAPI().search(request).results[:2]
    orders = [
        arlulacore.TaskingOrderRequest(
            id=r.ordering_id,
            license=r.licenses[0],
            bundle=r.bundles[0],
            priority=r.priorities[0],
            cloud=r.clouds[0].max,
            webhooks=[],
            emails=[],
        )
        for r in results
    ]
    batch = arlulacore.TaskingBatchOrderRequest(orders=orders, webhooks=[], emails=[])
    order = api.taskingAPI().batch_order(batch)
    assert sorted(c.ordering_id for c in order.campaigns) == sorted(r.ordering_id for r in results)
    assert order.total == sum(c.total for c in order.campaigns)
