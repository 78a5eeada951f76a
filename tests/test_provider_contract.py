"""The contract every provider adapter keeps, checked the same way for each of them
(the checks live in :mod:`tests.support.contract_suite`)."""

from __future__ import annotations

import pytest

from bridge import registry
from bridge.catalog import load_catalog
from tests.support.contract_suite import CHECKS
from tests.support.stac_schemas import assert_valid
from tests.support.wiring import COLLECTIONS

PROVIDERS = registry.provider_names()


def test_every_provider_has_a_simulator_and_collections() -> None:
    assert PROVIDERS, "no provider registered"
    assert set(registry.simulator_names()) == set(PROVIDERS)
    catalog = load_catalog(COLLECTIONS)
    assert set(catalog.by_provider) == set(PROVIDERS)
    for name in PROVIDERS:
        assert catalog.by_provider.get(name), f"no collections for {name}"


def test_every_collection_document_is_complete_and_valid() -> None:
    for doc in load_catalog(COLLECTIONS).all():
        assert_valid(doc)
        for key in ("license", "extent", "providers", "summaries", "item_assets", "description"):
            assert doc.get(key), f"{doc['id']} lacks {key}"
        assert any(link.get("rel") == "license" for link in doc.get("links", [])), doc["id"]


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", PROVIDERS)
async def test_provider_keeps_the_contract(name: str, check: str) -> None:
    await CHECKS[check](name, COLLECTIONS)
