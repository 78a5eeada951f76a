"""Opaque, signed paging tokens.

A token carries each provider's position in its own sorted stream and a fingerprint of
the search it belongs to. It is HMAC-signed, so a tampered token, or one minted for a
different search or by a different deployment, is a 400 rather than a wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

from bridge.errors import BadRequest

_SIG_BYTES = 16


class TokenSigner:
    """Encodes and verifies paging tokens with one secret key."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def rekey(self, secret: bytes) -> None:
        """Sign with ``secret`` from now on (the deployment's shared key, once known)."""
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def encode(self, state: dict[str, Any]) -> str:
        """Serialize and sign ``state`` as URL-safe text."""
        payload = orjson.dumps(state)
        raw = self._sign(payload) + payload
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, token: str) -> dict[str, Any]:
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
        if not isinstance(state, dict):
            raise BadRequest("invalid paging token")
        return state
