"""The OpenAPI document at ``/api`` tells the truth: unique operationIds, every status a
route really answers documented with the STAC error schema, and the real media types and
response schemas (checked against what the app sends for representative requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from bridge.api.openapi import METHODS, install_openapi
from bridge.api.openapi_table import ROUTES
from bridge.app import create_app
from bridge.auth.keys import KeyStore
from bridge.settings import Settings
from tests.api.conftest import fake_catalog
from tests.api.test_browser import fake_build
from tests.api.test_orders_api import ITEM, build
from tests.support.fake_provider import OrderingFakeProvider, make_items
from tests.support.wiring import fixed_wiring, sandbox_app, simulator_config

ASSET = "/collections/{collection_id}/items/{item_id}/assets/{key}"
COLL_T = "/collections/{collection_id}"
ITEM_T = COLL_T + "/items/{item_id}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    fakes = {"alpha": OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 10, seed=1))}
    application = build(tmp_path, fakes)
    yield application
    await application.state.db.close()


@pytest.fixture
async def key(app: FastAPI) -> str:
    return await KeyStore(app.state.db).add_key("acme")


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


async def document(app: FastAPI) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        resp = await c.get("/api")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


async def test_operation_ids_are_unique_and_every_route_is_in_the_table(app: FastAPI) -> None:
    doc = await document(app)
    ops = operations(doc)
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids)), sorted(ids)
    assert doc["paths"][ASSET]["get"]["operationId"] != doc["paths"][ASSET]["head"]["operationId"]
    unknown = [(m.upper(), p) for m, p, _ in ops if (m.upper(), p) not in ROUTES]
    assert not unknown, f"routes missing from bridge.api.openapi_table.ROUTES: {unknown}"
    for method, path, op in ops:
        assert "422" not in op["responses"], (method, path)
        for status in ("413", "429"):
            assert method == "head" or op["responses"][status]["content"]
        assert op["responses"]["429"]["headers"]["Retry-After"]["required"]


async def test_error_component_is_the_stac_error(app: FastAPI) -> None:
    doc = await document(app)
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "description"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    search_400 = doc["paths"]["/search"]["post"]["responses"]["400"]
    assert search_400["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


async def test_media_types_are_the_real_ones(app: FastAPI) -> None:
    paths = (await document(app))["paths"]

    def media(path: str, status: str = "200", method: str = "get") -> list[str]:
        return list(paths[path][method]["responses"][status].get("content", {}))

    assert media("/search") == media("/search", method="post") == ["application/geo+json"]
    assert media("/collections/{collection_id}/items") == ["application/geo+json"]
    assert media(ITEM_T) == ["application/geo+json"]
    for path in ("/queryables", "/sortables", "/extensions/price/v1.0.0/schema.json"):
        assert media(path) == ["application/schema+json"]
    assert media("/collections") == media("/") == ["application/json"]
    assert media("/api.html") == ["text/html"]
    assert media("/browser/") == ["text/html"] == media("/browser/", "503")
    assert paths["/browser/"]["get"]["responses"]["503"]["headers"]["Retry-After"]["required"]
    partial = paths["/search"]["get"]["responses"]["200"]["headers"]["X-Bridge-Partial"]
    assert partial["required"] is False
    redirect = paths[ASSET]["get"]["responses"]["307"]
    assert "content" not in redirect and redirect["headers"]["Location"]["required"]
    assert "201" in paths[ITEM_T + "/order"]["post"]["responses"]
    root = paths["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "type" not in root or root["type"] == "object"


# (method, path as sent, path template, needs a key, body): representative bad and good
# requests; each answer's status, media type and body must be what the document says.
REQUESTS: list[tuple[str, str, str, bool, bytes | None]] = [
    ("GET", "/", "/", False, None),
    ("GET", "/conformance", "/conformance", False, None),
    ("GET", "/collections?limit=0", "/collections", False, None),
    ("GET", "/collections/nope", COLL_T, False, None),
    ("GET", "/collections/nope/items", COLL_T + "/items", False, None),
    ("GET", "/collections/alpha-a/items?limit=2", COLL_T + "/items", False, None),
    ("GET", "/collections/alpha-a/items/nope", ITEM_T, False, None),
    ("GET", ITEM, ITEM_T, False, None),
    ("GET", "/search?bbox=a,b", "/search", False, None),
    ("GET", "/search?fields=id", "/search", False, None),
    ("POST", "/search", "/search", False, b"{"),
    ("POST", "/search", "/search", False, b'{"limit": 0}'),
    ("GET", "/queryables", "/queryables", False, None),
    ("GET", "/collections/nope/queryables", COLL_T + "/queryables", False, None),
    ("GET", "/collections/alpha-a/sortables", COLL_T + "/sortables", False, None),
    ("GET", f"{ITEM}/quote", ITEM_T + "/quote", False, None),
    ("GET", f"{ITEM}/quote?seats=5000", ITEM_T + "/quote", True, None),
    ("GET", f"{ITEM}/quote", ITEM_T + "/quote", True, None),
    ("POST", f"{ITEM}/order", ITEM_T + "/order", True, b'{"seats": 0}'),
    ("POST", f"{ITEM}/order", ITEM_T + "/order", True, None),
    ("GET", "/orders?limit=0", "/orders", True, None),
    ("GET", "/orders", "/orders", True, None),
    ("GET", "/orders/nope", "/orders/{order_id}", True, None),
    ("POST", "/orders/nope/cancel", "/orders/{order_id}/cancel", True, None),
    ("GET", f"{ITEM}/assets/nope", ASSET, True, None),
    ("HEAD", f"{ITEM}/assets/nope", ASSET, True, None),
    ("GET", f"{ITEM}/assets/data", ASSET, False, None),
    ("GET", f"{ITEM}/assets/thumbnail", ASSET, False, None),
    ("POST", "/webhooks/nope", "/webhooks/{provider}", False, b"{}"),
    ("POST", "/webhooks/alpha", "/webhooks/{provider}", False, b"not json"),
    ("GET", "/api.html", "/api.html", False, None),
]


async def test_answers_are_documented(app: FastAPI, key: str) -> None:
    doc = await document(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        for method, url, template, keyed, body in REQUESTS:
            headers = {"X-API-Key": key} if keyed else {}
            if body is not None:
                headers["Content-Type"] = "application/json"
            resp = await c.request(method, url, headers=headers, content=body)
            where = f"{method} {url} -> {resp.status_code} {resp.text[:200]}"
            documented = doc["paths"][template][method.lower()]["responses"]
            assert str(resp.status_code) in documented, f"undocumented: {where}"
            answer = documented[str(resp.status_code)]
            for name, header in answer.get("headers", {}).items():
                assert not header["required"] or name in resp.headers, where
            if method == "HEAD" or "content" not in answer:
                continue
            media = resp.headers["content-type"].split(";")[0]
            assert media in {m.split(";")[0] for m in answer["content"]}, where
            if media.endswith("json"):
                schema = next(iter(answer["content"].values()))["schema"]
                _validate(resp.json(), schema, doc, where)


def _validate(value: Any, schema: dict[str, Any], doc: dict[str, Any], where: str) -> None:
    wrapped = {**schema, "components": doc["components"]}
    errors = list(jsonschema.Draft202012Validator(wrapped).iter_errors(value))
    assert not errors, f"{where}: {errors[0].message}"


async def test_quote_options_out_of_range_are_a_400_not_a_500(app: FastAPI, key: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        resp = await c.get(f"{ITEM}/quote?seats=1232", headers={"X-API-Key": key})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "BadRequest" and "seats" in resp.json()["description"]


def test_table_entries_apply_once_their_routes_exist() -> None:
    """``/metrics`` and ``/ready`` are described by the table as soon as an app has them,
    whatever response class their handlers declare; absent routes are left out."""
    app = FastAPI()

    @app.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse("up 1\n")

    install_openapi(app)
    doc = app.openapi()
    assert doc is app.openapi()  # built once
    responses = doc["paths"]["/metrics"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["text/plain; version=0.0.4"]
    assert doc["paths"]["/metrics"]["get"]["operationId"] == "getMetrics"
    assert "/ready" not in doc["paths"] and "/health" not in doc["paths"]


async def test_framework_errors_are_stac_errors_and_405_allows_every_method(app: FastAPI) -> None:
    """An unreadable body, an unknown route and a wrong method: STAC error bodies, and
    ``Allow`` names every method of the path (not only the first route's)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        unreadable = await c.post(
            "/search", content=b"2}W`-", headers={"Content-Type": "application/json"}
        )
        unknown = await c.get("/no/such/route")
        wrong = await c.request("OPTIONS", "/search")
    assert unreadable.status_code == 400 and unreadable.json()["code"] == "BadRequest"
    assert unknown.status_code == 404 and unknown.json()["code"] == "NotFound"
    assert wrong.status_code == 405 and wrong.json()["code"] == "MethodNotAllowed"
    assert wrong.headers["Allow"] == "GET, POST"
    for resp in (unreadable, unknown, wrong):
        assert set(resp.json()) == {"code", "description"}, resp.text


async def test_a_search_body_with_an_integer_beyond_64_bits_is_answered(app: FastAPI) -> None:
    """The POST ``next`` link echoes the body; orjson cannot write such an integer."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        resp = await c.post("/search", json={"limit": 2, "x": 10**23})
    assert resp.status_code == 200, resp.text
    (next_link,) = [link for link in resp.json()["links"] if link["rel"] == "next"]
    assert next_link["body"]["x"] == 10**23


async def test_item_ids_that_are_no_url_segment_are_a_404_at_every_provider() -> None:
    """Ids are the caller's text: one with a control character or a space reaches each
    simulator quoted, and is not found (it was a 500 at Satellogic)."""
    app, _ = sandbox_app(simulator_config(scenes=50))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        collections = (await c.get("/collections")).json()["collections"]
        for cid in sorted({coll["id"] for coll in collections}):
            resp = await c.get(f"/collections/{cid}/items/x%04y%20z")
            assert resp.status_code == 404, (cid, resp.text)
            assert resp.json()["code"] == "NotFound"
    await app.state.db.close()


async def test_keys_and_bodies_are_documented(app: FastAPI, tmp_path: Path) -> None:
    """Either key scheme; optional for search and thumbnails unless search is closed;
    the order options and webhook bodies the handlers read themselves."""
    doc = await document(app)
    assert doc["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    paths = doc["paths"]
    required = [{"apiKey": []}, {"bearer": []}]
    assert paths[ITEM_T + "/quote"]["get"]["security"] == required
    assert paths["/orders"]["get"]["security"] == required
    assert paths["/search"]["post"]["security"] == [{}, *required]
    assert paths[ASSET]["get"]["security"] == [{}, *required]
    assert "security" not in paths["/collections"]["get"]
    for method, path, op in operations(doc):
        assert not op.get("security") or "401" in op["responses"], (method, path)
    order_body = paths[ITEM_T + "/order"]["post"]["requestBody"]["content"]["application/json"]
    assert order_body["schema"]["properties"]["seats"]["maximum"] == 1000
    assert paths["/webhooks/{provider}"]["post"]["requestBody"]["required"] is True

    fakes = {"alpha": OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 3, seed=1))}
    closed = build(tmp_path / "closed", fakes, search_requires_key=True)
    closed_paths = (await document(closed))["paths"]
    await closed.state.db.close()
    assert closed_paths["/search"]["post"]["security"] == required
    assert closed_paths[ASSET]["head"]["security"] == required


async def test_a_built_browser_is_documented_and_allows_only_get_and_head(tmp_path: Path) -> None:
    """The stac-browser build is a static mount: GET (HTML, as documented) and HEAD only."""
    fakes = {"alpha": OrderingFakeProvider("alpha", make_items("alpha", ["alpha-a"], 3, seed=1))}
    settings = Settings(data_dir=tmp_path, browser_dir=fake_build(tmp_path / "dist"))
    built = create_app(settings, wiring=fixed_wiring(fakes, fake_catalog(fakes)))  # type: ignore[arg-type]
    doc = await document(built)
    documented = doc["paths"]["/browser/"]["get"]["responses"]["200"]["content"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=built), base_url="http://b"
    ) as c:
        page = await c.get("/browser/")
        wrong = await c.post("/browser/")
    assert page.status_code == 200 and page.headers["content-type"].split(";")[0] in documented
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, HEAD"
    assert wrong.json()["code"] == "MethodNotAllowed"
    await built.state.db.close()
