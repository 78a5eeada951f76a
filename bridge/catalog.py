"""The STAC Collection documents under ``collections/``, loaded once at start-up.

Layout: ``collections/<provider>/<collection-id>.json``; the folder names the provider
adapter that serves the collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

CollectionDoc = dict[str, Any]


@dataclass(frozen=True)
class Catalog:
    """Every collection document, and which provider serves each."""

    by_provider: dict[str, dict[str, CollectionDoc]]

    @property
    def provider_of(self) -> dict[str, str]:
        """Collection id → provider name."""
        return {cid: p for p, docs in self.by_provider.items() for cid in docs}

    def all(self) -> list[CollectionDoc]:
        """Every collection document, ordered by id."""
        docs = [d for docs in self.by_provider.values() for d in docs.values()]
        return sorted(docs, key=lambda d: str(d["id"]))

    def get(self, collection_id: str) -> CollectionDoc | None:
        """One collection document by id."""
        for docs in self.by_provider.values():
            if collection_id in docs:
                return docs[collection_id]
        return None


def load_catalog(root: Path, providers: list[str] | None = None) -> Catalog:
    """Read ``root/<provider>/*.json``; ``providers`` limits which folders are read.

    Raises:
        ValueError: a document without an ``id``, or an id used twice.
    """
    by_provider: dict[str, dict[str, CollectionDoc]] = {}
    seen: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if providers is not None and folder.name not in providers:
            continue
        docs: dict[str, CollectionDoc] = {}
        for path in sorted(folder.glob("*.json")):
            doc = orjson.loads(path.read_bytes())
            cid = doc.get("id")
            if not isinstance(cid, str):
                raise ValueError(f"{path}: collection document has no id")
            if cid in seen:
                raise ValueError(f"{path}: collection id {cid!r} also in {seen[cid]}")
            seen[cid] = path
            docs[cid] = doc
        by_provider[folder.name] = docs
    return Catalog(by_provider)
