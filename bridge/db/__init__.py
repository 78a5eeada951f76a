"""The bridge's database: tenants, API keys (and the order ledger), via SQLAlchemy 2 async.

SQLite (a file) by default; PostgreSQL when ``BRIDGE_DATABASE_URL`` names one, for
deployments that run several replicas. Alembic migrations run at start-up.
"""
