"""Configuration: environment variables with the ``BRIDGE_`` prefix, read by pydantic-settings.

Nested values use ``__``: ``BRIDGE_PROVIDERS__CAPELLA__API_KEY=...`` sets the Capella API key.
Settings reach code through the app (``app.state.settings``), never through global lookups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProviderSettings(BaseModel):
    """How to reach one provider: endpoint, API generation, credentials, deadline.

    Which credential fields a provider reads is the adapter's business: Capella an
    ``api_key``; ICEYE and Satellogic ``client_id``/``client_secret`` (+ ``auth_url``,
    ``contract_id``); Arlula ``api_key``/``api_secret``.
    """

    enabled: bool = True
    base_url: str | None = Field(
        default=None, description="Root of the native API; None means the provider's public API."
    )
    auth_url: str | None = Field(default=None, description="OAuth2 token endpoint, where used.")
    api_version: str | None = Field(default=None, description="Native API generation to speak.")
    contract_id: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0, description="Deadline of one native search.")
    order_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Deadline of one native order placement (Arlula's node SDK allows 120 s: "
        "suppliers with immediate fulfilment deliver before answering).",
    )
    max_concurrency: int = Field(
        default=8,
        ge=1,
        description="Native calls in flight at once per set of credentials; more wait their "
        "turn (Capella's own SDK caps itself at 8 to avoid 429s).",
    )
    local_sort_max_records: int | None = Field(
        default=None,
        ge=1,
        description="Most native records one search reads to sort them itself, where the "
        "native API cannot sort by the query's sortby; None: the adapter's default.",
    )
    result_cache_entries: int | None = Field(
        default=None,
        ge=1,
        description="Locally sorted native results kept for paging; None: the adapter's default.",
    )
    result_cache_ttl_s: float | None = Field(
        default=None,
        gt=0,
        description="How long a locally sorted native result is kept; None: the adapter's default.",
    )

    def has_credentials(self) -> bool:
        """True when any secret is configured, i.e. the real API can be used."""
        return any(s is not None for s in (self.api_key, self.api_secret, self.client_secret))


class TenantSettings(BaseModel):
    """One tenant's contracts (provider settings by provider name, secrets from the env)
    and its auto-order policy."""

    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    auto_order: bool = Field(
        default=False,
        description="Order a data asset on first access (GDAL/QGIS open it in one step).",
    )
    spending_cap: int | None = Field(
        default=None,
        ge=0,
        description="Auto-orders never take live spending past this (minor units).",
    )
    cap_currency: str = Field(default="USD", min_length=3, max_length=3)


class CorsSettings(BaseModel):
    """Cross-origin access for browser clients (stac-browser elsewhere, notebooks)."""

    allow_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Origins allowed to call the API from a browser; ["*"] for any.',
    )
    max_age_s: int = Field(default=600, ge=0, description="How long browsers cache a preflight.")


class LimitSettings(BaseModel):
    """Request limits, checked before any expensive work (README: "Limits" says why each
    default is far above what QGIS, stac-browser, pystac-client or GDAL send)."""

    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body (413 beyond)."
    )
    max_query_bytes: int = Field(
        default=32 * 1024, ge=256, description="Longest query string (400 beyond)."
    )
    max_json_depth: int = Field(
        default=100, ge=8, description="Deepest nesting of arrays and objects in a JSON value."
    )
    max_filter_chars: int = Field(
        default=100_000, ge=100, description="Longest CQL2 filter (text, or JSON serialized)."
    )
    max_filter_depth: int = Field(
        default=32, ge=2, description="Deepest nesting of CQL2 operators (or parentheses)."
    )
    max_filter_terms: int = Field(
        default=256, ge=2, description="Most CQL2 operators (and Query-extension constraints)."
    )
    max_geometry_vertices: int = Field(default=100_000, ge=4)
    max_geometry_parts: int = Field(default=10_000, ge=1)
    max_ids: int = Field(default=10_000, ge=1)
    max_collections: int = Field(default=100, ge=1)
    max_fields: int = Field(default=200, ge=1)
    max_sortby: int = Field(default=16, ge=1)
    search_deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="A search answers by then: partial (the usual markers) or 504.",
    )


class RateLimitSettings(BaseModel):
    """Requests per API key, and per client address for callers without one (429 beyond,
    with ``Retry-After``). Counters are shared by every worker and replica: in the
    database, or in the ``limits`` storage ``storage_url`` names (e.g. Redis)."""

    enabled: bool = True
    per_key: str = Field(
        default="1200/minute", description="Limit per API key (`limits` notation)."
    )
    per_address: str = Field(
        default="600/minute", description="Limit per client address, for requests without a key."
    )
    storage_url: str | None = Field(
        default=None,
        description="A `limits` async storage URI (e.g. async+redis://host:6379) instead of "
        "the database.",
    )


class SimulatorSettings(BaseModel):
    """How sandbox mode runs the built-in provider simulators."""

    host: str = "127.0.0.1"
    base_port: int = Field(
        default=0, description="First simulator port; 0 picks free ports (default)."
    )
    seed: int = 20260101
    scenes: int = Field(default=6000, ge=100, description="Scenes per provider archive.")
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="Simulator tunables, e.g. BRIDGE_SIMULATORS__EXTRA__CAPELLA_ORDER_STEP_S=0.5 "
        "(how fast sandbox orders progress).",
    )
    urls: dict[str, str] = Field(
        default_factory=dict,
        description="Simulators already serving, by provider (set by `bridge serve` for its "
        "workers: the simulators run in a process of their own).",
    )
    # Plain data here: the simulators own the fault model and validate it when sandbox
    # mode starts them (bridge.sandbox.simulator_config); production settings stay free
    # of simulator code.
    faults: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Latency and faults per simulator from start-up, e.g. "
        "BRIDGE_SIMULATORS__FAULTS__CAPELLA__DELAY_MS=100 (also settable at run time).",
    )


class Settings(BaseSettings):
    """Everything the bridge reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="BRIDGE_", env_nested_delimiter="__", extra="ignore"
    )

    title: str = "bridge: commercial imagery archives as one STAC API"
    description: str = (
        "Searches ICEYE, Capella Space, Satellogic and Arlula archives at once through STAC."
    )
    landing_page_id: str = "bridge"
    public_url: str | None = Field(
        default=None,
        description="Base URL clients see (behind a proxy); default: taken from each request.",
    )
    sandbox: bool | None = Field(
        default=None,
        description="Run the built-in simulators. None: on when no provider has credentials.",
    )
    sandbox_api_key: SecretStr | None = None
    collections_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "collections",
        description="Folder of STAC Collection documents, one sub-folder per provider.",
    )
    browser_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "browser" / "dist",
        description="The stac-browser build served at /browser/ (made by `make browser`).",
    )
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    tenants: dict[str, TenantSettings] = Field(
        default_factory=dict,
        description="Per tenant (by name): its own provider credentials and contract ids.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (e.g. postgresql://...); default: SQLite in data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".bridge"), description="Where the default SQLite database lives."
    )
    order_check_min_s: float = Field(
        default=2.0, gt=0, description="How soon a new order is first checked with its provider."
    )
    order_reconcile_after_s: float = Field(
        default=150.0,
        gt=0,
        description="When an order placement with an unknown outcome is reconciled; longer "
        "than any provider's order_timeout_s, so a placement still under way is never "
        "taken for a lost one and placed again.",
    )
    search_requires_key: bool = Field(
        default=False, description="Close search to callers without an API key."
    )
    simulators: SimulatorSettings = Field(default_factory=SimulatorSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    default_limit: int = Field(default=10, ge=1)
    max_limit: int = Field(default=1000, ge=1)
    retry_attempts: int = Field(
        default=3, ge=1, description="Tries of an idempotent native call that got 429/5xx."
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that make a provider be skipped."
    )
    breaker_reset_s: float = Field(
        default=30.0, gt=0, description="How long a failing provider is skipped."
    )
    token_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs paging tokens; when unset, one is generated on first "
        "start and kept in the database, so every worker and replica shares it.",
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="Bridge worker processes (`bridge serve --workers`)."
    )

    def database(self) -> str:
        """The database URL in force."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'bridge.db').resolve()}"

    def provider(self, name: str) -> ProviderSettings:
        """The settings of provider ``name`` (defaults when none are configured)."""
        return self.providers.get(name) or ProviderSettings()

    def any_credentials(self) -> bool:
        """True when at least one provider has real credentials configured."""
        return any(p.has_credentials() for p in self.providers.values())

    def sandbox_enabled(self) -> bool:
        """Sandbox mode: as set, or on when no provider has credentials."""
        return self.sandbox if self.sandbox is not None else not self.any_credentials()
