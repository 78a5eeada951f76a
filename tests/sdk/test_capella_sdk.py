"""Capella's own SDK, ``capella-console-client``, end to end against the Capella simulator.

The SDK (PyPI ``capella-console-client``, Capella Space's official client, MIT) cannot
share the project's environment: 0.20.x requires ``httpx>=0.27,<0.28`` and
``python-dateutil>=2.8.2,<3`` where the bridge pins ``httpx==0.28.1`` and
``python-dateutil==4.0.0`` (and 0.20.1 also wants ``certifi>=2026.10.19``, which the index
does not have, so 0.20.0 is pinned: its code is identical). The test therefore builds a
venv of its own from :data:`SDK_REQUIREMENTS` (once, cached under the system temp dir) and
drives the SDK in a subprocess against the simulator served by uvicorn on a free loopback
port: start-up (``GET /user``), search, review, order, wait for completion, presigned
download, resume of a partial download (``Range: bytes=N-`` -> 206), the SDK's 416 path,
the insufficient-funds and rejected-order errors, a search with the SDK's time and
property filters (``datetime__gt``, ``created__gte``, ``center_frequency__gt``, lists as
``in``; sorted, paged plainly and threaded), and an expired order renewed as the SDK does
(``OrderExpiredError``, then ``submit_order(check_active_orders=True)``, free); and the
tasking flow: ``create_tasking_request``, ``get_task`` until completed,
``get_collects_for_task``, ``download_products(tasking_request_id=...)``,
``search_tasking_requests`` and ``cancel_tasking_requests``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from rasterio.io import MemoryFile
from starlette.applications import Starlette

from bridge.simulators.capella import DEMO_API_KEY, create_app
from bridge.simulators.capella.orders import OrderBook
from tests.support.wiring import simulator_config

SDK_REQUIREMENTS = (
    "capella-console-client==0.20.0",
    "httpx==0.27.2",
    "httpcore==1.0.9",
    "h11==0.16.0",
    "anyio==4.16.0",
    "sniffio==1.3.1",
    "idna==3.20",
    "certifi==2026.10.18",
    "geojson==3.3.0",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "rich==13.7.1",
    "markdown-it-py==4.3.0",
    "mdurl==0.1.2",
    "Pygments==2.21.0",
    "tenacity==9.2.1",
    "typing_extensions==4.16.0",
)
NEAR_HELSINKI = [24.0, 59.8, 26.0, 60.6]
STEP_S = 0.3

DRIVER = r"""
import hashlib, json, sys, time
from pathlib import Path

import httpx
from capella_console_client import CapellaConsoleClient
from capella_console_client import assets as sdk_assets
from capella_console_client.exceptions import InsufficientFundsError, OrderRejectedError

base_url, api_key, workdir, mode, out = sys.argv[1:6]
workdir = Path(workdir)
seen = []  # every storage request the SDK makes: (Range header, status)
real_stream = httpx.stream


def recording_stream(method, url, **kwargs):
    headers = kwargs.get("headers") or {}
    context = real_stream(method, url, **kwargs)

    class Recorder:
        def __enter__(self):
            response = context.__enter__()
            seen.append([headers.get("Range"), response.status_code])
            return response

        def __exit__(self, *exc):
            return context.__exit__(*exc)

    return Recorder()


sdk_assets.httpx.stream = recording_stream


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


client = CapellaConsoleClient(api_key=api_key, base_url=base_url)
result = {"customer_id": client._sesh.customer_id, "email": client._sesh.email}

if mode == "funds":
    items = client.search(ids=[sys.argv[6]])
    for name, call in [
        ("review", lambda: client.review_order(items=items)),
        ("submit", lambda: client.submit_order(items=items, omit_search=True)),
        (
            "unreviewed",
            lambda: client.submit_order(items=items, omit_search=True, omit_review=True),
        ),
    ]:
        try:
            call()
            result[name] = None
        except (InsufficientFundsError, OrderRejectedError) as exc:
            result[name] = [type(exc).__name__, exc.message]
    Path(out).write_text(json.dumps(result))
    sys.exit(0)

if mode == "filters":
    # The SDK's own query vocabulary, time filters included, sorted, paged by the SDK.
    kwargs = json.loads(sys.argv[6])
    found = client.search(**kwargs)
    result["ids"] = [f["id"] for f in found]
    result["props"] = [f["properties"] for f in found]
    result["threaded"] = [f["id"] for f in client.search(**kwargs, threaded=True)]
    Path(out).write_text(json.dumps(result))
    sys.exit(0)

if mode == "order":
    result["order_id"] = client.submit_order(stac_ids=[sys.argv[6]], check_active_orders=True)
    Path(out).write_text(json.dumps(result))
    sys.exit(0)

if mode == "tasking":
    # The SDK's tasking flow, unmodified: create, poll get_task, collects, order and
    # download the task's products by tasking_request_id, search, cancel.
    point = {"type": "Point", "coordinates": [24.94, 60.17]}
    created = client.create_tasking_request(
        geometry=point,
        name="sdk tasking",
        collection_tier="standard",
        collection_type="spotlight",
        off_nadir_min=10,
        off_nadir_max=30,
        look_direction="right",
        custom_attribute_1="sdk-ref",
        pre_approval=True,
    )
    task_id = created["properties"]["taskingrequestId"]
    result["created"] = created
    codes = []
    deadline = time.monotonic() + 20
    while True:
        task = client.get_task(task_id)
        code = task["properties"]["statusHistory"][0]["code"]
        if not codes or codes[-1] != code:
            codes.append(code)
        if client.is_task_completed(task) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    result["codes"] = codes
    result["task"] = task
    result["collects"] = client.get_collects_for_task(task_id)
    downloaded = client.download_products(
        tasking_request_id=task_id,
        local_dir=workdir,
        include=["raster"],
        product_types=["GEO"],
        threaded=False,
    )
    result["downloaded"] = {k: {a: str(p) for a, p in v.items()} for k, v in downloaded.items()}
    result["searched"] = client.search_tasking_requests(
        tasking_request_id=task_id
    ).tasking_request_ids
    other = client.create_tasking_request(geometry=point, name="to cancel")
    other_id = other["properties"]["taskingrequestId"]
    result["cancel"] = client.cancel_tasking_requests(other_id)
    result["canceled"] = client.get_task(other_id)["properties"]["statusHistory"][0]["code"]
    result["cancel_completed"] = client.cancel_tasking_requests(task_id)
    Path(out).write_text(json.dumps(result))
    sys.exit(0)

if mode == "renew":
    from capella_console_client.exceptions import OrderExpiredError

    stac_id, expired_id = sys.argv[6].split(",")
    try:
        client.get_presigned_items(expired_id)
        result["expired"] = None
    except OrderExpiredError as exc:
        result["expired"] = [type(exc).__name__, exc.message]
    # The SDK's remedy: an active order holding the product, else a new order.
    result["review"] = client.review_order(stac_ids=[stac_id])
    renewed = client.submit_order(stac_ids=[stac_id], check_active_orders=True)
    result["renewed"] = renewed
    presigned = client.get_presigned_items(renewed)
    result["assets"] = sorted(presigned[0]["assets"])
    Path(out).write_text(json.dumps(result))
    sys.exit(0)

found = client.search(bbox=json.loads(sys.argv[6]), collections=["capella-geo"], limit=20)
result["found"] = len(found)
item = found[0]
result["item_id"] = item["id"]
result["review"] = client.review_order(items=[item])
order_id = client.submit_order(items=[item], omit_search=True)
result["order_id"] = order_id
statuses = []
deadline = time.monotonic() + 15
while True:
    status = client.list_orders(order_id)[0]["orderStatus"]
    if not statuses or statuses[-1] != status:
        statuses.append(status)
    if status == "completed" or time.monotonic() > deadline:
        break
    time.sleep(0.05)
result["statuses"] = statuses
result["active"] = [o["orderId"] for o in client.list_orders(is_active=True)]

presigned = client.get_presigned_items(order_id)
paths = client.download_products(
    items_presigned=presigned, local_dir=workdir, include=["raster", "thumbnail"], threaded=False
)[item["id"]]
data_key = next(k for k in paths if k != "thumbnail")
data = Path(paths[data_key])
full = data.read_bytes()
result["files"] = {k: {"path": str(p), "sha": sha(p)} for k, p in paths.items()}

# Interrupted download: keep the first half, let the SDK resume it.
half = len(full) // 2
data.write_bytes(full[:half])
seen.clear()
client.download_products(
    items_presigned=presigned, local_dir=workdir, include=[data_key], threaded=False
)
result["resume"] = {"size": len(full), "half": half, "sha": sha(data), "requests": list(seen)}

# The SDK's 416 path: asking for bytes past the end of a complete file.
seen.clear()
href = presigned[0]["assets"][data_key]["href"]
request = sdk_assets.DownloadRequest(url=href, local_path=data, asset_key=data_key)
sdk_assets._fetch(request, len(full), False, sdk_assets.progress_bar, resume_from=len(full))
result["after_416"] = {"sha": sha(data), "requests": list(seen)}
Path(out).write_text(json.dumps(result))
"""


def _sdk_venv() -> Path:
    """The SDK's own venv, built once per requirement set and reused across runs."""
    digest = hashlib.sha256("\n".join(SDK_REQUIREMENTS).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / "bridge-sdk-venvs" / f"capella-{digest}"
    python = root / "bin" / "python"
    ready = root / ".ready"
    if ready.exists() and python.exists():
        return python
    venv.EnvBuilder(clear=True, with_pip=True).create(root)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *SDK_REQUIREMENTS],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"could not install capella-console-client:\n{done.stderr[-3000:]}")
    ready.touch()
    return python


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    return _sdk_venv()


@dataclass
class Served:
    base_url: str
    app: Starlette

    @property
    def book(self) -> OrderBook:
        book: OrderBook = self.app.state.orders
        return book


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The Capella simulator on a free loopback port, in a uvicorn thread."""
    settings = {"capella_order_step_s": STEP_S, "capella_task_step_s": STEP_S}
    app = create_app(simulator_config(extra=settings))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def drive(python: Path, served: Served, workdir: Path, mode: str, arg: str) -> dict[str, Any]:
    script = workdir / "driver.py"
    script.write_text(DRIVER)
    out = workdir / f"{mode}.json"
    # Loopback must not go through any proxy the environment names for the index.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    args = [str(python), str(script), served.base_url, DEMO_API_KEY, str(workdir), mode, str(out)]
    done = subprocess.run(
        [*args, arg], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_search_review_order_download_resume(
    sdk_python: Path, served: Served, tmp_path: Path
) -> None:
    result = drive(sdk_python, served, tmp_path, "flow", json.dumps(NEAR_HELSINKI))
    assert result["customer_id"] == "5f6b4c2a-0d7e-4a39-9f8e-2b1c3d4e5f60"
    assert result["found"] >= 1
    review = result["review"]
    assert review["authorized"] is True
    assert review["orderDetails"]["lineItems"][0]["granuleId"] == result["item_id"]
    assert result["statuses"][0] == "submitted" and result["statuses"][-1] == "completed"
    assert result["order_id"] in result["active"]
    assert served.app.state.stats.orders[result["item_id"]] == 1

    files = result["files"]
    assert set(files) >= {"thumbnail"} and len(files) == 2
    data_key = next(k for k in files if k != "thumbnail")
    data = Path(files[data_key]["path"])
    assert data.name == f"{result['item_id']}.tif" and data.parent.name == result["item_id"]
    assert Path(files["thumbnail"]["path"]).read_bytes().startswith(b"\x89PNG")
    with MemoryFile(data.read_bytes()) as memfile, memfile.open() as dataset:
        assert dataset.crs.to_epsg() is not None and dataset.crs.to_epsg() > 32600

    resume = result["resume"]
    assert resume["sha"] == files[data_key]["sha"], "resumed file differs from the original"
    # One GET for the size, then the resumed tail: Range from the partial size, 206.
    assert resume["requests"] == [[None, 200], [f"bytes={resume['half']}-", 206]]
    after = result["after_416"]
    assert after["requests"] == [[f"bytes={resume['size']}-", 416]]
    assert after["sha"] == files[data_key]["sha"]


def test_tasking_request_status_collects_and_download(
    sdk_python: Path, served: Served, tmp_path: Path
) -> None:
    result = drive(sdk_python, served, tmp_path, "tasking", "")
    props = result["created"]["properties"]
    assert props["taskingrequestName"] == "sdk tasking"
    assert props["collectConstraints"]["offNadirMin"] == 10
    assert props["collectConstraints"]["lookDirection"] == "right"
    assert props["customAttribute1"] == "sdk-ref"
    assert result["codes"][0] in ("received", "submitted")
    assert result["codes"][-1] == "completed", result["codes"]
    history = [s["code"] for s in result["task"]["properties"]["statusHistory"]]
    assert history == ["completed", "accepted", "submitted", "review", "received"]
    assert result["task"]["properties"]["order"]["summary"]["total"] == "$2,000.00"
    task_id = props["taskingrequestId"]
    assert [c["taskingrequestId"] for c in result["collects"]] == [task_id]
    assert result["searched"] == [task_id]
    (item_id, files), *rest = result["downloaded"].items()
    assert not rest and "_GEO_" in item_id
    data = Path(next(iter(files.values())))
    assert data.read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    assert list(result["cancel"].values()) == [{"success": True}]
    assert result["canceled"] == "canceled"
    (outcome,) = result["cancel_completed"].values()
    assert outcome["success"] is False and outcome["error"]["code"] == "CONFLICT"


FILTERS: dict[str, Any] = {
    "bbox": [-180, -90, 180, 90],
    "collections": ["capella-geo", "capella-slc"],
    "datetime__gt": "2020-06-01T00:00:00Z",
    "datetime__lte": "2025-06-01T00:00:00Z",
    "created__gte": "2020-06-01T06:00:00Z",
    "incidence_angle__gte": 20,
    "incidence_angle__lt": 50,
    "polarizations": ["HH", "VV"],
    "instrument_mode": ["spotlight", "stripmap", "sliding_spotlight"],
    "center_frequency__gt": 9,
    "limit": 1500,
    "sortby": "-datetime",
}


def expected(archive: Any) -> list[dict[str, Any]]:
    """The archive items ``FILTERS`` selects, by brute force."""
    out = []
    for item in archive.items:
        p = item["properties"]
        if (
            item["collection"] in FILTERS["collections"]
            and "2020-06-01T00:00:00Z" < p["datetime"] <= "2025-06-01T00:00:00Z"
            and p["created"] >= "2020-06-01T06:00:00Z"
            and 20 <= p["view:incidence_angle"] < 50
        ):
            out.append(item)
    return out


def test_search_with_the_sdks_time_and_property_filters(
    sdk_python: Path, served: Served, tmp_path: Path
) -> None:
    result = drive(sdk_python, served, tmp_path, "filters", json.dumps(FILTERS))
    want = expected(served.app.state.archive)
    assert len(want) > 900, "enough to make the SDK page"
    # The SDK stops at its limit; which items it returns follows the sort.
    want.sort(key=lambda i: (i["properties"]["datetime"], i["id"]), reverse=True)
    assert len(result["ids"]) == min(len(want), FILTERS["limit"])
    assert set(result["ids"]) <= {i["id"] for i in want}
    newest = {i["id"] for i in want[: FILTERS["limit"] - 10]}
    assert newest <= set(result["ids"])
    assert sorted(result["threaded"]) == sorted(result["ids"])
    stamps = [p["datetime"] for p in result["props"]]
    assert stamps == sorted(stamps, reverse=True)


def test_expired_order_is_renewed_free_as_the_sdk_does(
    sdk_python: Path, served: Served, tmp_path: Path
) -> None:
    archive = served.app.state.archive
    item_id = next(i["id"] for i in archive.items if i["collection"] == "capella-sicd")
    book = served.book
    # Order it "70 minutes ago": expired by the SDK's clock and the simulator's.
    book.clock = lambda: time.time() - 4200
    try:
        first = drive(sdk_python, served, tmp_path, "order", item_id)["order_id"]
    finally:
        book.clock = time.time
    spent = dict(book.spent)
    result = drive(sdk_python, served, tmp_path, "renew", f"{item_id},{first}")
    assert result["expired"] == ["OrderExpiredError", "Order expired"]
    assert result["review"]["orderDetails"]["lineItems"][0]["previouslyOrdered"] is True
    assert result["renewed"] != first
    polarization = archive.items[archive.by_id[item_id]]["properties"]["sar:polarizations"][0]
    assert polarization in result["assets"]
    assert book.spent == spent, "the resubmission is free"
    assert served.app.state.stats.orders[item_id] == 2


def test_insufficient_funds_and_rejection(sdk_python: Path, served: Served, tmp_path: Path) -> None:
    archive = served.app.state.archive
    item_id = next(i["id"] for i in archive.items if i["collection"] == "capella-gec")
    served.book.budget_usd = 0.0
    before = dict(served.app.state.stats.orders)
    try:
        result = drive(sdk_python, served, tmp_path, "funds", item_id)
    finally:
        served.book.budget_usd = 10_000_000.0
    assert result["review"][0] == "InsufficientFundsError"
    assert "Available Commitment: $0.00" in result["review"][1]
    assert result["submit"][0] == "InsufficientFundsError", "submit_order reviews first"
    assert result["unreviewed"][0] == "OrderRejectedError"
    # Only the unreviewed submission reached POST /orders (and was rejected).
    after = served.app.state.stats.orders
    assert after.get(item_id, 0) - before.get(item_id, 0) == 1
