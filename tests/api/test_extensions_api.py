"""Filter, Query, Sort and Fields extensions, queryables and sortables, over fake providers."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.api.test_search_api import collect_get, collect_post


async def items_get(client: httpx.AsyncClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    resp = await client.get("/search", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["features"])


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "gsd < 3"},
        {"filter": "ground_sample < 3"},  # an alias the fake provider declares
        {"filter": '{"op": "<", "args": [{"property": "gsd"}, 3]}', "filter-lang": "cql2-json"},
        {"query": '{"gsd": {"lt": 3}}'},
        {"query": '{"gsd": {"in": [0, 1, 2]}}'},
        {"filter": "gsd BETWEEN 0 AND 2"},
        {"filter": "NOT (gsd >= 3)"},
        {"filter": "gsd IN (0, 1, 2)"},
    ],
)
async def test_filters_and_queries_agree(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    items = await items_get(client, params)
    assert items and all(f["properties"]["gsd"] < 3 for f in items)
    everything = await items_get(client, {})
    assert len(items) == sum(1 for f in everything if f["properties"]["gsd"] < 3)


async def test_post_filter_text_and_json(client: httpx.AsyncClient) -> None:
    text = await client.post(
        "/search", json={"filter": "gsd = 4", "filter-lang": "cql2-text", "limit": 500}
    )
    as_json = await client.post(
        "/search",
        json={"filter": {"op": "=", "args": [{"property": "gsd"}, 4]}, "limit": 500},
    )
    assert text.status_code == as_json.status_code == 200
    ids = [f["id"] for f in text.json()["features"]]
    assert ids and ids == [f["id"] for f in as_json.json()["features"]]


async def test_and_or_with_one_argument_mean_that_argument(client: httpx.AsyncClient) -> None:
    """stac-browser 4 wraps its one filter in an ``and``; the CQL2 schema wants two args."""
    one = {"op": "=", "args": [{"property": "gsd"}, 4]}
    expected = await client.post("/search", json={"filter": one, "limit": 500})
    ids = [f["id"] for f in expected.json()["features"]]
    for wrapped in (
        {"op": "and", "args": [one]},
        {"op": "or", "args": [{"op": "and", "args": [one]}]},
    ):
        resp = await client.post("/search", json={"filter": wrapped, "limit": 500})
        assert resp.status_code == 200, resp.text
        assert [f["id"] for f in resp.json()["features"]] == ids
    as_get = await client.get(
        "/search",
        params={"filter": orjson.dumps({"op": "and", "args": [one]}).decode(), "limit": 500},
    )
    assert [f["id"] for f in as_get.json()["features"]] == ids
    empty = await client.post("/search", json={"filter": {"op": "and", "args": []}})
    assert empty.status_code == 400


@pytest.mark.parametrize(
    "malformed",
    [{"op": "and"}, {"op": "and", "args": "x"}, {"op": "=", "args": [{"property": 3}, 1]}, [1]],
)
async def test_malformed_cql2_json_is_a_400_by_get_and_post(
    client: httpx.AsyncClient, malformed: Any
) -> None:
    post = await client.post("/search", json={"filter": malformed, "filter-lang": "cql2-json"})
    get = await client.get(
        "/search", params={"filter": orjson.dumps(malformed).decode(), "filter-lang": "cql2-json"}
    )
    for resp in (post, get):
        assert resp.status_code == 400, resp.text
        assert "filter" in resp.json()["description"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter": "no_such_thing = 3"}, "queryables"),
        ({"query": '{"nope": {"eq": 1}}'}, "queryables"),
        ({"sortby": "-nope"}, "queryables"),
        ({"fields": "properties.nope"}, "queryables"),
        ({"filter": "gsd <"}, "CQL2"),
        ({"filter": "gsd < 3", "filter-lang": "sql"}, "filter-lang"),
        ({"filter": "gsd < 3", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
        ({"query": '{"gsd": {"approx": 1}}'}, "operator"),
        ({"query": "{not json"}, "query"),
        ({"sortby": "geometry"}, "scalar"),
    ],
)
async def test_bad_extension_input_is_a_400(
    client: httpx.AsyncClient, params: dict[str, str], fragment: str
) -> None:
    resp = await client.get("/search", params=params)
    assert resp.status_code == 400, resp.text
    assert fragment.lower() in resp.json()["description"].lower()


async def test_sortby_get_and_post(client: httpx.AsyncClient) -> None:
    got = await items_get(client, {"sortby": "-gsd,+id"})
    keys = [(-f["properties"]["gsd"], f["id"]) for f in got]
    assert keys == sorted(keys)
    post = await client.post(
        "/search",
        json={
            "limit": 1000,
            "sortby": [{"field": "gsd", "direction": "desc"}, {"field": "id", "direction": "asc"}],
        },
    )
    assert [f["id"] for f in post.json()["features"]] == [f["id"] for f in got]


async def test_sorted_filtered_paging_equals_one_page(client: httpx.AsyncClient) -> None:
    params = {"sortby": "+gsd,-datetime", "filter": "gsd > 1"}
    big = await collect_get(client, {**params, "limit": 1000})
    assert big == await collect_get(client, {**params, "limit": 7})
    body = {
        "sortby": [
            {"field": "gsd", "direction": "asc"},
            {"field": "datetime", "direction": "desc"},
        ],
        "filter": "gsd > 1",
    }
    assert big == await collect_post(client, {**body, "limit": 7})


async def test_fields_include_and_exclude(client: httpx.AsyncClient) -> None:
    inc = await items_get(client, {"fields": "properties.gsd,bbox", "limit": 3})
    assert set(inc[0]) == {"type", "stac_version", "id", "collection", "bbox", "properties"}
    assert set(inc[0]["properties"]) == {"gsd"}
    exc = await items_get(client, {"fields": "-geometry,-properties.gsd", "limit": 3})
    assert "geometry" not in exc[0] and "gsd" not in exc[0]["properties"]
    assert "datetime" in exc[0]["properties"] and "links" in exc[0]
    post = await client.post(
        "/search", json={"limit": 3, "fields": {"include": ["properties.ground_sample"]}}
    )
    assert set(post.json()["features"][0]["properties"]) == {"gsd"}
    # Fields never change which items match, and the next page still works.
    again = await items_get(client, {"limit": 3})
    assert "geometry" in again[0] and "gsd" in again[0]["properties"]


async def test_queryables_and_sortables(client: httpx.AsyncClient) -> None:
    landing = (await client.get("/")).json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert (
        rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"]["type"]
        == "application/schema+json"
    )
    q = await client.get("/queryables")
    assert q.headers["content-type"].startswith("application/schema+json")
    props = q.json()["properties"]
    assert (
        props["gsd"]["minimum"] == 0
        and props["gsd"]["maximum"] == 6
        and props["gsd"]["unit"] == "m"
    )
    assert {"id", "collection", "geometry", "datetime"} <= set(props)
    cq = (await client.get("/collections/alpha-a/queryables")).json()
    assert cq["$id"].endswith("/collections/alpha-a/queryables")
    assert (await client.get("/collections/nope/queryables")).status_code == 404
    s = (await client.get("/sortables")).json()["properties"]
    assert "gsd" in s and "geometry" not in s
    coll = (await client.get("/collections/alpha-a")).json()
    assert any(link["rel"].endswith("/queryables") for link in coll["links"])


async def test_conformance_advertises_the_extensions(client: httpx.AsyncClient) -> None:
    classes = set((await client.get("/conformance")).json()["conformsTo"])
    for needed in [
        "https://api.stacspec.org/v1.0.0/item-search#sort",
        "https://api.stacspec.org/v1.1.0/item-search#sort",
        "https://api.stacspec.org/v1.0.0/item-search#fields",
        "https://api.stacspec.org/v1.0.0/item-search#query",
        "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    ]:
        assert needed in classes


async def test_item_listing_takes_the_same_extensions(client: httpx.AsyncClient) -> None:
    resp = await client.get(
        "/collections/alpha-a/items",
        params={"filter": "gsd < 2", "sortby": "+gsd", "fields": "properties.gsd", "limit": 50},
    )
    assert resp.status_code == 200, resp.text
    values = [f["properties"]["gsd"] for f in resp.json()["features"]]
    assert values and values == sorted(values) and max(values) < 2


@pytest.mark.parametrize(
    "value", ["2021-01-01", "2021-01-01T00:00:00+0100", "2021-01-01T00:00:50,5Z"]
)
async def test_datetimes_must_be_rfc3339(client: httpx.AsyncClient, value: str) -> None:
    assert (await client.get("/search", params={"datetime": value})).status_code == 400


async def test_an_include_inside_an_excluded_parent_wins(client: httpx.AsyncClient) -> None:
    items = await items_get(client, {"fields": "-properties,+properties.gsd", "limit": 2})
    assert set(items[0]["properties"]) == {"gsd"}


async def test_post_fields_null_is_a_400(client: httpx.AsyncClient) -> None:
    assert (await client.post("/search", json={"fields": None})).status_code == 400


async def test_query_numbers_may_come_as_strings(client: httpx.AsyncClient) -> None:
    as_text = await items_get(client, {"query": '{"gsd": {"lt": "3"}}'})
    as_number = await items_get(client, {"query": '{"gsd": {"lt": 3}}'})
    assert as_text and [f["id"] for f in as_text] == [f["id"] for f in as_number]
    bad = await client.get("/search", params={"query": '{"gsd": {"lt": "three"}}'})
    assert bad.status_code == 400


async def test_item_collections_link_to_themselves(client: httpx.AsyncClient) -> None:
    page = (await client.get("/collections/alpha-a/items", params={"limit": 2})).json()
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert rels["self"].startswith("http://bridge.test/collections/alpha-a/items")
    assert rels["collection"] == "http://bridge.test/collections/alpha-a"
