"""The ICEYE adapter where sources are silent: new fields and enum values pass through
under ``iceye:``, and a body of an unexpected shape is ICEYE's error in the search status,
never a 500. The simulator's answers are rewritten on the way by a small ASGI layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.core.contract import Provider
from bridge.core.query import SearchQuery
from bridge.sandbox import in_process_sandbox
from bridge.settings import Settings
from tests.support import wiring
from tests.support.stac_schemas import validation_errors

Rewrite = Callable[[Any], Any]
SEARCH_PATH = "/api/catalog/v2/search"


class Rewriter:
    """Passes requests to the simulator and rewrites the JSON body of its search answers."""

    def __init__(self, app: ASGIApp, rewrite: Rewrite) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SEARCH_PATH:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
        if start["status"] == 200:
            body = orjson.dumps(self.rewrite(orjson.loads(body)))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _wired(rewrite: Rewrite, data_dir: Path) -> tuple[dict[str, Provider], FastAPI]:
    """The ICEYE adapter and the bridge app (production wiring), ICEYE's answers rewritten."""
    sandbox = in_process_sandbox(wiring.simulator_config())
    rewriting = httpx.ASGITransport(app=Rewriter(sandbox.simulators["iceye"], rewrite))
    app = wiring.app_over(sandbox, Settings(data_dir=data_dir), {"iceye": rewriting})
    return app.state.federation.providers, app


def _each_item(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(body: Any) -> Any:
        for item in body["data"]:
            change(item)
        return body

    return rewrite


def _news(item: dict[str, Any]) -> None:
    props = item["properties"]
    props.update(
        {
            "sat:orbit_state": "sideways",  # an enum value STAC does not know
            "sar:observation_direction": "up",
            "iceye:incidence_center": "n/a",  # a number field that is not a number
            "squint_angle": 1.5,  # fields nobody documented
            "sar:looks_range": 2,
            "iceye:product_version": {"major": 3},
        }
    )
    item["future_top_level_field"] = [1, 2]
    item["assets"]["qlk-png"] = {"href": "https://x.test/q.png", "type": "image/png"}


async def test_new_fields_and_enum_values_pass_under_the_iceye_prefix(tmp_path: Path) -> None:
    providers, app = _wired(_each_item(_news), tmp_path)
    page = await providers["iceye"].search(SearchQuery(), None, 20)
    assert len(page.items) == 20
    for item in page.items:
        props = item["properties"]
        assert "sat:orbit_state" not in props and props["iceye:orbit_state"] == "sideways"
        assert props["iceye:observation_direction"] == "up"
        assert props["iceye:incidence_center"] == "n/a" and "view:incidence_angle" not in props
        assert props["iceye:squint_angle"] == 1.5 and props["iceye:looks_range"] == 2
        assert props["iceye:product_version"] == {"major": 3}
        assert item["assets"]["qlk-png"]["href"] == "https://x.test/q.png"
        linked = {**item, "links": [{"rel": "collection", "href": "http://b/c"}]}
        assert validation_errors(linked) == []
    for provider in providers.values():
        await provider.aclose()
    await app.state.db.close()


async def _search_statuses(rewrite: Rewrite, data_dir: Path) -> tuple[int, dict[str, Any]]:
    providers, app = _wired(rewrite, data_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        response = await c.get("/search", params={"bbox": "24.0,59.8,26.0,60.6", "limit": "30"})
    for provider in providers.values():
        await provider.aclose()
    await app.state.db.close()
    return response.status_code, response.json()


async def test_an_unexpected_body_shape_is_iceyes_error_never_a_500(tmp_path: Path) -> None:
    shapes: list[Rewrite] = [
        lambda body: {"features": body["data"]},  # another envelope
        lambda body: {"data": {"items": body["data"]}},  # data not a list
        lambda body: {"data": ["ICEYE_X1_GRD"], "cursor": 7},  # items not objects
        _each_item(lambda item: item.update(properties=[1, 2])),
        _each_item(lambda item: item.pop("geometry")),
        _each_item(lambda item: item["properties"].update(start_datetime=17)),
    ]
    for rewrite in shapes:
        status, body = await _search_statuses(rewrite, tmp_path)
        assert status == 200, body
        iceye = body["bridge:providers"]["iceye"]
        assert iceye["status"] == "error", iceye
        others = {n: s["status"] for n, s in body["bridge:providers"].items() if n != "iceye"}
        assert set(others.values()) == {"ok"}
        assert body["features"] and all(
            not f["collection"].startswith("iceye-") for f in body["features"]
        )
