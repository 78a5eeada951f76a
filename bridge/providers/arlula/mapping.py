"""Arlula search result → STAC 1.1 item (pure, plain dict work: it runs per item).

Common fields: ``datetime``, ``platform``/``constellation``/``instruments`` (from the
platform table), ``gsd``, ``eo:cloud_cover``, ``view:off_nadir`` (2023-01 only: 2020-12
results carry no off-nadir). Marketplace fields stay under ``arlula:``: supplier, scene
id, ordering id, fulfilment time (hours), scene area (km²), annotations and the prices
(US cents: 2023-01 ``bundles`` by ``licenses``, 2020-12 ``price``), summarised as
``arlula:price_min_cents``.

Arlula prices the overlap of a scene with the searched area; the adapter searches with a
margin (:data:`~.names.SCENE_MARGIN_KM`) so results are whole-scene offers, the same
whichever search found them. The native ``overlap`` (whose ``percent.search`` depends on
the searched area) is therefore not copied: for a whole-scene offer it is the footprint.

Assets: ``thumbnail`` (the result's PNG quicklook, public) and ``data``, the GeoTIFF an
order delivers (a COG in the simulator). Before an order the data has no URL, so its
href is the generation's order endpoint. No ``proj:*``: Arlula's metadata carries no
projection (deliveries are in each supplier's own grid).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from bridge.core.timeutil import instant_seconds, parse_instant, to_rfc3339
from bridge.errors import BadRequest
from bridge.providers.arlula.ids import item_id
from bridge.providers.arlula.names import (
    COG_MEDIA_TYPE,
    DEFAULT_BASE_URL,
    EO_SCHEMA,
    GSD_CLASSES,
    ORDER_ENDPOINTS,
    PLATFORMS,
    SUPPLIER_CONSTELLATIONS,
    VIEW_SCHEMA,
)

Item = dict[str, Any]


def collection_for(gsd: float) -> str | None:
    """The bridge collection (resolution class) of a scene of ``gsd`` metres."""
    for cid, (low, high) in GSD_CLASSES.items():
        if low < gsd <= high:
            return cid
    return None


def _instant(value: str) -> str:
    # Arlula sends RFC 3339 in UTC with a Z; anything else is normalised.
    if value.endswith("Z") and "T" in value:
        return value
    return to_rfc3339(parse_instant(value))


def _bbox(rings: list[list[list[float]]]) -> list[float]:
    xs = [p[0] for p in rings[0]]
    ys = [p[1] for p in rings[0]]
    return [min(xs), min(ys), max(xs), max(ys)]


def _min_price(bundles: list[dict[str, Any]], licenses: list[dict[str, Any]]) -> int | None:
    """Cheapest bundle under the cheapest license, in US cents, rounded up to a dollar
    the way Arlula's SDKs compute order prices."""
    if not bundles:
        return None
    loads = [(float(x.get("loadingPercent", 0)), int(x.get("loadingAmount", 0))) for x in licenses]
    loads = loads or [(0.0, 0)]
    cents = min(b["price"] * (1 + pct / 100) + amount for b in bundles for pct, amount in loads)
    return int(math.ceil(cents / 100) * 100)


# Result fields the mapping reads or deliberately leaves out (``overlap`` depends on the
# searched area; ``bands`` are the supplier's sensor bands, not the delivered product's).
# Any other field is new to the adapter: it passes through under ``arlula:`` unchanged.
KNOWN_FIELDS = {
    "2023-01": frozenset({
        "sceneID", "supplier", "platform", "date", "thumbnail", "cloud", "offNadir", "gsd",
        "area", "fulfillmentTime", "annotations", "bands", "center", "bounding", "overlap",
        "orderingID", "bundles", "licenses",
    }),
    "2020-12": frozenset({
        "supplier", "eula", "id", "sceneID", "date", "center", "bounding", "area", "overlap",
        "price", "fulfillment", "resolution", "thumbnail", "cloud", "annotations",
    }),
}  # fmt: skip


def _number(value: Any) -> float | None:
    """A finite number, or None for a missing or unreadable optional value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


SORT_FIELDS = frozenset({"datetime"})
"""The sortable fields :func:`sort_stub` carries."""


class SearchFields(msgspec.Struct):
    """What a search reads from every native record: its id parts, time and resolution
    (``gsd`` in 2023-01, ``resolution`` in 2020-12). Other members are skipped, not
    decoded; a missing one is None and fails where it is used."""

    sceneID: Any = None
    supplier: Any = None
    date: Any = None
    center: Any = None
    gsd: Any = None
    resolution: Any = None


def sort_stub(fields: SearchFields, *, collection: str) -> Item:
    """The part of :func:`item_from_native`'s item a sort needs (id, collection,
    datetime), from the few fields read off every record: a search keys every record
    and decodes and maps only the page served."""
    when = _instant(fields.date)
    center = fields.center
    return {
        "id": item_id(fields.supplier, fields.sceneID, when[:10], center["long"], center["lat"]),
        "collection": collection,
        "properties": {"datetime": when},
    }


def datetime_seconds(fields: SearchFields) -> float | None:
    """The unix seconds a sort by ``datetime`` compares for a record (the instant of
    :func:`sort_stub`'s datetime), or None when its date is unreadable."""
    if not isinstance(fields.date, str):
        return None
    try:
        return instant_seconds(_instant(fields.date))
    except (BadRequest, ValueError):
        return None


def item_from_native(
    record: dict[str, Any],
    *,
    api_version: str,
    collection: str,
    api_base: str = DEFAULT_BASE_URL,
) -> Item:
    """Map one native search result to a STAC item of bridge collection ``collection``
    (``api_base``: the native API's root, where the data is ordered)."""
    when = _instant(record["date"])
    center = record["center"]
    supplier = record["supplier"]
    props: dict[str, Any] = {
        "datetime": when,
        "gsd": record["gsd"] if api_version == "2023-01" else record["resolution"],
        "arlula:supplier": supplier,
        "arlula:scene_id": record["sceneID"],
        "arlula:area": record["area"],
        "arlula:annotations": record.get("annotations") or [],
    }
    cloud = _number(record.get("cloud"))
    if cloud is not None:
        props["eo:cloud_cover"] = min(max(cloud, 0.0), 100.0)
    extensions = [EO_SCHEMA]
    if api_version == "2023-01":
        name = record.get("platform")
        platform = PLATFORMS.get(name) if isinstance(name, str) else None
        if platform is None:
            if isinstance(name, str) and name:  # a platform new to the table: still named
                props["platform"] = name.lower().replace(" ", "-")
        else:
            props["platform"] = platform[0]
            if platform[1]:
                props["constellation"] = platform[1]
            props["instruments"] = list(platform[2])
        off_nadir = _number(record.get("offNadir"))
        if off_nadir is not None:
            props["view:off_nadir"] = abs(off_nadir)
            extensions.append(VIEW_SCHEMA)
        props["arlula:ordering_id"] = record["orderingID"]
        props["arlula:fulfillment_time"] = record["fulfillmentTime"]
        props["arlula:bundles"] = record["bundles"]
        props["arlula:licenses"] = record["licenses"]
        props["arlula:price_min_cents"] = _min_price(record["bundles"], record["licenses"])
    else:
        if supplier in SUPPLIER_CONSTELLATIONS:
            props["constellation"] = SUPPLIER_CONSTELLATIONS[supplier]
        props["arlula:ordering_id"] = record["id"]
        props["arlula:fulfillment_time"] = record["fulfillment"]
        props["arlula:eula"] = record["eula"]
        props["arlula:price"] = record["price"]
        props["arlula:price_min_cents"] = record["price"]["base"]
    for key in record.keys() - KNOWN_FIELDS[api_version]:
        props.setdefault(f"arlula:{key}", record[key])
    cents = props.get("arlula:price_min_cents")
    if isinstance(cents, int):
        # The bridge's price extension: the lowest price of the scene (cheapest bundle
        # and license), in dollars; exact prices of other options come from the quote.
        props["price:amount"] = cents / 100
        props["price:currency"] = "USD"
        props["price:basis"] = "scene"
    rings = record["bounding"]
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": extensions,
        "id": item_id(supplier, record["sceneID"], when[:10], center["long"], center["lat"]),
        "collection": collection,
        "geometry": {"type": "Polygon", "coordinates": rings},
        "bbox": _bbox(rings),
        "properties": props,
        "links": [],
        "assets": {
            "thumbnail": {
                "href": record["thumbnail"],
                "type": "image/png",
                "title": "Thumbnail",
                "roles": ["thumbnail"],
            },
            "data": {
                "href": api_base.rstrip("/") + ORDER_ENDPOINTS[api_version][1],
                "type": COG_MEDIA_TYPE,
                "title": "GeoTIFF (delivered by an order)",
                "roles": ["data"],
            },
        },
    }
