"""Memory: RSS of the bridge process while one client pages through 50,000 items.

Four simulators with 15,000 scenes each run in one sandbox process (Capella returns only
the first 10,000 items of a search, as the real API does, so the search reports Capella
partial from then on and the other three carry the rest of the 50,000 items); the bridge
under test runs alone in its own process, pointed at them, so its RSS is the bridge's own.
One federated POST /search at limit=1000, following ``next`` for 50 pages; VmRSS is read
from ``/proc/<pid>/status`` after every page, and VmHWM (the peak) at the end.

Flat means bounded: once the bridge's bounded caches are full, paging further does not
grow it. They fill during the first pages (the native page cache holds 8,000 items, the
parsed-instant memo 32,768 texts, each adapter's result cache its entries), so the
verdict compares the last five pages with pages 11-15; the growth from the first five
pages (the caches filling) is printed beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bench.live import live_bridge
from bench.util import header

SCENES = 15_000
ITEMS = 50_000
LIMIT = 1000
WARMUP_PAGES = 10
"""Pages after which the bounded caches are full (8 pages of 1,000 fill the page cache)."""


def _status_mib(pid: int) -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB -> MiB
    return fields


def _page_through(root: str, pid: int) -> list[float]:
    rss: list[float] = []
    body: dict[str, Any] | None = {"limit": LIMIT}
    seen = 0
    partial: list[Any] = []
    with httpx.Client(timeout=300) as client:
        while body is not None and seen < ITEMS:
            resp = client.post(root + "search", json=body)
            resp.raise_for_status()
            doc = resp.json()
            seen += doc["numberReturned"]
            if resp.headers.get("X-Bridge-Partial"):
                partial.append(doc["bridge:providers"])
            rss.append(_status_mib(pid)["VmRSS"])
            body = next((ln["body"] for ln in doc["links"] if ln["rel"] == "next"), None)
    if seen < ITEMS:
        # A provider that failed (e.g. timed out on a loaded machine) is skipped from then on;
        # Capella's 10,000-item window alone still leaves enough.
        raise RuntimeError(f"paging ended after {seen} items; partial pages said: {partial[:3]}")
    return rss


def run() -> dict[str, float]:
    """Measure and print the memory figures."""
    header(f"memory: bridge RSS while paging through {ITEMS:,} items at limit={LIMIT}")
    env = {"BRIDGE_SIMULATORS__SCENES": str(SCENES)}
    with live_bridge(env=env) as upstream, live_bridge(upstream=upstream) as bridge:
        httpx.get(bridge.root + "collections", timeout=30).raise_for_status()
        idle = _status_mib(bridge.pid)["VmRSS"]
        rss = _page_through(bridge.root, bridge.pid)
        peak = _status_mib(bridge.pid)["VmHWM"]
    early, late = sum(rss[:5]) / 5, sum(rss[-5:]) / 5
    warm = sum(rss[WARMUP_PAGES : WARMUP_PAGES + 5]) / 5
    growth, warm_growth = late - early, late - warm
    paged_after_warmup = (len(rss) - WARMUP_PAGES - 5) * LIMIT
    print(f"  {len(rss)} pages; RSS idle {idle:.0f} MiB")
    marks = [1, 5, 10, 15, 25, 40, len(rss)]
    print("  RSS after page " + ", ".join(f"{m}: {rss[m - 1]:.0f}" for m in marks) + " MiB")
    print(
        f"  mean of first 5 pages {early:.0f} MiB (caches filling), of pages"
        f" {WARMUP_PAGES + 1}-{WARMUP_PAGES + 5} {warm:.0f} MiB, of last 5 pages {late:.0f} MiB"
    )
    print(
        f"  growth while the caches fill {growth - warm_growth:+.0f} MiB; after:"
        f" {warm_growth:+.0f} MiB ({warm_growth * 1024 * 1024 / paged_after_warmup:.0f}"
        " bytes per item paged)"
    )
    flat = "flat" if abs(warm_growth) <= 0.1 * warm else "NOT flat"
    print(
        f"  peak (VmHWM) {peak:.0f} MiB  => {flat} (flat: last pages within 10% of pages"
        f" {WARMUP_PAGES + 1}-{WARMUP_PAGES + 5})"
    )
    return {
        "rss_idle_mib": idle,
        "rss_first_mib": early,
        "rss_warm_mib": warm,
        "rss_last_mib": late,
        "peak_mib": peak,
    }


if __name__ == "__main__":
    run()
