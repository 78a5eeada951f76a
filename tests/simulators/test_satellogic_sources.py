"""The Satellogic simulator's ledger (``SOURCES.md``) lists every route it serves, and
every route it lists is served: a route cannot be added without its source."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route

from bridge.simulators.satellogic import create_app
from tests.support.wiring import simulator_config

LEDGER = Path(__file__).resolve().parents[2] / "bridge/simulators/satellogic/SOURCES.md"


def test_the_ledger_lists_exactly_the_routes_served() -> None:
    served = set()
    for route in create_app(simulator_config()).routes:
        if not isinstance(route, Route) or route.path.startswith("/_simulator"):
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            served.add(f"{method} {route.path.rstrip('/')}")
    listed = set(re.findall(r"^\| `((?:GET|POST) /[^`]*)` \|", LEDGER.read_text(), re.M))
    assert listed == served
