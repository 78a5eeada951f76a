"""Offline STAC JSON Schema validation: a re-export of ``conformance.schemas``, the one
implementation (schema URL ``https://HOST/PATH`` -> ``../shared/schemas/HOST/PATH``, a URL
with no file fails loudly)."""

from __future__ import annotations

from conformance.schemas import (
    SCHEMAS_DIR,
    MissingSchema,
    assert_valid,
    document_errors,
    schema_urls,
    validation_errors,
)

__all__ = [
    "SCHEMAS_DIR",
    "MissingSchema",
    "assert_valid",
    "document_errors",
    "schema_urls",
    "validation_errors",
]
