"""Offline STAC JSON Schema validation against the mirror in ``../shared/schemas``.

A schema URL ``https://HOST/PATH`` resolves to the file ``HOST/PATH`` there; a URL with no
file fails loudly instead of skipping validation.
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
    os.environ.get("BRIDGE_SCHEMAS_DIR", Path(__file__).resolve().parents[3] / "shared" / "schemas")
)

ITEM_SCHEMA = "https://schemas.stacspec.org/v{version}/item-spec/json-schema/item.json"
COLLECTION_SCHEMA = (
    "https://schemas.stacspec.org/v{version}/collection-spec/json-schema/collection.json"
)


class MissingSchema(LookupError):
    """A schema URL with no file in the offline mirror."""


def _path_for(url: str) -> Path:
    rest = url.split("://", 1)[-1].split("#", 1)[0]
    return SCHEMAS_DIR / rest


def _retrieve(url: str) -> Resource[Any]:
    path = _path_for(url)
    if not path.is_file():
        raise NoSuchResource(ref=url)
    return Resource.from_contents(orjson.loads(path.read_bytes()))


@cache
def _registry() -> Registry[Any]:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


@cache
def _validator(url: str) -> jsonschema.protocols.Validator:
    path = _path_for(url)
    if not path.is_file():
        raise MissingSchema(f"no offline copy of schema {url} (expected {path})")
    schema = orjson.loads(path.read_bytes())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry())  # type: ignore[no-any-return]


def schema_urls(obj: dict[str, Any]) -> list[str]:
    """The core schema and every extension schema ``obj`` declares."""
    version = obj.get("stac_version", "1.1.0")
    core = ITEM_SCHEMA if obj.get("type") == "Feature" else COLLECTION_SCHEMA
    return [core.format(version=version), *obj.get("stac_extensions", [])]


def validation_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of a STAC item or collection, as readable lines."""
    errors = []
    for url in schema_urls(obj):
        for err in _validator(url).iter_errors(obj):
            where = "/".join(str(p) for p in err.absolute_path)
            errors.append(f"{obj.get('id')}: {url}: {where}: {err.message}")
    return errors


def assert_valid(obj: dict[str, Any]) -> None:
    """Fail with every violation when ``obj`` does not validate."""
    errors = validation_errors(obj)
    assert not errors, "\n".join(errors[:20])
