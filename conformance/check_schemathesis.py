"""Check 7: schemathesis against the live bridge, from its own OpenAPI document (``/api``).

Every operation, every check schemathesis has (statuses, media types, headers and response
schemas as documented, no 5xx, Allow on 405, valid input accepted, invalid input
rejected), with the demo API key, a fixed seed and a bounded number of examples per
operation. Traffic goes to the bridge under test only, which must be on loopback:
redirects are not followed (an asset's 307 points at a provider) and no proxy is used.

A waiver switches one schemathesis check off (or widens its expected statuses) for named
operations, each with its reason; the reasons are written into ``REPORT.md``.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from conformance.core import FAIL, PASS, WAIVED, Case, CheckResult, Context

NAME = "schemathesis"
TITLE = "OpenAPI document against the live API (schemathesis)"
MAX_EXAMPLES = 50
FAST_MAX_EXAMPLES = 10
SEED = 20261206
TIMEOUT_S = 600.0
SERVER_ERROR = "ST101"


@dataclass(frozen=True)
class Waiver:
    """One schemathesis check switched off (``statuses`` None) or widened for operations."""

    check: str
    operation_ids: tuple[str, ...]
    reason: str
    statuses: tuple[str, ...] | None = None


WAIVERS = (
    Waiver(
        "positive_data_acceptance",
        (
            "getCollections",
            "getFeatures",
            "getItemSearch",
            "postItemSearch",
            "listOrders",
            "getQuote",
            "orderItem",
            "listTaskingProducts",
            "searchTaskingOpportunities",
            "createTaskingOrder",
            "listTaskingOrders",
            "listTaskingProductOrders",
            "getTaskingOrderStatuses",
        ),
        "values whose validity JSON Schema cannot state (CQL2, bbox order, RFC 3339 "
        "intervals, GeoJSON, signed paging tokens, each provider's license names and "
        "tasking rules such as windows in the future): a "
        "schema-valid but meaningless one is a documented 400; invalid input is still checked",
    ),
    Waiver(
        "not_a_server_error",
        ("getBrowser",),
        "without a stac-browser build (no Node.js at install time) /browser/ answers the "
        "documented 503 page that says how to build it; `make conformance` builds it",
        ("2xx", "3xx", "4xx", "503"),
    ),
)


def config_toml(waivers: tuple[Waiver, ...] = WAIVERS) -> str:
    """A ``schemathesis.toml`` with one ``[[operations]]`` table per waiver."""
    lines = []
    for w in waivers:
        ids = ", ".join(f'"{op}"' for op in w.operation_ids)
        lines += ["[[operations]]", f"include-operation-id = [{ids}]"]
        if w.statuses is None:
            lines.append(f"checks.{w.check}.enabled = false")
        else:
            statuses = ", ".join(f'"{s}"' for s in w.statuses)
            lines.append(f"checks.{w.check}.expected-statuses = [{statuses}]")
        lines.append("")
    return "\n".join(lines)


def ensure_loopback(root: str) -> None:
    """Refuse any target that is not on this machine's loopback interface."""
    host = urlsplit(root).hostname or ""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"schemathesis runs against loopback only, not {host!r}")


def command(ctx: Context, config: Path, junit: Path, max_examples: int) -> list[str]:
    """The ``st run`` command line for the bridge at ``ctx.root``."""
    root = ctx.root.rstrip("/")
    st = Path(sys.executable).with_name("st")
    return [
        *([str(st)] if st.exists() else [sys.executable, "-m", "schemathesis.cli"]),
        "--config-file",
        str(config),
        "run",
        # Every check is on by default; `--checks all` would also override the waivers.
        f"{root}/api",
        "--url",
        root,
        "--header",
        f"X-API-Key: {ctx.api_key}",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        "--max-redirects",
        "0",
        "--request-timeout",
        "60",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
    ]


def cases_from_junit(path: Path) -> list[Case]:
    """One case per operation (and one for the stateful phase) from the JUnit report."""
    cases = []
    for testcase in ET.parse(path).getroot().iter("testcase"):
        problems = [*testcase.iter("failure"), *testcase.iter("error")]
        detail = "\n\n".join((p.text or p.get("message") or "").strip() for p in problems)
        cases.append(Case(testcase.get("name", "?"), FAIL if problems else PASS, detail))
    return cases


def run(ctx: Context, waivers: tuple[Waiver, ...] = WAIVERS) -> CheckResult:
    """Run schemathesis against ``ctx.root`` and turn its report into a result."""
    ensure_loopback(ctx.root)
    out = (ctx.output / "schemathesis").resolve()
    out.mkdir(parents=True, exist_ok=True)
    config, junit, log = out / "schemathesis.toml", out / "junit.xml", out / "st.log"
    config.write_text(config_toml(waivers))
    junit.unlink(missing_ok=True)
    examples = FAST_MAX_EXAMPLES if ctx.fast else MAX_EXAMPLES
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "*"
    with log.open("w") as stream:
        proc = subprocess.run(
            command(ctx, config, junit, examples),
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=out,  # hypothesis keeps its caches in the working directory
            timeout=TIMEOUT_S,
            check=False,
        )
    cases = cases_from_junit(junit) if junit.exists() else []
    text = log.read_text(errors="replace")
    server_errors = text.count(f"- {SERVER_ERROR} ")
    details = [
        f"`st run` exit {proc.returncode}; {examples} examples per operation, seed {SEED}; "
        f"log: {log}",
        f"5xx answers: {server_errors}",
        *(f"waived `{w.check}` for {', '.join(w.operation_ids)}: {w.reason}" for w in waivers),
    ]
    summary = [line.strip() for line in text.splitlines() if "generated" in line]
    details += summary[-1:]
    cases += [Case(f"waiver: {w.check}", WAIVED, w.reason) for w in waivers]
    if not junit.exists():
        cases.append(Case("schemathesis run", FAIL, text[-3000:]))
    passed = proc.returncode == 0 and bool(cases) and all(c.status != FAIL for c in cases)
    return CheckResult(
        NAME, TITLE, passed, details, cases, versions={"schemathesis": version("schemathesis")}
    )
