"""Check 8: every STAPI response of the live sandbox against the offline STAPI OpenAPI.

It walks ``/tasking/``: the landing page, conformance, every page of products, each
product with its queryables and order parameters, opportunities where a product
advertises them, then creates one order with an ``Idempotency-Key`` (and repeats it: the
same order), reads it, lists the orders (all and the product's) and its statuses. Every
body is validated against the matching response schema of ``spec/openapi.yaml`` in
``../shared/stapi-spec`` (OpenAPI 3.1, so JSON Schema 2020-12 with ``jsonschema`` and
``referencing``). A sandbox without any tasking product fails the check.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.core import FAIL, PASS, Case, CheckResult, Context

NAME = "stapi"
TITLE = "STAPI responses against the offline STAPI OpenAPI"
SPEC = Path(
    os.environ.get(
        "BRIDGE_STAPI_SPEC",
        Path(__file__).resolve().parents[2] / "shared" / "stapi-spec" / "spec" / "openapi.yaml",
    )
)
SPEC_URI = "urn:stapi:openapi"
HELSINKI = {"type": "Point", "coordinates": [24.94, 60.17]}
MAX_PAGES = 20


@cache
def _spec(path: Path = SPEC) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def response_errors(spec_path: str, method: str, status: int, body: Any) -> list[str]:
    """What is wrong with ``body`` as the ``status`` answer of ``method spec_path``
    (an operation of the offline STAPI OpenAPI); empty when it validates."""
    doc = _spec()
    op = doc["paths"].get(spec_path, {}).get(method.lower())
    if op is None:
        return [f"{method} {spec_path}: no such operation in the STAPI OpenAPI"]
    answer = op["responses"].get(str(status))
    if answer is None:
        return [f"{method} {spec_path}: status {status} is not a documented answer"]
    media = [m for m, c in (answer.get("content") or {}).items() if "json" in m and "schema" in c]
    if not media:
        return [f"{method} {spec_path} {status}: the STAPI OpenAPI gives no JSON schema"]
    ref = "#/" + _pointer(
        "paths", spec_path, method.lower(), "responses", str(status), "content", media[0], "schema"
    )
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource(contents=doc, specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": SPEC_URI + ref}, registry=registry)
    return [
        f"{method} {spec_path} {status}: at /{'/'.join(str(p) for p in e.absolute_path)}: "
        f"{e.message}"
        for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))[:10]
    ]


def _window() -> list[str]:
    # Inside every provider's rules seen so far (ICEYE: 24 h to 14 days ahead).
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    return [
        start.isoformat().replace("+00:00", "Z"),
        (start + timedelta(days=7)).isoformat().replace("+00:00", "Z"),
    ]


class Walk:
    """One walk over the STAPI endpoints with ``client`` (based at the bridge root)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cases: list[Case] = []
        self.checked = 0

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        spec_path: str,
        expect: int = 200,
        **kwargs: Any,
    ) -> Any:
        """Request ``path``, expect ``expect``, validate the body; record a case."""
        resp = await self.client.request(method, path, **kwargs)
        if resp.status_code != expect:
            self.cases.append(
                Case(name, FAIL, f"{method} {path}: {resp.status_code} {resp.text[:300]}")
            )
            return None
        body = resp.json()
        errors = response_errors(spec_path, method, expect, body)
        self.checked += 1
        self.cases.append(Case(name, FAIL if errors else PASS, "; ".join(errors) or path))
        return body

    async def run(self) -> None:
        """Walk everything; the cases say what failed."""
        await self.call("landing page", "GET", "tasking/", "/")
        await self.call("conformance", "GET", "tasking/conformance", "/conformance")
        products: list[dict[str, Any]] = []
        url: str | None = "tasking/products"
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = await self.call("products", "GET", url, "/products")
            if page is None:
                break
            products.extend(page.get("products") or [])
            url = next((x["href"] for x in page.get("links", []) if x.get("rel") == "next"), None)
        if not products:
            self.cases.append(Case("products", FAIL, "the bridge offers no tasking product"))
            return
        for product in products:
            pid = product["id"]
            base = f"tasking/products/{pid}"
            await self.call(f"product {pid}", "GET", base, "/products/{productId}")
            await self.call(
                f"{pid} queryables",
                "GET",
                f"{base}/queryables",
                "/products/{productId}/queryables",
            )
            await self.call(
                f"{pid} order-parameters",
                "GET",
                f"{base}/order-parameters",
                "/products/{productId}/order-parameters",
            )
            if any(x.get("rel") == "opportunities" for x in product.get("links", [])):
                await self.call(
                    f"{pid} opportunities",
                    "POST",
                    f"{base}/opportunities",
                    "/products/{productId}/opportunities",
                    json={"datetime": _window(), "geometry": HELSINKI, "limit": 5},
                )
        await self.order(products[0]["id"])

    async def order(self, pid: str) -> None:
        """Create (twice, one key), read, list and follow the statuses of one order."""
        body = {"datetime": _window(), "geometry": HELSINKI, "order_parameters": {}}
        headers = {"Idempotency-Key": f"conformance-{uuid.uuid4()}"}
        path = f"tasking/products/{pid}/orders"
        spec = "/products/{productId}/orders"
        first = await self.call(
            f"{pid} create order", "POST", path, spec, 201, json=body, headers=headers
        )
        again = await self.call(
            f"{pid} repeat order", "POST", path, spec, 201, json=body, headers=headers
        )
        if first is None or again is None:
            return
        if first.get("id") != again.get("id"):
            self.cases.append(Case("idempotency", FAIL, "one key made two orders"))
        oid = first["id"]
        await self.call("order", "GET", f"tasking/orders/{oid}", "/orders/{orderId}")
        await self.call("orders", "GET", "tasking/orders", "/orders")
        await self.call(f"{pid} orders", "GET", path, spec)
        await self.call(
            "order statuses", "GET", f"tasking/orders/{oid}/statuses", "/orders/{orderId}/statuses"
        )


async def walk(client: httpx.AsyncClient) -> Walk:
    """Walk the STAPI endpoints with ``client``; returns the walk and its cases."""
    done = Walk(client)
    await done.run()
    return done


def run(ctx: Context) -> CheckResult:
    async def go() -> Walk:
        async with httpx.AsyncClient(
            base_url=ctx.root.rstrip("/") + "/",
            headers=ctx.headers,
            timeout=60.0,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            return await walk(client)

    done = asyncio.run(go())
    details = [f"{done.checked} responses validated against {SPEC}"]
    versions = {"jsonschema": version("jsonschema"), "PyYAML": version("PyYAML")}
    passed = bool(done.cases) and all(c.status != FAIL for c in done.cases)
    return CheckResult(NAME, TITLE, passed, details, done.cases, versions)
