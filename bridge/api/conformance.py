"""The conformance classes the bridge advertises: exactly what it implements."""

from __future__ import annotations

STAC = "https://api.stacspec.org"
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"

CORE = [
    f"{STAC}/v1.0.0/core",
    f"{STAC}/v1.0.0/collections",
    f"{STAC}/v1.0.0/ogcapi-features",
    f"{STAC}/v1.0.0/item-search",
    f"{OGC_FEATURES}/core",
    f"{OGC_FEATURES}/oas30",
    f"{OGC_FEATURES}/geojson",
]

FILTER = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    f"{STAC}/v1.0.0-rc.2/item-search#filter",
    f"{STAC}/v1.0.0-rc.2/ogcapi-features#filter",
    f"{CQL2}/cql2-text",
    f"{CQL2}/cql2-json",
    f"{CQL2}/basic-cql2",
    f"{CQL2}/advanced-comparison-operators",
    f"{CQL2}/case-insensitive-comparison",
    f"{CQL2}/basic-spatial-functions",
    f"{CQL2}/basic-spatial-functions-plus",
    f"{CQL2}/spatial-functions",
    f"{CQL2}/temporal-functions",
    f"{CQL2}/array-functions",
    f"{CQL2}/property-property",
]

QUERY = [f"{STAC}/v1.0.0/item-search#query"]

# pystac-client only recognises v1.0.*: advertise both generations of the sort class.
SORT = [
    f"{STAC}/v1.0.0/item-search#sort",
    f"{STAC}/v1.1.0/item-search#sort",
    f"{STAC}/v1.1.0/item-search#sortables",
]

FIELDS = [f"{STAC}/v1.0.0/item-search#fields"]

COLLECTION_SEARCH = [
    f"{STAC}/v1.0.0-rc.1/collection-search",
    f"{STAC}/v1.0.0-rc.1/collection-search#free-text",
    f"{STAC}/v1.0.0-rc.1/collection-search#sort",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query",
]


def conformance_classes() -> list[str]:
    """Every class the bridge conforms to, sorted."""
    return sorted({*CORE, *FILTER, *QUERY, *SORT, *FIELDS, *COLLECTION_SEARCH})
