"""Check 2: JSON-Schema validation, offline, of every landing page, collection, item and
item collection the client checks received, against the STAC core schema and every
extension schema each declares (``conformance.schemas``: ``../shared/schemas``; a schema
with no local file fails loudly).

It also fetches a baseline of its own, so that it means something when run alone: the
landing page, ``/collections``, every collection, a page of each collection's items, a
search around Helsinki and an item by id per collection.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from importlib.metadata import version
from typing import Any

import httpx
import orjson

from conformance.core import (
    FAIL,
    HELSINKI_BBOX,
    PASS,
    Case,
    CheckResult,
    Context,
    Received,
)
from conformance.schemas import (
    SCHEMAS_DIR,
    MissingSchema,
    envelope_errors,
    schema_urls,
    stac_objects,
    validation_errors,
)

NAME = "schemas"
TITLE = "JSON-Schema validation (offline)"
MAX_LISTED = 25


def kind_of(body: dict[str, Any]) -> str | None:
    """The STAC kind of a response body, or None for anything else (queryables, errors)."""
    kind = body.get("type")
    if kind == "Catalog":
        return "landing page"
    if kind == "Collection":
        return "collection"
    if kind == "Feature":
        return "item"
    if kind == "FeatureCollection":
        return "item collection"
    if isinstance(body.get("collections"), list):
        return "collections"
    return None


def baseline(ctx: Context) -> None:
    """Fetch and record the documents this check validates on its own."""
    with httpx.Client(headers=ctx.headers, timeout=120) as http:

        def get(url: str, **params: Any) -> dict[str, Any]:
            resp = http.get(url, params=params or None)
            resp.raise_for_status()
            body: dict[str, Any] = resp.json()
            ctx.recorder.add(NAME, "GET", str(resp.url), body)
            return body

        get(ctx.root)
        for coll in get(ctx.url("collections"))["collections"]:
            cid = coll["id"]
            get(ctx.url(f"collections/{cid}"))
            page = get(ctx.url(f"collections/{cid}/items"), limit=3)
            for item in page.get("features", [])[:1]:
                get(ctx.url(f"collections/{cid}/items/{item['id']}"))
        get(ctx.url("search"), bbox=",".join(map(str, HELSINKI_BBOX)), limit=50)


def validate(documents: list[Received]) -> tuple[list[Case], list[str]]:
    """One case per kind of document: how many validated, and every violation.

    An object that came in several responses (an item on many pages) is validated once.
    """
    counts: Counter[str] = Counter()
    errors: dict[str, list[str]] = {}
    schemas: set[str] = set()
    seen: set[str] = set()
    skipped = 0
    objects = 0
    for doc in documents:
        kind = kind_of(doc.body)
        if kind is None:
            continue
        if doc.partial:
            skipped += 1
            continue
        counts[kind] += 1
        found = list(envelope_errors(doc.body))
        for obj in stac_objects(doc.body):
            digest = hashlib.sha1(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            objects += 1
            try:
                schemas.update(schema_urls(obj))
                found.extend(validation_errors(obj))
            except MissingSchema as exc:
                found.append(f"MISSING SCHEMA: {exc}")
        errors.setdefault(kind, []).extend(f"{doc.method} {doc.url}: {e}" for e in found)
    cases = []
    for kind in ("landing page", "collections", "collection", "item collection", "item"):
        bad = errors.get(kind, [])
        if not counts[kind]:
            cases.append(Case(kind, FAIL, "no such document was received"))
        elif bad:
            more = [f"... {len(bad) - MAX_LISTED} more"] if len(bad) > MAX_LISTED else []
            cases.append(Case(kind, FAIL, "\n".join(bad[:MAX_LISTED] + more)))
        else:
            cases.append(Case(kind, PASS, f"{counts[kind]} validated"))
    details = [
        f"schemas dir: {SCHEMAS_DIR}",
        f"{sum(counts.values())} documents, {objects} distinct STAC objects validated; "
        f"{skipped} fields-restricted responses skipped",
        "schemas: " + ", ".join(sorted(schemas)),
    ]
    return cases, details


def run(ctx: Context) -> CheckResult:
    baseline(ctx)
    cases, details = validate(ctx.recorder.documents)
    by_check = Counter(d.check for d in ctx.recorder.documents)
    details.insert(
        0, "received from: " + ", ".join(f"{k} {v}" for k, v in sorted(by_check.items()))
    )
    versions = {"jsonschema": version("jsonschema"), "referencing": version("referencing")}
    passed = all(c.status != FAIL for c in cases)
    return CheckResult(NAME, TITLE, passed, details, cases, versions)
