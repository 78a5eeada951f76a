"""``bridge providers check``: reads only, reports per step, compares native shapes.

In-process tests reach the simulators through ``httpx.ASGITransport`` (production
wiring); the e2e tests run the real command against a real ``bridge serve --sandbox``.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from bridge.catalog import load_catalog
from bridge.check import EXIT_DIFFERED, EXIT_FAILED, EXIT_HELD, CheckConfigError, run_check
from bridge.check.config import check_query
from bridge.check.recording import RecordingTransport, RefusedRequest
from bridge.check.redact import redact, redact_url
from bridge.check.run import check_provider
from bridge.check.shapes import PROVIDERS_DIR, Shapes, differences, load_shapes, parse_shapes
from bridge.check.steps import ReadOnlyProvider
from bridge.sandbox import InProcessSandbox, in_process_sandbox
from bridge.settings import ProviderSettings, Settings
from tests.e2e.conftest import LiveBridge, start_bridge
from tests.support.wiring import COLLECTIONS, REPO, simulator_config
from tests.test_independence import violations

PROVIDERS = ["arlula", "capella", "iceye", "satellogic"]
ORDER_ROUTES = re.compile(r"^POST .*(/orders/?$|/purchases|/order(/batch|/new)?$|/tasks)")


@pytest.fixture(scope="module")
def sandbox() -> InProcessSandbox:
    return in_process_sandbox(simulator_config())


def settings_for(sandbox: InProcessSandbox, **changes: dict[str, Any]) -> Settings:
    providers = {
        name: ps.model_copy(update=changes.get(name, {}))
        for name, ps in sandbox.provider_settings.items()
    }
    return Settings(providers=providers)


async def check(
    settings: Settings,
    transports: dict[str, httpx.AsyncBaseTransport],
    **options: Any,
) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_check(settings, out, transports=transports, **options)
    return code, out.getvalue()


def stats(app: Starlette) -> dict[str, Any]:
    snapshot: dict[str, Any] = app.state.stats.snapshot()
    return snapshot


def step_lines(text: str, provider: str) -> dict[str, str]:
    """``step -> status`` of one provider's block in a report."""
    block = text.split(f"{provider} (", 1)[1].split("\n\n", 1)[0]
    lines = {}
    for line in block.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0] in {"auth", "search", "item", "price", "thumbnail"}:
            lines.setdefault(parts[0], parts[1])
    return lines


async def test_every_provider_holds_against_the_simulators_and_nothing_is_ordered(
    sandbox: InProcessSandbox,
) -> None:
    before = {n: dict(stats(app)["orders"]) for n, app in sandbox.simulators.items()}
    code, text = await check(settings_for(sandbox), sandbox.transports)
    assert code == EXIT_HELD, text
    for name in PROVIDERS:
        assert step_lines(text, name) == dict.fromkeys(
            ["auth", "search", "item", "price", "thumbnail"], "held"
        ), text
    assert "0 failed, 0 differed" in text
    for name, app in sandbox.simulators.items():
        snap = stats(app)
        assert snap["orders"] == before[name]  # no native order was placed
        assert not [r for r in snap["requests"] if ORDER_ROUTES.match(r)], snap["requests"]


async def test_older_api_generations_hold_against_their_shapes() -> None:
    sandbox = in_process_sandbox(
        simulator_config(),
        names=["iceye", "arlula"],
        api_versions={"iceye": "v1", "arlula": "2020-12"},
    )
    code, text = await check(settings_for(sandbox), sandbox.transports)
    assert code == EXIT_HELD, text
    assert step_lines(text, "arlula") == dict.fromkeys(
        ["auth", "search", "item", "price", "thumbnail"], "held"
    )
    # v1 has no price endpoint: documented unavailability, not a failure.
    assert step_lines(text, "iceye")["price"] == "skipped"
    assert "ICEYE API v1 has no price endpoint" in text


BAD_KEYS: dict[str, dict[str, Any]] = {
    "capella": {"api_key": "not-the-key"},
    "arlula": {"api_secret": "not-the-secret"},
    "iceye": {"client_secret": "not-the-secret"},
    "satellogic": {"client_secret": "not-the-secret"},
}


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_bad_key_fails_clearly_naming_the_provider(
    sandbox: InProcessSandbox, name: str
) -> None:
    bad = {k: SecretStr(v) for k, v in BAD_KEYS[name].items()}
    code, text = await check(settings_for(sandbox, **{name: bad}), sandbox.transports)
    assert code == EXIT_FAILED
    lines = step_lines(text, name)
    assert lines["auth"] == "failed" and lines["search"] == "skipped", text
    assert re.search(rf"refused( the client)? \(40[013]\) by {name}", text), text
    assert "Traceback" not in text
    for secret in BAD_KEYS[name].values():
        assert secret not in text
    assert f"1 failed ({name})" in text


class DropField(httpx.AsyncBaseTransport):
    """Answers as the simulator does, minus one field of every search answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, drop: str) -> None:
        self.inner, self.path, self.drop = inner, path, drop

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != self.path:
            return response
        body = orjson.loads(await response.aread())
        body.pop(self.drop, None)
        return httpx.Response(response.status_code, json=body)


async def test_a_missing_native_field_is_reported_by_its_raw_name(
    sandbox: InProcessSandbox,
) -> None:
    transports = {
        "capella": DropField(sandbox.transports["capella"], "/catalog/search", "numberReturned")
    }
    code, text = await check(settings_for(sandbox), transports, provider="capella")
    assert code == EXIT_DIFFERED, text
    assert step_lines(text, "capella")["search"] == "differed"
    assert "POST /catalog/search: numberReturned: missing" in text
    assert "1 differed from the documented shapes (capella)" in text


def test_differences_name_fields_types_and_counts() -> None:
    body = {
        "features": [
            {"id": "a", "properties": {"datetime": "2020-01-01T00:00:00Z"}},
            {"id": 7, "properties": {}},
        ],
        "numberMatched": 2.5,
    }
    fields = {
        "features": "array",
        "features[].id": "string",
        "features[].properties.datetime": "string",
        "numberMatched": "integer",
        "links": "array",
        "count": "number|null",
    }
    assert differences(body, fields) == [
        "features[].id: integer, expected string in 1 of 2",
        "features[].properties.datetime: missing in 1 of 2",
        "numberMatched: number, expected integer",
        "links: missing",
        "count: missing",
    ]
    assert differences([{"x": 1}], {"$": "array", "[].x": "number"}) == []


def test_redaction_strips_signatures_tokens_and_secrets() -> None:
    secrets = {"s3cr3t-value"}
    body = {
        "href": "https://x.example/a/b.png?AWSAccessKeyId=K&Signature=S#f",
        "raster": "https://t.example/v2/scenes/1/token/abc123/raster/f.tif",
        "note": "key s3cr3t-value and eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlc2ln",
        "client_secret": "anything",
        "nested": [{"access_token": "tok"}],
    }
    assert redact(body, secrets) == {
        "href": "https://x.example/a/b.png",
        "raster": "https://t.example/v2/scenes/1/token/[redacted]/raster/f.tif",
        "note": "key [redacted] and [redacted]",
        "client_secret": "[redacted]",
        "nested": [{"access_token": "[redacted]"}],
    }
    assert redact_url("https://user:pw@h.example/p?q=1") == "https://h.example/p"


def test_malformed_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        parse_shapes(
            {
                "provider": "p",
                "exchanges": [{"name": "n", "request": "GET /a", "fields": {"a": "str"}}],
            }
        )


@pytest.mark.parametrize("name", PROVIDERS)
def test_shapes_name_routes_their_ledger_documents(name: str) -> None:
    raw = orjson.loads((PROVIDERS_DIR / name / "shapes.json").read_bytes())
    ledger = (REPO / raw["ledger"]).read_text()
    shapes = load_shapes(name)
    assert len(shapes.exchanges) == len(raw["exchanges"]) >= 2
    for entry in raw["exchanges"]:
        literal = entry["request"].split(" ", 1)[1].replace("{path}", "")
        head = literal.split("{id}")[0].rstrip("/")
        assert head in ledger, f"{name}: {entry['request']} is not in {raw['ledger']}"


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("capella", "POST", "/orders"),
        ("iceye", "POST", "/api/catalog/v2/purchases"),
        ("satellogic", "POST", "/v2/orders/"),
        ("arlula", "POST", "/api/archive/order"),
        ("arlula", "POST", "/api/archive/order/batch"),
    ],
)
async def test_the_transport_refuses_order_requests_before_they_leave(
    sandbox: InProcessSandbox, name: str, method: str, path: str
) -> None:
    app = sandbox.simulators[name]
    seen = stats(app)["total_requests"]
    recorder = RecordingTransport(sandbox.transports[name], load_shapes(name))
    async with httpx.AsyncClient(transport=recorder, base_url=f"http://{name}.simulator") as c:
        with pytest.raises(RefusedRequest, match="refused to send"):
            await c.request(method, path, json={})
        # Reads and the documented quote go out (Capella's review is not an order).
        assert recorder.allowed(c.build_request("GET", "/anything"))
        if name == "capella":
            assert recorder.allowed(c.build_request("POST", "/orders/review"))
    assert stats(app)["total_requests"] == seen and recorder.records == []


def test_the_check_holds_the_adapter_by_its_read_methods_only() -> None:
    assert {"search", "get_item", "quote", "asset_location"} <= set(dir(ReadOnlyProvider))
    assert not {"place_order", "cancel_order", "find_orders"} & set(dir(ReadOnlyProvider))


async def test_an_undocumented_write_is_refused_and_reported_not_sent(
    sandbox: InProcessSandbox,
) -> None:
    app = sandbox.simulators["capella"]
    seen = stats(app)["total_requests"]
    report = await check_provider(
        "capella",
        sandbox.provider_settings["capella"],
        load_catalog(COLLECTIONS, providers=["capella"]).by_provider["capella"],
        check_query(None, None),
        sandbox.transports["capella"],
        shapes=Shapes("capella", ""),  # documents nothing: every POST is refused
    )
    statuses = {s.step: (s.status, s.message) for s in report.steps}
    assert statuses["search"] == (
        "failed",
        "the check refused to send POST /catalog/search: it only reads (no orders)",
    )
    assert report.failed and report.records == []
    assert stats(app)["total_requests"] == seen


async def test_nothing_to_check_is_a_clear_configuration_error() -> None:
    with pytest.raises(CheckConfigError, match="no provider has credentials"):
        await run_check(Settings(providers={}), io.StringIO())
    configured = Settings(providers={"capella": ProviderSettings(api_key="k")})  # type: ignore[arg-type]
    with pytest.raises(CheckConfigError, match="iceye has no credentials"):
        await run_check(configured, io.StringIO(), provider="iceye")
    with pytest.raises(CheckConfigError, match="unknown provider 'nope'"):
        await run_check(configured, io.StringIO(), provider="nope")


def test_the_check_imports_no_simulator() -> None:
    # It runs against real providers: the simulators are not part of what it trusts.
    assert len(list((REPO / "bridge" / "check").rglob("*.py"))) >= 5
    assert violations(REPO / "bridge" / "check", "bridge.simulators") == []


# --- end to end: the real command against a real sandbox bridge ----------------------------


@pytest.fixture(scope="module")
def live_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    """A real ``bridge serve --sandbox`` for this module (the e2e suite's launcher)."""
    with start_bridge(tmp_path_factory.mktemp("check") / "serve.log", {}) as bridge:
        yield bridge


def bridge_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("bridge")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bridge.cli"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [*cmd, *args], env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120
    )


def sandbox_secrets(bridge: LiveBridge) -> list[str]:
    found = []
    for entry in bridge.sandbox["providers"].values():
        for key, value in entry["credentials"].items():
            if key in {"api_key", "api_secret", "client_secret", "client_id"}:
                found.append(str(value))
    return found


@pytest.mark.e2e
def test_check_passes_against_a_live_sandbox_and_records_redacted_answers(
    live_sandbox: LiveBridge, tmp_path: Path
) -> None:
    before = {
        n: httpx.get(live_sandbox.simulator(n) + "/_simulator/stats", timeout=5).json()["orders"]
        for n in PROVIDERS
    }
    done = bridge_cli(
        "providers", "check", "--sandbox", live_sandbox.root, "--record", str(tmp_path / "rec")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in PROVIDERS:
        assert set(step_lines(done.stdout, name).values()) == {"held"}, done.stdout
    files = sorted((tmp_path / "rec").rglob("*.json"))
    assert {f.parent.name for f in files} == set(PROVIDERS)
    secrets = sandbox_secrets(live_sandbox)
    assert len(secrets) >= 6
    for path in files:
        text = path.read_text()
        doc = orjson.loads(text)
        assert doc["step"] in {"auth", "search", "item", "price", "thumbnail"}
        for secret in secrets:
            assert secret not in text, (path, "secret")
        assert not re.search(r"https?://[^\"\s]*\?", text), path  # no signed query string
        assert "Signature=" not in text and "AWSAccessKeyId" not in text
    tokens = [f for f in files if "-auth-" in f.name]
    assert tokens and all('"[redacted]"' in f.read_text() for f in tokens)
    for name in PROVIDERS:
        after = httpx.get(live_sandbox.simulator(name) + "/_simulator/stats", timeout=5).json()
        assert after["orders"] == before[name]
        assert not [r for r in after["requests"] if ORDER_ROUTES.match(r)]


@pytest.mark.e2e
def test_check_with_a_bad_configured_key_fails_naming_the_provider(
    live_sandbox: LiveBridge,
) -> None:
    env = {
        "BRIDGE_PROVIDERS__CAPELLA__BASE_URL": live_sandbox.simulator("capella"),
        "BRIDGE_PROVIDERS__CAPELLA__API_KEY": "wrong-key-for-the-check",
    }
    done = bridge_cli("providers", "check", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "credentials refused (401) by capella" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "wrong-key-for-the-check" not in done.stdout + done.stderr


@pytest.mark.e2e
def test_check_without_credentials_says_how_to_configure_them() -> None:
    done = bridge_cli("providers", "check")
    assert done.returncode == 2
    assert "no provider has credentials" in done.stderr and "Traceback" not in done.stderr
    bad = bridge_cli("providers", "check", env={"BRIDGE_PROVIDERS__CAPELLA__TIMEOUT_S": "-1"})
    assert (
        bad.returncode == 2 and "invalid configuration: providers.capella.timeout_s" in bad.stderr
    )
