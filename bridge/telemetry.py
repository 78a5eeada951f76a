"""What operators see: Prometheus metrics, JSON log lines and the request id.

The metrics are process-wide (as Prometheus clients are); with several workers,
``bridge serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a folder they share, and
``/metrics`` aggregates every worker's values from there. The request id lives in a
context variable, so a native call made on behalf of a request logs that request's id.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_ID_HEADER = "X-Request-ID"
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "bridge_http_requests_total", "HTTP requests answered.", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "bridge_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
PROVIDER_CALLS = Counter(
    "bridge_provider_calls_total",
    "Native calls to providers.",
    ["provider", "operation", "status"],
)
PROVIDER_LATENCY = Histogram(
    "bridge_provider_call_duration_seconds",
    "Time a native call took.",
    ["provider", "operation"],
    buckets=_LATENCY_BUCKETS,
)
BREAKER_OPEN = Gauge(
    "bridge_provider_breaker_open",
    "1 while a provider's circuit breaker is open (it is being skipped).",
    ["provider"],
    multiprocess_mode="max",
)
PAGE_CACHE = Counter("bridge_page_cache_lookups_total", "Native page cache lookups.", ["result"])
ORDER_CHECKS = Counter(
    "bridge_order_checks_total", "Order status checks made by the order poller.", ["provider"]
)
RATE_LIMITED = Counter("bridge_rate_limited_total", "Requests refused by a rate limit.", ["scope"])


def new_request_id(given: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    if given and _VALID_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def metrics_body() -> bytes:
    """Every metric in the Prometheus text format (all workers' when there are several)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the ``bridge`` loggers (once per process)."""
    logger = logging.getLogger("bridge")
    if any(getattr(h, "_bridge_json", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    handler._bridge_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
