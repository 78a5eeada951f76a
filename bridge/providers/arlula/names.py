"""Arlula's native vocabulary as data: endpoints, product lines, sort fields, platforms.

One table per concern, read by :mod:`.translate` and :mod:`.mapping`; nothing here is
logic. Arlula is a marketplace, so platforms and constellations come from its
suppliers; names not in these tables are still mapped (lower-cased), only without a
constellation or instruments.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.arlula.com"
DEFAULT_API_VERSION = "2023-01"
API_VERSIONS = ("2023-01", "2020-12")
# X-API-Version an operator may configure → the generation of answers the adapter reads.
# 2024-07 (node SDK CHANGELOG 3.0.0) changed orders to Order + Dataset, which is the shape
# read as 2023-01 already (arlulacore 4.0.1 sends 2023-01 and reads it); archive search is
# unchanged. 2021-09 to 2022-09 answered orders in an older shape, so they are not offered.
VERSION_GENERATIONS: dict[str, str] = {
    "2020-12": "2020-12",
    "2023-01": "2023-01",
    "2024-07": "2023-01",
}

# (method, path) of the archive search of each API generation.
SEARCH_ENDPOINTS: dict[str, tuple[str, str]] = {
    "2023-01": ("POST", "/api/archive/search"),
    "2020-12": ("GET", "/api/search"),
}

# (method, path) of the archive order of each API generation: also the data asset's href
# on an item, since a scene's files have no URL before an order delivers them.
ORDER_ENDPOINTS: dict[str, tuple[str, str]] = {
    "2023-01": ("POST", "/api/archive/order"),
    "2020-12": ("POST", "/api/order/new"),
}
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"

# Bridge collections = product lines by resolution class: collection id →
# (exclusive lower, inclusive upper) gsd in metres. The native search takes a maximum
# gsd only, so the upper bound is pushed down and the lower bound applied locally.
GSD_CLASSES: dict[str, tuple[float, float]] = {
    "arlula-vhr": (0.0, 1.0),
    "arlula-hr": (1.0, 5.0),
    "arlula-mr": (5.0, 100.0),
}

# The native search needs a start date and an area; these stand in when the STAC query
# has no lower time bound / no spatial constraint (a superset of every archive).
EARLIEST_DAY = "1970-01-01"
WORLD_BOX = {"north": 90.0, "south": -90.0, "east": 180.0, "west": -180.0}

# The native search box is the query's box grown by this much on every side. Arlula
# prices the overlap of each scene with the searched area; with the margin, every scene
# that meets the query's area lies wholly inside the native box, so it comes back priced
# as a whole scene (annotation COVR, or NAOI) whatever the query was, and an item looks
# the same however it is found (search or get-item). It must exceed the largest scene
# extent: the simulator's scenes are at most 20 km a side (28 km across); real suppliers
# with bigger scenes (e.g. 110 km Sentinel-2 tiles) come back priced for a part of them.
SCENE_MARGIN_KM = 30.0

# Filter terms pushed down as native maxima: STAC property → (native field, upper limit
# the native API accepts for it). Native "less than" vs "at most" is unconfirmed, so a
# bound is pushed in a form that is a superset either way (see translate._upper_bound).
MAXIMA: dict[str, tuple[str, float]] = {
    "eo:cloud_cover": ("cloud", 100.0),
    "view:off_nadir": ("offNadir", 45.0),
    "gsd": ("gsd", 100000.0),
}
MIN_NATIVE_GSD = 0.1  # the SDKs reject a smaller gsd maximum

# STAC sort field → 2023-01 native sort field (the SDK's ArchiveSearchSortFields).
# Only one native key is possible, so the adapter still sorts locally (ties by id).
SORT_FIELDS: dict[str, str] = {
    "datetime": "date",
    "eo:cloud_cover": "cloud",
    "view:off_nadir": "offNadir",
    "gsd": "gsd",
    "arlula:supplier": "supplier",
    "arlula:scene_id": "sceneID",
    "arlula:fulfillment_time": "fulfillment",
}

# Native platform → (STAC platform, constellation, instruments).
PLATFORMS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "WorldView-3": ("worldview-3", "worldview", ("wv110",)),
    "WorldView-2": ("worldview-2", "worldview", ("wv110",)),
    "GeoEye-1": ("geoeye-1", "geoeye", ("gis",)),
    "KOMPSAT-3A": ("kompsat-3a", "kompsat", ("aeiss-a",)),
    "KOMPSAT-3": ("kompsat-3", "kompsat", ("aeiss",)),
    "TripleSat-1": ("triplesat-1", "triplesat", ("vhri-100",)),
    "TripleSat-2": ("triplesat-2", "triplesat", ("vhri-100",)),
    "TripleSat-3": ("triplesat-3", "triplesat", ("vhri-100",)),
    "NewSat": ("newsat", "newsat", ("multispectral-camera",)),
    "NewSat Mark IV": ("newsat-mark-iv", "newsat", ("multispectral-camera",)),
    "SPOT-6": ("spot-6", "spot", ("naomi",)),
    "SPOT-7": ("spot-7", "spot", ("naomi",)),
    "PlanetScope": ("planetscope", "planetscope", ("psb.sd",)),
    "Sentinel-2A": ("sentinel-2a", "sentinel-2", ("msi",)),
    "Sentinel-2B": ("sentinel-2b", "sentinel-2", ("msi",)),
}

# Supplier → constellation, for the 2020-12 generation whose results name no platform
# (only suppliers selling a single constellation are listed).
SUPPLIER_CONSTELLATIONS: dict[str, str] = {
    "siis": "kompsat",
    "21at": "triplesat",
    "satellogic": "newsat",
    "airbus": "spot",
    "planet": "planetscope",
    "esa": "sentinel-2",
}

EO_SCHEMA = "https://stac-extensions.github.io/eo/v2.0.0/schema.json"
VIEW_SCHEMA = "https://stac-extensions.github.io/view/v1.1.0/schema.json"
