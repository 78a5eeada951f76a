"""Per-request telemetry: ``X-Request-ID``, request metrics, one JSON log line per request,
and the operator routes ``/health``, ``/ready`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.api.client import ORJSONResponse
from bridge.core.federation import Federation
from bridge.db.engine import Database
from bridge.telemetry import (
    BREAKER_OPEN,
    HTTP_LATENCY,
    HTTP_REQUESTS,
    METRICS_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    metrics_body,
    new_request_id,
    request_id,
)

log = logging.getLogger("bridge.access")
READY_DB_TIMEOUT_S = 2.0
_HEADER = REQUEST_ID_HEADER.lower().encode()


class RequestTelemetry:
    """ASGI middleware: the request id (accepted or generated, echoed), request metrics
    by route template, and one structured log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == _HEADER), b"")
        rid = new_request_id(given.decode("latin-1"))
        token = request_id.set(rid)
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            HTTP_LATENCY.labels(route, scope["method"]).observe(elapsed)
            fields: dict[str, Any] = {
                "request_id": rid,
                "method": scope["method"],
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
                "tenant_id": state.get("tenant_id"),
            }
            if "providers" in state:
                fields["providers"] = state["providers"]
            log.info("request", extra={"fields": fields})
            request_id.reset(token)


def add_operator_routes(app: FastAPI, db: Database, federation: Federation) -> None:
    """``/health`` (liveness), ``/ready`` (readiness) and ``/metrics`` (Prometheus)."""

    def breakers() -> dict[str, dict[str, Any]]:
        """Each provider's breaker state and last error, also set on the breaker gauge."""
        found = {}
        for name in federation.providers:
            breaker = federation.resilience.breaker(name)
            BREAKER_OPEN.labels(name).set(1 if breaker.state == "open" else 0)
            found[name] = {"breaker": breaker.state, "last_error": breaker.last_error}
        return found

    async def health() -> ORJSONResponse:
        """Liveness: the process answers. No I/O."""
        return ORJSONResponse({"status": "ok"})

    async def ready() -> ORJSONResponse:
        """Readiness: the database answers, and each provider's breaker state and last error.

        503 when the database does not answer, or when every provider is being skipped.
        """
        database: dict[str, Any] = {"status": "ok"}
        try:
            async with asyncio.timeout(READY_DB_TIMEOUT_S), db.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means not ready; the reason is shown
            database = {"status": "error", "message": type(exc).__name__}
        providers = breakers()
        all_open = bool(providers) and all(p["breaker"] == "open" for p in providers.values())
        ok = database["status"] == "ok" and not all_open
        body = {"status": "ready" if ok else "not ready", "database": database}
        body["providers"] = providers
        return ORJSONResponse(body, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        """Prometheus metrics of every worker."""
        breakers()
        return Response(metrics_body(), media_type=METRICS_CONTENT_TYPE)

    app.add_api_route("/health", health, methods=["GET"], tags=["Operations"])
    app.add_api_route("/ready", ready, methods=["GET"], tags=["Operations"])
    app.add_api_route("/metrics", metrics, methods=["GET"], tags=["Operations"])
