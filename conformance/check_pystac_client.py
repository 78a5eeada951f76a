"""Check 3: pystac-client against the bridge, the way its users drive it.

Opens the API with the demo key as a header, lists collections, searches every
collection with bbox + datetime, filters (CQL2 text and JSON), query, sortby, fields,
pages to exhaustion by GET and by POST, ``matched()``, queryables and items by id. Every
result is checked exactly (filters with the ``cql2`` package's own evaluator), and every
document received is recorded for the schema check.
"""

from __future__ import annotations

import itertools
import warnings
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cql2
import orjson
import requests
from pystac_client import Client
from pystac_client.conformance import ConformanceClasses
from pystac_client.stac_api_io import StacApiIO
from shapely.geometry import box, shape

from conformance.core import (
    FAIL,
    HELSINKI_BBOX,
    PROVIDERS,
    WINDOW,
    Cases,
    CheckResult,
    Context,
    expect,
)

NAME = "pystac-client"
TITLE = "pystac-client"
PAGING_WINDOW = "2023-01-01T00:00:00Z/2024-12-31T23:59:59Z"
MAX_PAGES = 500


def _is_fields_request(req: requests.PreparedRequest) -> bool:
    if "fields" in parse_qs(urlsplit(req.url or "").query):
        return True
    if req.body:
        try:
            body = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            return False
        return isinstance(body, dict) and "fields" in body
    return False


def _stac_io(ctx: Context, sent_keys: list[bool]) -> StacApiIO:
    io = StacApiIO(headers=ctx.headers, timeout=120)

    def record(resp: requests.Response, *_: Any, **__: Any) -> None:
        sent_keys.append(resp.request.headers.get("X-API-Key") == ctx.api_key)
        if resp.ok and "json" in resp.headers.get("content-type", ""):
            partial = _is_fields_request(resp.request)
            ctx.recorder.add(
                NAME, resp.request.method or "GET", resp.url, resp.json(), partial=partial
            )

    io.session.hooks["response"].append(record)
    return io


def _when(item: dict[str, Any]) -> tuple[datetime, datetime]:
    p = item["properties"]
    start = p.get("start_datetime") or p["datetime"]
    end = p.get("end_datetime") or p["datetime"]
    return _parse(start), _parse(end)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _in_window(item: dict[str, Any], window: str) -> bool:
    lo, hi = (_parse(t) for t in window.split("/"))
    start, end = _when(item)
    return not (end < lo or start > hi)


def _check_items(
    items: list[dict[str, Any]],
    what: str,
    *,
    bbox: list[float] | None = None,
    window: str | None = None,
    cql: Any = None,
) -> None:
    expect(items, f"{what}: no items")
    ids = [(i.get("collection"), i["id"]) for i in items]
    expect(len(ids) == len(set(ids)), f"{what}: duplicate items")
    area = box(*bbox) if bbox else None
    expr = cql2.Expr(cql) if cql is not None else None
    for item in items:
        label = f"{what}: {item.get('collection')}/{item['id']}"
        if area is not None:
            expect(shape(item["geometry"]).intersects(area), f"{label} is outside bbox {bbox}")
        if window is not None:
            expect(_in_window(item, window), f"{label} is outside datetime {window}")
        if expr is not None:
            expect(expr.matches(item), f"{label} does not match filter {cql}")


def _sorted_ok(values: list[Any], descending: bool) -> bool:
    pairs = itertools.pairwise(values)
    return all((a >= b) if descending else (a <= b) for a, b in pairs)


class _Run:
    """The cases of one pystac-client session, in order; later cases use earlier results."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cases = Cases()
        self.sent_keys: list[bool] = []
        self.ids: list[str] = []
        self.sample: list[dict[str, Any]] = []
        self.paged: dict[str, list[str]] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            io = _stac_io(ctx, self.sent_keys)
            self.client = Client.open(ctx.root, headers=ctx.headers, stac_io=io)
        self.warned = [str(w.message) for w in caught if "pystac" in (w.filename or "")]

    def search(self, **kw: Any) -> list[dict[str, Any]]:
        return list(self.client.search(**kw).items_as_dicts())

    def opened(self) -> None:
        with self.cases.case("open with the demo key header") as notes:
            expect(not self.warned, f"pystac-client warned: {self.warned}")
            for cc in (
                ConformanceClasses.CORE,
                ConformanceClasses.COLLECTIONS,
                ConformanceClasses.FEATURES,
                ConformanceClasses.ITEM_SEARCH,
                ConformanceClasses.FILTER,
                ConformanceClasses.QUERY,
                ConformanceClasses.SORT,
                ConformanceClasses.FIELDS,
            ):
                expect(self.client.conforms_to(cc), f"conformsTo lacks {cc.name} for pystac-client")
            notes.append(
                "conforms to CORE, COLLECTIONS, FEATURES, ITEM_SEARCH, FILTER, QUERY, SORT, FIELDS"
            )

    def collections_and_search(self) -> None:
        with self.cases.case("list collections") as notes:
            self.ids = sorted(c.id for c in self.client.get_collections())
            providers = {i.split("-")[0] for i in self.ids}
            expect(providers == set(PROVIDERS), f"providers of {self.ids}")
            notes.append(f"{len(self.ids)} collections")
        with self.cases.case("search all collections with bbox + datetime") as notes:
            search = self.client.search(
                collections=self.ids, bbox=HELSINKI_BBOX, datetime=WINDOW, max_items=200
            )
            self.sample = [i.to_dict(transform_hrefs=False) for i in search.items()]
            _check_items(self.sample, "search", bbox=HELSINKI_BBOX, window=WINDOW)
            seen = {i["collection"].split("-")[0] for i in self.sample}
            expect(seen == set(PROVIDERS), f"items from {sorted(seen)} only")
            notes.append(f"{len(self.sample)} items (pystac Items), from {len(seen)} providers")

    def _filter(self, name: str, flt: Any, lang: str, method: str) -> None:
        with self.cases.case(name) as notes:
            got = self.search(
                collections=self.ids,
                bbox=HELSINKI_BBOX,
                datetime=WINDOW,
                filter=flt,
                filter_lang=lang,
                method=method,
                max_items=100,
            )
            _check_items(got, name, bbox=HELSINKI_BBOX, window=WINDOW, cql=flt)
            notes.append(f"{len(got)} items, each matched by cql2's evaluator")

    def filters_and_query(self) -> None:
        # Built around one sampled item, so that each must match at least that item.
        anchor = next(
            i for i in self.sample if {"gsd", "platform", "constellation"} <= set(i["properties"])
        )
        props = anchor["properties"]
        gsd, prefix = props["gsd"], str(props["platform"])[:3]
        point = shape(anchor["geometry"]).representative_point()
        when = props.get("datetime") or props.get("start_datetime")
        text = f"gsd <= {gsd} AND platform LIKE '{prefix}%'"
        self._filter("filter: cql2-text LIKE (GET)", text, "cql2-text", "GET")
        self._filter(
            "filter: cql2-text NOT LIKE (POST)",
            f"NOT platform LIKE '{prefix}%'",
            "cql2-text",
            "POST",
        )
        between = {"op": "between", "args": [{"property": "gsd"}, 0, gsd]}
        spatial = {
            "op": "s_intersects",
            "args": [
                {"property": "geometry"},
                {"type": "Point", "coordinates": [point.x, point.y]},
            ],
        }
        self._filter(
            "filter: cql2-json BETWEEN, S_INTERSECTS (POST)",
            {"op": "and", "args": [between, spatial]},
            "cql2-json",
            "POST",
        )
        in_list = {
            "op": "in",
            "args": [{"property": "constellation"}, [props["constellation"], "x"]],
        }
        temporal = {
            "op": "t_intersects",
            "args": [{"property": "datetime"}, {"interval": [when, ".."]}],
        }
        self._filter(
            "filter: cql2-json IN, T_INTERSECTS (GET)",
            {"op": "and", "args": [in_list, temporal]},
            "cql2-json",
            "GET",
        )
        with self.cases.case("query") as notes:
            got = self.search(
                collections=self.ids,
                bbox=HELSINKI_BBOX,
                datetime=WINDOW,
                query={"gsd": {"lte": gsd}},
                max_items=100,
            )
            _check_items(got, "query", bbox=HELSINKI_BBOX, window=WINDOW, cql=f"gsd <= {gsd}")
            notes.append(f"gsd lte {gsd}: {len(got)} items")

    def sort_and_fields(self) -> None:
        for sortby, key, descending in (
            ("-properties.gsd", "gsd", True),
            ("+properties.datetime", "datetime", False),
        ):
            with self.cases.case(f"sortby {sortby}") as notes:
                got = self.search(
                    collections=self.ids,
                    bbox=HELSINKI_BBOX,
                    datetime=WINDOW,
                    sortby=sortby,
                    max_items=60,
                    limit=25,
                )
                _check_items(got, f"sortby {sortby}", bbox=HELSINKI_BBOX, window=WINDOW)
                values = [i["properties"][key] for i in got]
                if key == "datetime":
                    values = [_parse(v) for v in values]
                expect(_sorted_ok(values, descending), f"not sorted by {sortby}: {values}")
                notes.append(f"{len(got)} items over 3 pages")
        with self.cases.case("fields include / exclude") as notes:
            got = self.search(
                collections=self.ids,
                bbox=HELSINKI_BBOX,
                datetime=WINDOW,
                fields=["properties.gsd", "-assets"],
                max_items=30,
            )
            expect(got, "fields: no items")
            with_assets = [i["id"] for i in got if "assets" in i]
            expect(not with_assets, f"fields=-assets still returned assets on {with_assets[:5]}")
            expect(all("id" in i for i in got), "fields: an item without id")
            no_gsd = [i["id"] for i in got if "gsd" not in i.get("properties", {})]
            expect(not no_gsd, f"fields=properties.gsd dropped gsd on {no_gsd[:5]}")
            notes.append(f"{len(got)} items without assets, with gsd")

    def paging(self) -> None:
        for method in ("GET", "POST"):
            with self.cases.case(f"page to exhaustion by {method}") as notes:
                search = self.client.search(
                    collections=self.ids,
                    bbox=HELSINKI_BBOX,
                    datetime=PAGING_WINDOW,
                    limit=7,
                    method=method,
                    max_items=None,
                )
                pages = 0
                got: list[dict[str, Any]] = []
                for page in search.pages_as_dicts():
                    pages += 1
                    got.extend(page["features"])
                    expect(pages <= MAX_PAGES, f"{method} paging did not end in {MAX_PAGES} pages")
                _check_items(got, f"{method} paging", bbox=HELSINKI_BBOX, window=PAGING_WINDOW)
                expect(pages > 1, f"{method} paging: a single page")
                self.paged[method] = [f"{i['collection']}/{i['id']}" for i in got]
                notes.append(f"{len(got)} items in {pages} pages of 7")
        with self.cases.case("GET and POST paging agree"):
            expect(self.paged.get("GET") == self.paged.get("POST"), "GET and POST paging differ")

    def matched(self) -> None:
        with self.cases.case("matched()") as notes, warnings.catch_warnings():
            # numberMatched comes only when every provider involved counts exactly: None is
            # fine, but where it comes it must equal what paging returns.
            warnings.simplefilter("ignore", UserWarning)
            search = self.client.search(
                collections=self.ids, bbox=HELSINKI_BBOX, datetime=PAGING_WINDOW
            )
            n = search.matched()
            total = len(self.paged.get("GET", []))
            expect(n is None or n == total, f"matched() {n} != {total} paged")
            capella = [i for i in self.ids if i.startswith("capella")]
            n = self.client.search(collections=capella, bbox=HELSINKI_BBOX).matched()
            expect(n is not None, "matched() is None for capella + bbox (Capella counts natively)")
            got = self.search(collections=capella, bbox=HELSINKI_BBOX, limit=50)
            expect(n == len(got), f"capella matched() {n} != {len(got)} paged")
            notes.append(f"capella + bbox: {n} = paged")

    def queryables_and_items(self) -> None:
        with self.cases.case("queryables") as notes:
            root_q = self.client.get_queryables()
            expect({"datetime", "gsd"} <= set(root_q.get("properties", {})), "root queryables")
            for provider in PROVIDERS:
                cid = next(i for i in self.ids if i.startswith(provider))
                coll = self.client.get_collection(cid)
                expect(coll.get_queryables().get("properties"), f"{cid}: no queryables")  # type: ignore[union-attr]
            notes.append(f"root: {len(root_q['properties'])}; one collection per provider")
        with self.cases.case("item by id") as notes:
            for provider in PROVIDERS:
                item = next(i for i in self.sample if i["collection"].startswith(provider))
                where = f"{item['collection']}/{item['id']}"
                fetched = self.client.get_collection(item["collection"]).get_item(item["id"])  # type: ignore[union-attr]
                expect(fetched is not None, f"{where} not found by id")
                got = fetched.to_dict(transform_hrefs=False)  # type: ignore[union-attr]
                for key in ("id", "collection", "geometry", "properties", "assets"):
                    expect(got.get(key) == item.get(key), f"{where}: '{key}' differs from search")
                by_ids = self.search(ids=[item["id"]], collections=[item["collection"]])
                expect([i["id"] for i in by_ids] == [item["id"]], f"search ids=[{item['id']}]")
            notes.append("one item per provider, equal to the search result; search by ids")
        with self.cases.case("every request carried the X-API-Key header") as notes:
            missing = self.sent_keys.count(False)
            expect(self.sent_keys and not missing, f"{missing} request(s) without it")
            notes.append(f"{len(self.sent_keys)} requests")


def run(ctx: Context) -> CheckResult:
    versions = {"pystac-client": version("pystac-client"), "pystac": version("pystac")}
    session = _Run(ctx)
    steps = (
        session.opened,
        session.collections_and_search,
        session.filters_and_query,
        session.sort_and_fields,
        session.paging,
        session.matched,
        session.queryables_and_items,
    )
    for step in steps:
        try:
            step()
        except Exception as exc:  # a step that cannot even start (no sample): one failure
            session.cases.add(step.__name__, FAIL, f"{type(exc).__name__}: {exc}")
    return CheckResult(NAME, TITLE, session.cases.passed, [], session.cases.cases, versions)
