"""An app built by the production factory over in-memory providers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bridge.app import create_app
from bridge.catalog import Catalog
from bridge.settings import Settings
from tests.support.fake_provider import FakeProvider, fake_providers
from tests.support.wiring import fixed_wiring


def fake_catalog(providers: dict[str, FakeProvider]) -> Catalog:
    by_provider = {
        name: {
            cid: {
                "type": "Collection",
                "stac_version": "1.1.0",
                "id": cid,
                "title": cid,
                "description": f"{cid} test collection",
                "license": "proprietary",
                "extent": {
                    "spatial": {"bbox": [[-180, -90, 180, 90]]},
                    "temporal": {"interval": [["2019-01-01T00:00:00Z", None]]},
                },
                "links": [{"rel": "license", "href": "https://example.com/terms"}],
                "summaries": {"gsd": {"minimum": 0, "maximum": 6}},
            }
            for cid in sorted(p.collection_ids)
        }
        for name, p in providers.items()
    }
    return Catalog(by_provider)


@pytest.fixture
def providers() -> dict[str, FakeProvider]:
    return fake_providers()


@pytest.fixture
async def client(providers: dict[str, FakeProvider]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), wiring=fixed_wiring(providers, fake_catalog(providers)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as c:
        yield c
