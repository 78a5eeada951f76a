"""Check 1: stac-api-validator, offline, for every conformance class the bridge advertises
that the validator knows, once per provider with a collection of that provider.

The validator runs as ``python -m conformance.sav_offline`` (its own CLI under
``conformance.offline``): schema URLs come from ``../shared/schemas`` and a schema with no
local file fails the run. Its errors are attributed to conformance classes by the
context tag it prints (``[Item Search - Filter Ext]`` ...). A few of its errors are known
deviations, each matched narrowly and reported as *waived* with the reason
(``KNOWN_DEVIATIONS``); any other error fails the check.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

from conformance.core import (
    FAIL,
    HELSINKI_BBOX,
    HELSINKI_POLYGON,
    NOT_COVERED,
    PASS,
    PROVIDERS,
    WAIVED,
    Case,
    CheckResult,
    Context,
)

NAME = "stac-api-validator"
TITLE = "stac-api-validator (offline schemas)"
RUN_TIMEOUT_S = 1200
FAST_PROVIDERS = ("iceye",)
ROOT_DIR = Path(__file__).resolve().parents[1]


def _validator_classes() -> list[tuple[str, re.Pattern[str]]]:
    """(validator class name, the regex it recognises the advertised URI with)."""
    from stac_api_validator import validations as v

    return [
        ("core", v.cc_core_regex),
        ("collections", v.cc_collections_regex),
        ("features", v.cc_features_regex),
        ("item-search", v.cc_item_search_regex),
        ("filter", v.cc_item_search_filter_regex),
        ("item-search#sort", v.cc_item_search_sort_regex),
        ("item-search#fields", v.cc_item_search_fields_regex),
        ("item-search#query", v.cc_item_search_query_regex),
        ("features#filter", v.cc_features_filter_regex),
        ("features#sort", v.cc_features_sort_regex),
        ("features#fields", v.cc_features_fields_regex),
        ("features#query", v.cc_features_query_regex),
        ("browseable", v.cc_browseable_regex),
        ("children", v.cc_children_regex),
        ("transaction", v.cc_features_transaction_regex),
    ]


# OGC classes the validator exercises inside one of its own classes (its ``filter`` class
# tests these CQL2 classes; its ``features`` class the OGC Features core and GeoJSON).
_OGC = "http://www.opengis.net/spec"
INSIDE_CLASSES = {
    f"{_OGC}/cql2/1.0/conf/cql2-text": "filter",
    f"{_OGC}/cql2/1.0/conf/cql2-json": "filter",
    f"{_OGC}/cql2/1.0/conf/basic-cql2": "filter",
    f"{_OGC}/cql2/1.0/conf/advanced-comparison-operators": "filter",
    f"{_OGC}/ogcapi-features-3/1.0/conf/filter": "filter",
    f"{_OGC}/ogcapi-features-3/1.0/conf/features-filter": "features#filter",
    f"{_OGC}/ogcapi-features-1/1.0/conf/core": "features",
    f"{_OGC}/ogcapi-features-1/1.0/conf/geojson": "features",
}
# Classes stac-api-validator 0.6.8 accepts but only logs "not yet supported" for.
NO_OP_CLASSES = {"features#sort", "features#fields", "features#query"}

# Which validator context tag an error line carries -> the class it belongs to.
CONTEXT_CLASS = [
    ("[Item Search - Filter Ext]", "filter"),
    ("[Item Search - Sort Ext]", "item-search#sort"),
    ("[Item Search - Fields Ext]", "item-search#fields"),
    ("[Item Search - Query Ext]", "item-search#query"),
    ("[Features - Filter Ext]", "features#filter"),
    ("[Filter Ext]", "filter"),
    ("[Item Search]", "item-search"),
    ("STAC API - Item Search", "item-search"),
    ("Item Search", "item-search"),
    ("pystac-client", "item-search"),
    ("[Features]", "features"),
    ("[Collections]", "collections"),
    ("[Core]", "core"),
    ("CORE-", "core"),
    ("/ :", "core"),
    ("/:", "core"),
]


@dataclass(frozen=True)
class Deviation:
    """A validator error the project accepts on purpose, matched by class and pattern."""

    cls: str
    pattern: str
    reason: str


KNOWN_DEVIATIONS = [
    Deviation(
        "item-search",
        r"params=\{'datetime': '1985-12-12T23:20:50\.52'\} .*instead of 400",
        "a date-time without UTC offset is read as UTC on purpose: QGIS sends such datetimes "
        "(shared/clients.md; README). The validator expects 400 for it.",
    ),
    Deviation(
        "filter",
        r'"op": "between", "args": \[\{"property": "eo:cloud_cover"\}, \[0, 50\]\]\}.*'
        r"400 instead of 200",
        "stac-api-validator 0.6.8 sends the pre-1.0 CQL2-JSON BETWEEN form "
        "(args [property, [low, high]]); CQL2 1.0's JSON schema requires [property, low, high], "
        "so a 400 is right. The 1.0 form is checked by the pystac-client check.",
    ),
    Deviation(
        "filter",
        r"(mission (NOT )?LIKE 'sentinel%'|\{\"property\": \"mission\"\}).*400 instead of 200",
        "the validator's LIKE tests filter on 'mission', a Sentinel-2 property no archive here "
        "has; the bridge answers a filter on a property outside its queryables with 400 naming "
        "them. LIKE / NOT LIKE themselves are checked on 'platform' by the pystac-client check.",
    ),
]


def waiver_for(cls: str, error: str) -> Deviation | None:
    for dev in KNOWN_DEVIATIONS:
        if dev.cls == cls and re.search(dev.pattern, error):
            return dev
    return None


def class_of(error: str) -> str:
    for tag, cls in CONTEXT_CLASS:
        if tag in error:
            return cls
    return "(unattributed)"


def advertised_classes(conforms_to: list[str]) -> dict[str, list[str]]:
    """validator class -> the advertised URIs it covers, for classes the bridge advertises."""
    found: dict[str, list[str]] = {}
    for name, regex in _validator_classes():
        hits = [uri for uri in conforms_to if regex.fullmatch(uri)]
        if hits:
            found[name] = hits
    return found


def coverage(conforms_to: list[str]) -> dict[str, str]:
    """Each advertised URI -> the validator class that checks it, or NOT_COVERED."""
    by_uri: dict[str, str] = {}
    for name, uris in advertised_classes(conforms_to).items():
        for uri in uris:
            by_uri.setdefault(uri, name)
    validated = advertised_classes(conforms_to)
    for uri in conforms_to:
        if INSIDE_CLASSES.get(uri) in validated:
            by_uri.setdefault(uri, INSIDE_CLASSES[uri])
        by_uri.setdefault(uri, NOT_COVERED)
    return by_uri


# -- per-collection validator configuration -----------------------------------------------

_NUMERIC_PREFERENCE = ("gsd", "view:incidence_angle", "view:off_nadir", "eo:cloud_cover")
_STRING_PREFERENCE = ("platform", "constellation", "product:type")
_ARRAY_PREFERENCE = ("instruments", "sar:polarizations")


def _common(features: list[dict[str, Any]], queryables: set[str]) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for key in queryables:
        column = [f["properties"].get(key) for f in features]
        if column and all(v is not None for v in column):
            values[key] = column
    return values


def _pick(values: dict[str, list[Any]], preference: tuple[str, ...], ok: Any) -> str | None:
    for key in (*preference, *sorted(values)):
        if key in values and ok(values[key]):
            return key
    return None


def query_args(features: list[dict[str, Any]], queryables: set[str]) -> tuple[list[str], str]:
    """Arguments for the validator's Query and Fields tests, from a sample of the collection.

    Returns (arguments, note); arguments is empty when the sample has no property fit for
    one of the validator's tests (it then cannot check item-search#query on this collection).
    """
    values = _common(features, queryables)

    def numeric(col: list[Any]) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in col) and (
            len(set(col)) >= 3
        )

    def text(col: list[Any]) -> bool:
        return all(isinstance(v, str) and len(v) >= 3 for v in col)

    def strings(col: list[Any]) -> bool:
        return all(isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in col)

    num = _pick(values, _NUMERIC_PREFERENCE, numeric)
    sub = _pick(values, _STRING_PREFERENCE, text)
    arr = _pick(values, _ARRAY_PREFERENCE, strings)
    missing = [n for n, k in (("numeric", num), ("string", sub), ("array", arr)) if k is None]
    if missing or num is None or sub is None or arr is None:
        return [], f"no {'/'.join(missing)} queryable on every sampled item"
    distinct = sorted(set(values[num]))
    middle = distinct[len(distinct) // 2]
    word = values[sub][0]
    args = [
        *("--query-comparison-field", num),
        *("--query-eq-value", str(middle), "--query-neq-value", str(middle)),
        *("--query-lt-value", str(middle), "--query-lte-value", str(middle)),
        *("--query-gt-value", str(middle), "--query-gte-value", str(middle)),
        *("--query-substring-field", sub),
        *("--query-starts-with-value", word[:3], "--query-ends-with-value", word[-2:]),
        *("--query-contains-value", word[1:-1]),
        *("--query-in-field", arr, "--query-in-values", values[arr][0][0]),
    ]
    return args, f"query: {num}={middle}, {sub}~{word!r}, {arr} in [{values[arr][0][0]!r}]"


def pick_collections(ctx: Context, http: httpx.Client, providers: tuple[str, ...]) -> list[str]:
    """Per provider, the first collection (by id) with items around Helsinki."""
    ids = sorted(c["id"] for c in http.get(ctx.url("collections")).json()["collections"])
    chosen = []
    for provider in providers:
        for cid in (i for i in ids if i.split("-")[0] == provider):
            params = {"collections": cid, "bbox": ",".join(map(str, HELSINKI_BBOX)), "limit": 1}
            if http.get(ctx.url("search"), params=params).json().get("features"):
                chosen.append(cid)
                break
    return chosen


# -- running and reading the validator ----------------------------------------------------


def parse_output(text: str) -> tuple[list[str], list[str], str | None]:
    """(errors, warnings, crash) from the validator's printed output."""
    errors: list[str] = []
    warnings: list[str] = []
    section: list[str] | None = None
    crash = None
    if "\nFailed.\nError" in f"\n{text}":
        crash = text[text.index("Failed.") :][:2000]
    for line in text.splitlines():
        if line.startswith("Warnings:"):
            section = warnings
        elif line.startswith("Errors:"):
            section = errors
        elif line.startswith("offline:") or line.startswith("OFFLINE"):
            section = None
        elif section is not None and line.startswith("- "):
            section.append(line[2:])
        elif section is not None and section and line.strip():
            section[-1] += "\n" + line  # a multi-line message
    return errors, warnings, crash


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT_DIR))
    except ValueError:
        return str(path)


def run_validator(
    ctx: Context, collection: str, classes: list[str], extra: list[str]
) -> tuple[int, str, dict[str, Any], Path]:
    log = ctx.output / f"stac-api-validator-{collection}.log"
    offline_log = ctx.output / f"stac-api-validator-{collection}.offline.json"
    args = [
        *(sys.executable, "-m", "conformance.sav_offline", "--offline-log", str(offline_log)),
        *("--root-url", ctx.root, "-H", f"X-API-Key: {ctx.api_key}"),
        *("--collection", collection, "--geometry", json.dumps(HELSINKI_POLYGON)),
        "--validate-pagination",
        *(a for cls in classes for a in ("--conformance", cls)),
        *extra,
    ]
    proc = subprocess.run(
        args,
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = proc.stdout + proc.stderr
    log.write_text("$ " + " ".join(args) + "\n\n" + output)
    offline = json.loads(offline_log.read_text()) if offline_log.exists() else {}
    return proc.returncode, output, offline, log


def _judge(
    collection: str, classes: list[str], output: str, offline: dict[str, Any], code: int
) -> tuple[list[Case], list[str]]:
    errors, warnings, crash = parse_output(output)
    cases: list[Case] = []
    details: list[str] = []
    by_class: dict[str, list[tuple[str, Deviation | None]]] = {}
    for err in errors:
        cls = class_of(err)
        by_class.setdefault(cls, []).append((err, waiver_for(cls, err)))
    for cls in [*classes, *(c for c in by_class if c not in classes)]:
        found = by_class.get(cls, [])
        real = [e for e, w in found if w is None]
        waived = [(e, w) for e, w in found if w is not None]
        name = f"{collection}: {cls}"
        if cls in NO_OP_CLASSES:
            cases.append(Case(name, NOT_COVERED, "stac-api-validator 0.6.8 has no test for it"))
        elif real:
            note = [f"(and {len(waived)} waived known deviation(s))"] if waived else []
            cases.append(Case(name, FAIL, "\n".join(real + note)))
        elif waived:
            reasons = sorted({w.reason for _, w in waived})
            cases.append(
                Case(name, WAIVED, f"{len(waived)} known deviation(s): " + " | ".join(reasons))
            )
        else:
            cases.append(Case(name, PASS))
    if crash:
        cases.append(Case(f"{collection}: validator run", FAIL, crash))
    misses = offline.get("schema_misses") or {}
    refused = offline.get("refused_sockets") or []
    if misses or refused:
        detail = "\n".join([*(f"{u}: {why}" for u, why in misses.items()), *refused])
        cases.append(Case(f"{collection}: offline schemas", FAIL, detail))
    else:
        served = len(offline.get("served", []))
        cases.append(Case(f"{collection}: offline schemas", PASS, f"{served} from the mirror"))
    if code != 0 and not errors and not crash and not misses and not refused:
        cases.append(Case(f"{collection}: validator run", FAIL, f"exit status {code}"))
    details.append(f"{collection}: {len(errors)} error(s), {len(warnings)} warning(s)")
    return cases, details


def run(ctx: Context) -> CheckResult:
    versions = {
        "stac-api-validator": version("stac-api-validator"),
        "stac-validator": version("stac-validator"),
        "stac-check": version("stac-check"),
    }
    cases: list[Case] = []
    details: list[str] = []
    with httpx.Client(headers=ctx.headers, timeout=120) as http:
        landing = http.get(ctx.root).json()
        queryables = set(http.get(ctx.url("queryables")).json().get("properties", {}))
        collections = pick_collections(ctx, http, FAST_PROVIDERS if ctx.fast else PROVIDERS)
        samples = {
            cid: http.get(ctx.url(f"collections/{cid}/items"), params={"limit": 50}).json()
            for cid in collections
        }
    conforms_to = landing.get("conformsTo", [])
    classes = list(advertised_classes(conforms_to))
    details.append("classes: " + ", ".join(classes))
    if missing := sorted(
        set(PROVIDERS if not ctx.fast else FAST_PROVIDERS) - {c.split("-")[0] for c in collections}
    ):
        cases.append(Case("collections per provider", FAIL, f"none with items: {missing}"))
    for cid in collections:
        features = samples[cid].get("features", [])
        extra, note = query_args(features, queryables)
        run_classes = classes
        if not extra and "item-search#query" in classes:
            run_classes = [c for c in classes if c != "item-search#query"]
            cases.append(Case(f"{cid}: item-search#query", NOT_COVERED, note))
        if features and all("gsd" in f.get("properties", {}) for f in features):
            extra += ["--fields-nested-property", "properties.gsd"]
        code, output, offline, log = run_validator(ctx, cid, run_classes, extra)
        got, more = _judge(cid, run_classes, output, offline, code)
        cases.extend(got)
        details.extend([*more, f"{cid}: {note}", f"{cid}: log {display_path(log)}"])
    passed = bool(collections) and all(c.status != FAIL for c in cases)
    return CheckResult(NAME, TITLE, passed, details, cases, versions)
