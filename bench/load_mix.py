"""The request mix of the load benchmark: four kinds of search, each request distinct.

Request ``k`` is of kind ``KINDS[k % 4]``, so any four consecutive requests hold one of
each. Place (near one of the cities where the synthetic archives cluster scenes, with
a small offset) and the end of the datetime interval change with ``k``, so requests are
not answered from the bridge's page cache, as with many independent users.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

KINDS = ("bbox", "two-collection", "or-filter", "point")

# Where the simulators' synthetic archives pile scenes up (lon, lat); copied, not imported,
# so the benchmark's traffic does not change when the simulators' internals do.
PLACES = (
    (24.94, 60.17),
    (4.48, 51.92),
    (-122.42, 37.77),
    (103.82, 1.35),
    (55.27, 25.20),
    (151.21, -33.87),
    (-58.38, -34.60),
    (30.52, 50.45),
)
TWO_COLLECTIONS = ("iceye-grd", "capella-geo")
ARCHIVE_END = date(2026, 10, 31)

# An OR across two properties that no provider holds both of: no adapter can push it
# down, so the bridge evaluates it on every native item it fetches.
OR_FILTER: dict[str, Any] = {
    "op": "or",
    "args": [
        {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
        {"op": "=", "args": [{"property": "sar:instrument_mode"}, "spotlight"]},
    ],
}


@dataclass(frozen=True)
class Request:
    """One request of the mix: its kind, method, target (path and query) and JSON body."""

    kind: str
    method: str
    target: str
    body: bytes | None = None


def _place(n: int) -> tuple[float, float]:
    lon, lat = PLACES[n % len(PLACES)]
    # Offsets in [-0.10, 0.10] degrees, cycling with a period prime to len(PLACES).
    return round(lon + ((n * 7) % 21 - 10) / 100, 2), round(lat + ((n * 5) % 21 - 10) / 100, 2)


def _interval(n: int) -> str:
    end = ARCHIVE_END - timedelta(days=n % 1500)
    return f"2019-01-01T00:00:00Z/{end.isoformat()}T23:59:59Z"


def _post(kind: str, body: dict[str, Any]) -> Request:
    return Request(kind, "POST", "/search", json.dumps(body, separators=(",", ":")).encode())


def request(k: int) -> Request:
    """The ``k``-th request of the mix (k >= 0)."""
    kind, n = KINDS[k % len(KINDS)], k // len(KINDS)
    lon, lat = _place(n)
    when = _interval(n)
    if kind == "bbox":
        bbox = f"{lon - 1:.2f},{lat - 1:.2f},{lon + 1:.2f},{lat + 1:.2f}"
        query = urlencode({"bbox": bbox, "datetime": when, "limit": 10})
        return Request(kind, "GET", f"/search?{query}")
    if kind == "two-collection":
        query = urlencode(
            {"collections": ",".join(TWO_COLLECTIONS), "datetime": when, "limit": 100}
        )
        return Request(kind, "GET", f"/search?{query}")
    if kind == "or-filter":
        return _post(
            kind,
            {
                "bbox": [lon - 1.5, lat - 1.5, lon + 1.5, lat + 1.5],
                "datetime": when,
                "filter-lang": "cql2-json",
                "filter": OR_FILTER,
                "sortby": [{"field": "properties.datetime", "direction": "asc"}],
                "limit": 10,
            },
        )
    point = {"type": "Point", "coordinates": [lon, lat]}
    return _post(kind, {"intersects": point, "datetime": when, "limit": 10})


def encode(req: Request, host: str, api_key: str) -> bytes:
    """``req`` as HTTP/1.1 bytes on a kept-alive connection, with the API key."""
    lines = [
        f"{req.method} {req.target} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {api_key}",
        "Accept: application/geo+json, application/json",
        "Accept-Encoding: gzip",
        "User-Agent: bridge-bench-load",
    ]
    if req.body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(req.body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (req.body or b"")
