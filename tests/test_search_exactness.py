"""Acceptance: federated search is exact.

For every query below (CQL2 filters of every class, the Query extension, ICEYE v1 legacy
names, multi-key sorts, fields; every provider alone and mixed), the bridge's full paged
result — ``next`` links followed to the end, by GET and/or POST, with small pages that
cross native page boundaries — must equal a brute-force evaluation of the same query over
the simulators' whole archives: the same items, in the same order, none duplicated or
missing.

The ground truth is independent of the bridge's evaluator: the archives are read once
per module (:func:`tests.support.exactness.load_archives`), each query carries its own
plain-Python predicate (three-valued logic, shapely for geometry) and the order comes
from :func:`tests.support.exactness.expected_order` (sort keys with missing values last,
then ``id``, then ``collection``; datetimes as instants), as documented in
``bridge/core/sorting.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from shapely.geometry import LineString, Point, Polygon

from bridge.api.decorate import decorate_item
from tests.support.exactness import (
    ALWAYS,
    Item,
    Pred,
    Prop,
    expected_order,
    expected_shape,
    load_archives,
    paths,
    search_matches,
    span_intersects,
    spatial,
)
from tests.support.wiring import sandbox_app

BASE = "http://bridge.test"
MAX_PAGES = 400

# Boxes around the cities every simulated archive clusters scenes on (simulators.common.synth).
HELSINKI = [24.14, 59.57, 25.74, 60.77]
ROTTERDAM = [3.68, 51.32, 5.28, 52.52]
SAN_FRANCISCO = [-123.22, 37.17, -121.62, 38.37]
SINGAPORE = [103.02, 0.75, 104.62, 1.95]
DUBAI = [54.47, 24.6, 56.07, 25.8]
SYDNEY = [150.41, -34.47, 152.01, -33.27]
BUENOS_AIRES = [-59.18, -35.2, -57.58, -34.0]
KYIV = [29.72, 49.85, 31.32, 51.05]

DESC = True
ASC = False
NEWEST_FIRST: tuple[tuple[str, bool], ...] = (("datetime", DESC),)


def P(name: str) -> Prop:
    """A property reference (reads like the CQL2 it mirrors)."""
    return Prop(name)


def ring(*corners: tuple[float, float]) -> list[list[float]]:
    pts = [list(c) for c in corners]
    return [*pts, pts[0]]


def wkt_polygon(corners: list[list[float]]) -> str:
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in corners) + "))"


@dataclass(frozen=True)
class Case:
    """One query: its POST body, its independent predicate and sort, how it is sent."""

    id: str
    body: dict[str, Any]
    expect: Pred = ALWAYS
    """The filter / query part, evaluated independently (search parameters are read
    from ``body`` by :func:`search_matches`)."""
    providers: frozenset[str] = frozenset()
    """The providers whose items the answer holds (checks the case is what it claims)."""
    sort: tuple[tuple[str, bool], ...] = NEWEST_FIRST
    """The expected order as (STAC name, descending), spelled out independently."""
    via: tuple[str, ...] = ("POST",)
    limit: int = 37
    fields: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    """(include, exclude) when the case uses the Fields extension."""
    ids_per_provider: int = 0
    """When set, ``ids`` lists this many ids of each provider, picked from the archive."""
    bug: str | None = None
    """A known bridge bug this case shows (the case is a strict xfail)."""
    counted: bool = False
    """Every provider involved reports an exact count: ``numberMatched`` must be given."""


def pv(*names: str) -> frozenset[str]:
    return frozenset(names)


ALL4 = pv("arlula", "capella", "iceye", "satellogic")
SAR = pv("capella", "iceye")
OPTICAL = pv("arlula", "satellogic")

# Polygons used by spatial cases.
HELSINKI_TRIANGLE = ring((24.3, 59.8), (25.6, 59.9), (24.9, 60.6))
ROTTERDAM_SQUARE = ring((4.0, 51.55), (5.0, 51.55), (5.0, 52.3), (4.0, 52.3))
KYIV_WEST = ring((29.0, 49.0), (30.52, 49.0), (30.52, 52.0), (29.0, 52.0))
SYDNEY_QUAD = ring((150.7, -34.3), (151.7, -34.2), (151.8, -33.5), (150.9, -33.4))

CASES: list[Case] = [
    # -- basic CQL2 comparisons -----------------------------------------------------------
    Case(
        "cql2-lt-optical-helsinki",
        {"bbox": HELSINKI, "filter": "eo:cloud_cover < 10", "filter-lang": "cql2-text"},
        P("eo:cloud_cover") < 10,
        OPTICAL,
        via=("GET", "POST"),
    ),
    Case(
        "cql2-range-all-rotterdam",
        {
            "bbox": ROTTERDAM,
            "filter": "view:off_nadir >= 18 AND view:off_nadir <= 26",
            "filter-lang": "cql2-text",
        },
        (P("view:off_nadir") >= 18) & (P("view:off_nadir") <= 26),
        ALL4,
        via=("GET",),
        limit=100,
    ),
    Case(
        "cql2-eq-platform-iceye-2024",
        {
            "datetime": "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z",
            "filter": {"op": "=", "args": [{"property": "platform"}, "iceye-x25"]},
            "filter-lang": "cql2-json",
        },
        P("platform").eq("iceye-x25"),
        pv("iceye"),
        limit=100,
    ),
    Case(
        "cql2-neq-sar-sf",
        {
            "bbox": SAN_FRANCISCO,
            "datetime": "2021-01-01T00:00:00Z/2022-12-31T23:59:59Z",
            "filter": "sar:observation_direction <> 'left'",
        },
        P("sar:observation_direction").ne("left"),
        SAR,
        via=("GET",),
    ),
    Case(
        "cql2-eq-float-optical-sydney",
        {"bbox": SYDNEY, "filter": "gsd = 0.7 AND eo:cloud_cover <= 30"},
        P("gsd").eq(0.7) & (P("eo:cloud_cover") <= 30),
        OPTICAL,
    ),
    Case(
        "cql2-and-sar-dubai",
        {
            "bbox": DUBAI,
            "filter": "sat:orbit_state = 'descending' AND view:incidence_angle > 40",
        },
        P("sat:orbit_state").eq("descending") & (P("view:incidence_angle") > 40),
        SAR,
        via=("GET",),
    ),
    Case(
        "cql2-collections-mix-kyiv",
        {
            "collections": ["iceye-grd", "capella-geo", "satellogic-l1d", "arlula-hr"],
            "bbox": KYIV,
            "filter": "view:off_nadir < 20",
        },
        P("collection").isin(["iceye-grd", "capella-geo", "satellogic-l1d", "arlula-hr"])
        & (P("view:off_nadir") < 20),
        ALL4,
    ),
    # -- advanced comparison: LIKE, BETWEEN, IN --------------------------------------------
    Case(
        "like-capella-platforms-singapore",
        {"bbox": SINGAPORE, "filter": "platform LIKE 'capella-1%'"},
        P("platform").like("capella-1%"),
        pv("capella"),
        via=("GET",),
    ),
    Case(
        "like-newsat-mix-buenos-aires",
        {"bbox": BUENOS_AIRES, "filter": "platform LIKE 'newsat%' AND eo:cloud_cover < 25"},
        P("platform").like("newsat%") & (P("eo:cloud_cover") < 25),
        OPTICAL,
    ),
    Case(
        "like-single-char-wildcard-iceye",
        {"bbox": HELSINKI, "filter": "platform LIKE 'iceye-x_'"},
        P("platform").like("iceye-x_"),
        pv("iceye"),
        via=("GET",),
    ),
    Case(
        "between-optical-kyiv",
        {"bbox": KYIV, "filter": "eo:cloud_cover BETWEEN 20 AND 40"},
        P("eo:cloud_cover").between(20, 40),
        OPTICAL,
    ),
    Case(
        "between-sar-sf",
        {"bbox": SAN_FRANCISCO, "filter": "view:incidence_angle BETWEEN 30 AND 35"},
        P("view:incidence_angle").between(30, 35),
        SAR,
        via=("GET",),
    ),
    Case(
        "in-product-type-mix-singapore",
        {"bbox": SINGAPORE, "filter": "product:type IN ('GRD', 'GEO', 'L1D')"},
        P("product:type").isin(["GRD", "GEO", "L1D"]),
        pv("capella", "iceye", "satellogic"),
        via=("GET", "POST"),
    ),
    Case(
        "in-supplier-arlula-helsinki",
        {"bbox": HELSINKI, "filter": "arlula:supplier IN ('maxar', 'planet')"},
        P("arlula:supplier").isin(["maxar", "planet"]),
        pv("arlula"),
    ),
    # -- spatial ---------------------------------------------------------------------------
    Case(
        "s-intersects-all-helsinki",
        {
            "bbox": HELSINKI,
            "filter": f"S_INTERSECTS(geometry, {wkt_polygon(HELSINKI_TRIANGLE)})"
            " AND datetime >= TIMESTAMP('2024-06-01T00:00:00Z')",
        },
        spatial(Polygon(HELSINKI_TRIANGLE).intersects) & (P("datetime") >= "2024-06-01T00:00:00Z"),
        ALL4,
        via=("GET",),
    ),
    Case(
        "s-within-all-rotterdam",
        {
            "bbox": ROTTERDAM,
            "datetime": "2024-01-01T00:00:00Z/2025-12-31T23:59:59Z",
            "filter": {
                "op": "s_within",
                "args": [
                    {"property": "geometry"},
                    {"type": "Polygon", "coordinates": [ROTTERDAM_SQUARE]},
                ],
            },
            "filter-lang": "cql2-json",
        },
        spatial(lambda g: g.within(Polygon(ROTTERDAM_SQUARE))),
        ALL4,
    ),
    Case(
        "s-contains-point-helsinki",
        {"bbox": HELSINKI, "filter": "S_CONTAINS(geometry, POINT(24.94 60.17))"},
        spatial(lambda g: g.contains(Point(24.94, 60.17))),
        pv("arlula", "capella", "iceye"),
        via=("GET",),
    ),
    Case(
        "s-disjoint-kyiv",
        {
            "bbox": KYIV,
            "filter": f"S_DISJOINT(geometry, {wkt_polygon(KYIV_WEST)})"
            " AND datetime >= TIMESTAMP('2025-01-01T00:00:00Z')",
        },
        spatial(lambda g: g.disjoint(Polygon(KYIV_WEST)))
        & (P("datetime") >= "2025-01-01T00:00:00Z"),
        ALL4,
    ),
    Case(
        "intersects-param-sydney",
        {
            "intersects": {"type": "Polygon", "coordinates": [SYDNEY_QUAD]},
            "datetime": "2020-01-01T00:00:00Z/2022-12-31T23:59:59Z",
        },
        ALWAYS,
        ALL4,
        via=("GET", "POST"),
        limit=100,
    ),
    # -- temporal --------------------------------------------------------------------------
    Case(
        "t-intersects-dubai",
        {
            "bbox": DUBAI,
            "filter": "T_INTERSECTS(datetime, "
            "INTERVAL('2022-01-01T00:00:00Z', '2022-12-31T23:59:59Z'))",
        },
        P("datetime").t_intersects("2022-01-01T00:00:00Z", "2022-12-31T23:59:59Z"),
        ALL4,
        via=("GET",),
    ),
    Case(
        "t-before-buenos-aires",
        {"bbox": BUENOS_AIRES, "filter": "T_BEFORE(datetime, TIMESTAMP('2019-09-01T00:00:00Z'))"},
        P("datetime").t_before("2019-09-01T00:00:00Z"),
        ALL4,
    ),
    Case(
        "t-after-singapore",
        {"bbox": SINGAPORE, "filter": "T_AFTER(datetime, TIMESTAMP('2026-03-01T00:00:00Z'))"},
        P("datetime").t_after("2026-03-01T00:00:00Z"),
        ALL4,
        via=("GET",),
    ),
    Case(
        "t-during-sf",
        {
            "bbox": SAN_FRANCISCO,
            "filter": "T_DURING(datetime, "
            "INTERVAL('2023-01-01T00:00:00Z', '2024-03-01T00:00:00Z'))",
        },
        P("datetime").t_during("2023-01-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        ALL4,
    ),
    Case(
        "t-intersects-span-sar-kyiv",
        {
            "bbox": KYIV,
            "filter": "T_INTERSECTS(INTERVAL(start_datetime, end_datetime), "
            "INTERVAL('2024-01-01T00:00:00Z', '2024-12-31T23:59:59Z'))",
        },
        span_intersects(
            "start_datetime", "end_datetime", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"
        ),
        SAR,
        via=("GET",),
    ),
    # -- arrays ----------------------------------------------------------------------------
    Case(
        "a-contains-hh-kyiv",
        {"bbox": KYIV, "filter": "A_CONTAINS(sar:polarizations, ('HH'))"},
        P("sar:polarizations").a_contains("HH"),
        SAR,
    ),
    Case(
        "a-overlaps-instruments-helsinki",
        {
            "bbox": HELSINKI,
            "datetime": "2023-01-01T00:00:00Z/2026-12-31T23:59:59Z",
            "filter": "A_OVERLAPS(instruments, ('sar', 'naomi', 'msi'))",
        },
        P("instruments").a_overlaps("sar", "naomi", "msi"),
        pv("arlula", "iceye"),
        via=("GET",),
    ),
    Case(
        "a-equals-vv-rotterdam",
        {"bbox": ROTTERDAM, "filter": "A_EQUALS(sar:polarizations, ('VV'))"},
        P("sar:polarizations").a_equals("VV"),
        SAR,
        limit=100,
    ),
    Case(
        "a-containedby-instruments-sf",
        {
            "bbox": SAN_FRANCISCO,
            "filter": "A_CONTAINEDBY(instruments, "
            "('capella-radar-1', 'capella-radar-2', 'wv110', 'gis'))",
        },
        P("instruments").a_containedby("capella-radar-1", "capella-radar-2", "wv110", "gis"),
        pv("arlula", "capella"),
        via=("GET",),
    ),
    # -- property to property --------------------------------------------------------------
    Case(
        "prop-prop-sar-dubai",
        {"bbox": DUBAI, "filter": "sar:resolution_range < sar:resolution_azimuth"},
        P("sar:resolution_range") < P("sar:resolution_azimuth"),
        SAR,
    ),
    Case(
        "prop-prop-optical-sydney",
        {"bbox": SYDNEY, "filter": "view:off_nadir > eo:cloud_cover"},
        P("view:off_nadir") > P("eo:cloud_cover"),
        OPTICAL,
        via=("GET",),
    ),
    # -- NOT, OR ---------------------------------------------------------------------------
    Case(
        "not-instrument-mode-sydney",
        {"bbox": SYDNEY, "filter": "NOT (sar:instrument_mode = 'spotlight')"},
        ~P("sar:instrument_mode").eq("spotlight"),
        SAR,
    ),
    Case(
        "not-or-optical-kyiv",
        {"bbox": KYIV, "filter": "NOT (eo:cloud_cover > 20 OR view:off_nadir > 15)"},
        ~((P("eo:cloud_cover") > 20) | (P("view:off_nadir") > 15)),
        OPTICAL,
        via=("GET",),
    ),
    Case(
        "not-like-not-in-capella",
        {
            "collections": ["capella-gec", "capella-sicd"],
            "bbox": SINGAPORE,
            "filter": "NOT (platform LIKE 'capella-1%') AND platform NOT IN ('capella-2')",
        },
        P("collection").isin(["capella-gec", "capella-sicd"])
        & ~P("platform").like("capella-1%")
        & ~P("platform").isin(["capella-2"]),
        pv("capella"),
    ),
    Case(
        "or-across-kinds-helsinki",
        {
            "bbox": HELSINKI,
            "filter": "eo:cloud_cover < 5 OR sar:instrument_mode = 'scan'"
            " OR sar:instrument_mode = 'sliding_spotlight'",
        },
        (P("eo:cloud_cover") < 5)
        | P("sar:instrument_mode").eq("scan")
        | P("sar:instrument_mode").eq("sliding_spotlight"),
        ALL4,
        via=("GET", "POST"),
    ),
    Case(
        "or-of-ands-sf",
        {
            "bbox": SAN_FRANCISCO,
            "filter": "(platform = 'capella-3' AND sat:orbit_state = 'ascending') OR "
            "(arlula:supplier = 'esa' AND eo:cloud_cover < 30)",
        },
        (P("platform").eq("capella-3") & P("sat:orbit_state").eq("ascending"))
        | (P("arlula:supplier").eq("esa") & (P("eo:cloud_cover") < 30)),
        pv("arlula", "capella"),
    ),
    # -- Query extension -------------------------------------------------------------------
    Case(
        "query-eq-gte-sar-singapore",
        {
            "bbox": SINGAPORE,
            "query": {"sat:orbit_state": {"eq": "ascending"}, "view:incidence_angle": {"gte": 30}},
        },
        P("sat:orbit_state").eq("ascending") & (P("view:incidence_angle") >= 30),
        SAR,
        via=("GET",),
    ),
    Case(
        "query-neq-lt-optical-buenos-aires",
        {
            "bbox": BUENOS_AIRES,
            "query": {"product:type": {"neq": "QUICKVIEW_VISUAL"}, "eo:cloud_cover": {"lt": 15}},
        },
        P("product:type").ne("QUICKVIEW_VISUAL") & (P("eo:cloud_cover") < 15),
        pv("satellogic"),
    ),
    Case(
        "query-gt-lte-all-dubai",
        {"bbox": DUBAI, "query": {"view:off_nadir": {"gt": 10, "lte": 20}}},
        (P("view:off_nadir") > 10) & (P("view:off_nadir") <= 20),
        ALL4,
        via=("GET",),
        limit=100,
    ),
    Case(
        "query-startswith-iceye-rotterdam",
        {"bbox": ROTTERDAM, "query": {"platform": {"startsWith": "iceye-x1"}}},
        P("platform").startswith("iceye-x1"),
        pv("iceye"),
    ),
    Case(
        "query-endswith-mix-kyiv",
        {"bbox": KYIV, "query": {"platform": {"endsWith": "-3"}}},
        P("platform").endswith("-3"),
        pv("arlula", "capella"),
        via=("GET",),
    ),
    Case(
        "query-contains-mix-helsinki",
        {
            "bbox": HELSINKI,
            "query": {"platform": {"contains": "sat"}, "view:off_nadir": {"lt": 12}},
        },
        P("platform").contains("sat") & (P("view:off_nadir") < 12),
        OPTICAL,
    ),
    Case(
        "query-in-modes-sf",
        {"bbox": SAN_FRANCISCO, "query": {"sar:instrument_mode": {"in": ["stripmap", "strip"]}}},
        P("sar:instrument_mode").isin(["stripmap", "strip"]),
        SAR,
        via=("GET",),
    ),
    # -- ICEYE v1 legacy names -------------------------------------------------------------
    Case(
        "legacy-filter-iceye-helsinki",
        {"bbox": HELSINKI, "filter": "incidence_angle > 30 AND orbit_state = 'ascending'"},
        (P("iceye:incidence_center") > 30) & P("sat:orbit_state").eq("ascending"),
        pv("iceye"),
        via=("GET",),
    ),
    Case(
        "legacy-query-sar-sydney",
        {
            "bbox": SYDNEY,
            "query": {
                "product_type": {"in": ["SLC", "GRD"]},
                "observation_direction": {"eq": "right"},
            },
        },
        P("sar:product_type").isin(["SLC", "GRD"]) & P("sar:observation_direction").eq("right"),
        SAR,
    ),
    Case(
        "legacy-sort-and-filter-iceye",
        {
            "collections": ["iceye-slc", "iceye-grd", "iceye-csi"],
            "bbox": DUBAI,
            "filter": "instrument_mode = 'spotlight' OR satellite_look_angle < 15",
            "sortby": [{"field": "incidence_angle", "direction": "desc"}],
        },
        P("collection").isin(["iceye-slc", "iceye-grd", "iceye-csi"])
        & (P("sar:instrument_mode").eq("spotlight") | (P("iceye:satellite_look_angle") < 15)),
        pv("iceye"),
        sort=(("iceye:incidence_center", DESC),),
        via=("GET", "POST"),
    ),
    Case(
        "legacy-start-time-sort-mix",
        {
            "bbox": BUENOS_AIRES,
            "datetime": "2019-01-01T00:00:00Z/2022-12-31T23:59:59Z",
            "filter": "polarizations IS NOT NULL AND image_mode = 'spotlight'",
            "sortby": [
                {"field": "start_time", "direction": "asc"},
                {"field": "end_time", "direction": "desc"},
            ],
        },
        ~P("sar:polarizations").is_null() & P("sar:instrument_mode").eq("spotlight"),
        SAR,
        sort=(("start_datetime", ASC), ("end_datetime", DESC)),
    ),
    # -- sorts on several keys -------------------------------------------------------------
    Case(
        "sort-off-nadir-asc-datetime-desc-helsinki",
        {
            "bbox": HELSINKI,
            "datetime": "2022-01-01T00:00:00Z/2023-12-31T23:59:59Z",
            "sortby": [
                {"field": "view:off_nadir", "direction": "asc"},
                {"field": "datetime", "direction": "desc"},
            ],
        },
        ALWAYS,
        ALL4,
        sort=(("view:off_nadir", ASC), ("datetime", DESC)),
        via=("GET", "POST"),
        limit=100,
    ),
    Case(
        "sort-cloud-desc-missing-last-rotterdam",
        {
            "bbox": ROTTERDAM,
            "datetime": "2025-01-01T00:00:00Z/2025-12-31T23:59:59Z",
            "sortby": [{"field": "eo:cloud_cover", "direction": "desc"}],
        },
        ALWAYS,
        ALL4,
        sort=(("eo:cloud_cover", DESC),),
        via=("GET",),
    ),
    Case(
        "sort-platform-asc-gsd-desc-singapore",
        {
            "bbox": SINGAPORE,
            "filter": "datetime >= TIMESTAMP('2025-03-01T00:00:00Z')",
            "sortby": [
                {"field": "platform", "direction": "asc"},
                {"field": "gsd", "direction": "desc"},
            ],
        },
        P("datetime") >= "2025-03-01T00:00:00Z",
        ALL4,
        sort=(("platform", ASC), ("gsd", DESC)),
    ),
    Case(
        "sort-collection-then-datetime-asc-dubai",
        {
            "bbox": DUBAI,
            "datetime": "2020-01-01T00:00:00Z/2020-12-31T23:59:59Z",
            "sortby": [
                {"field": "collection", "direction": "asc"},
                {"field": "datetime", "direction": "asc"},
            ],
        },
        ALWAYS,
        ALL4,
        sort=(("collection", ASC), ("datetime", ASC)),
        via=("GET",),
    ),
    Case(
        "sort-orbit-incidence-id-kyiv",
        {
            "bbox": KYIV,
            "filter": "view:off_nadir < 22 AND datetime > TIMESTAMP('2024-01-01T00:00:00Z')",
            "sortby": [
                {"field": "sat:orbit_state", "direction": "asc"},
                {"field": "view:incidence_angle", "direction": "desc"},
                {"field": "id", "direction": "desc"},
            ],
        },
        (P("view:off_nadir") < 22) & (P("datetime") > "2024-01-01T00:00:00Z"),
        ALL4,
        sort=(("sat:orbit_state", ASC), ("view:incidence_angle", DESC), ("id", DESC)),
    ),
    Case(
        "sort-end-datetime-desc-azimuth-asc-sf",
        {
            "bbox": SAN_FRANCISCO,
            "datetime": "2019-01-01T00:00:00Z/2020-06-30T23:59:59Z",
            "sortby": [
                {"field": "end_datetime", "direction": "desc"},
                {"field": "view:azimuth", "direction": "asc"},
            ],
        },
        ALWAYS,
        ALL4,
        sort=(("end_datetime", DESC), ("view:azimuth", ASC)),
        via=("GET",),
    ),
    Case(
        "sort-datetime-asc-24-ids-every-provider",
        {"sortby": [{"field": "datetime", "direction": "asc"}]},
        ALWAYS,
        ALL4,
        sort=(("datetime", ASC),),
        via=("GET", "POST"),
        limit=7,
        ids_per_provider=6,
    ),
    Case(
        "ids-lookup-12-with-filter",
        {"filter": "datetime > TIMESTAMP('2019-06-01T00:00:00Z')"},
        P("datetime") > "2019-06-01T00:00:00Z",
        ALL4,
        limit=5,
        ids_per_provider=3,
    ),
    # -- search parameters at their edges ----------------------------------------------------
    Case(
        "intersects-multipolygon-helsinki-kyiv",
        {
            "intersects": {
                "type": "MultiPolygon",
                "coordinates": [[HELSINKI_TRIANGLE], [KYIV_WEST]],
            },
            "datetime": "2025-06-01T00:00:00Z/2026-12-31T23:59:59Z",
        },
        ALWAYS,
        ALL4,
        via=("GET", "POST"),
    ),
    Case(
        "intersects-polygon-with-hole-helsinki",
        {
            "intersects": {
                "type": "Polygon",
                "coordinates": [
                    ring((24.2, 59.7), (25.7, 59.7), (25.7, 60.7), (24.2, 60.7)),
                    ring((24.7, 60.0), (25.2, 60.0), (25.2, 60.35), (24.7, 60.35)),
                ],
            },
            "datetime": "2019-01-01T00:00:00Z/2020-12-31T23:59:59Z",
        },
        ALWAYS,
        ALL4,
    ),
    Case(
        "s-intersects-linestring-dubai",
        {
            "bbox": DUBAI,
            "filter": "S_INTERSECTS(geometry, LINESTRING(54.9 24.9, 55.3 25.2, 55.7 25.5))",
        },
        spatial(LineString([(54.9, 24.9), (55.3, 25.2), (55.7, 25.5)]).intersects),
        ALL4,
        via=("GET",),
    ),
    Case(
        "datetime-open-start-rotterdam",
        {"bbox": ROTTERDAM, "datetime": "../2019-10-01T00:00:00Z"},
        ALWAYS,
        pv("arlula", "capella", "iceye"),
    ),
    Case(
        "datetime-open-end-sydney",
        {"bbox": SYDNEY, "datetime": "2026-05-01T00:00:00Z/.."},
        ALWAYS,
        pv("arlula", "capella", "iceye"),
        via=("GET",),
    ),
    Case(
        "datetime-instant-inside-a-capella-collect",
        {"datetime": "2025-01-05T03:39:40Z"},
        ALWAYS,
        pv("capella"),
        via=("GET", "POST"),
    ),
    Case(
        "datetime-starts-at-an-iceye-end-instant",
        {"datetime": "2025-02-07T07:41:55.736423Z/2025-02-07T07:43:00Z"},
        ALWAYS,
        pv("iceye"),
    ),
    Case(
        "datetime-bounds-at-microseconds-worldwide",
        {"datetime": "2025-01-04T12:00:00Z/2025-01-05T05:06:14.586127Z"},
        ALWAYS,
        pv("arlula", "capella"),
        via=("GET",),
        limit=3,
    ),
    Case(
        "sparse-matches-stall-and-resume-capella",
        {
            "collections": ["capella-slc", "capella-gec", "capella-geo"],
            "filter": "A_CONTAINS(instruments, ('capella-radar-14'))",
        },
        P("collection").isin(["capella-slc", "capella-gec", "capella-geo"])
        & P("instruments").a_contains("capella-radar-14"),
        pv("capella"),
    ),
    Case(
        "sort-constant-key-ties-helsinki",
        {
            "bbox": HELSINKI,
            "datetime": "2025-01-01T00:00:00Z/2026-12-31T23:59:59Z",
            "sortby": [
                {"field": "sar:frequency_band", "direction": "desc"},
                {"field": "gsd", "direction": "asc"},
            ],
        },
        ALWAYS,
        ALL4,
        sort=(("sar:frequency_band", DESC), ("gsd", ASC)),
    ),
    Case(
        "proj-epsg-utm-zone-kyiv",
        {
            "bbox": KYIV,
            "datetime": "2025-01-01T00:00:00Z/2026-12-31T23:59:59Z",
            "filter": "proj:epsg = 32636",
        },
        P("proj:epsg").eq(32636),
        pv("capella", "satellogic"),
    ),
    # -- more names and operators ------------------------------------------------------------
    Case(
        "provider-aliases-capella-satellogic-sydney",
        {
            "bbox": SYDNEY,
            "filter": "view:look_angle < 25 AND satl:product_name = 'L1D' "
            "OR capella:orbital_plane = 97 AND view:look_angle < 25",
        },
        ((P("view:off_nadir") < 25) & P("product:type").eq("L1D"))
        | (P("capella:orbital_plane").eq(97) & (P("view:off_nadir") < 25)),
        pv("capella", "satellogic"),
    ),
    Case(
        "query-id-startswith-satellogic-kyiv",
        {"bbox": KYIV, "query": {"id": {"startsWith": "2024"}}},
        P("id").startswith("2024"),
        pv("satellogic"),
        via=("GET",),
    ),
    Case(
        "query-contains-underscores-sar-sydney",
        {"bbox": SYDNEY, "query": {"id": {"contains": "_SLC_"}}},
        P("id").contains("_SLC_"),
        SAR,
    ),
    Case(
        "counted-capella-satellogic-worldwide",
        {
            "collections": [
                *(f"capella-{p}" for p in ("cphd", "gec", "geo", "sicd", "sidd", "slc")),
                *(f"satellogic-{p}" for p in ("l1d", "l1d-sr", "quickview")),
            ],
            "query": {"platform": {"in": ["capella-15", "newsat-39"]}},
        },
        P("platform").isin(["capella-15", "newsat-39"]),
        pv("capella", "satellogic"),
        via=("GET",),
        counted=True,
    ),
    Case(
        "casei-supplier-arlula-singapore",
        {"bbox": SINGAPORE, "filter": "CASEI(arlula:supplier) = CASEI('MAXAR')"},
        P("arlula:supplier").eq("maxar"),
        pv("arlula"),
    ),
    Case(
        "is-null-sar-buenos-aires",
        {
            "bbox": BUENOS_AIRES,
            "filter": "eo:cloud_cover IS NULL AND view:azimuth >= 180",
        },
        P("eo:cloud_cover").is_null() & (P("view:azimuth") >= 180),
        pv("capella"),
        via=("GET",),
    ),
    Case(
        "query-datetime-compares-instants",
        {
            "bbox": HELSINKI,
            "query": {"datetime": {"gte": "2025-01-05T05:06:14Z", "lte": "2025-03-07T08:12:10Z"}},
        },
        (P("datetime") >= "2025-01-05T05:06:14Z") & (P("datetime") <= "2025-03-07T08:12:10Z"),
        pv("arlula", "iceye"),
    ),
    # -- fields ----------------------------------------------------------------------------
    Case(
        "fields-include-mix-helsinki",
        {
            "bbox": HELSINKI,
            "filter": "view:off_nadir < 20 AND datetime < TIMESTAMP('2022-01-01T00:00:00Z')",
            "fields": {"include": ["properties.eo:cloud_cover", "properties.platform", "bbox"]},
        },
        (P("view:off_nadir") < 20) & (P("datetime") < "2022-01-01T00:00:00Z"),
        ALL4,
        fields=(("properties.eo:cloud_cover", "properties.platform", "bbox"), ()),
        via=("GET", "POST"),
    ),
    Case(
        "fields-exclude-optical-sydney",
        {
            "bbox": SYDNEY,
            "filter": "eo:cloud_cover < 8",
            "fields": {"exclude": ["geometry", "assets", "properties.view:off_nadir"]},
        },
        P("eo:cloud_cover") < 8,
        OPTICAL,
        fields=((), ("geometry", "assets", "properties.view:off_nadir")),
    ),
    Case(
        "fields-legacy-include-iceye",
        {
            "collections": ["iceye-grd", "iceye-slc"],
            "bbox": KYIV,
            "fields": {
                "include": ["properties.incidence_angle", "properties.polarizations"],
                "exclude": ["properties.polarizations"],
            },
        },
        P("collection").isin(["iceye-grd", "iceye-slc"]),
        pv("iceye"),
        fields=(("properties.iceye:incidence_center", "properties.sar:polarizations"), ()),
        via=("GET",),
    ),
]


def _with_ids(case: Case, archives: dict[str, list[Item]]) -> Case:
    """The case with its ``ids`` spread over each provider's archive."""
    if not case.ids_per_provider:
        return case
    picked: list[str] = []
    for name in sorted(archives):
        items = archives[name]
        step = len(items) // case.ids_per_provider
        picked += [items[k * step + 3]["id"] for k in range(case.ids_per_provider)]
    return replace(case, body={**case.body, "ids": picked})


# -- fixtures --------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def archives() -> dict[str, list[Item]]:
    return await load_archives()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app, _ = sandbox_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        # identity: gzip would only spend CPU on in-process responses
        headers = {"Accept-Encoding": "identity"}
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, timeout=60, headers=headers
        ) as c:
            yield c


# -- the bridge side -------------------------------------------------------------------------


def get_params(body: dict[str, Any], limit: int) -> dict[str, str]:
    """The GET ``/search`` parameters meaning the same as a POST body."""
    params: dict[str, str] = {"limit": str(limit)}
    for key, val in body.items():
        if key in ("collections", "ids", "bbox"):
            params[key] = ",".join(str(v) for v in val)
        elif key in ("intersects", "query"):
            params[key] = json.dumps(val)
        elif key == "filter":
            if isinstance(val, str):
                params["filter"] = val
                params["filter-lang"] = "cql2-text"
            else:
                params["filter"] = json.dumps(val)
                params["filter-lang"] = "cql2-json"
        elif key == "sortby":
            params[key] = ",".join(
                ("-" if s["direction"] == "desc" else "+") + s["field"] for s in val
            )
        elif key == "fields":
            parts = [*val.get("include", []), *("-" + p for p in val.get("exclude", []))]
            params[key] = ",".join(parts)
        elif key == "filter-lang":
            continue
        else:
            params[key] = str(val)
    return params


async def page_through(
    client: httpx.AsyncClient, method: str, body: dict[str, Any], limit: int
) -> tuple[list[Item], list[dict[str, Any]]]:
    """Every feature of a search, following ``next`` links to the end; and every page."""
    if method == "GET":
        resp = await client.get("/search", params=get_params(body, limit))
    else:
        resp = await client.post("/search", json={**body, "limit": limit})
    features: list[Item] = []
    pages: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        assert resp.status_code == 200, resp.text
        assert "X-Bridge-Partial" not in resp.headers, resp.json().get("bridge:providers")
        page = resp.json()
        pages.append(page)
        features += page["features"]
        assert page["numberReturned"] == len(page["features"])
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            return features, pages
        link = nxt[0]
        assert link.get("method", "GET") == method
        if method == "GET":
            resp = await client.get(link["href"])
        else:
            assert link.get("merge", False) is False
            resp = await client.post(link["href"], json=link["body"])
    raise AssertionError(f"more than {MAX_PAGES} pages")


def provider_of(collection: str) -> str:
    return collection.split("-")[0]


def expected_items(case: Case, archives: dict[str, list[Item]]) -> list[Item]:
    base = search_matches(case.body)
    everything = [i for items in archives.values() for i in items]
    return expected_order([i for i in everything if base(i) and case.expect(i)], case.sort)


def _key(item: Item) -> tuple[str, str]:
    return (item["collection"], item["id"])


PARAMS = [
    pytest.param(
        c,
        m,
        id=f"{c.id}-{m}",
        marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else [],
    )
    for c in CASES
    for m in c.via
]


def test_the_suite_covers_what_the_acceptance_asks() -> None:
    assert len(CASES) >= 40
    assert len([c for c in CASES if len(c.providers) > 1]) >= 8
    for name in ("arlula", "capella", "iceye", "satellogic"):
        assert any(c.providers == {name} for c in CASES), name
    assert {m for c in CASES for m in c.via} == {"GET", "POST"}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("case", "method"), PARAMS)
async def test_paged_result_equals_brute_force(
    case: Case, method: str, client: httpx.AsyncClient, archives: dict[str, list[Item]]
) -> None:
    case = _with_ids(case, archives)
    expected = expected_items(case, archives)
    assert expected, "the query matches nothing: it proves nothing"
    # At least the providers the case is about (a provider added later may match too).
    assert {provider_of(i["collection"]) for i in expected} >= case.providers

    features, pages = await page_through(client, method, case.body, case.limit)
    got = [_key(f) for f in features]
    want = [_key(i) for i in expected]
    assert len(set(got)) == len(got), "an item came back twice"
    missing = set(want) - set(got)
    extra = set(got) - set(want)
    assert not missing and not extra, (
        f"missing {len(missing)} e.g. {sorted(missing)[:3]}, extra {len(extra)} e.g. "
        f"{sorted(extra)[:3]}"
    )
    assert got == want, "same items, different order"
    assert len(pages) > 1 or len(want) <= case.limit

    matched = [p["numberMatched"] for p in pages if "numberMatched" in p]
    if case.counted:
        assert len(matched) == len(pages), "numberMatched is missing from a page"
    assert all(m == len(want) for m in matched), (matched, len(want))
    for page in pages:
        assert all(s["status"] == "ok" for s in page["bridge:providers"].values())

    if case.fields is not None:
        include, exclude = case.fields
        by_key = {_key(i): i for i in expected}
        for feature in features:
            # As served to a caller without a key: bridge asset hrefs, order state, links.
            truth = decorate_item(f"{BASE}/", by_key[_key(feature)], None)
            shaped = expected_shape(truth, include, exclude)
            assert paths(feature) == paths(shaped), _key(feature)
            for key, val in shaped.items():
                if key != "links":
                    assert feature[key] == val, (_key(feature), key)


async def test_every_item_property_is_a_queryable_of_its_collection(
    archives: dict[str, list[Item]],
) -> None:
    """Queryables are complete: a filter on any property an item carries is accepted, and
    the federation's pruning (collections that never carry a filtered property are not
    asked) can never drop a match."""
    from bridge.catalog import load_catalog
    from bridge.core.vocabulary import Vocabulary
    from tests.support.wiring import COLLECTIONS

    vocabulary = Vocabulary(load_catalog(COLLECTIONS).all())
    missing: dict[str, set[str]] = {}
    for items in archives.values():
        for item in items:
            known = vocabulary.by_collection[item["collection"]]
            for name in item["properties"]:
                if name not in known:
                    missing.setdefault(item["collection"], set()).add(name)
    assert not missing, missing
