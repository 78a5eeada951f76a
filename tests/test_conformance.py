"""The conformance checks (``python -m conformance``): checks 1-4 and 7 pass against a live
sandbox, and each can fail — shown against a tiny fake STAC API that drops ``next`` links or
serves an invalid ``sar:`` value, a tiny API whose OpenAPI document hides a status, and on
hand-made inputs."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from conformance import (
    check_browser,
    check_gdal,
    check_qgis,
    check_schemas,
    check_schemathesis,
    check_validator,
)
from conformance.__main__ import run_checks
from conformance.core import FAIL, NOT_APPLICABLE_YET, PASS, WAIVED, CheckResult, Context, Received
from conformance.core import PROVIDERS as CONFORMANCE_PROVIDERS
from conformance.live import free_port, running_bridge
from conformance.offline import OfflineRefused, offline
from conformance.schemas import MissingSchema, document_errors

pytestmark = pytest.mark.e2e

CHECK_NAMES = ["stac-api-validator", "pystac-client", "qgis", "schemathesis", "schemas", "stapi"]
SAR = "https://stac-extensions.github.io/sar/v1.3.0/schema.json"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


# -- checks 1-4, 7 and 8 against a live sandbox --------------------------------------------


@pytest.fixture(scope="module")
def sandbox_results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, CheckResult]]:
    out = tmp_path_factory.mktemp("conformance")
    # A smaller archive than the default keeps this under a minute; the full run
    # (`make conformance`) uses the default sandbox and every provider.
    env = {"BRIDGE_SIMULATORS__SCENES": "1000"}
    with running_bridge(out / "bridge.log", env=env) as bridge:
        ctx = Context(root=bridge.root, api_key=bridge.api_key, output=out, fast=True)
        yield {r.name: r for r in run_checks(ctx, CHECK_NAMES)}


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_check_passes_against_the_sandbox(
    sandbox_results: dict[str, CheckResult], name: str
) -> None:
    result = sandbox_results[name]
    failed = [f"{c.name}: {c.detail}" for c in result.cases if c.status == FAIL]
    assert result.passed, f"{name} failed:\n" + "\n\n".join(failed or result.details)


# -- a tiny fake STAC API, to show the checks fail when a behaviour breaks ----------------

PROVIDERS = list(CONFORMANCE_PROVIDERS)
PER_COLLECTION = 12
PAGE = 10


def fake_item(cid: str, n: int, *, band: str = "X", tiff: str = COG) -> dict[str, Any]:
    lon, lat = 24.6 + 0.05 * n, 60.1
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": [SAR],
        "id": f"{cid}-{n:03d}",
        "collection": cid,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [lon, lat, lon + 0.1, lat + 0.1],
        "properties": {
            "datetime": f"2024-06-{1 + n:02d}T10:00:00Z",
            "platform": f"{cid.split('-')[0]}-sat-1",
            "constellation": cid.split("-")[0],
            "gsd": 1.0 + n,
            "sar:instrument_mode": "SM",
            "sar:frequency_band": band,
            "sar:polarizations": ["VV"],
        },
        "links": [],
        "assets": {
            "data": {"href": f"http://127.0.0.1/{cid}/{n}.tif", "type": tiff, "roles": ["data"]}
        },
    }


def fake_app(*, next_links: bool = True, band: str = "X", tiff: str = COG) -> FastAPI:
    app = FastAPI()
    ids = [f"{p}-fake" for p in PROVIDERS]
    items = [fake_item(c, n, band=band, tiff=tiff) for c in ids for n in range(PER_COLLECTION)]

    def base(request: Request) -> str:
        return str(request.base_url)

    def collection(request: Request, cid: str) -> dict[str, Any]:
        return {
            "type": "Collection",
            "stac_version": "1.1.0",
            "id": cid,
            "description": "fake",
            "license": "proprietary",
            "extent": {
                "spatial": {"bbox": [[24.5, 60.0, 25.3, 60.4]]},
                "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
            },
            "links": [
                {
                    "rel": "self",
                    "type": "application/json",
                    "href": f"{base(request)}collections/{cid}",
                },
                {
                    "rel": "items",
                    "type": "application/geo+json",
                    "href": f"{base(request)}collections/{cid}/items",
                },
            ],
        }

    def page(request: Request, selected: list[dict[str, Any]]) -> JSONResponse:
        params = dict(request.query_params)
        limit = int(params.get("limit", PAGE))
        start = int(params.get("token", 0))
        links = [
            {"rel": "root", "type": "application/json", "href": base(request)},
            {"rel": "self", "type": "application/geo+json", "href": str(request.url)},
        ]
        if next_links and start + limit < len(selected):
            href = str(request.url.include_query_params(token=start + limit))
            links.append({"rel": "next", "type": "application/geo+json", "href": href})
        body = {
            "type": "FeatureCollection",
            "features": selected[start : start + limit],
            "links": links,
            "numberMatched": len(selected),
            "numberReturned": len(selected[start : start + limit]),
        }
        return JSONResponse(body, media_type="application/geo+json")

    @app.get("/")
    def landing(request: Request) -> JSONResponse:
        root = base(request)
        return JSONResponse(
            {
                "type": "Catalog",
                "stac_version": "1.0.0",
                "id": "fake",
                "description": "fake STAC API",
                "conformsTo": [
                    "https://api.stacspec.org/v1.0.0/core",
                    "https://api.stacspec.org/v1.0.0/collections",
                    "https://api.stacspec.org/v1.0.0/item-search",
                    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
                ],
                "links": [
                    {"rel": "self", "type": "application/json", "href": root},
                    {"rel": "root", "type": "application/json", "href": root},
                    {"rel": "data", "type": "application/json", "href": f"{root}collections"},
                    {
                        "rel": "search",
                        "type": "application/geo+json",
                        "href": f"{root}search",
                        "method": "GET",
                    },
                    {
                        "rel": "service-desc",
                        "type": "application/vnd.oai.openapi+json;version=3.0",
                        "href": f"{root}api",
                    },
                ],
            }
        )

    @app.get("/api")
    def api() -> JSONResponse:
        return JSONResponse(
            {"openapi": "3.0.0"}, media_type="application/vnd.oai.openapi+json;version=3.0"
        )

    @app.get("/collections")
    def collections(request: Request) -> dict[str, Any]:
        return {"collections": [collection(request, c) for c in ids], "links": []}

    @app.get("/collections/{cid}")
    def one_collection(request: Request, cid: str) -> dict[str, Any]:
        return collection(request, cid)

    @app.get("/collections/{cid}/items")
    def collection_items(request: Request, cid: str) -> JSONResponse:
        return page(request, [i for i in items if i["collection"] == cid])

    @app.get("/search")
    def search(request: Request) -> JSONResponse:
        wanted = request.query_params.get("collections")
        chosen = set(wanted.split(",")) if wanted else set(ids)
        return page(request, [i for i in items if i["collection"] in chosen])

    return app


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", ws="none")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}/"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def fake_context(root: str, tmp_path: Path) -> Context:
    return Context(root=root, api_key="k", output=tmp_path)


def case(result: CheckResult, name: str) -> Any:
    return next(c for c in result.cases if c.name.startswith(name))


def test_qgis_check_passes_on_a_good_fake_and_fails_without_next_links(
    serve: Any, tmp_path: Path
) -> None:
    good = check_qgis.run(fake_context(serve(fake_app()), tmp_path))
    assert good.passed, [(c.name, c.detail) for c in good.cases if c.status == FAIL]

    broken = check_qgis.run(fake_context(serve(fake_app(next_links=False)), tmp_path))
    assert not broken.passed
    assert case(broken, "browse").status == FAIL
    assert "no next link" in case(broken, "browse").detail
    assert case(broken, "search dialog: all").status == FAIL
    assert "single page" in case(broken, "search dialog: all").detail


def test_schema_check_fails_on_an_invalid_sar_value_served_by_an_api(
    serve: Any, tmp_path: Path
) -> None:
    ctx = fake_context(serve(fake_app(band="Z")), tmp_path)
    check_qgis.run(ctx)  # receives (and records) the fake's collections and item pages
    cases, _ = check_schemas.validate(ctx.recorder.documents)
    by_name = {c.name: c for c in cases}
    assert by_name["item collection"].status == FAIL
    assert "sar:frequency_band" in by_name["item collection"].detail or "'Z'" in (
        by_name["item collection"].detail
    )
    assert by_name["collections"].status == PASS  # the valid documents still pass


def test_schema_check_fails_loudly_on_a_schema_with_no_offline_copy() -> None:
    item = fake_item("iceye-fake", 1)
    item["stac_extensions"] = ["https://stac-extensions.github.io/nope/v9.9.9/schema.json"]
    page = {"type": "FeatureCollection", "features": [item], "links": []}
    cases, _ = check_schemas.validate([Received("t", "GET", "http://x/search", page)])
    detail = next(c for c in cases if c.name == "item collection").detail
    assert "MISSING SCHEMA" in detail and "nope/v9.9.9" in detail
    with pytest.raises(MissingSchema):
        document_errors(page)


def test_validator_reports_a_missing_next_link(serve: Any, tmp_path: Path) -> None:
    """stac-api-validator itself, offline, catches an API whose search has no next link."""

    def errors_for(app: FastAPI) -> list[str]:
        ctx = fake_context(serve(app), tmp_path)
        _, output, offline_log, _ = check_validator.run_validator(
            ctx, "iceye-fake", ["core", "item-search"], []
        )
        assert offline_log.get("schema_misses") == {}
        errors, _, crash = check_validator.parse_output(output)
        assert crash is None, crash
        return errors

    missing = "GET pagination first request had no 'next' link relation"
    assert not any(missing in e for e in errors_for(fake_app()))
    assert any(missing in e for e in errors_for(fake_app(next_links=False)))


def test_validator_errors_fail_their_class_and_only_known_deviations_are_waived() -> None:
    output = "\n".join(
        [
            "Warnings: none",
            "Errors:",
            "- [Item Search] GET pagination first request had no 'next' link relation",
            "- [Item Search] : GET http://h/search params={'datetime': '1985-12-12T23:20:50.52'} "
            "body= had unexpected status code 200 instead of 400: invalid datetime",
            "- [Item Search - Filter Ext] : GET http://h/search params={'limit': 1, "
            "'filter-lang': 'cql2-text', 'filter': \"mission LIKE 'sentinel%'\"} body= had "
            "unexpected status code 400 instead of 200: ",
        ]
    )
    cases, _ = check_validator._judge("c", ["core", "item-search", "filter"], output, {}, 1)
    status = {c.name: c.status for c in cases}
    assert status["c: core"] == PASS
    assert status["c: item-search"] == FAIL  # the missing next link is not waived
    assert status["c: filter"] == WAIVED
    assert status["c: offline schemas"] == PASS


def test_offline_serves_the_mirror_and_refuses_the_rest() -> None:
    with offline() as log:
        resp = requests.get(SAR, timeout=5)
        assert resp.status_code == 200 and resp.json()["$id"].startswith(
            "https://stac-extensions.github.io/sar/v1.3.0/"
        )
        with pytest.raises(requests.ConnectionError):
            requests.get("https://stac-extensions.github.io/nope/v9.9.9/schema.json", timeout=5)
    assert SAR in log.served
    assert "https://stac-extensions.github.io/nope/v9.9.9/schema.json" in log.schema_misses
    assert issubclass(OfflineRefused, Exception)


def test_cog_typing_sub_check() -> None:
    cog = [fake_item("capella-fake", 1)]
    plain = [fake_item("iceye-fake", 1, tiff="image/tiff; application=geotiff")]
    none = [copy.deepcopy(cog[0])]
    none[0]["assets"] = {
        "thumbnail": {"href": "x.png", "type": "image/png", "roles": ["thumbnail"]}
    }
    assert check_qgis.cog_typing(cog)[0] == PASS
    assert check_qgis.cog_typing(none)[0] == NOT_APPLICABLE_YET
    status, detail = check_qgis.cog_typing(plain)
    assert status == FAIL and "iceye-fake asset 'data'" in detail


def stacit_ready(**asset_overrides: Any) -> dict[str, Any]:
    item = fake_item("capella-fake", 1)
    item["stac_extensions"] = [
        SAR,
        "https://stac-extensions.github.io/projection/v1.2.0/schema.json",
    ]
    item["assets"]["data"].update(
        {
            "proj:epsg": 32635,
            "proj:code": "EPSG:32635",
            "proj:shape": [512, 512],
            "proj:transform": [10.0, 0.0, 380000.0, 0.0, -10.0, 6700000.0],
            **asset_overrides,
        }
    )
    return item


def test_gdal_check_names_what_stacit_would_miss() -> None:
    assert check_gdal.stacit_problems(stacit_ready()) == []
    without_epsg = stacit_ready()
    del without_epsg["assets"]["data"]["proj:epsg"]
    assert any("proj:epsg" in p for p in check_gdal.stacit_problems(without_epsg))
    assert any(
        "does not match" in p
        for p in check_gdal.stacit_problems(stacit_ready(**{"proj:code": "EPSG:4326"}))
    )
    one_grid = stacit_ready()
    del one_grid["assets"]["data"]["proj:shape"]
    assert any("only" in p for p in check_gdal.stacit_problems(one_grid))
    rotated = stacit_ready(**{"proj:transform": [10.0, 0.5, 380000.0, 0.0, -10.0, 6700000.0]})
    assert any("north-up" in p for p in check_gdal.stacit_problems(rotated))
    no_extension = stacit_ready()
    no_extension["stac_extensions"] = [SAR]
    assert any("projection extension" in p for p in check_gdal.stacit_problems(no_extension))


def test_gdal_check_buys_nothing_from_a_bridge_that_is_not_a_sandbox(
    serve: Any, tmp_path: Path
) -> None:
    """Against real contracts, ordering would spend money: only a sandbox is ordered from."""
    app = FastAPI()
    orders: list[str] = []

    @app.get("/collections")
    def collections() -> dict[str, Any]:
        data = {"data": {"type": COG, "roles": ["data"]}}
        docs = [
            {"id": f"{p}-data", "item_assets": data, "summaries": {"proj:epsg": [32635]}}
            for p in PROVIDERS
        ]
        return {"collections": docs, "links": []}

    @app.post("/search")
    async def search(request: Request) -> dict[str, Any]:
        body = await request.json()
        collection = body["collections"][0]
        item = stacit_ready()
        item["collection"], item["id"] = collection, f"{collection}-1"
        return {"type": "FeatureCollection", "features": [item], "links": []}

    @app.post("/collections/{cid}/items/{iid}/order")
    def order(cid: str, iid: str) -> dict[str, Any]:
        orders.append(iid)
        return {"id": "o1", "status": "succeeded"}

    result = check_gdal.run(fake_context(serve(app), tmp_path))
    assert orders == []
    assert case(result, "order them").status == "not covered"
    assert case(result, "projection fields").status == PASS
    assert result.passed, [(c.name, c.detail) for c in result.cases if c.status == FAIL]


def test_browser_check_fails_where_no_stac_browser_is_served(serve: Any, tmp_path: Path) -> None:
    result = check_browser.run(fake_context(serve(fake_app()), tmp_path))
    assert not result.passed
    failed = [c for c in result.cases if c.status == FAIL]
    assert failed and ("not built" in failed[0].detail or "chromium" in failed[0].name)


def test_gdal_check_chooses_from_the_collection_documents() -> None:
    cog = {"data": {"type": COG, "roles": ["data"]}}
    docs = [
        {"id": "alpha-b", "item_assets": cog, "summaries": {"proj:epsg": [32635]}},
        {"id": "alpha-a", "item_assets": cog, "summaries": {}},
        {"id": "beta-a", "item_assets": {"png": {"type": "image/png", "roles": ["data"]}}},
        {"id": "gamma-x", "item_assets": cog},
    ]
    chosen = check_gdal.choose_collections(docs)
    assert chosen == {
        "alpha": check_gdal.Choice("alpha-b", grid=True),
        "gamma": check_gdal.Choice("gamma-x", grid=False),
    }


def test_report_names_checks_classes_and_versions(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from conformance import report

    result = CheckResult("qgis", "QGIS request pattern", False, ["d"], [])
    text = report.render(
        [result],
        ["https://api.stacspec.org/v1.0.0/core", check_qgis.OAS30],
        "fake",
        datetime.now(UTC),
        1.0,
    )
    assert "**Result: FAIL**" in text and "QGIS request pattern" in text
    assert "https://api.stacspec.org/v1.0.0/core" in text and "| python |" in text


# -- check 7: schemathesis, against a tiny API whose document is true or not -----------


def tiny_api(*, document_404: bool) -> FastAPI:
    """One operation answering 404 for every thing but ``1``; documented or not."""
    app = FastAPI(openapi_url="/api")
    error = {"type": "object", "required": ["code", "description"]}
    not_found: dict[int | str, dict[str, Any]] = {
        404: {"description": "no such thing", "content": {"application/json": {"schema": error}}}
    }

    @app.get(
        "/things/{thing_id}", operation_id="getThing", responses=not_found if document_404 else None
    )
    def thing(thing_id: str) -> JSONResponse:
        if thing_id != "1":
            return JSONResponse({"code": "NotFound", "description": "no thing"}, status_code=404)
        return JSONResponse({"id": "1"})

    return app


def test_schemathesis_check_fails_on_an_undocumented_status(serve: Any, tmp_path: Path) -> None:
    lying = check_schemathesis.run(fake_context(serve(tiny_api(document_404=False)), tmp_path))
    assert not lying.passed
    failed = case(lying, "GET /things/{thing_id}")
    assert failed.status == FAIL and "ST103" in failed.detail and "404" in failed.detail
    assert lying.versions["schemathesis"]

    truthful = check_schemathesis.run(fake_context(serve(tiny_api(document_404=True)), tmp_path))
    assert truthful.passed, [(c.name, c.detail) for c in truthful.cases if c.status == FAIL]
    waived = [c for c in truthful.cases if c.status == WAIVED]
    assert waived and all(c.detail for c in waived)  # every waiver carries its reason


def test_schemathesis_check_sends_nothing_off_loopback(tmp_path: Path) -> None:
    for root in ("http://example.com/", "http://10.0.0.1:8080/"):
        with pytest.raises(ValueError, match="loopback"):
            check_schemathesis.run(fake_context(root, tmp_path))
    assert not (tmp_path / "schemathesis").exists()
    check_schemathesis.ensure_loopback("http://[::1]:8080/")
    check_schemathesis.ensure_loopback("http://localhost:8080/")


def test_schemathesis_waivers_become_per_operation_config() -> None:
    text = check_schemathesis.config_toml()
    assert 'include-operation-id = ["getBrowser"]' in text
    assert 'checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]' in text
    assert "checks.positive_data_acceptance.enabled = false" in text
