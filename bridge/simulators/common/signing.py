"""Minting and checking the simulators' expiring download URLs.

Two styles, as the providers hand them out:

* **S3 query-string auth (signature V2)** — Capella's and ICEYE's presigned hrefs:
  ``?AWSAccessKeyId=..&Expires=<unix s>&Signature=<base64 HMAC>``, the HMAC taken over
  ``METHOD\\n\\n\\n<Expires>\\n<path>`` (S3's string-to-sign with empty Content-MD5 and
  Content-Type; the path stands in for S3's ``/bucket/key`` resource).
* **Opaque tokens** — Satellogic Telluric's ``?token=...``: base64url of expiry, a random
  nonce (so every minting gives a new URL, as Telluric does) and an HMAC. Telluric's real
  token format and error bodies are unconfirmed; this is one place to change them.

Checks return a :class:`Denial` (S3 error code, message, extra XML fields) or None.
"""

from __future__ import annotations

import base64
import hmac
import os
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, urlencode

Algorithm = Literal["sha1", "sha256"]

DEFAULT_ACCESS_KEY_ID = "SIMULATORACCESSKEY01"
_PRESIGN_PARAMS = ("AWSAccessKeyId", "Expires", "Signature")
_MAC_BYTES = 16  # token MACs are truncated: 128 bits is ample for a simulator
_TOKEN = struct.Struct(">Q8s16s")  # expires, nonce, mac


@dataclass(frozen=True)
class Denial:
    """Why a request was refused, as S3 would say it (HTTP 403 unless ``status`` says)."""

    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    status: int = 403


def object_path(prefix: str, key: str) -> str:
    """The URL path of ``key`` under ``prefix``, percent-encoded (slashes kept)."""
    return f"{prefix.rstrip('/')}/{quote(key, safe='/')}"


def string_to_sign(method: str, expires: int, path: str) -> str:
    """S3 signature V2's string-to-sign for a query-string-authenticated request."""
    return f"{method.upper()}\n\n\n{expires}\n{path}"


def _mac(secret: str, message: str, algorithm: Algorithm) -> bytes:
    return hmac.new(secret.encode(), message.encode(), algorithm).digest()


def presign_signature(
    secret: str, method: str, expires: int, path: str, algorithm: Algorithm = "sha1"
) -> str:
    """The base64 ``Signature`` value (S3 V2 uses HMAC-SHA1)."""
    return base64.b64encode(_mac(secret, string_to_sign(method, expires, path), algorithm)).decode()


def sign_url(
    base_url: str,
    key: str,
    expires_in_s: float,
    *,
    secret: str,
    now: float,
    prefix: str = "/storage",
    access_key_id: str = DEFAULT_ACCESS_KEY_ID,
    method: str = "GET",
    algorithm: Algorithm = "sha1",
) -> str:
    """A presigned URL for ``key``, valid ``expires_in_s`` seconds after ``now`` (unix s)."""
    path = object_path(prefix, key)
    expires = int(now + expires_in_s)
    query = urlencode(
        {
            "AWSAccessKeyId": access_key_id,
            "Expires": str(expires),
            "Signature": presign_signature(secret, method, expires, path, algorithm),
        },
        quote_via=quote,  # base64's "+" must reach the server as %2B, not a space
    )
    return f"{base_url.rstrip('/')}{path}?{query}"


def _token_mac(secret: str, path: str, expires: int, nonce: bytes) -> bytes:
    message = f"token\n{expires}\n{nonce.hex()}\n{path}"
    return _mac(secret, message, "sha256")[:_MAC_BYTES]


def mint_token(secret: str, path: str, expires: int) -> str:
    """An opaque token for ``path`` valid until ``expires`` (unix s); new on every call."""
    nonce = os.urandom(8)
    raw = _TOKEN.pack(expires, nonce, _token_mac(secret, path, expires, nonce))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_url(
    base_url: str,
    key: str,
    expires_in_s: float,
    *,
    secret: str,
    now: float,
    prefix: str = "/storage",
) -> str:
    """A Telluric-style tokenized URL for ``key``, valid ``expires_in_s`` after ``now``."""
    path = object_path(prefix, key)
    token = mint_token(secret, path, int(now + expires_in_s))
    return f"{base_url.rstrip('/')}{path}?token={token}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expired(expires: int, now: float) -> Denial | None:
    if now <= expires:
        return None
    return Denial(
        "AccessDenied",
        "Request has expired",
        {"Expires": _iso(expires), "ServerTime": _iso(now)},
    )


def check_token(token: str, secret: str, path: str, now: float) -> Denial | None:
    """None when ``token`` was minted for ``path`` and has not expired."""
    try:
        padded = token + "=" * (-len(token) % 4)
        expires, nonce, mac = _TOKEN.unpack(base64.urlsafe_b64decode(padded))
    except (ValueError, struct.error):
        return Denial("AccessDenied", "Invalid token")
    if not hmac.compare_digest(mac, _token_mac(secret, path, expires, nonce)):
        return Denial("AccessDenied", "Invalid token")
    return _expired(expires, now)


def check_presigned(
    params: dict[str, str],
    *,
    method: str,
    path: str,
    secret: str,
    access_key_id: str,
    now: float,
    algorithm: Algorithm = "sha1",
) -> Denial | None:
    """None when ``params`` carry a valid, unexpired S3 V2 signature for ``method path``.

    Checked in S3's order: parameters present, known access key, signature, expiry —
    so "Request has expired" only ever describes a genuine URL. A HEAD is also accepted
    with a GET signature (S3 would refuse it): clients probe a GET-signed href with HEAD
    to learn its size, and refusing them would only test the client's fallback.
    """
    if not params.keys() & set(_PRESIGN_PARAMS):
        return Denial("AccessDenied", "Access Denied")
    if not all(params.get(p) for p in _PRESIGN_PARAMS):
        return Denial(
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and "
            "AWSAccessKeyId parameters",
        )
    provided_key, provided = params["AWSAccessKeyId"], params["Signature"]
    if provided_key != access_key_id:
        return Denial(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            {"AWSAccessKeyId": provided_key},
        )
    try:
        expires = int(params["Expires"])
    except ValueError:
        return Denial("AccessDenied", "Invalid date (should be seconds since epoch)")
    methods = (method, "GET") if method == "HEAD" else (method,)
    for signed_method in methods:
        expected = presign_signature(secret, signed_method, expires, path, algorithm)
        if hmac.compare_digest(expected.encode(), provided.encode()):
            return _expired(expires, now)
    return Denial(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        {
            "AWSAccessKeyId": provided_key,
            "StringToSign": string_to_sign(method, expires, path),
            "SignatureProvided": provided,
        },
    )
