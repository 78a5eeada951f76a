"""ICEYE Constellation API simulator: OAuth2 client credentials, Catalog API v1/v2,
purchases and presigned delivery storage."""

from __future__ import annotations

from typing import Any

from bridge.simulators.iceye.app import create_app
from bridge.simulators.iceye.auth import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CONTRACT_ID,
    TOKEN_PATH,
)

__all__ = ["create_app", "sandbox_settings"]


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """The ProviderSettings fields a native client needs against the simulator at ``base_url``."""
    return {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "auth_url": f"{base_url.rstrip('/')}{TOKEN_PATH}",
        "contract_id": DEMO_CONTRACT_ID,
    }
