"""Capella names as data: collections, property names, sortable fields, processing levels.

Capella's catalog already speaks STAC names, so most entries map a name to itself; the
table still lists each one, because the native API sorts only on what it lists.
"""

from __future__ import annotations

from types import MappingProxyType

# Bridge collection id -> native collection id (the same ids: Capella's are good STAC ids).
NATIVE_COLLECTIONS = MappingProxyType(
    {
        "capella-slc": "capella-slc",
        "capella-geo": "capella-geo",
        "capella-gec": "capella-gec",
        "capella-sicd": "capella-sicd",
        "capella-sidd": "capella-sidd",
        "capella-cphd": "capella-cphd",
    }
)
BRIDGE_COLLECTIONS = MappingProxyType({v: k for k, v in NATIVE_COLLECTIONS.items()})

# Product type -> bridge collection, for records whose native collection the bridge does not
# serve under that id (the SDK's test data files items under "capella-archive").
COLLECTION_BY_PRODUCT = MappingProxyType(
    {
        "SLC": "capella-slc",
        "GEO": "capella-geo",
        "GEC": "capella-gec",
        "SICD": "capella-sicd",
        "SIDD": "capella-sidd",
        "CPHD": "capella-cphd",
    }
)

# STAC property name on bridge items -> the native property Capella evaluates in ``query``
# and sorts on: the queryable names Capella documents. A filter term or a sort key on any
# other property (``gsd``, ``processing:level``, ``proj:code``...) stays with the bridge.
QUERYABLE = MappingProxyType(
    {
        "platform": "platform",
        "constellation": "constellation",
        "instruments": "instruments",
        "sar:instrument_mode": "sar:instrument_mode",
        "sar:product_type": "sar:product_type",
        "product:type": "sar:product_type",
        "sar:polarizations": "sar:polarizations",
        "sar:frequency_band": "sar:frequency_band",
        "sar:observation_direction": "sar:observation_direction",
        "sar:resolution_range": "sar:resolution_range",
        "sar:resolution_azimuth": "sar:resolution_azimuth",
        "sar:looks_range": "sar:looks_range",
        "sar:looks_azimuth": "sar:looks_azimuth",
        "sar:looks_equivalent_number": "sar:looks_equivalent_number",
        "sar:pixel_spacing_range": "sar:pixel_spacing_range",
        "sar:pixel_spacing_azimuth": "sar:pixel_spacing_azimuth",
        "view:incidence_angle": "view:incidence_angle",
        "view:off_nadir": "view:look_angle",
        "view:azimuth": "view:azimuth",
        "sat:orbit_state": "sat:orbit_state",
        "sat:relative_orbit": "sat:relative_orbit",
        "sat:absolute_orbit": "sat:absolute_orbit",
        "capella:collect_id": "capella:collect_id",
        "capella:resolution_ground_range": "capella:resolution_ground_range",
        "capella:squint_angle": "capella:squint_angle",
        "capella:layover_angle": "capella:layover_angle",
        "capella:orbital_plane": "capella:orbital_plane",
        "capella:billable_area": "capella:billable_area",
        "capella:collection_type": "capella:collection_type",
        "proj:epsg": "proj:epsg",
        # Also in the SDK's vocabulary (config.py STAC_PREFIXED_BY_QUERY_FIELDS).
        "sar:center_frequency": "sar:center_frequency",
        "capella:image_formation_algorithm": "capella:image_formation_algorithm",
    }
)
# Array-valued queryables: Capella's element-wise matching of ``eq`` on arrays is
# unconfirmed, and CQL2 compares arrays differently, so terms on them are not pushed down.
ARRAY_VALUED = frozenset({"instruments", "sar:polarizations"})

# CQL2 comparison -> Capella ``query`` operator (``<>`` and ``like`` have none).
QUERY_OPERATORS = MappingProxyType(
    {"=": "eq", "in": "in", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
)

# STAC name -> the native property Capella sorts on: the queryables plus the datetimes.
SORTABLE = MappingProxyType(
    {
        "datetime": "datetime",
        "start_datetime": "start_datetime",
        "end_datetime": "end_datetime",
        **QUERYABLE,
    }
)
# Top-level fields Capella sorts on natively.
SORTABLE_TOP_LEVEL = frozenset({"id"})

# Native property -> STAC name on bridge items, where they differ. ``view:look_angle`` is
# not a View extension field; for SAR the look angle is the off-nadir angle. Clients may
# use the native name anywhere a property name is accepted (the adapter's aliases).
RENAMED = MappingProxyType({"view:look_angle": "view:off_nadir"})

# Native properties dropped from bridge items: the locale fields are Capella's local-time
# helpers (no STAC extension), the hash an internal checksum.
DROPPED = frozenset({"locale:datetime", "locale:timezone", "locale:time", "capella:hash"})

# STAC common metadata names that stand without a prefix. Any other unprefixed native
# property (none is documented) passes through as ``capella:<name>``.
COMMON_METADATA = frozenset(
    {
        "datetime",
        "start_datetime",
        "end_datetime",
        "created",
        "updated",
        "platform",
        "constellation",
        "instruments",
        "mission",
        "gsd",
        "title",
        "description",
        "keywords",
        "license",
        "providers",
    }
)

PROCESSING_LEVEL = MappingProxyType(
    {"CPHD": "L0", "SLC": "L1A", "SICD": "L1A", "GEC": "L1B", "GEO": "L1C", "SIDD": "L1C"}
)
GEOCODED = frozenset({"GEO", "GEC", "SIDD"})

SAR = "https://stac-extensions.github.io/sar/v1.3.0/schema.json"
SAT = "https://stac-extensions.github.io/sat/v1.2.0/schema.json"
VIEW = "https://stac-extensions.github.io/view/v1.1.0/schema.json"
PROCESSING = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
PRODUCT = "https://stac-extensions.github.io/product/v1.0.0/schema.json"
# Projection v1.2.0, not v2.0.0: v2.0.0 forbids ``proj:epsg``, which GDAL 3.6 still reads;
# v1.2.0 carries both ``proj:code`` and (deprecated) ``proj:epsg``.
PROJECTION = "https://stac-extensions.github.io/projection/v1.2.0/schema.json"
EXTENSIONS = (SAR, SAT, VIEW, PROCESSING, PRODUCT)
EXTENSIONS_GEOCODED = (*EXTENSIONS, PROJECTION)
