"""ICEYE error bodies → the provider's own words, and native failures → bridge errors.

The adapter asks for the problem details format (``Accept: application/json,
application/problem+json``, as ICEYE docs "error handling" recommend), whose body is
``{title, code, details, reference}``. The default format is not documented beyond "a
message" (app-examples ``errors.py`` reads ``message`` or ``detail``), so every one of
these fields is read when present. The text is shortened and never the whole body.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import orjson

from bridge.errors import ProviderAuthError, ProviderError, ProviderRateLimited
from bridge.providers.http import check_response

NAME = "iceye"
ACCEPT = "application/json, application/problem+json"
MAX_TEXT = 200
# Contracts without a pricing plan cannot query prices (ICEYE docs "pricing model");
# ICEYE's own catalog explorer recognises the refusal by these words (app-examples
# ``ItemDetail.jsx``), whatever the status.
PRICE_UNAVAILABLE_MARKERS = (
    "no pricing plan",
    "not allowed to query price",
    "out_of_bound_contract",
    "invalid contract",
)


@dataclass(frozen=True)
class Problem:
    """What an ICEYE error response says."""

    code: str | None
    text: str
    """Title and details (or message), shortened; empty when the body says nothing."""

    def suffix(self) -> str:
        """``": <code>: <text>"`` for appending to a bridge message, or empty."""
        said = ": ".join(p for p in (self.code, self.text) if p)
        return f": {said}" if said else ""

    def means_price_unavailable(self) -> bool:
        """True when the refusal says the contract cannot be priced."""
        words = f"{self.code or ''} {self.text}".casefold()
        return any(marker in words for marker in PRICE_UNAVAILABLE_MARKERS)


def problem_of(response: httpx.Response) -> Problem:
    """The code and text of an ICEYE error response (problem details or default format)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return Problem(None, "")
    if not isinstance(body, dict):
        return Problem(None, "")
    texts = [body.get(f) for f in ("title", "details", "detail", "message")]
    text = " - ".join(dict.fromkeys(t.strip() for t in texts if isinstance(t, str) and t.strip()))
    code = body.get("code")
    return Problem(str(code)[:64] if isinstance(code, (str, int)) else None, text[:MAX_TEXT])


def raise_for_status(response: httpx.Response) -> None:
    """Raise the bridge error of a failed catalog response, with ICEYE's own words."""
    try:
        check_response(NAME, response)
    except (ProviderAuthError, ProviderRateLimited, ProviderError) as exc:
        said = problem_of(response).suffix()
        detail = {k: v for k, v in exc.detail.items() if k != "provider"}
        description = exc.description.removeprefix(f"{NAME}: ")
        raise type(exc)(NAME, f"{description}{said}", **detail) from None
