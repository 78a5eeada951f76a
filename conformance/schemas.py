"""Offline STAC JSON Schema validation against the mirror in ``../shared/schemas``.

This is the one implementation of the offline schema resolver: ``tests/support/stac_schemas``
re-exports it, and the stac-api-validator wrapper (``conformance.offline``) serves schema
URLs from the same files.

A schema URL ``https://HOST/PATH`` resolves to the file ``HOST/PATH`` there; a URL with no
file fails loudly (``MissingSchema``) instead of skipping validation.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMAS_DIR = Path(
    os.environ.get("BRIDGE_SCHEMAS_DIR", Path(__file__).resolve().parents[2] / "shared" / "schemas")
)

ITEM_SCHEMA = "https://schemas.stacspec.org/v{version}/item-spec/json-schema/item.json"
COLLECTION_SCHEMA = (
    "https://schemas.stacspec.org/v{version}/collection-spec/json-schema/collection.json"
)
CATALOG_SCHEMA = "https://schemas.stacspec.org/v{version}/catalog-spec/json-schema/catalog.json"


class MissingSchema(LookupError):
    """A schema URL with no file in the offline mirror."""


def path_for(url: str) -> Path:
    """The file of the offline mirror that holds the document at ``url``."""
    rest = url.split("://", 1)[-1].split("#", 1)[0].split("?", 1)[0]
    return SCHEMAS_DIR / rest


# The bridge's own extension: validated against the very file the bridge serves, whatever
# host the item names it under (it is served at each deployment's own base URL).
BRIDGE_SCHEMAS = {
    "/extensions/price/v1.0.0/schema.json": Path(__file__).resolve().parents[1]
    / "bridge"
    / "api"
    / "schemas"
    / "price-v1.0.0.json",
}


def read_schema_bytes(url: str) -> bytes:
    """The raw offline copy of ``url``; ``MissingSchema`` when the mirror has none."""
    for suffix, own in BRIDGE_SCHEMAS.items():
        if url.split("#", 1)[0].endswith(suffix):
            return own.read_bytes()
    path = path_for(url)
    if not path.is_file():
        raise MissingSchema(f"no offline copy of schema {url} (expected {path})")
    return path.read_bytes()


def _retrieve(url: str) -> Resource[Any]:
    try:
        return Resource.from_contents(orjson.loads(read_schema_bytes(url)))
    except MissingSchema as exc:
        raise NoSuchResource(ref=url) from exc


@cache
def _registry() -> Registry[Any]:
    """Every schema of the mirror, loaded and crawled once (resolving a ``$ref`` is then a
    lookup, not a file read); a URL outside the mirror still goes through ``_retrieve``."""
    files = sorted(p for p in SCHEMAS_DIR.rglob("*.json") if p.is_file())
    resources = [
        (f"https://{p.relative_to(SCHEMAS_DIR).as_posix()}", _retrieve_path(p)) for p in files
    ]
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return registry.with_resources(resources).crawl()


def _retrieve_path(path: Path) -> Resource[Any]:
    return Resource.from_contents(orjson.loads(path.read_bytes()))


@cache
def _validator(url: str) -> jsonschema.protocols.Validator:
    schema = orjson.loads(read_schema_bytes(url))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry())  # type: ignore[no-any-return]


def schema_urls(obj: dict[str, Any]) -> list[str]:
    """The core schema and every extension schema ``obj`` declares."""
    version = obj.get("stac_version", "1.1.0")
    kind = obj.get("type")
    if kind == "Feature":
        core = ITEM_SCHEMA
    elif kind == "Catalog":
        core = CATALOG_SCHEMA
    else:
        core = COLLECTION_SCHEMA
    return [core.format(version=version), *obj.get("stac_extensions", [])]


def validation_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of a STAC item, collection or catalog, as readable lines."""
    errors = []
    for url in schema_urls(obj):
        for err in _validator(url).iter_errors(obj):
            where = "/".join(str(p) for p in err.absolute_path)
            errors.append(f"{obj.get('id')}: {url}: {where}: {err.message}")
    return errors


def stac_objects(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The STAC objects a response body holds: itself, its features or its collections."""
    if doc.get("type") == "FeatureCollection":
        return [f for f in doc.get("features") or [] if isinstance(f, dict)]
    if "type" not in doc and isinstance(doc.get("collections"), list):
        return [c for c in doc["collections"] if isinstance(c, dict)]
    return [doc]


def envelope_errors(doc: dict[str, Any]) -> list[str]:
    """Violations of the wrapper of an item collection or ``/collections`` list.

    There is no published JSON Schema for either, so the members every client reads are
    checked by hand; anything else that is not a STAC item, collection or catalog is an
    error.
    """
    kind = doc.get("type")
    if kind in ("Feature", "Collection", "Catalog"):
        return []
    if kind == "FeatureCollection":
        keys = ("features", "links")
    elif kind is None and "collections" in doc:
        keys = ("collections", "links")
    else:
        return [f"not a STAC document (type {kind!r})"]
    return [
        f"{kind or 'collections'}: '{k}' is not a list"
        for k in keys
        if not isinstance(doc.get(k), list)
    ]


def document_errors(doc: dict[str, Any]) -> list[str]:
    """Violations of any STAC API response body: a landing page (catalog), a collection,
    a ``/collections`` list, an item, or an item collection (each feature validated)."""
    errors = envelope_errors(doc)
    for obj in stac_objects(doc):
        errors.extend(validation_errors(obj))
    return errors


def assert_valid(obj: dict[str, Any]) -> None:
    """Fail with every violation when ``obj`` does not validate."""
    errors = validation_errors(obj)
    assert not errors, "\n".join(errors[:20])
