"""The bridge over a Capella that answers what no source pins down: unknown enum values,
extra fields, unexpected shapes. Built by the production factory; Capella's answers come
from an ``httpx.MockTransport`` (the transport is the seam)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

from bridge.app import create_app
from bridge.catalog import Catalog, load_catalog
from bridge.core.contract import Provider
from bridge.providers import capella as capella_provider
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings, Settings
from bridge.simulators.capella.archive import build_archive
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import fake_providers
from tests.support.wiring import COLLECTIONS, TEST_SCENES, TEST_SEED, fixed_wiring

Handler = Callable[[httpx.Request], httpx.Response]


def geo_record() -> dict[str, Any]:
    archive = build_archive(TEST_SEED, TEST_SCENES)
    native = next(i for i in archive.items if i["collection"] == "capella-geo")
    return copy.deepcopy(native)


def page(features: Any) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"type": "FeatureCollection", "numberMatched": 1, "features": features,
                "links": []}  # fmt: skip
        return httpx.Response(200, content=orjson.dumps(body))

    return handler


def capella(handler: Handler) -> Provider:
    catalog = load_catalog(COLLECTIONS, providers=["capella"])
    context = ProviderContext(
        name="capella",
        settings=ProviderSettings(base_url="http://capella.mock", api_key="k"),
        collections=catalog.by_provider["capella"],
        transport=httpx.MockTransport(handler),
    )
    return capella_provider.create_provider(context)


async def bridge(handler: Handler) -> AsyncIterator[httpx.AsyncClient]:
    fakes = fake_providers({"alpha": 5})
    providers: dict[str, Provider] = {"capella": capella(handler), **fakes}
    docs = load_catalog(COLLECTIONS, providers=["capella"]).by_provider
    catalog = Catalog({**docs, **fake_catalog(fakes).by_provider})
    app = create_app(Settings(), wiring=fixed_wiring(providers, catalog))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as c:
        yield c
    await providers["capella"].aclose()


async def test_unknown_enum_values_and_extra_fields_pass_through() -> None:
    record = geo_record()
    props = record["properties"]
    props.update(
        {
            "sar:instrument_mode": "spotlight_wide_mystery",
            "sat:orbit_state": "sideways",
            "capella:collection_type": "brand_new_type",
            "sar:polarizations": ["HH", "XX"],
            "vendor_flag": True,
            "nested": {"depth": [1, 2]},
            "capella:new_field": "kept",
        }
    )
    record["extra_top"] = {"x": 1}
    record["assets"] = {"HH": {"href": "http://capella.mock/a.tif", "odd": 1}}
    async for client in bridge(page([record])):
        response = await client.get("/search", params={"collections": "capella-geo"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["bridge:providers"]["capella"]["status"] == "ok"
        [item] = body["features"]
        out = item["properties"]
        assert out["sar:instrument_mode"] == "spotlight_wide_mystery"
        assert out["sat:orbit_state"] == "sideways"
        assert out["capella:collection_type"] == "brand_new_type"
        assert out["capella:vendor_flag"] is True
        assert out["capella:nested"] == {"depth": [1, 2]}
        assert out["capella:new_field"] == "kept"
        assert "vendor_flag" not in out and "nested" not in out


@pytest.mark.parametrize(
    "features",
    [
        "not a list",
        [{"id": "x"}],  # no properties
        [{"id": "x", "properties": [], "geometry": None}],
        [{"id": "x", "properties": {}, "geometry": {"type": "Polygon", "coordinates": "z"}}],
        [{"id": 7, "properties": {"datetime": 12}, "geometry": None}],
    ],
)
async def test_unexpected_shapes_are_a_capella_error_never_a_500(features: Any) -> None:
    async for client in bridge(page(features)):
        response = await client.get("/search", params={"limit": 20})
        assert response.status_code == 200, response.text
        body = response.json()
        status = body["bridge:providers"]["capella"]
        assert status["status"] == "error" and status["message"].startswith("capella:")
        assert body["bridge:providers"]["alpha"]["status"] == "ok"
        assert {f["collection"] for f in body["features"]} <= {"alpha-a", "alpha-b"}
