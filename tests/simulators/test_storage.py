"""Simulated storage: real COGs on the scene's grid, served through expiring signed URLs."""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from starlette.applications import Starlette

from bridge.simulators.common.app import SimulatorConfig, simulator_app
from bridge.simulators.common.cog import (
    COG_MEDIA_TYPE,
    PNG_MEDIA_TYPE,
    PixelSpec,
    clear_cache,
    cog_bytes,
    compute_grid,
    png_bytes,
    scene_grid,
    stable_seed,
    utm_epsg,
)
from bridge.simulators.common.grid import project_bbox
from bridge.simulators.common.storage import (
    ObjectStore,
    RangeNotSatisfiable,
    StoredObject,
    byte_range,
    content_disposition,
)
from tests.support.clock import ManualClock
from tests.support.serve import served as serve_app

BASE = "http://storage.simulator"
HELSINKI = (24.80, 60.10, 25.00, 60.25)
SAR = PixelSpec("sar", 1, "uint16")
KEY = "capella-archive/2021/4/22/SCENE_1/SCENE_1.tif"

# TIFF tags read by the layout checks.
TILE_WIDTH, TILE_OFFSETS, TILE_BYTE_COUNTS = 322, 324, 325


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def store(clock: ManualClock) -> ObjectStore:
    s = ObjectStore("test-secret", clock=clock)
    grid = scene_grid(HELSINKI)
    s.put(KEY, functools.partial(cog_bytes, grid, SAR, 7), COG_MEDIA_TYPE, "SCENE_1.tif")
    s.put("thumb.png", functools.partial(png_bytes, grid, SAR, 7), PNG_MEDIA_TYPE)
    return s


@pytest.fixture
def app(store: ObjectStore) -> Starlette:
    return simulator_app("storage-test", store.routes(), SimulatorConfig())


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def read_ifds(buf: bytes) -> list[dict[int, list[int]]]:
    """The IFDs of a little-endian classic TIFF as {tag: values}, plus key 0: [start, end]."""
    assert buf[:4] == b"II*\x00"
    (offset,) = struct.unpack_from("<I", buf, 4)
    ifds = []
    while offset:
        (count,) = struct.unpack_from("<H", buf, offset)
        tags: dict[int, list[int]] = {0: [offset, offset + 2 + 12 * count + 4]}
        for i in range(count):
            tag, kind, n, value = struct.unpack_from("<HHII", buf, offset + 2 + 12 * i)
            width = {3: 2, 4: 4}.get(kind)
            if width is None:
                continue  # doubles and ASCII: not needed here
            fmt = "<" + ("H" if width == 2 else "I") * n
            where = offset + 2 + 12 * i + 8 if n * width <= 4 else value
            tags[tag] = list(struct.unpack_from(fmt, buf, where))
            if n * width > 4:
                tags[0][1] = max(tags[0][1], value + n * width)
        ifds.append(tags)
        (offset,) = struct.unpack_from("<I", buf, offset + 2 + 12 * count)
    return ifds


# --- grids and proj:* -------------------------------------------------------------------


def test_proj_fields_without_pixels() -> None:
    grid = scene_grid(HELSINKI, size=512)
    fields = grid.proj_fields()
    assert fields["proj:epsg"] == utm_epsg(24.9, 60.175) == 32635
    assert fields["proj:code"] == "EPSG:32635"
    rows, cols = fields["proj:shape"]
    assert max(rows, cols) == 512
    a, b, c, d, e, f = fields["proj:transform"]
    assert b == d == 0 and a > 0 and e == -a  # north-up, square pixels
    xmin, ymin, xmax, ymax = fields["proj:bbox"]
    assert (xmin, ymax) == (c, f)
    assert xmax == pytest.approx(c + a * cols) and ymin == pytest.approx(f + e * rows)


def test_exact_shape_and_epsg_4326() -> None:
    grid = compute_grid(HELSINKI, 4326, (256, 256))
    assert grid.proj_fields()["proj:shape"] == [256, 256]
    assert grid.bbox == pytest.approx(HELSINKI)


@pytest.mark.parametrize(
    "bbox",
    [
        HELSINKI,
        (26.8, 60.1, 27.3, 60.25),  # straddles the zone's central meridian (27 E)
        (151.0, -34.0, 151.3, -33.7),  # southern hemisphere
        (-3.5, -0.3, -2.5, 0.3),  # straddles the equator
    ],
)
def test_fast_utm_bounds_agree_with_proj(bbox: tuple[float, float, float, float]) -> None:
    epsg = utm_epsg((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    # Densified finely, PROJ's bounds approach the exact extremes the fast path computes.
    expected = transform_bounds("EPSG:4326", f"EPSG:{epsg}", *bbox, densify_pts=401)
    assert project_bbox(bbox, epsg) == pytest.approx(expected, abs=0.01)


# --- COG content and layout -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "epsg"),
    [
        (SAR, None),
        (PixelSpec("sar", 1, "float32"), 4326),
        (PixelSpec("optical", 3, "uint8"), None),
        (PixelSpec("optical", 4, "uint16"), 3857),  # a CRS outside the fast path
    ],
)
def test_cog_is_georeferenced_to_the_footprint(spec: PixelSpec, epsg: int | None) -> None:
    grid = scene_grid(HELSINKI, epsg)
    fields = grid.proj_fields()
    with MemoryFile(cog_bytes(grid, spec, 3)) as memfile, memfile.open() as ds:
        assert ds.crs.to_epsg() == fields["proj:epsg"]
        assert [ds.height, ds.width] == fields["proj:shape"]
        assert list(ds.transform)[:6] == pytest.approx(fields["proj:transform"])
        assert list(ds.bounds) == pytest.approx(fields["proj:bbox"])
        assert (ds.count, ds.dtypes[0]) == (spec.bands, spec.dtype)
        # The footprint, reprojected independently through PROJ, fills the raster to
        # within one pixel on every side.
        expected = transform_bounds("EPSG:4326", ds.crs, *HELSINKI, densify_pts=101)
        pixel = max(abs(ds.transform.a), abs(ds.transform.e))
        assert list(ds.bounds) == pytest.approx(expected, abs=pixel)
        pixels = ds.read()
    assert pixels.min() >= 0 and pixels.std() > 0


def test_cog_is_tiled_with_overviews_and_ifds_before_data() -> None:
    grid = scene_grid(HELSINKI, size=512)
    data = cog_bytes(grid, SAR, 3)
    with MemoryFile(data) as memfile, memfile.open() as ds:
        assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)
        assert ds.overviews(1) == [2]
        assert ds.compression.name == "deflate"
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    # GDAL's COG "ghost header" right after the TIFF header announces the layout.
    assert b"LAYOUT=IFDS_BEFORE_DATA" in data[:1024]
    ifds = read_ifds(data)
    assert len(ifds) == 2  # full resolution + one overview
    first_tile = min(min(ifd[TILE_OFFSETS]) for ifd in ifds)
    assert all(ifd[0][1] <= first_tile for ifd in ifds), "an IFD comes after tile data"
    # Overview tiles are stored before full-resolution ones, so a zoomed-out read is one
    # short Range request at the front of the file.
    assert max(ifds[1][TILE_OFFSETS]) < min(ifds[0][TILE_OFFSETS])


def test_cog_bytes_are_deterministic() -> None:
    grid = scene_grid(HELSINKI, size=256)
    clear_cache()
    first = cog_bytes(grid, SAR, 11)
    clear_cache()
    assert cog_bytes(grid, SAR, 11) == first
    assert cog_bytes(grid, SAR, 12) != first
    assert stable_seed("capella", "SCENE_1", "HH") == stable_seed("capella", "SCENE_1", "HH")
    assert stable_seed("capella", "SCENE_1", "HH") != stable_seed("capella", "SCENE_1", "VV")


def test_png_quicklook() -> None:
    grid = scene_grid(HELSINKI, size=512)
    for spec, bands in ((SAR, 1), (PixelSpec("optical", 4, "uint16"), 3)):
        png = png_bytes(grid, spec, 5, max_side=256)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height, depth, colour = struct.unpack_from(">IIBB", png, 16)
        assert (max(width, height), depth, colour) == (256, 8, 2 if bands == 3 else 0)
        idat_len = struct.unpack_from(">I", png, 33)[0]
        raw = zlib.decompress(png[41 : 41 + idat_len])
        assert len(raw) == height * (1 + width * bands)


# --- signed URLs ------------------------------------------------------------------------


async def test_signed_get_returns_the_object(client: httpx.AsyncClient, store: ObjectStore) -> None:
    url = store.sign_url(BASE, KEY, 3600)
    assert set(parse_qs(urlsplit(url).query)) == {"AWSAccessKeyId", "Expires", "Signature"}
    response = await client.get(url)
    assert response.status_code == 200, response.text
    expected = cog_bytes(scene_grid(HELSINKI), SAR, 7)
    assert response.content == expected
    assert response.headers["content-type"] == COG_MEDIA_TYPE
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["etag"] == f'"{hashlib.md5(expected).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"] == 'attachment; filename="SCENE_1.tif"'
    assert store.snapshot()["downloads"] == {KEY: 1}
    stats = client._transport.app.state.stats.snapshot()  # type: ignore[attr-defined]
    assert stats["requests"]["GET /storage/{key:path}"] == 1


async def test_png_object(client: httpx.AsyncClient, store: ObjectStore) -> None:
    response = await client.get(store.sign_url(BASE, "thumb.png"))
    assert response.status_code == 200
    assert response.headers["content-type"] == PNG_MEDIA_TYPE
    assert response.content[:4] == b"\x89PNG"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-500", -500, None)],
)
async def test_range_reads(
    client: httpx.AsyncClient, store: ObjectStore, header: str, first: int, last: int | None
) -> None:
    full = cog_bytes(scene_grid(HELSINKI), SAR, 7)
    size = len(full)
    response = await client.get(store.sign_url(BASE, KEY), headers={"Range": header})
    assert response.status_code == 206
    expected = full[first : None if last is None else last + 1]
    assert response.content == expected
    start = first % size
    assert response.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{size}"
    assert response.headers["content-length"] == str(len(expected))


def test_byte_range_parsing() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=2-5", 10) == (2, 5)
    assert byte_range("bytes=2-50", 10) == (2, 9)  # clipped to the object
    assert byte_range("bytes=-50", 10) == (0, 9)
    assert byte_range("bytes=5-2", 10) is None  # invalid: ignored, whole object
    assert byte_range("bytes=9-", 10) == (9, 9)
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=10-", 10)
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=-1", 0)
    assert byte_range("bytes=0-1,4-5", 10) is None  # multi-range: S3 sends it all
    assert byte_range("items=0-1", 10) is None


async def test_range_past_the_end_is_416(client: httpx.AsyncClient, store: ObjectStore) -> None:
    url = store.sign_url(BASE, KEY)
    size = int((await client.head(url)).headers["content-length"])
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = await client.get(url, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}"
        assert b"<Code>InvalidRange</Code>" in response.content


async def test_resumed_download_like_capella_sdk(
    client: httpx.AsyncClient, store: ObjectStore
) -> None:
    """Read Content-Length, then resume with ``Range: bytes=N-`` until 416 says done."""
    url = store.sign_url(BASE, KEY)
    got = bytearray((await client.get(url, headers={"Range": "bytes=0-99999"})).content)
    while True:
        response = await client.get(url, headers={"Range": f"bytes={len(got)}-"})
        if response.status_code == 416:
            break
        assert response.status_code == 206
        got += response.content
    assert bytes(got) == cog_bytes(scene_grid(HELSINKI), SAR, 7)


async def test_cog_read_through_ranges_like_gdal(
    client: httpx.AsyncClient, store: ObjectStore
) -> None:
    """Fetch the header as GDAL does (first 16 KiB), then one tile by its offsets."""
    url = store.sign_url(BASE, KEY)
    header = (await client.get(url, headers={"Range": "bytes=0-16383"})).content
    assert len(header) == 16384
    full_res = read_ifds(header)[0]  # every IFD parses from the first 16 KiB alone
    tile = full_res[TILE_WIDTH][0]
    offset, length = full_res[TILE_OFFSETS][0], full_res[TILE_BYTE_COUNTS][0]
    response = await client.get(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
    assert response.status_code == 206
    # DEFLATE with horizontal differencing (predictor 2): undo both.
    diffs = np.frombuffer(zlib.decompress(response.content), "<u2").reshape(tile, tile)
    pixels = np.cumsum(diffs, axis=1, dtype=np.uint16)
    with MemoryFile(cog_bytes(scene_grid(HELSINKI), SAR, 7)) as mf, mf.open() as ds:
        assert np.array_equal(pixels, ds.read(1, window=Window(0, 0, tile, tile)))


async def test_head(client: httpx.AsyncClient, store: ObjectStore) -> None:
    size = len(cog_bytes(scene_grid(HELSINKI), SAR, 7))
    url = store.sign_url(BASE, KEY)  # signed for GET: clients probe these with HEAD
    response = await client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(size)
    assert response.headers["content-type"] == COG_MEDIA_TYPE
    partial = await client.head(url, headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.headers["content-length"] == "10"
    head_signed = await client.head(store.sign_url(BASE, KEY, method="HEAD"))
    assert head_signed.status_code == 200
    assert store.snapshot()["downloads"] == {}  # HEADs are not downloads


async def test_expired_url(
    client: httpx.AsyncClient, store: ObjectStore, clock: ManualClock
) -> None:
    url = store.sign_url(BASE, KEY, expires_in_s=3600)
    clock.now += 3599
    assert (await client.get(url, headers={"Range": "bytes=0-0"})).status_code == 206
    clock.now += 2
    response = await client.get(url)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/xml"
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in response.content
    assert b"<Expires>" in response.content and b"<ServerTime>" in response.content
    head = await client.head(url)
    assert (head.status_code, head.content) == (403, b"")


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    query = {k: v for k, v in query.items() if v != ""}
    return f"{BASE}{parts.path}?{urlencode(query)}" if query else f"{BASE}{parts.path}"


def _code(response: httpx.Response) -> str:
    return response.text.split("<Code>")[1].split("</Code>")[0]


async def test_tampered_or_missing_signature(client: httpx.AsyncClient, store: ObjectStore) -> None:
    url = store.sign_url(BASE, KEY, 60)
    expires = parse_qs(urlsplit(url).query)["Expires"][0]
    cases = {
        _with(url, Expires=str(int(expires) + 86400)): "SignatureDoesNotMatch",
        _with(url, Signature="AAAA" + parse_qs(urlsplit(url).query)["Signature"][0][4:]): (
            "SignatureDoesNotMatch"
        ),
        url.replace("SCENE_1.tif", "SCENE_2.tif"): "SignatureDoesNotMatch",
        _with(url, Signature=""): "AccessDenied",
        _with(url, Signature="", Expires="", AWSAccessKeyId=""): "AccessDenied",
        _with(url, AWSAccessKeyId="SOMEONEELSE"): "InvalidAccessKeyId",
    }
    for bad, code in cases.items():
        response = await client.get(bad)
        assert response.status_code == 403, bad
        assert _code(response) == code, bad
    assert store.snapshot()["denied"]["SignatureDoesNotMatch"] == 3


async def test_missing_object_is_404_after_auth(
    client: httpx.AsyncClient, store: ObjectStore
) -> None:
    response = await client.get(store.sign_url(BASE, "no/such/thing.tif"))
    assert response.status_code == 404 and _code(response) == "NoSuchKey"
    unsigned = await client.get(f"{BASE}/storage/no/such/thing.tif")
    assert unsigned.status_code == 403  # no key existence leaks without a signature


async def test_signature_encoding_survives_the_wire(client: httpx.AsyncClient) -> None:
    """Base64 signatures contain + and /, and keys may contain spaces: both round-trip."""
    store = ObjectStore("another secret", algorithm="sha256")
    app = simulator_app("s", store.routes(), SimulatorConfig())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as c:
        for i in range(40):
            key = f"dir {i}/file+{i}.bin"
            store.put(key, f"payload {i}".encode())
            response = await c.get(store.sign_url(BASE, key, 60))
            assert response.status_code == 200, (key, response.text)
            assert response.content == f"payload {i}".encode()


async def test_token_urls(
    client: httpx.AsyncClient, store: ObjectStore, clock: ManualClock
) -> None:
    first, second = store.token_url(BASE, "thumb.png", 600), store.token_url(BASE, "thumb.png", 600)
    assert first != second  # a new token on every request, as Telluric does
    assert set(parse_qs(urlsplit(first).query)) == {"token"}
    for url in (first, second):
        response = await client.get(url)
        assert response.status_code == 200
        assert response.content[:4] == b"\x89PNG"
    token = parse_qs(urlsplit(first).query)["token"][0]
    other = await client.get(f"{BASE}/storage/{KEY}?token={token}")  # token for another key
    assert other.status_code == 403
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (await client.get(f"{BASE}/storage/thumb.png?token={tampered}")).status_code == 403
    assert (await client.get(f"{BASE}/storage/thumb.png?token=garbage")).status_code == 403
    clock.now += 601
    expired = await client.get(first)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


def test_content_disposition_quoting() -> None:
    assert content_disposition("a.tif") == 'attachment; filename="a.tif"'
    assert content_disposition('my "best" scene.tif') == (
        'attachment; filename="my \\"best\\" scene.tif"'
    )
    assert content_disposition("Kyiv\u20132024.tif") == (
        "attachment; filename=\"Kyiv_2024.tif\"; filename*=UTF-8''Kyiv%E2%80%932024.tif"
    )


async def test_factories_run_lazily_and_resolver_supplies_keys(clock: ManualClock) -> None:
    calls: list[str] = []

    def make() -> bytes:
        calls.append("made")
        return b"lazy"

    def resolve(key: str) -> StoredObject | None:
        return StoredObject(key.encode(), "text/plain") if key.startswith("derived/") else None

    store = ObjectStore("s", clock=clock, resolver=resolve)
    store.put("lazy.bin", make)
    assert calls == []
    app = simulator_app("s", store.routes(), SimulatorConfig())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as c:
        assert (await c.get(store.sign_url(BASE, "lazy.bin"))).content == b"lazy"
        derived = await c.get(store.sign_url(BASE, "derived/x"))
        assert derived.content == b"derived/x"
        assert (await c.get(store.sign_url(BASE, "other/x"))).status_code == 404
    assert calls == ["made"]


@pytest.fixture
def served(app: Starlette) -> Iterator[str]:
    """The storage app on a loopback port (uvicorn in a thread), for real HTTP clients."""
    with serve_app(app) as url:
        yield url


def test_gdal_reads_a_signed_cog_over_http(served: str, store: ObjectStore) -> None:
    """GDAL's own /vsicurl/ (bundled in rasterio) opens a presigned href with Range reads."""
    url = store.sign_url(served, KEY, 600)
    with (
        rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="0"),
        rasterio.open(f"/vsicurl/{url}") as ds,
    ):
        assert ds.crs.to_epsg() == 32635 and ds.overviews(1) == [2]
        overview = ds.read(1, out_shape=(ds.height // 2, ds.width // 2))
    assert overview.std() > 0
    # The overview is read in part, through Range: fewer bytes than the file went out.
    assert 0 < store.snapshot()["bytes_served"] < len(cog_bytes(scene_grid(HELSINKI), SAR, 7))
