"""Evaluating a parsed ICEYE catalog request over the archive: which scenes match, in
which order, in which collection (:mod:`bridge.simulators.iceye.request` reads requests;
the unconfirmed rules are listed there)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shapely.geometry import Polygon

from bridge.simulators.iceye.archive import PRIVATE, PUBLIC, Archive, Scene
from bridge.simulators.iceye.request import DEFAULT_COLLECTIONS, OPS, NativeSearch


def _sort_value(scene: Scene, name: str) -> Any:
    if name == "id":
        return scene.id
    if name == "start_datetime":
        return scene.start
    if name == "end_datetime":
        return scene.end
    return scene.properties[name]


@lru_cache(maxsize=32)
def _ordered(archive: Archive, sortby: tuple[tuple[str, bool], ...]) -> tuple[Scene, ...]:
    # Stable sorts from the last key to the first give a multi-key sort with mixed
    # directions; the first pass by id is the tie-break.
    scenes = sorted(archive.scenes, key=lambda s: s.id)
    for name, descending in reversed(sortby):
        scenes.sort(key=lambda s: _sort_value(s, name), reverse=descending)
    return tuple(scenes)


def collection_of(scene: Scene, search: NativeSearch, owned: frozenset[str]) -> str | None:
    """The collection ``scene`` is found in by ``search``: ``private`` when the caller owns
    its frame and asked for it, else ``public`` when asked; None when in neither."""
    wanted = search.collections if search.collections is not None else DEFAULT_COLLECTIONS
    mine = scene.properties["frame_id"] in owned
    if PRIVATE in wanted and mine:
        return PRIVATE
    if scene.collection == PRIVATE and not mine:
        # A tasked product: exclusive to the task's owner (assumed for the whole session).
        return None
    return PUBLIC if PUBLIC in wanted else None


def _matches(scene: Scene, search: NativeSearch, owned: frozenset[str]) -> bool:
    if search.ids is not None and scene.id not in search.ids:
        return False
    if collection_of(scene, search, owned) is None:
        return False
    if search.start is not None and scene.end < search.start:
        return False
    if search.end is not None and scene.start > search.end:
        return False
    b = search.bbox
    sb = scene.bbox
    if b is not None and (sb[2] < b[0] or sb[0] > b[2] or sb[3] < b[1] or sb[1] > b[3]):
        return False
    for name, op, operand in search.query:
        value = scene.properties.get(name) if name is not None else None
        try:
            if value is None or not OPS[op](value, operand):
                return False
        except TypeError:
            return False
    if search.geometry is not None:
        gb = search.geometry.bounds
        if sb[2] < gb[0] or sb[0] > gb[2] or sb[3] < gb[1] or sb[1] > gb[3]:
            return False
        return bool(search.geometry.intersects(Polygon(scene.geometry["coordinates"][0])))
    return True


def execute(
    archive: Archive,
    search: NativeSearch,
    offset: int,
    limit: int,
    owned: frozenset[str] = frozenset(),
) -> tuple[list[Scene], int | None]:
    """One page of matching scenes in order, and the offset of the next page (or None).

    ``owned``: the frames the caller owns (what its ``private`` collection holds).
    """
    page: list[Scene] = []
    seen = 0
    if limit == 0:
        return page, None  # v1 accepts limit 0: an empty page, nothing to continue
    for scene in _ordered(archive, search.sortby):
        if not _matches(scene, search, owned):
            continue
        if seen >= offset:
            if len(page) == limit:
                return page, offset + limit
            page.append(scene)
        seen += 1
    return page, None
