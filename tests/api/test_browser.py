"""``/browser/``: the stac-browser build with a per-request config, or a page saying how to
build it. (The real build in Chromium is conformance check 6.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from bridge.app import create_app
from bridge.settings import Settings
from tests.api.conftest import fake_catalog
from tests.support.fake_provider import FakeProvider
from tests.support.wiring import fixed_wiring


@pytest.fixture
def serve(providers: dict[str, FakeProvider]) -> Callable[[Settings], httpx.AsyncClient]:
    def client(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings, wiring=fixed_wiring(providers, fake_catalog(providers)))
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://bridge.test:8123")

    return client


def fake_build(root: Path) -> Path:
    """What the build script leaves: index.html, hashed assets and an empty config.js."""
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><script src="/browser/config.js"></script><div id="stac-browser">'
    )
    (root / "js" / "app.1234.js").write_text("console.log('stac-browser');")
    (root / "config.js").write_text("window.STAC_BROWSER_CONFIG = {}")
    return root


def parse_config(text: str) -> dict[str, Any]:
    prefix = "window.STAC_BROWSER_CONFIG = "
    assert text.startswith(prefix)
    config: dict[str, Any] = orjson.loads(text[len(prefix) :].strip().rstrip(";"))
    return config


async def test_serves_the_build_with_a_config_for_this_bridge(
    tmp_path: Path, serve: Callable[[Settings], httpx.AsyncClient]
) -> None:
    async with serve(Settings(browser_dir=fake_build(tmp_path / "dist"))) as c:
        index = await c.get("/browser/")
        assert index.status_code == 200 and 'id="stac-browser"' in index.text
        assert (await c.get("/browser/js/app.1234.js")).text == "console.log('stac-browser');"
        redirect = await c.get("/browser")
        assert redirect.status_code == 308 and redirect.headers["location"] == "/browser/"
        config_js = await c.get("/browser/config.js")
        assert config_js.headers["content-type"].startswith("text/javascript")
        config = parse_config(config_js.text)
        assert config["catalogUrl"] == "http://bridge.test:8123/"
        assert config["authConfig"] == {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": config["authConfig"]["description"],
        }
        assert (await c.get("/browser/js/missing.js")).status_code == 404
        assert (await c.get("/browser/../pyproject.toml")).status_code == 404
        assert (await c.get("/")).status_code == 200


async def test_public_url_is_the_catalog_url(
    tmp_path: Path, serve: Callable[[Settings], httpx.AsyncClient]
) -> None:
    settings = Settings(
        browser_dir=fake_build(tmp_path / "dist"), public_url="https://stac.example/bridge"
    )
    async with serve(settings) as c:
        config = parse_config((await c.get("/browser/config.js")).text)
    assert config["catalogUrl"] == "https://stac.example/bridge/"


async def test_without_a_build_the_page_says_how_to_enable_it(
    tmp_path: Path, serve: Callable[[Settings], httpx.AsyncClient]
) -> None:
    async with serve(Settings(browser_dir=tmp_path / "nothing")) as c:
        for path in ("/browser/", "/browser/config.js", "/browser/js/app.js"):
            page = await c.get(path)
            assert page.status_code == 503, path
            assert page.headers["content-type"].startswith("text/html")
            assert "make browser" in page.text and "Node.js" in page.text
            assert "http://bridge.test:8123/" in page.text
        assert (await c.get("/")).status_code == 200
        assert (await c.get("/search")).status_code == 200


def test_the_build_script_steps_aside_without_nodejs(tmp_path: Path) -> None:
    """`make install` must not fail on a machine without Node.js; the conformance run
    (BROWSER_REQUIRED=1) must."""
    import os
    import shutil
    import subprocess

    script = Path(__file__).resolve().parents[2] / "scripts" / "build-stac-browser.sh"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(str(shutil.which("dirname")))  # all the script needs
    bash = str(shutil.which("bash"))
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/")}
    optional = subprocess.run([bash, str(script)], env=env, capture_output=True, text=True)
    assert optional.returncode == 0 and "Node.js is not installed" in optional.stderr
    required = subprocess.run(
        [bash, str(script)], env={**env, "BROWSER_REQUIRED": "1"}, capture_output=True, text=True
    )
    assert required.returncode == 1 and "cannot be built" in required.stderr
