"""Keep a process offline: loopback traffic passes, every other URL is served from the
schema mirror (``conformance.schemas``) or refused loudly.

stac-api-validator and the libraries under it fetch by URL through three HTTP stacks:

- ``requests`` (stac-validator's schema fetches, stac-check, pystac-client) and pystac's
  ``StacIO`` (its extension schemas) both go through ``urllib3``: intercepted at
  ``HTTPConnectionPool.urlopen``;
- ``urllib.request.urlopen`` (stac-validator's link and asset checker): intercepted by a
  handler in a globally installed opener.

A non-loopback URL whose file exists in the mirror is answered from it (200, JSON). One
without a file is refused with an error naming the URL and the expected path, and is
recorded: a miss on the urllib3 path (where schemas are fetched) is a *schema miss* that
fails the conformance check; a miss on the urllib path is a link or asset href the
link checker could not open offline, which stac-validator only reports, so it is listed
as a note. As a last guard, ``socket.connect`` refuses any non-loopback address.
"""

from __future__ import annotations

import email.message
import io
import socket
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import urllib3
import urllib3.connectionpool
import urllib3.exceptions

from conformance.schemas import MissingSchema, read_schema_bytes

LOOPBACK_NAMES = ("localhost", "::1", "[::1]")


def is_loopback(host: str | None) -> bool:
    host = (host or "").strip("[]")
    return host.startswith("127.") or host in LOOPBACK_NAMES


@dataclass
class OfflineLog:
    """What was answered from the mirror and what had no local file."""

    served: set[str] = field(default_factory=set)
    schema_misses: dict[str, str] = field(default_factory=dict)
    link_misses: dict[str, str] = field(default_factory=dict)
    refused_sockets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "served": sorted(self.served),
            "schema_misses": self.schema_misses,
            "link_misses": self.link_misses,
            "refused_sockets": self.refused_sockets,
        }


class OfflineRefused(urllib3.exceptions.ProtocolError):
    """A non-loopback URL with no file in the offline mirror."""


def _local(url: str, log: OfflineLog, misses: dict[str, str]) -> bytes:
    try:
        data = read_schema_bytes(url)
    except MissingSchema as exc:
        misses[url] = str(exc)
        raise
    log.served.add(url)
    return data


def _urllib3_patch(log: OfflineLog) -> Any:
    real = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def urlopen(
        pool: urllib3.connectionpool.HTTPConnectionPool, method: str, url: str, *a: Any, **kw: Any
    ) -> Any:
        if is_loopback(pool.host):
            return real(pool, method, url, *a, **kw)
        full = url if "://" in url else f"{pool.scheme}://{pool.host}{url}"
        try:
            data = _local(full, log, log.schema_misses)
        except MissingSchema as exc:
            raise OfflineRefused(f"offline: {exc}") from exc
        return urllib3.HTTPResponse(
            body=io.BytesIO(data),
            headers={"Content-Type": "application/json", "Content-Length": str(len(data))},
            status=200,
            reason="OK (offline mirror)",
            preload_content=kw.get("preload_content", True),
            decode_content=kw.get("decode_content", True),
            request_method=method,
            request_url=full,
        )

    return real, urlopen


class _OfflineHandler(urllib.request.BaseHandler):
    handler_order = 100  # before the default HTTP(S) handlers (500)

    def __init__(self, log: OfflineLog) -> None:
        self.log = log

    def _open(self, req: urllib.request.Request) -> Any:
        if is_loopback(urlsplit(req.full_url).hostname):
            return None  # the default handler fetches it
        try:
            data = _local(req.full_url, self.log, self.log.link_misses)
        except MissingSchema as exc:
            raise urllib.error.URLError(f"offline: {exc}") from exc
        headers = email.message.Message()
        headers["Content-Type"] = "application/json"
        return urllib.response.addinfourl(io.BytesIO(data), headers, req.full_url, 200)

    http_open = _open
    https_open = _open


@contextmanager
def offline(log: OfflineLog | None = None) -> Iterator[OfflineLog]:
    """Within the block, only loopback is reached; other URLs come from the schema mirror."""
    log = log or OfflineLog()
    real_urlopen, patched_urlopen = _urllib3_patch(log)
    real_connect = socket.socket.connect
    previous_opener = urllib.request._opener  # type: ignore[attr-defined]

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family != socket.AF_UNIX and not is_loopback(str(host)):
            log.refused_sockets.append(repr(address))
            raise ConnectionRefusedError(f"offline: refused to connect to {address!r}")
        return real_connect(sock, address)

    urllib3.connectionpool.HTTPConnectionPool.urlopen = patched_urlopen  # type: ignore[method-assign]
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    urllib.request.install_opener(urllib.request.build_opener(_OfflineHandler(log)))
    try:
        yield log
    finally:
        urllib3.connectionpool.HTTPConnectionPool.urlopen = real_urlopen  # type: ignore[method-assign]
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        urllib.request._opener = previous_opener  # type: ignore[attr-defined]
