"""One pass of the CPU benchmark, in a process of its own: ``python -m bench.cpu_pass TAPE KIND``.

A fresh process per pass, so its heap holds one bridge app and nothing else (FastAPI's
module-level caches keep every app ever built alive, caches included, and the
simulators' archives would lengthen every full collection). The app's providers replay
the recorded native responses (:mod:`bench.replay`). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from bench.replay import load_tapes
from bridge import registry
from bridge.app import create_app
from bridge.catalog import load_catalog
from bridge.core.page_cache import PageCache
from bridge.provider_pool import ProviderWiring
from bridge.sandbox import sandbox_provider_settings
from bridge.settings import ProviderSettings, Settings

SEARCHES = 8
PAGES = 3
LIMIT = 1000
# Not pushed down anywhere (an OR), so the bridge decides every item; rejects ~1 in 5.
FILTER = {
    "op": "or",
    "args": [
        {"op": "<=", "args": [{"property": "view:off_nadir"}, 20]},
        {"op": ">=", "args": [{"property": "datetime"}, {"timestamp": "2025-06-01T00:00:00Z"}]},
    ],
}
SORTBY = [{"field": "datetime", "direction": "desc"}]
# kind -> (Accept-Encoding, fresh page cache per search, collector tuned)
KINDS = {
    "server": ("identity", False, False),
    "fresh": ("identity", True, False),
    "gc-tuned": ("identity", False, True),
    "gc-tuned-gzip": ("gzip", False, True),
}
# The collector settings the gc-tuned pass tries (a suggested fix for bridge serve).
GC_THRESHOLDS = (50_000, 20, 20)
# Where the CPU goes: (label, [(file suffix, function names)]) whose cumulative time counts.
PHASES = [
    (
        "decode native JSON",
        [
            ("bridge/providers/http.py", {"decode_json"}),
            ("bridge/providers/raw_records.py", {"decode"}),  # both msgspec reads, and
        ],  # each served record's orjson decode
    ),
    ("map native -> STAC", [("mapping.py", {"item_from_native"})]),
    (
        "local sort keys (adapters)",
        [
            ("bridge/providers/local_sort.py", {"sort_records", "_advance"}),
            ("bridge/providers/arlula/mapping.py", {"datetime_seconds"}),  # Presorted's check
        ],
    ),
    ("residual filter (Matcher)", [("bridge/core/match.py", {"__call__"})]),
    ("sort keys (merge)", [("bridge/core/sorting.py", {"key"})]),
    ("decorate (links, order state)", [("bridge/api/decorate.py", {"decorate_item"})]),
    ("serialize (orjson)", [("bridge/api/client.py", {"render"})]),
]


def body(k: int) -> dict[str, Any]:
    """Search ``k``: its own datetime end, so no two searches share a native page."""
    end = date(2026, 6, 30) - timedelta(days=k)
    return {
        "limit": LIMIT,
        "datetime": f"2019-01-01T00:00:00Z/{end}T23:59:59Z",
        "filter": FILTER,
        "filter-lang": "cql2-json",
        "sortby": SORTBY,
    }


def make_app(transports: dict[str, httpx.AsyncBaseTransport], data_dir: Path) -> FastAPI:
    """The production app factory over ``transports`` with the in-process sandbox settings."""
    patient: dict[str, ProviderSettings] = {}
    for name in registry.simulator_names():
        ps = sandbox_provider_settings(name, f"http://{name}.simulator")
        patient[name] = ps.model_copy(update={"timeout_s": 600.0})  # never time out here
    settings = Settings(sandbox=True, data_dir=data_dir, providers=patient)
    catalog = load_catalog(settings.collections_dir)
    wiring = ProviderWiring(catalog=catalog, operator_settings=patient, transports=transports)
    return create_app(settings, wiring=wiring)


class GcTimer:
    """CPU time spent in the garbage collector (installed in ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total, self._start = 0.0, 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.total += time.thread_time() - self._start


async def searches(
    app: FastAPI,
    client: httpx.AsyncClient,
    ks: range,
    encoding: str,
    fresh: bool,
    gc_timer: GcTimer,
    profile: cProfile.Profile | None = None,
) -> dict[str, float]:
    """Searches ``ks``, PAGES pages each: CPU, GC, items and bytes of the requests (with
    ``profile``, the requests are profiled, reading their answers is not)."""
    out = {"cpu": 0.0, "gc": 0.0, "items": 0, "bytes": 0}
    for k in ks:
        if fresh:
            app.state.federation.page_cache = PageCache()
        page: dict[str, Any] | None = body(k)
        for _ in range(PAGES):
            if page is None:
                break
            started, gc_before = time.process_time(), gc_timer.total
            if profile is not None:
                profile.enable()
            resp = await client.post("/search", json=page, headers={"Accept-Encoding": encoding})
            if profile is not None:
                profile.disable()
            out["cpu"] += time.process_time() - started
            out["gc"] += gc_timer.total - gc_before
            resp.raise_for_status()
            if resp.headers.get("X-Bridge-Partial"):
                raise RuntimeError(f"partial page: {resp.json()['bridge:providers']}")
            doc = orjson.loads(resp.content)
            out["items"] += doc["numberReturned"]
            out["bytes"] += len(resp.content)
            page = next((ln["body"] for ln in doc["links"] if ln["rel"] == "next"), None)
    return out


def breakdown(profile: cProfile.Profile, items: int) -> dict[str, Any]:
    """Shares of the profiled time by phase, and the top functions by own time."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in stats.values())
    phases, mapped = [], 0
    for label, places in PHASES:
        cum = 0.0
        for (file, _, func), (_, nc, _, ct, _) in stats.items():
            if any(file.endswith(suffix) and func in names for suffix, names in places):
                cum += ct
                mapped += nc if func == "item_from_native" else 0
        phases.append((label, 100 * cum / total))
    top = []
    for (file, line, func), (_, nc, tt, _, _) in sorted(
        stats.items(), key=lambda kv: kv[1][2], reverse=True
    )[:12]:
        where = file.split("site-packages/")[-1].split("/bridge/", 1)[-1]
        top.append((100 * tt / total, nc, f"{func} ({where}:{line})"))
    return {"us": total * 1e6 / items, "phases": phases, "mapped": mapped / items, "top": top}


async def run_pass(tape_file: Path, kind: str) -> dict[str, Any]:
    """Warm up with search 0, then measure searches 1..SEARCHES (or profile them)."""
    tapes = load_tapes(tape_file)
    encoding, fresh, tuned = KINDS.get(kind, ("identity", False, False))
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(dict(tapes), Path(tmp))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client,
        ):
            timer = GcTimer()
            await searches(app, client, range(0, 1), encoding, fresh, timer)
            gc.collect()
            if tuned:
                gc.freeze()  # what start-up built is never garbage: stop re-scanning it
                gc.set_threshold(*GC_THRESHOLDS)
            if kind != "profile":
                gc.callbacks.append(timer)
                result = await searches(app, client, range(1, SEARCHES + 1), encoding, fresh, timer)
                result["tracked"] = len(gc.get_objects())
            else:
                gc.disable()  # a collection would be billed to whatever allocates when it strikes
                profile = cProfile.Profile()
                counts = await searches(
                    app, client, range(1, SEARCHES + 1), encoding, fresh, timer, profile
                )
                result = breakdown(profile, int(counts["items"]))
    result["misses"] = sum(t.misses for t in tapes.values())
    return result


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(run_pass(Path(sys.argv[1]), sys.argv[2]))).decode())
