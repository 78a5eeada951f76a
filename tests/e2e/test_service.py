"""The service across processes, through live ``bridge serve`` runs: a killed worker is
replaced, a paging token and the rate limits hold across processes sharing a database,
and one order poller per database."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.conftest import DEMO_KEY, FAST_ORDERS, LiveBridge, start_bridge
from tests.e2e.test_orders_e2e import AUTH, orderable_item, wait_succeeded

pytestmark = pytest.mark.e2e


def children(pid: int) -> dict[int, str]:
    """Child processes of ``pid`` and their command lines."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry)] = cmdline.decode(errors="replace")
    return found


def workers(bridge: LiveBridge) -> set[int]:
    assert bridge.pid is not None
    return {p for p, cmd in children(bridge.pid).items() if "spawn_main" in cmd}


def joining(bridge: LiveBridge, **env: str) -> dict[str, str]:
    """Settings of a second bridge on the first one's simulators and database."""
    urls = {n: info["base_url"] for n, info in bridge.sandbox["providers"].items()}
    return {
        "BRIDGE_SIMULATORS__URLS": orjson.dumps(urls).decode(),
        "BRIDGE_DATA_DIR": bridge.env["BRIDGE_DATA_DIR"],
        **env,
    }


def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(tmp_path: Path) -> None:
    with start_bridge(tmp_path / "serve.log", {}, "--sandbox", "--workers", "2") as bridge:
        deadline = time.monotonic() + 30
        while len(before := workers(bridge)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(before) == 2, children(bridge.pid or 0)
        simulators = [c for c in children(bridge.pid or 0).values() if "bridge.simulators" in c]
        assert len(simulators) == 1  # the simulators run in a process of their own
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses.append(httpx.get(bridge.root, timeout=10).status_code)
            now = workers(bridge)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.2)
        assert victim not in now and len(now) == 2, "the dead worker was not replaced"
        assert set(statuses) == {200}
        search = httpx.get(bridge.root + "search", params={"limit": 3}, timeout=60)
        assert search.status_code == 200 and len(search.json()["features"]) == 3


def test_token_and_rate_limit_hold_across_processes(tmp_path: Path) -> None:
    """No BRIDGE_TOKEN_SECRET: the key is generated once and kept in the shared database."""
    limits = {"BRIDGE_RATE_LIMITS__ENABLED": "true", "BRIDGE_RATE_LIMITS__PER_ADDRESS": "40/hour"}
    with (
        start_bridge(tmp_path / "a.log", limits) as a,
        start_bridge(tmp_path / "b.log", joining(a, **limits), "--sandbox") as b,
    ):
        params = {"bbox": "24.0,59.8,26.0,60.6", "limit": "4"}
        first = httpx.get(a.root + "search", params=params, timeout=60).json()
        [next_link] = [link for link in first["links"] if link["rel"] == "next"]
        on_a = httpx.get(next_link["href"], timeout=60)
        on_b = httpx.get(next_link["href"].replace(a.root, b.root), timeout=60)
        assert on_b.status_code == 200, on_b.text
        ids = [f["id"] for f in on_b.json()["features"]]
        assert ids == [f["id"] for f in on_a.json()["features"]] and len(ids) == 4

        answers = []
        for n in range(60):
            root = a.root if n % 2 else b.root
            answers.append(httpx.get(root + "collections", timeout=30))
            if answers[-1].status_code == 429:
                break
        refused = answers[-1]
        assert refused.status_code == 429, [r.status_code for r in answers]
        # Each process alone would allow 40: together they allowed 40 in all (less the
        # requests above and the start-up checks), so the count is shared.
        assert len(answers) - 1 < 40
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Limit"] == "40"
        assert refused.headers["RateLimit-Remaining"] == "0"
        body = refused.json()
        assert body["code"] == "RateLimited" and "PER_ADDRESS" in body["description"]
        # With a key, the key's own (larger) limit applies.
        keyed = httpx.get(a.root + "collections", headers=AUTH, timeout=30)
        assert keyed.status_code == 200


def order_checks(bridge: LiveBridge) -> float:
    text = httpx.get(bridge.root + "metrics", timeout=30).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("bridge_order_checks_total{")
    )


def test_one_order_poller_per_database(postgres_db: str, tmp_path: Path) -> None:
    env = {"BRIDGE_DATABASE_URL": postgres_db, "BRIDGE_ORDER_CHECK_MIN_S": "0.2", **FAST_ORDERS}
    with start_bridge(tmp_path / "a.log", env) as a:
        second = {**joining(a, **env), "BRIDGE_SANDBOX_API_KEY": DEMO_KEY}
        with start_bridge(tmp_path / "b.log", second, "--sandbox") as b:
            orders = []
            for n, provider in enumerate(["capella", "iceye", "satellogic", "arlula"]):
                item = orderable_item(a.root, provider)
                root = a.root if n % 2 else b.root
                path = f"collections/{item['collection']}/items/{item['id']}/order"
                response = httpx.post(root + path, headers=AUTH, timeout=60)
                assert response.status_code == 201, response.text
                orders.append(response.json()["id"])
            for order_id in orders:
                assert wait_succeeded(a.root, order_id)["status"] == "succeeded"
            checks = sorted([order_checks(a), order_checks(b)])
            assert checks[0] == 0 and checks[1] > 0, checks
