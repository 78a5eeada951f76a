"""Where sources are silent the Arlula adapter is tolerant: new fields and enum values in a
real answer pass through under ``arlula:``; an answer of an unexpected shape is a
per-provider error (``ProviderBadResponse``), never a crash.

The simulator's real answers are altered in flight by a transport wrapping it, so each
test starts from what the simulator says and changes one thing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from bridge.catalog import load_catalog
from bridge.core.query import build_query
from bridge.errors import ProviderBadResponse
from bridge.providers.arlula import ArlulaProvider
from bridge.providers.arlula.order_mapping import order_from_2023
from bridge.providers.base import ProviderContext
from bridge.settings import ProviderSettings
from bridge.simulators.arlula import DEMO_KEY, DEMO_SECRET, create_app
from tests.support.wiring import COLLECTIONS, simulator_config

HELSINKI = [24.5, 60.0, 25.5, 60.4]
TWO_YEARS = "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z"
Alter = Callable[[Any], Any]


class Altering(httpx.AsyncBaseTransport):
    """The simulator, with the JSON body of every search answer passed through ``alter``."""

    def __init__(self, alter: Alter) -> None:
        self.inner = httpx.ASGITransport(app=create_app(simulator_config()))
        self.alter = alter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/search"):
            return response
        body = orjson.loads(await response.aread())
        return httpx.Response(response.status_code, content=orjson.dumps(self.alter(body)))


def provider(alter: Alter, version: str = "2023-01") -> ArlulaProvider:
    collections = load_catalog(COLLECTIONS, providers=["arlula"]).by_provider["arlula"]
    settings = ProviderSettings(
        base_url="http://arlula.test",
        api_version=version,
        api_key=SecretStr(DEMO_KEY),
        api_secret=SecretStr(DEMO_SECRET),
    )
    return ArlulaProvider(ProviderContext("arlula", settings, collections, Altering(alter)))


def each_result(change: Callable[[dict[str, Any]], None]) -> Alter:
    def alter(body: Any) -> Any:
        for record in body["results"] if isinstance(body, dict) else body:
            change(record)
        return body

    return alter


async def items(p: ArlulaProvider) -> list[dict[str, Any]]:
    page = await p.search(build_query(bbox=HELSINKI, datetime=TWO_YEARS), None, 500)
    await p.aclose()
    return page.items


@pytest.mark.parametrize("version", ["2023-01", "2020-12"])
async def test_new_fields_pass_through_under_the_prefix(version: str) -> None:
    def change(record: dict[str, Any]) -> None:
        record["providerNote"] = {"tier": "gold"}
        record["sceneID"] = record["sceneID"]  # known fields stay as they were

    found = await items(provider(each_result(change), version))
    assert found and all(i["properties"]["arlula:providerNote"] == {"tier": "gold"} for i in found)


async def test_envelope_extras_and_unknown_state_are_tolerated() -> None:
    def alter(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "state": "partial-new-state", "meta": {"took": 12}, "warnings": ["w"]}

    assert await items(provider(alter))


async def test_unknown_enum_values_and_missing_optionals_never_crash() -> None:
    def change(record: dict[str, Any]) -> None:
        record["platform"] = "Pléiades Neo 7"  # not in the platform table
        record["supplier"] = "newsupplier"  # a supplier the adapter never heard of
        record["annotations"] = ["XXXX: an annotation code nobody documented"]
        record["cloud"] = None
        del record["offNadir"]

    found = await items(provider(each_result(change)))
    assert found
    props = found[0]["properties"]
    assert props["platform"] == "pléiades-neo-7" and props["arlula:supplier"] == "newsupplier"
    assert "eo:cloud_cover" not in props and "view:off_nadir" not in props


@pytest.mark.parametrize(
    "alter",
    [
        lambda body: body["results"],  # a bare list where the envelope belongs
        lambda body: {**body, "results": {"0": body["results"][0]}},  # an object, not a list
        lambda body: {**body, "results": ["scene-1", 3]},  # not result objects
        each_result(lambda r: r.update(center="60N 25E")),
        each_result(lambda r: r.pop("date")),
    ],
)
async def test_unexpected_shapes_are_a_provider_error(alter: Alter) -> None:
    p = provider(alter)
    try:
        with pytest.raises(ProviderBadResponse):
            await p.search(build_query(bbox=HELSINKI, datetime=TWO_YEARS), None, 500)
    finally:
        await p.aclose()


@pytest.mark.parametrize(
    ("status", "state"),
    [("pending-screen", "pending"), ("a-status-from-2027", "ordered"), ("complete", "succeeded")],
)
def test_order_statuses_known_and_unknown(status: str, state: str) -> None:
    # pending-screen: node SDK src/orders/status.ts; an unknown status is in progress, never
    # final, and extra fields of the order are no trouble.
    body = {"id": "o-1", "status": status, "total": 100, "datasets": [], "newField": [1]}
    order = order_from_2023(body)
    assert (order.state, order.native_status) == (state, status)
