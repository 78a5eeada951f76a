"""Orders: the ledger that guarantees one native order per (tenant, item, options), the
service that places and tracks them, and per-tenant provider instances."""
