"""What a provider adapter is built from: :class:`ProviderContext` (settings, collections,
an HTTP client that is capped, measured and logged). The interface an adapter implements
is :mod:`bridge.core.contract`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx

from bridge.core.contract import CollectionDoc
from bridge.providers.transport import ProviderTransport
from bridge.settings import ProviderSettings


@cache
def tls_context() -> ssl.SSLContext:
    """The one TLS context of every provider client: each context loads the CA bundle
    again (~30 ms), and a sandbox start built a dozen identical ones."""
    return httpx.create_ssl_context()


@dataclass
class ProviderContext:
    """Everything an adapter is built from; no global lookups."""

    name: str
    settings: ProviderSettings
    collections: Mapping[str, CollectionDoc]
    """This provider's STAC Collection documents, by collection id."""
    transport: httpx.AsyncBaseTransport | None = None
    """Injected transport (in-process simulators, fault tests); None means the network."""
    extra: dict[str, Any] = field(default_factory=dict)

    def http_client(self, base_url: str, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on ``base_url`` using the injected transport, capped,
        measured and logged (:class:`~bridge.providers.transport.ProviderTransport`)."""
        timeout = httpx.Timeout(self.settings.timeout_s)
        transport = ProviderTransport(
            self.name,
            self.transport or httpx.AsyncHTTPTransport(verify=tls_context()),
            self.settings.max_concurrency,
        )
        return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout, **kwargs)
