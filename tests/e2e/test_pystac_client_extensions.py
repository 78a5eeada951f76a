"""Acceptance: pystac-client's extension features against a live sandbox.

``search(filter=<cql2 text>)``, ``filter_lang="cql2-json"``, ``sortby``, ``fields``,
``query``, ``matched()`` and ``get_queryables()`` — each checked for what it must *do*
(the filtered values hold, the order holds, items are shaped, counts are right), not only
that it answers. Warnings are errors here, so a missing conformance class (pystac-client's
``DoesNotConformTo``) fails the test that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx
import pytest
from pystac_client import Client, CollectionClient
from pystac_client.conformance import ConformanceClasses

from tests.e2e.conftest import DEMO_KEY, LiveBridge

pytestmark = pytest.mark.e2e

METHODS = ("GET", "POST")
HELSINKI = [24.14, 59.57, 25.74, 60.77]
KYIV = [29.72, 49.85, 31.32, 51.05]
WINDOW = "2023-01-01T00:00:00Z/2024-12-31T23:59:59Z"


@pytest.fixture(scope="module")
def client(live_bridge: LiveBridge) -> Client:
    return Client.open(live_bridge.root, headers={"X-API-Key": DEMO_KEY})


def items(client: Client, method: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a pystac-client search (it follows ``next`` links itself)."""
    return list(client.search(method=method, **params).items_as_dicts())


def prop(item: dict[str, Any], name: str) -> Any:
    return item["properties"].get(name)


def provider(item: dict[str, Any]) -> str:
    return str(item["collection"]).split("-")[0]


def ids(found: Iterable[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in found]


def test_the_landing_page_conforms_to_every_class_used_here(client: Client) -> None:
    for cls in (
        ConformanceClasses.CORE,
        ConformanceClasses.ITEM_SEARCH,
        ConformanceClasses.COLLECTIONS,
        ConformanceClasses.FILTER,
        ConformanceClasses.SORT,
        ConformanceClasses.FIELDS,
        ConformanceClasses.QUERY,
    ):
        assert client.conforms_to(cls), cls


def test_filter_as_cql2_text(client: Client) -> None:
    text = "eo:cloud_cover < 15 AND platform LIKE 'newsat%'"
    found = {
        m: items(client, m, bbox=HELSINKI, datetime=WINDOW, filter=text, limit=40) for m in METHODS
    }
    assert ids(found["GET"]) == ids(found["POST"])
    assert found["GET"], "newsat scenes under 15 % cloud exist near Helsinki"
    assert {provider(i) for i in found["GET"]} == {"arlula", "satellogic"}
    for item in found["GET"]:
        assert prop(item, "eo:cloud_cover") < 15
        assert prop(item, "platform").startswith("newsat")


def test_filter_as_cql2_json(client: Client) -> None:
    expr = {
        "op": "and",
        "args": [
            {
                "op": "or",
                "args": [
                    {"op": "=", "args": [{"property": "sar:instrument_mode"}, "scan"]},
                    {"op": "a_contains", "args": [{"property": "sar:polarizations"}, ["HH"]]},
                ],
            },
            {"op": "s_intersects", "args": [{"property": "geometry"}, _box(*HELSINKI)]},
        ],
    }
    found = {
        m: items(client, m, filter=expr, filter_lang="cql2-json", datetime=WINDOW, limit=25)
        for m in METHODS
    }
    assert ids(found["GET"]) == ids(found["POST"])
    assert {provider(i) for i in found["GET"]} == {"capella", "iceye"}
    for item in found["GET"]:
        assert prop(item, "sar:instrument_mode") == "scan" or "HH" in prop(
            item, "sar:polarizations"
        )


def test_filter_accepts_iceye_v1_names(client: Client) -> None:
    found = items(
        client,
        "POST",
        bbox=KYIV,
        filter="incidence_angle > 38 AND orbit_state = 'descending'",
        limit=50,
    )
    assert found and {provider(i) for i in found} == {"iceye"}
    for item in found:
        assert prop(item, "iceye:incidence_center") > 38
        assert prop(item, "sat:orbit_state") == "descending"


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize("method", METHODS)
def test_sortby_on_two_keys_across_providers(client: Client, method: str) -> None:
    found = items(
        client,
        method,
        bbox=HELSINKI,
        datetime=WINDOW,
        sortby=["-view:off_nadir", "+id"],
        limit=60,
    )
    assert {provider(i) for i in found} == {"arlula", "capella", "iceye", "satellogic"}
    keys = [(-prop(i, "view:off_nadir"), i["id"]) for i in found]
    assert keys == sorted(keys)


def test_sortby_missing_values_last_and_legacy_names(client: Client) -> None:
    found = items(
        client,
        "GET",
        bbox=KYIV,
        datetime=WINDOW,
        sortby="+eo:cloud_cover,-start_time",
        limit=80,
    )
    with_cloud = [i for i in found if prop(i, "eo:cloud_cover") is not None]
    without = found[len(with_cloud) :]
    assert with_cloud and without, "optical and SAR scenes near Kyiv"
    assert all(prop(i, "eo:cloud_cover") is None for i in without)
    clouds = [prop(i, "eo:cloud_cover") for i in with_cloud]
    assert clouds == sorted(clouds)
    starts = [datetime.fromisoformat(prop(i, "start_datetime")) for i in without]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize("method", METHODS)
def test_fields_include_shapes_every_item(client: Client, method: str) -> None:
    found = items(
        client,
        method,
        bbox=HELSINKI,
        datetime="2024-01-01T00:00:00Z/2024-12-31T23:59:59Z",
        fields=["properties.eo:cloud_cover", "properties.incidence_angle", "bbox"],
        limit=30,
    )
    assert {provider(i) for i in found} == {"arlula", "capella", "iceye", "satellogic"}
    for item in found:
        assert set(item) == {"type", "stac_version", "id", "collection", "bbox", "properties"} or (
            set(item) == {"type", "stac_version", "id", "collection", "bbox"}
            and provider(item) == "capella"
        ), item
        expected = {
            "arlula": {"eo:cloud_cover"},
            "satellogic": {"eo:cloud_cover"},
            "iceye": {"iceye:incidence_center"},
            "capella": set(),
        }[provider(item)]
        assert set(item.get("properties", {})) == expected


def test_fields_exclude_drops_only_those_paths(client: Client) -> None:
    found = items(
        client,
        "POST",
        bbox=KYIV,
        datetime="2024-01-01T00:00:00Z/2024-03-31T23:59:59Z",
        fields=["-assets", "-geometry", "-properties.view:off_nadir"],
        limit=30,
    )
    assert found
    for item in found:
        assert "assets" not in item and "geometry" not in item
        assert "view:off_nadir" not in item["properties"]
        assert {"type", "id", "collection", "bbox", "links", "stac_version"} <= set(item)
        assert "datetime" in item["properties"]


@pytest.mark.parametrize("method", METHODS)
def test_query_extension(client: Client, method: str) -> None:
    query = {
        "view:off_nadir": {"lt": 20},
        "sat:orbit_state": {"eq": "descending"},
        "platform": {"startsWith": "iceye-x1"},
    }
    found = items(client, method, bbox=HELSINKI, query=query, limit=50)
    assert found and {provider(i) for i in found} == {"iceye"}
    for item in found:
        assert prop(item, "view:off_nadir") < 20
        assert prop(item, "sat:orbit_state") == "descending"
        assert prop(item, "platform").startswith("iceye-x1")


COUNTED_COLLECTIONS = [
    "capella-cphd",
    "capella-gec",
    "capella-geo",
    "capella-sicd",
    "capella-sidd",
    "capella-slc",
    "satellogic-l1d",
    "satellogic-l1d-sr",
    "satellogic-quickview",
]


def test_matched_equals_the_items_paged_when_every_provider_counts(
    client: Client, live_bridge: LiveBridge
) -> None:
    params: dict[str, Any] = {
        "collections": COUNTED_COLLECTIONS,
        "query": {"platform": {"in": ["capella-14", "newsat-25"]}},
    }
    raw = httpx.post(
        live_bridge.root + "search",
        json={**params, "limit": 1},
        headers={"X-API-Key": DEMO_KEY},
        timeout=60,
    ).json()
    statuses = raw["bridge:providers"]
    assert set(statuses) == {"capella", "satellogic"}
    assert all(isinstance(s.get("matched"), int) for s in statuses.values()), statuses
    search = client.search(method="POST", limit=50, **params)
    matched = search.matched()
    paged = list(search.items_as_dicts())
    assert matched == len(paged) == sum(s["matched"] for s in statuses.values())
    assert {provider(i) for i in paged} == {"capella", "satellogic"}
    assert len(set(ids(paged))) == len(paged)


def test_matched_is_absent_when_a_provider_cannot_count(
    client: Client, live_bridge: LiveBridge
) -> None:
    raw = httpx.post(
        live_bridge.root + "search",
        json={"bbox": HELSINKI, "limit": 1},
        headers={"X-API-Key": DEMO_KEY},
        timeout=60,
    ).json()
    assert "numberMatched" not in raw
    uncounted = {n for n, s in raw["bridge:providers"].items() if "matched" not in s}
    assert uncounted, raw["bridge:providers"]
    with pytest.warns(UserWarning, match="numberMatched"):
        assert client.search(bbox=HELSINKI).matched() is None


def test_get_queryables_types_enums_and_ranges(client: Client) -> None:
    doc = client.get_queryables()
    props = doc["properties"]
    assert props["eo:cloud_cover"]["type"] == "number"
    assert (props["eo:cloud_cover"]["minimum"], props["eo:cloud_cover"]["maximum"]) == (0, 100)
    assert props["view:incidence_angle"]["type"] == "number"
    assert (
        props["view:incidence_angle"]["minimum"]
        <= 15
        < 45
        <= props["view:incidence_angle"]["maximum"]
    )
    assert set(props["sar:instrument_mode"]["enum"]) >= {"spotlight", "stripmap", "strip", "scan"}
    assert set(props["platform"]["enum"]) >= {"iceye-x2", "capella-1", "newsat-4", "worldview-3"}
    assert props["datetime"]["format"] == "date-time"
    assert set(props["sat:orbit_state"]["enum"]) == {"ascending", "descending"}
    assert set(props["arlula:supplier"]["enum"]) >= {"maxar", "esa", "planet"}
    assert doc["additionalProperties"] is False


def test_collection_and_merged_queryables(client: Client) -> None:
    collection = client.get_collection("iceye-grd")
    assert isinstance(collection, CollectionClient)
    iceye = collection.get_queryables()["properties"]
    assert iceye["iceye:incidence_center"]["type"] == "number"
    assert (
        iceye["iceye:incidence_center"]["minimum"],
        iceye["iceye:incidence_center"]["maximum"],
    ) == (
        12.0,
        45.0,
    )
    assert "eo:cloud_cover" not in iceye
    merged = client.get_merged_queryables(["iceye-grd", "satellogic-l1d"])["properties"]
    assert "iceye:incidence_center" in merged and "satl:valid_pixel" in merged


def test_queryables_type_array_properties_as_arrays(client: Client) -> None:
    props = client.get_queryables()["properties"]
    for name, values in (("sar:polarizations", {"HH", "VV"}), ("instruments", {"sar", "msi"})):
        assert props[name]["type"] == "array", props[name]
        assert set(props[name]["items"]["enum"]) >= values
