"""Tasking through STAPI against a live sandbox (`bridge serve --sandbox`), per provider:
products, opportunities where advertised, an order with ``Idempotency-Key`` → 201, the
status reaching ``completed`` (approving the cost where the provider waits for it), the
statuses history, the delivered items found by ``/search`` as the tenant's succeeded
orders, and an asset GET ending in GeoTIFF bytes. Then exactly once across two bridge
processes on one PostgreSQL: 50 concurrent identical orders make one native task."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge import registry
from tests.e2e.conftest import DEMO_KEY, FAST_ORDERS, LiveBridge, start_bridge
from tests.e2e.test_service import joining

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
TASKING = [n for n in registry.provider_names() if registry.tasking_factory(n) is not None]
HELSINKI = {"type": "Point", "coordinates": [24.94, 60.17]}
OPPORTUNITIES = "https://stapi.example.com/v0.1.0/opportunities"
TERMINAL = {"completed", "rejected", "failed", "cancelled", "user_cancelled", "expired"}
TIFF = (b"II*\x00", b"MM\x00*")


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def request_body() -> dict[str, Any]:
    """A window opening in a minute and three days wide (every provider's rules allow it:
    ICEYE's at least 24 h and ending within 14 days), over Helsinki."""
    now = datetime.now(UTC)
    window = [_iso(now + timedelta(minutes=1)), _iso(now + timedelta(days=3))]
    return {"datetime": window, "geometry": HELSINKI}


def first_product(client: httpx.Client, provider: str) -> dict[str, Any]:
    listed = client.get("/tasking/products", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    mine = [p for p in listed.json()["products"] if p["id"].startswith(f"{provider}-")]
    assert mine, f"{provider} lists no tasking product"
    return dict(mine[0])


def wait_terminal(client: httpx.Client, order_id: str, timeout_s: float = 90) -> dict[str, Any]:
    """Poll the order until it ends, approving its cost if the provider waits for that."""
    deadline = time.monotonic() + timeout_s
    while True:
        order = client.get(f"/tasking/orders/{order_id}")
        assert order.status_code == 200, order.text
        body: dict[str, Any] = order.json()
        if body["properties"].get("bridge:awaiting_approval"):
            approved = client.post(f"/tasking/orders/{order_id}/approve")
            assert approved.status_code == 200, approved.text
        if body["properties"]["status"]["status_code"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"still {body['properties']['status']}"
        time.sleep(0.5)


def tiff_asset(item: dict[str, Any]) -> str:
    return next(
        key
        for key, asset in item["assets"].items()
        if "tiff" in asset.get("type", "") and "data" in asset.get("roles", [])
    )


@pytest.mark.parametrize("provider", TASKING)
def test_tasking_from_products_to_pixels(live_bridge: LiveBridge, provider: str) -> None:
    with httpx.Client(base_url=live_bridge.root, headers=AUTH, timeout=60) as client:
        product = first_product(client, provider)
        pid = product["id"]
        for part in ("queryables", "order-parameters"):
            schema = client.get(f"/tasking/products/{pid}/{part}")
            assert schema.status_code == 200 and schema.json()["type"] == "object", schema.text
        body = request_body()
        opportunities = client.post(f"/tasking/products/{pid}/opportunities", json=body)
        if OPPORTUNITIES in product.get("conformsTo", []):
            assert opportunities.status_code == 200, opportunities.text
            assert opportunities.json()["features"], "no opportunity over Helsinki"
        else:
            assert opportunities.status_code in (404, 405), opportunities.text

        key = {"Idempotency-Key": f"e2e-{provider}-{time.time_ns()}"}
        created = client.post(
            f"/tasking/products/{pid}/orders", json={**body, "order_parameters": {}}, headers=key
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assert created.headers["Location"].endswith(f"/tasking/orders/{order_id}")
        again = client.post(
            f"/tasking/products/{pid}/orders", json={**body, "order_parameters": {}}, headers=key
        )
        assert again.json()["id"] == order_id

        done = wait_terminal(client, order_id)
        assert done["properties"]["status"]["status_code"] == "completed", done["properties"]
        history = client.get(f"/tasking/orders/{order_id}/statuses").json()["statuses"]
        codes = [s["status_code"] for s in history]
        assert codes[0] == "received" and codes[-1] == "completed", codes
        assert all(s["timestamp"] for s in history)

        items = [link["href"] for link in done["links"] if link["rel"] == "item"]
        assert items, "the completed order links no delivered item"
        item = client.get(items[0]).json()
        assert item["properties"]["order:status"] == "succeeded"
        found = client.post(
            "/search", json={"collections": [item["collection"]], "ids": [item["id"]]}
        ).json()["features"]
        assert [f["properties"]["order:status"] for f in found] == ["succeeded"]
        pixels = client.get(f"{items[0]}/assets/{tiff_asset(item)}", follow_redirects=True)
        assert pixels.status_code == 200 and pixels.content[:4] in TIFF


def arlula_campaigns(bridge: LiveBridge) -> int:
    """Campaigns the Arlula simulator holds for the demo account (its own API)."""
    info = bridge.sandbox["providers"]["arlula"]
    creds = info["credentials"]
    answer = httpx.get(
        f"{info['base_url']}/api/campaigns",
        params={"page": 0, "size": 100},
        auth=(creds["api_key"], creds["api_secret"]),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


@pytest.mark.skipif("arlula" not in TASKING, reason="the check counts Arlula campaigns")
def test_fifty_identical_orders_on_two_processes_make_one_task(
    postgres_db: str, tmp_path: Path
) -> None:
    env = {"BRIDGE_DATABASE_URL": postgres_db, "BRIDGE_ORDER_CHECK_MIN_S": "0.2", **FAST_ORDERS}
    with start_bridge(tmp_path / "a.log", env) as a:
        second = {**joining(a, **env), "BRIDGE_SANDBOX_API_KEY": DEMO_KEY}
        with start_bridge(tmp_path / "b.log", second, "--sandbox") as b:
            before = arlula_campaigns(a)
            with httpx.Client(base_url=a.root, headers=AUTH, timeout=60) as probe:
                pid = first_product(probe, "arlula")["id"]
            body = {**request_body(), "order_parameters": {}}
            headers = {**AUTH, "Idempotency-Key": "fifty-at-once"}

            def order(n: int) -> tuple[int, str]:
                root = (a if n % 2 else b).root
                answer = httpx.post(
                    f"{root}tasking/products/{pid}/orders", json=body, headers=headers, timeout=120
                )
                return answer.status_code, answer.json().get("id", answer.text)

            with ThreadPoolExecutor(max_workers=50) as pool:
                answers = list(pool.map(order, range(50)))
            assert {status for status, _ in answers} == {201}, answers
            assert len({order_id for _, order_id in answers}) == 1
            assert arlula_campaigns(a) == before + 1
