"""Search results as each API generation returns them.

2023-01 (``arlulacore`` 4.x): ``{sceneID, supplier, platform, date, thumbnail, cloud,
offNadir, gsd, area, fulfillmentTime, annotations, bands, center, bounding, overlap,
orderingID, bundles, licenses}``.
2020-12 (seed 002): ``{supplier, eula, id, sceneID, date, center, bounding, area, overlap,
price, fulfillment, resolution, thumbnail, cloud, annotations}`` — no platform and no
off-nadir in that generation. Where the seed contradicts itself, its 2020-12 changelog
wins: ``overlap`` is always present (the older text says "absent for a point search"),
and ``price.seats`` is an array (the Pricing Object section; one example shows an object).
"""

from __future__ import annotations

from typing import Any

from bridge.simulators.arlula.archive import SUPPLIERS_BY_KEY, Archive
from bridge.simulators.arlula.offers import Offer, bundles, licenses, make_offer, seats_price
from bridge.simulators.arlula.search import NativeSearch, matching_indices, sort_results


def thumbnail_url(base_url: str, scene: dict[str, Any]) -> str:
    """Where the scene's JPEG thumbnail is published (a public URL, no auth)."""
    return f"{base_url.rstrip('/')}/thumbnails/{scene['supplier']}/{scene['sceneID']}.png"


def result_2023(scene: dict[str, Any], offer: Offer, base_url: str) -> dict[str, Any]:
    """One 2023-01 search result."""
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    return {
        "sceneID": scene["sceneID"],
        "supplier": scene["supplier"],
        "platform": scene["platform"],
        "date": scene["date"],
        "thumbnail": thumbnail_url(base_url, scene),
        "cloud": scene["cloud"],
        "offNadir": scene["offNadir"],
        "gsd": scene["gsd"],
        "area": round(offer.scene_km2, 3),
        "fulfillmentTime": scene["fulfillmentTime"],
        "annotations": offer.annotations,
        "bands": [{"name": n, "id": i, "min": lo, "max": hi} for n, i, lo, hi in supplier.bands],
        "center": scene["center"],
        "bounding": scene["bounding"],
        "overlap": offer.overlap,
        "orderingID": offer.ordering_id,
        "bundles": bundles(supplier, offer.ordered_km2),
        "licenses": licenses(supplier),
    }


def result_2020(scene: dict[str, Any], offer: Offer, base_url: str) -> dict[str, Any]:
    """One 2020-12 search result: the default bundle under the standard license."""
    supplier = SUPPLIERS_BY_KEY[scene["supplier"]]
    base = bundles(supplier, offer.ordered_km2)[0]["price"]
    return {
        "supplier": scene["supplier"],
        "eula": licenses(supplier)[0]["href"],
        "id": offer.ordering_id,
        "sceneID": scene["sceneID"],
        "date": scene["date"],
        "center": scene["center"],
        "bounding": scene["bounding"],
        "area": round(offer.scene_km2, 3),
        "overlap": offer.overlap,
        "price": seats_price(base),
        "fulfillment": scene["fulfillmentTime"],
        "resolution": scene["gsd"],
        "thumbnail": thumbnail_url(base_url, scene),
        "cloud": scene["cloud"],
        "annotations": offer.annotations,
    }


def run_search(
    archive: Archive, search: NativeSearch, base_url: str, generation: str
) -> list[dict[str, Any]]:
    """Evaluate ``search`` and build the whole (unpaged) result list, sorted natively."""
    build = result_2023 if generation == "2023-01" else result_2020
    results = []
    for i in matching_indices(archive, search):
        scene = archive.scenes[i]
        offer = make_offer(scene, archive.footprints[i], float(archive.areas_km2[i]), search.aoi)
        results.append(build(scene, offer, base_url))
    sort_results(results, search.sort_field, search.ascending)
    return results
