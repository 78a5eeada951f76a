"""Check 4: QGIS's request pattern (QGIS 3.40+ cannot be installed here, so its requests
are replayed as its source makes them; see shared/clients.md).

- The root counts as a STAC API only with the OGC ``oas30`` class; the browser follows the
  ``data`` link, each collection's ``items`` link and ``next`` links.
- The search dialog sends ``GET /search?collections=<all ids>&bbox=...&datetime=...`` with
  no ``limit`` and datetimes with milliseconds and no UTC offset, and follows ``next`` by
  GET only.
- Its parser needs ``bbox`` on items, ``license`` and ``extent`` on collections, ``links``
  on item collections; it streams COGs typed
  ``image/tiff; application=geotiff; profile=cloud-optimized``.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import httpx
from shapely.geometry import box, shape

from conformance.core import (
    COG,
    FAIL,
    HELSINKI_BBOX,
    NOT_APPLICABLE_YET,
    PASS,
    PROVIDERS,
    Cases,
    CheckResult,
    Context,
    expect,
)

NAME = "qgis"
TITLE = "QGIS request pattern"
OAS30 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"
# QGIS's search dialog: milliseconds, no UTC offset (read as UTC by the bridge).
QGIS_DATETIME = "2023-01-01T00:00:00.000/2024-12-31T23:59:59.999"
SAME_IN_UTC = "2023-01-01T00:00:00.000Z/2024-12-31T23:59:59.999Z"
MAX_PAGES = 300
BROWSE_PAGES = 3


class QgisLike:
    """An HTTP client that sends what QGIS sends and records what it receives."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.http = httpx.Client(headers=ctx.headers, timeout=120)
        self.items: list[dict[str, Any]] = []

    def get(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        resp = self.http.get(url, params=params)
        expect(resp.status_code == 200, f"GET {resp.url}: {resp.status_code} {resp.text[:300]}")
        body = resp.json()
        self.ctx.recorder.add(NAME, "GET", str(resp.url), body)
        if body.get("type") == "FeatureCollection":
            self.items.extend(body.get("features") or [])
        return body  # type: ignore[no-any-return]

    def follow(self, first: dict[str, Any], what: str, max_pages: int) -> list[dict[str, Any]]:
        """Every page from ``first`` on, following ``next`` by GET only, as QGIS does."""
        pages = [first]
        while len(pages) < max_pages:
            page = pages[-1]
            expect(page.get("type") == "FeatureCollection", f"{what}: not a FeatureCollection")
            expect(isinstance(page.get("links"), list), f"{what}: item collection has no links")
            nxt = [link for link in page["links"] if link.get("rel") == "next"]
            if not nxt:
                break
            link = nxt[0]
            expect(
                link.get("method", "GET").upper() == "GET" and "body" not in link,
                f"{what}: next link is not a plain GET link: {link}",
            )
            pages.append(self.get(link["href"]))
        return pages


def _link(doc: dict[str, Any], rel: str) -> dict[str, Any] | None:
    return next((lnk for lnk in doc.get("links", []) if lnk.get("rel") == rel), None)


def _check_item(item: dict[str, Any], area: Any, what: str) -> None:
    label = f"{what}: {item.get('collection')}/{item.get('id')}"
    expect(str(item.get("stac_version", "")).startswith("1."), f"{label}: stac_version")
    bbox = item.get("bbox")
    expect(
        isinstance(bbox, list) and len(bbox) in (4, 6) and item.get("geometry"),
        f"{label}: no bbox (QGIS needs bbox with geometry)",
    )
    props = item.get("properties", {})
    expect(
        props.get("datetime") or (props.get("start_datetime") and props.get("end_datetime")),
        f"{label}: neither datetime nor start/end",
    )
    if area is not None:
        expect(shape(item["geometry"]).intersects(area), f"{label}: outside the search bbox")


def cog_typing(items: list[dict[str, Any]]) -> tuple[str, str]:
    """(status, detail) of the COG media-type sub-check over ``items``."""
    offenders: dict[tuple[str, str, str], int] = {}
    tiff_data = 0
    for item in items:
        for key, asset in (item.get("assets") or {}).items():
            media = str(asset.get("type") or "")
            if not media.lower().startswith("image/tiff"):
                continue
            if "data" in (asset.get("roles") or []):
                tiff_data += 1
            if "profile=cloud-optimized" not in media.replace(" ", ""):
                coll = str(item.get("collection"))
                offenders[(coll, key, media)] = offenders.get((coll, key, media), 0) + 1
    if offenders:
        lines = [f"{c} asset '{k}' typed '{m}' ({n} items)" for (c, k, m), n in offenders.items()]
        return FAIL, (
            f"assets typed image/tiff without profile=cloud-optimized (QGIS only streams "
            f"'{COG}'):\n" + "\n".join(sorted(lines))
        )
    if tiff_data == 0:
        return NOT_APPLICABLE_YET, "no item has a data asset typed image/tiff"
    return PASS, f"{tiff_data} data assets typed as COG"


def _landing_and_collections(
    ctx: Context, qgis: QgisLike, cases: Cases
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    landing: dict[str, Any] = {}
    collections: list[dict[str, Any]] = []
    with cases.case("landing page: oas30, data and search links") as notes:
        landing = qgis.get(ctx.root)
        expect(OAS30 in landing.get("conformsTo", []), f"conformsTo lacks {OAS30}")
        data = _link(landing, "data")
        expect(data and data["href"].rstrip("/").endswith("/collections"), "no data link")
        expect(_link(landing, "search"), "no search link")
        expect(str(landing.get("stac_version", "")).startswith("1."), "stac_version is not 1.x")
        notes.append(f"stac_version {landing.get('stac_version')}")
    with cases.case("collections (data link): license, extent, items link") as notes:
        data = _link(landing, "data") or {"href": ctx.url("collections")}
        collections = qgis.get(data["href"]).get("collections", [])
        expect(collections, "no collections")
        for coll in collections:
            cid = coll.get("id")
            expect(coll.get("license"), f"{cid}: no license")
            ext = coll.get("extent") or {}
            expect(ext.get("spatial", {}).get("bbox"), f"{cid}: no extent.spatial.bbox")
            expect(ext.get("temporal", {}).get("interval"), f"{cid}: no temporal interval")
            expect(_link(coll, "items"), f"{cid}: no items link")
        notes.append(f"{len(collections)} collections")
    return landing, collections


def _browse(qgis: QgisLike, cases: Cases, collections: list[dict[str, Any]]) -> None:
    with cases.case("browse: items link, then next by GET") as notes:
        for provider in PROVIDERS:
            coll = next(c for c in collections if c["id"].startswith(provider))
            items_link = _link(coll, "items")
            expect(items_link, f"{coll['id']}: no items link")
            first = qgis.get(items_link["href"])  # type: ignore[index]
            pages = qgis.follow(first, f"browse {coll['id']}", BROWSE_PAGES)
            expect(len(pages) > 1, f"browse {coll['id']}: no next link on the first page")
            for page in pages:
                for item in page["features"]:
                    _check_item(item, None, f"browse {coll['id']}")
        notes.append(f"{BROWSE_PAGES} pages of one collection per provider")


def _search(ctx: Context, qgis: QgisLike, cases: Cases, collections: list[dict[str, Any]]) -> None:
    ids = ",".join(c["id"] for c in collections)
    bbox = ",".join(str(v) for v in HELSINKI_BBOX)
    total: list[str] = []
    with cases.case("search dialog: all collections, bbox, ms datetime without offset") as notes:
        params = {"collections": ids, "bbox": bbox, "datetime": QGIS_DATETIME}
        first = qgis.get(ctx.url("search"), params)
        pages = qgis.follow(first, "search", MAX_PAGES)
        expect(len(pages) < MAX_PAGES, f"search: next links did not end in {MAX_PAGES} pages")
        area = box(*HELSINKI_BBOX)
        for page in pages:
            for item in page["features"]:
                _check_item(item, area, "search")
                total.append(f"{item['collection']}/{item['id']}")
        expect(len(total) == len(set(total)), "search: an item came twice across pages")
        expect(len(pages) > 1, "search: a single page; paging was not exercised")
        matched = first.get("numberMatched")
        expect(matched is None or matched == len(total), f"numberMatched {matched} != {len(total)}")
        notes.append(f"{len(total)} items in {len(pages)} pages, next followed by GET")
    with cases.case("search dialog: no-offset datetimes are read as UTC") as notes:
        params = {"collections": ids, "bbox": bbox, "datetime": SAME_IN_UTC}
        pages = qgis.follow(qgis.get(ctx.url("search"), params), "search (Z)", MAX_PAGES)
        utc = [f"{i['collection']}/{i['id']}" for p in pages for i in p["features"]]
        expect(utc == total, f"{len(utc)} items with Z vs {len(total)} without offset")
        notes.append("same items as with Z")


def run(ctx: Context) -> CheckResult:
    cases = Cases()
    qgis = QgisLike(ctx)
    with qgis.http:
        _, collections = _landing_and_collections(ctx, qgis, cases)
        if collections:
            _browse(qgis, cases, collections)
            _search(ctx, qgis, cases, collections)
        status, detail = cog_typing(qgis.items)
        cases.add("COG asset typing (data assets)", status, detail)
    return CheckResult(NAME, TITLE, cases.passed, [], cases.cases, {"httpx": version("httpx")})
