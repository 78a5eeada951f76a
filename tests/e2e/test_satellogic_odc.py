"""Acceptance: odc-stac loads a Satellogic analytic asset through a live bridge, each of
its four bands by name, with the values of the COG the provider delivers.

The item's ``analytic`` asset declares STAC 1.1 ``bands`` (``eo:common_name`` etc.), so
``odc.stac.load(items, bands=["blue", "green", "red", "nir"])`` needs no band indexes;
GDAL reads the asset's bridge URL with the API key and follows the bridge's redirect to
the delivery. The expected pixels are read from the delivered COG itself."""

from __future__ import annotations

import time
from typing import Any

import httpx
import numpy as np
import odc.stac
import pystac
import pytest
import rasterio
from rasterio.io import MemoryFile

from tests.e2e.conftest import DEMO_KEY, LiveBridge

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
HELSINKI = [24.0, 59.8, 26.0, 60.6]
BANDS = ["blue", "green", "red", "nir"]


def _ordered_item(root: str) -> dict[str, Any]:
    body = {"collections": ["satellogic-l1d"], "bbox": HELSINKI, "limit": 1}
    found = httpx.post(root + "search", json=body, headers=AUTH, timeout=60).json()["features"]
    assert found, "the Helsinki cluster has L1D tiles"
    href = f"{root}collections/satellogic-l1d/items/{found[0]['id']}"
    placed = httpx.post(
        f"{href}/order", headers={**AUTH, "Idempotency-Key": "odc-stac"}, timeout=30
    )
    assert placed.status_code in (200, 201), placed.text
    deadline = time.monotonic() + 60
    order = placed.json()
    while order["status"] not in ("succeeded", "failed", "canceled"):
        assert time.monotonic() < deadline, order
        time.sleep(0.3)
        order = httpx.get(f"{root}orders/{order['id']}", headers=AUTH, timeout=30).json()
    assert order["status"] == "succeeded", order
    return dict(httpx.get(href, headers=AUTH, timeout=30).json())


# odc-geo 0.5 multiplies Affine transforms with ``*`` (pending deprecation in affine 3.x)
# and calls shapely.ops.transform (deprecated in shapely 2.2): third-party warnings.
@pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'shapely.ops.transform:DeprecationWarning")
def test_odc_stac_loads_the_analytic_bands_by_name(live_bridge: LiveBridge) -> None:
    item = pystac.Item.from_dict(_ordered_item(live_bridge.root))
    # only the analytic asset: the visual one would be read too, for nothing
    item.assets = {"analytic": item.assets["analytic"]}
    with rasterio.Env(
        GDAL_HTTP_HEADERS=f"Authorization: Bearer {DEMO_KEY}",
        GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR",
        GDAL_HTTP_MAX_RETRY="0",
    ):
        loaded = odc.stac.load([item], bands=BANDS)
    assert list(loaded.data_vars) == BANDS

    delivered = httpx.get(
        item.assets["analytic"].href, headers=AUTH, follow_redirects=True, timeout=60
    )
    assert delivered.status_code == 200
    with MemoryFile(delivered.content) as memory, memory.open() as cog:
        assert cog.count == 4
        expected = cog.read()
    for index, name in enumerate(BANDS):
        band = loaded[name]
        assert band.dtype == np.uint16 and band.attrs.get("nodata") == 0
        values = band.isel(time=0).values
        assert values.shape == expected[index].shape
        assert np.array_equal(values, expected[index]), name
        assert values.std() > 0
