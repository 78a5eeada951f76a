"""The OpenAPI document at ``/api``, made to tell the truth.

FastAPI derives a document from the route signatures, but it does not know what the
bridge really answers: error statuses come from the exception table (with the STAC error
body, not FastAPI's 422), media types from custom response classes, redirects from
handlers. :func:`install_openapi` wraps ``app.openapi()`` (cached) so that every
operation's responses come from :data:`bridge.api.openapi_table.ROUTES`; routes the
table does not know keep FastAPI's description, fixed up the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match

from bridge.api.openapi_table import (
    COMMON_ERRORS,
    ERROR_DESCRIPTIONS,
    ERROR_HEADERS,
    JSON,
    KEY,
    ROUTES,
    SEARCH,
    SECURITY_SCHEMES,
    Answer,
    Route,
    ref,
)

METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
_OBJECT: dict[str, Any] = {"type": "object"}
_LINKS = {"type": "array", "items": {"type": "object", "required": ["href", "rel"]}}
_ITEM_FIELDS: dict[str, Any] = {
    "type": {"type": "string", "enum": ["Feature"]},
    "stac_version": {"type": "string"},
    "stac_extensions": {"type": "array", "items": {"type": "string"}},
    "id": {"type": "string"},
    "collection": {"type": "string"},
    "geometry": {"type": ["object", "null"]},
    "bbox": {"type": "array", "items": {"type": "number"}},
    "properties": _OBJECT,
    "links": _LINKS,
    "assets": {"type": "object", "additionalProperties": _OBJECT},
}
_ORDER_FIELDS = {
    "id": {"type": "string"},
    "status": {"type": "string"},
    "provider": {"type": "string"},
    "item": _OBJECT,
    "price": {"type": ["object", "null"]},
    "links": _LINKS,
}

# Components the bridge's own responses are described by. They are deliberately open
# (extra members allowed): items carry every extension's fields, and the Fields extension
# may leave out any member of an item in a page.
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "A STAC API error; some carry more (providers, order, links).",
        "required": ["code", "description"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    "JSONSchema": {"type": "object", "description": "A JSON Schema document."},
    "BridgeItem": {"type": "object", "required": ["type", "id", "properties", "links"]}
    | {"properties": _ITEM_FIELDS},
    "PartialItem": {
        "type": "object",
        "description": "An item, possibly cut down by the Fields extension.",
        "properties": _ITEM_FIELDS,
    },
    "BridgeItemCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": ref("PartialItem")},
            "links": _LINKS,
            "numberReturned": {"type": "integer", "minimum": 0},
            "numberMatched": {"type": "integer", "minimum": 0},
        },
    },
    "BridgeCollection": {
        "type": "object",
        "required": ["type", "id", "description", "extent", "license", "links"],
        "properties": {
            "type": {"type": "string", "enum": ["Collection"]},
            "id": {"type": "string"},
            "description": {"type": "string"},
            "extent": _OBJECT,
            "license": {"type": "string"},
            "links": _LINKS,
        },
    },
    "BridgeCollections": {
        "type": "object",
        "required": ["collections", "links"],
        "properties": {
            "collections": {"type": "array", "items": ref("BridgeCollection")},
            "links": _LINKS,
        },
    },
    "Quote": {
        "type": "object",
        "required": ["item", "price", "links"],
        "properties": {"item": _OBJECT, "price": {"type": ["object", "null"]}, "links": _LINKS},
    },
    "Order": {"type": "object", "required": ["id", "status", "item", "links"]}
    | {"properties": _ORDER_FIELDS},
    "OrderList": {
        "type": "object",
        "required": ["orders", "links"],
        "properties": {"orders": {"type": "array", "items": ref("Order")}, "links": _LINKS},
    },
    "WebhookReceipt": {
        "type": "object",
        "required": ["refreshed"],
        "properties": {"refreshed": {"type": "integer", "minimum": 0}},
    },
    "Ping": {"type": "object", "properties": {"message": {"type": "string"}}},
    "Status": {"type": "object", "description": "A health or readiness report."},
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/api``) return the truthful document, built once."""
    generate = app.openapi
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(truthful_document(app, generate()))
            app.openapi_schema = cached
        return cached

    app.openapi = openapi  # type: ignore[method-assign]


def truthful_document(app: FastAPI, generated: dict[str, Any]) -> dict[str, Any]:
    """``generated`` (FastAPI's document) with every response as the bridge sends it."""
    doc = copy.deepcopy(generated)
    settings = getattr(app.state, "settings", None)
    key_for_search = bool(getattr(settings, "search_requires_key", False))
    paths: dict[str, Any] = doc.setdefault("paths", {})
    _add_pages(app, paths)
    for path, path_item in paths.items():
        for method, operation in path_item.items():
            if method in METHODS:
                route = ROUTES.get((method.upper(), path))
                _rewrite(operation, method, route, key_for_search)
    _make_operation_ids_unique(paths)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(copy.deepcopy(SCHEMAS))
    schemas.pop("HTTPValidationError", None)  # 422 is never sent: invalid input is a 400
    schemas.pop("ValidationError", None)
    doc["components"]["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    _drop_unused_schemas(doc)
    return doc


def _add_pages(app: FastAPI, paths: dict[str, Any]) -> None:
    """Table entries the app serves outside its schema (HTML pages, mounts)."""
    for (method, path), route in ROUTES.items():
        if method.lower() in paths.get(path, {}) or "{" in path:
            continue
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        if any(r.matches(scope)[0] is Match.FULL for r in app.router.routes):
            paths.setdefault(path, {})[method.lower()] = {"summary": route.operation_id}


def _rewrite(
    operation: dict[str, Any], method: str, route: Route | None, key_for_search: bool
) -> None:
    generated: dict[str, Any] = operation.get("responses", {})
    if route is None:
        responses = {s: _fixed(r) for s, r in generated.items() if s != "422"}
        errors = set(COMMON_ERRORS) | ({400} if "422" in generated else set())
    else:
        operation["operationId"] = route.operation_id
        base = generated.get("200", {})
        responses = {str(s): _answer(a, base) for s, a in route.answers.items()}
        errors = set(COMMON_ERRORS | route.errors)
        _bound_parameters(operation.get("parameters", []), route.parameters)
        if route.request_body is not None:
            operation["requestBody"] = copy.deepcopy(route.request_body)
        if route.auth:
            operation["security"] = _security(route.auth, key_for_search)
    for status in errors:
        responses[str(status)] = _error(status)
    if method == "head":  # a HEAD answer has headers only
        for response in responses.values():
            response.pop("content", None)
    operation["responses"] = dict(sorted(responses.items()))


def _fixed(response: dict[str, Any]) -> dict[str, Any]:
    """FastAPI types a custom response class's model ``{"type": "string", "$ref": ...}``."""
    out = copy.deepcopy(response)
    for media in out.get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            media["schema"] = {"$ref": schema["$ref"]}
    return out


def _answer(answer: Answer, generated: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.media_type is not None:
        schema = answer.schema
        if schema is None:
            found = [m.get("schema", {}) for m in _fixed(generated).get("content", {}).values()]
            schema = found[0] if found and found[0] else {}
        out["content"] = {answer.media_type: {"schema": schema}}
    headers = {h: _header() for h in answer.headers}
    headers.update({h: _header(required=False) for h in answer.optional_headers})
    if headers:
        out["headers"] = headers
    return out


def _security(auth: str, key_for_search: bool) -> list[dict[str, list[str]]]:
    """Either scheme; ``{}`` (no key) too where a key is optional."""
    schemes: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]
    required = auth == KEY or (auth == SEARCH and key_for_search)
    return schemes if required else [{}, *schemes]


def _error(status: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {JSON: {"schema": ref("Error")}},
    }
    if status in ERROR_HEADERS:
        out["headers"] = {h: _header() for h in ERROR_HEADERS[status]}
    return out


def _header(*, required: bool = True) -> dict[str, Any]:
    return {"required": required, "schema": {"type": "string"}}


def _bound_parameters(parameters: list[dict[str, Any]], bounds: dict[str, dict[str, Any]]) -> None:
    """Add the bounds a route enforces to its integer query parameters' schemas."""
    for parameter in parameters:
        extra = bounds.get(parameter.get("name", ""))
        if not extra or parameter.get("in") != "query":
            continue
        schema = parameter.get("schema", {})
        for branch in [schema, *schema.get("anyOf", [])]:
            if branch.get("type") == "integer":
                branch.update(extra)


def _make_operation_ids_unique(paths: dict[str, Any]) -> None:
    """Suffix the method to any operationId used twice (e.g. a GET and HEAD route)."""
    seen: dict[str, int] = {}
    for path_item in paths.values():
        for method, operation in path_item.items():
            if method in METHODS and "operationId" in operation:
                seen[operation["operationId"]] = seen.get(operation["operationId"], 0) + 1
    for path_item in paths.values():
        for method, operation in path_item.items():
            if method in METHODS and seen.get(operation.get("operationId", ""), 0) > 1:
                operation["operationId"] = f"{operation['operationId']}_{method}"


def _drop_unused_schemas(doc: dict[str, Any]) -> None:
    """Remove component schemas no operation reaches (the models the table replaced)."""
    schemas: dict[str, Any] = doc["components"]["schemas"]
    prefix = "#/components/schemas/"
    reached: set[str] = set()
    pending = [doc["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str) and target.startswith(prefix):
                name = target[len(prefix) :]
                if name not in reached and name in schemas:
                    reached.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]
