"""The archive's native Collection documents (titles and descriptions are the simulator's)."""

from __future__ import annotations

from typing import Any

from bridge.simulators.satellogic.archive import L1D, L1D_SR, QUICKVIEW, QUICKVIEW_THUMB

_DESCRIPTIONS = {
    QUICKVIEW: (
        "Quickview visual (L1B)",
        "L1 Basic visual product of every capture: geolocated RGB, not orthorectified, "
        "cut into 2 km x 2 km tiles.",
    ),
    QUICKVIEW_THUMB: (
        "Quickview visual thumbnails",
        "Browse mirror of quickview-visual: the same tiles with preview and thumbnail only.",
    ),
    L1D: (
        "L1D orthorectified",
        "Orthorectified top-of-atmosphere multispectral tiles (blue, green, red, nir).",
    ),
    L1D_SR: (
        "L1D super-resolution",
        "Orthorectified multispectral tiles super-resolved to 0.7 m.",
    ),
}


def collection_doc(collection_id: str, root: str) -> dict[str, Any]:
    """The native Collection document of ``collection_id`` with links under ``root``."""
    title, description = _DESCRIPTIONS[collection_id]
    base = f"{root}/archive/stac"
    href = f"{base}/collections/{collection_id}"
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "title": title,
        "description": description,
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2019-01-01T00:00:00Z", None]]},
        },
        "links": [
            {"rel": "self", "type": "application/json", "href": href},
            {"rel": "root", "type": "application/json", "href": f"{base}/"},
            {"rel": "items", "type": "application/geo+json", "href": f"{href}/items"},
        ],
    }
