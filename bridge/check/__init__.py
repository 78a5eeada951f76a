"""``bridge providers check``: with the configured credentials (or a sandbox's), check
each provider's auth, a small search, an item by id, a price (never an order) and a
thumbnail, and hold every native answer against the shapes its simulator's ledger
documents (``bridge/providers/<name>/shapes.json``).

Exit status: 0 every step held (or was skipped as not applicable); 1 a step failed;
3 nothing failed but a native answer differed from its documented shape (the adapter
coped; the ledger or the adapter needs a look); 2 the check could not start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import httpx

from bridge.catalog import load_catalog
from bridge.check.config import (
    CheckConfigError,
    check_query,
    configured_providers,
    read_sandbox,
    sandbox_providers,
)
from bridge.check.redact import write_records
from bridge.check.run import ProviderReport, check_provider
from bridge.settings import ProviderSettings, Settings

EXIT_HELD, EXIT_FAILED, EXIT_USAGE, EXIT_DIFFERED = 0, 1, 2, 3

__all__ = ["CheckConfigError", "ProviderReport", "check_provider", "run_check"]


def _secrets(ps: ProviderSettings) -> list[str | None]:
    values = [s.get_secret_value() if s else None for s in (ps.api_key, ps.api_secret)]
    secret = ps.client_secret.get_secret_value() if ps.client_secret else None
    return [*values, secret, ps.client_id]


def _host(url: str | None) -> str:
    if not url:
        return "public API"
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def format_report(report: ProviderReport, settings: ProviderSettings) -> str:
    """The report of one provider, one line per step and one per difference."""
    lines = [f"{report.provider} ({_host(settings.base_url)})"]
    for step in report.steps:
        lines.append(f"  {step.step:<10} {step.status:<9} {step.message}".rstrip())
        lines.extend(f"      {d}" for d in step.differences)
    return "\n".join(lines)


async def run_check(
    settings: Settings,
    out: TextIO,
    provider: str | None = None,
    record: Path | None = None,
    sandbox: str | None = None,
    bbox: str | None = None,
    datetime: str | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> int:
    """Check every selected provider, print the report on ``out``; the exit status.

    Raises:
        CheckConfigError: nothing to check, or the sandbox document is unreadable.
    """
    query = check_query(bbox, datetime)
    if sandbox is not None:
        chosen = sandbox_providers(await read_sandbox(sandbox), settings, provider)
    else:
        chosen = configured_providers(settings, provider)
    catalog = load_catalog(settings.collections_dir, providers=list(chosen))
    reports = []
    for name, ps in chosen.items():
        collections = catalog.by_provider.get(name) or {}
        transport = (transports or {}).get(name)
        report = await check_provider(name, ps, collections, query, transport)
        print(format_report(report, ps), file=out, flush=True)
        if record is not None:
            written = write_records(record, name, report.records, _secrets(ps))
            print(f"  recorded {len(written)} native exchange(s) in {record / name}", file=out)
        reports.append(report)
    failed = [r.provider for r in reports if r.failed]
    differed = [r.provider for r in reports if r.differed and not r.failed]
    print(
        f"checked {len(reports)} provider(s): "
        f"{len(failed)} failed{' (' + ', '.join(failed) + ')' if failed else ''}, "
        f"{len(differed)} differed from the documented shapes"
        f"{' (' + ', '.join(differed) + ')' if differed else ''}",
        file=out,
    )
    if failed:
        return EXIT_FAILED
    return EXIT_DIFFERED if differed else EXIT_HELD
