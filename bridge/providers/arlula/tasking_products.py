"""Arlula's tasking products and status words, read from the JSON tables beside this file
(``tasking_products.json``, ``tasking_statuses.json``): data, not code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import orjson

from bridge.core.tasking_contract import StapiStatus, TaskingProduct, TaskingRequest
from bridge.errors import BadRequest

# STAPI's provider roles are producer, licensor, processor, host (no "reseller"): Arlula
# licenses the imagery it resells and hosts the deliveries (the supplier, in each title,
# produces it).
ARLULA_PROVIDER = {"name": "Arlula", "roles": ["licensor", "host"], "url": "https://arlula.com"}


@dataclass(frozen=True)
class ProductSpec:
    """What the adapter needs of one product besides its STAPI description."""

    product: TaskingProduct
    supplier: str
    gsd: float
    max_off_nadir: float


def _data(name: str) -> Any:
    return orjson.loads(resources.files("bridge.providers.arlula").joinpath(name).read_bytes())


@cache
def product_specs() -> dict[str, ProductSpec]:
    """The products of ``tasking_products.json``, by product id."""
    doc = _data("tasking_products.json")
    specs = {}
    for p in doc["products"]:
        product = TaskingProduct(
            id=p["id"], title=p["title"], description=p["description"],
            queryables=p["queryables"], order_parameters=p["order_parameters"],
            collection_id=p["collection_id"], opportunities=True,
            keywords=tuple(p["keywords"]), providers=(ARLULA_PROVIDER,),
            links=tuple(doc["links"]), cancellable=True, approval=False,
        )  # fmt: skip
        specs[p["id"]] = ProductSpec(product, p["supplier"], p["gsd"], p["max_off_nadir"])
    return specs


@cache
def _status_table() -> tuple[dict[str, str], str]:
    doc = _data("tasking_statuses.json")
    return doc["statuses"], doc["default"]


def stapi_status(native: str) -> StapiStatus:
    """The STAPI status of a native word (unknown words: the table's in-progress default)."""
    table, default = _status_table()
    return cast(StapiStatus, table.get(native, default))


def spec_for(request: TaskingRequest) -> ProductSpec:
    """The product a request names (BadRequest for one this provider does not offer)."""
    spec = product_specs().get(request.product_id)
    if spec is None:
        raise BadRequest(f"product_id: {request.product_id!r} is not an Arlula product")
    return spec
