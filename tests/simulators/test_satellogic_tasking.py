"""The Satellogic simulator's V1 tasking: paths, validation, statuses over time, cancel rules,
prices, and delivered captures found by the archive search and downloadable via Telluric."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bridge.simulators.common.app import SimulatorConfig
from bridge.simulators.satellogic import create_app, sandbox_settings
from bridge.simulators.satellogic.auth import QUICKVIEW_CONTRACT_ID
from tests.support import wiring
from tests.support.clock import ManualClock

BASE = "http://satellogic.test"
SETTINGS = sandbox_settings(BASE)
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
STEP = 10.0
ORDER_STEP = 5.0
DONE_AFTER = 2 * STEP + 2 * ORDER_STEP
POI = {"type": "Point", "coordinates": [-58.3816, -34.6037]}
AOI = {
    "type": "Polygon",
    "coordinates": [[[-58.44, -34.64], [-58.36, -34.64], [-58.36, -34.58], [-58.44, -34.58],
                     [-58.44, -34.64]]],
}  # fmt: skip


def _config(**extra: Any) -> SimulatorConfig:
    base = {"satellogic_task_step_s": STEP, "satellogic_order_step_s": ORDER_STEP}
    return wiring.simulator_config(extra={**base, **extra}, clock=ManualClock(NOW))


def _clock(app: Starlette) -> ManualClock:
    clock: ManualClock = app.state.config.clock
    return clock


@pytest.fixture
def app() -> Starlette:
    return create_app(_config())


@asynccontextmanager
async def _client(app: Starlette, contract: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the simulator carrying the gateway headers of ``contract``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        c.headers.update(await _headers(c, contract))
        yield c


async def _headers(client: httpx.AsyncClient, contract: str | None) -> dict[str, str]:
    body = {
        "client_id": SETTINGS["client_id"],
        "client_secret": SETTINGS["client_secret"],
        "audience": "https://api.satellogic.com/",
        "grant_type": "client_credentials",
    }
    token = (await client.post("/oauth/token", json=body)).json()["access_token"]
    return {
        "authorizationToken": f"Bearer {token}",
        "X-Satellogic-Contract-Id": contract or SETTINGS["contract_id"],
    }


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as c:
        yield c


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _task(**over: Any) -> dict[str, Any]:
    body = {
        "task_name": "Obelisco",
        "project_name": "Buenos Aires",
        "product": 169,
        "target": POI,
        "start": _iso(NOW),
        "end": _iso(NOW + 14 * 86400),
    }
    return {**body, **over}


async def test_products_are_listed_per_contract(app: Starlette, client: httpx.AsyncClient) -> None:
    r = await client.get("/tasking/products/")
    assert r.status_code == 200
    assert r.json()["results"] == [
        {"pk": 169, "name": "Multispectral 70cm", "is_area": False},
        {"pk": 178, "name": "Area Coverage 70cm", "is_area": True},
    ]
    async with _client(app, QUICKVIEW_CONTRACT_ID) as other:
        assert (await other.get("/tasking/products/")).json()["count"] == 0
        refused = await other.post("/tasking/tasks/", json=_task())
        assert refused.status_code == 400 and "product" in refused.json()


async def test_tasking_needs_the_gateway_headers(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as bare:
        assert (await bare.post("/tasking/tasks/", json=_task())).status_code == 401
        assert (await bare.get("/tasking/tasks/1")).status_code == 401


async def test_create_answers_received_with_the_documented_fields(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    r = await client.post("/tasking/tasks/", json=_task())
    assert r.status_code == 201
    task = r.json()
    assert task["status"] == "received" and isinstance(task["task_id"], int)
    assert task["target"] == {"type": "Point", "coordinates": [-58.3816, -34.6037, 0.0]}
    assert task["start"] == "2026-01-01T00:00:00Z" and task["end"] == "2026-01-15T00:00:00Z"
    for name in ("task_name", "project_name", "product", "priority", "client", "created_time"):
        assert name in task
    again = await client.get(f"/tasking/tasks/{task['task_id']}")
    assert again.json() == task
    assert (await client.get("/tasking/tasks/999999")).status_code == 404
    assert (await client.get("/tasking/tasks/abc")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in _task().items() if k != "task_name"}, "task_name"),
        (_task(product=999), "product"),
        (_task(product="169"), "product"),
        (_task(target=AOI), "target"),
        (_task(product=178, target=POI), "target"),
        (_task(target={"type": "Point", "coordinates": [200, 0]}), "target"),
        (_task(start="yesterday"), "start"),
        (_task(end=_iso(NOW - 60)), "end"),
        (_task(start=_iso(NOW + 86400), end=_iso(NOW + 3600)), "end"),
        (
            _task(
                product=178,
                target={
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
                },
            ),
            "target",
        ),
    ],
)
async def test_bad_tasks_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/tasking/tasks/", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()
    assert (await client.get("/tasking/tasks/")).json()["count"] == 0


async def test_a_task_moves_to_completed_and_delivers_a_capture(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    task_id = (await client.post("/tasking/tasks/", json=_task())).json()["task_id"]
    assert (await client.get(f"/tasking/tasks/{task_id}/captures/")).json()["count"] == 0
    _clock(app).now += STEP
    assert (await client.get(f"/tasking/tasks/{task_id}")).json()["status"] == "in_progress"
    planned = (await client.get(f"/tasking/tasks/{task_id}/captures/")).json()["results"]
    assert [c["status"] for c in planned] == ["planned"]
    capture_id = planned[0]["capture_id"]
    _clock(app).now += STEP
    captures = (await client.get(f"/tasking/tasks/{task_id}/captures/")).json()["results"]
    assert captures[0]["status"] == "processing"
    search = {"query": {"satl:outcome_id": {"eq": capture_id}}, "limit": 100}
    found = (await client.post("/archive/stac/search", json=search)).json()
    assert found["numberMatched"] == 0  # not in the archive before it is published
    _clock(app).now += 2 * ORDER_STEP
    assert (await client.get(f"/tasking/tasks/{task_id}")).json()["status"] == "completed"
    captures = (await client.get(f"/tasking/tasks/{task_id}/captures/")).json()["results"]
    assert captures[0] == {**captures[0], "capture_id": capture_id, "status": "published"}

    found = (await client.post("/archive/stac/search", json=search)).json()
    collections = {f["collection"] for f in found["features"]}
    assert {"quickview-visual", "l1d"} <= collections
    tile = next(f for f in found["features"] if f["collection"] == "l1d")
    assert tile["bbox"][0] <= POI["coordinates"][0] + 0.05  # captured over the target
    item = await client.get(f"/archive/stac/collections/l1d/items/{tile['id']}")
    assert item.status_code == 200

    orders = (await client.get(f"/v2/orders/?task_id={task_id}")).json()
    assert orders["count"] == 1
    props = orders["features"][0]["properties"]
    assert props["sku"] == "TSKPOI-M" and props["status"] == "completed"
    assert props["parameters"] == {"outcome_id": capture_id, "task_id": task_id}
    assert props["price"] == {"amount": "375.00", "currency": "USD"}  # 25 km² x 15 USD

    scenes = (await client.get(f"/telluric/scenes/?sceneset_id={capture_id}")).json()
    assert scenes["count"] == 1
    raster = scenes["results"][0]["rasters"][0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE
    ) as anonymous:  # tokenized urls need no headers (seed 004)
        data = await anonymous.get(raster["url"])
    assert data.status_code == 200 and data.content[:4] in (b"II*\x00", b"MM\x00*")


async def test_an_area_task_is_priced_by_its_area(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    r = await client.post("/tasking/tasks/", json=_task(product=178, target=AOI))
    assert r.status_code == 201 and r.json()["target"]["type"] == "Polygon"
    _clock(app).now += DONE_AFTER
    order = (await client.get(f"/v2/orders/?task_id={r.json()['task_id']}")).json()
    props = order["features"][0]["properties"]
    assert props["sku"] == "TSKARE-M"
    area = props["quantity"]["value"]
    assert 45 < area < 52  # ~7.3 km x 6.7 km, above the 25 km² minimum
    assert props["price"]["amount"] == f"{round(area, 4) * 10:.2f}"
    products = (await client.get("/v2/products/")).json()["results"]
    prices = {p["sku"]: p["price_per_unit"]["amount"] for p in products}
    assert prices["TSKPOI-M"] == "15.00" and prices["TSKARE-M"] == "10.00"


async def test_rejections_and_failures_at_configured_rates() -> None:
    for rates, word, reason in (
        ({"satellogic_task_reject_rate": 1.0}, "rejected", "feasible"),
        ({"satellogic_task_fail_rate": 1.0}, "failed", "usable"),
    ):
        app = create_app(_config(**rates))
        async with _client(app) as client:
            task_id = (await client.post("/tasking/tasks/", json=_task())).json()["task_id"]
            _clock(app).now += DONE_AFTER + 100
            task = (await client.get(f"/tasking/tasks/{task_id}")).json()
            assert task["status"] == word and reason in task["status_reason"]
            assert (await client.get(f"/v2/orders/?task_id={task_id}")).json()["count"] == 0


async def test_cancel_only_before_the_capture(app: Starlette, client: httpx.AsyncClient) -> None:
    first = (await client.post("/tasking/tasks/", json=_task())).json()["task_id"]
    second = (await client.post("/tasking/tasks/", json=_task(task_name="b"))).json()["task_id"]
    canceled = await client.post(f"/tasking/tasks/{first}/cancel/")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    _clock(app).now += 2 * STEP
    late = await client.post(f"/tasking/tasks/{second}/cancel/")
    assert late.status_code == 400 and "capture" in late.json()["detail"]
    _clock(app).now += DONE_AFTER
    assert (await client.get(f"/tasking/tasks/{first}")).json()["status"] == "canceled"
    assert (await client.get(f"/tasking/tasks/{second}")).json()["status"] == "completed"
    again = await client.post(f"/tasking/tasks/{second}/cancel/")
    assert again.status_code == 400 and "completed" in again.json()["detail"]
    assert (await client.get(f"/v2/orders/?task_id={first}")).json()["count"] == 0


async def test_list_filters_and_contract_isolation(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    for name in ("a", "b", "a"):
        await client.post("/tasking/tasks/", json=_task(task_name=name))
    listed = (await client.get("/tasking/tasks/?task_name=a")).json()
    assert listed["count"] == 2 and {t["task_name"] for t in listed["results"]} == {"a"}
    page = (await client.get("/tasking/tasks/?limit=1")).json()
    assert len(page["results"]) == 1 and page["next"] is not None
    odd = "a b&c=d"
    for _ in range(2):
        await client.post("/tasking/tasks/", json=_task(task_name=odd))
    first = (await client.get("/tasking/tasks/", params={"task_name": odd, "limit": 1})).json()
    assert first["count"] == 2 and first["next"] is not None
    second = (await client.get(first["next"])).json()  # the filter survives the link
    assert [t["task_name"] for t in second["results"]] == [odd] and second["next"] is None
    assert (await client.get("/tasking/tasks/?status=completed")).json()["count"] == 0
    async with _client(app, QUICKVIEW_CONTRACT_ID) as other:
        assert (await other.get("/tasking/tasks/")).json()["count"] == 0
        task_id = listed["results"][0]["task_id"]
        assert (await other.get(f"/tasking/tasks/{task_id}")).status_code == 404


def test_settings_are_typed_and_prefixed() -> None:
    with pytest.raises(ValueError, match="task_stepp_s"):
        create_app(_config(satellogic_task_stepp_s=1.0))
    with pytest.raises(ValueError, match="invalid"):
        create_app(_config(satellogic_task_reject_rate=2.0))


async def test_tokens_expire_on_the_simulator_clock(app: Starlette) -> None:
    async with _client(app) as client:
        assert (await client.get("/tasking/products/")).status_code == 200
        _clock(app).now += 86400 + 1
        assert (await client.get("/tasking/products/")).status_code == 401


async def test_sandbox_defaults_complete_a_task_within_seconds() -> None:
    app = create_app(wiring.simulator_config(clock=ManualClock(NOW)))
    async with _client(app) as client:
        task_id = (await client.post("/tasking/tasks/", json=_task())).json()["task_id"]
        seen = []
        for _ in range(20):  # one simulated second at a time
            status = (await client.get(f"/tasking/tasks/{task_id}")).json()["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            _clock(app).now += 1
        assert seen == ["received", "in_progress", "completed"]
