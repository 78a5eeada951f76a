"""Simulated object storage: blobs behind expiring signed URLs, served like S3.

A simulator keeps one :class:`ObjectStore`, registers objects (bytes, or factories that
make them on demand, such as ``functools.partial(cog_bytes, grid, spec, seed)``) under
keys, mints URLs with :meth:`ObjectStore.sign_url` (S3 V2 presigned) or
:meth:`ObjectStore.token_url` (Telluric-style token), and mounts
:meth:`ObjectStore.routes`. The routes check the URL as S3 does, then answer GET and HEAD
with ``Range`` support (206, 416), ``ETag``, ``Content-Type`` and, when a filename is
set, ``Content-Disposition`` — what GDAL ``/vsicurl/`` and the providers' SDKs rely on.

Requests are counted by the simulator's ``RequestStats`` (through its middleware) like any
route; per-object downloads and bytes are counted here, in :meth:`ObjectStore.snapshot`.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.simulators.common import signing
from bridge.simulators.common.signing import DEFAULT_ACCESS_KEY_ID, Algorithm, Denial

Clock = Callable[[], float]
Source = bytes | Callable[[], bytes]

# One range only: S3 ignores multi-range requests (answers 200 with the whole object).
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass
class StoredObject:
    """An object's content (bytes, or a deterministic factory) and how it is served."""

    source: Source
    media_type: str = "application/octet-stream"
    filename: str | None = None
    """Sent as ``Content-Disposition: attachment; filename="..."`` when set."""
    last_modified: float = field(default_factory=time.time)
    _etag: str | None = field(default=None, repr=False)

    async def load(self) -> bytes:
        """The content; factories run in a worker thread (generation is CPU-bound)."""
        if isinstance(self.source, bytes):
            return self.source
        return await run_in_threadpool(self.source)

    def etag(self, data: bytes) -> str:
        """S3's ETag for a single-part upload: the quoted MD5 of the content."""
        if self._etag is None:
            self._etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
        return self._etag


def content_disposition(filename: str) -> str:
    """``attachment; filename="..."``, quoted and escaped (RFC 6266).

    Non-ASCII names get an ASCII fallback plus ``filename*`` (RFC 5987), since the plain
    parameter cannot carry them.
    """
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    quoted = fallback.replace("\\", "\\\\").replace('"', '\\"')
    value = f'attachment; filename="{quoted}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


class RangeNotSatisfiable(Exception):
    """The Range header asks for bytes the object does not have (HTTP 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte range ``header`` asks of a ``size``-byte object.

    None means "send it all": no header, or one that is not a single valid byte range
    (HTTP says to ignore those). ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` are
    understood; raises :class:`RangeNotSatisfiable` when no requested byte exists.
    """
    match = _RANGE.match(header or "")
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(int(last_text), size - 1) if last_text else size - 1


def s3_error(
    denial: Denial, *, head: bool = False, headers: dict[str, str] | None = None
) -> Response:
    """An S3-style XML error response (no body for HEAD, as S3 does)."""
    request_id = uuid.uuid4().hex[:16].upper()
    extra = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in denial.fields.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{denial.code}</Code><Message>{escape(denial.message)}</Message>"
        f"{extra}<RequestId>{request_id}</RequestId></Error>"
    )
    all_headers = {"x-amz-request-id": request_id, **(headers or {})}
    if head:
        return Response(b"", denial.status, headers=all_headers, media_type="application/xml")
    return Response(body, denial.status, headers=all_headers, media_type="application/xml")


class ObjectStore:
    """Objects by key, served under ``prefix`` through presigned or tokenized URLs.

    ``secret`` signs URLs (one per simulator); ``clock`` (unix seconds) is injectable so
    tests can move time past an expiry. ``resolver`` may supply objects for keys never
    registered, so a simulator can derive every asset of a large archive from its key.
    """

    def __init__(
        self,
        secret: str,
        *,
        prefix: str = "/storage",
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        algorithm: Algorithm = "sha1",
        clock: Clock = time.time,
        resolver: Callable[[str], StoredObject | None] | None = None,
    ) -> None:
        self.secret = secret
        self.prefix = "/" + prefix.strip("/")
        self.access_key_id = access_key_id
        self.algorithm: Algorithm = algorithm
        self.clock = clock
        self.resolver = resolver
        self._objects: dict[str, StoredObject] = {}
        self.downloads: Counter[str] = Counter()
        self.bytes_served = 0
        self.denied: Counter[str] = Counter()

    def put(
        self,
        key: str,
        source: Source,
        media_type: str = "application/octet-stream",
        filename: str | None = None,
    ) -> StoredObject:
        """Register (or replace) the object at ``key``."""
        stored = StoredObject(source, media_type, filename, self.clock())
        self._objects[key] = stored
        return stored

    def delete(self, key: str) -> None:
        """Forget ``key`` (later requests get 404 NoSuchKey)."""
        self._objects.pop(key, None)

    def get(self, key: str) -> StoredObject | None:
        """The object at ``key``: registered, else from the resolver, else None."""
        found = self._objects.get(key)
        if found is None and self.resolver is not None:
            found = self.resolver(key)
        return found

    def path(self, key: str) -> str:
        """The URL path (percent-encoded) the object is served at."""
        return signing.object_path(self.prefix, key)

    def sign_url(
        self, base_url: str, key: str, expires_in_s: float = 3600.0, method: str = "GET"
    ) -> str:
        """An S3 V2 presigned URL for ``key`` on the simulator at ``base_url``."""
        return signing.sign_url(
            base_url,
            key,
            expires_in_s,
            secret=self.secret,
            now=self.clock(),
            prefix=self.prefix,
            access_key_id=self.access_key_id,
            method=method,
            algorithm=self.algorithm,
        )

    def token_url(self, base_url: str, key: str, expires_in_s: float = 3600.0) -> str:
        """A Telluric-style ``?token=`` URL for ``key``; a new token on every call."""
        return signing.token_url(
            base_url, key, expires_in_s, secret=self.secret, now=self.clock(), prefix=self.prefix
        )

    def _authorize(self, request: Request, key: str) -> Denial | None:
        params = dict(request.query_params)
        path = self.path(key)
        if "token" in params:
            return signing.check_token(params["token"], self.secret, path, self.clock())
        return signing.check_presigned(
            params,
            method=request.method,
            path=path,
            secret=self.secret,
            access_key_id=self.access_key_id,
            now=self.clock(),
            algorithm=self.algorithm,
        )

    async def serve(self, request: Request) -> Response:
        """``GET|HEAD <prefix>/{key}``: the object, or the part of it ``Range`` asks for."""
        key: str = request.path_params["key"]
        head = request.method == "HEAD"
        denial = self._authorize(request, key)
        stored = self.get(key) if denial is None else None
        if stored is None:
            # Authorization first, as S3 does: an unsigned probe learns nothing of keys.
            denial = denial or Denial(
                "NoSuchKey", "The specified key does not exist.", {"Key": key}, 404
            )
            self.denied[denial.code] += 1
            return s3_error(denial, head=head)
        data = await stored.load()
        size = len(data)
        headers = {
            "accept-ranges": "bytes",
            "etag": stored.etag(data),
            "last-modified": formatdate(stored.last_modified, usegmt=True),
        }
        if stored.filename:
            headers["content-disposition"] = content_disposition(stored.filename)
        try:
            wanted = byte_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            requested = request.headers.get("range", "")
            denial = Denial(
                "InvalidRange",
                "The requested range is not satisfiable",
                {"RangeRequested": requested, "ActualObjectSize": str(size)},
                416,
            )
            return s3_error(denial, head=head, headers={"content-range": f"bytes */{size}"})
        status, first, last = 200, 0, size - 1
        if wanted is not None:
            status, (first, last) = 206, wanted
            headers["content-range"] = f"bytes {first}-{last}/{size}"
        body = data[first : last + 1]
        if head:
            # Starlette would count the empty body; HEAD must announce the real length.
            headers["content-length"] = str(len(body))
            return Response(b"", status, headers=headers, media_type=stored.media_type)
        self.downloads[key] += 1
        self.bytes_served += len(body)
        return Response(body, status, headers=headers, media_type=stored.media_type)

    def routes(self) -> list[Route]:
        """The routes to add to a simulator app: ``GET|HEAD <prefix>/{key:path}``."""
        return [Route(f"{self.prefix}/{{key:path}}", self.serve, methods=["GET", "HEAD"])]

    def snapshot(self) -> dict[str, Any]:
        """Download counters as JSON: requests per key, bytes served, refusals by code."""
        return {
            "objects": len(self._objects),
            "downloads": dict(self.downloads),
            "bytes_served": self.bytes_served,
            "denied": dict(self.denied),
        }
