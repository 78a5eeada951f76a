"""Native Lumen scene → STAC item (pure)."""

from __future__ import annotations

from typing import Any

COLLECTION = "lumen-optical"
EO = "https://stac-extensions.github.io/eo/v2.0.0/schema.json"
VIEW = "https://stac-extensions.github.io/view/v1.1.0/schema.json"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


def item_from_native(scene: dict[str, Any]) -> dict[str, Any]:
    """The STAC item of one native scene (links are the core's business)."""
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": [EO, VIEW],
        "id": scene["id"],
        "collection": COLLECTION,
        "geometry": scene["footprint"],
        "bbox": list(scene["bbox"]),
        "properties": {
            "datetime": scene["acquired"],
            "constellation": "lumen",
            "gsd": scene["gsd"],
            "eo:cloud_cover": scene["cloud"],
            "view:off_nadir": scene["off_nadir"],
        },
        "assets": {
            "data": {
                "href": f"lumen://scenes/{scene['id']}.tif",
                "type": COG,
                "title": "Scene (RGB GeoTIFF), after an order",
                "roles": ["data"],
            }
        },
        "links": [],
    }
