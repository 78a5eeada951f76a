"""The Fields extension: include / exclude dotted paths, applied after filtering.

Semantics (STAC API Fields): no fields → the whole item; ``include`` → exactly those
paths (plus ``type``, ``stac_version``, ``id`` and ``collection``, which identify the
item); only ``exclude`` → the item without those paths; ``exclude`` with an explicit null
or empty ``include`` (POST) → the default set (rule 4 of the extension) without them; a
path in both, or an include inside an excluded parent, is included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.errors import BadRequest

ALWAYS = ("type", "stac_version", "id", "collection")
DEFAULT_SET = (
    "type",
    "stac_version",
    "id",
    "geometry",
    "bbox",
    "links",
    "assets",
    "properties.datetime",
    "properties.start_datetime",
    "properties.end_datetime",
)


@dataclass(frozen=True)
class FieldsSpec:
    """Parsed include / exclude paths."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def to_post(self) -> dict[str, list[str]]:
        """The POST ``fields`` object."""
        return {"include": list(self.include), "exclude": list(self.exclude)}


def parse_fields(
    value: str | dict[str, Any] | None, resolve: Callable[[str], str] | None = None
) -> FieldsSpec:
    """GET ``id,-geometry,properties.gsd`` or POST ``{include, exclude}`` → a spec.

    ``resolve`` maps a property name to its STAC name (aliases) and rejects unknown ones.
    """
    if value is None or value == "":
        return FieldsSpec()
    include: list[str] = []
    exclude: list[str] = []
    if isinstance(value, str):
        for raw in value.split(","):
            path = raw.strip()
            if path.startswith("-"):
                exclude.append(path[1:])
            elif path:
                include.append(path.lstrip("+"))
    elif isinstance(value, dict):
        include = _strings(value.get("include"), "include")
        exclude = _strings(value.get("exclude"), "exclude")
        if "include" in value and not include and exclude:
            # Rule 4: the default set, without what is excluded (not an explicit include,
            # so it does not outrank the exclusions).
            include = [
                p
                for p in DEFAULT_SET
                if p not in exclude and not any(p.startswith(e + ".") for e in exclude)
            ]
    else:
        raise BadRequest("fields must be a string or an {include, exclude} object")
    norm = _normalizer(resolve)
    return FieldsSpec(tuple(map(norm, include)), tuple(map(norm, exclude)))


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"fields.{name} must be a list of strings")
    return [v for v in value if v]


def _normalizer(resolve: Callable[[str], str] | None) -> Callable[[str], str]:
    def norm(path: str) -> str:
        if resolve is not None and path.startswith("properties.") and path != "properties.":
            return "properties." + resolve(path[len("properties.") :])
        return path

    return norm


def _get(obj: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    for part in parts:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _put(target: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[parts[-1]] = value


def _drop(target: dict[str, Any], parts: Sequence[str]) -> None:
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            return
        # Copy on write: items may be shared with the page cache.
        target[part] = nxt = dict(nxt)
        target = nxt
    target.pop(parts[-1], None)


def _split(path: str) -> list[str]:
    # Property names contain ':' but never '.', so a dot always separates levels.
    return [p for p in path.split(".") if p]


def apply_fields(item: dict[str, Any], spec: FieldsSpec) -> dict[str, Any]:
    """A copy of ``item`` shaped by ``spec`` (the input is never modified)."""
    if not spec:
        return item
    if spec.include:
        out: dict[str, Any] = {k: item[k] for k in ALWAYS if k in item}
        for path in spec.include:
            parts = _split(path)
            found, value = _get(item, parts)
            if found and parts:
                _put(out, parts, value)
    else:
        out = dict(item)
    included = set(spec.include)
    for path in spec.exclude:
        if path in included or path in ALWAYS:
            continue
        inner = [p for p in spec.include if p.startswith(path + ".")]
        kept = [(p, _get(out, _split(p))) for p in inner]
        _drop(out, _split(path))
        # An include inside an excluded parent wins: `-properties,+properties.gsd`.
        for p, (found, value) in kept:
            if found:
                _put(out, _split(p), value)
    return out
