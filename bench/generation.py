"""Sandbox start-up costs: synthetic archive generation per provider (target: well under a
second each) and one COG / PNG quicklook (cached after the first request)."""

from __future__ import annotations

import importlib
import time
from typing import Any

from bridge import registry
from bridge.simulators.common.cog import (
    PixelSpec,
    clear_cache,
    cog_bytes,
    png_bytes,
    scene_grid,
)

SCENES = 6000
ROUNDS = 3


def _best(fn: Any, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run() -> dict[str, float]:
    """Measure and print generation figures."""
    figures: dict[str, float] = {}
    print(f"archive generation ({SCENES} scenes, best of {ROUNDS}, uncached)")
    for name in registry.simulator_names():
        archive = importlib.import_module(f"bridge.simulators.{name}.archive")
        build = archive.build_archive.__wrapped__  # bypass the per-(seed, scenes) cache
        seconds = _best(lambda b=build: b(20260101, SCENES))
        figures[f"{name}_archive_s"] = seconds
        print(f"  {name:<11} {seconds * 1000:7.1f} ms")
    grid = scene_grid((24.9, 60.1, 25.0, 60.2), epsg=None, size=512)
    for kind, spec in (
        ("sar", PixelSpec("sar", 1, "uint16")),
        ("optical", PixelSpec("optical", 3, "uint8")),
    ):
        # clear_cache(): measure cold generation, as the first request for an asset pays it.
        cog = _best(lambda s=spec: (clear_cache(), cog_bytes(grid, s, 7)))
        png = _best(lambda s=spec: (clear_cache(), png_bytes(grid, s, 7)))
        figures[f"cog_{kind}_ms"], figures[f"png_{kind}_ms"] = cog * 1000, png * 1000
        print(f"  512 px {kind:<8} COG {cog * 1000:6.1f} ms   PNG {png * 1000:6.1f} ms")
    return figures


if __name__ == "__main__":
    run()
