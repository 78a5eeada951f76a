"""Check 5: GDAL (Debian ``gdal-bin``) reads ordered imagery through the bridge.

- For each provider whose data assets carry projection fields, a few scenes near Helsinki
  in one UTM zone are ordered with the demo key (only from a sandbox bridge: against real
  contracts that would buy imagery) and waited for; then
  ``gdalinfo -checksum 'STACIT:"<search url>":asset=<key>'`` builds and reads the VRT
  mosaic of them, with the key in ``GDAL_HTTP_HEADERS`` (GDAL follows the 307 to the
  signed provider URL). The same mosaic without the key must fail: the data is not public.
- ``gdalinfo /vsicurl/<asset href>`` on one ordered asset of every provider: a COG whose
  CRS, size and geotransform are what the item's ``proj:*`` fields say.
- Every COG data asset of what this check searched carries what GDAL 3.6's STACIT driver
  needs: the projection extension URI, ``proj:epsg`` alongside ``proj:code``, and two of
  ``proj:shape``, ``proj:transform``, ``proj:bbox``.

Arlula's archive API does not describe the grid of the file it delivers, so its items
carry no projection fields and cannot join a STACIT mosaic; its data is read through
``/vsicurl/`` only (reported as not covered, with that reason).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from conformance.core import (
    COG,
    HELSINKI_BBOX,
    NOT_COVERED,
    PROVIDERS,
    Cases,
    CheckResult,
    Context,
    expect,
)

NAME = "gdal"
TITLE = "GDAL STACIT mosaic and /vsicurl/ of ordered items"
PROJ_EXTENSION = re.compile(r"https://stac-extensions\.github\.io/projection/v[\d.]+/schema\.json")
MOSAIC_ITEMS = 3
ORDER_TIMEOUT_S = 120.0
GDAL_TIMEOUT_S = 180


@dataclass(frozen=True)
class Choice:
    """The collection of one provider this check orders from, read from the documents."""

    collection: str
    grid: bool
    """Whether its summaries declare the projection fields a mosaic needs."""


def choose_collections(collections: list[dict[str, Any]]) -> dict[str, Choice]:
    """Per provider (the collection id's prefix), the first collection by id whose
    ``item_assets`` offer a COG data asset, preferring one whose summaries declare
    ``proj:epsg`` (its items can be mosaicked): the choice comes from each provider's own
    collection documents, so a new provider needs no entry here."""
    chosen: dict[str, Choice] = {}
    for doc in sorted(collections, key=lambda d: str(d["id"])):
        assets = (doc.get("item_assets") or {}).values()
        if not any(a.get("type") == COG and "data" in (a.get("roles") or []) for a in assets):
            continue
        provider = str(doc["id"]).split("-")[0]
        grid = "proj:epsg" in (doc.get("summaries") or {})
        if provider not in chosen or (grid and not chosen[provider].grid):
            chosen[provider] = Choice(str(doc["id"]), grid)
    return chosen


@dataclass
class Ordered:
    """Items of one collection ordered for this check, and their COG data asset key."""

    collection: str
    items: list[dict[str, Any]]
    asset: str


def data_asset(item: dict[str, Any]) -> str | None:
    """The key of the item's first COG data asset."""
    return next(iter(_cog_data_keys(item)), None)


def _cog_data_keys(item: dict[str, Any]) -> list[str]:
    return [
        str(key)
        for key, asset in item.get("assets", {}).items()
        if asset.get("type") == COG and "data" in (asset.get("roles") or [])
    ]


def asset_fields(item: dict[str, Any], key: str) -> dict[str, Any]:
    """An asset's fields over its item's properties (projection fields may sit on either)."""
    return {**item.get("properties", {}), **item["assets"][key]}


def stacit_problems(item: dict[str, Any]) -> list[str]:
    """What GDAL 3.6's STACIT driver would miss on the item's COG data assets."""
    problems = []
    if not any(PROJ_EXTENSION.fullmatch(u) for u in item.get("stac_extensions", [])):
        problems.append("no projection extension in stac_extensions")
    for key in _cog_data_keys(item):
        merged = asset_fields(item, key)
        epsg, code = merged.get("proj:epsg"), merged.get("proj:code")
        if not isinstance(epsg, int):
            problems.append(f"{key}: no integer proj:epsg")
        if code != f"EPSG:{epsg}":
            problems.append(f"{key}: proj:code {code!r} does not match proj:epsg {epsg!r}")
        grid = [f for f in ("proj:shape", "proj:transform", "proj:bbox") if f in merged]
        if len(grid) < 2:
            problems.append(f"{key}: only {grid} of proj:shape/transform/bbox")
        transform = merged.get("proj:transform") or [0, 0, 0, 0, 0, 0]
        if transform[1] != 0 or transform[3] != 0:
            problems.append(f"{key}: proj:transform is not north-up")
    return problems


class Gdal:
    """Runs GDAL's command-line tools with or without the bridge key."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def info(self, *args: str, key: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
        env.pop("GDAL_HTTP_HEADERS", None)
        if key:
            env["GDAL_HTTP_HEADERS"] = f"X-API-Key: {self.ctx.api_key}"
        return subprocess.run(
            ["gdalinfo", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=GDAL_TIMEOUT_S,
            check=False,
        )


class Orders:
    """Orders items with the demo key (idempotently, so a rerun places nothing new)."""

    def __init__(self, ctx: Context, http: httpx.Client) -> None:
        self.ctx = ctx
        self.http = http

    def collections(self) -> list[dict[str, Any]]:
        """Every collection document the bridge serves (following ``next`` links)."""
        docs: list[dict[str, Any]] = []
        url: str | None = self.ctx.url("collections")
        while url:
            resp = self.http.get(url)
            expect(resp.status_code == 200, f"collections: {resp.status_code} {resp.text}")
            body = resp.json()
            docs.extend(body["collections"])
            url = next((ln["href"] for ln in body.get("links", []) if ln["rel"] == "next"), None)
        return docs

    def search(self, collection: str) -> list[dict[str, Any]]:
        body = {"collections": [collection], "bbox": HELSINKI_BBOX, "limit": 100}
        resp = self.http.post(self.ctx.url("search"), json=body)
        expect(resp.status_code == 200, f"search {collection}: {resp.status_code} {resp.text}")
        page = resp.json()
        self.ctx.recorder.add(NAME, "POST", str(resp.url), page)
        return [i for i in page["features"] if data_asset(i)]

    def order_all(self, items: list[dict[str, Any]]) -> None:
        ids = []
        for item in items:
            href = self.ctx.url(f"collections/{item['collection']}/items/{item['id']}/order")
            resp = self.http.post(href, headers={"Idempotency-Key": f"gdal-{item['id']}"})
            expect(resp.status_code in (200, 201), f"order {item['id']}: {resp.text}")
            ids.append(resp.json()["id"])
        deadline = time.monotonic() + ORDER_TIMEOUT_S
        for order_id in ids:
            while True:
                order = self.http.get(self.ctx.url(f"orders/{order_id}")).json()
                if order["status"] == "succeeded":
                    break
                expect(order["status"] not in ("failed", "canceled"), f"order {order}")
                expect(time.monotonic() < deadline, f"order {order_id} still {order['status']}")
                time.sleep(0.5)


def _one_layer(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to MOSAIC_ITEMS items of the commonest (CRS, data asset key, resolution within a
    factor of about two): STACIT makes one mosaic per asset key and CRS, and a mosaic of
    35 m and 240 m scenes is nothing anyone asks for (GDAL 3.6 leaves the odd one out)."""

    def layer(item: dict[str, Any]) -> tuple[Any, str, int]:
        key = data_asset(item) or ""
        asset = asset_fields(item, key)
        pixel = abs((asset.get("proj:transform") or [1.0])[0]) or 1.0
        return asset.get("proj:epsg"), key, round(math.log2(pixel))

    layers = Counter(layer(i) for i in items)
    expect(layers, "no items")
    commonest = layers.most_common(1)[0][0]
    return [i for i in items if layer(i) == commonest][:MOSAIC_ITEMS]


def _stacit_url(ctx: Context, ordered: Ordered) -> str:
    ids = ",".join(i["id"] for i in ordered.items)
    return ctx.url("search") + "?" + urlencode({"collections": ordered.collection, "ids": ids})


def _mosaic(ctx: Context, gdal: Gdal, cases: Cases, provider: str, ordered: Ordered) -> None:
    url = _stacit_url(ctx, ordered)
    asset = asset_fields(ordered.items[0], ordered.asset)
    with cases.case(f"{provider}: STACIT mosaic of {len(ordered.items)} ordered items") as notes:
        listing = gdal.info(f'STACIT:"{url}"')
        expect(listing.returncode == 0, f"gdalinfo STACIT listing: {listing.stderr}")
        if "SUBDATASET_1_NAME" in listing.stdout:  # else the data asset is the only layer
            expect(
                f":asset={ordered.asset}" in listing.stdout,
                f"no subdataset for asset {ordered.asset}: {listing.stdout[:800]}",
            )
            expect("asset=thumbnail" not in listing.stdout, "a thumbnail was offered as a layer")
        out = gdal.info("-checksum", f'STACIT:"{url}":asset={ordered.asset}')
        expect(out.returncode == 0, f"gdalinfo STACIT mosaic: {out.stderr}")
        expect("ERROR" not in out.stderr, f"GDAL errors: {out.stderr[:800]}")
        expect("Driver: VRT/Virtual Raster" in out.stdout, f"not a VRT: {out.stdout[:400]}")
        files = re.findall(r"/vsicurl/(\S+)", out.stdout.split("Size is")[0])
        expect(
            len(files) == len(ordered.items),
            f"{len(files)} source files for {len(ordered.items)} items: {files}",
        )
        expect(
            all(f.startswith(ctx.root) and "/assets/" in f for f in files),
            f"sources are not the bridge's asset URLs: {files}",
        )
        expect(f'ID["EPSG",{asset["proj:epsg"]}]' in out.stdout, "mosaic CRS is not proj:epsg")
        size = re.search(r"Size is (\d+), (\d+)", out.stdout)
        expect(size and int(size[1]) > 0 and int(size[2]) > 0, "mosaic has no size")
        sums = re.findall(r"Checksum=(\d+)", out.stdout)
        expect(sums and any(int(s) for s in sums), f"no pixels read: {sums}")
        assert size is not None
        notes.append(f"EPSG:{asset['proj:epsg']}, {size[1]}x{size[2]} px, {len(sums)} bands read")
    with cases.case(f"{provider}: the mosaic needs the key") as notes:
        out = gdal.info("-checksum", f'STACIT:"{url}":asset={ordered.asset}', key=False)
        expect(out.returncode != 0 or "ERROR" in out.stderr, "ordered data was read without a key")
        expect("401" in out.stderr, f"no 401 in GDAL's errors: {out.stderr[:400]}")
        notes.append("401 without GDAL_HTTP_HEADERS")


def _vsicurl(gdal: Gdal, cases: Cases, provider: str, ordered: Ordered) -> None:
    item = ordered.items[0]
    asset = asset_fields(item, ordered.asset)
    with cases.case(f"{provider}: gdalinfo /vsicurl/ on an ordered asset") as notes:
        out = gdal.info(f"/vsicurl/{item['assets'][ordered.asset]['href']}")
        expect(out.returncode == 0, f"gdalinfo /vsicurl/: {out.stderr}")
        expect("Driver: GTiff" in out.stdout, f"not a GeoTIFF: {out.stdout[:300]}")
        expect("LAYOUT=COG" in out.stdout, "not a cloud-optimized GeoTIFF")
        if "proj:epsg" not in asset:
            notes.append("COG read (no proj fields to compare)")
            return
        expect(f'ID["EPSG",{asset["proj:epsg"]}]' in out.stdout, "file CRS is not proj:epsg")
        size = re.search(r"Size is (\d+), (\d+)", out.stdout)
        expect(size is not None, "no size")
        assert size is not None
        if "proj:shape" in asset:
            rows, cols = asset["proj:shape"]
            expect((int(size[1]), int(size[2])) == (cols, rows), f"size {size[0]} vs proj:shape")
        if "proj:transform" in asset:
            origin = re.search(r"Origin = \(([-\d.]+),([-\d.]+)\)", out.stdout)
            expect(origin is not None, "no origin")
            assert origin is not None
            t = asset["proj:transform"]
            expect(
                abs(float(origin[1]) - t[2]) < 1e-3 and abs(float(origin[2]) - t[5]) < 1e-3,
                f"origin {origin[0]} vs proj:transform {t}",
            )
        notes.append(f"COG in EPSG:{asset['proj:epsg']}, grid as proj:* says")


def run(ctx: Context) -> CheckResult:
    cases = Cases()
    gdalinfo = shutil.which("gdalinfo")
    versions: dict[str, str] = {}
    if gdalinfo is None:
        cases.add("gdalinfo", "fail", "Debian gdal-bin is missing: `make conformance` installs it")
        return CheckResult(NAME, TITLE, False, [], cases.cases, versions)
    gdal = Gdal(ctx)
    versions["GDAL"] = gdal.info("--version").stdout.strip().split(",")[0].replace("GDAL ", "")
    searched: list[dict[str, Any]] = []
    chosen: dict[str, Ordered] = {}
    with httpx.Client(headers=ctx.headers, timeout=120) as http:
        orders = Orders(ctx, http)
        choices: dict[str, Choice] = {}
        with cases.case("scenes near Helsinki with COG data assets, per provider") as notes:
            choices = choose_collections(orders.collections())
            missing = set(PROVIDERS) - set(choices)
            expect(not missing, f"no collection with a COG data asset: {sorted(missing)}")
            for provider in PROVIDERS:
                choice = choices[provider]
                items = orders.search(choice.collection)
                expect(items, f"{choice.collection}: no item with a COG data asset near Helsinki")
                if choice.grid:
                    searched.extend(items)
                picked = _one_layer(items) if choice.grid else items[:1]
                chosen[provider] = Ordered(choice.collection, picked, data_asset(picked[0]) or "")
            notes.append(", ".join(f"{len(o.items)} of {o.collection}" for o in chosen.values()))
        with cases.case("projection fields GDAL 3.6 needs, on every COG data asset") as notes:
            problems = {f"{i['collection']}/{i['id']}": stacit_problems(i) for i in searched}
            bad = {k: v for k, v in problems.items() if v}
            expect(not bad, f"{len(bad)} items: {list(bad.items())[:3]}")
            gridded = sorted(p for p, c in choices.items() if c.grid)
            notes.append(
                f"{len(searched)} items of {len(gridded)} providers ({', '.join(gridded)})"
            )
        ordered = False
        if http.get(ctx.url("sandbox")).status_code != 200:
            # Against a bridge with real provider contracts, ordering would buy imagery.
            cases.add("order them", NOT_COVERED, "not a sandbox bridge: no imagery is bought")
        elif chosen:
            with cases.case("order them with the demo key") as notes:
                orders.order_all([i for o in chosen.values() for i in o.items])
                notes.append("every order succeeded")
                ordered = True
        for provider, picked in chosen.items() if ordered else ():
            if not choices[provider].grid:
                reason = f"{picked.collection}'s summaries declare no projection fields (proj:*)"
                cases.add(f"{provider}: STACIT mosaic", NOT_COVERED, reason)
            else:
                _mosaic(ctx, gdal, cases, provider, picked)
            _vsicurl(gdal, cases, provider, picked)
    return CheckResult(NAME, TITLE, cases.passed, [], cases.cases, versions)
