"""``conformance/REPORT.md``: each check, each conformance class, pass/fail, versions, date."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from conformance.check_validator import KNOWN_DEVIATIONS, coverage
from conformance.core import FAIL, NOT_COVERED, PASS, WAIVED, CheckResult

ROOT_DIR = Path(__file__).resolve().parents[1]

# Advertised classes that no validator class covers, and which check of ours touches them.
OTHER_COVERAGE = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30": "qgis (landing page)",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions": (
        "pystac-client (S_INTERSECTS filter)"
    ),
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions": (
        "pystac-client (S_INTERSECTS filter)"
    ),
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions": (
        "pystac-client (T_INTERSECTS filter)"
    ),
}


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def _cell(text: str, limit: int = 160) -> str:
    one = " ".join(text.split())
    one = one if len(one) <= limit else one[: limit - 1] + "…"
    return one.replace("|", "\\|")


def _class_status(results: list[CheckResult], cls: str) -> str:
    statuses = [
        c.status
        for r in results
        if r.name == "stac-api-validator"
        for c in r.cases
        if c.name.split(": ", 1)[-1] == cls
    ]
    if not statuses:
        return "not run"
    for status in (FAIL, WAIVED, NOT_COVERED):
        if status in statuses:
            return status
    return PASS


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def render(
    results: list[CheckResult],
    conforms_to: list[str],
    target: str,
    started: datetime,
    elapsed_s: float,
) -> str:
    passed = all(r.passed for r in results)
    lines = [
        "# Conformance report",
        "",
        f"- **Result: {'PASS' if passed else 'FAIL'}**",
        f"- Date: {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC; run time {elapsed_s:.0f} s",
        f"- Bridge: commit {_git_commit()}, {target}",
        "- Produced by `make conformance` (`python -m conformance`); logs in "
        "`conformance/output/`.",
        "",
        "## Checks",
        "",
        "| # | check | result | time |",
        "|---|---|---|---|",
    ]
    from conformance.checks import BY_NAME

    for r in sorted(results, key=lambda r: BY_NAME[r.name].number if r.name in BY_NAME else 99):
        number = BY_NAME[r.name].number if r.name in BY_NAME else "-"
        verdict = "pass" if r.passed else "**FAIL**"
        lines.append(f"| {number} | {r.title} | {verdict} | {r.duration_s:.0f} s |")

    if conforms_to:
        lines += [
            "",
            "## Conformance classes the bridge advertises",
            "",
            "| class | checked by | result |",
            "|---|---|---|",
        ]
        cov = coverage(conforms_to)
        ran_validator = any(r.name == "stac-api-validator" for r in results)
        for uri in sorted(conforms_to):
            cls = cov.get(uri, NOT_COVERED)
            if cls != NOT_COVERED:
                status = _class_status(results, cls) if ran_validator else "not run"
                shown = f"stac-api-validator `{cls}`"
            elif uri in OTHER_COVERAGE:
                shown, status = OTHER_COVERAGE[uri], "see check"
            else:
                shown, status = "—", NOT_COVERED
            status = {FAIL: "**FAIL**", WAIVED: "pass (known deviations waived)"}.get(
                status, status
            )
            lines.append(f"| `{uri}` | {shown} | {status} |")

    lines += ["", "## Tool versions", "", "| tool | version |", "|---|---|"]
    versions = {"python": platform.python_version(), "bridge": _version("bridge")}
    for r in results:
        versions.update(r.versions)
    lines += [f"| {k} | {v} |" for k, v in sorted(versions.items())]

    for r in results:
        lines += ["", f"## {r.title} — {'pass' if r.passed else 'FAIL'}", ""]
        lines += [f"- {_cell(d, 400)}" for d in r.details]
        if r.cases:
            lines += ["", "| case | result | detail |", "|---|---|---|"]
            for c in r.cases:
                status = f"**{c.status.upper()}**" if c.status == FAIL else c.status
                lines.append(f"| {_cell(c.name, 80)} | {status} | {_cell(c.detail)} |")
        failures = [c for c in r.cases if c.status == FAIL]
        for c in failures:
            lines += ["", f"**{c.name}**", "", "```", c.detail.strip()[:6000], "```"]

    if any(r.name == "stac-api-validator" for r in results):
        lines += ["", "## Known deviations (waived validator errors)", ""]
        lines += [f"- `{d.cls}`: `{d.pattern}` — {d.reason}" for d in KNOWN_DEVIATIONS]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
