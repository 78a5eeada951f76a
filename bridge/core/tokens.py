"""Opaque, signed paging tokens and the paging state they carry.

A token carries a :class:`PagingState`: each provider's position in its own sorted
stream and a fingerprint of the search it belongs to. It is HMAC-signed, so a tampered
token, or one minted for a different search or by a different deployment, is a 400
rather than a wrong page. The state's layout lives here only: the federation core reads
and writes :class:`PagingState`, the API passes the token's text along.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import orjson

from bridge.errors import BadRequest

_SIG_BYTES = 16


@dataclass(frozen=True)
class PagingState:
    """Where a federated search stopped, so its next page resumes there.

    Attributes:
        fingerprint: the digest of the search (all but ``limit``) the state belongs to.
        positions: per provider still to read, ``[cursor, index]``: the cursor of the
            native page holding its next unread item and that item's index in the page.
        matched: per provider, how many items match (None: the provider does not say).
        failed: providers that failed on an earlier page, with why (not asked again).
    """

    fingerprint: str
    positions: dict[str, list[Any]] = field(default_factory=dict)
    matched: dict[str, int | None] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The compact form a token carries."""
        return {"f": self.fingerprint, "p": self.positions, "m": self.matched, "x": self.failed}

    @classmethod
    def from_json(cls, doc: Any) -> PagingState:
        """Read the compact form back.

        Raises:
            BadRequest: not a paging state's shape.
        """
        if not isinstance(doc, dict) or not isinstance(doc.get("f"), str):
            raise BadRequest("invalid paging token")
        parts = [doc.get("p", {}), doc.get("m", {}), doc.get("x", {})]
        if not all(isinstance(part, dict) for part in parts):
            raise BadRequest("invalid paging token")
        positions, matched, failed = parts
        if not all(isinstance(pos, list) and len(pos) == 2 for pos in positions.values()):
            raise BadRequest("invalid paging token")
        return cls(doc["f"], positions, matched, failed)

    def check(self, fingerprint: str) -> None:
        """Raise unless the state belongs to the search whose fingerprint is given.

        Raises:
            BadRequest: the token was minted for a different search.
        """
        if self.fingerprint != fingerprint:
            raise BadRequest("invalid paging token: it belongs to a different search")


class TokenSigner:
    """Encodes and verifies paging tokens with one secret key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def rekey(self, secret: bytes) -> None:
        """Sign with ``secret`` from now on (the deployment's shared key, once known)."""
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def encode(self, state: PagingState) -> str:
        """Serialize and sign ``state`` as URL-safe text."""
        payload = orjson.dumps(state.to_json())
        raw = self._sign(payload) + payload
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, token: str) -> PagingState:
        """Verify and deserialize a token.

        Raises:
            BadRequest: malformed, tampered or foreign token.
        """
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError) as exc:
            raise BadRequest("invalid paging token") from exc
        sig, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
        if len(sig) != _SIG_BYTES or not hmac.compare_digest(sig, self._sign(payload)):
            raise BadRequest("invalid paging token: signature does not match")
        try:
            state = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:  # pragma: no cover - signed payloads are ours
            raise BadRequest("invalid paging token") from exc
        return PagingState.from_json(state)
