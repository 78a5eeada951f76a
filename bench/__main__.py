"""``make bench``: run every benchmark and print its figures.

``python -m bench`` runs cpu, fanout, coldstart, memory, eodag and load in turn, then prints
the four targets of GitHub issue 11 (bridge CPU per item as served first) with met or
missed; ``python -m bench NAME...`` runs the named ones (also ``generation``: archive
generation costs). A benchmark that fails is reported and the others still run. Options
after one benchmark's name go to it: ``python -m bench load --quick`` (see
``python -m bench load --help``).
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from typing import Any

from bench.targets import TARGETS, summary

DEFAULT = ["cpu", "fanout", "coldstart", "memory", "eodag", "load"]
KNOWN = [*DEFAULT, "generation"]
TAKES_OPTIONS = ["load"]


def _machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return f"{platform.node()}: {model}, Python {platform.python_version()}, load avg {load}"


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default); exit 1 if any failed."""
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:first_option] or DEFAULT, argv[first_option:]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {KNOWN}", file=sys.stderr)
        return 2
    if options and (len(names) != 1 or names[0] not in TAKES_OPTIONS):
        print(f"options are for one benchmark of {TAKES_OPTIONS} only", file=sys.stderr)
        return 2
    print(f"bench {time.strftime('%Y-%m-%d %H:%M:%S %Z')} on {_machine()}", flush=True)
    failed = []
    results: dict[str, Any] = {}
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
            if name in TAKES_OPTIONS:
                results[name] = module.run(options)  # its own parser must not read sys.argv
            else:
                results[name] = module.run()
        except Exception:
            failed.append(name)
            print(f"\n!! {name} failed:\n{traceback.format_exc()}", flush=True)
    if any(t.bench in results for t in TARGETS):
        print("\n== targets (GitHub issue 11)")
        print("\n".join(summary(results)), flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
