"""Satellogic's archive vocabulary as data: collections, property names, sortable fields.

The native archive already speaks STAC (older extension versions, ``satl:`` fields), so
most properties pass through unchanged; the tables say which, and which are renamed.
"""

from __future__ import annotations

PROVIDER = "satellogic"
DEFAULT_BASE_URL = "https://api.satellogic.com"
DEFAULT_AUTH_URL = "https://auth.platform.satellogic.com/oauth/token"
AUDIENCE = "https://api.satellogic.com/"
STAC_ROOT = "/archive/stac"
# Orders API V2 (docs api-v2 python examples: ``ORDERS_URI = "/v2/orders/"``; one order is
# ``ORDERS_URI + order_id``). Seed 000's "POST /orders" abbreviates these paths.
ORDERS_PATH = "/v2/orders/"

# Bridge collection (one product line a buyer picks) -> native archive collection and the
# processing level its tiles have. Native ids other than quickview-visual are unconfirmed.
# ``quickview-visual-thumb`` (a browse mirror of quickview-visual) is deliberately absent.
COLLECTIONS: dict[str, tuple[str, str]] = {
    "satellogic-quickview": ("quickview-visual", "L1B"),
    "satellogic-l1d": ("l1d", "L1D"),
    "satellogic-l1d-sr": ("l1d-sr", "L1D_SR"),
}
BRIDGE_BY_NATIVE: dict[str, str] = {native: bridge for bridge, (native, _) in COLLECTIONS.items()}
LEVEL_BY_NATIVE: dict[str, str] = {native: level for native, level in COLLECTIONS.values()}

# Native properties copied as they are (same name and meaning in the bridge's items).
PASSTHROUGH: tuple[str, ...] = (
    "platform",
    "constellation",
    "gsd",
    "eo:cloud_cover",
    "view:off_nadir",
    "view:azimuth",
    "view:sun_elevation",
    "view:sun_azimuth",
    "proj:shape",
    "proj:transform",
    "grid:code",
    "satl:outcome_id",
    "satl:valid_pixel",
    "satl:product_version",
    "created",
    "updated",
)
# Native name -> bridge name, for renamed properties.
RENAMED: dict[str, str] = {"satl:product_name": "product:type"}

# Bridge field -> native field, for fields every native tile carries with the same value
# the bridge emits: the archive's sort order and filter results on them are the bridge's.
# (``processing:level`` and ``collection`` are derived from the native collection and
# ``proj:code`` is a string where the native field is a number: left to the bridge.)
NATIVE_FIELDS: dict[str, str] = {
    "id": "id",
    "datetime": "datetime",
    "created": "created",
    "updated": "updated",
    "platform": "platform",
    "constellation": "constellation",
    "gsd": "gsd",
    "eo:cloud_cover": "eo:cloud_cover",
    "view:off_nadir": "view:off_nadir",
    "view:azimuth": "view:azimuth",
    "view:sun_elevation": "view:sun_elevation",
    "view:sun_azimuth": "view:sun_azimuth",
    "proj:epsg": "proj:epsg",
    "grid:code": "grid:code",
    "satl:outcome_id": "satl:outcome_id",
    "satl:valid_pixel": "satl:valid_pixel",
    "product:type": "satl:product_name",
}
SORTABLE = NATIVE_FIELDS
FILTERABLE = NATIVE_FIELDS

# Names clients may use for bridge properties (the archive's own name for product:type).
PROPERTY_ALIASES: dict[str, str] = dict(RENAMED)

# The bands of each raster asset, per processing level, so odc-stac and stackstac can load
# them by name. Sources: developers.satellogic.com imagery-products "Multispectral payload"
# (Blue 450-510, Green 510-580, Red 590-690, NIR 750-900 nm: centres are the midpoints,
# widths the spans, in µm) and the L1 analytic (16-bit, 4 bands) / L3 visual (8-bit RGB)
# bit depths; the order of bands in each file is the asset titles' (and the Telluric
# raster ``bands`` lists'). The native items list no bands (assumed from the audit), and
# nodata 0 (the fill outside a clipped footprint) is assumed. The visual asset's bands get
# names of their own and no ``eo:common_name``: a common name must lead to one band, the
# analytic (measured) one, or a load by "red" would get the contrast-stretched copy.
SPECTRAL: dict[str, tuple[float, float]] = {
    "blue": (0.48, 0.06),
    "green": (0.545, 0.07),
    "red": (0.64, 0.1),
    "nir": (0.825, 0.15),
}
NODATA = 0
_RGB, _BGRN = ("red", "green", "blue"), ("blue", "green", "red", "nir")
# (processing level, asset key) -> (bands in file order, data type, measured?)
ASSET_BANDS: dict[tuple[str, str], tuple[tuple[str, ...], str, bool]] = {
    ("L1B", "analytic"): (_RGB, "uint8", True),
    **{(level, "analytic"): (_BGRN, "uint16", True) for level in ("L1D", "L1D_SR")},
    **{(level, "visual"): (_RGB, "uint8", False) for level in ("L1D", "L1D_SR")},
}


def legacy_eo_bands(bands: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same bands as STAC 1.0 ``eo:bands`` (eo v1.x): pystac's EO extension, and so
    odc-stac 0.5 and stackstac, find band names only there, not in STAC 1.1 ``bands``."""
    legacy = {"name": "name", "eo:common_name": "common_name",
              "eo:center_wavelength": "center_wavelength",
              "eo:full_width_half_max": "full_width_half_max"}  # fmt: skip
    return [{legacy[k]: v for k, v in band.items() if k in legacy} for band in bands]


def _bands(names: tuple[str, ...], data_type: str, measured: bool) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for name in names:
        centre, width = SPECTRAL[name]
        band: dict[str, object] = {"name": name if measured else f"visual_{name}"}
        if measured:
            band["eo:common_name"] = name
        band |= {
            "eo:center_wavelength": centre,
            "eo:full_width_half_max": width,
            "data_type": data_type,
            "nodata": NODATA,
        }
        out.append(band)
    return out


# Built once: every tile of a level carries the same bands (items copy them).
_BANDS = {key: _bands(*layout) for key, layout in ASSET_BANDS.items()}
_EO_BANDS = {key: legacy_eo_bands(bands) for key, bands in _BANDS.items()}


def asset_bands(level: str, asset_key: str) -> list[dict[str, object]] | None:
    """STAC 1.1 ``bands`` of a raster asset (None for assets that are not rasters)."""
    bands = _BANDS.get((level, asset_key))
    return None if bands is None else [band.copy() for band in bands]


def asset_eo_bands(level: str, asset_key: str) -> list[dict[str, object]] | None:
    """The same bands as :func:`legacy_eo_bands` gives for :func:`asset_bands`."""
    bands = _EO_BANDS.get((level, asset_key))
    return None if bands is None else [band.copy() for band in bands]


STAC_EXTENSIONS: list[str] = [
    # EO v1.1.0, not v2.0.0: v2.0.0 forbids ``eo:bands``, the only place pystac's EO
    # extension (so odc-stac 0.5 and stackstac) reads band names from; v1.1.0 defines it
    # and eo:cloud_cover, and leaves the STAC 1.1 ``bands`` (with eo v2's field names) be.
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/view/v1.1.0/schema.json",
    # Projection v1.2.0, not v2.0.0: v2.0.0 forbids proj:epsg (additionalProperties: false),
    # and v1.2.0 defines both proj:code and the proj:epsg that GDAL 3.6 reads.
    "https://stac-extensions.github.io/projection/v1.2.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "https://stac-extensions.github.io/product/v1.0.0/schema.json",
]
