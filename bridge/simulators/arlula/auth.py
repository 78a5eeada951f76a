"""HTTP Basic ``key:secret`` on every request, and the API version header.

Error bodies: the SDKs treat every non-200 body as text (``ArlulaAPIException`` prints
``f"{status}: {response.text}"``), so refusals are plain text; their wording is assumed.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

DEMO_KEY = "arlula-demo-key"
DEMO_SECRET = "arlula-demo-secret"  # the published demo credential

# Every server version the SDKs were released against (node SDK CHANGELOG.md: 2020-12,
# 2021-09, 2022-07, 2022-09, 2023-01, 2024-07). Node SDK 3.x sends no X-API-Version header at
# all (src/util/request.ts names the version only inside X-User-Agent), so none is accepted.
API_VERSIONS = ("2020-12", "2021-09", "2022-07", "2022-09", "2023-01", "2024-07")
UNAUTHORIZED_TEXT = "Unauthorized"  # assumed body of a 401
_WWW_AUTH = {"WWW-Authenticate": 'Basic realm="Arlula API"'}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The ``(key, secret)`` of the request's Basic authorization header, if well formed."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        key, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if sep else None


def authorized(request: Request) -> bool:
    """True when the request carries the simulator's credentials."""
    found = basic_credentials(request)
    creds = request.app.state.credentials
    return found is not None and hmac.compare_digest(
        f"{found[0]}:{found[1]}", f"{creds[0]}:{creds[1]}"
    )


def refusal(request: Request) -> Response | None:
    """The response refusing ``request`` (auth, API version), or None to serve it."""
    if not authorized(request):
        return PlainTextResponse(UNAUTHORIZED_TEXT, status_code=401, headers=_WWW_AUTH)
    version = request.headers.get("x-api-version")
    if version is not None and version not in API_VERSIONS:
        return PlainTextResponse(f"unsupported API version {version!r}", status_code=400)
    return None


def account_key(request: Request) -> str:
    """The API key of an authorized request: orders are kept per account."""
    found = basic_credentials(request)
    assert found is not None, "call refusal() first"
    return found[0]
