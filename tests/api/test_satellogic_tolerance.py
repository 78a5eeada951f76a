"""Where sources are silent, the Satellogic adapter is tolerant: unknown fields and enum
values pass through a search (under the provider's namespace), and a native body of an
unexpected shape is a per-provider ``error`` in the search, never a 500.

The archive's answers are rewritten on their way to the adapter by an ``httpx`` transport
around the in-process simulator (the injectable seam; no patching)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from bridge.sandbox import in_process_sandbox
from bridge.settings import Settings
from tests.support.wiring import app_over, simulator_config

SEARCH = {"collections": "satellogic-l1d,capella-geo", "bbox": "24.0,59.8,26.0,60.6", "limit": 20}
Rewrite = Callable[[Any], Any]


class RewritingTransport(httpx.AsyncBaseTransport):
    """The simulator's transport, with archive search bodies passed through ``rewrite``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: Rewrite) -> None:
        self.inner = inner
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.startswith("/archive/stac/search"):
            return response
        await response.aread()
        body = self.rewrite(orjson.loads(response.content))
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.Response(response.status_code, content=content)


def _client(rewrite: Rewrite) -> httpx.AsyncClient:
    sandbox = in_process_sandbox(simulator_config(), names=["satellogic", "capella"])
    rewriting = RewritingTransport(sandbox.transports["satellogic"], rewrite)
    app = app_over(sandbox, Settings(), {"satellogic": rewriting})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b.test")


def _newer_archive(body: dict[str, Any]) -> dict[str, Any]:
    for feature in body["features"]:
        props = feature["properties"]
        props["satl:sharpness_score"] = 0.93
        props["sat:orbit_state"] = "sideways"
        props["satl:product_name"] = "L1D_FUTURE"
        props["nested"] = {"anything": [1, "two"]}
        feature["assets"]["cloud_mask"] = {"href": "https://x.example/m.tif", "roles": ["qa"]}
        feature["future_top_level"] = True
    return body


async def test_unknown_fields_and_values_pass_through_under_the_provider_namespace() -> None:
    async with _client(_newer_archive) as client:
        response = await client.get("/search", params=SEARCH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bridge:providers"]["satellogic"]["status"] == "ok"
    tiles = [f for f in body["features"] if f["collection"] == "satellogic-l1d"]
    assert tiles
    props = tiles[0]["properties"]
    assert props["satl:sharpness_score"] == 0.93
    assert props["satellogic:sat_orbit_state"] == "sideways"
    assert props["satellogic:nested"] == {"anything": [1, "two"]}
    assert props["product:type"] == "L1D_FUTURE"
    assert "sat:orbit_state" not in props
    assert "cloud_mask" in tiles[0]["assets"]


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda body: [],
        lambda body: {"features": "none"},
        lambda body: {**body, "features": [{"no": "id"}]},
        lambda body: {**body, "features": ["a string"]},
        lambda body: {**body, "links": 5},
        lambda body: {**body, "links": [{"rel": "next", "href": "https://elsewhere.example"}]},
        lambda body: b"<html>gateway timeout</html>",
    ],
    ids=["list", "features-str", "feature-no-id", "feature-str", "links-int", "foreign-next",
         "html"],
)  # fmt: skip
async def test_unexpected_shapes_are_a_per_provider_error(rewrite: Rewrite) -> None:
    async with _client(rewrite) as client:
        response = await client.get("/search", params=SEARCH)
    assert response.status_code == 200, response.text
    statuses = response.json()["bridge:providers"]
    assert statuses["satellogic"]["status"] == "error", statuses
    assert statuses["capella"]["status"] == "ok"
    assert response.json()["features"]
