"""One set of ICEYE credentials on one HTTP client: the OAuth2 client-credentials token
(cached, renewed on a 401), and every native exchange bounded by the adapter deadline."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bridge.errors import ProviderAuthError, ProviderBadResponse
from bridge.providers.http import check_response, decode_json, exchange
from bridge.providers.iceye.problems import ACCEPT
from bridge.providers.oauth import TokenCache
from bridge.settings import ProviderSettings

NAME = "iceye"


class IceyeSession:
    """Authorized, deadline-bounded requests to the ICEYE API."""

    def __init__(self, client: httpx.AsyncClient, settings: ProviderSettings) -> None:
        self._client = client
        self._settings = settings
        self._tokens = TokenCache(NAME, self._fetch_token)

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` within the deadline, the whole exchange (see ``exchange``)."""
        return await exchange(NAME, self._client, request, self._settings.timeout_s)

    async def _fetch_token(self) -> dict[str, Any]:
        """A new token from the token endpoint (HTTP Basic client credentials)."""
        s = self._settings
        if not (s.client_id and s.client_secret and s.auth_url):
            raise ProviderAuthError(NAME, "client_id, client_secret and auth_url are required")
        pair = f"{s.client_id}:{s.client_secret.get_secret_value()}".encode()
        request = self._client.build_request(
            "POST",
            s.auth_url,
            content=b"grant_type=client_credentials",
            headers={
                "Authorization": "Basic " + base64.b64encode(pair).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        response = await self.send(request)
        if response.status_code in (400, 401):
            # RFC 6749 answers 400/401 for refused client credentials or grant.
            status = response.status_code
            raise ProviderAuthError(NAME, f"token endpoint refused the client ({status})")
        check_response(NAME, response)
        body = decode_json(NAME, response)
        if not isinstance(body, dict):
            raise ProviderBadResponse(NAME, "token response is not a JSON object")
        return body

    async def authorized(self, build: Callable[[dict[str, str]], httpx.Request]) -> httpx.Response:
        """Send an API request with a bearer token; on 401 renew the token and retry once."""
        token = await self._tokens.get()
        response = await self.send(build({"Authorization": f"Bearer {token}", "Accept": ACCEPT}))
        if response.status_code == 401:
            self._tokens.invalidate(token)
            token = await self._tokens.get()
            response = await self.send(
                build({"Authorization": f"Bearer {token}", "Accept": ACCEPT})
            )
        return response

    async def native(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One authorized purchase-API request; the caller maps its status."""

        def build(headers: dict[str, str]) -> httpx.Request:
            return self._client.build_request(
                method, path, params=params, json=json, headers=headers
            )

        return await self.authorized(build)
