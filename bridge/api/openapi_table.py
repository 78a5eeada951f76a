"""What each route of the bridge answers: statuses, media types, headers and schemas.

This is data, read by :mod:`bridge.api.openapi` to make the document at ``/api`` true.
A route is keyed by ``(METHOD, path template)``; entries for routes an app does not have
(``/health``, ``/ready``, ``/metrics`` before they exist) are simply skipped. Every error
status listed in ``errors`` answers a STAC error body (the ``Error`` component).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
HTML = "text/html"
PROMETHEUS = "text/plain; version=0.0.4"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def ref(name: str) -> dict[str, Any]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Answer:
    """One non-error response of a route.

    ``schema`` None keeps the schema FastAPI derived from the route's model (if any);
    ``media_type`` None means no body (redirects).
    """

    description: str
    media_type: str | None = JSON
    schema: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()
    # Sent only sometimes (e.g. the partial-answer marker).
    optional_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """Everything a route can answer."""

    operation_id: str
    answers: dict[int, Answer]
    errors: frozenset[int] = frozenset()
    # Bounds the route enforces on query parameters, by name (JSON Schema keywords).
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The body a handler reads itself (FastAPI cannot see it).
    request_body: dict[str, Any] | None = None
    # Who must send an API key: nobody (""), every caller ("key"), or every caller when
    # the operator closed search (``search_requires_key``; optional otherwise: "search").
    auth: str = ""


# Every operation can answer these: limits on request size (413) and rate limits (429).
COMMON_ERRORS = frozenset({413, 429})

ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed or contradictory parameters, or a request limit exceeded",
    401: "No API key where one is needed, or an unknown or revoked key",
    402: "The provider refused the order for lack of funds or credit",
    403: "The key's tenant may not do this (no contract, no order of the item)",
    404: "No such collection, item, asset, order or provider",
    409: "The request conflicts with the resource's state",
    410: "The delivery or signed download expired at the provider",
    413: "The request body or query string is larger than the bridge accepts",
    429: "Too many requests: retry after the number of seconds in Retry-After",
    502: "The provider(s) failed or answered with something unreadable",
    503: "Not ready",
    504: "The provider(s) did not answer within the deadline",
}
# Statuses whose error answers carry a header the client needs.
ERROR_HEADERS = {429: ("Retry-After",)}

SEARCH_ERRORS = frozenset({400, 401, 404, 502, 504})
TENANT_ERRORS = frozenset({400, 401, 403, 404, 502, 504})
OK = 200
COLLECTION = "/collections/{collection_id}"
ITEM = COLLECTION + "/items/{item_id}"
ASSET = ITEM + "/assets/{key}"


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[int, Answer]:
    return {OK: Answer(description, JSON, schema)}


def _schema_doc(description: str) -> dict[int, Answer]:
    return {OK: Answer(description, SCHEMA_JSON, ref("JSONSchema"))}


ITEMS_PAGE = {
    OK: Answer(
        "A page of items; X-Bridge-Partial: true when some provider failed (see bridge:providers)",
        GEOJSON,
        ref("BridgeItemCollection"),
        optional_headers=("X-Bridge-Partial",),
    )
}
ASSET_ANSWERS = {
    307: Answer(
        "Redirect to a freshly signed provider URL", media_type=None, headers=("Location",)
    ),
    202: Answer(
        "The item's order is not delivered yet: retry after Retry-After seconds",
        JSON,
        ref("Error"),
        headers=("Retry-After",),
    ),
}
POSITIVE = {"minimum": 1}
KEY, SEARCH = "key", "search"
# How a caller sends its key (``bridge.auth.request``): either scheme will do.
SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "the API key as a token"},
}
ORDER_OPTIONS = {
    "description": "The order's options, all optional (the provider's standard choice).",
    "required": False,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "license": {"type": ["string", "null"], "maxLength": 500},
                    "bundle": {"type": ["string", "null"], "maxLength": 200},
                    "seats": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
                },
            }
        }
    },
}
# A provider's own notification: whatever JSON it sends is read (and unknown ones ignored).
WEBHOOK_BODY = {"required": True, "content": {JSON: {"schema": {}}}}
STRING = {"type": "string"}

# STAPI tasking (``bridge/tasking``): request bodies as the offline STAPI OpenAPI has them.
_TASKING_WINDOW = {
    "datetime": {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": {"type": "string", "format": "date-time"},
        "description": "[start, end], RFC 3339 with a time zone; start before end",
    },
    "geometry": {"type": "object", "description": "A GeoJSON geometry"},
    "filter": {"type": ["object", "null"], "description": "CQL2-JSON over the queryables"},
}
TASKING_ORDER_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["datetime", "geometry"],
                "properties": {
                    **_TASKING_WINDOW,
                    "order_parameters": {
                        "type": "object",
                        "description": "Checked against the product's order-parameters",
                    },
                    "opportunity_id": {"type": ["string", "null"], "maxLength": 500},
                },
            }
        }
    },
}
TASKING_OPPORTUNITY_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["datetime", "geometry"],
                "properties": {
                    **_TASKING_WINDOW,
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "next": {"type": ["string", "null"]},
                },
            }
        }
    },
}
TASKING_PAGE = {"limit": {"minimum": 1, "maximum": 100}}
TASKING_ORDER_ERRORS = frozenset({401, 404, 502, 504})
_STAPI_OBJECT = {"type": "object"}
TASKING_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/tasking/"): Route("getTaskingLandingPage", _json("The STAPI landing page")),
    ("GET", "/tasking/conformance"): Route(
        "getTaskingConformance", _json("STAPI conformance classes")
    ),
    ("GET", "/tasking/products"): Route(
        "listTaskingProducts",
        _json("Every provider's tasking products, paged", _STAPI_OBJECT),
        frozenset({400}),
        TASKING_PAGE,
    ),
    ("GET", "/tasking/products/{product_id}"): Route(
        "getTaskingProduct", _json("A STAPI product", _STAPI_OBJECT), frozenset({404})
    ),
    ("GET", "/tasking/products/{product_id}/queryables"): Route(
        "getTaskingQueryables",
        _schema_doc("What an opportunity or order filter may constrain"),
        frozenset({404}),
    ),
    ("GET", "/tasking/products/{product_id}/order-parameters"): Route(
        "getTaskingOrderParameters",
        _schema_doc("The product's order parameters, each with its default"),
        frozenset({404}),
    ),
    ("POST", "/tasking/products/{product_id}/opportunities"): Route(
        "searchTaskingOpportunities",
        {OK: Answer("Acquisition opportunities", GEOJSON, _STAPI_OBJECT)},
        TENANT_ERRORS,
        request_body=TASKING_OPPORTUNITY_BODY,
        auth=KEY,
    ),
    ("POST", "/tasking/products/{product_id}/orders"): Route(
        "createTaskingOrder",
        {
            201: Answer(
                "The order (new, or the one this Idempotency-Key or request already made)",
                GEOJSON,
                _STAPI_OBJECT,
                headers=("Location",),
            )
        },
        TENANT_ERRORS | {402, 409},
        request_body=TASKING_ORDER_BODY,
        auth=KEY,
    ),
    ("GET", "/tasking/products/{product_id}/orders"): Route(
        "listTaskingProductOrders",
        {OK: Answer("The tenant's orders of the product, newest first", GEOJSON, _STAPI_OBJECT)},
        frozenset({400, 401, 404}),
        TASKING_PAGE,
        auth=KEY,
    ),
    ("GET", "/tasking/orders"): Route(
        "listTaskingOrders",
        {OK: Answer("The tenant's tasking orders, newest first", GEOJSON, _STAPI_OBJECT)},
        frozenset({400, 401}),
        TASKING_PAGE,
        auth=KEY,
    ),
    ("GET", "/tasking/orders/{order_id}"): Route(
        "getTaskingOrder",
        {OK: Answer("One tasking order", GEOJSON, _STAPI_OBJECT)},
        TASKING_ORDER_ERRORS | {403},
        auth=KEY,
    ),
    ("GET", "/tasking/orders/{order_id}/statuses"): Route(
        "getTaskingOrderStatuses",
        _json("The order's status history, oldest first", _STAPI_OBJECT),
        frozenset({400, 401, 404}),
        TASKING_PAGE,
        auth=KEY,
    ),
    ("POST", "/tasking/orders/{order_id}/cancel"): Route(
        "cancelTaskingOrder",
        {OK: Answer("The order", GEOJSON, _STAPI_OBJECT)},
        TASKING_ORDER_ERRORS | {403, 409},
        auth=KEY,
    ),
    ("POST", "/tasking/orders/{order_id}/approve"): Route(
        "approveTaskingOrder",
        {OK: Answer("The order", GEOJSON, _STAPI_OBJECT)},
        TASKING_ORDER_ERRORS | {403, 409},
        auth=KEY,
    ),
    ("POST", "/tasking/webhooks/{provider}"): Route(
        "postTaskingWebhook",
        {202: Answer("Tasks re-read", JSON, ref("WebhookReceipt"))},
        frozenset({400, 404, 502, 504}),
        request_body=WEBHOOK_BODY,
    ),
}

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/"): Route("getLandingPage", _json("The landing page")),
    ("GET", "/conformance"): Route("getConformanceDeclaration", _json("Conformance classes")),
    ("GET", "/collections"): Route(
        "getCollections",
        _json("The collections (Collection Search)", ref("BridgeCollections")),
        frozenset({400}),
        {"limit": POSITIVE},
    ),
    ("GET", COLLECTION): Route(
        "describeCollection", _json("One collection", ref("BridgeCollection")), frozenset({404})
    ),
    ("GET", COLLECTION + "/items"): Route(
        "getFeatures", ITEMS_PAGE, SEARCH_ERRORS, {"limit": POSITIVE}, auth=SEARCH
    ),
    ("GET", ITEM): Route(
        "getFeature",
        {OK: Answer("One item", GEOJSON, ref("BridgeItem"))},
        SEARCH_ERRORS,
        auth=SEARCH,
    ),
    ("GET", "/search"): Route(
        "getItemSearch", ITEMS_PAGE, SEARCH_ERRORS, {"limit": POSITIVE}, auth=SEARCH
    ),
    ("POST", "/search"): Route("postItemSearch", ITEMS_PAGE, SEARCH_ERRORS, auth=SEARCH),
    # The handler also takes ``collection_id`` as a query parameter here: 404 if unknown.
    ("GET", "/queryables"): Route(
        "getQueryables", _schema_doc("Queryables of all collections"), frozenset({404})
    ),
    ("GET", COLLECTION + "/queryables"): Route(
        "getCollectionQueryables", _schema_doc("Queryables of a collection"), frozenset({404})
    ),
    # The handler also takes ``collection_id`` as a query parameter here: 404 if unknown.
    ("GET", "/sortables"): Route(
        "getSortables", _schema_doc("Sortables of all collections"), frozenset({404})
    ),
    ("GET", COLLECTION + "/sortables"): Route(
        "getCollectionSortables", _schema_doc("Sortables of a collection"), frozenset({404})
    ),
    ("GET", "/extensions/price/v1.0.0/schema.json"): Route(
        "getPriceExtensionSchema", _schema_doc("The price extension's JSON Schema")
    ),
    ("GET", ITEM + "/quote"): Route(
        "getQuote", _json("The price", ref("Quote")), TENANT_ERRORS, auth=KEY
    ),
    ("POST", ITEM + "/order"): Route(
        "orderItem",
        {201: Answer("The order (new, or the one this key already made)", JSON, ref("Order"))},
        TENANT_ERRORS | {402, 409},
        request_body=ORDER_OPTIONS,
        auth=KEY,
    ),
    ("GET", "/orders"): Route(
        "listOrders",
        _json("The tenant's orders, newest first", ref("OrderList")),
        frozenset({400, 401}),
        {"limit": {"minimum": 1, "maximum": 1000}},
        auth=KEY,
    ),
    ("GET", "/orders/{order_id}"): Route(
        "getOrder", _json("One order", ref("Order")), frozenset({401, 404, 502, 504}), auth=KEY
    ),
    ("POST", "/orders/{order_id}/cancel"): Route(
        "cancelOrder",
        _json("The order", ref("Order")),
        frozenset({401, 404, 409, 502, 504}),
        auth=KEY,
    ),
    # Thumbnails need no key (unless search is closed); data assets need one.
    ("GET", ASSET): Route("getAsset", ASSET_ANSWERS, TENANT_ERRORS | {402, 409, 410}, auth=SEARCH),
    ("HEAD", ASSET): Route(
        "headAsset", ASSET_ANSWERS, TENANT_ERRORS | {402, 409, 410}, auth=SEARCH
    ),
    ("POST", "/webhooks/{provider}"): Route(
        "postProviderWebhook",
        {202: Answer("Orders re-read", JSON, ref("WebhookReceipt"))},
        frozenset({400, 404}),
        request_body=WEBHOOK_BODY,
    ),
    ("GET", "/sandbox"): Route("getSandbox", _json("Simulator URLs and demo credentials")),
    ("GET", "/_mgmt/ping"): Route("ping", _json("Alive", ref("Ping"))),
    ("GET", "/_mgmt/health"): Route("getMgmtHealth", _json("Alive")),
    # Operators' signals.
    ("GET", "/health"): Route("getHealth", _json("Alive (no I/O)", ref("Status"))),
    ("GET", "/ready"): Route(
        "getReadiness",
        {
            OK: Answer("Ready: database and providers", JSON, ref("Status")),
            503: Answer("Not ready: what is not", JSON, ref("Status")),
        },
    ),
    ("GET", "/metrics"): Route(
        "getMetrics", {OK: Answer("Prometheus metrics", PROMETHEUS, STRING)}
    ),
    # Documents and pages served outside the schema-generated routes.
    ("GET", "/api"): Route(
        "getOpenApiDocument",
        {OK: Answer("This document", OPENAPI, ref("JSONSchema"))},
    ),
    ("GET", "/api.html"): Route(
        "getApiDocumentation", {OK: Answer("Interactive API documentation", HTML, STRING)}
    ),
    ("GET", "/browser/"): Route(
        "getBrowser",
        {
            OK: Answer("stac-browser", HTML, STRING),
            503: Answer(
                "stac-browser is not built: how to build it",
                HTML,
                STRING,
                headers=("Retry-After",),
            ),
        },
    ),
}
ROUTES.update(TASKING_ROUTES)
