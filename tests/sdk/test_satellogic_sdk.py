"""Satellogic's practical clients against the simulator over real HTTP.

Satellogic publishes no SDK. Its archive is a STAC API that ``pystac-client`` reads with
the two Aleph headers, and its Orders API documentation's "Python Examples" drive
``/v2/orders/`` with plain ``requests``; Telluric raster urls are read by GDAL
(``/vsicurl/``, with Range requests) without any auth header. This test does exactly that
against the simulator served by uvicorn on a loopback port: search, order, follow the
order to completion, list the sceneset, read the delivered COG remotely.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import rasterio
import requests
from pystac_client import Client

from bridge.simulators.satellogic import create_app, sandbox_settings
from tests.support.serve import served as serve_app
from tests.support.wiring import simulator_config

NEAR_HELSINKI = [24.0, 59.8, 26.0, 60.6]
STEP_S = 0.2


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The simulator on a loopback port (uvicorn in a thread)."""
    app = create_app(simulator_config(extra={"satellogic_order_step_s": STEP_S}))
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def headers(served: str) -> dict[str, str]:
    settings = sandbox_settings(served)
    body = {
        "client_id": settings["client_id"],
        "client_secret": settings["client_secret"],
        "audience": "https://api.satellogic.com/",
        "grant_type": "client_credentials",
    }
    token = requests.post(settings["auth_url"], json=body, timeout=10).json()["access_token"]
    return {
        "authorizationToken": f"Bearer {token}",
        "X-Satellogic-Contract-Id": settings["contract_id"],
    }


def _get(served: str, path: str, headers: dict[str, str], **params: str) -> Any:
    response = requests.get(f"{served}{path}", headers=headers, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def test_search_order_and_read_the_delivery_remotely(served: str, headers: dict[str, str]) -> None:
    catalog = Client.open(f"{served}/archive/stac/", headers=headers)
    search = catalog.search(collections=["l1d"], bbox=NEAR_HELSINKI, max_items=5)
    items = list(search.items())
    assert items, "the Helsinki cluster has L1D tiles"
    item = items[0]
    # as the docs' archive example downloads preview: with the API headers
    thumbnail = requests.get(item.assets["thumbnail"].href, headers=headers, timeout=10)
    assert thumbnail.status_code == 200 and thumbnail.content.startswith(b"\x89PNG")

    feature: dict[str, Any] = {
        "type": "Feature",
        "geometry": item.geometry,
        "properties": {
            "sku": "ARCIMG-M.04.00",
            "name": "python example",
            "parameters": {"outcome_id": item.properties["satl:outcome_id"]},
        },
    }
    created = requests.post(f"{served}/v2/orders/", json=feature, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    order_id = created.json()["properties"]["order_id"]
    listed = _get(served, "/v2/orders/", headers)
    assert [f["properties"]["order_id"] for f in listed["features"]] == [order_id]

    deadline = time.monotonic() + 20
    while _get(served, f"/v2/orders/{order_id}", headers)["properties"]["status"] != "completed":
        assert time.monotonic() < deadline, "the order never completed"
        time.sleep(STEP_S / 2)
    deliverables = _get(served, "/v2/deliverables", headers, order_id=order_id)["results"]
    scenes = _get(served, "/telluric/scenes/", headers, sceneset_id=deliverables[0]["sceneset_id"])
    raster = scenes["results"][0]["rasters"][0]

    # pystac migrates projection v1.0 fields on read (proj:epsg -> proj:code)
    analytic = item.assets["analytic"].extra_fields
    epsg = analytic.get("proj:epsg") or int(str(analytic["proj:code"]).removeprefix("EPSG:"))
    with (
        rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="0"),
        rasterio.open(f"/vsicurl/{raster['url']}") as ds,
    ):
        assert ds.crs.to_epsg() == epsg
        assert [ds.height, ds.width] == analytic["proj:shape"]
        assert list(ds.transform)[:6] == pytest.approx(analytic["proj:transform"])
        assert ds.count == 4 and ds.overviews(1)
        assert ds.read(1, out_shape=(ds.height // 2, ds.width // 2)).std() > 0
