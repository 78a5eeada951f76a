"""Lumen simulator (a test fixture): an optical archive behind a small JSON API.

``GET /v1/scenes?bbox=w,s,e,n&from=&to=&offset=&limit=`` → ``{scenes, total}`` (acquired
newest first); ``GET /v1/scenes/{id}``; ``POST /v1/orders`` ``{scene, reference}`` →
an order delivered at once; ``GET /v1/orders?reference=``; ``GET /v1/orders/{id}``;
``GET /v1/orders/{id}/download`` → ``{url}`` (presigned, 1 h). Every call needs
``X-Lumen-Key``. Invented for the test: there is no real Lumen to source.
"""

from .app import DEMO_KEY, create_app, sandbox_settings

__all__ = ["DEMO_KEY", "create_app", "sandbox_settings"]
