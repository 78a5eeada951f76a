"""``python -m conformance [--only NAME ...]``: boot a sandbox bridge on a free loopback
port, run each named check against it, print a summary, write ``conformance/REPORT.md``,
and exit non-zero when any check fails.

``--root URL --api-key KEY`` runs against a bridge that is already running instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from conformance import report
from conformance.checks import BY_NAME, CHECKS
from conformance.core import FAIL, CheckResult, Context, timed
from conformance.live import running_bridge

HERE = Path(__file__).resolve().parent


def run_checks(
    ctx: Context, names: list[str] | None = None, echo: bool = False
) -> list[CheckResult]:
    """Run the named checks (all by default) in the runner's order."""
    selected = [c for c in CHECKS if names is None or c.name in names]
    results = []
    for check in selected:
        if echo:
            print(f"[{check.number}] {check.name}: running ...", flush=True)
        result = timed(check, ctx)
        results.append(result)
        if echo:
            print(f"[{check.number}] {check.name}: {_verdict(result)} ({result.duration_s:.0f} s)")
            for case in result.cases:
                if case.status == FAIL:
                    first = case.detail.strip().splitlines()[0] if case.detail.strip() else ""
                    print(f"      FAIL {case.name}: {first[:200]}")
    return results


def _verdict(result: CheckResult) -> str:
    return "pass" if result.passed else "FAIL"


def summary(results: list[CheckResult]) -> str:
    width = max((len(r.name) for r in results), default=10)
    rows = [f"  {r.name:<{width}}  {_verdict(r):<4}  {r.duration_s:5.0f} s" for r in results]
    verdict = "PASS" if results and all(r.passed for r in results) else "FAIL"
    return "\n".join(["conformance summary:", *rows, f"  => {verdict}"])


@contextmanager
def target(args: argparse.Namespace, output: Path) -> Iterator[tuple[str, str, str]]:
    """(root URL, API key, description) of the bridge under test."""
    if args.root:
        yield args.root.rstrip("/") + "/", args.api_key or "", f"running at {args.root}"
        return
    env = {"BRIDGE_SIMULATORS__SCENES": str(args.scenes)} if args.scenes else {}
    # stac-api-validator and schemathesis send thousands of requests a minute with the
    # demo key, far past what a client does: the key's limit is raised (counting stays on);
    # anonymous requests keep the default per-address limit.
    env["BRIDGE_RATE_LIMITS__PER_KEY"] = "1000000/minute"
    with running_bridge(output / "bridge.log", env=env) as bridge:
        scenes = args.scenes or "default"
        yield (
            bridge.root,
            bridge.api_key,
            f"`bridge serve --sandbox` ({scenes} scenes per provider)",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BY_NAME),
        metavar="NAME",
        help=f"run only these checks: {', '.join(BY_NAME)}",
    )
    parser.add_argument("--root", help="test this running bridge instead of booting one")
    parser.add_argument("--api-key", help="the demo key of --root")
    parser.add_argument("--scenes", type=int, help="sandbox archive size per provider")
    parser.add_argument(
        "--fast", action="store_true", help="run stac-api-validator for one provider only"
    )
    parser.add_argument("--output", type=Path, default=HERE / "output")
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--screenshots", type=Path, default=HERE / "screenshots")
    args = parser.parse_args(argv)

    args.output.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    clock = time.monotonic()
    with target(args, args.output) as (root, key, description):
        print(f"bridge under test: {root}", flush=True)
        conforms_to = (
            httpx.get(root, headers={"X-API-Key": key}, timeout=30).json().get("conformsTo", [])
        )
        ctx = Context(
            root=root,
            api_key=key,
            output=args.output,
            fast=args.fast,
            screenshots=args.screenshots,
        )
        results = run_checks(ctx, args.only, echo=True)
    elapsed = time.monotonic() - clock
    text = report.render(results, conforms_to, description, started, elapsed)
    report.write(args.report, text)
    print(summary(results))
    print(f"report: {args.report}  logs: {args.output}  ({elapsed:.0f} s)")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
