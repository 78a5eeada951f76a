"""Satellogic archive quicklooks through the bridge: their URLs answer only with the
provider's API headers (docs archive-service "search by outcome id"), so the bridge fetches
them for the client — streamed, ``Range`` honoured — instead of redirecting to a 401."""

from __future__ import annotations

import httpx
import pytest

from bridge.simulators.common.faults import FaultSettings
from bridge.simulators.satellogic.archive import L1D, build_archive
from bridge.simulators.satellogic.auth import DEMO_CLIENT_SECRET
from tests.support.wiring import TEST_SCENES, TEST_SEED, sandbox_app

TILE = next(t for t in build_archive(TEST_SEED, TEST_SCENES).tiles if t.collection == L1D)
ASSET = f"/collections/satellogic-l1d/items/{TILE.id}/assets"


async def test_quicklooks_are_fetched_for_the_client_with_ranges() -> None:
    app, sims = sandbox_app()
    store = sims["satellogic"].state.downloads.archive_store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
        whole = await client.get(f"{ASSET}/thumbnail")
        assert whole.status_code == 200, whole.text
        assert "location" not in whole.headers
        assert whole.headers["content-type"] == "image/png"
        assert whole.content.startswith(b"\x89PNG")
        assert int(whole.headers["content-length"]) == len(whole.content)
        before = store.bytes_served
        part = await client.get(f"{ASSET}/preview", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100
        assert store.bytes_served - before == 100  # the range went on: no whole-file read
        assert part.headers["content-range"].startswith("bytes 0-99/")
        assert part.content.startswith(b"\x89PNG")
        head = await client.head(f"{ASSET}/preview")
        assert head.status_code == 200 and int(head.headers["content-length"]) > 100
        beyond = await client.get(f"{ASSET}/preview", headers={"Range": "bytes=99999999-"})
        assert beyond.status_code == 416
        # the provider's credentials never reach the client
        for response in (whole, part, head, beyond):
            text = str(response.headers) + response.text[:2000]
            assert "Bearer" not in text and DEMO_CLIENT_SECRET not in text
            assert "authorizationtoken" not in {k.lower() for k in response.headers}


async def test_a_failing_quicklook_store_is_a_provider_error_not_a_500() -> None:
    app, sims = sandbox_app()
    sims["satellogic"].state.faults.set(
        FaultSettings(error_rate=1.0, error_status=503, paths=["/archive/assets"])
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
        response = await client.get(f"{ASSET}/thumbnail")
    assert response.status_code in (502, 503), response.text
    assert "satellogic" in response.json()["description"]


@pytest.mark.parametrize("key", ["analytic"])
async def test_data_assets_still_need_an_order(key: str) -> None:
    app, _ = sandbox_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b.test") as client:
        assert (await client.get(f"{ASSET}/{key}")).status_code == 401
