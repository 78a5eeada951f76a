"""Callers: tenants, their API keys, and how a request proves which tenant it is."""
