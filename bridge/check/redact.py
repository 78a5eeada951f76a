"""``--record``: the native exchanges of a check as JSON files, with every secret and
every signature taken out, as material for golden tests.

Layout: ``DIR/<provider>/<NN>-<step>-<METHOD>-<path>.json``, one file per exchange in the
order they happened (``NN`` from 01), e.g. ``capella/02-search-POST-catalog-search.json``::

    {"provider": "capella", "step": "search",
     "request": {"method": "POST", "url": "http://host/catalog/search", "body": {...}},
     "response": {"status": 200, "content_type": "application/geo+json",
                  "bytes": 5120, "body": {...}}}

``response.body`` is the decoded JSON (null for images and other non-JSON answers).
Redaction, applied to URLs, request and response bodies alike: values under secret-like
keys (``access_token``, ``client_secret``, ``api_key``, ``token``, ...) become
``"[redacted]"`` and so does every other occurrence of such a value or of a configured
credential; every URL loses its query string and fragment (signed URLs carry their
signatures there: ``AWSAccessKeyId``, ``Expires``, ``Signature``, tokens) and a path
segment after ``/token/``; JWT-looking strings are replaced. Request headers are never
recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from bridge.check.recording import Record

REDACTED = "[redacted]"
SECRET_KEYS = re.compile(
    r"(?i)^(access_?token|refresh_?token|id_?token|token|client_?(id|secret)|api_?key|"
    r"api_?secret|secret|password|authorization(token)?|signature|credentials?|x-amz-.*)$"
)
_URL = re.compile(r"https?://[^\s\"'<>]+")
_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
_PATH_TOKEN = re.compile(r"(/token/)[^/?#]+")


def collect_secrets(records: Iterable[Record], configured: Iterable[str | None]) -> set[str]:
    """Every secret value to scrub: the configured credentials and whatever the native
    answers and requests carried under secret-like keys (e.g. issued tokens)."""
    found = {s for s in configured if s and len(s) >= 4}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if SECRET_KEYS.match(str(key)) and isinstance(item, str) and len(item) >= 4:
                    found.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for record in records:
        walk(record.body)
        walk(record.request_body)
    return found


def redact_url(url: str) -> str:
    """``url`` without query string, fragment, user info or a ``/token/<value>`` segment."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    path = _PATH_TOKEN.sub(rf"\g<1>{REDACTED}", parts.path)
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def redact_text(text: str, secrets: set[str]) -> str:
    """``text`` with URLs stripped of their signatures and known secrets replaced."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _JWT.sub(REDACTED, text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact(value: Any, secrets: set[str]) -> Any:
    """A copy of a decoded JSON value with every secret and signature removed."""
    if isinstance(value, dict):
        return {
            k: REDACTED if SECRET_KEYS.match(str(k)) else redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def _slug(url: str) -> str:
    segments = [s for s in urlsplit(url).path.split("/") if s][-3:]
    slug = "-".join(re.sub(r"[^\w.]+", "_", s)[:40] for s in segments)
    return slug or "root"


def write_records(
    directory: Path, provider: str, records: list[Record], configured: Iterable[str | None]
) -> list[Path]:
    """Write ``records`` of ``provider`` under ``directory/provider`` (layout above)."""
    secrets = collect_secrets(records, configured)
    folder = directory / provider
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n, record in enumerate(records, start=1):
        doc = {
            "provider": provider,
            "step": record.step,
            "request": {
                "method": record.method,
                "url": redact_url(record.url),
                "body": redact(record.request_body, secrets),
            },
            "response": {
                "status": record.status,
                "content_type": record.content_type,
                "bytes": record.size,
                "body": redact(record.body, secrets),
            },
        }
        slug = redact_text(_slug(redact_url(record.url)), secrets).replace(REDACTED, "redacted")
        path = folder / f"{n:02d}-{record.step}-{record.method}-{slug}.json"
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        written.append(path)
    return written
