"""Native answers decoded only as far as a search needs them (built on ``msgspec``).

An unpaged native answer (Arlula's archive search) holds thousands of records, of which
one result page serves a few. Decoding all of them into Python dicts was most of a
search's CPU (10 MB, ~5,700 records: ~260 ms with orjson) and kept millions of objects
alive in the result cache for the collector to walk. Here the answer is read twice by
msgspec, which skips whatever its target type does not name: once as each record's raw
JSON text (``msgspec.Raw``, a view into the body, no copy) and once as the few fields
the adapter keys and filters by (a ``msgspec.Struct``; ~25 ms for both reads). A record
is decoded whole only when it is served (:meth:`RawRecord.decode`). Natively sorted pages
(Capella, Satellogic, ICEYE) are kept the same way, as :class:`LazyItems`: a page of 1,000
records of which a result page usually reads a few hundred.

Types follow the adapter's tolerance: the fields struct ignores unknown members, and a
body of another shape raises :class:`~bridge.errors.ProviderBadResponse`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import msgspec
import orjson

from bridge.errors import ProviderBadResponse

F = TypeVar("F")
R = TypeVar("R")
Item = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RawRecord(Generic[F]):
    """One native record: the fields a search reads, and its JSON text."""

    fields: F
    raw: msgspec.Raw

    def decode(self) -> Any:
        """The whole record as plain JSON values (only for a record that is served)."""
        return orjson.loads(memoryview(self.raw))


@dataclass(frozen=True, slots=True)
class Answer(Generic[F]):
    """A decoded answer: its records (None when the member is absent or null) and the
    envelope members asked for as ``extras``."""

    records: list[RawRecord[F]] | None
    extras: dict[str, Any]


class RecordsDecoder(Generic[F]):
    """Reads answers whose records are a JSON array, bare or under one envelope member.

    ``fields`` is the struct of what is read from every record (None: nothing, each
    record is only kept as text); ``member`` the envelope member holding the array (None:
    the body is the array); ``extras`` other envelope members returned as they are
    (errors, counts, links...).
    """

    def __init__(
        self,
        provider: str,
        fields: type[F] | None,
        member: str | None = None,
        extras: Sequence[str] = (),
    ) -> None:
        self.provider = provider
        self.member = member
        self.extras = tuple(extras)
        self._fields: msgspec.json.Decoder[Any] | None = None
        if member is None:
            self._raw: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[msgspec.Raw])
            if fields is not None:
                self._fields = msgspec.json.Decoder(list[fields])  # type: ignore[valid-type]
        else:
            optional = [(name, Any, None) for name in self.extras]
            raw_env = msgspec.defstruct(
                "RawEnvelope", [(member, list[msgspec.Raw] | None, None), *optional]
            )
            self._raw = msgspec.json.Decoder(raw_env)
            if fields is not None:
                fields_env = msgspec.defstruct(
                    "FieldsEnvelope",
                    [(member, list[fields] | None, None)],  # type: ignore[valid-type]
                )
                self._fields = msgspec.json.Decoder(fields_env)

    def decode(self, body: bytes) -> Answer[F]:
        """Both reads of ``body``.

        Raises:
            ProviderBadResponse: ``body`` is not JSON of the expected shape.
        """
        try:
            raw_answer = self._raw.decode(body)
            if self.member is None:
                raws, extras = raw_answer, {}
            else:
                raws = getattr(raw_answer, self.member)
                extras = {name: getattr(raw_answer, name) for name in self.extras}
            if raws is None:
                return Answer(None, extras)
            if self._fields is None:
                return Answer([RawRecord(None, r) for r in raws], extras)  # type: ignore[arg-type]
            fields_answer = self._fields.decode(body)
        except msgspec.DecodeError as exc:
            raise ProviderBadResponse(self.provider, f"unreadable search answer: {exc}") from exc
        fields = fields_answer if self.member is None else getattr(fields_answer, self.member)
        return Answer([RawRecord(f, r) for f, r in zip(fields, raws, strict=True)], extras)


class LazyItems(Sequence[Item]):
    """A native page's items, each mapped from its record on first access, once.

    The federation reads a page's items in order and stops where the result page is full:
    the records after that point are neither decoded nor mapped unless a later request,
    resuming in the cached page, reaches them. A record that cannot be mapped raises
    (the adapter's error) when it is reached: nothing is dropped quietly.
    """

    __slots__ = ("_items", "_map", "_records")

    def __init__(self, records: Sequence[R], map_one: Callable[[R], Item]) -> None:
        self._records: Sequence[Any] = records
        self._map: Callable[[Any], Item] = map_one
        self._items: list[Item | None] = [None] * len(records)

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._items[index]
        if item is None:
            item = self._items[index] = self._map(self._records[index])
        return item

    def __iter__(self) -> Iterator[Item]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        mapped = sum(item is not None for item in self._items)
        return f"LazyItems({len(self)} records, {mapped} mapped)"
